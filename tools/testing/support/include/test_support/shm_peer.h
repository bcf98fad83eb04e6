/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test support (hosted only): the two roles of the two-process programs
 * (the end-to-end test and the benchmark), over shmlink:
 *  - the host: a small virtio driver (rx = vq 0, tx = vq 1, as rpmsg) bound
 *    to the ShmHost's device, collecting used buffers in its callbacks;
 *  - the remote: a ShmRemote that echoes every buffer the host sends into a
 *    buffer the host posted, until the host goes away.
 * Hosted only (POSIX); not a KUnit test.
 */
#ifndef TEST_SUPPORT_SHM_PEER_H
#define TEST_SUPPORT_SHM_PEER_H

#include <keel/doorbell.h>
#include <keel/log.h>
#include <keel/spinlock.h>
#include <keel/time.h>
#include <keel/wait.h>
#include <virtio/virtio_shm.h>

#include <shmlink.h>
#include <test_support/vring_echo.h>

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
extern HostDriver *s_host_drv;

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
	static void rx_done(VirtQueue &vq);
	static void tx_done(VirtQueue &vq);
	Result<void> post_rx(u8 *p) REQUIRES(lock);
	static Result<keel::UniquePtr<HostDriver>> probe(VirtioDevice &vdev);
	void remove(VirtioDevice &vdev);

	/*
	 * send_burst() - send @n buffers (stamped @seed + i) with one kick, wait
	 * for @n echoes, check and repost them. -EIO on any mismatch, -ETIMEDOUT.
	 */
	Result<void> send_burst(u32 n, u32 seed, s64 timeout_ns);
};

extern VirtioDriver s_host_driver;

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
int run_remote(const char *sock, bool event_idx, s64 timeout_ns);

/* fork + exec of this program as the remote: safe in a process that already has threads. */
pid_t spawn_self(const char *const *args);

} // namespace shmpeer

#endif
