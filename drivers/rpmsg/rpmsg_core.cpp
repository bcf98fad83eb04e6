// SPDX-License-Identifier: GPL-2.0
/*
 * The rpmsg core (Linux drivers/rpmsg/rpmsg_core.c, and the parts of
 * virtio_rpmsg_bus.c every transport needs): the rpmsg bus, channel
 * devices and their drivers, endpoints and their dispatch, received-header
 * validation, and the send path. Transports (virtio_rpmsg_bus.cpp for the
 * host role, rpmsg_remote.cpp for the remote role) only move buffers.
 *
 * rpmsg_internal.h has the lock order; Documentation/rpmsg.rst the rules.
 */
#include <keel/log.h>
#include <keel/pm_runtime.h>
#include <keel/string.h>
#include <keel/time.h>

#include "rpmsg_internal.h"

namespace rpmsg {

using keel::Guard;
using keel::RefPtr;

static_assert(sizeof(RpmsgEndpoint) <= 128, "an endpoint must fit the 128-byte budget");

namespace {

constinit keel::Atomic<u32> s_init_count;

RpmsgDevice &to_rpdev(keel::Device &dev)
{
	/* SAFETY: every device on the rpmsg bus is an RpmsgDevice (only the core adds them). */
	return static_cast<RpmsgDevice &>(dev);
}

const RpmsgDriver &to_rpdrv(const keel::Driver &drv)
{
	/* SAFETY: only RpmsgDriver's constructor names rpmsg_bus for a driver. */
	return static_cast<const RpmsgDriver &>(drv);
}

} // namespace

/* --- the bus --- */

struct RpmsgBusOps {
	static int match(keel::Device &dev, const keel::Driver &drv)
	{
		return to_rpdrv(drv).match(to_rpdev(dev).channel_name()) ? 1 : 0;
	}

	/* Linux rpmsg_dev_probe(): the default endpoint, the driver's probe, the announcement. */
	static Result<void> probe(keel::Device &dev, const keel::Driver &drv)
	{
		RpmsgDevice &rpdev = to_rpdev(dev);
		RpmsgLink *link = RpmsgCore::link_of(rpdev);
		RpmsgRxCb cb = to_rpdrv(drv).callback();
		rpdev.m_unbinding.store(false);
		link->claim_default(rpdev, cb);
		Result<void> r = drv.call_probe(dev);
		if (r.is_error()) {
			link->quiesce_default(rpdev);
			link->reap_endpoints(rpdev);
			return r;
		}
		link->activate_default(rpdev, dev.raw_drvdata());
		Result<void> a = link->announce(rpdev, true);
		if (a.is_error())
			dev_err(&dev, "failed to announce the channel: %d", a.error().to_errno());
		return keel::ok();
	}

	/*
	 * Linux rpmsg_dev_remove(), with the callbacks stopped before the
	 * driver's remove rather than after it: remove() may free what
	 * on_message() uses.
	 */
	static void remove(keel::Device &dev, const keel::Driver &drv)
	{
		RpmsgDevice &rpdev = to_rpdev(dev);
		RpmsgLink *link = RpmsgCore::link_of(rpdev);
		rpdev.m_unbinding.store(true);
		link->tx_wake();
		(void)link->announce(rpdev, false);
		link->quiesce_default(rpdev);
		drv.call_remove(dev);
		link->reap_endpoints(rpdev);
	}
};

namespace {
constexpr keel::BusType rpmsg_bus_type = {
	.name = "rpmsg",
	.match = &RpmsgBusOps::match,
	.probe = &RpmsgBusOps::probe,
	.remove = &RpmsgBusOps::remove,
};
} // namespace

constinit keel::Bus rpmsg_bus{ rpmsg_bus_type };

/*
 * The link registry: every link between init() and shutdown(), and the
 * interfaces that hear of them. It lives while the rpmsg bus is
 * registered (allocated by the first rpmsg_init(), as the driver core
 * allocates a bus's private part), so that it needs no constructor.
 */
struct RpmsgLinkRegistry : keel::NonMovable {
	keel::Mutex lock{ "rpmsg_link_registry", KEEL_LOCK_KEY() };
	keel::List<RpmsgLink, &RpmsgLink::m_reg_node> links GUARDED_BY(lock);
	keel::List<RpmsgLinkInterface, &RpmsgLinkInterface::m_node> intfs GUARDED_BY(lock);

	static void add(RpmsgLink &link);
	static void remove(RpmsgLink &link);
};

namespace {
constinit keel::Atomic<RpmsgLinkRegistry *> s_links{ nullptr };
} // namespace

void RpmsgLinkRegistry::add(RpmsgLink &link)
{
	RpmsgLinkRegistry *reg = s_links.load(keel::MemoryOrder::Acquire);
	if (!reg)
		return;
	Guard g{ reg->lock };
	reg->links.push_back(link);
	link.m_registered = true;
	for (RpmsgLinkInterface &intf : reg->intfs)
		intf.add_link(intf, link);
}

void RpmsgLinkRegistry::remove(RpmsgLink &link)
{
	RpmsgLinkRegistry *reg = s_links.load(keel::MemoryOrder::Acquire);
	if (!reg)
		return;
	Guard g{ reg->lock };
	if (!link.m_registered)
		return;
	for (RpmsgLinkInterface &intf : reg->intfs)
		intf.remove_link(intf, link);
	reg->links.remove(link);
	link.m_registered = false;
}

Result<void> rpmsg_link_interface_register(RpmsgLinkInterface &intf)
{
	might_sleep();
	RpmsgLinkRegistry *reg = s_links.load(keel::MemoryOrder::Acquire);
	if (!reg)
		return keel::err(-ENODEV);
	Guard g{ reg->lock };
	if (intf.m_node.is_linked())
		return keel::err(-EEXIST);
	reg->intfs.push_back(intf);
	for (RpmsgLink &link : reg->links)
		intf.add_link(intf, link);
	return keel::ok();
}

void rpmsg_link_interface_unregister(RpmsgLinkInterface &intf)
{
	might_sleep();
	RpmsgLinkRegistry *reg = s_links.load(keel::MemoryOrder::Acquire);
	if (!reg)
		return;
	Guard g{ reg->lock };
	if (!intf.m_node.is_linked())
		return;
	reg->intfs.remove(intf);
	for (RpmsgLink &link : reg->links)
		intf.remove_link(intf, link);
}

Result<void> rpmsg_init()
{
	if (s_init_count.fetch_add(1) == 0) {
		RpmsgLinkRegistry *reg = new (GFP_KERNEL) RpmsgLinkRegistry;
		Result<void> r = reg ? keel::bus_register(rpmsg_bus) : keel::err(-ENOMEM);
		if (r.is_error()) {
			delete reg;
			s_init_count.fetch_sub(1);
			pr_err("rpmsg: failed to register the rpmsg bus: %d", r.error().to_errno());
			return r;
		}
		s_links.store(reg, keel::MemoryOrder::Release);
	}
	return keel::ok();
}

void rpmsg_exit()
{
	if (s_init_count.sub_return(1) == 0) {
		RpmsgLinkRegistry *reg = s_links.exchange(nullptr);
		if (reg) {
			{
				Guard g{ reg->lock };
				WARN_ON(!reg->links.is_empty() || !reg->intfs.is_empty());
			}
			delete reg;
		}
		keel::bus_unregister(rpmsg_bus);
	}
}

const RpmsgDeviceId *RpmsgDriver::match(const char *name) const
{
	for (const RpmsgDeviceId &id : m_ids)
		if (strncmp(id.name, name, RPMSG_NAME_SIZE) == 0)
			return &id;
	return nullptr;
}

Result<void> register_rpmsg_driver(RpmsgDriver &drv)
{
	return keel::driver_register(drv);
}

void unregister_rpmsg_driver(RpmsgDriver &drv)
{
	keel::driver_unregister(drv);
}

Result<void> module_driver_init(RpmsgDriver &drv)
{
	TRY(rpmsg_init());
	Result<void> r = register_rpmsg_driver(drv);
	if (r.is_error())
		rpmsg_exit();
	return r;
}

void module_driver_exit(RpmsgDriver &drv)
{
	unregister_rpmsg_driver(drv);
	rpmsg_exit();
}

bool RpmsgDevice::little_endian() const
{
	return m_link ? m_link->little_endian() : true;
}

void RpmsgDevice::release()
{
	delete this;
}

bool RpmsgCore::valid_name(const char *name, size_t size)
{
	size_t n = strnlen(name, size);
	if (n == 0 || n >= size || n >= RPMSG_NAME_SIZE)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = static_cast<unsigned char>(name[i]);
		if (c < 0x20 || c > 0x7e)
			return false;
	}
	return true;
}

/* --- endpoints --- */

bool RpmsgEndpoint::enter()
{
	return m_users.inc_unless_set(DEAD);
}

RpmsgLink::~RpmsgLink()
{
	/* A link that never shut down (a failed set-up) still leaves the registry. */
	RpmsgLinkRegistry::remove(*this);
	WARN_ON(m_nr_held.load() || m_nr_client_held.load());
	keel::kfree(m_nsq);
}

Result<void> RpmsgLink::init(const Params &p, keel::Gfp gfp)
{
	if (!p.dev || p.nr_rx_slots == 0 || p.nr_rx_slots >= RpmsgEndpoint::NO_SLOT ||
	    p.rx_buf_size < RPMSG_MIN_BUF_SIZE || p.rx_buf_size > RPMSG_MAX_BUF_SIZE ||
	    p.tx_buf_size < RPMSG_MIN_BUF_SIZE || p.tx_buf_size > RPMSG_MAX_BUF_SIZE)
		return keel::err(-EINVAL);
	m_name = p.name;
	m_dev = p.dev;
	m_le = p.little_endian;
	set_buf_sizes(p.rx_buf_size, p.tx_buf_size);
	m_cfg = p.config;
	m_pm_dev = p.pm_dev;
	if (m_cfg.hold_max == RPMSG_HOLD_NONE)
		m_hold_max = 0;
	else if (m_cfg.hold_max == 0)
		m_hold_max = p.nr_rx_slots / 8 ? p.nr_rx_slots / 8 : 1;
	else
		m_hold_max = keel::min(m_cfg.hold_max, p.nr_rx_slots);
	m_client_hold_max = m_cfg.client_hold_max ? keel::min(m_cfg.client_hold_max, p.nr_rx_slots)
						  : p.nr_rx_slots;
	auto slots = TRY(keel::UniqueArray<RxSlot>::create(p.nr_rx_slots, gfp));
	TRY(ns_init(gfp));
	{
		Guard g{ m_ept_lock };
		m_slots = keel::move(slots);
		m_nr_slots = p.nr_rx_slots;
	}
	RpmsgLinkRegistry::add(*this);
	return keel::ok();
}

u32 RpmsgLink::nr_endpoints()
{
	Guard g{ m_ept_lock };
	return m_epts.count();
}

u32 RpmsgLink::nr_channels()
{
	Guard g{ m_chan_lock };
	return m_nr_channels;
}

void RpmsgLink::set_up(bool up)
{
	m_up.store(up, keel::MemoryOrder::Release);
	m_sendq.wake_up();
	/* The polling thread sleeps while the link is down. */
	m_poll_kicks.fetch_add(1, keel::MemoryOrder::Release);
	m_pollq.wake_up();
}

void RpmsgLink::set_peer_gone(bool gone)
{
	if (m_peer_gone.exchange(gone, keel::MemoryOrder::AcqRel) == gone)
		return;
	/* Waiters re-check their condition after this store: none is left behind. */
	m_sendq.wake_up();
}

/*
 * The remote's runtime PM (its remoteproc's device), as Linux remoteproc
 * platform drivers do around a kick (omap_rproc_kick()): get_sync before,
 * mark_last_busy and put_autosuspend after. A disabled device answers
 * -EACCES unless active: runtime PM is off then, not an error.
 */
__always_inline Result<void> RpmsgLink::pm_get()
{
	if (!m_pm_dev)
		return keel::ok();
	if (!keel_port_in_atomic()) {
		Result<void> r = keel::pm_runtime_get_sync(*m_pm_dev);
		if (r.is_error() && r.error().to_errno() != -EACCES)
			return r;
		return keel::ok();
	}
	/* A callback cannot wait for a resume: go ahead only when the remote is awake. */
	keel::pm_runtime_get_noresume(*m_pm_dev);
	if (keel::pm_runtime_active(*m_pm_dev) || !keel::pm_runtime_enabled(*m_pm_dev))
		return keel::ok();
	(void)keel::pm_request_resume(*m_pm_dev);
	return keel::err(-EAGAIN);
}

void RpmsgLink::pm_put()
{
	if (!m_pm_dev)
		return;
	keel::pm_runtime_mark_last_busy(*m_pm_dev);
	keel::pm_runtime_put_autosuspend(*m_pm_dev);
}

Result<RefPtr<RpmsgEndpoint>> RpmsgLink::create_ept(RpmsgDevice *rpdev, RpmsgRxCb cb, void *priv,
						    u32 addr, bool pending)
{
	might_sleep();
	if (m_dying.load())
		return keel::err(-ENODEV);
	RpmsgEndpoint *raw = new (GFP_KERNEL) RpmsgEndpoint(this, rpdev, cb, priv);
	if (!raw)
		return keel::err(-ENOMEM);
	/* The caller's reference; the table takes its own once the address is set. */
	RefPtr<RpmsgEndpoint> ept = keel::adopt_ref(raw);
	ept->m_state = pending ? RpmsgEndpoint::State::Pending : RpmsgEndpoint::State::Active;
	Guard m{ m_ept_mutex };
	TRY(preload_ids());
	Guard g{ m_ept_lock };
	if (addr == RPMSG_ADDR_ANY) {
		Result<u32> id = m_epts.alloc(raw, RPMSG_RESERVED_ADDRESSES, 0, GFP_ATOMIC);
		if (id.is_error()) {
			dev_err(m_dev, "no free endpoint address: %d", id.error().to_errno());
			return id.error();
		}
		raw->m_addr = id.value();
	} else {
		Result<void> r = m_epts.alloc_exact(raw, addr, GFP_ATOMIC);
		if (r.is_error())
			return r.error().to_errno() == -EINVAL ? r.error() : keel::err(-EBUSY);
		raw->m_addr = addr;
	}
	raw->get();
	return ept;
}

/*
 * Nodes for the next id allocation, allocated outside the spinlock. Only
 * paths holding m_ept_mutex touch the spare list, so the nodes are still
 * there when the allocation runs under the spinlock.
 */
Result<void> RpmsgLink::preload_ids() NO_THREAD_SAFETY_ANALYSIS
{
	/* SAFETY: the spare list is only used under m_ept_mutex (held by the caller). */
	m_ept_mutex.assert_held();
	return m_epts.preload(0, GFP_KERNEL);
}

void RpmsgLink::destroy_ept(RpmsgEndpoint &ept)
{
	might_sleep();
	{
		Guard m{ m_ept_mutex };
		u32 old = ept.m_users.fetch_or(RpmsgEndpoint::DEAD);
		if (old & RpmsgEndpoint::DEAD)
			return;
		Guard g{ m_ept_lock };
		if (m_epts.find(ept.m_addr) == &ept)
			(void)m_epts.remove(ept.m_addr);
	}
	/* Callbacks run under m_rx_lock after finding the endpoint: wait for a running one. */
	{
		Guard rx{ m_rx_lock };
		forget_rx_ept(ept);
	}
	/* Senders waiting for a tx buffer see the endpoint dead and leave. */
	m_sendq.wake_up();
	for (u32 spins = 0; ept.m_users.load(keel::MemoryOrder::Acquire) & RpmsgEndpoint::USERS;
	     spins++) {
		if (spins < 1000)
			keel::cpu_relax();
		else
			keel::msleep(1);
	}
	flush_held(ept, false);
	drop_client_held(&ept);
	/* The table's reference. */
	ept.put();
}

/* --- receiving --- */

/*
 * The hint (m_rx_hint) remembers what the locked lookup of dispatch() last
 * found for an Active endpoint; it is only ever that lookup's result, and
 * receive() delivers a message to the same address from it. It stays
 * right while m_rx_lock is held: an endpoint leaves the table (destroy)
 * or turns Pending (quiesce) under m_ept_lock and then takes m_rx_lock to
 * wait for running callbacks, and forgets the hint there. A message
 * delivered from the hint between those two steps is one that found the
 * endpoint just before the change, as the lookup could have; the
 * endpoint is still alive (destroy drops the table's reference later).
 */
void RpmsgLink::forget_rx_ept(const RpmsgEndpoint &ept)
{
	if (m_rx_hint.ept == &ept)
		m_rx_hint = {};
}

/* Runs the callback; inlined into the receive path (one call per message). */
__always_inline RpmsgLink::RxVerdict RpmsgLink::deliver(RpmsgEndpoint &ept, RpmsgRxCb cb,
							void *priv, u32 slot, u32 src,
							const u8 *data, u16 len)
{
	ept.m_cur_slot = u16(slot);
	ept.m_cur_held = false;
	Result<void> r = cb(ept, Span<const u8>(data, len), src, priv);
	ept.m_cur_slot = RpmsgEndpoint::NO_SLOT;
	m_stats.rx_delivered.fetch_add(1, keel::MemoryOrder::Relaxed);
	if (r.is_error())
		m_stats.rx_cb_errors.fetch_add(1, keel::MemoryOrder::Relaxed);
	return ept.m_cur_held ? RxVerdict::Keep : RxVerdict::Recycle;
}

RpmsgLink::RxVerdict RpmsgLink::receive(u32 slot, const u8 *buf, u32 len)
{
	if (slot >= m_nr_slots || !buf) {
		WARN_ON_ONCE(true);
		return RxVerdict::Recycle;
	}
	/* Traffic from the remote keeps it awake as traffic to it does. */
	if (m_pm_dev)
		keel::pm_runtime_mark_last_busy(*m_pm_dev);
	if (len < RPMSG_HDR_SIZE) {
		m_stats.rx_bad.fetch_add(1, keel::MemoryOrder::Relaxed);
		m_stats.rx_last_error.store(-EINVAL, keel::MemoryOrder::Relaxed);
		dev_warn_ratelimited(m_dev, "bad message: %u bytes, too short for a header", len);
		return RxVerdict::Recycle;
	}
	/* Read the header once, into a private copy: the remote may rewrite it meanwhile. */
	RpmsgHdr h;
	memcpy(&h, buf, sizeof(h));
	u32 src = rpmsg32_to_cpu(m_le, h.src);
	u32 dst = rpmsg32_to_cpu(m_le, h.dst);
	u16 msg_len = rpmsg16_to_cpu(m_le, h.len);
	u32 room = rx_buf_size() - RPMSG_HDR_SIZE;
	if (msg_len > room) {
		m_stats.rx_bad.fetch_add(1, keel::MemoryOrder::Relaxed);
		m_stats.rx_last_error.store(-EINVAL, keel::MemoryOrder::Relaxed);
		dev_warn_ratelimited(m_dev,
				     "bad message: length %u above the buffer's %u payload bytes",
				     msg_len, room);
		return RxVerdict::Recycle;
	}
	if (msg_len > len - RPMSG_HDR_SIZE) {
		m_stats.rx_bad.fetch_add(1, keel::MemoryOrder::Relaxed);
		m_stats.rx_last_error.store(-EINVAL, keel::MemoryOrder::Relaxed);
		dev_warn_ratelimited(m_dev,
				     "bad message: length %u above the %u payload bytes received",
				     msg_len, len - RPMSG_HDR_SIZE);
		return RxVerdict::Recycle;
	}
	if (m_rx_hint.ept && m_rx_hint.addr == dst)
		return deliver(*m_rx_hint.ept, m_rx_hint.cb, m_rx_hint.priv, slot, src,
			       buf + RPMSG_HDR_SIZE, msg_len);
	return dispatch(slot, src, dst, buf + RPMSG_HDR_SIZE, msg_len);
}

RpmsgLink::RxVerdict RpmsgLink::dispatch(u32 slot, u32 src, u32 dst, const u8 *data, u16 len)
{
	RpmsgEndpoint *ept;
	RpmsgRxCb cb = nullptr;
	void *priv = nullptr;
	{
		Guard g{ m_ept_lock };
		ept = dst <= keel::Idr::ID_MAX ? static_cast<RpmsgEndpoint *>(m_epts.find(dst))
					       : nullptr;
		if (ept && ept->m_state == RpmsgEndpoint::State::Pending) {
			if (m_nr_held.load(keel::MemoryOrder::Relaxed) >= m_hold_max) {
				m_stats.rx_hold_dropped.fetch_add(1, keel::MemoryOrder::Relaxed);
				m_stats.rx_last_error.store(-ENOBUFS, keel::MemoryOrder::Relaxed);
				dev_warn_ratelimited(m_dev,
						     "message to 0x%x dropped: no driver bound, %u "
						     "messages held already",
						     dst, m_hold_max);
				return RxVerdict::Recycle;
			}
			RxSlot &s = m_slots[slot];
			s.data = data;
			s.held_at = keel::ktime_get_ns();
			s.owner = nullptr;
			s.src = src;
			s.len = len;
			s.next = RpmsgEndpoint::NO_SLOT;
			s.state = RxSlotState::Pending;
			if (ept->m_held_tail == RpmsgEndpoint::NO_SLOT)
				ept->m_held_head = u16(slot);
			else
				m_slots[ept->m_held_tail].next = u16(slot);
			ept->m_held_tail = u16(slot);
			m_nr_held.fetch_add(1, keel::MemoryOrder::Relaxed);
			m_stats.rx_held.fetch_add(1, keel::MemoryOrder::Relaxed);
			(void)m_hold_work.schedule(m_cfg.hold_timeout_ns);
			return RxVerdict::Keep;
		}
		if (ept) {
			cb = ept->m_cb;
			priv = ept->m_priv;
		}
	}
	if (cb)
		m_rx_hint = { dst, ept, cb, priv };
	if (!cb) {
		m_stats.rx_no_recipient.fetch_add(1, keel::MemoryOrder::Relaxed);
		m_stats.rx_last_error.store(-ENXIO, keel::MemoryOrder::Relaxed);
		if (!m_dying.load(keel::MemoryOrder::Relaxed))
			dev_warn_ratelimited(m_dev,
					     "message from 0x%x to 0x%x: no recipient, dropped",
					     src, dst);
		return RxVerdict::Recycle;
	}
	return deliver(*ept, cb, priv, slot, src, data, len);
}

/*
 * Delivers (or drops) the messages held for @ept, oldest first. With
 * @deliver_them the endpoint turns Active once none is left: new messages
 * cannot overtake held ones, since dispatch() also needs m_rx_lock.
 */
void RpmsgLink::flush_held(RpmsgEndpoint &ept, bool deliver_them)
{
	Guard rx{ m_rx_lock };
	for (;;) {
		u16 s;
		const u8 *data;
		u32 src;
		u16 len;
		RpmsgRxCb cb;
		void *priv;
		{
			Guard g{ m_ept_lock };
			s = ept.m_held_head;
			if (s == RpmsgEndpoint::NO_SLOT) {
				if (deliver_them)
					ept.m_state = RpmsgEndpoint::State::Active;
				return;
			}
			RxSlot &sl = m_slots[s];
			ept.m_held_head = sl.next;
			if (ept.m_held_head == RpmsgEndpoint::NO_SLOT)
				ept.m_held_tail = RpmsgEndpoint::NO_SLOT;
			sl.state = RxSlotState::Free;
			data = sl.data;
			src = sl.src;
			len = sl.len;
			cb = ept.m_cb;
			priv = ept.m_priv;
			m_nr_held.fetch_sub(1, keel::MemoryOrder::Relaxed);
		}
		RxVerdict v = RxVerdict::Recycle;
		if (deliver_them && cb)
			v = deliver(ept, cb, priv, s, src, data, len);
		else
			m_stats.rx_hold_dropped.fetch_add(1, keel::MemoryOrder::Relaxed);
		if (v == RxVerdict::Recycle)
			m_ops->recycle_rx(*this, s);
	}
}

/* Drops held messages older than the hold timeout; re-arms for the rest. */
void RpmsgLink::expire_held()
{
	constexpr u32 BATCH = 16;
	s64 now = keel::ktime_get_ns();
	s64 timeout = m_cfg.hold_timeout_ns;
	bool again = true;
	while (again) {
		u16 batch[BATCH];
		u32 n = 0;
		u32 last_dst = 0;
		s64 next = 0;
		again = false;
		Guard rx{ m_rx_lock };
		{
			Guard g{ m_ept_lock };
			RxSlot *slots = m_slots.data();
			m_epts.for_each([&](u32 id, void *p) {
				RpmsgEndpoint *ept = static_cast<RpmsgEndpoint *>(p);
				while (ept->m_held_head != RpmsgEndpoint::NO_SLOT) {
					RxSlot &sl = slots[ept->m_held_head];
					if (now - sl.held_at < timeout) {
						s64 due = sl.held_at + timeout;
						next = next == 0 || due < next ? due : next;
						break;
					}
					if (n == BATCH) {
						again = true;
						return false;
					}
					batch[n++] = ept->m_held_head;
					last_dst = id;
					ept->m_held_head = sl.next;
					if (ept->m_held_head == RpmsgEndpoint::NO_SLOT)
						ept->m_held_tail = RpmsgEndpoint::NO_SLOT;
					sl.state = RxSlotState::Free;
					m_nr_held.fetch_sub(1, keel::MemoryOrder::Relaxed);
				}
				return true;
			});
		}
		if (n) {
			m_stats.rx_hold_dropped.fetch_add(n, keel::MemoryOrder::Relaxed);
			m_stats.rx_last_error.store(-ETIMEDOUT, keel::MemoryOrder::Relaxed);
			dev_warn_ratelimited(m_dev,
					     "%u held message(s) to 0x%x dropped: no driver bound "
					     "within %lld ms",
					     n, last_dst, (long long)keel::ns_to_ms(timeout));
		}
		for (u32 i = 0; i < n; i++)
			m_ops->recycle_rx(*this, batch[i]);
		if (!again && next)
			(void)m_hold_work.schedule(next - now > 0 ? next - now : 1);
	}
}

void RpmsgLink::hold_work_fn(keel::DelayedWork &w)
{
	keel::container_of(&w, &RpmsgLink::m_hold_work)->expire_held();
}

/* Gives back the rx buffers @owner (nullptr: anyone) holds; the link must still run. */
void RpmsgLink::drop_client_held(RpmsgEndpoint *owner)
{
	for (u32 s = 0;; s++) {
		bool mine;
		{
			Guard g{ m_ept_lock };
			if (s >= m_slots.size())
				return;
			RxSlot &sl = m_slots[s];
			mine = sl.state == RxSlotState::Client && (!owner || sl.owner == owner);
			if (mine) {
				sl.state = RxSlotState::Free;
				sl.owner = nullptr;
				m_nr_client_held.fetch_sub(1, keel::MemoryOrder::Relaxed);
			}
		}
		if (mine)
			m_ops->recycle_rx(*this, s);
	}
}

void RpmsgLink::reclaim_rx()
{
	Guard rx{ m_rx_lock };
	Guard g{ m_ept_lock };
	m_epts.for_each([](u32, void *p) {
		RpmsgEndpoint *ept = static_cast<RpmsgEndpoint *>(p);
		ept->m_held_head = ept->m_held_tail = RpmsgEndpoint::NO_SLOT;
		return true;
	});
	u32 dropped = 0;
	for (u32 s = 0; s < m_slots.size(); s++) {
		RxSlot &sl = m_slots[s];
		dropped += sl.state == RxSlotState::Pending;
		sl.state = RxSlotState::Free;
		sl.owner = nullptr;
		sl.gen++;
	}
	m_stats.rx_hold_dropped.fetch_add(dropped, keel::MemoryOrder::Relaxed);
	m_nr_held.store(0);
	m_nr_client_held.store(0);
}

void RpmsgLink::forget_announced()
{
	Guard c{ m_chan_lock };
	for (RpmsgDevice &ch : m_channels)
		ch.m_announced.store(false);
}

Result<RpmsgRxToken> RpmsgLink::hold_rx(RpmsgEndpoint &ept)
{
	u16 s = ept.m_cur_slot;
	if (s == RpmsgEndpoint::NO_SLOT || ept.m_cur_held)
		return keel::err(-EINVAL);
	Guard g{ m_ept_lock };
	if (m_nr_client_held.load(keel::MemoryOrder::Relaxed) >= m_client_hold_max)
		return keel::err(-ENOBUFS);
	RxSlot &sl = m_slots[s];
	sl.state = RxSlotState::Client;
	sl.owner = &ept;
	sl.gen++;
	m_nr_client_held.fetch_add(1, keel::MemoryOrder::Relaxed);
	ept.m_cur_held = true;
	return RpmsgRxToken{ (u32(sl.gen) << 16) | s };
}

Result<void> RpmsgLink::release_rx(RpmsgEndpoint &ept, RpmsgRxToken token)
{
	u32 s = token.cookie & 0xffff;
	u16 gen = u16(token.cookie >> 16);
	{
		Guard g{ m_ept_lock };
		if (s >= m_slots.size())
			return keel::err(-EINVAL);
		RxSlot &sl = m_slots[s];
		if (sl.state != RxSlotState::Client || sl.owner != &ept || sl.gen != gen)
			return keel::err(-EINVAL);
		sl.state = RxSlotState::Free;
		sl.owner = nullptr;
		m_nr_client_held.fetch_sub(1, keel::MemoryOrder::Relaxed);
	}
	m_ops->recycle_rx(*this, s);
	return keel::ok();
}

/* --- the default endpoint across bind and unbind --- */

void RpmsgLink::claim_default(RpmsgDevice &rpdev, RpmsgRxCb cb)
{
	Guard g{ m_ept_lock };
	rpdev.m_ept->m_cb = cb;
	rpdev.m_ept->m_priv = nullptr;
}

void RpmsgLink::activate_default(RpmsgDevice &rpdev, void *priv)
{
	{
		Guard g{ m_ept_lock };
		rpdev.m_ept->m_priv = priv;
	}
	flush_held(*rpdev.m_ept, true);
}

void RpmsgLink::quiesce_default(RpmsgDevice &rpdev)
{
	RpmsgEndpoint &ept = *rpdev.m_ept;
	{
		Guard g{ m_ept_lock };
		ept.m_state = RpmsgEndpoint::State::Pending;
	}
	/* A callback found the endpoint Active before: it runs under m_rx_lock. Wait for it. */
	{
		Guard rx{ m_rx_lock };
		forget_rx_ept(ept);
	}
	/* Nothing runs the old callback now; buffers it held stay valid until released. */
	Guard g{ m_ept_lock };
	ept.m_cb = nullptr;
	ept.m_priv = nullptr;
}

void RpmsgLink::reap_endpoints(RpmsgDevice &rpdev)
{
	u32 reaped = 0;
	for (;;) {
		RefPtr<RpmsgEndpoint> victim;
		{
			Guard g{ m_ept_lock };
			m_epts.for_each([&](u32, void *p) {
				RpmsgEndpoint *ept = static_cast<RpmsgEndpoint *>(p);
				if (ept->m_rpdev == &rpdev && ept != rpdev.m_ept) {
					victim = RefPtr<RpmsgEndpoint>(ept);
					return false;
				}
				return true;
			});
		}
		if (!victim)
			break;
		destroy_ept(*victim);
		reaped++;
	}
	if (reaped)
		dev_warn(&rpdev, "%u endpoints left by the driver destroyed", reaped);
	/* Rx buffers the driver held on the default endpoint go back too. */
	drop_client_held(rpdev.m_ept);
}

/* --- sending --- */

/*
 * Up to @out.size() free tx buffers (at least one) at once (inline: the
 * common case), else wait_tx_slow() for the first.
 */
__always_inline Result<u32> RpmsgLink::wait_tx(RpmsgEndpoint &ept, s64 timeout_ns,
					       Span<RpmsgTxBuf> out)
{
	Result<u32> got = m_ops->get_tx(*this, out);
	if (got.is_ok() || got.error().to_errno() != -ENOMEM) [[likely]]
		return got;
	return wait_tx_slow(ept, timeout_ns, out);
}

/* None was free: wait for one, as the caller allows. */
__noinline Result<u32> RpmsgLink::wait_tx_slow(RpmsgEndpoint &ept, s64 timeout_ns,
					       Span<RpmsgTxBuf> out)
{
	Result<u32> got = keel::err(-ENOMEM);
	/* The rule for callbacks (atomic context): never wait, fail at once. */
	if (timeout_ns <= 0 || keel_port_in_atomic())
		return got;
	RpmsgDevice *rpdev = ept.m_rpdev;
	/* Every reason to stop waiting wakes m_sendq when it becomes true. */
	auto stop = [&]() -> int {
		if (m_dying.load())
			return -ENODEV;
		if (m_peer_gone.load(keel::MemoryOrder::Acquire))
			return -EPIPE;
		if (ept.is_destroyed() || (rpdev && rpdev->m_unbinding.load()))
			return -ESHUTDOWN;
		return 0;
	};
	if (int e = stop())
		return keel::err(e);
	s64 start = keel::ktime_get_ns();
	s64 deadline = start + timeout_ns;
	/*
	 * The adaptive spin (Documentation/rpmsg.rst): a buffer that comes back
	 * soon costs neither a sleep nor the remote a tx-complete doorbell.
	 */
	s64 spin = keel::min(m_tx_spin.budget(m_cfg.spin_max_ns), timeout_ns);
	if (spin > 0) {
		s64 lat = spin_until(
			[&] {
				got = m_ops->get_tx(*this, out);
				return got.is_ok() || got.error().to_errno() != -ENOMEM || stop();
			},
			start, spin);
		if (lat >= 0) {
			m_tx_spin.update(lat, true, m_cfg.spin_max_ns);
			m_stats.wait_spin_hits.fetch_add(1, keel::MemoryOrder::Relaxed);
			if (got.is_ok() || got.error().to_errno() != -ENOMEM)
				return got;
			return keel::err(stop());
		}
		m_stats.wait_spin_misses.fetch_add(1, keel::MemoryOrder::Relaxed);
	}
	int e = 0;
	m_ops->tx_wait(*this, true);
	for (;;) {
		s64 left = deadline - keel::ktime_get_ns();
		if (left <= 0) {
			e = -ETIMEDOUT;
			break;
		}
		s64 w = m_sendq.wait_event_interruptible_timeout(
			[&] {
				got = m_ops->get_tx(*this, out);
				return got.is_ok() || got.error().to_errno() != -ENOMEM ||
				       stop() != 0;
			},
			left);
		if (w < 0) {
			e = -ERESTARTSYS;
			break;
		}
		if (got.is_ok() || got.error().to_errno() != -ENOMEM)
			break;
		if ((e = stop()) != 0)
			break;
	}
	m_ops->tx_wait(*this, false);
	m_tx_spin.update(keel::ktime_get_ns() - start, false, m_cfg.spin_max_ns);
	if (got.is_ok() && e != 0 && e != -EPIPE) {
		/* A buffer arrived together with the stop: use it, the caller is still entitled. */
		e = 0;
	}
	if (got.is_ok() && e == -EPIPE) {
		/* The peer is gone: nobody will read them. */
		put_tx_all(out.subspan(0, got.value()), "wait");
		return keel::err(e);
	}
	if (e) {
		if (e == -ETIMEDOUT)
			dev_err_ratelimited(m_dev, "timeout waiting for a tx buffer");
		return keel::err(e);
	}
	return got;
}

/*
 * A dead peer is the reason, whatever came after: the removal that a crash
 * starts destroys the endpoints, and a sender that gets there only then
 * still learns that the remote is gone (-EPIPE), as every other sender of
 * that crash does, not that its endpoint went (-ESHUTDOWN).
 */
int RpmsgLink::gone_errno() const
{
	return m_peer_gone.load(keel::MemoryOrder::Acquire) ? -EPIPE : -ESHUTDOWN;
}

Result<void> RpmsgLink::can_send(RpmsgEndpoint &ept)
{
	if (m_dying.load(keel::MemoryOrder::Relaxed))
		return keel::err(-ENODEV);
	if (m_peer_gone.load(keel::MemoryOrder::Acquire))
		return keel::err(-EPIPE);
	if (ept.is_destroyed())
		return keel::err(-ESHUTDOWN);
	return keel::ok();
}

Result<void> RpmsgLink::send(RpmsgEndpoint &ept, u32 src, u32 dst, Span<const u8> data,
			     s64 timeout_ns)
{
	if (!ept.enter())
		return keel::err(gone_errno());
	keel::ScopeGuard leave([&] { ept.exit(); });
	/* Linux: broadcasting isn't allowed. */
	if (src == RPMSG_ADDR_ANY || dst == RPMSG_ADDR_ANY) {
		dev_err_ratelimited(m_dev, "invalid address (src 0x%x, dst 0x%x)", src, dst);
		return keel::err(-EINVAL);
	}
	if (data.size() > mtu()) {
		dev_err_ratelimited(m_dev, "message is too big (%zu bytes, MTU %u)", data.size(),
				    mtu());
		return keel::err(-EMSGSIZE);
	}
	TRY(can_send(ept));
	/* Awake before it goes out (runtime PM of the remote): a send resumes it. */
	Result<void> pm = pm_get();
	keel::ScopeGuard pm_done([&] { pm_put(); });
	TRY(pm);
	if (m_ops->xmit) {
		/* The common case: a buffer is free; take, fill and queue it under one lock. */
		Result<void> r = m_ops->xmit(
			*this, rpmsg_hdr_encode(m_le, src, dst, u16(data.size())), data);
		if (r.is_ok())
			m_stats.tx_sent.fetch_add(1, keel::MemoryOrder::Relaxed);
		if (r.is_ok() || r.error().to_errno() != -ENOMEM)
			return r;
	}
	RpmsgTxBuf b;
	TRY(wait_tx(ept, timeout_ns, Span<RpmsgTxBuf>(&b, 1)));
	u32 len = u32(data.size());
	if (len > b.payload.size()) {
		/* The remote role: the host posted a buffer smaller than the configured size. */
		put_tx_all(Span<const RpmsgTxBuf>(&b, 1), "send");
		return keel::err(-EMSGSIZE);
	}
	if (len)
		memcpy(b.payload.data(), data.data(), len);
	TRY(m_ops->submit_tx(*this, src, dst, Span<const RpmsgTxBuf>(&b, 1),
			     Span<const u32>(&len, 1)));
	m_stats.tx_sent.fetch_add(1, keel::MemoryOrder::Relaxed);
	return keel::ok();
}

Result<u32> RpmsgLink::get_tx_buffers(RpmsgEndpoint &ept, Span<RpmsgTxBuf> out, s64 timeout_ns)
{
	if (!ept.enter())
		return keel::err(gone_errno());
	keel::ScopeGuard leave([&] { ept.exit(); });
	if (out.empty())
		return keel::err(-EINVAL);
	TRY(can_send(ept));
	/* The remote is awake when the buffers are lent (send_nocopy() checks again). */
	Result<void> pm = pm_get();
	keel::ScopeGuard pm_done([&] { pm_put(); });
	TRY(pm);
	u32 n = TRY(wait_tx(ept, timeout_ns, out));
	u32 most = m_tx_buf_size.load(keel::MemoryOrder::Relaxed) - RPMSG_HDR_SIZE;
	for (RpmsgTxBuf *b = out.data(), *end = b + n; b < end; b++)
		if (b->payload.size() > most)
			b->payload = Span<u8>(b->payload.data(), most);
	return n;
}

/* A client handed back a buffer the transport did not lend it (or no more). */
static void refused_tx_buffer(const keel::Device *dev, const Result<void> &r, const char *what,
			      u32 cookie)
{
	if (r.error().to_errno() == -EINVAL)
		dev_err_ratelimited(dev,
				    "zero-copy %s refused: tx buffer %u is not one this link lent "
				    "(sent or released already?)",
				    what, cookie);
}

Result<void> RpmsgLink::send_nocopy(RpmsgEndpoint &ept, u32 src, u32 dst, Span<RpmsgTxBuf> bufs,
				    Span<const u32> lens)
{
	if (!ept.enter())
		return keel::err(gone_errno());
	keel::ScopeGuard leave([&] { ept.exit(); });
	/* The buffers are the caller's no longer, whatever happens below. */
	RpmsgTxBuf *b = bufs.data();
	size_t n = bufs.size();
	keel::ScopeGuard invalidate([&] {
		for (size_t k = 0; k < n; k++)
			b[k] = RpmsgTxBuf();
	});
	const u32 *len = lens.data();
	Result<void> r = can_send(ept);
	if (r.is_ok() && (src == RPMSG_ADDR_ANY || dst == RPMSG_ADDR_ANY || lens.size() != n || !n))
		[[unlikely]] {
		dev_err_ratelimited(m_dev,
				    "invalid zero-copy send (src 0x%x, dst 0x%x, %zu buffers, "
				    "%zu lengths)",
				    src, dst, n, lens.size());
		r = keel::err(-EINVAL);
	}
	for (size_t k = 0; r.is_ok() && k < n; k++) {
		if (!b[k].payload.data() || len[k] > b[k].payload.size()) [[unlikely]] {
			dev_err_ratelimited(m_dev, "invalid zero-copy send (buffer %zu: %u bytes)",
					    k, len[k]);
			r = keel::err(-EINVAL);
		}
	}
	Result<void> pm = pm_get();
	keel::ScopeGuard pm_done([&] { pm_put(); });
	if (r.is_ok() && pm.is_error())
		r = pm;
	if (r.is_ok()) [[likely]] {
		/* submit_tx() checks that each buffer is one we lent before it writes a header. */
		r = m_ops->submit_tx(*this, src, dst, bufs, lens);
		if (r.is_ok()) [[likely]] {
			m_stats.tx_sent.fetch_add(u32(n), keel::MemoryOrder::Relaxed);
			return r;
		}
		/* Any other error: the transport took the buffers back itself. */
		if (r.error().to_errno() != -EINVAL)
			return r;
	}
	/* Nothing was queued: back with those we lent, a log line for any we did not. */
	put_tx_all(bufs, "send");
	return r;
}

/* Give a tx buffer back unsent; whoever waits for one may take it. */
Result<void> RpmsgLink::put_tx(u32 cookie, const u8 *buf)
{
	TRY(m_ops->put_tx(*this, cookie, buf));
	tx_wake();
	return keel::ok();
}

Result<void> RpmsgLink::put_tx_buffer(RpmsgEndpoint &ept, RpmsgTxBuf &buf)
{
	(void)ept;
	if (!buf.payload.data())
		return keel::err(-EINVAL);
	Result<void> r = put_tx(buf.cookie, buf.payload.data() - RPMSG_HDR_SIZE);
	if (r.is_error())
		refused_tx_buffer(m_dev, r, "release", buf.cookie);
	buf = RpmsgTxBuf();
	return r;
}

/* put_tx() of each of @bufs, lent for @what; a refused one gets its log line. */
void RpmsgLink::put_tx_all(Span<const RpmsgTxBuf> bufs, const char *what)
{
	for (const RpmsgTxBuf &b : bufs) {
		if (!b.payload.data())
			continue;
		Result<void> r = put_tx(b.cookie, b.payload.data() - RPMSG_HDR_SIZE);
		if (r.is_error())
			refused_tx_buffer(m_dev, r, what, b.cookie);
	}
}

u32 RpmsgLink::poll(RpmsgEndpoint &ept)
{
	if (ept.is_destroyed() || m_dying.load() || !m_up.load() || m_peer_gone.load())
		return RPMSG_POLLHUP | RPMSG_POLLERR;
	return m_ops->tx_poll(*this) ? RPMSG_POLLOUT : 0;
}

/* --- channels --- */

Result<RefPtr<RpmsgDevice>> RpmsgLink::add_channel(const RpmsgChannelInfo &chinfo, bool announce,
						   const char *driver_override, bool from_ns)
{
	might_sleep();
	if (!RpmsgCore::valid_name(chinfo.name, sizeof(chinfo.name)))
		return keel::err(-EINVAL);
	if (m_dying.load())
		return keel::err(-ENODEV);
	/* Refused before anything is allocated (checked again when linked). */
	TRY(check_new_channel(chinfo));
	RpmsgDevice *raw = new (GFP_KERNEL) RpmsgDevice;
	if (!raw)
		return keel::err(-ENOMEM);
	(void)keel::device_initialize(*raw, keel::device_release_fn<RpmsgDevice>());
	/* The initial reference, handed to the caller. */
	RefPtr<RpmsgDevice> rpdev = RefPtr<RpmsgDevice>::adopt(raw);
	(void)keel::strscpy(raw->m_id.name, chinfo.name, sizeof(raw->m_id.name));
	raw->m_dst = chinfo.dst;
	raw->m_announce = announce;
	raw->m_from_ns = from_ns;
	raw->m_link = this;
	raw->set_parent(m_dev);
	raw->set_bus(rpmsg_bus);
	/* Linux's name: parent.channel.src.dst, addresses as signed (ANY is -1). */
	TRY(raw->set_name("%s.%s.%d.%d", m_dev->name(), chinfo.name, int(chinfo.src),
			  int(chinfo.dst)));
	if (driver_override)
		TRY(raw->set_driver_override(driver_override));
	{
		Guard c{ m_chan_lock };
		TRY(check_new_channel_locked(chinfo));
		/* The channel's local address: messages to it are held until a driver binds. */
		RefPtr<RpmsgEndpoint> ept =
			TRY(create_ept(raw, nullptr, nullptr, chinfo.src, true));
		raw->m_src = ept->addr();
		raw->m_ept = ept.leak_ref();
		raw->get();
		m_channels.push_back(*raw);
		m_nr_channels++;
	}
	Result<void> r = keel::device_add(*raw);
	if (r.is_error()) {
		dev_err(m_dev, "registering channel %s failed: %d", chinfo.name,
			r.error().to_errno());
		{
			Guard c{ m_chan_lock };
			m_channels.remove(*raw);
			m_nr_channels--;
		}
		destroy_channel(*raw);
		return r.error();
	}
	return rpdev;
}

Result<void> RpmsgLink::check_new_channel_locked(const RpmsgChannelInfo &chinfo)
{
	for (RpmsgDevice &ch : m_channels) {
		if (!strncmp(ch.m_id.name, chinfo.name, RPMSG_NAME_SIZE) &&
		    (chinfo.src == RPMSG_ADDR_ANY || ch.m_src == chinfo.src) &&
		    (chinfo.dst == RPMSG_ADDR_ANY || ch.m_dst == chinfo.dst))
			return keel::err(-EEXIST);
	}
	if (m_nr_channels >= m_cfg.max_channels)
		return keel::err(-ENOSPC);
	return keel::ok();
}

Result<void> RpmsgLink::check_new_channel(const RpmsgChannelInfo &chinfo)
{
	Guard c{ m_chan_lock };
	return check_new_channel_locked(chinfo);
}

/* Unregisters a channel taken off the list: driver's remove, address, the list's reference. */
void RpmsgLink::destroy_channel(RpmsgDevice &rpdev)
{
	keel::device_del(rpdev);
	RpmsgEndpoint *ept = keel::exchange(rpdev.m_ept, nullptr);
	if (ept) {
		destroy_ept(*ept);
		ept->put();
	}
	rpdev.put();
}

Result<void> RpmsgLink::remove_channel(const char *name, u32 src, u32 dst)
{
	RpmsgDevice *found = nullptr;
	{
		Guard c{ m_chan_lock };
		for (RpmsgDevice &ch : m_channels) {
			if (!strncmp(ch.m_id.name, name, RPMSG_NAME_SIZE) &&
			    (src == RPMSG_ADDR_ANY || ch.m_src == src) &&
			    (dst == RPMSG_ADDR_ANY || ch.m_dst == dst)) {
				found = &ch;
				break;
			}
		}
		if (!found)
			return keel::err(-ENOENT);
		m_channels.remove(*found);
		m_nr_channels--;
	}
	destroy_channel(*found);
	return keel::ok();
}

void RpmsgLink::remove_channels(bool only_ns)
{
	for (;;) {
		RpmsgDevice *victim = nullptr;
		{
			Guard c{ m_chan_lock };
			for (RpmsgDevice &ch : m_channels) {
				if (!only_ns || ch.m_from_ns) {
					victim = &ch;
					break;
				}
			}
			if (!victim)
				return;
			m_channels.remove(*victim);
			m_nr_channels--;
		}
		destroy_channel(*victim);
	}
}

bool RpmsgLink::channel_active(RpmsgDevice &rpdev)
{
	if (!rpdev.is_bound() || !rpdev.m_ept)
		return false;
	Guard g{ m_ept_lock };
	return rpdev.m_ept->m_state == RpmsgEndpoint::State::Active;
}

RefPtr<RpmsgDevice> RpmsgLink::find_channel(const char *name, u32 dst)
{
	Guard c{ m_chan_lock };
	for (RpmsgDevice &ch : m_channels)
		if (!strncmp(ch.m_id.name, name, RPMSG_NAME_SIZE) &&
		    (dst == RPMSG_ADDR_ANY || ch.m_dst == dst))
			return RefPtr<RpmsgDevice>(&ch);
	return nullptr;
}

void RpmsgLink::shutdown()
{
	might_sleep();
	/* Interfaces let go of the link first (their endpoints, their devices). */
	RpmsgLinkRegistry::remove(*this);
	/* Nothing polls from here on (the transport normally stopped it already). */
	stop_poller();
	m_dying.store(true);
	set_up(false);
	if (m_ns_ept) {
		destroy_ept(*m_ns_ept);
		m_ns_ept = nullptr;
	}
	m_ns_work.cancel_sync();
	remove_channels(false);
	/* Endpoints nobody destroyed (a client without a channel): none should be left. */
	for (;;) {
		RefPtr<RpmsgEndpoint> victim;
		{
			Guard g{ m_ept_lock };
			m_epts.for_each([&](u32, void *p) {
				victim = RefPtr<RpmsgEndpoint>(static_cast<RpmsgEndpoint *>(p));
				return false;
			});
		}
		if (!victim)
			break;
		dev_warn(m_dev, "endpoint 0x%x left at shutdown, destroyed", victim->addr());
		destroy_ept(*victim);
	}
	m_hold_work.cancel_sync();
	drop_client_held(nullptr);
}

/* --- the public API --- */

namespace {

RpmsgLink *link_or_null(RpmsgEndpoint &ept)
{
	return RpmsgCore::link_of(ept);
}

u32 default_dst(RpmsgEndpoint &ept)
{
	return ept.rpdev() ? ept.rpdev()->dst() : RPMSG_ADDR_ANY;
}

} // namespace

Result<RefPtr<RpmsgDevice>> create_channel(RpmsgDevice &rpdev, const RpmsgChannelInfo &chinfo)
{
	RpmsgLink *link = RpmsgCore::link_of(rpdev);
	if (!link)
		return keel::err(-ENODEV);
	return link->add_channel(chinfo, true, nullptr, false);
}

Result<void> release_channel(RpmsgDevice &rpdev, const RpmsgChannelInfo &chinfo)
{
	RpmsgLink *link = RpmsgCore::link_of(rpdev);
	if (!link)
		return keel::err(-ENODEV);
	return link->remove_channel(chinfo.name, chinfo.src, chinfo.dst);
}

Result<RefPtr<RpmsgEndpoint>> create_ept(RpmsgDevice &rpdev, RpmsgRxCb cb, void *priv,
					 const RpmsgChannelInfo &chinfo)
{
	RpmsgLink *link = RpmsgCore::link_of(rpdev);
	if (!link)
		return keel::err(-ENODEV);
	if (!cb)
		return keel::err(-EINVAL);
	return link->create_ept(&rpdev, cb, priv, chinfo.src, false);
}

void destroy_ept(RpmsgEndpoint &ept)
{
	if (RpmsgLink *link = link_or_null(ept))
		link->destroy_ept(ept);
}

Result<void> send(RpmsgEndpoint &ept, Span<const u8> data)
{
	RpmsgLink *l = link_or_null(ept);
	return l->send(ept, ept.addr(), default_dst(ept), data, l->config().send_timeout_ns);
}

Result<void> sendto(RpmsgEndpoint &ept, Span<const u8> data, u32 dst)
{
	RpmsgLink *l = link_or_null(ept);
	return l->send(ept, ept.addr(), dst, data, l->config().send_timeout_ns);
}

Result<void> send_offchannel(RpmsgEndpoint &ept, u32 src, u32 dst, Span<const u8> data)
{
	RpmsgLink *l = link_or_null(ept);
	return l->send(ept, src, dst, data, l->config().send_timeout_ns);
}

Result<void> send_offchannel_timeout(RpmsgEndpoint &ept, u32 src, u32 dst, Span<const u8> data,
				     s64 timeout_ns)
{
	return link_or_null(ept)->send(ept, src, dst, data, timeout_ns);
}

Result<void> sendto_timeout(RpmsgEndpoint &ept, Span<const u8> data, u32 dst, s64 timeout_ns)
{
	return link_or_null(ept)->send(ept, ept.addr(), dst, data, timeout_ns);
}

Result<void> trysend(RpmsgEndpoint &ept, Span<const u8> data)
{
	return link_or_null(ept)->send(ept, ept.addr(), default_dst(ept), data, 0);
}

Result<void> trysendto(RpmsgEndpoint &ept, Span<const u8> data, u32 dst)
{
	return link_or_null(ept)->send(ept, ept.addr(), dst, data, 0);
}

Result<void> trysend_offchannel(RpmsgEndpoint &ept, u32 src, u32 dst, Span<const u8> data)
{
	return link_or_null(ept)->send(ept, src, dst, data, 0);
}

u32 poll(RpmsgEndpoint &ept)
{
	return link_or_null(ept)->poll(ept);
}

keel::WaitQueue &poll_waitqueue(RpmsgEndpoint &ept)
{
	return link_or_null(ept)->sendq();
}

Result<u32> get_mtu(RpmsgEndpoint &ept)
{
	if (ept.is_destroyed())
		return keel::err(-ESHUTDOWN);
	return link_or_null(ept)->mtu();
}

Result<RpmsgTxBuf> get_tx_payload_buffer(RpmsgEndpoint &ept, s64 timeout_ns)
{
	RpmsgTxBuf b;
	TRY(link_or_null(ept)->get_tx_buffers(ept, Span<RpmsgTxBuf>(&b, 1), timeout_ns));
	return b;
}

Result<u32> get_tx_payload_buffers(RpmsgEndpoint &ept, Span<RpmsgTxBuf> bufs, s64 timeout_ns)
{
	return link_or_null(ept)->get_tx_buffers(ept, bufs, timeout_ns);
}

Result<void> send_offchannel_nocopy(RpmsgEndpoint &ept, u32 src, u32 dst, RpmsgTxBuf &buf, u32 len)
{
	return link_or_null(ept)->send_nocopy(ept, src, dst, Span<RpmsgTxBuf>(&buf, 1),
					      Span<const u32>(&len, 1));
}

Result<void> sendto_nocopy(RpmsgEndpoint &ept, RpmsgTxBuf &buf, u32 len, u32 dst)
{
	return send_offchannel_nocopy(ept, ept.addr(), dst, buf, len);
}

Result<void> send_nocopy(RpmsgEndpoint &ept, RpmsgTxBuf &buf, u32 len)
{
	return send_offchannel_nocopy(ept, ept.addr(), default_dst(ept), buf, len);
}

Result<void> sendto_nocopy_batch(RpmsgEndpoint &ept, Span<RpmsgTxBuf> bufs, Span<const u32> lens,
				 u32 dst)
{
	return link_or_null(ept)->send_nocopy(ept, ept.addr(), dst, bufs, lens);
}

Result<void> send_nocopy_batch(RpmsgEndpoint &ept, Span<RpmsgTxBuf> bufs, Span<const u32> lens)
{
	return sendto_nocopy_batch(ept, bufs, lens, default_dst(ept));
}

Result<void> release_tx_buffer(RpmsgEndpoint &ept, RpmsgTxBuf &buf)
{
	return link_or_null(ept)->put_tx_buffer(ept, buf);
}

Result<RpmsgRxToken> hold_rx_buffer(RpmsgEndpoint &ept)
{
	return link_or_null(ept)->hold_rx(ept);
}

Result<void> release_rx_buffer(RpmsgEndpoint &ept, RpmsgRxToken token)
{
	return link_or_null(ept)->release_rx(ept, token);
}

Result<void> pm_get(RpmsgEndpoint &ept)
{
	might_sleep();
	RpmsgLink *l = link_or_null(ept);
	Result<void> r = l->pm_get();
	if (r.is_error())
		l->pm_put();
	return r;
}

void pm_put(RpmsgEndpoint &ept)
{
	link_or_null(ept)->pm_put();
}

Result<void> announce_create(RpmsgDevice &rpdev)
{
	RpmsgLink *link = RpmsgCore::link_of(rpdev);
	return link ? link->announce(rpdev, true) : keel::err(-ENODEV);
}

Result<void> announce_destroy(RpmsgDevice &rpdev)
{
	RpmsgLink *link = RpmsgCore::link_of(rpdev);
	return link ? link->announce(rpdev, false) : keel::err(-ENODEV);
}

} // namespace rpmsg
