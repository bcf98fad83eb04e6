// SPDX-License-Identifier: GPL-2.0
/*
 * Test support (hosted only): the host driver and the remote process of
 * the two-process programs. See <test_support/shm_peer.h>.
 */
#include <test_support/shm_peer.h>

namespace shmpeer {

constinit HostDriver *s_host_drv = nullptr;

void HostDriver::rx_done(VirtQueue &vq)
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

void HostDriver::tx_done(VirtQueue &vq)
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
			d->tx_free[d->tx_nfree++] =
				u32((static_cast<u8 *>(r.value().token) - d->tx_buf(0)) / BUF);
		}
	}
	d->wq.wake_up();
}

Result<void> HostDriver::post_rx(u8 *p)
{
	Sg sg = TRY(Sg::from(*shm_transport_region(*rx->vdev()), p, BUF));
	return rx->add_inbuf(keel::Span<const Sg>(&sg, 1), p, GFP_ATOMIC);
}

Result<keel::UniquePtr<HostDriver>> HostDriver::probe(VirtioDevice &vdev)
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

void HostDriver::remove(VirtioDevice &vdev)
{
	vdev.reset();
	vdev.del_vqs();
	shm_dma_free(vdev, bufs);
	__atomic_store_n(&s_host_drv, nullptr, __ATOMIC_RELEASE);
}

Result<void> HostDriver::send_burst(u32 n, u32 seed, s64 timeout_ns)
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
				fprintf(stderr,
					"host: echo %u: len %u byte 0x%x seed %u, want %u 0x%x "
					"%u\n",
					got, rx_len[k], p[0], s, BUF, u8(seed + got), seed);
				return keel::err(-EIO);
			}
			TRY(post_rx(p));
		}
		rx_count = 0;
		TRY(rx->kick());
	}
	return keel::ok();
}

constinit VirtioDriver s_host_driver{ driver_for<HostDriver>, "shm_peer_host" };

int run_remote(const char *sock, bool event_idx, s64 timeout_ns)
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
				[&] { return st.kicks.load() != seen || st.host_gone.load(); },
				keel::ms_to_ns(5));
	}
	remote.reset();
	return rc_exit;
}

pid_t spawn_self(const char *const *args)
{
	pid_t pid = fork();
	if (pid == 0) {
		execv("/proc/self/exe", const_cast<char *const *>(args));
		_exit(127);
	}
	return pid;
}

} // namespace shmpeer
