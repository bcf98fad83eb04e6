// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio rpmsg bus, host role (Linux drivers/rpmsg/virtio_rpmsg_bus.c):
 * the virtio driver of VIRTIO_ID_RPMSG devices. It owns the buffers and
 * moves them; the rpmsg core (rpmsg_core.cpp) does everything else.
 *
 * Layout, as Linux: virtqueue 0 is rx ("input"), 1 is tx ("output"); one
 * coherent block holds every buffer, the rx half first, then the tx half;
 * each way has min(configured count, vring size) buffers (Linux: 256 of
 * 512 bytes at most, fewer for small vrings). Every rx buffer is posted at
 * probe, before DRIVER_OK. Tx buffers come from the never-used part of
 * the tx half first (and from those lent and given back unsent), then
 * from the tx queue's used ring. Tx-complete interrupts stay disabled
 * unless a sender waits for a buffer (or poll() armed one). Rx interrupts
 * are the core's to turn on and off (rpmsg_poll.cpp): this file only polls
 * the rx queue.
 *
 * Cache maintenance: buffers in the transport's shared region are handed
 * over as the DMA API would: a tx buffer is cleaned once the message is in
 * it, an rx buffer invalidated before its header is read (no-ops unless the
 * region is cacheable memory a non-coherent peer shares; see <keel/shm.h>
 * and Documentation/kernel-port.rst, "Memory model"). Coherent DMA memory
 * needs none.
 *
 * Locking: m_tx_lock guards the tx queue and the tx buffer states;
 * m_rvq_lock the rx queue. Rx processing holds the link's m_rx_lock
 * around both get_buf and the callbacks (rpmsg_internal.h).
 */
#include <keel/barrier.h>
#include <keel/dma.h>
#include <keel/irq_work.h>
#include <keel/log.h>
#include <keel/string.h>
#include <virtio/virtio.h>
#include <virtio/virtio_shm.h>

#include "rpmsg_internal.h"

namespace rpmsg {

using keel::Guard;
using virtio::Sg;
using virtio::VirtioDevice;
using virtio::VirtQueue;

namespace {

constinit VirtioRpmsgHostConfig s_config;
/* Used rx buffers taken (and re-posted) per lock hold. */
constexpr u32 RX_BATCH = 16;

enum class TxState : u8 { Free, Taken, Ring };

} // namespace

namespace {

/* The driver's data (Linux's struct virtproc_info); internal linkage: nothing here is exported. */
class VirtioRpmsg : keel::NonMovable {
public:
	static constexpr virtio::VirtioDeviceId id_table[] = {
		{ VIRTIO_ID_RPMSG, virtio::VIRTIO_DEV_ANY_ID }, {}
	};
	static constexpr unsigned int feature_table[] = { VIRTIO_RPMSG_F_NS, VIRTIO_RPMSG_F_BUFSZ };

	static Result<keel::UniquePtr<VirtioRpmsg>> probe(VirtioDevice &vdev);
	void remove(VirtioDevice &vdev);
	void teardown(VirtioDevice &vdev);

	VirtioRpmsg() = default;
	~VirtioRpmsg() { free_buffers(); }

	RpmsgLink m_link{ s_ops };

private:
	static const RpmsgLinkOps s_ops;
	template <typename T> friend constexpr RpmsgLinkOps rpmsg::rpmsg_link_ops();
	static VirtioRpmsg &of(RpmsgLink &link)
	{
		return *keel::container_of(&link, &VirtioRpmsg::m_link);
	}

	Result<void> setup(VirtioDevice &vdev);
	Result<void> read_sizes(VirtioDevice &vdev);
	Result<void> alloc_buffers(VirtioDevice &vdev);
	void free_buffers();
	u8 *rx_buf(u32 i) const { return m_rbufs + size_t(i) * m_rx_size; }
	u8 *tx_buf(u32 i) const { return m_sbufs + size_t(i) * m_tx_size; }
	Sg rx_sg(u32 i) const { return Sg{ m_bufs_da + u64(i) * m_rx_size, m_rx_size }; }
	/*
	 * Hand @len bytes of tx buffer @p to the remote / take rx bytes back
	 * (shared region only). The block was carved from m_region at probe
	 * and @len is at most a buffer's size: inside without a check.
	 */
	void sync_for_device(const u8 *p, u32 len) const
	{
		if (m_region)
			m_region->clean_unchecked(size_t(p - m_region->base()), len);
	}
	void sync_for_cpu(const u8 *p, u32 len) const
	{
		if (m_region)
			(void)m_region->invalidate(size_t(p - m_region->base()), len);
	}
	Result<u32> rx_index(void *token) const;
	/* A queued tx buffer's token: its state slot (no division to map it back). */
	void *tx_token(u32 i) REQUIRES(m_tx_lock) { return &m_tx_state.data()[i]; }
	Result<u32> tx_index(const void *token) const REQUIRES(m_tx_lock);
	Result<void> post_rx(u32 i) REQUIRES(m_rvq_lock);
	u32 poll_rvq(u32 budget) REQUIRES(m_link.m_rx_lock);
	void repost_rx(u32 i, u32 *reposted) REQUIRES(m_rvq_lock);

	static VirtioRpmsg *of_callback(VirtQueue &vq);
	static void rx_done(VirtQueue &vq);
	static u32 rx_poll(RpmsgLink &link, u32 budget);
	static void rx_disable(RpmsgLink &link);
	static bool rx_enable(RpmsgLink &link);
	static bool rx_pending(RpmsgLink &link);
	template <typename Op> static bool on_rvq(RpmsgLink &link, bool idle, Op op);
	static void xmit_done(VirtQueue &vq);
	static Result<u32> get_tx(RpmsgLink &link, Span<RpmsgTxBuf> out);
	static Result<void> submit_tx(RpmsgLink &link, u32 src, u32 dst,
				      Span<const RpmsgTxBuf> bufs, Span<const u32> lens);
	static Result<void> xmit(RpmsgLink &link, const RpmsgHdr &hdr, Span<const u8> data);
	Result<u32> take_tx() REQUIRES(m_tx_lock);
	Result<void> add_tx(u32 i, const u8 *buf, u32 len) REQUIRES(m_tx_lock);
	Result<void> kick_tx() REQUIRES(m_tx_lock);
	bool lent_tx(const RpmsgTxBuf &b, u32 len) REQUIRES(m_tx_lock);
	static Result<void> put_tx(RpmsgLink &link, u32 cookie, const u8 *buf);
	static void tx_wait(RpmsgLink &link, bool waiting);
	static bool tx_poll(RpmsgLink &link);
	static void recycle_rx(RpmsgLink &link, u32 cookie);

	VirtioDevice *m_vdev = nullptr;
	VirtQueue *m_rvq = nullptr;
	VirtQueue *m_svq = nullptr;
	/* The callbacks may fire as soon as the queues exist: they wait for this. */
	keel::Atomic<bool> m_ready{ false };

	u32 m_rx_size = RPMSG_BUF_SIZE, m_tx_size = RPMSG_BUF_SIZE;
	u32 m_rx_num = 0, m_tx_num = 0;
	size_t m_rx_total = 0;
	/* The block: shared memory of the transport, or coherent DMA memory. */
	bool m_shm = false;
	/* The transport's region holding the block (maintenance), or null. */
	const keel::ShmRegion *m_region = nullptr;
	virtio::ShmAlloc m_shm_alloc;
	keel::DmaBuffer m_dma;
	u8 *m_rbufs = nullptr;
	u8 *m_sbufs = nullptr;
	u64 m_bufs_da = 0;

	keel::SpinLock m_rvq_lock{ "virtio_rpmsg_rvq", KEEL_LOCK_KEY() };
	keel::SpinLock m_tx_lock{ "virtio_rpmsg_tx", KEEL_LOCK_KEY() };
	u32 m_last_sbuf GUARDED_BY(m_tx_lock) = 0;
	u32 m_sleepers GUARDED_BY(m_tx_lock) = 0;
	/* Buffers given back unsent (zero copy), reused first. */
	keel::UniqueArray<u16> m_tx_free GUARDED_BY(m_tx_lock);
	u32 m_tx_nfree GUARDED_BY(m_tx_lock) = 0;
	keel::UniqueArray<TxState> m_tx_state GUARDED_BY(m_tx_lock);
};

constinit const RpmsgLinkOps VirtioRpmsg::s_ops = rpmsg_link_ops<VirtioRpmsg>();

/* --- probe and remove --- */

Result<void> VirtioRpmsg::read_sizes(VirtioDevice &vdev)
{
	u32 h2r_size = s_config.h2r_buf_size, r2h_size = s_config.r2h_buf_size;
	u32 h2r_num = s_config.h2r_num, r2h_num = s_config.r2h_num;
	if (vdev.has_feature(VIRTIO_RPMSG_F_BUFSZ)) {
		h2r_size = TRY(vdev.cread32(__builtin_offsetof(VirtioRpmsgConfig, h2r_buf_size)));
		r2h_size = TRY(vdev.cread32(__builtin_offsetof(VirtioRpmsgConfig, r2h_buf_size)));
		h2r_num = TRY(vdev.cread32(__builtin_offsetof(VirtioRpmsgConfig, h2r_num)));
		r2h_num = TRY(vdev.cread32(__builtin_offsetof(VirtioRpmsgConfig, r2h_num)));
	}
	auto bad_size = [](u32 s) {
		return s < RPMSG_MIN_BUF_SIZE || s > RPMSG_MAX_BUF_SIZE || s % 16;
	};
	if (bad_size(h2r_size) || bad_size(r2h_size) || !h2r_num || !r2h_num) {
		dev_err(&vdev, "unusable buffer configuration: %u x %u bytes out, %u x %u bytes in",
			h2r_num, h2r_size, r2h_num, r2h_size);
		return keel::err(-EINVAL);
	}
	m_tx_size = h2r_size;
	m_rx_size = r2h_size;
	/* Fewer buffers for small vrings (one per entry: each is a one-descriptor chain). */
	m_tx_num = keel::min(h2r_num, m_svq->num());
	m_rx_num = keel::min(r2h_num, m_rvq->num());
	return keel::ok();
}

Result<void> VirtioRpmsg::alloc_buffers(VirtioDevice &vdev)
{
	m_rx_total = size_t(m_rx_num) * m_rx_size;
	size_t total = m_rx_total + size_t(m_tx_num) * m_tx_size;
	if (virtio::shm_transport_region(vdev)) {
		m_shm_alloc = TRY(virtio::shm_dma_alloc(vdev, total, 64));
		m_shm = true;
		m_region = virtio::shm_transport_region(vdev);
		m_rbufs = static_cast<u8 *>(m_shm_alloc.cpu);
		m_bufs_da = m_shm_alloc.da;
	} else {
		m_dma = TRY(keel::DmaBuffer::alloc_coherent(vdev.os_dev(), total, GFP_KERNEL));
		m_rbufs = static_cast<u8 *>(m_dma.cpu_addr());
		m_bufs_da = m_dma.dma_addr();
	}
	/* Half (by default) for rx, the rest for tx: Linux's layout. */
	m_sbufs = m_rbufs + m_rx_total;
	dev_dbg(&vdev, "buffers: %u x %u rx, %u x %u tx at da 0x%llx", m_rx_num, m_rx_size,
		m_tx_num, m_tx_size, (unsigned long long)m_bufs_da);
	return keel::ok();
}

void VirtioRpmsg::free_buffers()
{
	if (m_shm && m_vdev && m_shm_alloc.cpu)
		virtio::shm_dma_free(*m_vdev, m_shm_alloc);
	m_shm_alloc = virtio::ShmAlloc();
	m_dma.free();
	m_region = nullptr;
	m_rbufs = m_sbufs = nullptr;
}

Result<void> VirtioRpmsg::setup(VirtioDevice &vdev)
{
	m_vdev = &vdev;
	/* We expect two virtqueues, rx and tx, in this order. */
	const virtio::VqInfo infos[] = { { "input", &rx_done }, { "output", &xmit_done } };
	VirtQueue *vqs[2] = {};
	TRY(vdev.find_vqs(Span<const virtio::VqInfo>(infos, 2), Span<VirtQueue *>(vqs, 2)));
	m_rvq = vqs[0];
	m_svq = vqs[1];
	if (!m_rvq || !m_svq)
		return keel::err(-ENODEV);
	m_rvq->set_priv(this);
	m_svq->set_priv(this);
	TRY(read_sizes(vdev));
	TRY(alloc_buffers(vdev));
	{
		auto tx_free = TRY(keel::UniqueArray<u16>::create(m_tx_num, GFP_KERNEL));
		auto tx_state = TRY(keel::UniqueArray<TxState>::create(m_tx_num, GFP_KERNEL));
		Guard g{ m_tx_lock };
		m_tx_free = keel::move(tx_free);
		m_tx_state = keel::move(tx_state);
	}
	RpmsgLink::Params p;
	p.name = vdev.name();
	p.dev = &vdev;
	p.little_endian = vdev.is_little_endian();
	p.rx_buf_size = m_rx_size;
	p.tx_buf_size = m_tx_size;
	p.nr_rx_slots = m_rx_num;
	/*
	 * A transport registers a virtio device under the device of the
	 * processor behind it (a remoteproc): that one's runtime PM is the
	 * remote's, held by senders (a parent without runtime PM: a no-op).
	 */
	p.pm_dev = vdev.parent();
	p.config = s_config.link;
	if (!p.config.wait_doorbell)
		p.config.wait_doorbell = vdev.doorbell();
	TRY(m_link.init(p, GFP_KERNEL));
	{
		Guard q{ m_rvq_lock };
		for (u32 i = 0; i < m_rx_num; i++)
			TRY(post_rx(i));
	}
	{
		/* Suppress tx-complete interrupts until a sender waits. */
		Guard g{ m_tx_lock };
		m_svq->disable_cb();
	}
	m_link.set_peer_ns(vdev.has_feature(VIRTIO_RPMSG_F_NS));
	if (m_link.peer_ns())
		TRY(m_link.create_ns_ept());
	m_link.set_up(true);
	return keel::ok();
}

Result<keel::UniquePtr<VirtioRpmsg>> VirtioRpmsg::probe(VirtioDevice &vdev)
{
	keel::UniquePtr<VirtioRpmsg> vrp = TRY(keel::make_unique<VirtioRpmsg>(GFP_KERNEL));
	Result<void> r = vrp->setup(vdev);
	if (r.is_error()) {
		dev_err(&vdev, "rpmsg probe failed: %d", r.error().to_errno());
		/* The device must stop touching the buffers before they are freed. */
		vdev.reset();
		vrp->m_link.shutdown();
		vdev.del_vqs();
		return r.error();
	}
	vrp->m_ready.store(true, keel::MemoryOrder::Release);
	/* Polling mode: the link's polling thread, once the queue can be polled. */
	r = vrp->m_link.start_poller();
	if (r.is_error()) {
		dev_err(&vdev, "rpmsg probe failed: no polling thread: %d", r.error().to_errno());
		vrp->teardown(vdev);
		return r.error();
	}
	bool notify;
	{
		Guard q{ vrp->m_rvq_lock };
		notify = vrp->m_rvq->kick_prepare();
	}
	/*
	 * From here on we get callbacks and may notify. The transport orders
	 * the rings and buffers before DRIVER_OK with a DMA barrier, which
	 * ThreadSanitizer does not see: say it (a no-op in other builds).
	 */
	KEEL_TSAN_FENCE(__ATOMIC_RELEASE);
	vdev.device_ready();
	/* Tell the remote it can send (a notify only: may run concurrently with callbacks). */
	if (notify)
		(void)vrp->m_rvq->notify();
	dev_info(&vdev, "rpmsg host is online");
	return vrp;
}

void VirtioRpmsg::remove(VirtioDevice &vdev)
{
	teardown(vdev);
}

void VirtioRpmsg::teardown(VirtioDevice &vdev)
{
	/* Linux's order: the remote stops using the rings, then the channels go, then the rings. */
	vdev.reset();
	m_link.shutdown();
	m_ready.store(false, keel::MemoryOrder::Release);
	m_link.rx_sync();
	/* Waits for a running interrupt (the transport's lock), which may queue the work again. */
	vdev.del_vqs();
	m_link.rx_sync();
	m_rvq = m_svq = nullptr;
	free_buffers();
}

/* --- rx --- */

Result<u32> VirtioRpmsg::rx_index(void *token) const
{
	/* The token is the buffer address we posted; the ring checked it is outstanding. */
	const u8 *p = static_cast<const u8 *>(token);
	size_t off = size_t(p - m_rbufs);
	if (p < m_rbufs || off >= m_rx_total || off % m_rx_size)
		return keel::err(-EINVAL);
	return u32(off / m_rx_size);
}

Result<void> VirtioRpmsg::post_rx(u32 i)
{
	Sg sg = rx_sg(i);
	return m_rvq->add_inbuf(Span<const Sg>(&sg, 1), rx_buf(i), GFP_ATOMIC);
}

/*
 * Linux rpmsg_recv_done(): up to @budget used rx buffers are dispatched
 * and given back, then one kick. They are taken and re-posted in batches,
 * one hold of the queue's lock each. Called by the core with the link's
 * rx lock held (a doorbell pass, a poller).
 */
u32 VirtioRpmsg::rx_poll(RpmsgLink &link, u32 budget) NO_THREAD_SAFETY_ANALYSIS
{
	/* SAFETY: the core calls the receive ops with link.m_rx_lock held (rpmsg_internal.h). */
	link.m_rx_lock.assert_held();
	VirtioRpmsg &vrp = of(link);
	if (!vrp.m_ready.load(keel::MemoryOrder::Acquire))
		return 0;
	return vrp.poll_rvq(budget);
}

/* Gives rx buffer @i back to the remote (re-posts it). */
void VirtioRpmsg::repost_rx(u32 i, u32 *reposted)
{
	if (post_rx(i).is_error())
		dev_err_ratelimited(m_vdev, "failed to re-post rx buffer %u", i);
	else
		(*reposted)++;
}

u32 VirtioRpmsg::poll_rvq(u32 budget)
{
	struct Taken {
		u32 i;
		u32 len;
	};
	Taken batch[RX_BATCH];
	u32 done[RX_BATCH];
	u32 n = 0, ndone = 0, reposted = 0;
	bool bad = false;
	while (n < budget && !bad) {
		u32 nb = 0, want = keel::min(budget - n, RX_BATCH);
		{
			/* One lock for two steps: re-post the last batch, take the next. */
			Guard q{ m_rvq_lock };
			for (u32 k = 0; k < ndone; k++)
				repost_rx(done[k], &reposted);
			ndone = 0;
			while (nb < want) {
				Result<virtio::UsedBuf> r = m_rvq->get_buf();
				if (r.is_error()) {
					/* Broken: the ring logged it; recovery is the transport's. */
					m_link.set_peer_gone(true);
					bad = true;
					break;
				}
				if (!r.value())
					break;
				Result<u32> i = rx_index(r.value().token);
				if (i.is_error()) {
					dev_err_once(m_vdev, "rx token %p is not an rx buffer",
						     r.value().token);
					bad = true;
					break;
				}
				batch[nb++] = Taken{ i.value(), r.value().len };
			}
		}
		if (!nb)
			break;
		for (u32 k = 0; k < nb; k++) {
			u32 i = batch[k].i, len = batch[k].len;
			/* The used length is the remote's word: never past the buffer. */
			sync_for_cpu(rx_buf(i), len < m_rx_size ? len : m_rx_size);
			if (m_link.receive(i, rx_buf(i), len) == RpmsgLink::RxVerdict::Recycle)
				done[ndone++] = i;
		}
		n += nb;
	}
	if (ndone || reposted) {
		Guard q{ m_rvq_lock };
		for (u32 k = 0; k < ndone; k++)
			repost_rx(done[k], &reposted);
		/* Tell the remote it has more rx buffers (when it asked to be told). */
		if (reposted)
			(void)m_rvq->kick();
	}
	return n;
}

/*
 * The receive hints act on the rx queue under its lock, once the device
 * is ready; before that nothing can have arrived and they answer @idle.
 */
template <typename Op> bool VirtioRpmsg::on_rvq(RpmsgLink &link, bool idle, Op op)
{
	VirtioRpmsg &vrp = of(link);
	if (!vrp.m_ready.load(keel::MemoryOrder::Acquire))
		return idle;
	Guard q{ vrp.m_rvq_lock };
	return op(*vrp.m_rvq);
}

void VirtioRpmsg::rx_disable(RpmsgLink &link)
{
	(void)on_rvq(link, true, [](VirtQueue &vq) {
		vq.disable_cb();
		return true;
	});
}

bool VirtioRpmsg::rx_enable(RpmsgLink &link)
{
	/* True when nothing is pending, or the queue is broken (nothing will come). */
	return on_rvq(link, true, [](VirtQueue &vq) { return vq.enable_cb(); });
}

bool VirtioRpmsg::rx_pending(RpmsgLink &link)
{
	return on_rvq(link, false, [](VirtQueue &vq) { return vq.more_used(); });
}

/*
 * What both queue callbacks start with: the driver's data when the
 * callback has work to do, null when not. An interrupt comes from a device
 * that saw DRIVER_OK, written after the queues' set-up (probe): tell
 * ThreadSanitizer, which cannot follow that through another process and an
 * eventfd (a no-op in other builds).
 */
VirtioRpmsg *VirtioRpmsg::of_callback(VirtQueue &vq)
{
	KEEL_TSAN_FENCE(__ATOMIC_ACQUIRE);
	VirtioRpmsg *vrp = vq.priv<VirtioRpmsg>();
	if (!vrp)
		return nullptr;
	/* The transport broke the queue (the remote crashed): senders must know now. */
	if (vq.is_broken()) {
		vrp->m_link.set_peer_gone(true);
		return nullptr;
	}
	if (!vrp->m_ready.load(keel::MemoryOrder::Acquire))
		return nullptr;
	return vrp;
}

/* The rx queue's interrupt: the core runs a pass (or wakes its polling thread). */
void VirtioRpmsg::rx_done(VirtQueue &vq)
{
	if (VirtioRpmsg *vrp = of_callback(vq))
		vrp->m_link.rx_interrupt();
}

void VirtioRpmsg::recycle_rx(RpmsgLink &link, u32 cookie)
{
	VirtioRpmsg &vrp = of(link);
	if (cookie >= vrp.m_rx_num || !vrp.m_rvq)
		return;
	Guard q{ vrp.m_rvq_lock };
	if (vrp.post_rx(cookie).is_ok())
		(void)vrp.m_rvq->kick();
}

/* --- tx --- */

Result<u32> VirtioRpmsg::tx_index(const void *token) const
{
	/* TxState is one byte: the distance from the array is the index. */
	static_assert(sizeof(TxState) == 1);
	keel::uintptr_t d = reinterpret_cast<keel::uintptr_t>(token) -
			    reinterpret_cast<keel::uintptr_t>(m_tx_state.data());
	if (d >= m_tx_num)
		return keel::err(-EINVAL);
	return u32(d);
}

/* Linux get_a_tx_buf(): a free tx buffer, marked Taken. Inlined: the send path's core. */
__always_inline Result<u32> VirtioRpmsg::take_tx()
{
	/* A broken queue is a dead peer: the link fails every sender from now on. */
	if (m_svq->is_broken()) {
		m_link.set_peer_gone(true);
		return keel::err(-EPIPE);
	}
	u32 i;
	if (m_tx_nfree) {
		i = m_tx_free[--m_tx_nfree];
	} else if (m_last_sbuf < m_tx_num) {
		i = m_last_sbuf++;
	} else {
		Result<virtio::UsedBuf> r = m_svq->get_buf();
		if (r.is_error()) {
			m_link.set_peer_gone(true);
			return keel::err(-EPIPE);
		}
		if (!r.value())
			return keel::err(-ENOMEM);
		Result<u32> idx = tx_index(r.value().token);
		if (idx.is_error() || m_tx_state.data()[idx.value()] != TxState::Ring) {
			dev_err_once(m_vdev, "tx token %p is not a queued tx buffer",
				     r.value().token);
			return keel::err(-EIO);
		}
		i = idx.value();
	}
	/* i < m_tx_num: from the free list, the pool's count or tx_index(). */
	m_tx_state.data()[i] = TxState::Taken;
	return i;
}

/*
 * Adds Taken buffer @i at @buf (tx_buf(i)), @len bytes (its header
 * written), to the ring, without a kick. Inlined: the send path's core.
 */
__always_inline Result<void> VirtioRpmsg::add_tx(u32 i, const u8 *buf, u32 len)
{
	sync_for_device(buf, len);
	/* The device address of @buf (tx_buf(i)): the same offset in the block. */
	Sg sg{ m_bufs_da + u64(buf - m_rbufs), len };
	Result<void> r = m_svq->add_outbuf(Span<const Sg>(&sg, 1), tx_token(i), GFP_ATOMIC);
	if (r.is_error()) {
		/* Linux loses the buffer here; we keep it for the next sender. */
		m_tx_state[i] = TxState::Free;
		m_tx_free[m_tx_nfree++] = u16(i);
		if (!m_svq->is_broken())
			return r.error();
		m_link.set_peer_gone(true);
		return keel::err(-EPIPE);
	}
	m_tx_state.data()[i] = TxState::Ring;
	return keel::ok();
}

/* Tells the remote it has messages to read, as it asks (a failing doorbell breaks the queue). */
__always_inline Result<void> VirtioRpmsg::kick_tx()
{
	if (m_svq->kick().is_error()) {
		m_link.set_peer_gone(true);
		return keel::err(-EPIPE);
	}
	return keel::ok();
}

Result<u32> VirtioRpmsg::get_tx(RpmsgLink &link, Span<RpmsgTxBuf> out)
{
	VirtioRpmsg &vrp = of(link);
	if (!vrp.m_ready.load(keel::MemoryOrder::Acquire))
		return keel::err(-ENODEV);
	Guard g{ vrp.m_tx_lock };
	RpmsgTxBuf *b = out.data();
	u32 n = 0, room = vrp.m_tx_size - RPMSG_HDR_SIZE;
	while (n < out.size()) {
		Result<u32> i = vrp.take_tx();
		if (i.is_error()) {
			/* Those taken stay good: a broken queue fails their send. */
			if (n)
				break;
			return i.error();
		}
		b[n++] = RpmsgTxBuf{ Span<u8>(vrp.tx_buf(i.value()) + RPMSG_HDR_SIZE, room),
				     i.value() };
	}
	return n;
}

/* @b is a buffer get_tx() lent and @len payload bytes fit it. */
__always_inline bool VirtioRpmsg::lent_tx(const RpmsgTxBuf &b, u32 len)
{
	return b.cookie < m_tx_num && b.payload.data() == tx_buf(b.cookie) + RPMSG_HDR_SIZE &&
	       m_tx_state.data()[b.cookie] == TxState::Taken && len <= m_tx_size - RPMSG_HDR_SIZE;
}

Result<void> VirtioRpmsg::submit_tx(RpmsgLink &link, u32 src, u32 dst, Span<const RpmsgTxBuf> bufs,
				    Span<const u32> lens)
{
	VirtioRpmsg &vrp = of(link);
	const RpmsgTxBuf *b = bufs.data();
	const u32 *len = lens.data();
	size_t n = bufs.size();
	Guard g{ vrp.m_tx_lock };
	if (n == 1) [[likely]] {
		/* One buffer (every single send): no batch to check as a whole. */
		u32 i = b->cookie;
		if (!vrp.lent_tx(*b, *len))
			return keel::err(-EINVAL);
		u8 *buf = vrp.tx_buf(i);
		RpmsgHdr hdr = rpmsg_hdr_encode(link.little_endian(), src, dst, u16(*len));
		memcpy(buf, &hdr, sizeof(hdr));
		TRY(vrp.add_tx(i, buf, RPMSG_HDR_SIZE + *len));
		return vrp.kick_tx();
	}
	TxState *state = vrp.m_tx_state.data();
	/* All checked before any is queued; Ring marks those seen (a buffer given twice). */
	for (size_t k = 0; k < n; k++) {
		if (!vrp.lent_tx(b[k], len[k])) {
			while (k--)
				state[b[k].cookie] = TxState::Taken;
			return keel::err(-EINVAL);
		}
		state[b[k].cookie] = TxState::Ring;
	}
	/* The addresses are the batch's: only the length differs from one header to the next. */
	bool le = link.little_endian();
	RpmsgHdr hdr = rpmsg_hdr_encode(le, src, dst, 0);
	for (size_t k = 0; k < n; k++) {
		u32 i = b[k].cookie;
		u8 *buf = vrp.tx_buf(i);
		hdr.len = cpu_to_rpmsg16(le, u16(len[k]));
		memcpy(buf, &hdr, sizeof(hdr));
		Result<void> r = vrp.add_tx(i, buf, RPMSG_HDR_SIZE + len[k]);
		if (r.is_error()) [[unlikely]] {
			/* The rest go back to the free list (the queue broke: nobody reads them). */
			while (++k < n) {
				state[b[k].cookie] = TxState::Free;
				vrp.m_tx_free[vrp.m_tx_nfree++] = u16(b[k].cookie);
			}
			/* Those added before are the remote's: tell it. */
			(void)vrp.kick_tx();
			return r;
		}
	}
	return vrp.kick_tx();
}

/* get_tx(), the copy and submit_tx() under one lock: a send's common case. */
Result<void> VirtioRpmsg::xmit(RpmsgLink &link, const RpmsgHdr &hdr, Span<const u8> data)
{
	VirtioRpmsg &vrp = of(link);
	if (!vrp.m_ready.load(keel::MemoryOrder::Acquire))
		return keel::err(-ENODEV);
	u32 len = RPMSG_HDR_SIZE + u32(data.size());
	if (len > vrp.m_tx_size)
		return keel::err(-EMSGSIZE);
	Guard g{ vrp.m_tx_lock };
	u32 i = TRY(vrp.take_tx());
	u8 *buf = vrp.tx_buf(i);
	memcpy(buf, &hdr, sizeof(hdr));
	if (data.size())
		memcpy(buf + RPMSG_HDR_SIZE, data.data(), data.size());
	TRY(vrp.add_tx(i, buf, len));
	return vrp.kick_tx();
}

Result<void> VirtioRpmsg::put_tx(RpmsgLink &link, u32 cookie, const u8 *buf)
{
	VirtioRpmsg &vrp = of(link);
	Guard g{ vrp.m_tx_lock };
	if (cookie >= vrp.m_tx_num || buf != vrp.tx_buf(cookie) ||
	    vrp.m_tx_state[cookie] != TxState::Taken)
		return keel::err(-EINVAL);
	vrp.m_tx_state[cookie] = TxState::Free;
	vrp.m_tx_free[vrp.m_tx_nfree++] = u16(cookie);
	return keel::ok();
}

/* Linux rpmsg_upref_sleepers()/rpmsg_downref_sleepers(). */
void VirtioRpmsg::tx_wait(RpmsgLink &link, bool waiting)
{
	VirtioRpmsg &vrp = of(link);
	Guard g{ vrp.m_tx_lock };
	if (waiting) {
		/* The first sleeper enables tx-complete interrupts. */
		if (vrp.m_sleepers++ == 0)
			(void)vrp.m_svq->enable_cb();
	} else if (--vrp.m_sleepers == 0) {
		vrp.m_svq->disable_cb();
	}
}

bool VirtioRpmsg::tx_poll(RpmsgLink &link)
{
	VirtioRpmsg &vrp = of(link);
	Guard g{ vrp.m_tx_lock };
	if (vrp.m_tx_nfree || vrp.m_last_sbuf < vrp.m_tx_num)
		return true;
	/* Arm an interrupt for the next returned buffer; false from enable_cb: one is there. */
	return !vrp.m_svq->enable_cb();
}

/* Linux rpmsg_xmit_done(): a tx buffer came back; wake senders waiting for one. */
void VirtioRpmsg::xmit_done(VirtQueue &vq)
{
	VirtioRpmsg *vrp = of_callback(vq);
	if (!vrp)
		return;
	{
		/* Armed by poll() with nobody waiting: one interrupt was enough. */
		Guard g{ vrp->m_tx_lock };
		if (vrp->m_sleepers == 0)
			vrp->m_svq->disable_cb();
	}
	vrp->m_link.tx_wake();
}

/* --- registration --- */

constinit virtio::VirtioDriver s_virtio_rpmsg_driver{ virtio::driver_for<VirtioRpmsg>,
						      "virtio_rpmsg_bus" };
constinit keel::Atomic<u32> s_vr_init_count;
} // namespace

Result<void> virtio_rpmsg_init()
{
	if (s_vr_init_count.fetch_add(1) != 0)
		return keel::ok();
	Result<void> r = rpmsg_init();
	if (r.is_ok()) {
		r = virtio::register_virtio_driver(s_virtio_rpmsg_driver);
		if (r.is_error()) {
			pr_err("rpmsg: failed to register the virtio driver: %d",
			       r.error().to_errno());
			rpmsg_exit();
		}
	}
	if (r.is_error())
		s_vr_init_count.fetch_sub(1);
	return r;
}

void virtio_rpmsg_exit()
{
	if (s_vr_init_count.sub_return(1) != 0)
		return;
	virtio::unregister_virtio_driver(s_virtio_rpmsg_driver);
	rpmsg_exit();
}

void virtio_rpmsg_set_config(const VirtioRpmsgHostConfig &cfg)
{
	s_config = cfg;
}

RpmsgLink *virtio_rpmsg_link(VirtioDevice &vdev)
{
	VirtioRpmsg *vrp = vdev.drvdata<VirtioRpmsg>();
	return vrp ? &vrp->m_link : nullptr;
}

} // namespace rpmsg
