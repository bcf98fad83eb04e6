// SPDX-License-Identifier: GPL-2.0
/*
 * The name service (Linux drivers/rpmsg/rpmsg_ns.c): the endpoint at
 * RPMSG_NS_ADDR that turns the remote's announcements into channels, and
 * the announcements of our own channels.
 *
 * Announcements arrive in atomic context (an endpoint callback) and
 * creating a device may sleep, so the callback only checks the length and
 * queues a copy; a work item handles the queue in order. The queue is
 * bounded: a remote flooding it loses announcements, counted and logged,
 * and the link keeps working. Channels are bounded too (max_channels).
 *
 * What an announcement may contain (Documentation/rpmsg.rst):
 *  - exactly 40 bytes (-EINVAL otherwise, as Linux);
 *  - a name of 1..31 printable characters; a name filling all 32 bytes
 *    without a NUL is clamped to 31, as Linux does, and logged;
 *  - an address other than RPMSG_ADDR_ANY and RPMSG_NS_ADDR;
 *  - flags: bit 0 set destroys, clear creates (Linux tests bit 0 only).
 * A second create of the same name and address is -EEXIST, a destroy of
 * a channel that does not exist -ENOENT; each is logged (rate-limited:
 * the remote can repeat them) and counted, and nothing is allocated for it.
 */
#include <keel/log.h>
#include <keel/string.h>

#include "rpmsg_internal.h"

namespace rpmsg {

using keel::Guard;

/* Announcements waiting for the work item. */
struct RpmsgLink::NsQueue {
	static constexpr u32 SIZE = 32;
	u32 head = 0;
	u32 count = 0;
	RpmsgNsMsg msgs[SIZE];
};

#define ns_log_ratelimited(level, dev, fmt, ...)                                                   \
	__keel_log_ratelimited(level, dev, "ns: " fmt, ##__VA_ARGS__)

Result<void> RpmsgLink::ns_init(keel::Gfp gfp)
{
	NsQueue *q = new (gfp) NsQueue();
	if (!q)
		return keel::err(-ENOMEM);
	keel::kfree(m_nsq);
	m_nsq = q;
	return keel::ok();
}

Result<void> RpmsgLink::create_ns_ept()
{
	if (m_ns_ept)
		return keel::ok();
	m_ns_ept = TRY(create_ept(nullptr, &RpmsgLink::ns_cb, this, RPMSG_NS_ADDR, false));
	return keel::ok();
}

/* Atomic context (the endpoint's callback): check the size, queue a copy. */
Result<void> RpmsgLink::ns_cb(RpmsgEndpoint &ept, Span<const u8> data, u32 src, void *priv)
{
	RpmsgLink *link = static_cast<RpmsgLink *>(priv);
	if (data.size() != sizeof(RpmsgNsMsg)) {
		link->m_stats.ns_bad.fetch_add(1, keel::MemoryOrder::Relaxed);
		link->m_stats.ns_last_error.store(-EINVAL, keel::MemoryOrder::Relaxed);
		ns_log_ratelimited(KEEL_LOGLEVEL_ERR, link->m_dev,
				   "malformed ns msg (%zu bytes, from 0x%x)", data.size(), src);
		return keel::err(-EINVAL);
	}
	bool queued = false;
	{
		Guard g{ link->m_ns_lock };
		NsQueue *q = link->m_nsq;
		if (q->count < NsQueue::SIZE) {
			memcpy(&q->msgs[(q->head + q->count) % NsQueue::SIZE], data.data(),
			       sizeof(RpmsgNsMsg));
			q->count++;
			queued = true;
		}
	}
	if (!queued) {
		link->m_stats.ns_dropped.fetch_add(1, keel::MemoryOrder::Relaxed);
		link->m_stats.ns_last_error.store(-ENOBUFS, keel::MemoryOrder::Relaxed);
		ns_log_ratelimited(KEEL_LOGLEVEL_ERR, link->m_dev,
				   "announcement dropped: %u waiting already", NsQueue::SIZE);
		return keel::err(-ENOBUFS);
	}
	(void)link->m_ns_work.schedule();
	(void)ept;
	return keel::ok();
}

void RpmsgLink::ns_work_fn(keel::Work &w)
{
	keel::container_of(&w, &RpmsgLink::m_ns_work)->ns_drain();
}

void RpmsgLink::ns_drain()
{
	for (;;) {
		RpmsgNsMsg msg;
		{
			Guard g{ m_ns_lock };
			if (m_nsq->count == 0)
				return;
			msg = m_nsq->msgs[m_nsq->head];
			m_nsq->head = (m_nsq->head + 1) % NsQueue::SIZE;
			m_nsq->count--;
		}
		if (m_dying.load())
			continue;
		(void)ns_handle(msg);
	}
}

Result<void> RpmsgLink::ns_handle(const RpmsgNsMsg &msg)
{
	might_sleep();
	char name[RPMSG_NAME_SIZE];
	/* Don't trust the remote to terminate the name (Linux does the same). */
	size_t n = strnlen(msg.name, sizeof(msg.name));
	keel::strscpy_untrusted(name, sizeof(name), msg.name, sizeof(msg.name));
	if (n == sizeof(msg.name))
		ns_log_ratelimited(KEEL_LOGLEVEL_WARNING, m_dev,
				   "name without NUL, clamped to \"%s\"", name);
	u32 addr = rpmsg32_to_cpu(m_le, msg.addr);
	bool destroy = rpmsg32_to_cpu(m_le, msg.flags) & RPMSG_NS_DESTROY;
	if (!RpmsgCore::valid_name(name, sizeof(name))) {
		m_stats.ns_bad.fetch_add(1, keel::MemoryOrder::Relaxed);
		m_stats.ns_last_error.store(-EINVAL, keel::MemoryOrder::Relaxed);
		ns_log_ratelimited(KEEL_LOGLEVEL_ERR, m_dev, "invalid channel name (addr 0x%x)",
				   addr);
		return keel::err(-EINVAL);
	}
	if (addr == RPMSG_ADDR_ANY || addr == RPMSG_NS_ADDR) {
		m_stats.ns_bad.fetch_add(1, keel::MemoryOrder::Relaxed);
		m_stats.ns_last_error.store(-EINVAL, keel::MemoryOrder::Relaxed);
		ns_log_ratelimited(KEEL_LOGLEVEL_ERR, m_dev, "channel %s: invalid address 0x%x",
				   name, addr);
		return keel::err(-EINVAL);
	}
	ns_log_ratelimited(KEEL_LOGLEVEL_INFO, m_dev, "%sing channel %s addr 0x%x",
			   destroy ? "destroy" : "creat", name, addr);
	if (destroy) {
		Result<void> r = remove_channel(name, RPMSG_ADDR_ANY, addr);
		if (r.is_error()) {
			m_stats.ns_bad.fetch_add(1, keel::MemoryOrder::Relaxed);
			m_stats.ns_last_error.store(r.error().to_errno(),
						    keel::MemoryOrder::Relaxed);
			ns_log_ratelimited(KEEL_LOGLEVEL_ERR, m_dev,
					   "no channel %s addr 0x%x to destroy", name, addr);
			return r;
		}
		m_stats.ns_destroyed.fetch_add(1, keel::MemoryOrder::Relaxed);
		return keel::ok();
	}
	RpmsgChannelInfo chinfo = {};
	memcpy(chinfo.name, name, sizeof(chinfo.name));
	chinfo.src = RPMSG_ADDR_ANY;
	chinfo.dst = addr;
	Result<keel::RefPtr<RpmsgDevice>> ch = add_channel(chinfo, false, nullptr, true);
	if (ch.is_ok()) {
		m_stats.ns_created.fetch_add(1, keel::MemoryOrder::Relaxed);
		return keel::ok();
	}
	m_stats.ns_bad.fetch_add(1, keel::MemoryOrder::Relaxed);
	int e = ch.error().to_errno();
	m_stats.ns_last_error.store(e, keel::MemoryOrder::Relaxed);
	if (e == -EEXIST)
		ns_log_ratelimited(KEEL_LOGLEVEL_ERR, m_dev, "channel %s addr 0x%x already exists",
				   name, addr);
	else if (e == -ENOSPC)
		ns_log_ratelimited(KEEL_LOGLEVEL_ERR, m_dev,
				   "channel %s refused: %u channels already", name,
				   m_cfg.max_channels);
	else
		ns_log_ratelimited(KEEL_LOGLEVEL_ERR, m_dev, "creating channel %s failed: %d", name,
				   e);
	return ch.error();
}

/* Linux virtio_rpmsg_announce_create()/_destroy(). */
Result<void> RpmsgLink::announce(RpmsgDevice &rpdev, bool create)
{
	if (!rpdev.m_announce || !rpdev.m_ept)
		return keel::ok();
	if (create) {
		/* Sent when up, to a remote with a name service; else announce_all() will. */
		if (!peer_ns() || !is_up() || rpdev.m_announced.exchange(true))
			return keel::ok();
	} else if (!rpdev.m_announced.exchange(false)) {
		return keel::ok();
	}
	RpmsgNsMsg msg = {};
	memcpy(msg.name, rpdev.m_id.name, sizeof(msg.name));
	msg.name[sizeof(msg.name) - 1] = '\0';
	msg.addr = cpu_to_rpmsg32(m_le, rpdev.m_src);
	msg.flags = cpu_to_rpmsg32(m_le, create ? RPMSG_NS_CREATE : RPMSG_NS_DESTROY);
	Result<void> r = send(*rpdev.m_ept, rpdev.m_src, RPMSG_NS_ADDR,
			      Span<const u8>(reinterpret_cast<const u8 *>(&msg), sizeof(msg)),
			      m_cfg.send_timeout_ns);
	if (r.is_error() && create)
		rpdev.m_announced.store(false);
	return r;
}

void RpmsgLink::announce_all()
{
	might_sleep();
	for (;;) {
		keel::RefPtr<RpmsgDevice> next;
		{
			Guard c{ m_chan_lock };
			for (RpmsgDevice &ch : m_channels) {
				if (ch.m_announce && !ch.m_announced.load() && ch.is_bound()) {
					next = keel::RefPtr<RpmsgDevice>(&ch);
					break;
				}
			}
		}
		if (!next)
			return;
		/* Under the device lock: the driver stays bound, its endpoint Active. */
		Guard d{ next->mutex() };
		Result<void> r = next->is_bound() ? announce(*next, true) : keel::ok();
		if (r.is_error()) {
			dev_err(next.get(), "announcing the channel failed: %d",
				r.error().to_errno());
			return;
		}
		if (!next->m_announced.load())
			return;
	}
}

} // namespace rpmsg
