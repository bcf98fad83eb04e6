// SPDX-License-Identifier: GPL-2.0
/*
 * The remote role of virtio rpmsg (what OpenAMP's rpmsg_virtio does in
 * firmware), over the shared-memory transport's device side
 * (virtio::ShmRemote and its Vringh queues).
 *
 * The host owns every buffer. Vring 1 (the host's tx) brings messages: the
 * remote takes each available chain, dispatches it through the rpmsg core
 * and returns it used (length 0) unless the core or a client holds it.
 * Vring 0 (the host's rx) offers empty buffers: a send takes one, writes
 * header and payload, and returns it used with the message's length. A
 * buffer taken for a zero-copy send and given back unsent is kept for the
 * next send (a chain cannot be put back into the avail ring).
 *
 * Contexts: the doorbell handler (interrupt-like) hands vring 1 kicks to
 * the core (rpmsg_poll.cpp: a receive pass, or a wake-up of the polling
 * thread; this file only polls the ring) and wakes senders on vring 0
 * kicks; a session thread waits for DRIVER_OK, starts and ends sessions
 * (host reset or re-attach), announces services.
 *
 * Locking: m_rxq_lock guards vring 1 and the rx chain pool, m_tx_lock
 * vring 0 and the tx chain pool; both nest inside the link's m_rx_lock
 * (rpmsg_internal.h) and never in each other. m_up changes with both held,
 * so a handler holding either sees the queues alive.
 */
#include <keel/barrier.h>
#include <keel/irq_work.h>
#include <keel/log.h>
#include <keel/string.h>
#include <keel/thread.h>
#include <virtio/virtio_shm.h>

#include "rpmsg_internal.h"

namespace rpmsg {

using keel::Guard;
using virtio::ShmRemote;
using virtio::Vringh;
using virtio::VringhChainStorage;

namespace {

using Chain = VringhChainStorage<1, 1>;

/* Sending: Busy, and claimed by a submit_tx() batch being checked. */
enum class ChainState : u8 { Free, Busy, Spare, Sending };

/* How often the session thread looks at the host's status without a doorbell. */
constexpr s64 SESSION_POLL_NS = 20 * keel::NSEC_PER_MSEC;
/* How long one wait for DRIVER_OK lasts: stop() waits for it to end. */
constexpr s64 DRIVER_OK_POLL_NS = 2 * keel::NSEC_PER_MSEC;
/* Chains of vring 1 taken (and returned) per lock hold. */
constexpr u32 RX_BATCH = 16;

class RemoteDevice : public keel::Device {
public:
	RemoteDevice() = default;
};

/* A pool of chain storages: a free stack, a spare stack (tx) and a state per storage. */
struct ChainPool {
	Chain *chains = nullptr;
	keel::UniqueArray<u16> free;
	keel::UniqueArray<u16> spare;
	keel::UniqueArray<ChainState> state;
	u32 nfree = 0;
	u32 nspare = 0;
	u32 num = 0;

	Result<void> init(u32 n)
	{
		chains = new (GFP_KERNEL) Chain[n];
		if (!chains)
			return keel::err(-ENOMEM);
		num = n;
		free = TRY(keel::UniqueArray<u16>::create(n, GFP_KERNEL));
		spare = TRY(keel::UniqueArray<u16>::create(n, GFP_KERNEL));
		state = TRY(keel::UniqueArray<ChainState>::create(n, GFP_KERNEL));
		reset();
		return keel::ok();
	}
	void reset()
	{
		nfree = num;
		nspare = 0;
		for (u32 i = 0; i < num; i++) {
			free[i] = u16(num - 1 - i);
			state[i] = ChainState::Free;
		}
	}
	~ChainPool() { delete[] chains; }
};

/* The transport ops of the link (internal linkage: not exported). */
struct RemoteOps {
	static const RpmsgLinkOps s_ops;
	static Result<u32> get_tx(RpmsgLink &link, Span<RpmsgTxBuf> out);
	static Result<void> submit_tx(RpmsgLink &link, u32 src, u32 dst,
				      Span<const RpmsgTxBuf> bufs, Span<const u32> lens);
	static Result<void> xmit(RpmsgLink &link, const RpmsgHdr &hdr, Span<const u8> data);
	static Result<void> put_tx(RpmsgLink &link, u32 cookie, const u8 *buf);
	static void tx_wait(RpmsgLink &link, bool waiting);
	static bool tx_poll(RpmsgLink &link);
	static void recycle_rx(RpmsgLink &link, u32 cookie);
	static u32 rx_poll(RpmsgLink &link, u32 budget);
	static void rx_disable(RpmsgLink &link);
	static bool rx_enable(RpmsgLink &link);
	static bool rx_pending(RpmsgLink &link);
	template <typename Op> static bool on_rx_ring(RpmsgLink &l, bool idle, Op op);
};

} // namespace

struct RpmsgRemote::Impl : keel::NonMovable {
	explicit Impl(const RpmsgRemoteConfig &c) : cfg(c) {}

	static Impl &of(RpmsgLink &l) { return *keel::container_of(&l, &Impl::link); }

	Result<void> init();
	Result<void> init_pools();
	u32 poll_rx(u32 budget) REQUIRES(link.m_rx_lock);
	bool put_rx(Vringh *vr, u32 idx) REQUIRES(m_rxq_lock);
	/* The session's rings (null between sessions). */
	Vringh *rx_ring() REQUIRES(m_rxq_lock) { return up.load() ? shm->vringh(0, 1) : nullptr; }
	Vringh *tx_ring() REQUIRES(m_tx_lock) { return up.load() ? shm->vringh(0, 0) : nullptr; }
	Result<u16> take_tx(Vringh *&vr) REQUIRES(m_tx_lock);
	Result<void> add_tx(Vringh *vr, u16 idx, u32 len) KEEL_EXPORT_AS(keel_rpmsg_remote_add_tx)
		REQUIRES(m_tx_lock);
	Result<void> notify_tx(Vringh *vr) KEEL_EXPORT_AS(keel_rpmsg_remote_notify_tx)
		REQUIRES(m_tx_lock);
	bool lent_tx(const RpmsgTxBuf &b, u32 len) KEEL_EXPORT_AS(keel_rpmsg_remote_lent_tx)
		REQUIRES(m_tx_lock);
	void tx_kicked();
	void start_session();
	void end_session();
	static int session_main(void *arg);
	bool wait_new_host();
	static void kick(void *ctx, u32 vdev, u32 vring);
	static void peer_down(void *ctx);
	bool rx_shape_ok(const virtio::VringhChain &c) const
	{
		return c.readable().size() == 1 && c.writable().size() == 0 &&
		       c.read_len() >= RPMSG_HDR_SIZE;
	}

	RpmsgRemoteConfig cfg;
	VirtioRpmsgConfig cfg_space = {};
	bool bufsz = false;
	keel::UniquePtr<ShmRemote> shm;
	RemoteDevice *dev = nullptr;
	bool dev_added = false;
	RpmsgLink link{ RemoteOps::s_ops };

	keel::SpinLock m_rxq_lock{ "rpmsg_remote_rxq", KEEL_LOCK_KEY() };
	keel::SpinLock m_tx_lock{ "rpmsg_remote_tx", KEEL_LOCK_KEY() };
	ChainPool rxp GUARDED_BY(m_rxq_lock);
	ChainPool txp GUARDED_BY(m_tx_lock);
	u32 sleepers GUARDED_BY(m_tx_lock) = 0;
	/* A session runs: the Vringh queues exist. Written with both ring locks held. */
	keel::Atomic<bool> up{ false };
	/* A pass stopped with every rx chain held: a release restarts it. */
	keel::Atomic<bool> rx_starved{ false };
	/* Asleep (suspend()): kicks are not served; written with the ring locks held. */
	keel::Atomic<bool> asleep{ false };
	/* A session is being set up (until its services are announced): no sleep. */
	keel::Atomic<bool> starting{ false };
	/* The doorbell reported the host gone: the session ends, the next needs a new host. */
	keel::Atomic<bool> host_down{ false };
	/* The host_gen of the last session (a new session must bring another one). */
	u32 last_host_gen = 0;
	bool had_session = false;
	keel::Atomic<u32> nr_sessions{ 0 };
	keel::Thread *thread = nullptr;
	keel::WaitQueue wq{ "rpmsg_remote_wq", KEEL_LOCK_KEY() };
};

constinit const RpmsgLinkOps RemoteOps::s_ops = rpmsg_link_ops<RemoteOps>();

/* --- set-up --- */

Result<void> RpmsgRemote::Impl::init()
{
	const RpmsgRemoteConfig &c = cfg;
	if (!c.doorbell || !c.region.valid() || !keel::is_power_of_2(c.vring_num) ||
	    c.vring_num > 4096 || c.h2r_buf_size < RPMSG_MIN_BUF_SIZE ||
	    c.h2r_buf_size > RPMSG_MAX_BUF_SIZE || c.h2r_buf_size % 16 ||
	    c.r2h_buf_size < RPMSG_MIN_BUF_SIZE || c.r2h_buf_size > RPMSG_MAX_BUF_SIZE ||
	    c.r2h_buf_size % 16 || !c.h2r_num || !c.r2h_num) {
		pr_err("%s: bad rpmsg remote configuration", c.name);
		return keel::err(-EINVAL);
	}
	bufsz = c.h2r_buf_size != RPMSG_BUF_SIZE || c.r2h_buf_size != RPMSG_BUF_SIZE ||
		c.h2r_num != MAX_RPMSG_NUM_BUFS / 2 || c.r2h_num != MAX_RPMSG_NUM_BUFS / 2;
	/* Legacy device: the table has no VIRTIO_F_VERSION_1, the byte order is the CPU's. */
	constexpr bool le = keel::CPU_IS_LITTLE_ENDIAN;
	cfg_space.h2r_buf_size = cpu_to_rpmsg32(le, c.h2r_buf_size);
	cfg_space.r2h_buf_size = cpu_to_rpmsg32(le, c.r2h_buf_size);
	cfg_space.h2r_num = cpu_to_rpmsg32(le, c.h2r_num);
	cfg_space.r2h_num = cpu_to_rpmsg32(le, c.r2h_num);

	dev = new (GFP_KERNEL) RemoteDevice;
	if (!dev)
		return keel::err(-ENOMEM);
	(void)keel::device_initialize(*dev, keel::device_release_fn<RemoteDevice>());
	dev->set_parent(c.parent);
	TRY(dev->set_name("%s", c.name));
	TRY(keel::device_add(*dev));
	dev_added = true;

	TRY(init_pools());
	RpmsgLink::Params p;
	p.name = c.name;
	p.dev = dev;
	p.little_endian = le;
	p.rx_buf_size = c.h2r_buf_size;
	p.tx_buf_size = c.r2h_buf_size;
	p.nr_rx_slots = c.vring_num;
	p.config = c.link;
	if (!p.config.wait_doorbell)
		p.config.wait_doorbell = c.doorbell;
	TRY(link.init(p, GFP_KERNEL));
	TRY(link.create_ns_ept());

	virtio::ShmRemoteConfig rc;
	rc.name = c.name;
	rc.region = c.region;
	rc.doorbell = c.doorbell;
	rc.num_vdevs = 1;
	rc.vdevs[0].id = VIRTIO_ID_RPMSG;
	rc.vdevs[0].dfeatures = (c.name_service ? 1u << VIRTIO_RPMSG_F_NS : 0) |
				(1u << VIRTIO_RING_F_EVENT_IDX) |
				(bufsz ? 1u << VIRTIO_RPMSG_F_BUFSZ : 0);
	rc.vdevs[0].config_len = bufsz ? sizeof(cfg_space) : 0;
	rc.vdevs[0].config = bufsz ? &cfg_space : nullptr;
	rc.vdevs[0].num_of_vrings = 2;
	rc.vdevs[0].vring[0] = { rproc::FW_RSC_ADDR_ANY, c.vring_align, c.vring_num, 0, 0 };
	rc.vdevs[0].vring[1] = { rproc::FW_RSC_ADDR_ANY, c.vring_align, c.vring_num, 1, 0 };
	rc.kick = &Impl::kick;
	rc.kick_ctx = this;
	/* Before the transport enables the doorbell: set while it is disabled. */
	c.doorbell->set_peer_down(&Impl::peer_down, this);
	shm = TRY(ShmRemote::create(rc, GFP_KERNEL));
	return keel::ok();
}

/*
 * The pools are filled before the doorbell handler or any sender exists
 * (the ShmRemote is created last): nothing else can touch them yet, and
 * their allocations may sleep.
 */
Result<void> RpmsgRemote::Impl::init_pools() NO_THREAD_SAFETY_ANALYSIS
{
	/* SAFETY: see above; the locks guard the pools from the first session on. */
	TRY(rxp.init(cfg.vring_num));
	return txp.init(cfg.vring_num);
}

/* --- rx: vring 1 --- */

/*
 * Up to @budget chains of vring 1: each dispatched through the core and
 * returned used (length 0) unless held, then one notification if the
 * host asked for it. Chains are taken and returned in batches, one lock
 * hold each, and used->idx is published once per pass (the notification
 * check publishes it). Called by the core with the link's rx lock held.
 */
u32 RpmsgRemote::Impl::poll_rx(u32 budget)
{
	struct Taken {
		u16 idx;
		bool shape_ok;
		const u8 *buf;
		u32 len;
	};
	Taken batch[RX_BATCH];
	u16 done[RX_BATCH];
	u32 n = 0, ndone = 0;
	bool used = false;
	/* Asleep: served at resume(), which polls the ring again. */
	if (asleep.load())
		return 0;
	while (n < budget) {
		u32 nb = 0;
		{
			/* One lock for two steps: return the last batch, take the next. */
			Guard q{ m_rxq_lock };
			Vringh *vr = rx_ring();
			for (u32 k = 0; k < ndone; k++)
				used |= put_rx(vr, done[k]);
			ndone = 0;
			u32 want = keel::min(budget - n, RX_BATCH);
			while (vr && nb < want) {
				if (rxp.nfree == 0) {
					/*
					 * Every chain is held (clients, channels without a
					 * driver): the host may not kick again. A release
					 * brings us back (recycle_rx()).
					 */
					rx_starved.store(true);
					break;
				}
				/* Our own indices (< num): the free stack holds nothing else. */
				u16 idx = rxp.free.data()[--rxp.nfree];
				Chain &c = rxp.chains[idx];
				Result<bool> got = vr->getdesc(c);
				if (got.is_error() || !got.value()) {
					/* Empty, or broken (the ring logged it; the session ends). */
					rxp.free.data()[rxp.nfree++] = idx;
					break;
				}
				rxp.state.data()[idx] = ChainState::Busy;
				Taken &t = batch[nb++];
				t.idx = idx;
				t.shape_ok = rx_shape_ok(c);
				/* One readable segment when shape_ok (rx_shape_ok()). */
				t.buf = t.shape_ok ? c.readable().data()[0].base() : nullptr;
				t.len = c.read_len();
			}
		}
		if (!nb)
			break;
		for (u32 k = 0; k < nb; k++) {
			const Taken &t = batch[k];
			RpmsgLink::RxVerdict v = RpmsgLink::RxVerdict::Recycle;
			if (t.shape_ok) {
				v = link.receive(t.idx, t.buf, t.len);
			} else {
				link.stats().rx_bad.fetch_add(1, keel::MemoryOrder::Relaxed);
				link.stats().rx_last_error.store(-EINVAL,
								 keel::MemoryOrder::Relaxed);
				dev_warn_ratelimited(dev, "bad message: the host's buffer is not "
							  "one readable segment");
			}
			if (v == RpmsgLink::RxVerdict::Recycle)
				done[ndone++] = t.idx;
		}
		n += nb;
	}
	if (ndone || used) {
		Guard q{ m_rxq_lock };
		Vringh *vr = rx_ring();
		for (u32 k = 0; k < ndone; k++)
			used |= put_rx(vr, done[k]);
		if (used && vr && vr->need_notify())
			(void)shm->notify(0, 1);
	}
	return n;
}

/*
 * Returns chain @idx to the host through @vr, the session's vring 1 (used,
 * length 0; published later). True when it was returned; false between
 * sessions (@vr null).
 */
__always_inline bool RpmsgRemote::Impl::put_rx(Vringh *vr, u32 idx)
{
	/* @idx is ours (< num): a chain of the pool that poll_rx() took. */
	if (!vr || rxp.state.data()[idx] != ChainState::Busy)
		return false;
	(void)vr->push_used(rxp.chains[idx], 0);
	rxp.state.data()[idx] = ChainState::Free;
	rxp.free.data()[rxp.nfree++] = u16(idx);
	return true;
}

u32 RemoteOps::rx_poll(RpmsgLink &l, u32 budget) NO_THREAD_SAFETY_ANALYSIS
{
	/* SAFETY: the core calls the receive ops with l.m_rx_lock held (rpmsg_internal.h). */
	l.m_rx_lock.assert_held();
	return RpmsgRemote::Impl::of(l).poll_rx(budget);
}

/*
 * The receive hints act on vring 1 under m_rxq_lock: @op gets the ring
 * and the rx pool. Between sessions there is no ring; they answer @idle.
 */
template <typename Op> bool RemoteOps::on_rx_ring(RpmsgLink &l, bool idle, Op op)
{
	RpmsgRemote::Impl &im = RpmsgRemote::Impl::of(l);
	Guard q{ im.m_rxq_lock };
	Vringh *vr = im.rx_ring();
	return vr ? op(*vr, im.rxp) : idle;
}

void RemoteOps::rx_disable(RpmsgLink &l)
{
	(void)on_rx_ring(l, true, [](Vringh &vr, ChainPool &) {
		vr.notify_disable();
		return true;
	});
}

bool RemoteOps::rx_enable(RpmsgLink &l)
{
	return on_rx_ring(l, true, [&l](Vringh &vr, ChainPool &rxp) {
		/* Ask for the next kick, then look again: else a chain added meanwhile waits. */
		if (vr.notify_enable())
			return true;
		/* Chains wait, but with every one of ours held none can be taken: a release restarts. */
		if (rxp.nfree == 0) {
			RpmsgRemote::Impl::of(l).rx_starved.store(true);
			return true;
		}
		return false;
	});
}

bool RemoteOps::rx_pending(RpmsgLink &l)
{
	return on_rx_ring(l, false, [](Vringh &vr, ChainPool &rxp) {
		if (rxp.nfree == 0)
			return false;
		Result<u16> pending = vr.avail_pending();
		return pending.is_ok() && pending.value() > 0;
	});
}

void RemoteOps::recycle_rx(RpmsgLink &l, u32 cookie)
{
	RpmsgRemote::Impl &im = RpmsgRemote::Impl::of(l);
	Guard q{ im.m_rxq_lock };
	if (!im.up.load() || cookie >= im.rxp.num || im.rxp.state[cookie] != ChainState::Busy)
		return;
	Vringh *vr = im.shm->vringh(0, 1);
	(void)vr->add_used(im.rxp.chains[cookie], 0);
	im.rxp.state[cookie] = ChainState::Free;
	im.rxp.free[im.rxp.nfree++] = u16(cookie);
	if (vr->need_notify())
		(void)im.shm->notify(0, 1);
	/* Chains may wait in the ring that we had no room to take: look again. */
	if (im.rx_starved.exchange(false))
		im.link.rx_schedule();
}

/* --- tx: vring 0 --- */

/*
 * A chain of vring 0 to send in (marked Busy): a spare one, else the next
 * the host posted; @vr is set to the session's vring 0 for add_tx().
 */
Result<u16> RpmsgRemote::Impl::take_tx(Vringh *&vr)
{
	if (!up.load())
		return keel::err(-ENOTCONN);
	vr = shm->vringh(0, 0);
	if (!vr || vr->is_broken())
		return keel::err(-EPIPE);
	/* A sleeping processor sends nothing: no buffer until resume() wakes the senders. */
	if (asleep.load())
		return keel::err(-ENOMEM);
	ChainPool &p = txp;
	u16 idx;
	if (p.nspare) {
		idx = p.spare[--p.nspare];
	} else {
		/* Bounded: each bad buffer is given back, at most a ring's worth. */
		for (u32 tries = 0;; tries++) {
			if (p.nfree == 0 || tries > p.num)
				return keel::err(-ENOMEM);
			idx = p.free[--p.nfree];
			Chain &c = p.chains[idx];
			Result<bool> got = vr->getdesc(c);
			if (got.is_ok() && !got.value() && sleepers && !vr->notify_enable())
				/* Senders wait: re-arm the kick at each miss (event idx). */
				got = vr->getdesc(c);
			if (got.is_error() || !got.value()) {
				p.free[p.nfree++] = idx;
				if (!got.is_error())
					return keel::err(-ENOMEM);
				/* Broken (logged by the ring): every sender must know, not only us. */
				link.set_peer_gone(true);
				return keel::err(-EPIPE);
			}
			if (c.writable().size() == 1 && c.readable().size() == 0 &&
			    c.write_len() > RPMSG_HDR_SIZE)
				break;
			dev_warn_ratelimited(
				dev,
				"the host posted an rx buffer that is not one writable segment");
			(void)vr->add_used(c, 0);
			p.free[p.nfree++] = idx;
		}
	}
	p.state[idx] = ChainState::Busy;
	return idx;
}

/*
 * Returns Busy chain @idx to the host through @vr, the session's vring 0,
 * with @len bytes written; notify_tx() tells the host.
 */
__always_inline Result<void> RpmsgRemote::Impl::add_tx(Vringh *vr, u16 idx, u32 len)
{
	ChainPool &p = txp;
	Result<void> r = vr->add_used(p.chains[idx], len);
	p.state[idx] = ChainState::Free;
	p.free[p.nfree++] = idx;
	if (r.is_error())
		return keel::err(-EPIPE);
	return keel::ok();
}

/* Notifies the host of the chains add_tx() returned, as it asks. */
__always_inline Result<void> RpmsgRemote::Impl::notify_tx(Vringh *vr)
{
	if (vr->need_notify() && shm->notify(0, 0).is_error())
		return keel::err(-EPIPE);
	return keel::ok();
}

/* @b is a chain get_tx() lent and @len payload bytes fit it. */
__always_inline bool RpmsgRemote::Impl::lent_tx(const RpmsgTxBuf &b, u32 len)
{
	ChainPool &p = txp;
	if (b.cookie >= p.num || p.state[b.cookie] != ChainState::Busy)
		return false;
	Chain &c = p.chains[b.cookie];
	return b.payload.data() == c.writable()[0].base() + RPMSG_HDR_SIZE &&
	       len <= c.write_len() - RPMSG_HDR_SIZE;
}

Result<u32> RemoteOps::get_tx(RpmsgLink &l, Span<RpmsgTxBuf> out)
{
	RpmsgRemote::Impl &im = RpmsgRemote::Impl::of(l);
	Guard t{ im.m_tx_lock };
	u32 n = 0;
	for (RpmsgTxBuf &b : out) {
		Vringh *vr;
		Result<u16> idx = im.take_tx(vr);
		if (idx.is_error()) {
			/* Those taken stay good: a broken ring fails their send. */
			if (n)
				break;
			return idx.error();
		}
		Chain &c = im.txp.chains[idx.value()];
		u32 size = keel::min(c.write_len(), im.cfg.r2h_buf_size);
		b = RpmsgTxBuf{ Span<u8>(c.writable()[0].base() + RPMSG_HDR_SIZE,
					 size - RPMSG_HDR_SIZE),
				idx.value() };
		n++;
	}
	return n;
}

Result<void> RemoteOps::xmit(RpmsgLink &l, const RpmsgHdr &hdr, Span<const u8> data)
{
	RpmsgRemote::Impl &im = RpmsgRemote::Impl::of(l);
	Guard t{ im.m_tx_lock };
	Vringh *vr;
	u16 idx = TRY(im.take_tx(vr));
	Chain &c = im.txp.chains[idx];
	u32 len = RPMSG_HDR_SIZE + u32(data.size());
	if (len > keel::min(c.write_len(), im.cfg.r2h_buf_size)) {
		/* The host posted a buffer smaller than the configured size: the next send's. */
		im.txp.state[idx] = ChainState::Spare;
		im.txp.spare[im.txp.nspare++] = idx;
		return keel::err(-EMSGSIZE);
	}
	u8 *buf = c.writable()[0].base();
	memcpy(buf, &hdr, sizeof(hdr));
	if (data.size())
		memcpy(buf + RPMSG_HDR_SIZE, data.data(), data.size());
	TRY(im.add_tx(vr, idx, len));
	return im.notify_tx(vr);
}

Result<void> RemoteOps::submit_tx(RpmsgLink &l, u32 src, u32 dst, Span<const RpmsgTxBuf> bufs,
				  Span<const u32> lens)
{
	RpmsgRemote::Impl &im = RpmsgRemote::Impl::of(l);
	Guard t{ im.m_tx_lock };
	ChainPool &p = im.txp;
	/* All checked before any is sent; Sending marks those seen (a buffer given twice). */
	for (size_t k = 0; k < bufs.size(); k++) {
		if (!im.lent_tx(bufs[k], lens[k])) {
			while (k--)
				p.state[bufs[k].cookie] = ChainState::Busy;
			return keel::err(-EINVAL);
		}
		p.state[bufs[k].cookie] = ChainState::Sending;
	}
	Vringh *vr = im.tx_ring();
	if (!vr) {
		/* The session that lent them is gone: so are the buffers. */
		for (const RpmsgTxBuf &b : bufs) {
			p.state[b.cookie] = ChainState::Free;
			p.free[p.nfree++] = u16(b.cookie);
		}
		return keel::err(-ENOTCONN);
	}
	bool le = l.little_endian();
	RpmsgHdr hdr = rpmsg_hdr_encode(le, src, dst, 0);
	Result<void> r = keel::ok();
	for (size_t k = 0; k < bufs.size(); k++) {
		u16 idx = u16(bufs[k].cookie);
		if (r.is_error()) {
			/* The ring broke: the rest only go back to the pool. */
			p.state[idx] = ChainState::Free;
			p.free[p.nfree++] = idx;
			continue;
		}
		u8 *buf = p.chains[idx].writable()[0].base();
		hdr.len = cpu_to_rpmsg16(le, u16(lens[k]));
		memcpy(buf, &hdr, sizeof(hdr));
		r = im.add_tx(vr, idx, RPMSG_HDR_SIZE + lens[k]);
	}
	Result<void> n = im.notify_tx(vr);
	return r.is_error() ? r : n;
}

Result<void> RemoteOps::put_tx(RpmsgLink &l, u32 cookie, const u8 *buf)
{
	RpmsgRemote::Impl &im = RpmsgRemote::Impl::of(l);
	Guard t{ im.m_tx_lock };
	ChainPool &p = im.txp;
	if (cookie >= p.num || p.state[cookie] != ChainState::Busy ||
	    buf != p.chains[cookie].writable()[0].base())
		return keel::err(-EINVAL);
	/* Taken from the ring, not used: it is the next send's. */
	p.state[cookie] = ChainState::Spare;
	p.spare[p.nspare++] = u16(cookie);
	return keel::ok();
}

void RemoteOps::tx_wait(RpmsgLink &l, bool waiting)
{
	RpmsgRemote::Impl &im = RpmsgRemote::Impl::of(l);
	Guard t{ im.m_tx_lock };
	Vringh *vr = im.tx_ring();
	if (waiting) {
		/* The host kicks vring 0 when it posts rx buffers: ask for it while we wait. */
		if (im.sleepers++ == 0 && vr)
			(void)vr->notify_enable();
	} else if (--im.sleepers == 0 && vr) {
		vr->notify_disable();
	}
}

bool RemoteOps::tx_poll(RpmsgLink &l)
{
	RpmsgRemote::Impl &im = RpmsgRemote::Impl::of(l);
	Guard t{ im.m_tx_lock };
	Vringh *vr = im.tx_ring();
	if (!vr)
		return false;
	if (im.txp.nspare)
		return true;
	Result<u16> pending = vr->avail_pending();
	if (pending.is_ok() && pending.value() > 0 && im.txp.nfree)
		return true;
	/* Arm the next kick; false from notify_enable(): a buffer arrived meanwhile. */
	return !vr->notify_enable() && im.txp.nfree;
}

void RpmsgRemote::Impl::tx_kicked()
{
	{
		Guard t{ m_tx_lock };
		Vringh *vr = tx_ring();
		if (vr && sleepers == 0)
			vr->notify_disable();
	}
	link.tx_wake();
}

/* Doorbell context: the host rang @vring of @vdev (DOORBELL_ANY: unknown). */
void RpmsgRemote::Impl::kick(void *ctx, u32 vdev, u32 vring)
{
	Impl *im = static_cast<Impl *>(ctx);
	(void)vdev;
	if (vring == 1 || vring == keel::DOORBELL_ANY)
		im->link.rx_interrupt();
	if (vring == 0 || vring == keel::DOORBELL_ANY) {
		im->tx_kicked();
		/* Status changes ring too: let the session thread look. */
		im->wq.wake_up();
	}
}

/* Doorbell context: the host is gone (its process died, the link was cut). */
void RpmsgRemote::Impl::peer_down(void *ctx)
{
	Impl *im = static_cast<Impl *>(ctx);
	im->host_down.store(true);
	/* Its rings are dead: fail every sender now; the session thread ends the session. */
	im->link.set_peer_gone(true);
	im->wq.wake_up();
	dev_warn_ratelimited(im->dev, "host gone");
	if (im->cfg.host_gone)
		im->cfg.host_gone(im->cfg.host_gone_ctx);
}

/* --- sessions --- */

void RpmsgRemote::Impl::start_session()
{
	/* What the host wrote before DRIVER_OK (ordered by the transport's barriers; for TSan). */
	KEEL_TSAN_FENCE(__ATOMIC_ACQUIRE);
	starting.store(true);
	u32 gf = shm->gfeatures(0);
	/* New rings: the host's kicks are on until a pass turns them off. */
	link.rx_reset();
	/* Linux ignores VIRTIO_RPMSG_F_BUFSZ: then both ends use the defaults. */
	bool sizes = bufsz && (gf & (1u << VIRTIO_RPMSG_F_BUFSZ));
	link.set_buf_sizes(sizes ? cfg.h2r_buf_size : RPMSG_BUF_SIZE,
			   sizes ? cfg.r2h_buf_size : RPMSG_BUF_SIZE);
	{
		Guard rx{ link.m_rx_lock };
		Guard q{ m_rxq_lock };
		rxp.reset();
		Guard t{ m_tx_lock };
		txp.reset();
		Vringh *tx = shm->vringh(0, 0);
		/* Vring 0 kicks only while a sender waits. */
		if (tx && sleepers == 0)
			tx->notify_disable();
		up.store(true);
	}
	last_host_gen = shm->session_host_gen(0);
	had_session = true;
	host_down.store(false);
	link.set_peer_gone(false);
	link.set_peer_ns(gf & (1u << VIRTIO_RPMSG_F_NS));
	link.set_up(true);
	nr_sessions.fetch_add(1);
	dev_info(dev, "host session %u up", nr_sessions.load());
	wq.wake_up();
	/* Messages the host sent before our first look. */
	link.rx_interrupt();
	link.announce_all();
	starting.store(false);
}

void RpmsgRemote::Impl::end_session()
{
	link.set_up(false);
	{
		Guard rx{ link.m_rx_lock };
		Guard q{ m_rxq_lock };
		Guard t{ m_tx_lock };
		up.store(false);
	}
	link.rx_sync();
	/* The rings are gone with the session: what was held is dropped, not returned. */
	link.reclaim_rx();
	link.remove_channels(true);
	link.forget_announced();
	shm->drop_queues(0);
	dev_info(dev, "host session %u down", nr_sessions.load());
}

/*
 * After a host went away without resetting the device, its DRIVER_OK is
 * still in the table: a session may only start for another host session
 * (a new host_gen), never on the dead host's rings.
 */
bool RpmsgRemote::Impl::wait_new_host()
{
	if (!had_session)
		return true;
	Result<u32> gen = shm->read_host_gen();
	return gen.is_ok() && gen.value() != last_host_gen;
}

int RpmsgRemote::Impl::session_main(void *arg)
{
	Impl *im = static_cast<Impl *>(arg);
	while (!keel::Thread::should_stop()) {
		Result<void> r = im->shm->wait_driver_ok(0, DRIVER_OK_POLL_NS);
		if (r.is_ok() && !im->wait_new_host()) {
			im->shm->drop_queues(0);
			r = keel::err(-EAGAIN);
		}
		if (r.is_error()) {
			if (r.error().to_errno() != -ETIMEDOUT)
				(void)im->wq.wait_event_interruptible_timeout(
					[] { return keel::Thread::should_stop(); },
					SESSION_POLL_NS);
			continue;
		}
		im->start_session();
		while (!keel::Thread::should_stop() && !im->shm->host_reset(0) &&
		       !im->host_down.load())
			(void)im->wq.wait_event_interruptible_timeout(
				[im] {
					return keel::Thread::should_stop() || im->host_down.load();
				},
				SESSION_POLL_NS);
		im->end_session();
	}
	return 0;
}

/* --- the public class --- */

Result<keel::UniquePtr<RpmsgRemote>> RpmsgRemote::create(const RpmsgRemoteConfig &cfg,
							 keel::Gfp gfp)
{
	Impl *im = new (gfp) Impl(cfg);
	if (!im)
		return keel::err(-ENOMEM);
	RpmsgRemote *r = new (gfp) RpmsgRemote(im);
	if (!r) {
		delete im;
		return keel::err(-ENOMEM);
	}
	keel::UniquePtr<RpmsgRemote> remote(r);
	TRY(im->init());
	return remote;
}

RpmsgRemote::~RpmsgRemote()
{
	Impl *im = m_impl;
	stop();
	/* No doorbell handler runs once the ShmRemote is gone (it disabled the doorbell). */
	im->shm.reset();
	im->cfg.doorbell->set_peer_down(nullptr, nullptr);
	im->link.shutdown();
	/* Releases during the shutdown may have asked for another pass; it finds the link down. */
	im->link.rx_sync();
	if (im->dev) {
		if (im->dev_added)
			keel::device_del(*im->dev);
		im->dev->put();
	}
	delete im;
}

Result<void> RpmsgRemote::start()
{
	Impl *im = m_impl;
	if (im->thread)
		return keel::err(-EBUSY);
	TRY(im->shm->publish());
	/* Polling mode: the link's polling thread (it polls only while a session runs). */
	TRY(im->link.start_poller());
	Result<keel::Thread *> t = keel::Thread::run(&Impl::session_main, im, "rpmsg-remote");
	if (t.is_error()) {
		im->link.stop_poller();
		return t.error();
	}
	im->thread = t.value();
	return keel::ok();
}

void RpmsgRemote::stop()
{
	Impl *im = m_impl;
	if (im->thread) {
		(void)im->thread->stop();
		im->thread = nullptr;
	}
	im->link.stop_poller();
	im->link.rx_sync();
}

Result<keel::RefPtr<RpmsgDevice>> RpmsgRemote::add_service(const char *name, const char *driver,
							   u32 addr)
{
	RpmsgChannelInfo ci = {};
	if (keel::strscpy(ci.name, name, sizeof(ci.name)).is_error())
		return keel::err(-EINVAL);
	ci.src = addr;
	ci.dst = RPMSG_ADDR_ANY;
	return m_impl->link.add_channel(ci, true, driver, false);
}

Result<void> RpmsgRemote::remove_service(const char *name)
{
	return m_impl->link.remove_channel(name, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
}

bool RpmsgRemote::link_up() const
{
	return m_impl->up.load();
}

bool RpmsgRemote::wait_link_up(s64 timeout_ns)
{
	return m_impl->wq.wait_event_timeout([this] { return m_impl->up.load(); }, timeout_ns) > 0;
}

u32 RpmsgRemote::sessions() const
{
	return m_impl->nr_sessions.load();
}

Result<void> RpmsgRemote::suspend()
{
	Impl *im = m_impl;
	{
		Guard rx{ im->link.m_rx_lock };
		Guard q{ im->m_rxq_lock };
		Guard t{ im->m_tx_lock };
		/*
		 * A host session we have not joined yet (or not left yet): the
		 * session thread has work, and a session must start awake.
		 */
		bool host_waits = (im->shm->status(0) & VIRTIO_CONFIG_S_DRIVER_OK) &&
				  (!im->up.load() || im->shm->host_reset(0));
		if (host_waits || im->starting.load())
			return keel::err(-EBUSY);
		if (im->up.load()) {
			Vringh *vr = im->shm->vringh(0, 1);
			Result<u16> pending = vr ? vr->avail_pending() : Result<u16>(u16(0));
			/* Work left: messages not taken, buffers held, a send under way. */
			if ((pending.is_ok() && pending.value() > 0) ||
			    im->rxp.nfree != im->rxp.num ||
			    im->txp.nfree + im->txp.nspare != im->txp.num || im->sleepers)
				return keel::err(-EBUSY);
		}
		im->asleep.store(true);
	}
	dev_dbg(im->dev, "asleep");
	return keel::ok();
}

void RpmsgRemote::resume()
{
	Impl *im = m_impl;
	{
		Guard rx{ im->link.m_rx_lock };
		Guard q{ im->m_rxq_lock };
		Guard t{ im->m_tx_lock };
		im->asleep.store(false);
	}
	/* What the host queued while we slept, in order; then senders waiting for buffers. */
	im->link.rx_schedule();
	im->tx_kicked();
	dev_dbg(im->dev, "awake");
}

bool RpmsgRemote::asleep() const
{
	return m_impl->asleep.load();
}

keel::Device &RpmsgRemote::device()
{
	return *m_impl->dev;
}

RpmsgLink &RpmsgRemote::link()
{
	return m_impl->link;
}

} // namespace rpmsg
