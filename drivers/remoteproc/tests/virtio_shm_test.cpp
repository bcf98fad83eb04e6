// SPDX-License-Identifier: GPL-2.0
/*
 * The shared-memory transport end to end in one process: a host (ShmHost,
 * a virtio driver bound through the bus) and a remote (ShmRemote, echoing
 * device-side queues) over one region and a deferred loopback doorbell.
 * Negotiation, DRIVER_OK, buffers both ways, host restart and remote
 * restart with fresh indices, a crash, and hostile tables and placements.
 */
#include <keel/dma_stream.h>
#include <keel/log.h>
#include <keel/loopback_link.h>
#include <keel/test.h>
#include <keel/thread.h>
#include <keel/time.h>
#include <keel/wait.h>
#include <virtio/virtio_shm.h>

#include <test_support/vring_echo.h>

using namespace keel;
using namespace keel::test;
using namespace virtio;

namespace {

/* A device id nobody else drives, so that no real driver binds in the test binary. */
constexpr u32 TEST_DEVICE_ID = 0x7e57;
constexpr size_t REGION_SIZE = 128 * 1024;
constexpr u32 NUM = 16;
constexpr u32 BUF = 256;
constexpr u32 NBUF = 8;
const s64 TIMEOUT = ms_to_ns(2000);

/* --- host side: a small virtio driver with an rx and a tx queue --- */

struct ShmTestDriver;
/* The bound instance, for the test body (one at a time). */
constinit ShmTestDriver *s_drv_data = nullptr;

struct ShmTestDriver {
	static constexpr VirtioDeviceId id_table[] = { { TEST_DEVICE_ID, VIRTIO_DEV_ANY_ID }, {} };
	static constexpr unsigned int feature_table[] = { 0 };

	VirtQueue *rx = nullptr;
	VirtQueue *tx = nullptr;
	ShmAlloc bufs;
	/*
	 * Serialises every call on the queues: the test thread adds and kicks,
	 * the callbacks (the doorbell's context) collect used buffers.
	 */
	SpinLock lock{ "shm_test_driver_lock", KEEL_LOCK_KEY() };
	u8 *rx_got[NBUF] GUARDED_BY(lock) = {};
	u32 rx_len[NBUF] GUARDED_BY(lock) = {};
	u32 rx_count GUARDED_BY(lock) = 0;
	u32 tx_done_count GUARDED_BY(lock) = 0;
	bool bad GUARDED_BY(lock) = false;
	WaitQueue wq{ "shm_test_driver_wq", KEEL_LOCK_KEY() };

	u8 *rx_buf(u32 i) const { return static_cast<u8 *>(bufs.cpu) + i * BUF; }
	u8 *tx_buf(u32 i) const { return static_cast<u8 *>(bufs.cpu) + (NBUF + i) * BUF; }

	/* Atomic context: collect what the remote returned. */
	static void rx_done(VirtQueue &vq)
	{
		ShmTestDriver *d = vq.priv<ShmTestDriver>();
		{
			Guard g{ d->lock };
			for (u32 n = 0; n < NUM; n++) {
				auto r = vq.get_buf();
				if (r.is_error() || d->rx_count == NBUF) {
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
		ShmTestDriver *d = vq.priv<ShmTestDriver>();
		{
			Guard g{ d->lock };
			for (u32 n = 0; n < NUM; n++) {
				auto r = vq.get_buf();
				if (r.is_error()) {
					d->bad = true;
					break;
				}
				if (!r.value())
					break;
				d->tx_done_count++;
			}
		}
		d->wq.wake_up();
	}

	Result<void> post_rx(u32 i) REQUIRES(lock)
	{
		Sg sg = TRY(Sg::from(*shm_transport_region(*rx->vdev()), rx_buf(i), BUF));
		return rx->add_inbuf(Span<const Sg>(&sg, 1), rx_buf(i), GFP_ATOMIC);
	}

	static Result<UniquePtr<ShmTestDriver>> probe(VirtioDevice &vdev)
	{
		UniquePtr<ShmTestDriver> d = TRY(make_unique<ShmTestDriver>(GFP_KERNEL));
		/* Linux rpmsg: vq 0 is rx ("input"), vq 1 is tx ("output"). */
		const VqInfo infos[] = { { "input", &rx_done }, { "output", &tx_done } };
		VirtQueue *vqs[2] = {};
		d->bufs = TRY(shm_dma_alloc(vdev, 2 * NBUF * BUF, 64));
		TRY(vdev.find_vqs(Span<const VqInfo>(infos, 2), Span<VirtQueue *>(vqs, 2)));
		d->rx = vqs[0];
		d->tx = vqs[1];
		d->rx->set_priv(d.get());
		d->tx->set_priv(d.get());
		{
			Guard g{ d->lock };
			for (u32 i = 0; i < NBUF; i++)
				TRY(d->post_rx(i));
		}
		vdev.device_ready();
		{
			Guard g{ d->lock };
			TRY(d->rx->kick());
		}
		s_drv_data = d.get();
		return d;
	}
	void remove(VirtioDevice &vdev)
	{
		vdev.reset();
		vdev.del_vqs();
		shm_dma_free(vdev, bufs);
		s_drv_data = nullptr;
	}
};

constinit VirtioDriver s_shm_test_driver{ driver_for<ShmTestDriver>, "virtio_shm_test" };

/* --- remote side: echo every tx buffer into an rx buffer --- */

struct Remote {
	Atomic<u32> kicks{ 0 };
	static void kick(void *ctx, u32, u32) { static_cast<Remote *>(ctx)->kicks.fetch_add(1); }
};

/* One echo pass of the remote (vring_echo.h). */
inline Result<u32> remote_echo(ShmRemote &r)
{
	return virtio::test::remote_echo<BUF>(r, NUM);
}

struct Fixture {
	u8 *mem = nullptr;
	ShmRegion region;
	/* Streaming DMA mappings of mem, one per side (dma_streams fixtures only). */
	UniquePtr<DmaStream> host_dma;
	UniquePtr<DmaStream> remote_dma;
	/* region as each side maintains it. */
	ShmRegion host_region;
	ShmRegion remote_region;
	LoopbackLink *link = nullptr;
	UniquePtr<ShmHost> host;
	UniquePtr<ShmRemote> remote;
	Remote rstate;
	Atomic<u32> crashes{ 0 };
};

ShmRemoteConfig remote_config(Fixture &f, u32 num = NUM)
{
	ShmRemoteConfig c;
	c.name = "test-remote";
	c.region = f.remote_region;
	c.doorbell = &f.link->b();
	c.num_vdevs = 1;
	c.vdevs[0].id = TEST_DEVICE_ID;
	c.vdevs[0].notifyid = rproc::FW_RSC_ADDR_ANY;
	c.vdevs[0].dfeatures = 1u << VIRTIO_RING_F_EVENT_IDX;
	c.vdevs[0].num_of_vrings = 2;
	c.vdevs[0].vring[0] = { rproc::FW_RSC_ADDR_ANY, SHM_CACHE_LINE, num, 0, 0 };
	c.vdevs[0].vring[1] = { rproc::FW_RSC_ADDR_ANY, SHM_CACHE_LINE, num, 1, 0 };
	c.kick = &Remote::kick;
	c.kick_ctx = &f.rstate;
	return c;
}

void fixture_free(void *p)
{
	Fixture *f = static_cast<Fixture *>(p);
	f->host.reset();
	f->remote.reset();
	if (f->link) {
		f->link->shutdown();
		delete f->link;
	}
	/* Unmapped before the memory goes. */
	f->host_dma.reset();
	f->remote_dma.reset();
	kfree(f->mem);
	unregister_virtio_driver(s_shm_test_driver);
	virtio_exit();
	delete f;
}

/*
 * Direct doorbells by default: both roles then run on the test thread, as
 * two processors would run concurrently but without ThreadSanitizer seeing
 * plain shared-memory accesses race (ShmRegion's loads and stores are
 * volatile, ordered by DMA barriers TSan does not model). The deferred mode,
 * with the host's interrupts on a worker, has its own case.
 */
Fixture *fixture(Test &t, bool with_remote = true,
		 LoopbackLink::Mode mode = LoopbackLink::Mode::Direct,
		 const ShmCacheOps *host_cache = nullptr, bool dma_streams = false)
{
	if (virtio_init().is_error())
		return nullptr;
	if (register_virtio_driver(s_shm_test_driver).is_error()) {
		virtio_exit();
		return nullptr;
	}
	Fixture *f = new (GFP_KERNEL) Fixture();
	if (!f)
		return nullptr;
	f->mem = static_cast<u8 *>(kzalloc(REGION_SIZE, GFP_KERNEL));
	f->link = new (GFP_KERNEL) LoopbackLink(mode);
	if (t.add_cleanup(&fixture_free, f).is_error() || !f->mem || !f->link)
		return nullptr;
	f->region = ShmRegion(f->mem, REGION_SIZE, 0);
	f->host_region = f->region.with_cache_ops(host_cache);
	f->remote_region = f->region;
	if (dma_streams) {
		auto hd = DmaStream::map(nullptr, f->mem, REGION_SIZE, GFP_KERNEL);
		auto rd = DmaStream::map(nullptr, f->mem, REGION_SIZE, GFP_KERNEL);
		if (hd.is_error() || rd.is_error())
			return nullptr;
		f->host_dma = move(hd.value());
		f->remote_dma = move(rd.value());
		f->host_region = f->region.with_cache_ops(&f->host_dma->cache_ops());
		f->remote_region = f->region.with_cache_ops(&f->remote_dma->cache_ops());
	}
	ShmHostConfig hc;
	hc.name = "test-host";
	hc.region = f->host_region;
	hc.doorbell = &f->link->a();
	hc.crashed = [](void *ctx) { static_cast<Fixture *>(ctx)->crashes.fetch_add(1); };
	hc.crashed_ctx = f;
	auto h = ShmHost::create(hc, GFP_KERNEL);
	if (h.is_error())
		return nullptr;
	f->host = move(h.value());
	if (with_remote) {
		auto r = ShmRemote::create(remote_config(*f), GFP_KERNEL);
		if (r.is_error())
			return nullptr;
		f->remote = move(r.value());
	}
	return f;
}

/* Host sends @n buffers stamped with @seed; the remote echoes; the host checks them. */
void exchange(Test &t, Fixture &f, u32 n, u32 seed)
{
	ShmTestDriver *d = s_drv_data;
	ASSERT_NOT_NULL(t, d);
	for (u32 i = 0; i < n; i++) {
		u32 slot = i % NBUF;
		memset(d->tx_buf(slot), int((seed + i) & 0xff), BUF);
		auto sg = Sg::from(f.region, d->tx_buf(slot), BUF);
		ASSERT_OK(t, sg);
		/* The driver hands the data over, as the DMA API's map/sync would. */
		ASSERT_OK(t, f.host_region.clean(size_t(d->tx_buf(slot) - f.mem), BUF));
		{
			Guard g{ d->lock };
			ASSERT_OK(t, d->tx->add_outbuf(Span<const Sg>(&sg.value(), 1),
						       d->tx_buf(slot), GFP_ATOMIC));
			ASSERT_OK(t, d->tx->kick());
		}

		/* The remote serves once the kick arrives (the loopback delivers on a worker). */
		u32 echoed = 0;
		s64 deadline = ktime_get_ns() + TIMEOUT;
		while (!echoed && ktime_get_ns() < deadline) {
			auto r = remote_echo(*f.remote);
			ASSERT_OK(t, r);
			echoed = r.value();
			if (!echoed)
				msleep(1);
		}
		ASSERT_EQ(t, echoed, 1u);

		auto have_rx = [d] {
			Guard g{ d->lock };
			return d->rx_count > 0 || d->bad;
		};
		(void)d->wq.wait_event_timeout(have_rx, TIMEOUT);
		Guard g{ d->lock };
		ASSERT_FALSE(t, d->bad);
		ASSERT_EQ(t, d->rx_count, 1u);
		u8 *p = d->rx_got[0];
		d->rx_count = 0;
		EXPECT_OK(t, f.host_region.invalidate(size_t(p - f.mem), BUF));
		EXPECT_EQ(t, d->rx_len[0], BUF);
		EXPECT_EQ(t, p[0], u8(seed + i));
		EXPECT_EQ(t, p[BUF - 1], u8(seed + i));
		ASSERT_OK(t, d->post_rx(u32((p - d->rx_buf(0)) / BUF)));
		ASSERT_OK(t, d->rx->kick());
	}
	/* Every tx buffer comes back (event idx may batch the interrupts). */
	auto all_tx = [d, n] {
		Guard g{ d->lock };
		return d->tx_done_count >= n;
	};
	if (!d->wq.wait_event_timeout(all_tx, TIMEOUT)) {
		/* With event idx the last interrupt may be suppressed: collect by hand. */
		ShmTestDriver::tx_done(*d->tx);
	}
	Guard g{ d->lock };
	EXPECT_EQ(t, d->tx_done_count, n);
	d->tx_done_count = 0;
}

u16 used_idx(Fixture &f, u32 vring)
{
	const rproc::RscVring &rv = f.host->table().vdevs[0].vring[vring];
	auto layout = VringLayout::compute(rv.num, rv.align);
	if (layout.is_error())
		return 0xffff;
	return f.region.read<u16>(rv.da + layout.value().used_idx()).value_or(0xffff);
}

/* The remote boots again: a new instance over the same region publishes its table. */
Result<void> reboot_remote(Fixture &f)
{
	f.remote.reset();
	f.remote = TRY(ShmRemote::create(remote_config(f), GFP_KERNEL));
	return f.remote->publish();
}

/* A host session up to the remote's queues: attach within @timeout, DRIVER_OK seen. */
Result<void> connect(Fixture &f, s64 timeout)
{
	TRY(f.host->attach(timeout));
	return f.remote->wait_driver_ok(0, TIMEOUT);
}

/* A fixture with a host session up (attach within @timeout); nullptr on failure. */
Fixture *connected(Test &t, s64 timeout)
{
	Fixture *f = fixture(t);
	if (!f || f->remote->publish().is_error() || connect(*f, timeout).is_error())
		return nullptr;
	return f;
}

int suite_init()
{
	log_set_echo(false);
	return 0;
}
void suite_exit()
{
	log_set_echo(true);
}

void host_and_remote_negotiate_and_reach_driver_ok(Test &t)
{
	Fixture *f = fixture(t);
	ASSERT_NOT_NULL(t, f);
	ASSERT_OK(t, f->remote->publish());
	ASSERT_OK(t, f->host->attach(TIMEOUT));
	ASSERT_EQ(t, f->host->num_vdevs(), 1u);
	ASSERT_NOT_NULL(t, s_drv_data);
	ASSERT_OK(t, f->remote->wait_driver_ok(0, TIMEOUT));
	EXPECT_TRUE(t, f->remote->status(0) & VIRTIO_CONFIG_S_DRIVER_OK);
	/* The host acknowledged event idx (the core implements it) and wrote it back. */
	EXPECT_EQ(t, f->remote->gfeatures(0), 1u << VIRTIO_RING_F_EVENT_IDX);
	EXPECT_TRUE(t, f->host->vdev(0)->has_feature(VIRTIO_RING_F_EVENT_IDX));
	/* The device offers its drivers the doorbell that interrupts them. */
	EXPECT_EQ(t, f->host->vdev(0)->doorbell(), static_cast<keel::Doorbell *>(&f->link->a()));
	/* Vrings placed by the host inside the region, past the table, notify ids 0 and 1. */
	const rproc::RscVdev &v = f->host->table().vdevs[0];
	EXPECT_NE(t, v.vring[0].da, rproc::FW_RSC_ADDR_ANY);
	EXPECT_NE(t, v.vring[1].da, v.vring[0].da);
	EXPECT_EQ(t, v.vring[0].notifyid, 0u);
	EXPECT_EQ(t, v.vring[1].notifyid, 1u);
	EXPECT_FALSE(t, f->remote->host_reset(0));
	EXPECT_NOT_NULL(t, f->remote->vringh(0, 0));
}

void buffers_flow_both_ways(Test &t)
{
	Fixture *f = fixture(t);
	ASSERT_NOT_NULL(t, f);
	ASSERT_OK(t, f->remote->publish());
	ASSERT_OK(t, f->host->attach(TIMEOUT));
	ASSERT_OK(t, f->remote->wait_driver_ok(0, TIMEOUT));
	exchange(t, *f, 3 * NUM, 1);
	EXPECT_EQ(t, used_idx(*f, 1), u16(3 * NUM));
	EXPECT_GT(t, f->rstate.kicks.load(), 0u);
}

/*
 * Cacheable memory shared through streaming DMA mappings, one per side: the
 * rings, the transport and the driver maintain it at every ownership
 * transfer through the mapping's syncs (on a non-coherent device, e.g. the
 * kernel's default DMA device on arm64, real cleans and invalidates to the
 * point of coherency), and the data still flows. Per message each side
 * hands over at least a descriptor or used element, an index, and the
 * payload, and takes back at least an index and the payload.
 */
void dma_streams_sync_each_ownership_transfer(Test &t)
{
	Fixture *f = fixture(t, true, LoopbackLink::Mode::Direct, nullptr, true);
	ASSERT_NOT_NULL(t, f);
	t.info("DMA device: %s", f->host_dma->coherent()
					 ? "coherent (syncs do nothing)"
					 : "non-coherent (syncs clean and invalidate)");
	ASSERT_OK(t, f->remote->publish());
	ASSERT_OK(t, f->host->attach(TIMEOUT));
	ASSERT_OK(t, f->remote->wait_driver_ok(0, TIMEOUT));
	u64 hc = f->host_dma->cleans(), hi = f->host_dma->invalidates();
	u64 rc = f->remote_dma->cleans(), ri = f->remote_dma->invalidates();
	constexpr u32 n = 2 * NUM;
	exchange(t, *f, n, 9);
	u64 dhc = f->host_dma->cleans() - hc, dhi = f->host_dma->invalidates() - hi;
	u64 drc = f->remote_dma->cleans() - rc, dri = f->remote_dma->invalidates() - ri;
	t.info("per message: host %llu cleans, %llu invalidates; remote %llu, %llu",
	       (unsigned long long)(dhc / n), (unsigned long long)(dhi / n),
	       (unsigned long long)(drc / n), (unsigned long long)(dri / n));
	EXPECT_GE(t, dhc, u64(3 * n));
	EXPECT_GE(t, dhi, u64(2 * n));
	EXPECT_GE(t, drc, u64(3 * n));
	EXPECT_GE(t, dri, u64(2 * n));
	EXPECT_EQ(t, used_idx(*f, 1), u16(n));
}

void buffers_flow_with_deferred_doorbell(Test &t)
{
	Fixture *f = fixture(t, true, LoopbackLink::Mode::Deferred);
	ASSERT_NOT_NULL(t, f);
	ASSERT_OK(t, f->remote->publish());
	ASSERT_OK(t, f->host->attach(TIMEOUT));
	ASSERT_OK(t, f->remote->wait_driver_ok(0, TIMEOUT));
	exchange(t, *f, 2 * NUM, 5);
	f->link->flush();
	EXPECT_EQ(t, used_idx(*f, 1), u16(2 * NUM));
}

void host_restart_starts_from_fresh_indices(Test &t)
{
	Fixture *f = fixture(t);
	ASSERT_NOT_NULL(t, f);
	ASSERT_OK(t, f->remote->publish());
	for (u32 session = 0; session < 3; session++) {
		ASSERT_OK(t, f->host->attach(TIMEOUT));
		EXPECT_EQ(t, f->host->host_gen(), session + 1);
		ASSERT_OK(t, f->remote->wait_driver_ok(0, TIMEOUT));
		exchange(t, *f, 5, 10 * session);
		/* No index survives from the previous session. */
		EXPECT_EQ(t, used_idx(*f, 1), 5u);
		f->host->detach();
		EXPECT_TRUE(t, f->remote->host_reset(0));
		f->remote->drop_queues(0);
		EXPECT_NULL(t, f->remote->vringh(0, 0));
	}
}

void remote_restart_after_region_reset(Test &t)
{
	Fixture *f = fixture(t);
	ASSERT_NOT_NULL(t, f);
	ASSERT_OK(t, f->remote->publish());
	u32 gen = f->remote->remote_gen();
	ASSERT_OK(t, f->host->attach(TIMEOUT));
	ASSERT_OK(t, f->remote->wait_driver_ok(0, TIMEOUT));
	exchange(t, *f, 4, 3);
	/* The remote "crashes": the host tears down, wipes the region, the remote boots again. */
	f->host->detach();
	ASSERT_OK(t, f->host->reset_region());
	ASSERT_OK(t, reboot_remote(*f));
	EXPECT_EQ(t, f->remote->remote_gen(), 1u);
	(void)gen;
	ASSERT_OK(t, connect(*f, TIMEOUT));
	exchange(t, *f, 4, 7);
	EXPECT_EQ(t, used_idx(*f, 1), 4u);
}

void peer_down_breaks_queues_at_once(Test &t)
{
	Fixture *f = fixture(t);
	ASSERT_NOT_NULL(t, f);
	ASSERT_OK(t, f->remote->publish());
	ASSERT_OK(t, f->host->attach(TIMEOUT));
	ASSERT_OK(t, f->remote->wait_driver_ok(0, TIMEOUT));
	f->link->cut();
	EXPECT_TRUE(t, f->host->crashed());
	EXPECT_EQ(t, f->crashes.load(), 1u);
	ShmTestDriver *d = s_drv_data;
	ASSERT_NOT_NULL(t, d);
	auto sg = Sg::from(f->region, d->tx_buf(0), BUF);
	ASSERT_OK(t, sg);
	{
		Guard g{ d->lock };
		EXPECT_TRUE(t, d->tx->is_broken());
		EXPECT_ERR(
			t,
			d->tx->add_outbuf(Span<const Sg>(&sg.value(), 1), d->tx_buf(0), GFP_ATOMIC),
			-EIO);
	}
	f->host->detach();
}

/*
 * The resource table's device addresses are 32 bits: a region that has
 * addresses beyond them is refused when the host is created (vring and
 * carveout addresses were silently truncated, and the remote refused
 * them forever).
 */
void host_refuses_a_region_beyond_32_bit_device_addresses(Test &t)
{
	void *mem = t.alloc(2 * 4096);
	ASSERT_NOT_NULL(t, mem);
	auto link = make_unique<LoopbackLink>(GFP_KERNEL);
	ASSERT_OK(t, link);
	ShmHostConfig hc;
	hc.name = "test-host";
	hc.doorbell = &link.value()->a();
	const struct {
		u64 da;
		bool ok;
	} cases[] = { { 0xffffe000, true }, { 0xfffff000, false }, { 0x100000000, false } };
	for (const auto &c : cases) {
		hc.region = ShmRegion(mem, 2 * 4096, c.da);
		u64 since = log_seq();
		auto h = ShmHost::create(hc, GFP_KERNEL);
		EXPECT_EQ(t, h.is_ok(), c.ok);
		if (!c.ok) {
			EXPECT_ERR(t, h, -EINVAL);
			EXPECT_TRUE(t, log_contains_since(since, "beyond the 32 bits",
							  KEEL_LOGLEVEL_ERR));
		}
	}
}

void attach_times_out_without_a_table(Test &t)
{
	Fixture *f = fixture(t, false);
	ASSERT_NOT_NULL(t, f);
	u64 since = log_seq();
	EXPECT_ERR(t, f->host->attach(ms_to_ns(20)), -ETIMEDOUT);
	EXPECT_TRUE(t, log_contains_since(since, "no resource table", KEEL_LOGLEVEL_ERR));
	EXPECT_FALSE(t, f->host->attached());
}

/* The remote publishes, then corrupts the header or table before the host attaches. */
void write32(Fixture &f, size_t off, u32 v)
{
	(void)f.region.write<le32>(off, cpu_to_le32(v));
}

void host_refuses_bad_header(Test &t)
{
	Fixture *f = fixture(t);
	ASSERT_NOT_NULL(t, f);
	ASSERT_OK(t, f->remote->publish());
	u64 since = log_seq();
	write32(*f, __builtin_offsetof(ShmHeader, rsc_offset), REGION_SIZE - 8);
	EXPECT_ERR(t, f->host->attach(TIMEOUT), -EINVAL);
	EXPECT_TRUE(t, log_contains_since(since, "bad shm header", KEEL_LOGLEVEL_ERR));
	ASSERT_OK(t, f->remote->publish());
	write32(*f, __builtin_offsetof(ShmHeader, rsc_size), SHM_MAX_TABLE + 4);
	EXPECT_ERR(t, f->host->attach(TIMEOUT), -EINVAL);
	EXPECT_FALSE(t, f->host->attached());
	EXPECT_EQ(t, f->host->num_vdevs(), 0u);
}

void host_refuses_vring_outside_region(Test &t)
{
	Fixture *f = fixture(t);
	ASSERT_NOT_NULL(t, f);
	ASSERT_OK(t, f->remote->publish());
	/* vdev entry at table offset 20+4 (one entry, offsets padded to 24): vring0.da */
	size_t vdev = SHM_DEFAULT_RSC_OFFSET + 24 + 4;
	write32(*f, rproc::vdev_vring_field_da(vdev, 0), REGION_SIZE);
	u64 since = log_seq();
	EXPECT_ERR(t, f->host->attach(TIMEOUT), -EINVAL);
	EXPECT_TRUE(t, log_contains_since(since, "outside the shared region", KEEL_LOGLEVEL_ERR));
	EXPECT_FALSE(t, f->host->attached());
}

void host_refuses_vring_over_the_table(Test &t)
{
	Fixture *f = fixture(t);
	ASSERT_NOT_NULL(t, f);
	ASSERT_OK(t, f->remote->publish());
	size_t vdev = SHM_DEFAULT_RSC_OFFSET + 24 + 4;
	write32(*f, rproc::vdev_vring_field_da(vdev, 0), 0);
	u64 since = log_seq();
	EXPECT_ERR(t, f->host->attach(TIMEOUT), -EINVAL);
	EXPECT_TRUE(t, log_contains_since(since, "overlaps another resource", KEEL_LOGLEVEL_ERR));
}

void host_refuses_region_too_small_for_vrings(Test &t)
{
	Fixture *f = fixture(t, false);
	ASSERT_NOT_NULL(t, f);
	auto r = ShmRemote::create(remote_config(*f, 4096), GFP_KERNEL);
	ASSERT_OK(t, r);
	f->remote = move(r.value());
	ASSERT_OK(t, f->remote->publish());
	u64 since = log_seq();
	EXPECT_ERR(t, f->host->attach(TIMEOUT), -ENOMEM);
	EXPECT_TRUE(t, log_contains_since(since, "no room for vdev0", KEEL_LOGLEVEL_ERR));
	EXPECT_FALSE(t, f->host->attached());
}

void remote_refuses_host_placement_outside_region(Test &t)
{
	Fixture *f = fixture(t);
	ASSERT_NOT_NULL(t, f);
	ASSERT_OK(t, f->remote->publish());
	ASSERT_OK(t, f->host->attach(TIMEOUT));
	/* A hostile (or buggy) host moves vring 1 past the end after DRIVER_OK. */
	size_t vdev = SHM_DEFAULT_RSC_OFFSET + f->host->table().vdevs[0].offset;
	write32(*f, rproc::vdev_vring_field_da(vdev, 1), REGION_SIZE - 64);
	u64 since = log_seq();
	EXPECT_ERR(t, f->remote->wait_driver_ok(0, TIMEOUT), -EINVAL);
	EXPECT_TRUE(t, log_contains_since(since, "outside the shared region", KEEL_LOGLEVEL_ERR));
	EXPECT_NULL(t, f->remote->vringh(0, 0));
	/* ... or over the table. */
	write32(*f, rproc::vdev_vring_field_da(vdev, 1), 0);
	EXPECT_ERR(t, f->remote->wait_driver_ok(0, TIMEOUT), -EINVAL);
	EXPECT_TRUE(t, log_contains_since(since, "over the header or table", KEEL_LOGLEVEL_ERR));
}

/*
 * The remote uses only features it offered: a host that acknowledges
 * event idx the remote never offered (a hostile or buggy host writing
 * gfeatures) gets rings without it, and a log line.
 */
void remote_ignores_features_it_never_offered(Test &t)
{
	Fixture *f = fixture(t, false);
	ASSERT_NOT_NULL(t, f);
	ShmRemoteConfig c = remote_config(*f);
	c.vdevs[0].dfeatures = 0;
	auto r = ShmRemote::create(c, GFP_KERNEL);
	ASSERT_OK(t, r);
	f->remote = move(r.value());
	ASSERT_OK(t, f->remote->publish());
	ASSERT_OK(t, f->host->attach(TIMEOUT));
	EXPECT_FALSE(t, f->host->vdev(0)->has_feature(VIRTIO_RING_F_EVENT_IDX));
	size_t vdev = SHM_DEFAULT_RSC_OFFSET + f->host->table().vdevs[0].offset;
	write32(*f, rproc::vdev_field_gfeatures(vdev), 1u << VIRTIO_RING_F_EVENT_IDX);
	u64 since = log_seq();
	ASSERT_OK(t, f->remote->wait_driver_ok(0, TIMEOUT));
	EXPECT_EQ(t, f->remote->gfeatures(0), 0u);
	ASSERT_NOT_NULL(t, f->remote->vringh(0, 0));
	EXPECT_FALSE(t, f->remote->vringh(0, 0)->event_idx());
	EXPECT_FALSE(t, f->remote->vringh(0, 1)->event_idx());
	EXPECT_TRUE(t, log_contains_since(since, "never offered"));
}

/*
 * The remote keeps the host's vrings off its table using the table size
 * it built, not the header's rsc_size, which the host can rewrite: with
 * rsc_size 0 a vring at the table's own offset must still be refused.
 */
void remote_refuses_vring_over_its_table_whatever_the_header_says(Test &t)
{
	Fixture *f = fixture(t);
	ASSERT_NOT_NULL(t, f);
	ASSERT_OK(t, f->remote->publish());
	ASSERT_OK(t, f->host->attach(TIMEOUT));
	size_t vdev = SHM_DEFAULT_RSC_OFFSET + f->host->table().vdevs[0].offset;
	write32(*f, __builtin_offsetof(ShmHeader, rsc_size), 0);
	write32(*f, rproc::vdev_vring_field_da(vdev, 1), SHM_DEFAULT_RSC_OFFSET);
	u64 since = log_seq();
	EXPECT_ERR(t, f->remote->wait_driver_ok(0, TIMEOUT), -EINVAL);
	EXPECT_TRUE(t, log_contains_since(since, "over the header or table", KEEL_LOGLEVEL_ERR));
	EXPECT_NULL(t, f->remote->vringh(0, 1));
}

/* Two vrings of one vdev on top of each other: the remote refuses both. */
void remote_refuses_vrings_on_top_of_each_other(Test &t)
{
	Fixture *f = fixture(t);
	ASSERT_NOT_NULL(t, f);
	ASSERT_OK(t, f->remote->publish());
	ASSERT_OK(t, f->host->attach(TIMEOUT));
	const rproc::RscVdev &v = f->host->table().vdevs[0];
	size_t vdev = SHM_DEFAULT_RSC_OFFSET + v.offset;
	write32(*f, rproc::vdev_vring_field_da(vdev, 1), v.vring[0].da);
	u64 since = log_seq();
	EXPECT_ERR(t, f->remote->wait_driver_ok(0, TIMEOUT), -EINVAL);
	EXPECT_TRUE(t, log_contains_since(since, "over vring0", KEEL_LOGLEVEL_ERR));
	EXPECT_NULL(t, f->remote->vringh(0, 0));
}

/*
 * Non-coherent ports clean and invalidate whole cache lines: a line with
 * fields of both writers cannot be kept right (each side's write-back
 * would undo the other's). The header gives each writer its own lines.
 */
void header_gives_each_writer_its_own_cache_lines(Test &t)
{
	const size_t remote_fields[] = { __builtin_offsetof(ShmHeader, magic),
					 __builtin_offsetof(ShmHeader, version),
					 __builtin_offsetof(ShmHeader, rsc_offset),
					 __builtin_offsetof(ShmHeader, rsc_size),
					 SHM_HDR_REMOTE_GEN,
					 SHM_HDR_REMOTE_STATE,
					 SHM_HDR_SEQ,
					 SHM_HDR_IN_USE };
	const size_t host_line = SHM_HDR_HOST_GEN / SHM_CACHE_LINE;
	for (size_t off : remote_fields)
		EXPECT_NE(t, off / SHM_CACHE_LINE, host_line);
	/* And the table, the remote's, starts on a line of its own after the header. */
	EXPECT_EQ(t, SHM_DEFAULT_RSC_OFFSET % SHM_CACHE_LINE, 0u);
	EXPECT_GE(t, SHM_DEFAULT_RSC_OFFSET, sizeof(ShmHeader));
	EXPECT_EQ(t, sizeof(ShmHeader) % SHM_CACHE_LINE, 0u);
}

/*
 * The same for the vrings: with an align below the cache line the
 * driver's used_event and the device's used ring share a line. The host
 * refuses such a table (here a remote's table rewritten to align 16) and
 * a remote refuses to declare one.
 */
void transport_refuses_vrings_whose_writers_share_a_line(Test &t)
{
	Fixture *f = fixture(t);
	ASSERT_NOT_NULL(t, f);
	ASSERT_OK(t, f->remote->publish());
	size_t vdev = SHM_DEFAULT_RSC_OFFSET + 24 + 4;
	write32(*f,
		rproc::vdev_vring_off(vdev, 1) + __builtin_offsetof(rproc::FwRscVdevVring, align),
		16);
	u64 since = log_seq();
	EXPECT_ERR(t, f->host->attach(TIMEOUT), -EINVAL);
	EXPECT_TRUE(t, log_contains_since(since, "align 16", KEEL_LOGLEVEL_ERR));
	EXPECT_FALSE(t, f->host->attached());

	ShmRemoteConfig c = remote_config(*f);
	c.vdevs[0].vring[0].align = 16;
	since = log_seq();
	EXPECT_ERR(t, ShmRemote::create(c, GFP_KERNEL), -EINVAL);
	EXPECT_TRUE(t, log_contains_since(since, "align 16", KEEL_LOGLEVEL_ERR));
}

/*
 * Hostile remotes, interleaved deterministically: the host's region
 * carries cache ops (ShmCacheOps) that run the "remote" exactly when the
 * host invalidates the table it is about to copy, i.e. between its read of
 * the header and its copy of the table.
 */
struct Interposer {
	Fixture *f = nullptr;
	void (*on_table)(Interposer &ip) = nullptr;
	u32 calls = 0;
	u32 cap = 100000;
	void *arg = nullptr;
	ShmCacheOps ops = {};
};

void interposer_invalidate(void *ctx, const void *p, size_t len)
{
	auto *ip = static_cast<Interposer *>(ctx);
	/* The table copy: everything the host invalidates past the header. */
	if (p < ip->f->mem + sizeof(ShmHeader) || ip->calls >= ip->cap)
		return;
	ip->calls++;
	ip->on_table(*ip);
}

/*
 * Allocated before the fixture, so that it outlives the host whose region
 * points at its ops (cleanups run last-added first).
 */
Interposer *interposer_new(Test &t)
{
	auto *ip = new (GFP_KERNEL) Interposer();
	if (!ip ||
	    t.add_cleanup([](void *p) { delete static_cast<Interposer *>(p); }, ip).is_error())
		return nullptr;
	ip->ops = { .clean = [](void *, const void *, size_t) {},
		    .invalidate = &interposer_invalidate,
		    .ctx = ip };
	return ip;
}

/*
 * A remote that "republishes" (a new generation, the table still marked
 * ready) every time the host copies its table must not hold attach() past
 * its deadline: attach() may take the table or time out, but it returns
 * long before the remote's 100000th republication.
 */
void bump_generation(Interposer &ip)
{
	write32(*ip.f, SHM_HDR_REMOTE_GEN, 1000 + ip.calls);
}

void attach_deadline_holds_against_a_remote_that_keeps_republishing(Test &t)
{
	Interposer *ip = interposer_new(t);
	ASSERT_NOT_NULL(t, ip);
	Fixture *f = fixture(t, true, LoopbackLink::Mode::Direct, &ip->ops);
	ASSERT_NOT_NULL(t, f);
	ip->f = f;
	ip->on_table = &bump_generation;
	ASSERT_OK(t, f->remote->publish());
	Result<void> r = f->host->attach(ms_to_ns(20));
	t.info("attach: %d after %u republications", r.is_ok() ? 0 : r.error().to_errno(),
	       ip->calls);
	EXPECT_LT(t, ip->calls, ip->cap);
	if (r.is_error())
		EXPECT_EQ(t, r.error().to_errno(), -ETIMEDOUT);
}

/*
 * The same remote under the new protocol: it restarts a publish (its
 * sequence moves) every time the host copies. The host never takes a
 * copy, and says why when its deadline passes.
 */
void bump_sequence(Interposer &ip)
{
	write32(*ip.f, SHM_HDR_SEQ, 1000 + 2 * ip.calls);
}

void attach_gives_up_on_a_table_that_keeps_changing(Test &t)
{
	Interposer *ip = interposer_new(t);
	ASSERT_NOT_NULL(t, ip);
	Fixture *f = fixture(t, true, LoopbackLink::Mode::Direct, &ip->ops);
	ASSERT_NOT_NULL(t, f);
	ip->f = f;
	ip->on_table = &bump_sequence;
	ASSERT_OK(t, f->remote->publish());
	u64 since = log_seq();
	EXPECT_ERR(t, f->host->attach(ms_to_ns(20)), -ETIMEDOUT);
	EXPECT_LT(t, ip->calls, ip->cap);
	EXPECT_GT(t, ip->calls, 0u);
	EXPECT_TRUE(t, log_contains_since(since, "kept changing", KEEL_LOGLEVEL_ERR));
	EXPECT_FALSE(t, f->host->attached());
}

/*
 * A second remote B republishes over remote A's table and is frozen in
 * the middle (its table written, its header not yet), at the moment the
 * host copies the table it found ready: the host must not take that
 * copy. Once B completes, the host takes B's table.
 */
struct Frozen {
	Fixture *f = nullptr;
	ShmRemote *b = nullptr;
	size_t table_size = 0;
	Completion frozen{ "shm_test_frozen", KEEL_LOCK_KEY() };
	Atomic<bool> was_frozen{ false };
	Completion go{ "shm_test_go", KEEL_LOCK_KEY() };
	Thread *thread = nullptr;
	Atomic<int> publish_ret{ 1 };
	ShmCacheOps ops = {};
};

int publish_b(void *arg)
{
	auto *fz = static_cast<Frozen *>(arg);
	Result<void> r = fz->b->publish();
	fz->publish_ret.store(r.is_ok() ? 0 : r.error().to_errno());
	return 0;
}

/* B's cache ops: freeze when B cleans its freshly written table. */
void freeze_b(void *ctx, const void *p, size_t len)
{
	auto *fz = static_cast<Frozen *>(ctx);
	if (p != fz->f->mem + SHM_DEFAULT_RSC_OFFSET || len < sizeof(rproc::ResourceTable))
		return;
	fz->was_frozen.store(true);
	fz->frozen.complete();
	(void)fz->go.wait_timeout(ms_to_ns(5000));
}

void start_b_and_wait_until_frozen(Interposer &ip)
{
	auto *fz = static_cast<Frozen *>(ip.arg);
	if (fz->thread)
		return;
	auto th = Thread::run(publish_b, fz, "remote_b");
	if (th.is_error())
		return;
	fz->thread = th.value();
	(void)fz->frozen.wait_timeout(ms_to_ns(5000));
}

void host_never_accepts_a_table_copied_during_a_republish(Test &t)
{
	Interposer *ip = interposer_new(t);
	ASSERT_NOT_NULL(t, ip);
	Fixture *f = fixture(t, true, LoopbackLink::Mode::Direct, &ip->ops);
	ASSERT_NOT_NULL(t, f);
	ip->f = f;
	ip->on_table = &start_b_and_wait_until_frozen;
	Frozen fz;
	fz.f = f;
	ip->arg = &fz;
	fz.ops = { .clean = &freeze_b,
		   .invalidate = [](void *, const void *, size_t) {},
		   .ctx = &fz };
	LoopbackLink *lb = new (GFP_KERNEL) LoopbackLink(LoopbackLink::Mode::Direct);
	ASSERT_NOT_NULL(t, lb);
	ASSERT_OK(t, t.add_cleanup([](void *p) { delete static_cast<LoopbackLink *>(p); }, lb));
	ShmRemoteConfig cb = remote_config(*f);
	cb.region = f->region.with_cache_ops(&fz.ops);
	cb.doorbell = &lb->b();
	cb.kick = nullptr;
	cb.vdevs[0].dfeatures = 0;
	auto rb = ShmRemote::create(cb, GFP_KERNEL);
	ASSERT_OK(t, rb);
	fz.b = rb.value().get();
	ASSERT_OK(t, f->remote->publish());

	/* (No ASSERT until B's thread is stopped: it uses this frame.) */
	Result<void> r = f->host->attach(ms_to_ns(50));
	bool was_frozen = fz.was_frozen.load();
	bool accepted = r.is_ok();
	if (accepted)
		f->host->detach();
	fz.go.complete_all();
	if (fz.thread)
		fz.thread->stop();
	EXPECT_TRUE(t, was_frozen);
	EXPECT_FALSE(t, accepted);
	if (!accepted)
		EXPECT_EQ(t, r.error().to_errno(), -ETIMEDOUT);
	EXPECT_EQ(t, fz.publish_ret.load(), 0);

	/* B has finished: its table is the one the host takes now. */
	ip->cap = 0;
	ip->arg = nullptr;
	ASSERT_OK(t, f->host->attach(TIMEOUT));
	EXPECT_EQ(t, f->host->table().vdevs[0].dfeatures, 0u);
	EXPECT_EQ(t, f->host->vdev(0)->has_feature(VIRTIO_RING_F_EVENT_IDX), false);
}

/* --- leaving a host session before the host writes the next one --- */

/* vring 1's used index at the placement @rv had, read through the region. */
u16 used_idx_at(Fixture &f, const rproc::RscVring &rv)
{
	auto layout = VringLayout::compute(rv.num, rv.align);
	if (layout.is_error())
		return 0xffff;
	return f.region.read<u16>(rv.da + layout.value().used_idx()).value_or(0xffff);
}

/*
 * The remote, on a thread of its own as on a second processor, slow to
 * leave: it notices the host's reset, then (its teardown delayed) still
 * completes a buffer of the old session into the old ring, and only then
 * drops its queues.
 */
struct SlowRemote {
	ShmRemote *remote = nullptr;
	s64 delay_ns = 0;
	/* A tx buffer of the old session, taken but not yet completed. */
	VringhChainStorage<2, 2> held;
	Atomic<bool> saw_reset{ false };
	Atomic<bool> left{ false };
	Atomic<int> ret{ 1 };
	s64 left_at = 0;
};

int slow_remote_main(void *arg)
{
	auto *s = static_cast<SlowRemote *>(arg);
	while (!Thread::should_stop() && !s->remote->host_reset(0))
		msleep(1);
	if (Thread::should_stop())
		return 0;
	s->saw_reset.store(true);
	msleep(u32(s->delay_ns / NSEC_PER_MSEC));
	/* Still the old session's queue: this completion lands in the old ring. */
	Vringh *tx = s->remote->vringh(0, 1);
	Result<void> r = tx ? tx->add_used(s->held, 0) : Result<void>(err(-ENODEV));
	s->ret.store(r.is_ok() ? 0 : r.error().to_errno());
	s->left_at = ktime_get_ns();
	s->left.store(true);
	s->remote->drop_queues(0);
	return 0;
}

/*
 * A host detach and an immediate re-attach while the remote still uses
 * the old session's rings: the attach waits until the remote has left,
 * so its late completion never lands in the new session's rings (which
 * sit where the old ones were), and the new session starts from index 0.
 */
void host_reattach_waits_for_the_remote_to_leave(Test &t)
{
	Fixture *f = connected(t, TIMEOUT);
	ASSERT_NOT_NULL(t, f);
	exchange(t, *f, 4, 1);
	const rproc::RscVring old_tx = f->host->table().vdevs[0].vring[1];

	/* One more tx buffer: the remote takes it and holds it. */
	ShmTestDriver *d = s_drv_data;
	ASSERT_NOT_NULL(t, d);
	memset(d->tx_buf(0), 0x77, BUF);
	auto sg = Sg::from(f->region, d->tx_buf(0), BUF);
	ASSERT_OK(t, sg);
	{
		Guard g{ d->lock };
		ASSERT_OK(t, d->tx->add_outbuf(Span<const Sg>(&sg.value(), 1), d->tx_buf(0),
					       GFP_ATOMIC));
		ASSERT_OK(t, d->tx->kick());
	}
	SlowRemote *s = new (GFP_KERNEL) SlowRemote();
	ASSERT_NOT_NULL(t, s);
	ASSERT_OK(t, t.add_cleanup([](void *p) { delete static_cast<SlowRemote *>(p); }, s));
	s->remote = f->remote.get();
	s->delay_ns = ms_to_ns(50);
	auto got = f->remote->vringh(0, 1)->getdesc(s->held);
	ASSERT_TRUE(t, got.is_ok() && got.value());
	auto th = Thread::run(&slow_remote_main, s, "slow_remote");
	ASSERT_OK(t, th);

	/* (No ASSERT until the thread is stopped.) */
	f->host->detach();
	s64 start = ktime_get_ns();
	Result<void> r = f->host->attach(TIMEOUT);
	s64 end = ktime_get_ns();
	bool saw_reset = s->saw_reset.load();
	bool left_before_return = s->left.load();
	/* Had it not left yet, its late completion would land now, in the new rings. */
	for (s64 dl = ktime_get_ns() + TIMEOUT; !s->left.load() && ktime_get_ns() < dl;)
		msleep(1);
	th.value()->stop();

	ASSERT_OK(t, r);
	EXPECT_TRUE(t, saw_reset);
	/* The attach returned (and the new rings were written) only after the remote left. */
	EXPECT_TRUE(t, left_before_return);
	EXPECT_EQ(t, s->ret.load(), 0);
	if (left_before_return)
		t.info("attach waited %lld us, returned %lld us after the remote left",
		       (long long)((s->left_at - start) / 1000),
		       (long long)((end - s->left_at) / 1000));
	/* Same placement, and the new ring holds nothing of the old session's. */
	EXPECT_EQ(t, f->host->table().vdevs[0].vring[1].da, old_tx.da);
	EXPECT_EQ(t, used_idx(*f, 1), 0u);
	EXPECT_EQ(t, f->host->host_gen(), 2u);
	ASSERT_OK(t, f->remote->wait_driver_ok(0, TIMEOUT));
	EXPECT_EQ(t, f->remote->session_host_gen(0), 2u);
	exchange(t, *f, 5, 40);
	EXPECT_EQ(t, used_idx(*f, 1), 5u);
}

/*
 * A remote that never leaves its session: the attach fails by its
 * deadline with a clear error and line, having written no ring; once the
 * remote leaves, the next attach works.
 */
void attach_fails_when_the_remote_stays_in_its_session(Test &t)
{
	Fixture *f = connected(t, TIMEOUT);
	ASSERT_NOT_NULL(t, f);
	exchange(t, *f, 2, 3);
	const rproc::RscVring old_tx = f->host->table().vdevs[0].vring[1];
	f->host->detach();
	/* The remote does not react: it still holds host session 1. */
	u64 since = log_seq();
	EXPECT_ERR(t, f->host->attach(ms_to_ns(30)), -ETIMEDOUT);
	EXPECT_TRUE(t,
		    log_contains_since(since, "remote still in host session 1", KEEL_LOGLEVEL_ERR));
	EXPECT_FALSE(t, f->host->attached());
	EXPECT_NULL(t, s_drv_data);
	/* Its rings are as it left them: the host wrote none. */
	EXPECT_EQ(t, used_idx_at(*f, old_tx), 2u);
	EXPECT_NOT_NULL(t, f->remote->vringh(0, 1));

	EXPECT_TRUE(t, f->remote->host_reset(0));
	f->remote->drop_queues(0);
	ASSERT_OK(t, connect(*f, TIMEOUT));
	exchange(t, *f, 3, 9);
	EXPECT_EQ(t, used_idx(*f, 1), 3u);
}

/*
 * Nothing to wait for, so no wait (an attach with no time at all
 * succeeds): a first boot, a remote that crashed holding a session once
 * the region is reset, and a remote that rebooted by itself over its old
 * claim.
 */
void attach_does_not_wait_without_an_older_session(Test &t)
{
	Fixture *f = connected(t, 0);
	ASSERT_NOT_NULL(t, f);
	exchange(t, *f, 2, 5);
	for (u32 reset = 1; reset <= 2; reset++) {
		/*
		 * The remote dies holding its session (its claim stays in the
		 * region); recovery resets the region first, or the remote
		 * boots again by itself: its publish clears the claim.
		 */
		f->host->mark_crashed();
		f->host->detach();
		const u32 claim = f->host->host_gen();
		f->remote.reset();
		write32(*f, SHM_HDR_IN_USE, claim);
		if (reset == 1)
			ASSERT_OK(t, f->host->reset_region());
		f->host->clear_crashed();
		ASSERT_OK(t, reboot_remote(*f));
		ASSERT_OK(t, connect(*f, 0));
		exchange(t, *f, 2, 5 + reset);
		EXPECT_EQ(t, used_idx(*f, 1), 2u);
	}
}

/*
 * A hostile remote claims a host session that has not started: refused
 * at once with -EPROTO and a line, whatever the value; its next publish
 * clears the claim.
 */
void attach_refuses_a_claim_on_a_future_session(Test &t)
{
	Fixture *f = connected(t, TIMEOUT);
	ASSERT_NOT_NULL(t, f);
	f->host->detach();
	f->remote->drop_queues(0);
	const u32 bad[] = { f->host->host_gen() + 2, 0xffffffffu };
	for (u32 v : bad) {
		write32(*f, SHM_HDR_IN_USE, v);
		u64 since = log_seq();
		EXPECT_ERR(t, f->host->attach(TIMEOUT), -EPROTO);
		EXPECT_TRUE(t, log_contains_since(since, "remote claims host session",
						  KEEL_LOGLEVEL_ERR));
		EXPECT_FALSE(t, f->host->attached());
	}
	ASSERT_OK(t, f->remote->publish());
	ASSERT_OK(t, connect(*f, TIMEOUT));
	exchange(t, *f, 2, 11);
}

/*
 * A version-2 remote never writes host_gen_in_use (a reserved zero word
 * to it): the host takes its table and cannot wait for it, and says so.
 */
void attach_takes_a_version_2_remote_without_the_handshake(Test &t)
{
	Fixture *f = fixture(t);
	ASSERT_NOT_NULL(t, f);
	ASSERT_OK(t, f->remote->publish());
	write32(*f, __builtin_offsetof(ShmHeader, version), 2);
	write32(*f, SHM_HDR_IN_USE, 0);
	u64 since = log_seq();
	ASSERT_OK(t, connect(*f, 0));
	EXPECT_TRUE(t, log_contains_since(since, "speaks shm version 2"));
	exchange(t, *f, 2, 13);
	/* Older than 2 (or newer than 3): refused as before. */
	f->host->detach();
	f->remote->drop_queues(0);
	write32(*f, __builtin_offsetof(ShmHeader, version), 1);
	EXPECT_ERR(t, f->host->attach(TIMEOUT), -EINVAL);
	write32(*f, __builtin_offsetof(ShmHeader, version), SHM_VERSION + 1);
	EXPECT_ERR(t, f->host->attach(TIMEOUT), -EINVAL);
}

void config_space_is_bounded_by_config_len(Test &t)
{
	Fixture *f = fixture(t, false);
	ASSERT_NOT_NULL(t, f);
	ShmRemoteConfig c = remote_config(*f);
	const u8 cfg[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	c.vdevs[0].config = cfg;
	c.vdevs[0].config_len = sizeof(cfg);
	auto r = ShmRemote::create(c, GFP_KERNEL);
	ASSERT_OK(t, r);
	f->remote = move(r.value());
	ASSERT_OK(t, f->remote->publish());
	ASSERT_OK(t, f->host->attach(TIMEOUT));
	VirtioDevice *vdev = f->host->vdev(0);
	ASSERT_NOT_NULL(t, vdev);
	u8 buf[8] = {};
	ASSERT_OK(t, vdev->cread_bytes(0, buf, 8));
	EXPECT_MEMEQ(t, buf, cfg, 8);
	auto v = vdev->cread32(4);
	ASSERT_OK(t, v);
	EXPECT_EQ(t, v.value(), 0x08070605u);
	EXPECT_ERR(t, vdev->cread32(6), -EINVAL);
	EXPECT_ERR(t, vdev->cread_bytes(0xFFFFFFF0u, buf, 32), -EINVAL);
	ASSERT_OK(t, vdev->cwrite8(0, 0xAA));
	ASSERT_OK(t, vdev->cread_bytes(0, buf, 1));
	EXPECT_EQ(t, buf[0], 0xAAu);
}

void dma_pool_allocates_frees_and_refuses(Test &t)
{
	Fixture *f = fixture(t);
	ASSERT_NOT_NULL(t, f);
	ASSERT_OK(t, f->remote->publish());
	ASSERT_OK(t, f->host->attach(TIMEOUT));
	auto a = f->host->alloc(4096, 4096);
	ASSERT_OK(t, a);
	EXPECT_EQ(t, a.value().da % 4096, 0u);
	EXPECT_TRUE(t, f->region.contains(a.value().offset, 4096));
	auto b = f->host->alloc(4096, 4096);
	ASSERT_OK(t, b);
	EXPECT_NE(t, a.value().offset, b.value().offset);
	f->host->free(a.value());
	auto c = f->host->alloc(4096, 4096);
	ASSERT_OK(t, c);
	EXPECT_EQ(t, c.value().offset, a.value().offset);
	EXPECT_ERR(t, f->host->alloc(REGION_SIZE, 64), -ENOMEM);
	EXPECT_ERR(t, f->host->alloc(64, 3), -EINVAL);
}

/*
 * The vring size and alignment rule, fed to the three places that apply
 * it: the resource-table parser and placement check (the host reading a
 * table), both sides of the ring (VirtQueue, Vringh) and the transport (a
 * remote declaring its vrings). Each row says what each must answer; they
 * all ask VringLayout::compute(), so a row cannot pass in one and fail in
 * another unless the transport's own cache-line rule (align at least
 * SHM_CACHE_LINE) says so.
 */
struct RuleRow {
	u32 num, align;
	bool table, ring, transport;
};
const RuleRow rule_rows[] = {
	{ 16, 4096, true, true, true },
	{ 16, 65536, true, true, true },
	{ 1, 64, true, true, true },
	{ 256, 64, true, true, true },
	/* Legal rings whose writers share a cache line: not on this transport. */
	{ 16, 32, true, true, false },
	{ 256, 16, true, true, false },
	{ 16, 4, true, true, false },
	{ 16, 2, false, false, false },
	{ 16, 1, false, false, false },
	{ 16, 0, false, false, false },
	{ 16, 96, false, false, false },
	{ 16, 131072, false, false, false },
	{ 12, 64, false, false, false },
	{ 0, 64, false, false, false },
	{ 65536, 64, false, false, false },
};
void describe_rule_row(const RuleRow &r, char *desc)
{
	snprintf(desc, KEEL_TEST_DESC_LEN, "num_%u_align_%u", r.num, r.align);
}
KEEL_PARAMS(rule_row_gen, rule_rows, describe_rule_row)

void expect_verdict(Test &t, const Result<void> &r, bool ok, const char *where)
{
	if (ok && r.is_error())
		EXPECT_FAIL(t, "%s refused a ring the rule allows (%d)", where,
			    r.error().to_errno());
	else if (!ok && (r.is_ok() || r.error().to_errno() != -EINVAL))
		EXPECT_FAIL(t, "%s accepted a ring the rule refuses", where);
}
template <typename T> Result<void> verdict(const Result<T> &r)
{
	if (r.is_error())
		return r.error();
	return ok();
}

void one_vring_rule_for_table_ring_and_transport(Test &t)
{
	const RuleRow &row = t.param<RuleRow>();
	Fixture *f = fixture(t, false);
	ASSERT_NOT_NULL(t, f);

	/* The table: parsed by the host, and a placement at da 0 checked. */
	u8 table[256];
	rproc::RscTableBuilder b(Span<u8>(table, sizeof(table)), 1);
	rproc::VdevSpec spec;
	spec.id = TEST_DEVICE_ID;
	spec.num_of_vrings = 1;
	spec.vring[0] = { rproc::FW_RSC_ADDR_ANY, row.align, row.num, 0, 0 };
	ASSERT_OK(t, b.add_vdev(spec));
	auto size = b.finish();
	ASSERT_OK(t, size);
	/* The parse result and the remote's config are large: on the heap, not a kernel stack. */
	void *info_mem = t.alloc(sizeof(rproc::RscTableInfo));
	void *rc_mem = t.alloc(sizeof(ShmRemoteConfig));
	ASSERT_TRUE(t, info_mem && rc_mem);
	auto *info = new (info_mem) rproc::RscTableInfo();
	auto *rc = new (rc_mem) ShmRemoteConfig(remote_config(*f));
	expect_verdict(t,
		       verdict(rproc::rsc_table_parse(Span<const u8>(table, size.value()),
						      &f->region, info)),
		       row.table, "rsc_table_parse()");
	size_t big = 256 * 1024;
	u8 *mem = static_cast<u8 *>(t.alloc(big));
	ASSERT_NOT_NULL(t, mem);
	ShmRegion wide(mem, big, 0);
	expect_verdict(t, verdict(rproc::rsc_table_check_vring(wide, 0, row.num, row.align)),
		       row.table, "rsc_table_check_vring()");

	/* Both sides of the ring, on a window the rule's size (or any, when it refuses). */
	auto layout = VringLayout::compute(row.num, row.align);
	ShmRegion ring = wide.sub(0, layout.is_ok() ? layout.value().size : 4096).value();
	VqConfig vc;
	vc.num = row.num;
	vc.align = row.align;
	vc.ring = ring;
	vc.notify = [](VirtQueue &) { return Result<void>(ok()); };
	expect_verdict(t, verdict(VirtQueue::create(vc, GFP_KERNEL)), row.ring,
		       "VirtQueue::create()");
	VringhConfig hc;
	hc.num = row.num;
	hc.align = row.align;
	hc.ring = ring;
	hc.mem = wide;
	expect_verdict(t, verdict(Vringh::create(hc, GFP_KERNEL)), row.ring, "Vringh::create()");

	/* The transport: a remote declaring that vring. */
	rc->vdevs[0].num_of_vrings = 1;
	rc->vdevs[0].vring[0] = { rproc::FW_RSC_ADDR_ANY, row.align, row.num, 0, 0 };
	expect_verdict(t, verdict(ShmRemote::create(*rc, GFP_KERNEL)), row.transport,
		       "ShmRemote::create()");
}

const TestCase virtio_shm_cases[] = {
	KEEL_CASE(host_and_remote_negotiate_and_reach_driver_ok),
	KEEL_CASE(buffers_flow_both_ways),
	KEEL_CASE(buffers_flow_with_deferred_doorbell),
	KEEL_CASE(dma_streams_sync_each_ownership_transfer),
	KEEL_CASE(host_restart_starts_from_fresh_indices),
	KEEL_CASE(remote_restart_after_region_reset),
	KEEL_CASE(peer_down_breaks_queues_at_once),
	KEEL_CASE(host_refuses_a_region_beyond_32_bit_device_addresses),
	KEEL_CASE(attach_times_out_without_a_table),
	KEEL_CASE(host_refuses_bad_header),
	KEEL_CASE(host_refuses_vring_outside_region),
	KEEL_CASE(host_refuses_vring_over_the_table),
	KEEL_CASE(host_refuses_region_too_small_for_vrings),
	KEEL_CASE(remote_refuses_host_placement_outside_region),
	KEEL_CASE(remote_refuses_vring_over_its_table_whatever_the_header_says),
	KEEL_CASE(remote_refuses_vrings_on_top_of_each_other),
	KEEL_CASE(remote_ignores_features_it_never_offered),
	KEEL_CASE(attach_deadline_holds_against_a_remote_that_keeps_republishing),
	KEEL_CASE(attach_gives_up_on_a_table_that_keeps_changing),
	KEEL_CASE(host_never_accepts_a_table_copied_during_a_republish),
	KEEL_CASE(header_gives_each_writer_its_own_cache_lines),
	KEEL_CASE(transport_refuses_vrings_whose_writers_share_a_line),
	KEEL_CASE(host_reattach_waits_for_the_remote_to_leave),
	KEEL_CASE(attach_fails_when_the_remote_stays_in_its_session),
	KEEL_CASE(attach_does_not_wait_without_an_older_session),
	KEEL_CASE(attach_refuses_a_claim_on_a_future_session),
	KEEL_CASE(attach_takes_a_version_2_remote_without_the_handshake),
	KEEL_CASE(config_space_is_bounded_by_config_len),
	KEEL_CASE(dma_pool_allocates_frees_and_refuses),
	KEEL_PARAM_CASE(one_vring_rule_for_table_ring_and_transport, rule_row_gen),
	{},
};

const TestSuite virtio_shm_suite = {
	.name = "virtio_shm",
	.cases = virtio_shm_cases,
	.init = nullptr,
	.exit = nullptr,
	.suite_init = suite_init,
	.suite_exit = suite_exit,
};

} // namespace

KEEL_TEST_SUITE(virtio_shm_suite);
