// SPDX-License-Identifier: GPL-2.0
/*
 * rpmsg_bench: the rpmsg stack between two processes (host role and remote
 * role over shmlink, as tools/testing/rpmsg runs them), against raw
 * baselines measured in the same run between the same two processes:
 *
 *   spin      a cache-line ping-pong in the shared region (no syscalls)
 *   eventfd   a raw eventfd ping-pong: each side blocks in read() on its
 *             eventfd and writes the other's (two wake-ups per round trip)
 *   doorbell  an eventfd ping-pong through shmlink's notification threads
 *             (what the link's doorbells cost: three wake-ups)
 *
 * and the stack: the echo round trip of a 16-byte message (the remote's
 * service answers from its callback).
 *
 * Trials are interleaved (each kind sees the same noise); each figure is
 * the median of the trials, with the spread (min..max); ratios are taken
 * per trial. Prints a table and, with --jsonl FILE, appends
 * {"name","value","unit"} lines. Never asserts a time.
 *
 *	rpmsg_bench [--trials N] [--iters N] [--jsonl FILE]
 */
#include <keel/log.h>
#include <keel/time.h>
#include <keel/wait.h>
#include <rpmsg/rpmsg.h>
#include <rpmsg/rpmsg_link.h>
#include <virtio/virtio.h>
#include <virtio/virtio_shm.h>

#include <shmlink.h>

#include "bench_util.h"

#include <stdlib.h>
#include <sys/eventfd.h>

using keel::Result;
using namespace rpmsg;

namespace {

constexpr u32 VECTORS = 3;		 /* vring 0, vring 1, ANY */
constexpr size_t REGION = 4u << 20;	 /* a power of two, as QEMU wants */
constexpr size_t STACK_REGION = 3u << 20; /* the transport's part; the rest is the bench's */
constexpr size_t SPIN_OFF = STACK_REGION; /* one cache line of the bench's part */
constexpr u64 SPIN_STOP = ~0ull;
constexpr u64 EFD_STOP = 1000;
constexpr const char *SERVICE = "keel-bench";
const s64 TIMEOUT = keel::ms_to_ns(5000);

const char *s_self;
const char *s_sock;

/* --- message format: byte 0 says what the remote does with it --- */

enum Op : u8 { OP_ECHO = 'E' };

/* --- the remote's service --- */

struct BenchService : keel::NonMovable {
	static Result<keel::UniquePtr<BenchService>> probe(RpmsgDevice &)
	{
		return keel::make_unique<BenchService>(GFP_KERNEL);
	}
	Result<void> on_message(RpmsgDevice &rpdev, keel::Span<const u8> data, u32 src)
	{
		if (data.size() && data[0] == OP_ECHO)
			return trysendto(*rpdev.ept(), data, src);
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
	keel::WaitQueue wq{ "rpmsg_bench_client", KEEL_LOCK_KEY() };

	static Result<keel::UniquePtr<BenchClient>> probe(RpmsgDevice &rpdev)
	{
		auto c = TRY(keel::make_unique<BenchClient>(GFP_KERNEL));
		c->rpdev = &rpdev;
		s_client.store(c.get());
		return c;
	}
	void remove(RpmsgDevice &) { s_client.store(nullptr); }
	Result<void> on_message(RpmsgDevice &, keel::Span<const u8>, u32)
	{
		received.store(received.load(keel::MemoryOrder::Relaxed) + 1,
			       keel::MemoryOrder::Release);
		wq.wake_up();
		return keel::ok();
	}
	bool wait_received(u64 n)
	{
		return wq.wait_event_timeout(
			       [&] { return received.load(keel::MemoryOrder::Acquire) >= n; },
			       TIMEOUT) > 0;
	}
};
constinit RpmsgDriver s_client_drv{ driver_for<BenchClient>, "keel_bench_client" };

/* --- sessions --- */

struct Child {
	shmlink::Client *cl = nullptr;
	pid_t pid = -1;
};

/* Connects to the server and starts the other process with @args (NULL-terminated). */
Result<Child> start_child(const char *const *args, bool connect = true)
{
	Child c;
	if (connect) {
		c.cl = TRY(shmlink::Client::connect(s_sock, VECTORS, TIMEOUT));
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

/* ns per round trip of a spin ping-pong on one shared cache line. */
double run_spin(u32 iters)
{
	const char *args[] = { s_self, "--remote-spin", s_sock, nullptr };
	auto s = start_child(args);
	if (s.is_error())
		return -1;
	u64 *line = reinterpret_cast<u64 *>(static_cast<u8 *>(s.value().cl->mem()) + SPIN_OFF);
	s64 t0 = keel::ktime_get_ns(), deadline = t0 + keel::ms_to_ns(10000);
	u32 i;
	for (i = 1; i <= iters; i++) {
		__atomic_store_n(line, 2ull * i - 1, __ATOMIC_RELEASE);
		while (__atomic_load_n(line, __ATOMIC_ACQUIRE) != 2ull * i) {
			keel::cpu_relax();
			/* Bounded: a descheduled peer on a 2-vCPU VM must not hang the bench. */
			if ((i & 63) == 0 && keel::ktime_get_ns() > deadline)
				break;
		}
	}
	s64 t = keel::ktime_get_ns() - t0;
	__atomic_store_n(line, SPIN_STOP, __ATOMIC_RELEASE);
	finish(s.value());
	return double(t) / (i - 1);
}

/* ns per round trip of a raw eventfd ping-pong (each side blocks in read()). */
double run_eventfd(u32 iters)
{
	int to_child = eventfd(0, 0), to_parent = eventfd(0, 0);
	if (to_child < 0 || to_parent < 0)
		return -1;
	char a[16], b[16];
	snprintf(a, sizeof(a), "%d", to_child);
	snprintf(b, sizeof(b), "%d", to_parent);
	const char *args[] = { s_self, "--remote-eventfd", a, b, nullptr };
	auto s = start_child(args, false);
	double r = -1;
	if (s.is_ok()) {
		u64 one = 1, v;
		s64 t0 = keel::ktime_get_ns();
		u32 i;
		for (i = 0; i < iters; i++) {
			if (write(to_child, &one, 8) != 8 || read(to_parent, &v, 8) != 8)
				break;
		}
		s64 t = keel::ktime_get_ns() - t0;
		u64 stop = EFD_STOP;
		(void)!write(to_child, &stop, 8);
		(void)bench::reap(s.value().pid);
		r = i == iters ? double(t) / iters : -1;
	}
	close(to_child);
	close(to_parent);
	return r;
}

/* ns per round trip of an eventfd ping-pong through shmlink's notification threads. */
double run_doorbell(u32 iters)
{
	const char *args[] = { s_self, "--remote-doorbell", s_sock, nullptr };
	auto s = start_child(args);
	if (s.is_error())
		return -1;
	shmlink::Client *cl = s.value().cl;
	static keel::Completion done{ "rpmsg_bench_done", KEEL_LOCK_KEY() };
	done.reinit();
	cl->set_handler([](void *, u32) { done.complete(); }, nullptr);
	cl->enable();
	/* The other side answers once its handler is set: ring until it does. */
	bool up = false;
	for (int k = 0; k < 200 && !up; k++)
		up = cl->ring(0).is_ok() && done.wait_timeout(keel::ms_to_ns(10));
	/* A late answer to an earlier ring must not count as one of the round trips. */
	keel::msleep(5);
	done.reinit();
	s64 t0 = keel::ktime_get_ns();
	u32 i;
	for (i = 0; up && i < iters; i++) {
		if (cl->ring(0).is_error() || !done.wait_timeout(keel::ms_to_ns(2000)))
			break;
	}
	s64 t = keel::ktime_get_ns() - t0;
	cl->disable();
	finish(s.value());
	return i == iters ? double(t) / iters : -1;
}

/* The host role attached to a remote process: the bound client's channel. */
struct StackSession {
	Child child;
	keel::UniquePtr<virtio::ShmHost> host;
	BenchClient *client = nullptr;

	Result<void> start(const char *const *args)
	{
		child = TRY(start_child(args));
		virtio::ShmHostConfig hc;
		hc.name = "bench-host";
		hc.region = keel::ShmRegion(child.cl->mem(), STACK_REGION, 0);
		hc.doorbell = child.cl;
		host = TRY(virtio::ShmHost::create(hc, GFP_KERNEL));
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
		finish(child);
	}
};

/* ns per echo round trip of @size bytes. */
double echo_rtt(StackSession &s, u32 iters, u32 size)
{
	u8 buf[RPMSG_BUF_SIZE] = {};
	buf[0] = OP_ECHO;
	RpmsgEndpoint &ept = *s.client->rpdev->ept();
	u64 base = s.client->received.load();
	/* Warm-up. */
	if (send(ept, keel::Span<const u8>(buf, size)).is_error() ||
	    !s.client->wait_received(base + 1))
		return -1;
	base++;
	s64 t0 = keel::ktime_get_ns();
	for (u32 i = 0; i < iters; i++) {
		memcpy(buf + 4, &i, 4);
		if (send(ept, keel::Span<const u8>(buf, size)).is_error() ||
		    !s.client->wait_received(base + i + 1))
			return -1;
	}
	return double(keel::ktime_get_ns() - t0) / iters;
}

double run_stack_rtt(u32 iters)
{
	const char *args[] = { s_self, "--remote-rpmsg", s_sock, nullptr };
	StackSession s;
	double r = -1;
	if (s.start(args).is_ok())
		r = echo_rtt(s, iters, 16);
	s.stop();
	return r;
}

/* --- the other process --- */

int remote_spin(const char *sock)
{
	auto c = shmlink::Client::connect(sock, VECTORS, TIMEOUT);
	if (c.is_error())
		return 10;
	u64 *line = reinterpret_cast<u64 *>(static_cast<u8 *>(c.value()->mem()) + SPIN_OFF);
	s64 deadline = keel::ktime_get_ns() + keel::ms_to_ns(60000);
	for (u64 spins = 0;; spins++) {
		u64 v = __atomic_load_n(line, __ATOMIC_ACQUIRE);
		if (v == SPIN_STOP)
			break;
		if (v & 1)
			__atomic_store_n(line, v + 1, __ATOMIC_RELEASE);
		else
			keel::cpu_relax();
		if ((spins & 0xffff) == 0 &&
		    (keel::ktime_get_ns() > deadline || !c.value()->peer_alive()))
			break;
	}
	delete c.value();
	return 0;
}

int remote_eventfd(int in, int out)
{
	/* Bounded: a parent that died leaves us blocked in read() until the alarm. */
	alarm(60);
	for (;;) {
		u64 v, one = 1;
		if (read(in, &v, 8) != 8 || v >= EFD_STOP)
			return 0;
		if (write(out, &one, 8) != 8)
			return 1;
	}
}

int remote_doorbell(const char *sock)
{
	auto c = shmlink::Client::connect(sock, VECTORS, TIMEOUT);
	if (c.is_error())
		return 10;
	shmlink::Client *cl = c.value();
	if (cl->wait_peer(TIMEOUT).is_error())
		return 11;
	static keel::Completion gone{ "rpmsg_bench_gone", KEEL_LOCK_KEY() };
	cl->set_handler([](void *ctx, u32) { (void)static_cast<shmlink::Client *>(ctx)->ring(0); },
			cl);
	cl->set_peer_down([](void *) { gone.complete_all(); }, nullptr);
	cl->enable();
	(void)gone.wait_timeout(keel::ms_to_ns(60000));
	cl->disable();
	delete cl;
	return 0;
}

int remote_rpmsg(const char *sock)
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
		while (!gone.load() && keel::ktime_get_ns() < deadline)
			keel::msleep(5);
		if (!gone.load())
			rc_exit = 15;
	}
	delete cl;
	unregister_rpmsg_driver(s_service_drv);
	rpmsg_exit();
	return rc_exit;
}

/* --- the run --- */

int bench_main(u32 trials, u32 iters)
{
	keel::log_set_echo(false);
	auto srv = shmlink::Server::create(s_sock, REGION, VECTORS);
	if (srv.is_error() || srv.value()->start().is_error())
		return 1;
	if (virtio::virtio_init().is_error() || virtio_rpmsg_init().is_error() ||
	    register_rpmsg_driver(s_client_drv).is_error())
		return 1;
	bench::Series spin, efd, bell, rtt;
	trials = keel::min(trials, bench::MAX_TRIALS);
	for (u32 t = 0; t < trials; t++) {
		/* Interleaved: each kind sees the same noise over the run. */
		spin.add(run_spin(iters * 10));
		efd.add(run_eventfd(iters));
		bell.add(run_doorbell(iters));
		rtt.add(run_stack_rtt(iters));
		fprintf(stderr, "rpmsg_bench: trial %u/%u done\n", t + 1, trials);
	}
	unregister_rpmsg_driver(s_client_drv);
	virtio_rpmsg_exit();
	virtio::virtio_exit();
	srv.value()->stop();
	delete srv.value();

	printf("rpmsg_bench: %u interleaved trials, %u round trips each (median, spread "
	       "min..max)\n",
	       trials, iters);
	bench::report("rpmsg_bench_spin_rtt_ns", "baseline: cache-line ping-pong", spin, "ns");
	bench::report("rpmsg_bench_eventfd_rtt_ns", "baseline: raw eventfd ping-pong", efd, "ns");
	bench::report("rpmsg_bench_doorbell_rtt_ns", "baseline: shmlink doorbell ping-pong", bell,
		      "ns");
	bench::report("rpmsg_echo_rtt_ns", "rpmsg echo 16 B", rtt, "ns");
	bench::report("rpmsg_echo_rtt_over_eventfd", "  / raw eventfd", bench::ratio(rtt, efd),
		      "x");
	bench::report("rpmsg_echo_rtt_over_doorbell", "  / shmlink doorbell",
		      bench::ratio(rtt, bell), "x");
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	alarm(900);
	s_self = argv[0];
	if (argc >= 3 && !strcmp(argv[1], "--remote-spin"))
		return remote_spin(argv[2]);
	if (argc >= 4 && !strcmp(argv[1], "--remote-eventfd"))
		return remote_eventfd(atoi(argv[2]), atoi(argv[3]));
	if (argc >= 3 && !strcmp(argv[1], "--remote-doorbell"))
		return remote_doorbell(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "--remote-rpmsg")) {
		keel::log_set_echo(false);
		return remote_rpmsg(argv[2]);
	}
	u32 trials = 5, iters = 2000;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--trials"))
			trials = u32(atoi(argv[i + 1]));
		else if (!strcmp(argv[i], "--iters"))
			iters = u32(atoi(argv[i + 1]));
		else if (!strcmp(argv[i], "--jsonl"))
			bench::json_file() = fopen(argv[i + 1], "a");
	}
	if (!trials || !iters)
		return 2;
	char dir[] = "/tmp/keel-bench-XXXXXX";
	if (!mkdtemp(dir))
		return 2;
	char sock[128];
	snprintf(sock, sizeof(sock), "%s/ivshmem.sock", dir);
	s_sock = sock;
	int r = bench_main(trials, iters);
	if (bench::json_file())
		fclose(bench::json_file());
	unlink(sock);
	rmdir(dir);
	return r;
}
