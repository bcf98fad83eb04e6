// SPDX-License-Identifier: GPL-2.0
/*
 * rpmsg_bench: the rpmsg stack between two processes (host role and remote
 * role over shmlink, as tools/testing/rpmsg runs them), against raw
 * baselines measured in the same trials between the same two processes:
 *
 *   spin      a cache-line ping-pong in the shared region (no syscalls)
 *   eventfd   a raw eventfd ping-pong: each side blocks in read() on its
 *             eventfd and writes the other's (two wake-ups per round trip);
 *             and the same with each side in epoll_wait() with a deadline
 *   doorbell  an eventfd ping-pong through shmlink's notification threads
 *             (what the link's doorbells cost: three wake-ups), and the
 *             same with our side asleep on the doorbell (two wake-ups)
 *   spsc      a plain single-producer/single-consumer ring of 512-byte
 *             slots in the shared region, copied in and out (4112-byte
 *             slots for 4 KiB), both sides spinning
 *
 * The stack, in three delivery set-ups (Documentation/rpmsg.rst):
 *
 *   poll      polling mode: the remote's polling thread never sleeps (a
 *             dedicated core); the host's client busy-polls for its reply
 *   doorbell  doorbell mode as shipped: the doorbell delivers, with the
 *             adaptive spin on both sides (the remote's notification
 *             thread, the host's waiting client); the host's client then
 *             sleeps on the transport's doorbell (the link's default)
 *   nospin    doorbell mode without any spin: the notified path alone
 *
 * measuring the echo round trip (16 and 496 bytes; the remote's service
 * answers from its callback) and the one-way throughput host to remote of
 * 16, 496 and 4096-byte payloads (4096 with 4112-byte buffers configured
 * on the remote, VIRTIO_RPMSG_F_BUFSZ), by copy (send(); the service
 * copies the payload out) and zero copy (get_tx_payload_buffer() and
 * send_nocopy(); the service reads in place). Also: doorbells and passes
 * per round trip, and the memory of an endpoint and of a channel.
 *
 * Trials are interleaved (each kind sees the same noise); each figure is
 * the median of the trials with the spread (min..max); ratios are taken
 * per trial, then their median. Prints a table and, with --jsonl FILE,
 * appends {"name","value","unit"} lines. Never asserts a time.
 *
 *	rpmsg_bench [--trials N] [--iters N] [--msgs N] [--jsonl FILE]
 *	rpmsg_bench --instr h2r|r2h SIZE N send|sendzc|recv
 *	    (for callgrind: tools/bench/instr.sh)
 */
#include <keel/log.h>
#include <keel/loopback_link.h>
#include <keel/time.h>
#include <keel/wait.h>
#include <rpmsg/rpmsg.h>
#include <rpmsg/rpmsg_link.h>
#include <rpmsg/rpmsg_poll.h>
#include <virtio/virtio.h>
#include <virtio/virtio_shm.h>

#include <shmlink.h>

#include "../../drivers/rpmsg/rpmsg_internal.h"
#include "bench_util.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_TOGGLE_COLLECT
#endif

using keel::Result;
using namespace rpmsg;

namespace {

constexpr u32 VECTORS = 3;		  /* vring 0, vring 1, ANY */
constexpr size_t REGION = 4u << 20;	  /* a power of two, as QEMU wants */
constexpr size_t STACK_REGION = 3u << 20; /* the transport's part; the rest is the bench's */
const s64 TIMEOUT = keel::ms_to_ns(5000);
constexpr const char *SERVICE = "keel-bench";
constexpr u32 BIG = 4096;		  /* the configured payload */
constexpr u32 BIG_BUF = BIG + 16;	  /* its buffer (a multiple of 16) */
constexpr u32 BIG_NUM = 64;		  /* buffers each way with it */
constexpr u32 SIZES[] = { 16, 496, BIG }; /* throughput payloads */

/* The bench's part of the region: cache lines, then the SPSC ring's slots. */
struct BenchArea {
	alignas(64) u64 spin;
	alignas(64) u64 spsc_head; /* written by the producer */
	alignas(64) u64 spsc_tail; /* written by the consumer */
	alignas(64) u64 spsc_stop;
	u64 spsc_ready;
	u64 spsc_sum;
	u64 ring_stop; /* the bare split-ring echo's end */
	/* The remote's counters, refreshed by its main loop. */
	alignas(64) u64 r_doorbells;
	u64 r_seq; /* bumped after each refresh */
};
constexpr size_t SPSC_SLOTS_OFF = 4096;
constexpr u64 STOP = ~0ull;
constexpr u64 EFD_STOP = 1000;

BenchArea *area_of(void *mem)
{
	/* SAFETY: the region is 4 MiB and page aligned; the bench owns its last MiB. */
	return reinterpret_cast<BenchArea *>(static_cast<u8 *>(mem) + STACK_REGION);
}

/* --- delivery set-ups --- */

enum class Setup : u8 { Poll, Doorbell, NoSpin };
constexpr Setup SETUPS[] = { Setup::Poll, Setup::Doorbell, Setup::NoSpin };

const char *setup_name(Setup s)
{
	return s == Setup::Poll ? "poll" : s == Setup::Doorbell ? "doorbell" : "nospin";
}

Setup setup_of(const char *name)
{
	return !strcmp(name, "poll")	 ? Setup::Poll
	       : !strcmp(name, "nospin") ? Setup::NoSpin
					 : Setup::Doorbell;
}

RpmsgLinkConfig link_config(Setup s, bool remote)
{
	RpmsgLinkConfig c;
	if (s == Setup::NoSpin)
		c.spin_max_ns = 0;
	if (s == Setup::Poll && remote) {
		c.delivery = RpmsgDelivery::Polling;
		c.busy_poll_idle_ns = -1;
	}
	return c;
}

/* --- message format: byte 0 says what the remote does with it --- */

enum Op : u8 { OP_ECHO = 'E', OP_COPY = 'C', OP_INPLACE = 'Z', OP_FLUSH = 'F' };

/* --- the remote's service --- */

struct BenchService : keel::NonMovable {
	u64 sunk = 0;
	u64 sum = 0;
	u8 scratch[BIG_BUF];

	static Result<keel::UniquePtr<BenchService>> probe(RpmsgDevice &)
	{
		return keel::make_unique<BenchService>(GFP_KERNEL);
	}
	Result<void> on_message(RpmsgDevice &rpdev, keel::Span<const u8> data, u32 src)
	{
		if (!data.size())
			return keel::ok();
		switch (data[0]) {
		case OP_ECHO:
			return trysendto(*rpdev.ept(), data, src);
		case OP_COPY:
			/* A consumer that takes the payload out of the buffer. */
			memcpy(scratch, data.data(), keel::min(data.size(), sizeof(scratch)));
			sum += scratch[data.size() - 1];
			sunk++;
			return keel::ok();
		case OP_INPLACE:
			/* A consumer that reads the payload where it is. */
			sum += data[data.size() - 1];
			sunk++;
			return keel::ok();
		case OP_FLUSH: {
			u8 r[16] = { OP_FLUSH };
			memcpy(r + 8, &sunk, 8);
			sunk = 0;
			return trysendto(*rpdev.ept(), keel::Span<const u8>(r, sizeof(r)), src);
		}
		}
		return keel::ok();
	}
};
constinit RpmsgDriver s_service_drv{ driver_for<BenchService>, "keel_bench_svc" };

/* --- the host's client --- */

struct BenchClient;
constinit keel::Atomic<BenchClient *> s_client{ nullptr };

struct BenchClient : keel::NonMovable {
	static constexpr RpmsgDeviceId id_table[] = { { "keel-bench" }, {} };
	RpmsgDevice *rpdev = nullptr;
	keel::Atomic<u64> received{ 0 };
	keel::Atomic<u64> flushed{ 0 };
	keel::WaitQueue wq{ "rpmsg_bench_client", KEEL_LOCK_KEY() };

	static Result<keel::UniquePtr<BenchClient>> probe(RpmsgDevice &rpdev)
	{
		auto c = TRY(keel::make_unique<BenchClient>(GFP_KERNEL));
		c->rpdev = &rpdev;
		s_client.store(c.get());
		return c;
	}
	void remove(RpmsgDevice &) { s_client.store(nullptr); }
	Result<void> on_message(RpmsgDevice &, keel::Span<const u8> data, u32)
	{
		if (data.size() == 16 && data[0] == OP_FLUSH) {
			u64 n;
			memcpy(&n, data.data() + 8, 8);
			flushed.store(n, keel::MemoryOrder::Relaxed);
		}
		received.store(received.load(keel::MemoryOrder::Relaxed) + 1,
			       keel::MemoryOrder::Release);
		wq.wake_up();
		return keel::ok();
	}
	bool got(u64 n) const { return received.load(keel::MemoryOrder::Acquire) >= n; }
	/* Waits for the @n-th message as the set-up does: busy polling, or spin-then-sleep. */
	bool wait_received(u64 n, Setup s)
	{
		RpmsgEndpoint &ept = *rpdev->ept();
		if (s != Setup::Poll)
			return wait_event_spin(
				       ept, wq, [&] { return got(n); }, TIMEOUT) > 0;
		s64 deadline = keel::ktime_get_ns() + TIMEOUT;
		for (u32 i = 0; !got(n); i++) {
			if (!poll_rx(ept, 16))
				bench::relax(i);
			if ((i & 1023) == 0 && keel::ktime_get_ns() > deadline)
				return false;
		}
		return true;
	}
};
constinit RpmsgDriver s_client_drv{ driver_for<BenchClient>, "keel_bench_client" };

/* --- the other process, as a session of ours --- */

struct Child {
	shmlink::Client *cl = nullptr;
	pid_t pid = -1;
	BenchArea *area() const { return area_of(cl->mem()); }
};

/* Connects to the server and starts the other process with @args (NULL-terminated). */
Result<Child> start_child(const char *const *args, bool connect = true)
{
	Child c;
	if (connect) {
		c.cl = TRY(shmlink::Client::connect(bench::sock, VECTORS, TIMEOUT));
		/*
		 * The server may still list the previous run's process (its exit is
		 * noticed asynchronously): wait until it is gone, so that the peer
		 * we adopt next is the one we start.
		 */
		s64 deadline = keel::ktime_get_ns() + TIMEOUT;
		while (c.cl->peer_alive() && keel::ktime_get_ns() < deadline)
			keel::msleep(1);
		/* The previous run's tables and rings must not be taken for the new one's. */
		memset(c.cl->mem(), 0, REGION);
	}
	c.pid = bench::spawn_self(args);
	if (c.pid < 0)
		return keel::err(-EIO);
	if (connect && c.cl->wait_peer(TIMEOUT).is_error())
		return keel::err(-EIO);
	return c;
}

void finish(Child &c)
{
	delete c.cl; /* the other process sees us go and exits */
	c.cl = nullptr;
	(void)bench::reap(c.pid);
}

/* --- baselines --- */

/* ns per round trip of a spin ping-pong on one shared cache line. */
double run_spin(u32 iters)
{
	const char *args[] = { bench::self, "--remote-spin", bench::sock, nullptr };
	auto s = start_child(args);
	if (s.is_error())
		return -1;
	double r = bench::spin_ping(&s.value().area()->spin, iters);
	finish(s.value());
	return r;
}

/*
 * Waits for @fd's count (@epoll: in epoll_wait() on @ep, with a deadline
 * as every wait of the stack has, then a read that cannot block; else
 * blocked in read()). Return: the count read, 0 on failure.
 */
u64 efd_wait(int fd, int ep, bool epoll)
{
	u64 v = 0;
	if (epoll) {
		struct epoll_event ev;
		int n;
		while ((n = epoll_wait(ep, &ev, 1, 2000)) < 0 && errno == EINTR) {
		}
		if (n != 1)
			return 0;
	}
	return read(fd, &v, 8) == 8 ? v : 0;
}

/*
 * ns per round trip of a raw eventfd ping-pong: each side blocks in
 * read(), or, @epoll, waits in epoll_wait() (EPOLLEXCLUSIVE) with a
 * deadline and then reads: what a wait that can time out and be woken
 * by something else than the peer costs, before any distrust.
 */
double run_eventfd(u32 iters, bool epoll)
{
	int to_child = eventfd(0, 0), to_parent = eventfd(0, 0);
	/* The read() ping-pong has no epoll set: its writes wake the reader alone. */
	int ep = epoll ? epoll_create1(EPOLL_CLOEXEC) : -1;
	struct epoll_event ev = {};
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	if (to_child < 0 || to_parent < 0 ||
	    (epoll && (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, to_parent, &ev) < 0)))
		return -1;
	char a[16], b[16];
	snprintf(a, sizeof(a), "%d", to_child);
	snprintf(b, sizeof(b), "%d", to_parent);
	const char *wait = epoll ? "epoll" : "read";
	const char *args[] = { bench::self, "--remote-eventfd", a, b, wait, nullptr };
	auto s = start_child(args, false);
	double r = -1;
	if (s.is_ok()) {
		u64 one = 1;
		s64 t0 = keel::ktime_get_ns();
		u32 i;
		for (i = 0; i < iters; i++) {
			if (write(to_child, &one, 8) != 8 || !efd_wait(to_parent, ep, epoll))
				break;
		}
		s64 t = keel::ktime_get_ns() - t0;
		u64 stop = EFD_STOP;
		(void)!write(to_child, &stop, 8);
		(void)bench::reap(s.value().pid);
		r = i == iters ? double(t) / iters : -1;
	}
	if (ep >= 0)
		close(ep);
	close(to_child);
	close(to_parent);
	return r;
}

/*
 * ns per round trip of an eventfd ping-pong through shmlink: the other
 * side answers from its notification thread; ours receives in its
 * notification thread, which wakes this one (three wake-ups per round
 * trip), or, @direct, this thread sleeps on the doorbell itself
 * (Doorbell::wait(); two wake-ups, as the raw eventfd ping-pong): the
 * floor of the stack's doorbell set-ups on this transport.
 */
double run_doorbell(u32 iters, bool direct)
{
	const char *args[] = { bench::self, "--remote-doorbell", bench::sock, nullptr };
	auto s = start_child(args);
	if (s.is_error())
		return -1;
	shmlink::Client *cl = s.value().cl;
	static keel::Completion done{ "rpmsg_bench_done", KEEL_LOCK_KEY() };
	static keel::Atomic<u32> rings{ 0 };
	done.reinit();
	cl->set_handler(
		[](void *c, u32) {
			rings.fetch_add(1);
			done.complete();
			/* Taken by the notification thread: the direct waiter must hear of it. */
			static_cast<shmlink::Client *>(c)->wake_waiter();
		},
		cl);
	cl->enable();
	/* The other side answers once its handler is set: ring until it does. */
	bool up = false;
	for (int k = 0; k < 200 && !up; k++)
		up = cl->ring(0).is_ok() && done.wait_timeout(keel::ms_to_ns(10));
	/* A late answer to an earlier ring must not count as one of the round trips. */
	keel::msleep(5);
	done.reinit();
	direct = direct && cl->wait_begin();
	s64 t0 = keel::ktime_get_ns();
	u32 i;
	for (i = 0; up && i < iters; i++) {
		u32 want = rings.load() + 1;
		if (cl->ring(0).is_error())
			break;
		if (!direct) {
			if (!done.wait_timeout(keel::ms_to_ns(2000)))
				break;
			continue;
		}
		s64 deadline = keel::ktime_get_ns() + keel::ms_to_ns(2000);
		while (rings.load() < want && cl->wait(deadline).is_ok()) {
		}
		if (rings.load() < want)
			break;
	}
	s64 t = keel::ktime_get_ns() - t0;
	if (direct)
		cl->wait_end();
	cl->disable();
	finish(s.value());
	return i == iters ? double(t) / iters : -1;
}

/*
 * The protocol's own floor: a bare split-ring echo. Two rings laid out
 * with linux/virtio_ring.h's element types (16 entries, 512-byte
 * buffers) between the two processes, busy-polled, and nothing but the
 * memory operations a wire-compatible round trip needs. The driver
 * writes a header and payload into a tx buffer, its descriptor and avail
 * entry (each only when it changes, as the stack does) and publishes
 * avail->idx; the device reads the index, the entry, the descriptor and
 * the message, gives the buffer back (used entry, used->idx) and answers
 * in an rx buffer the driver posted on the other ring (its avail index,
 * entry and descriptor, the message, used entry, used->idx); the driver
 * reads the answer, reclaims its tx buffer and posts the rx one again.
 * No checks, no locks, no kick decision: the stack has all three.
 */
constexpr size_t RING_OFF = 512 * 1024; /* in the bench's MiB, past the SPSC slots */
constexpr u16 RING_NUM = 16;
constexpr u32 RING_BUF = 512;
struct BareRing {
	alignas(64) vring_desc desc[RING_NUM];
	alignas(64) u16 avail_flags;
	u16 avail_idx;
	u16 avail_ring[RING_NUM];
	alignas(64) u16 used_flags;
	u16 used_idx;
	vring_used_elem used_ring[RING_NUM];
	alignas(64) u8 bufs[RING_NUM][RING_BUF];
};
static_assert(sizeof(BareRing) * 2 + RING_OFF <= REGION - STACK_REGION);

BareRing *bare_rings(BenchArea *ar)
{
	return reinterpret_cast<BareRing *>(reinterpret_cast<u8 *>(ar) + RING_OFF);
}

/* Spins until @cond or a deadline (false), yielding as the baselines do. */
template <typename Cond> bool bare_wait(Cond cond, s64 deadline)
{
	for (u32 k = 0; !cond(); k++) {
		bench::relax(k);
		if ((k & 1023) == 1023 && keel::ktime_get_ns() > deadline)
			return false;
	}
	return true;
}

/* ns per round trip of @iters 16-byte echoes over the bare rings. */
double run_ring(u32 iters)
{
	const char *args[] = { bench::self, "--remote-ring", bench::sock, nullptr };
	auto s = start_child(args);
	if (s.is_error())
		return -1;
	BenchArea *ar = s.value().area();
	BareRing &tx = bare_rings(ar)[0], &rx = bare_rings(ar)[1];
	/* Every rx buffer posted, as a driver does at probe. */
	for (u16 j = 0; j < RING_NUM; j++) {
		rx.desc[j] = vring_desc{ j, RING_BUF, VRING_DESC_F_WRITE, 0 };
		rx.avail_ring[j] = j;
	}
	__atomic_store_n(&rx.avail_idx, RING_NUM, __ATOMIC_RELEASE);
	constexpr u32 LEN = 16 + 16;
	s64 deadline = keel::ktime_get_ns() + TIMEOUT;
	bool ok = true;
	u64 sum = 0;
	s64 t0 = keel::ktime_get_ns();
	for (u32 i = 0; ok && i < iters; i++) {
		u16 slot = u16(i % RING_NUM), idx = u16(i + 1);
		u8 *b = tx.bufs[slot];
		memcpy(b + 8, &LEN, 4);
		memcpy(b + 16, &i, 4);
		if (tx.desc[slot].len != LEN)
			tx.desc[slot] = vring_desc{ slot, LEN, 0, 0 };
		if (tx.avail_ring[slot] != slot)
			tx.avail_ring[slot] = slot;
		__atomic_store_n(&tx.avail_idx, idx, __ATOMIC_RELEASE);
		ok = bare_wait(
			[&] { return __atomic_load_n(&rx.used_idx, __ATOMIC_ACQUIRE) == idx; },
			deadline);
		if (!ok)
			break;
		vring_used_elem e = rx.used_ring[i % RING_NUM];
		u32 got;
		memcpy(&got, rx.bufs[e.id % RING_NUM] + 16, 4);
		sum += got == i;
		/* Reclaim the tx buffer (returned before the answer), post the rx one again. */
		sum += __atomic_load_n(&tx.used_idx, __ATOMIC_ACQUIRE) == idx;
		u16 rslot = u16((RING_NUM + i) % RING_NUM);
		if (rx.avail_ring[rslot] != e.id)
			rx.avail_ring[rslot] = u16(e.id);
		__atomic_store_n(&rx.avail_idx, u16(RING_NUM + idx), __ATOMIC_RELEASE);
	}
	s64 t = keel::ktime_get_ns() - t0;
	__atomic_store_n(&ar->ring_stop, STOP, __ATOMIC_RELEASE);
	finish(s.value());
	/* Each answer carried its message's number, and each tx buffer came back first. */
	return ok && sum == 2ull * iters ? double(t) / iters : -1;
}

/* Messages per second through the SPSC ring of @nslots slots of @slot bytes, @size-byte copies. */
double run_spsc(u32 msgs, u32 size, u32 slot, u32 nslots)
{
	char a[16], b[16];
	snprintf(a, sizeof(a), "%u", slot);
	snprintf(b, sizeof(b), "%u", nslots);
	const char *args[] = { bench::self, "--remote-spsc", bench::sock, a, b, nullptr };
	auto s = start_child(args);
	if (s.is_error())
		return -1;
	BenchArea *ar = s.value().area();
	u8 *slots = reinterpret_cast<u8 *>(ar) + SPSC_SLOTS_OFF;
	u8 src[BIG_BUF];
	memset(src, 0x5a, sizeof(src));
	s64 deadline = keel::ktime_get_ns() + TIMEOUT;
	bool ok = true;
	while (ok && !__atomic_load_n(&ar->spsc_ready, __ATOMIC_ACQUIRE)) {
		keel::cpu_relax();
		ok = keel::ktime_get_ns() < deadline;
	}
	s64 t0 = keel::ktime_get_ns();
	u64 tail = 0;
	for (u32 i = 0; ok && i < msgs; i++) {
		for (u32 k = 0; i - tail >= nslots; k++) {
			tail = __atomic_load_n(&ar->spsc_tail, __ATOMIC_ACQUIRE);
			bench::relax(k);
			if ((k & 63) == 63 && keel::ktime_get_ns() > deadline) {
				ok = false;
				break;
			}
		}
		/* Copy in: the length, then the payload (16 bytes in, as an rpmsg header). */
		u8 *p = slots + size_t(i % nslots) * slot;
		memcpy(p, &size, 4);
		memcpy(p + 16, src, size);
		__atomic_store_n(&ar->spsc_head, u64(i) + 1, __ATOMIC_RELEASE);
	}
	for (u32 k = 0; ok && __atomic_load_n(&ar->spsc_tail, __ATOMIC_ACQUIRE) < msgs; k++) {
		bench::relax(k);
		ok = keel::ktime_get_ns() < deadline;
	}
	s64 t = keel::ktime_get_ns() - t0;
	__atomic_store_n(&ar->spsc_stop, STOP, __ATOMIC_RELEASE);
	finish(s.value());
	return ok ? double(msgs) * 1e9 / double(t) : -1;
}

/* --- the stack --- */

/* The host role attached to a remote process: the bound client's channel. */
struct StackSession {
	Child child;
	keel::UniquePtr<virtio::ShmHost> host;
	BenchClient *client = nullptr;
	Setup setup = Setup::Doorbell;

	Result<void> start(Setup s, bool big)
	{
		setup = s;
		const char *args[] = { bench::self,   "--remote-rpmsg",	       bench::sock,
				       setup_name(s), big ? "big" : "default", nullptr };
		child = TRY(start_child(args));
		VirtioRpmsgHostConfig hc;
		/* A waiting client sleeps on the transport's doorbell (rpmsg_link.h). */
		hc.link = link_config(s, false);
		virtio_rpmsg_set_config(hc);
		virtio::ShmHostConfig shc;
		shc.name = "bench-host";
		shc.region = keel::ShmRegion(child.cl->mem(), STACK_REGION, 0);
		shc.doorbell = child.cl;
		host = TRY(virtio::ShmHost::create(shc, GFP_KERNEL));
		TRY(host->attach(TIMEOUT));
		s64 deadline = keel::ktime_get_ns() + TIMEOUT;
		while (!(client = s_client.load())) {
			if (keel::ktime_get_ns() > deadline)
				return keel::err(-ETIMEDOUT);
			keel::msleep(1);
		}
		return keel::ok();
	}
	void stop()
	{
		host.reset();
		if (child.cl)
			finish(child);
	}
	RpmsgEndpoint &ept() { return *client->rpdev->ept(); }

	/* The remote's counters, as its main loop last wrote them (waits for a fresh copy). */
	BenchArea remote_counters()
	{
		BenchArea *ar = child.area();
		u64 seq = __atomic_load_n(&ar->r_seq, __ATOMIC_ACQUIRE);
		s64 deadline = keel::ktime_get_ns() + keel::ms_to_ns(200);
		while (__atomic_load_n(&ar->r_seq, __ATOMIC_ACQUIRE) < seq + 2 &&
		       keel::ktime_get_ns() < deadline)
			keel::msleep(1);
		BenchArea c;
		c.r_doorbells = __atomic_load_n(&ar->r_doorbells, __ATOMIC_ACQUIRE);
		return c;
	}
};

/* What an echo run measured: ns per round trip, and notifications per round trip each way. */
struct RttResult {
	double ns = -1;
	double host_doorbells = -1;   /* doorbells the host received */
	double remote_doorbells = -1; /* doorbells the remote received */
	double host_direct = -1;      /* ... of the host's, taken by its waiting client */
};

RttResult echo_rtt(StackSession &s, u32 iters, u32 size)
{
	RttResult res;
	u8 buf[RPMSG_BUF_SIZE] = {};
	buf[0] = OP_ECHO;
	RpmsgEndpoint &ept = s.ept();
	BenchClient *c = s.client;
	u64 base = c->received.load();
	bool poll = s.setup == Setup::Poll;
	if (poll)
		busy_poll_begin(ept);
	/* Warm-up, which also lets the adaptive spin settle. */
	bool ok = true;
	for (u32 i = 0; ok && i < 100; i++)
		ok = send(ept, keel::Span<const u8>(buf, size)).is_ok() &&
		     c->wait_received(++base, s.setup);
	BenchArea r0 = s.remote_counters();
	u64 h0 = s.child.cl->delivered(), d0 = s.child.cl->direct_delivered();
	s64 t0 = keel::ktime_get_ns();
	for (u32 i = 0; ok && i < iters; i++) {
		memcpy(buf + 4, &i, 4);
		ok = send(ept, keel::Span<const u8>(buf, size)).is_ok() &&
		     c->wait_received(++base, s.setup);
	}
	s64 t = keel::ktime_get_ns() - t0;
	u64 h1 = s.child.cl->delivered(), d1 = s.child.cl->direct_delivered();
	if (poll)
		busy_poll_end(ept);
	if (!ok)
		return res;
	BenchArea r1 = s.remote_counters();
	res.ns = double(t) / iters;
	res.host_doorbells = double(h1 - h0) / iters;
	res.host_direct = double(d1 - d0) / iters;
	res.remote_doorbells = double(r1.r_doorbells - r0.r_doorbells) / iters;
	return res;
}

/* How one_way() sends: send(); get_tx_payload_buffer() and send_nocopy(); batches of those. */
enum Way : u8 { WAY_COPY, WAY_ZC, WAY_ZC_BATCH, NWAYS };
constexpr const char *WAY_NAME[NWAYS] = { "copy", "zerocopy", "zerocopy_batch" };
constexpr const char *WAY_WHAT[NWAYS] = { "copy", "zero copy", "zero copy, batches of 16" };
constexpr u32 BATCH = 16;

/* Messages per second host to remote, @size-byte payloads, sent the @way way. */
double one_way(StackSession &s, u32 msgs, u32 size, Way way)
{
	RpmsgEndpoint &ept = s.ept();
	BenchClient *c = s.client;
	u8 src[BIG] = {};
	memset(src, 0x5a, sizeof(src));
	src[0] = OP_COPY;
	auto flush = [&](u64 want) {
		u8 f[8] = { OP_FLUSH };
		u64 base = c->received.load();
		return send(ept, keel::Span<const u8>(f, sizeof(f))).is_ok() &&
		       c->wait_received(base + 1, s.setup) && c->flushed.load() == want;
	};
	if (!flush(0))
		return -1;
	if (s.setup == Setup::Poll)
		busy_poll_begin(ept);
	s64 t0 = keel::ktime_get_ns();
	bool ok = true;
	for (u32 i = 0; ok && i < msgs && way == WAY_ZC_BATCH;) {
		/* A producer with several messages ready: it borrows, fills and sends them as one. */
		RpmsgTxBuf bufs[BATCH];
		u32 lens[BATCH];
		auto n = get_tx_payload_buffers(
			ept, keel::Span<RpmsgTxBuf>(bufs, keel::min(BATCH, msgs - i)), TIMEOUT);
		if (n.is_error() || bufs[0].payload.size() < size) {
			ok = false;
			break;
		}
		for (u32 k = 0; k < n.value(); k++, i++) {
			bufs[k].payload[0] = OP_INPLACE;
			memcpy(bufs[k].payload.data() + 4, &i, 4);
			bufs[k].payload[size - 1] = u8(i);
			lens[k] = size;
		}
		ok = send_nocopy_batch(ept, keel::Span<RpmsgTxBuf>(bufs, n.value()),
				       keel::Span<const u32>(lens, n.value()))
			     .is_ok();
	}
	for (u32 i = 0; ok && i < msgs && way != WAY_ZC_BATCH; i++) {
		if (way == WAY_COPY) {
			ok = send(ept, keel::Span<const u8>(src, size)).is_ok();
			continue;
		}
		auto b = get_tx_payload_buffer(ept, TIMEOUT);
		if (b.is_error() || b.value().payload.size() < size) {
			ok = false;
			break;
		}
		RpmsgTxBuf tb = b.release_value();
		/* A producer that writes its message in place: an op, a stamp, the last byte. */
		tb.payload[0] = OP_INPLACE;
		memcpy(tb.payload.data() + 4, &i, 4);
		tb.payload[size - 1] = u8(i);
		ok = send_nocopy(ept, tb, size).is_ok();
	}
	ok = ok && flush(msgs);
	s64 t = keel::ktime_get_ns() - t0;
	if (s.setup == Setup::Poll)
		busy_poll_end(ept);
	return ok ? double(msgs) * 1e9 / double(t) : -1;
}

/* Heap bytes per endpoint and per channel (create many, divide), on the host's link. */
struct MemResult {
	double ept = -1, channel = -1;
};

MemResult measure_memory(StackSession &s)
{
	MemResult m;
	constexpr u32 N_EPT = 256, N_CH = 32;
	static keel::RefPtr<RpmsgEndpoint> epts[N_EPT];
	auto cb = [](RpmsgEndpoint &, keel::Span<const u8>, u32, void *) -> Result<void> {
		return keel::ok();
	};
	RpmsgChannelInfo ci = {};
	ci.src = RPMSG_ADDR_ANY;
	ci.dst = RPMSG_ADDR_ANY;
	size_t before = mallinfo2().uordblks;
	u32 n = 0;
	for (; n < N_EPT; n++) {
		auto e = create_ept(*s.client->rpdev, cb, nullptr, ci);
		if (e.is_error())
			break;
		epts[n] = e.release_value();
	}
	if (n)
		m.ept = double(mallinfo2().uordblks - before) / n;
	for (u32 i = 0; i < n; i++) {
		destroy_ept(*epts[i]);
		epts[i] = nullptr;
	}
	before = mallinfo2().uordblks;
	u32 k = 0;
	for (; k < N_CH; k++) {
		snprintf(ci.name, sizeof(ci.name), "bench-mem-%u", k);
		if (create_channel(*s.client->rpdev, ci).is_error())
			break;
	}
	if (k)
		m.channel = double(mallinfo2().uordblks - before) / k;
	for (u32 i = 0; i < k; i++) {
		snprintf(ci.name, sizeof(ci.name), "bench-mem-%u", i);
		(void)release_channel(*s.client->rpdev, ci);
	}
	return m;
}

/* --- the other process --- */

int remote_spin(const char *sock)
{
	auto c = shmlink::Client::connect(sock, VECTORS, TIMEOUT);
	if (c.is_error())
		return 10;
	bench::spin_pong(&area_of(c.value()->mem())->spin, c.value());
	delete c.value();
	return 0;
}

int remote_eventfd(int in, int out, bool epoll)
{
	/* Bounded: a parent that died leaves us blocked in read() until the alarm. */
	alarm(60);
	int ep = epoll ? epoll_create1(EPOLL_CLOEXEC) : -1;
	struct epoll_event ev = {};
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	if (epoll && (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, in, &ev) < 0))
		return 1;
	for (;;) {
		u64 v = efd_wait(in, ep, epoll), one = 1;
		if (!v || v >= EFD_STOP)
			return 0;
		if (write(out, &one, 8) != 8)
			return 1;
	}
}

/* The device side of run_ring(): echoes each message until told to stop. */
int remote_ring(const char *sock)
{
	auto c = shmlink::Client::connect(sock, VECTORS, TIMEOUT);
	if (c.is_error())
		return 10;
	BenchArea *ar = area_of(c.value()->mem());
	BareRing &tx = bare_rings(ar)[0], &rx = bare_rings(ar)[1];
	s64 deadline = keel::ktime_get_ns() + keel::ms_to_ns(60000);
	u16 last = 0, rx_last = 0;
	for (;;) {
		bool more = bare_wait(
			[&] {
				return __atomic_load_n(&tx.avail_idx, __ATOMIC_ACQUIRE) != last ||
				       __atomic_load_n(&ar->ring_stop, __ATOMIC_ACQUIRE) == STOP;
			},
			deadline);
		if (!more || __atomic_load_n(&tx.avail_idx, __ATOMIC_ACQUIRE) == last)
			break;
		/* The message: its avail entry, descriptor, header and payload. */
		u16 head = tx.avail_ring[last % RING_NUM];
		vring_desc d = tx.desc[head % RING_NUM];
		const u8 *m = tx.bufs[d.addr % RING_NUM];
		u32 len;
		memcpy(&len, m + 8, 4);
		len = keel::min(len, RING_BUF);
		tx.used_ring[last % RING_NUM] = vring_used_elem{ head, 0 };
		last++;
		__atomic_store_n(&tx.used_idx, last, __ATOMIC_RELEASE);
		/* The answer, in the next rx buffer the driver posted. */
		if (!bare_wait(
			    [&] {
				    return __atomic_load_n(&rx.avail_idx, __ATOMIC_ACQUIRE) !=
					   rx_last;
			    },
			    deadline))
			break;
		u16 id = rx.avail_ring[rx_last % RING_NUM];
		vring_desc rd = rx.desc[id % RING_NUM];
		memcpy(rx.bufs[rd.addr % RING_NUM], m, len);
		rx.used_ring[rx_last % RING_NUM] = vring_used_elem{ id, len };
		rx_last++;
		__atomic_store_n(&rx.used_idx, rx_last, __ATOMIC_RELEASE);
	}
	delete c.value();
	return 0;
}

int remote_spsc(const char *sock, u32 slot, u32 nslots)
{
	auto c = shmlink::Client::connect(sock, VECTORS, TIMEOUT);
	if (c.is_error() || slot > BIG_BUF || slot < 32 || !nslots)
		return 10;
	BenchArea *ar = area_of(c.value()->mem());
	const u8 *slots = reinterpret_cast<const u8 *>(ar) + SPSC_SLOTS_OFF;
	u8 dst[BIG_BUF];
	u64 tail = 0, sum = 0;
	__atomic_store_n(&ar->spsc_ready, 1, __ATOMIC_RELEASE);
	s64 deadline = keel::ktime_get_ns() + keel::ms_to_ns(60000);
	for (u64 spins = 0;; spins++) {
		u64 head = __atomic_load_n(&ar->spsc_head, __ATOMIC_ACQUIRE);
		if (head == tail) {
			if (__atomic_load_n(&ar->spsc_stop, __ATOMIC_ACQUIRE) == STOP)
				break;
			bench::relax(u32(spins));
			if ((spins & 0xffff) == 0 &&
			    (keel::ktime_get_ns() > deadline || !c.value()->peer_alive()))
				break;
			continue;
		}
		/* Copy out, one slot at a time, each handed back at once. */
		for (; tail != head; tail++) {
			const u8 *p = slots + size_t(tail % nslots) * slot;
			u32 len;
			memcpy(&len, p, 4);
			len = keel::max(keel::min(len, slot - 16), 1u);
			memcpy(dst, p + 16, len);
			sum += dst[len - 1];
			__atomic_store_n(&ar->spsc_tail, tail + 1, __ATOMIC_RELEASE);
		}
	}
	__atomic_store_n(&ar->spsc_sum, sum, __ATOMIC_RELAXED);
	delete c.value();
	return 0;
}

int remote_rpmsg(const char *sock, Setup setup, bool big)
{
	if (rpmsg_init().is_error() || register_rpmsg_driver(s_service_drv).is_error())
		return 10;
	auto c = shmlink::Client::connect(sock, VECTORS, TIMEOUT);
	if (c.is_error())
		return 11;
	shmlink::Client *cl = c.value();
	static keel::Atomic<bool> gone{ false };
	cl->set_peer_down([](void *) { gone.store(true); }, nullptr);
	if (cl->wait_peer(TIMEOUT).is_error())
		return 12;
	RpmsgRemoteConfig rc;
	rc.name = "bench-remote";
	rc.region = keel::ShmRegion(cl->mem(), STACK_REGION, 0);
	rc.doorbell = cl;
	rc.link = link_config(setup, true);
	if (big) {
		rc.h2r_buf_size = rc.r2h_buf_size = BIG_BUF;
		rc.h2r_num = rc.r2h_num = BIG_NUM;
	}
	BenchArea *ar = area_of(cl->mem());
	int rc_exit = 0;
	{
		auto r = RpmsgRemote::create(rc, GFP_KERNEL);
		if (r.is_error())
			return 13;
		keel::UniquePtr<RpmsgRemote> remote = keel::move(r.value());
		if (remote->add_service(SERVICE, "keel_bench_svc").is_error() ||
		    remote->start().is_error())
			return 14;
		s64 deadline = keel::ktime_get_ns() + keel::ms_to_ns(120000);
		while (!gone.load() && keel::ktime_get_ns() < deadline) {
			__atomic_store_n(&ar->r_doorbells, cl->delivered(), __ATOMIC_RELAXED);
			__atomic_fetch_add(&ar->r_seq, 1, __ATOMIC_RELEASE);
			keel::msleep(2);
		}
		if (!gone.load())
			rc_exit = 15;
	}
	delete cl;
	unregister_rpmsg_driver(s_service_drv);
	rpmsg_exit();
	return rc_exit;
}

/* --- instruction counts (one process, one thread, under callgrind) --- */

/*
 * Both roles in this process over a loopback doorbell: the sender sends
 * @n messages of @size bytes in windows, the receiving side polls them in
 * a busy-poll section (so nothing runs on other threads). With callgrind
 * (tools/bench/instr.sh) collection is toggled on around the sends only,
 * then around the receives only, so the two runs' totals divided by @n are
 * the instructions of one send and of one receive. With @way WAY_ZC the
 * sender lends a buffer, writes in place and sends it (get_tx_payload_buffer()
 * and send_nocopy(), both counted) instead of send(); with WAY_ZC_BATCH it
 * does so for the whole window at once (get_tx_payload_buffers() and
 * send_nocopy_batch()).
 */
int instr_main(bool h2r, u32 size, u32 n, bool count_recv, Way way)
{
	keel::log_set_echo(false);
	u8 *mem = static_cast<u8 *>(keel::kzalloc(STACK_REGION, GFP_KERNEL));
	auto *lb = new (GFP_KERNEL) keel::LoopbackLink(keel::LoopbackLink::Mode::Deferred);
	if (!mem || !lb || virtio::virtio_init().is_error() || virtio_rpmsg_init().is_error() ||
	    register_rpmsg_driver(s_client_drv).is_error() ||
	    register_rpmsg_driver(s_service_drv).is_error())
		return 1;
	virtio::ShmHostConfig hc;
	hc.name = "instr-host";
	hc.region = keel::ShmRegion(mem, STACK_REGION, 0);
	hc.doorbell = &lb->a();
	auto host = virtio::ShmHost::create(hc, GFP_KERNEL);
	RpmsgRemoteConfig rc;
	rc.name = "instr-remote";
	rc.region = keel::ShmRegion(mem, STACK_REGION, 0);
	rc.doorbell = &lb->b();
	auto remote = RpmsgRemote::create(rc, GFP_KERNEL);
	if (host.is_error() || remote.is_error())
		return 2;
	auto svc = remote.value()->add_service(SERVICE, "keel_bench_svc");
	if (svc.is_error() || remote.value()->start().is_error() ||
	    host.value()->attach(TIMEOUT).is_error())
		return 3;
	s64 deadline = keel::ktime_get_ns() + TIMEOUT;
	while (!s_client.load() && keel::ktime_get_ns() < deadline)
		keel::msleep(1);
	BenchClient *c = s_client.load();
	RpmsgLink *hl = virtio_rpmsg_link(*host.value()->vdev(0));
	/* Bound and receiving (probe returned), on both ends: nothing is held. */
	while (c &&
	       !(hl->channel_active(*c->rpdev) &&
		 remote.value()->link().channel_active(*svc.value())) &&
	       keel::ktime_get_ns() < deadline)
		keel::msleep(1);
	if (!c || keel::ktime_get_ns() >= deadline)
		return 4;
	RpmsgEndpoint &hept = *c->rpdev->ept();
	RpmsgEndpoint &rept = *svc.value()->ept();
	u32 dst = c->rpdev->src();
	RpmsgEndpoint &tx = h2r ? hept : rept;
	RpmsgEndpoint &rx = h2r ? rept : hept;
	u8 buf[RPMSG_BUF_SIZE] = {};
	memset(buf, 0x5a, sizeof(buf));
	buf[0] = h2r ? u8(OP_COPY) : u8('x');
	busy_poll_begin(rx);
	constexpr u32 WINDOW = 16;
	int rc_exit = 0;
	for (u32 i = 0; i < n && !rc_exit; i += WINDOW) {
		if (!count_recv)
			CALLGRIND_TOGGLE_COLLECT;
		if (way == WAY_ZC_BATCH) {
			RpmsgTxBuf bufs[WINDOW];
			u32 lens[WINDOW];
			auto got =
				get_tx_payload_buffers(tx, keel::Span<RpmsgTxBuf>(bufs), TIMEOUT);
			if (got.is_error() || got.value() != WINDOW ||
			    bufs[0].payload.size() < size) {
				rc_exit = 5;
				break;
			}
			for (u32 k = 0; k < WINDOW; k++) {
				bufs[k].payload[0] = buf[0];
				memcpy(bufs[k].payload.data() + 4, &k, 4);
				bufs[k].payload[size - 1] = u8(k);
				lens[k] = size;
			}
			Result<void> r =
				h2r ? send_nocopy_batch(tx, keel::Span<RpmsgTxBuf>(bufs),
							keel::Span<const u32>(lens))
				    : sendto_nocopy_batch(tx, keel::Span<RpmsgTxBuf>(bufs),
							  keel::Span<const u32>(lens), dst);
			if (r.is_error())
				rc_exit = 5;
		}
		for (u32 k = 0; k < WINDOW && way != WAY_ZC_BATCH; k++) {
			Result<void> r = keel::ok();
			if (way == WAY_ZC) {
				/* A producer that writes its message in place (as one_way()). */
				auto b = get_tx_payload_buffer(tx, TIMEOUT);
				if (b.is_error() || b.value().payload.size() < size) {
					rc_exit = 5;
					break;
				}
				RpmsgTxBuf tb = b.release_value();
				tb.payload[0] = buf[0];
				memcpy(tb.payload.data() + 4, &k, 4);
				tb.payload[size - 1] = u8(k);
				r = h2r ? send_nocopy(tx, tb, size)
					: sendto_nocopy(tx, tb, size, dst);
			} else {
				r = h2r ? send(tx, keel::Span<const u8>(buf, size))
					: sendto(tx, keel::Span<const u8>(buf, size), dst);
			}
			if (r.is_error())
				rc_exit = 5;
		}
		if (!count_recv)
			CALLGRIND_TOGGLE_COLLECT;
		u32 got = 0;
		for (u32 tries = 0; got < WINDOW && tries < 1000000; tries++) {
			if (count_recv)
				CALLGRIND_TOGGLE_COLLECT;
			got += poll_rx(rx, WINDOW - got);
			if (count_recv)
				CALLGRIND_TOGGLE_COLLECT;
		}
		if (got != WINDOW)
			rc_exit = 6;
	}
	busy_poll_end(rx);
	/* Every message reached its callback (none held, dropped or refused). */
	RpmsgLink &rl = h2r ? remote.value()->link() : *virtio_rpmsg_link(*host.value()->vdev(0));
	if (!rc_exit && rl.stats().rx_delivered.load() < n)
		rc_exit = 7;
	svc.value() = nullptr;
	host.value().reset();
	remote.value().reset();
	delete lb;
	keel::kfree(mem);
	unregister_rpmsg_driver(s_service_drv);
	unregister_rpmsg_driver(s_client_drv);
	virtio_rpmsg_exit();
	virtio::virtio_exit();
	return rc_exit;
}

/* --- the run --- */

struct Figures {
	bench::Series spin, ring, efd, efd_epoll, bell, bell_direct;
	bench::Series spsc[3];
	bench::Series rtt[3][2]; /* [setup][16 B, 496 B] */
	bench::Series host_db[3], remote_db[3], host_direct[3];
	bench::Series tput[3][3][NWAYS]; /* [setup][size][way] */
	MemResult mem;
};

void run_stack(Figures &f, Setup setup, u32 iters, u32 msgs)
{
	int k = int(setup);
	StackSession s;
	bool ok = s.start(setup, false).is_ok();
	RttResult r16 = ok ? echo_rtt(s, iters, 16) : RttResult();
	RttResult r496 = ok ? echo_rtt(s, iters, 496) : RttResult();
	f.rtt[k][0].add(r16.ns);
	f.rtt[k][1].add(r496.ns);
	f.host_db[k].add(r16.host_doorbells);
	f.remote_db[k].add(r16.remote_doorbells);
	f.host_direct[k].add(r16.host_direct);
	for (int z = 0; z < NWAYS; z++)
		for (int sz = 0; sz < 2; sz++)
			f.tput[k][sz][z].add(ok ? one_way(s, msgs, SIZES[sz], Way(z)) : -1);
	if (ok && setup == Setup::Doorbell && f.mem.ept < 0)
		f.mem = measure_memory(s);
	s.stop();
	StackSession big;
	ok = big.start(setup, true).is_ok();
	for (int z = 0; z < NWAYS; z++)
		f.tput[k][2][z].add(ok ? one_way(big, msgs / 4, BIG, Way(z)) : -1);
	big.stop();
}

/*
 * One floor of the list: the median of the per-trial ratio against
 * @limit, PASS or MISS; @at_most: the ratio must not exceed it (latency),
 * else it must reach it (throughput). A failed series is a MISS.
 */
void floor_line(const char *name, const char *what, const bench::Series &ratio, double limit,
		bool at_most)
{
	bench::Stat st = bench::stat(ratio);
	bool pass = st.n && (at_most ? st.med <= limit : st.med >= limit);
	printf("  %-4s %-48s %8.2f x %s %.2f x (%.2f..%.2f)\n", pass ? "PASS" : "MISS", what,
	       st.med, at_most ? "<=" : ">=", limit, st.min, st.max);
	bench::emit(name, pass ? 1 : 0, "pass");
}

void print_floors(Figures &f)
{
	printf(" floors (median of the per-trial ratios; spread min..max)\n");
	const int poll = int(Setup::Poll), bell = int(Setup::Doorbell), nospin = int(Setup::NoSpin);
	floor_line("rpmsg_floor_poll_rtt", "poll echo RTT 16 B / cache-line ping-pong",
		   bench::ratio(f.rtt[poll][0], f.spin), 2.0, true);
	/* Why that floor cannot be met: the protocol alone, done barely, is above it. */
	bench::Stat bare = bench::stat(bench::ratio(f.ring, f.spin));
	bench::Stat over = bench::stat(bench::ratio(f.rtt[poll][0], f.ring));
	printf("       (the protocol's own floor: bare split-ring echo / ping-pong %.2f x;\n"
	       "        poll echo RTT 16 B / bare split-ring echo %.2f x)\n",
	       bare.med, over.med);
	floor_line("rpmsg_floor_doorbell_rtt", "doorbell echo RTT 16 B / raw eventfd",
		   bench::ratio(f.rtt[bell][0], f.efd), 1.1, true);
	floor_line("rpmsg_floor_nospin_rtt", "nospin echo RTT 16 B / raw eventfd",
		   bench::ratio(f.rtt[nospin][0], f.efd), 1.1, true);
	for (Setup st : SETUPS) {
		int k = int(st);
		char name[96], what[96];
		for (int z = 0; z < NWAYS; z++) {
			snprintf(name, sizeof(name), "rpmsg_floor_%s_496_%s", setup_name(st),
				 WAY_NAME[z]);
			snprintf(what, sizeof(what), "%s 496 B %s / SPSC", setup_name(st),
				 WAY_WHAT[z]);
			floor_line(name, what, bench::ratio(f.tput[k][1][z], f.spsc[1]),
				   z ? 0.8 : 0.5, false);
		}
	}
	bool ept_ok = f.mem.ept >= 0 && f.mem.ept <= 128;
	printf("  %-4s %-48s %8.1f B <= 128 B\n", ept_ok ? "PASS" : "MISS", "heap per endpoint",
	       f.mem.ept);
	bench::emit("rpmsg_floor_endpoint_bytes", ept_ok ? 1 : 0, "pass");
}

void print(Figures &f, u32 trials, u32 iters, u32 msgs)
{
	printf("rpmsg_bench: %u interleaved trials, %u round trips and %u messages each "
	       "(median, spread min..max)\n",
	       trials, iters, msgs);
	bench::report("rpmsg_bench_spin_rtt_ns", "baseline: cache-line ping-pong", f.spin, "ns");
	bench::report("rpmsg_bench_bare_ring_rtt_ns", "baseline: bare split-ring echo, 16 B",
		      f.ring, "ns");
	bench::report("rpmsg_bench_bare_ring_over_spin", "  / cache-line ping-pong",
		      bench::ratio(f.ring, f.spin), "x");
	bench::report("rpmsg_bench_eventfd_rtt_ns", "baseline: raw eventfd ping-pong", f.efd, "ns");
	bench::report("rpmsg_bench_eventfd_epoll_rtt_ns", "baseline: the same, in epoll_wait()",
		      f.efd_epoll, "ns");
	bench::report("rpmsg_bench_doorbell_rtt_ns", "baseline: shmlink doorbell ping-pong", f.bell,
		      "ns");
	bench::report("rpmsg_bench_doorbell_direct_rtt_ns",
		      "baseline: the same, waiting on the doorbell", f.bell_direct, "ns");
	for (int sz = 0; sz < 3; sz++) {
		char name[96], what[96];
		snprintf(name, sizeof(name), "rpmsg_bench_spsc_%u_msgs_per_s", SIZES[sz]);
		snprintf(what, sizeof(what), "baseline: SPSC ring, %u B copies", SIZES[sz]);
		bench::report(name, what, f.spsc[sz], "1/s");
	}
	for (Setup st : SETUPS) {
		int k = int(st);
		const char *sn = setup_name(st);
		char name[96], what[96];
		printf(" %s\n", sn);
		for (int b = 0; b < 2; b++) {
			u32 size = b ? 496 : 16;
			snprintf(name, sizeof(name), "rpmsg_echo_rtt_%s_%u_ns", sn, size);
			snprintf(what, sizeof(what), "echo round trip %u B", size);
			bench::report(name, what, f.rtt[k][b], "ns");
		}
		bench::Series &base = st == Setup::Poll ? f.spin : f.efd;
		snprintf(name, sizeof(name), "rpmsg_echo_rtt_%s_16_over_%s", sn,
			 st == Setup::Poll ? "spin" : "eventfd");
		snprintf(what, sizeof(what), "  16 B / %s",
			 st == Setup::Poll ? "cache-line ping-pong" : "raw eventfd");
		bench::report(name, what, bench::ratio(f.rtt[k][0], base), "x");
		if (st == Setup::Poll)
			bench::report("rpmsg_echo_rtt_poll_16_over_bare_ring",
				      "  16 B / bare split-ring echo",
				      bench::ratio(f.rtt[k][0], f.ring), "x");
		if (st != Setup::Poll) {
			snprintf(name, sizeof(name), "rpmsg_echo_rtt_%s_16_over_eventfd_epoll", sn);
			bench::report(name, "  16 B / eventfd in epoll_wait()",
				      bench::ratio(f.rtt[k][0], f.efd_epoll), "x");
			snprintf(name, sizeof(name), "rpmsg_echo_rtt_%s_16_over_doorbell", sn);
			bench::report(name, "  16 B / shmlink doorbell",
				      bench::ratio(f.rtt[k][0], f.bell), "x");
			snprintf(name, sizeof(name), "rpmsg_echo_rtt_%s_16_over_doorbell_direct",
				 sn);
			bench::report(name, "  16 B / shmlink doorbell, waiting on it",
				      bench::ratio(f.rtt[k][0], f.bell_direct), "x");
		}
		snprintf(name, sizeof(name), "rpmsg_echo_%s_host_doorbells_per_rtt", sn);
		bench::report(name, "  doorbells to the host per round trip", f.host_db[k], "");
		snprintf(name, sizeof(name), "rpmsg_echo_%s_host_direct_per_rtt", sn);
		bench::report(name, "    of which taken by the waiting client", f.host_direct[k],
			      "");
		snprintf(name, sizeof(name), "rpmsg_echo_%s_remote_doorbells_per_rtt", sn);
		bench::report(name, "  doorbells to the remote per round trip", f.remote_db[k], "");
		for (int sz = 0; sz < 3; sz++) {
			for (int z = 0; z < NWAYS; z++) {
				const char *zn = WAY_NAME[z];
				snprintf(name, sizeof(name), "rpmsg_one_way_%s_%u_%s_msgs_per_s",
					 sn, SIZES[sz], zn);
				snprintf(what, sizeof(what), "one way %u B, %s", SIZES[sz],
					 WAY_WHAT[z]);
				bench::report(name, what, f.tput[k][sz][z], "1/s");
				snprintf(name, sizeof(name), "rpmsg_one_way_%s_%u_%s_over_spsc", sn,
					 SIZES[sz], zn);
				bench::report(name, "  / SPSC ring",
					      bench::ratio(f.tput[k][sz][z], f.spsc[sz]), "x");
			}
		}
	}
	print_floors(f);
	printf(" memory\n");
	printf("  %-48s %12zu B\n", "sizeof(RpmsgEndpoint)", sizeof(RpmsgEndpoint));
	bench::emit("rpmsg_endpoint_sizeof_bytes", double(sizeof(RpmsgEndpoint)), "B");
	printf("  %-48s %12.1f B\n", "heap per endpoint (create_ept)", f.mem.ept);
	bench::emit("rpmsg_endpoint_heap_bytes", f.mem.ept, "B");
	printf("  %-48s %12.1f B\n", "heap per channel (create_channel)", f.mem.channel);
	bench::emit("rpmsg_channel_heap_bytes", f.mem.channel, "B");
}

int bench_main(u32 trials, u32 iters, u32 msgs)
{
	keel::log_set_echo(false);
	auto srv = shmlink::Server::create(bench::sock, REGION, VECTORS);
	if (srv.is_error() || srv.value()->start().is_error())
		return 1;
	if (virtio::virtio_init().is_error() || virtio_rpmsg_init().is_error() ||
	    register_rpmsg_driver(s_client_drv).is_error())
		return 1;
	static Figures f;
	trials = keel::min(trials, bench::MAX_TRIALS);
	for (u32 t = 0; t < trials; t++) {
		/* Interleaved: each kind sees the same noise over the run. */
		f.spin.add(run_spin(iters * 10));
		f.ring.add(run_ring(iters * 10));
		f.efd.add(run_eventfd(iters, false));
		f.efd_epoll.add(run_eventfd(iters, true));
		f.bell.add(run_doorbell(iters, false));
		f.bell_direct.add(run_doorbell(iters, true));
		f.spsc[0].add(run_spsc(msgs, 16, 512, 256));
		f.spsc[1].add(run_spsc(msgs, 496, 512, 256));
		f.spsc[2].add(run_spsc(msgs / 4, BIG, BIG_BUF, BIG_NUM));
		for (Setup s : SETUPS)
			run_stack(f, s, iters, msgs);
		fprintf(stderr, "rpmsg_bench: trial %u/%u done\n", t + 1, trials);
	}
	unregister_rpmsg_driver(s_client_drv);
	virtio_rpmsg_exit();
	virtio::virtio_exit();
	srv.value()->stop();
	delete srv.value();
	print(f, trials, iters, msgs);
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	static const bench::RemoteMode modes[] = {
		{ "--remote-spin", 1, [](char **a) { return remote_spin(a[0]); } },
		{ "--remote-eventfd", 2,
		  [](char **a) {
			  return remote_eventfd(atoi(a[0]), atoi(a[1]),
						a[2] && !strcmp(a[2], "epoll"));
		  } },
		{ "--remote-doorbell", 1,
		  [](char **a) { return bench::remote_doorbell(a[0], VECTORS, TIMEOUT); } },
		{ "--remote-ring", 1, [](char **a) { return remote_ring(a[0]); } },
		{ "--remote-spsc", 3,
		  [](char **a) { return remote_spsc(a[0], u32(atoi(a[1])), u32(atoi(a[2]))); } },
		{ "--remote-rpmsg", 3,
		  [](char **a) {
			  keel::log_set_echo(false);
			  return remote_rpmsg(a[0], setup_of(a[1]), !strcmp(a[2], "big"));
		  } },
		{ "--instr", 4,
		  [](char **a) {
			  Way w = !strcmp(a[3], "sendzc")    ? WAY_ZC
				  : !strcmp(a[3], "sendzcb") ? WAY_ZC_BATCH
							     : WAY_COPY;
			  return instr_main(!strcmp(a[0], "h2r"), u32(atoi(a[1])), u32(atoi(a[2])),
					    !strcmp(a[3], "recv"), w);
		  } },
	};
	return bench::run_main(argc, argv, 1800, modes, [](const bench::Options &o) {
		return o.msgs < 16 ? 2 : bench_main(o.trials, o.iters, o.msgs);
	});
}
