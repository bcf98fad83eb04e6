/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The two roles of the hosted two-process programs (the end-to-end test and
 * the benchmark), over shmlink:
 *  - the host: a small virtio driver (rx = vq 0, tx = vq 1, as rpmsg) bound
 *    to the ShmHost's device, collecting used buffers in its callbacks;
 *  - the remote: a ShmRemote that echoes every buffer the host sends into a
 *    buffer the host posted, until the host goes away.
 * Hosted only (POSIX); not a KUnit test.
 */
#ifndef TOOLS_TESTING_SHM_SHM_PEER_H
#define TOOLS_TESTING_SHM_SHM_PEER_H

#include <keel/doorbell.h>
#include <keel/log.h>
#include <keel/spinlock.h>
#include <keel/time.h>
#include <keel/wait.h>
#include <virtio/virtio_shm.h>

#include "../../../drivers/virtio/tests/vring_echo.h"

#include "../../../os/posix/shmlink/shmlink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

namespace shmpeer {

using keel::Guard;
using keel::Result;
using namespace virtio;

inline constexpr u32 PEER_DEVICE_ID = 0x7e58;
inline constexpr u32 VECTORS = 3; /* vring 0, vring 1, ANY */
inline constexpr u32 NUM = 64;	  /* vring size */
inline constexpr u32 BUF = 512;	  /* rpmsg's buffer size */
inline constexpr u32 NBUF = 32;	  /* rx buffers posted (and tx buffers) */

/* --- host side --- */

struct HostDriver;
inline constinit HostDriver *s_host_drv = nullptr;

struct HostDriver {
	static constexpr VirtioDeviceId id_table[] = { { PEER_DEVICE_ID, VIRTIO_DEV_ANY_ID }, {} };
	/* Event idx is offered by the remote or not: the driver takes what is offered. */
	static constexpr unsigned int feature_table[] = { 0 };

	VirtQueue *rx = nullptr;
	VirtQueue *tx = nullptr;
	ShmAlloc bufs;
	keel::SpinLock lock{ "shm_peer_lock", KEEL_LOCK_KEY() };
	u8 *rx_got[NBUF] = {};
	u32 rx_len[NBUF] = {};
	u32 rx_count = 0;
	u32 tx_free[NBUF] = {};
	u32 tx_nfree = 0;
	bool bad = false;
	keel::WaitQueue wq{ "shm_peer_wq", KEEL_LOCK_KEY() };

	u8 *rx_buf(u32 i) const { return static_cast<u8 *>(bufs.cpu) + i * BUF; }
	u8 *tx_buf(u32 i) const { return static_cast<u8 *>(bufs.cpu) + (NBUF + i) * BUF; }

	/*
	 * The bound instance, published after probe set everything up. The
	 * callbacks load it (acquire) rather than vq.priv(): the only other
	 * ordering between probe and the first interrupt goes through the
	 * remote process, which ThreadSanitizer cannot see.
	 */
	static HostDriver *bound() { return __atomic_load_n(&s_host_drv, __ATOMIC_ACQUIRE); }

	/* Doorbell context: collect used buffers. */
	static void rx_done(VirtQueue &vq)
	{
		HostDriver *d = bound();
		if (!d)
			return;
		{
			Guard g{ d->lock };
			for (u32 n = 0; n <= NUM; n++) {
				auto r = vq.get_buf();
				if (r.is_error() || (r.value() && d->rx_count == NBUF)) {
					d->bad = true;
					break;
				}
				if (!r.value())
					break;
				d->rx_got[d->rx_count] = static_cast<u8 *>(r.value().token);
				d->rx_len[d->rx_count++] = r.value().len;
			}
		}
		d->wq.wake_up();
	}
	static void tx_done(VirtQueue &vq)
	{
		HostDriver *d = bound();
		if (!d)
			return;
		{
			Guard g{ d->lock };
			for (u32 n = 0; n <= NUM; n++) {
				auto r = vq.get_buf();
				if (r.is_error() || (r.value() && d->tx_nfree == NBUF)) {
					d->bad = true;
					break;
				}
				if (!r.value())
					break;
				d->tx_free[d->tx_nfree++] = u32((static_cast<u8 *>(r.value().token) - d->tx_buf(0)) / BUF);
			}
		}
		d->wq.wake_up();
	}
	Result<void> post_rx(u8 *p) REQUIRES(lock)
	{
		Sg sg = TRY(Sg::from(*shm_transport_region(*rx->vdev()), p, BUF));
		return rx->add_inbuf(keel::Span<const Sg>(&sg, 1), p, GFP_ATOMIC);
	}
	static Result<keel::UniquePtr<HostDriver>> probe(VirtioDevice &vdev)
	{
		keel::UniquePtr<HostDriver> d = TRY(keel::make_unique<HostDriver>(GFP_KERNEL));
		const VqInfo infos[] = { { "input", &rx_done }, { "output", &tx_done } };
		VirtQueue *vqs[2] = {};
		d->bufs = TRY(shm_dma_alloc(vdev, 2 * NBUF * BUF, 64));
		TRY(vdev.find_vqs(keel::Span<const VqInfo>(infos, 2), keel::Span<VirtQueue *>(vqs, 2)));
		d->rx = vqs[0];
		d->tx = vqs[1];
		d->rx->set_priv(d.get());
		d->tx->set_priv(d.get());
		{
			Guard g{ d->lock };
			for (u32 i = 0; i < NBUF; i++) {
				TRY(d->post_rx(d->rx_buf(i)));
				d->tx_free[d->tx_nfree++] = i;
			}
		}
		vdev.device_ready();
		{
			Guard g{ d->lock };
			TRY(d->rx->kick());
		}
		__atomic_store_n(&s_host_drv, d.get(), __ATOMIC_RELEASE);
		return d;
	}
	void remove(VirtioDevice &vdev)
	{
		vdev.reset();
		vdev.del_vqs();
		shm_dma_free(vdev, bufs);
		__atomic_store_n(&s_host_drv, nullptr, __ATOMIC_RELEASE);
	}

	/*
	 * send_burst() - send @n buffers (stamped @seed + i) with one kick, wait
	 * for @n echoes, check and repost them. -EIO on any mismatch, -ETIMEDOUT.
	 */
	Result<void> send_burst(u32 n, u32 seed, s64 timeout_ns)
	{
		const keel::ShmRegion &mem = *shm_transport_region(*tx->vdev());
		if (n > NBUF)
			return keel::err(-EINVAL);
		/* Tx buffers come back through the tx interrupt, possibly after the echoes. */
		auto tx_room = [this, n] {
			Guard g{ lock };
			return tx_nfree >= n || bad;
		};
		if (!wq.wait_event_timeout(tx_room, timeout_ns))
			return keel::err(-ETIMEDOUT);
		{
			Guard g{ lock };
			if (bad)
				return keel::err(-EIO);
			for (u32 i = 0; i < n; i++) {
				u8 *p = tx_buf(tx_free[--tx_nfree]);
				memset(p, int((seed + i) & 0xff), 16);
				memcpy(p + 16, &seed, sizeof(seed));
				Sg sg = TRY(Sg::from(mem, p, BUF));
				TRY(tx->add_outbuf(keel::Span<const Sg>(&sg, 1), p, GFP_ATOMIC));
			}
			TRY(tx->kick());
		}
		u32 got = 0;
		s64 deadline = keel::ktime_get_ns() + timeout_ns;
		while (got < n) {
			auto have = [this] {
				Guard g{ lock };
				return rx_count > 0 || bad;
			};
			s64 left = deadline - keel::ktime_get_ns();
			if (left <= 0 || !wq.wait_event_timeout(have, left))
				return keel::err(-ETIMEDOUT);
			Guard g{ lock };
			if (bad)
				return keel::err(-EIO);
			for (u32 k = 0; k < rx_count; k++, got++) {
				u8 *p = rx_got[k];
				u32 s;
				memcpy(&s, p + 16, sizeof(s));
				if (rx_len[k] != BUF || p[0] != u8(seed + got) || s != seed) {
					fprintf(stderr, "host: echo %u: len %u byte 0x%x seed %u, want %u 0x%x %u\n", got,
						rx_len[k], p[0], s, BUF, u8(seed + got), seed);
					return keel::err(-EIO);
				}
				TRY(post_rx(p));
			}
			rx_count = 0;
			TRY(rx->kick());
		}
		return keel::ok();
	}
};

inline constinit VirtioDriver s_host_driver{ driver_for<HostDriver>, "shm_peer_host" };

/* --- remote side --- */

/* One echo pass of the remote (vring_echo.h). */
inline Result<u32> remote_echo(ShmRemote &r)
{
	return virtio::test::remote_echo<BUF>(r, NUM);
}

struct RemoteState {
	keel::Atomic<u32> kicks{ 0 };
	keel::Atomic<bool> host_gone{ false };
	keel::WaitQueue wq{ "shm_remote_wq", KEEL_LOCK_KEY() };
};

/*
 * run_remote() - the remote process: connect, publish, serve echoes across
 * host sessions until the host disconnects (exit 0) or @timeout_ns passes.
 */
inline int run_remote(const char *sock, bool event_idx, s64 timeout_ns)
{
	keel::log_set_echo(false);
	auto c = shmlink::Client::connect(sock, VECTORS, keel::ms_to_ns(5000));
	if (c.is_error())
		return 10;
	shmlink::Client *cl = c.value();
	/* Declared before the guard: the client (and its handlers) go first. */
	RemoteState st;
	keel::ScopeGuard drop_client([cl] { delete cl; });
	cl->set_peer_down(
		[](void *ctx) {
			static_cast<RemoteState *>(ctx)->host_gone.store(true);
			static_cast<RemoteState *>(ctx)->wq.wake_up();
		},
		&st);
	if (cl->wait_peer(keel::ms_to_ns(5000)).is_error())
		return 11;
	/* ShmRemoteConfig holds no reference after create(); the client outlives the remote. */
	ShmRemoteConfig rc;
	rc.name = "remote";
	rc.region = keel::ShmRegion(cl->mem(), cl->mem_size(), 0);
	rc.doorbell = cl;
	rc.num_vdevs = 1;
	rc.vdevs[0].id = PEER_DEVICE_ID;
	rc.vdevs[0].dfeatures = event_idx ? 1u << VIRTIO_RING_F_EVENT_IDX : 0;
	rc.vdevs[0].num_of_vrings = 2;
	rc.vdevs[0].vring[0] = { rproc::FW_RSC_ADDR_ANY, 4096, NUM, 0, 0 };
	rc.vdevs[0].vring[1] = { rproc::FW_RSC_ADDR_ANY, 4096, NUM, 1, 0 };
	rc.kick = [](void *ctx, u32, u32) {
		static_cast<RemoteState *>(ctx)->kicks.fetch_add(1);
		static_cast<RemoteState *>(ctx)->wq.wake_up();
	};
	rc.kick_ctx = &st;
	auto r = ShmRemote::create(rc, GFP_KERNEL);
	/* (the doorbell's handler is the remote's from here on) */
	if (r.is_error())
		return 12;
	keel::UniquePtr<ShmRemote> remote = keel::move(r.value());
	if (remote->publish().is_error())
		return 13;
	s64 deadline = keel::ktime_get_ns() + timeout_ns;
	int rc_exit = 0;
	while (!st.host_gone.load()) {
		if (keel::ktime_get_ns() > deadline) {
			rc_exit = 14;
			break;
		}
		if (remote->host_reset(0)) {
			remote->drop_queues(0);
			auto w = remote->wait_driver_ok(0, keel::ms_to_ns(50));
			if (w.is_error() && w.error().to_errno() != -ETIMEDOUT) {
				rc_exit = 15;
				break;
			}
			continue;
		}
		u32 seen = st.kicks.load();
		auto e = remote_echo(*remote);
		if (e.is_error()) {
			/* A host that reset under us: start over; anything else is a failure. */
			if (remote->host_reset(0))
				continue;
			fprintf(stderr, "remote: echo failed: %d\n", e.error().to_errno());
			rc_exit = 16;
			break;
		}
		if (e.value() == 0)
			(void)st.wq.wait_event_timeout(
				[&] { return st.kicks.load() != seen || st.host_gone.load(); }, keel::ms_to_ns(5));
	}
	remote.reset();
	return rc_exit;
}

/* fork + exec of this program as the remote: safe in a process that already has threads. */
inline pid_t spawn_self(const char *const *args)
{
	pid_t pid = fork();
	if (pid == 0) {
		execv("/proc/self/exe", const_cast<char *const *>(args));
		_exit(127);
	}
	return pid;
}

} // namespace shmpeer

#endif
