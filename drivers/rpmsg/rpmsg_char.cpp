// SPDX-License-Identifier: GPL-2.0
/*
 * Endpoint nodes (Linux drivers/rpmsg/rpmsg_char.c): /dev/rpmsgN's
 * semantics, and the "rpmsg_chrdev" driver that gives an "rpmsg-raw"
 * channel its node. The frontend (rpmsg_char.h) does the OS's part.
 *
 * Where this differs from Linux, and why (Documentation/rpmsg-char.rst):
 *  - unread messages are bounded (RpmsgCharFrontend.queue_max): beyond
 *    it a message is dropped and counted, where Linux queues until the
 *    allocator fails;
 *  - a write larger than the MTU fails before anything is allocated;
 *  - a blocking write that finds no tx buffer within the link's timeout
 *    fails with -ETIMEDOUT (Linux returns -ERESTARTSYS to userspace);
 *  - removal and DESTROY answer POLLERR | POLLHUP (Linux: POLLERR);
 *  - poll() waits on the node's own queue only: the link's "tx buffer
 *    returned" wake-ups are relayed to it, so that no poll or epoll
 *    registration outlives the link (Linux registers on the link's queue).
 */
#include <keel/log.h>
#include <keel/new.h>
#include <keel/string.h>

#include "rpmsg_char_internal.h"
#include "rpmsg_char_uapi.h"

namespace rpmsg {

using keel::Guard;
using keel::RefPtr;

const char *const RpmsgEptdev::s_attrs[] = {
	"name", "src", "dst", "addr", "queued", "rx_count", "rx_dropped", "tx_count", nullptr,
};

namespace {

void free_msg(RpmsgCharMsg *m)
{
	m->~RpmsgCharMsg();
	keel::kfree(m);
}

/* Errors of the send path, as a write() returns them. */
int write_errno(int e, bool nonblock)
{
	switch (e) {
	case -ENOMEM:
		return nonblock ? -EAGAIN : e;
	case -ESHUTDOWN: /* the endpoint was destroyed, or its channel is going */
	case -ENODEV:	 /* the link is going */
		return -EPIPE;
	default:
		return e;
	}
}

} // namespace

RpmsgEptdev::RpmsgEptdev(RpmsgLink *link, RpmsgDevice *rpdev, RpmsgCtrldev *ctrl,
			 const RpmsgChannelInfo &chinfo)
    : RpmsgCharNode(RpmsgCharKind::Ept), m_chinfo(chinfo), m_link(link), m_rpdev(rpdev),
      m_ctrl(ctrl)
{
	if (m_rpdev)
		m_rpdev->get();
	if (m_ctrl)
		m_ctrl->get();
}

RpmsgEptdev::~RpmsgEptdev()
{
	purge();
	if (m_ctrl)
		m_ctrl->put();
	if (m_rpdev)
		m_rpdev->put();
}

bool RpmsgEptdev::enter()
{
	return m_users.inc_unless_set(GONE);
}

void RpmsgEptdev::exit()
{
	/* The last one out after remove() started lets it finish. */
	if (m_users.sub_return(1) == GONE)
		m_readq.wake_up();
}

RefPtr<RpmsgEndpoint> RpmsgEptdev::ept_ref()
{
	Guard g{ m_lock };
	return RefPtr<RpmsgEndpoint>(m_ept);
}

void RpmsgEptdev::purge()
{
	for (;;) {
		RpmsgCharMsg *m;
		{
			Guard g{ m_lock };
			m = m_queue.pop_front();
			if (m)
				m_queued--;
		}
		if (!m)
			return;
		free_msg(m);
	}
}

void RpmsgEptdev::tx_relay(keel::WaitCallback &cb)
{
	keel::container_of(&cb, &RpmsgEptdev::m_tx_relay)->m_readq.wake_up();
}

Result<void> RpmsgEptdev::rx_cb(RpmsgEndpoint &ept, Span<const u8> data, u32 src, void *priv)
{
	/* SAFETY: open() gave this node as the endpoint's private data; it outlives the endpoint. */
	return static_cast<RpmsgEptdev *>(priv)->enqueue(data);
}

Result<void> RpmsgEptdev::enqueue(Span<const u8> data)
{
	if (gone())
		return keel::ok();
	void *mem = keel::kmalloc(sizeof(RpmsgCharMsg) + data.size(), GFP_ATOMIC);
	if (!mem) {
		m_rx_dropped.fetch_add(1, keel::MemoryOrder::Relaxed);
		pr_warn_ratelimited("rpmsg_char: %s: no memory for a %zu-byte message, dropped",
				    name(), data.size());
		return keel::err(-ENOMEM);
	}
	RpmsgCharMsg *m = new (mem) RpmsgCharMsg;
	m->len = u32(data.size());
	if (data.size())
		memcpy(m->data, data.data(), data.size());
	u32 limit = RpmsgCharCore::of(*this).queue_max;
	{
		Guard g{ m_lock };
		if (m_queued < limit) {
			m_queue.push_back(*m);
			m_queued++;
			m = nullptr;
		}
	}
	if (m) {
		free_msg(m);
		m_rx_dropped.fetch_add(1, keel::MemoryOrder::Relaxed);
		pr_warn_ratelimited("rpmsg_char: %s: %u unread messages, message dropped", name(),
				    limit);
		return keel::err(-ENOBUFS);
	}
	m_rx_count.fetch_add(1, keel::MemoryOrder::Relaxed);
	m_readq.wake_up();
	return keel::ok();
}

Result<void> RpmsgEptdev::open()
{
	might_sleep();
	Guard m{ m_ept_lock };
	if (gone())
		return keel::err(-ENETRESET);
	if (m_open)
		return keel::err(-EBUSY);
	RefPtr<RpmsgEndpoint> ept;
	if (m_rpdev) {
		/* The channel's default endpoint: the channel keeps it until its driver goes. */
		ept = RefPtr<RpmsgEndpoint>(m_rpdev->ept());
		if (!ept)
			return keel::err(-ENETRESET);
	} else {
		auto r =
			m_link->create_ept(nullptr, &RpmsgEptdev::rx_cb, this, m_chinfo.src, false);
		if (r.is_error()) {
			/* Linux: rpmsg_create_ept() gives no reason, open() says -EINVAL. */
			pr_debug("rpmsg_char: %s: no endpoint at 0x%x: %d", name(), m_chinfo.src,
				 r.error().to_errno());
			return keel::err(-EINVAL);
		}
		ept = r.release_value();
	}
	{
		Guard g{ m_lock };
		m_ept = ept.leak_ref();
	}
	m_tx_relay.add(m_link->sendq());
	m_open = true;
	return keel::ok();
}

/*
 * Leaves the link's send queue and lets the endpoint go: destroyed unless
 * it is a channel's default endpoint (the channel's to destroy), and the
 * node's reference dropped. Context: m_ept_lock held; may sleep.
 */
void RpmsgEptdev::release_ept()
{
	m_tx_relay.remove();
	RpmsgEndpoint *ept;
	{
		Guard g{ m_lock };
		ept = keel::exchange(m_ept, nullptr);
	}
	if (ept) {
		if (!m_rpdev)
			destroy_ept(*ept);
		ept->put();
	}
}

void RpmsgEptdev::close()
{
	might_sleep();
	{
		Guard m{ m_ept_lock };
		release_ept();
		m_open = false;
	}
	purge();
}

void RpmsgEptdev::remove()
{
	might_sleep();
	bool first;
	{
		Guard m{ m_ept_lock };
		first = !(m_users.fetch_or(GONE) & GONE);
		if (first)
			release_ept();
	}
	/* Readers and pollers see it gone; writers woken by the destroy leave the link. */
	m_readq.wake_up();
	m_readq.wait_event([this] { return !(m_users.load() & ~GONE); });
	if (!first)
		return;
	RpmsgCharCore::unpublish(*this);
	if (m_ctrl)
		m_ctrl->forget(*this);
	/* The reference of its maker (the control node's ioctl, the driver's probe). */
	put();
}

Result<size_t> RpmsgEptdev::read(void *ubuf, size_t count, bool nonblock)
{
	might_sleep();
	RpmsgCharMsg *msg;
	for (;;) {
		{
			Guard g{ m_lock };
			if (!m_ept)
				return keel::err(-EPIPE);
			msg = m_queue.pop_front();
			if (msg)
				m_queued--;
		}
		if (msg)
			break;
		if (nonblock)
			return keel::err(-EAGAIN);
		int r = m_readq.wait_event_interruptible([this] {
			Guard g{ m_lock };
			return !m_ept || !m_queue.is_empty();
		});
		if (r)
			return keel::err(-ERESTARTSYS);
	}
	/* One message per read, truncated to the caller's buffer (Linux). */
	size_t n = keel::min(count, size_t(msg->len));
	Result<void> c = n ? RpmsgCharCore::copy_out(*this, ubuf, msg->data, n) : keel::ok();
	free_msg(msg);
	if (c.is_error())
		return c.error();
	return n;
}

Result<size_t> RpmsgEptdev::write(const void *ubuf, size_t count, bool nonblock)
{
	might_sleep();
	if (!enter())
		return keel::err(-EPIPE);
	keel::ScopeGuard leave([this] { exit(); });
	RefPtr<RpmsgEndpoint> ept = ept_ref();
	if (!ept)
		return keel::err(-EPIPE);
	Result<u32> mtu = get_mtu(*ept);
	if (mtu.is_error())
		return keel::err(-EPIPE);
	if (count > mtu.value())
		return keel::err(-EMSGSIZE);
	if (m_chinfo.dst == RPMSG_ADDR_ANY)
		return keel::err(-EINVAL);
	/* The user's bytes go straight into a tx buffer: no allocation, one copy. */
	s64 timeout = nonblock ? 0 : m_link->config().send_timeout_ns;
	Result<RpmsgTxBuf> got = get_tx_payload_buffer(*ept, timeout);
	if (got.is_error())
		return keel::err(write_errno(got.error().to_errno(), nonblock));
	RpmsgTxBuf buf = got.release_value();
	if (count > buf.payload.size()) {
		/* The remote role: the host posted a buffer smaller than the MTU. */
		(void)release_tx_buffer(*ept, buf);
		return keel::err(-EMSGSIZE);
	}
	if (count) {
		Result<void> c = RpmsgCharCore::copy_in(*this, buf.payload.data(), ubuf, count);
		if (c.is_error()) {
			(void)release_tx_buffer(*ept, buf);
			return c.error();
		}
	}
	Result<void> s = sendto_nocopy(*ept, buf, u32(count), m_chinfo.dst);
	if (s.is_error())
		return keel::err(write_errno(s.error().to_errno(), nonblock));
	m_tx_count.fetch_add(1, keel::MemoryOrder::Relaxed);
	return count;
}

u32 RpmsgEptdev::poll(void *ctx)
{
	might_sleep();
	if (!enter())
		return RPMSG_POLLERR | RPMSG_POLLHUP;
	keel::ScopeGuard leave([this] { exit(); });
	RefPtr<RpmsgEndpoint> ept = ept_ref();
	if (!ept)
		return RPMSG_POLLERR | RPMSG_POLLHUP;
	/* Register first, then look: a wake-up in between is not lost. */
	RpmsgCharCore::of(*this).fe->poll_wait(m_readq, ctx);
	u32 mask = 0;
	{
		Guard g{ m_lock };
		if (!m_queue.is_empty())
			mask |= RPMSG_POLLIN | RPMSG_POLLRDNORM;
	}
	return mask | rpmsg::poll(*ept);
}

Result<long> RpmsgEptdev::ioctl(unsigned int cmd, unsigned long arg)
{
	might_sleep();
	switch (cmd) {
	case RPMSG_GET_OUTGOING_FLOWCONTROL: {
		/* No flow control on this transport: the remote never restricts us (6.12). */
		int restricted = 0;
		void *uarg = reinterpret_cast<void *>(arg);
		TRY(RpmsgCharCore::copy_to_user(*this, uarg, &restricted, sizeof(restricted)));
		return 0L;
	}
	case RPMSG_SET_INCOMING_FLOWCONTROL:
		/* The argument is the value (0 or 1); the transport cannot do it (6.12). */
		if (arg > 1)
			return keel::err(-EINVAL);
		return keel::err(ept_ref() ? -EOPNOTSUPP : -EINVAL);
	case RPMSG_DESTROY_EPT_IOCTL:
		/* Linux: a channel's default endpoint cannot be destroyed from here. */
		if (m_rpdev)
			return keel::err(-EINVAL);
		remove();
		return 0L;
	default:
		return keel::err(-EINVAL);
	}
}

Result<size_t> RpmsgEptdev::show(const char *attr, char *buf, size_t size)
{
	/* Linux prints the addresses of the node's channel info as signed (ANY: -1). */
	if (!strcmp(attr, "name"))
		return rpmsg_char_emit(buf, size, "%s\n", m_chinfo.name);
	if (!strcmp(attr, "src"))
		return rpmsg_char_emit(buf, size, "%d\n", int(m_chinfo.src));
	if (!strcmp(attr, "dst"))
		return rpmsg_char_emit(buf, size, "%d\n", int(m_chinfo.dst));
	if (!strcmp(attr, "addr")) {
		int addr = -1;
		{
			Guard g{ m_lock };
			if (m_ept)
				addr = int(m_ept->addr());
		}
		return rpmsg_char_emit(buf, size, "%d\n", addr);
	}
	if (!strcmp(attr, "queued")) {
		u32 n;
		{
			Guard g{ m_lock };
			n = m_queued;
		}
		return rpmsg_char_emit(buf, size, "%u\n", n);
	}
	const keel::Atomic<u64> *counter = !strcmp(attr, "rx_count")	 ? &m_rx_count
					   : !strcmp(attr, "rx_dropped") ? &m_rx_dropped
					   : !strcmp(attr, "tx_count")	 ? &m_tx_count
									 : nullptr;
	if (!counter)
		return keel::err(-ENOENT);
	return rpmsg_char_emit(buf, size, "%llu\n", (unsigned long long)counter->load());
}

/* --- the "rpmsg_chrdev" driver: a node for each "rpmsg-raw" channel --- */

namespace {

class RpmsgChrdev : keel::NonMovable {
public:
	static constexpr RpmsgDeviceId id_table[] = { { "rpmsg-raw" }, { "rpmsg_chrdev" }, {} };
	static Result<keel::UniquePtr<RpmsgChrdev>> probe(RpmsgDevice &rpdev);
	void remove(RpmsgDevice &rpdev);
	/* The channel's default endpoint: queued even while no file is open (Linux). */
	Result<void> on_message(RpmsgDevice &rpdev, Span<const u8> data, u32 src)
	{
		return m_eptdev->enqueue(data);
	}

	explicit RpmsgChrdev(RpmsgEptdev *eptdev) : m_eptdev(eptdev) {}

private:
	RpmsgEptdev *m_eptdev; /* its maker's reference, until remove() */
};

Result<keel::UniquePtr<RpmsgChrdev>> RpmsgChrdev::probe(RpmsgDevice &rpdev)
{
	RpmsgChannelInfo ci = {};
	(void)keel::strscpy(ci.name, rpdev.channel_name(), sizeof(ci.name));
	ci.src = rpdev.src();
	ci.dst = rpdev.dst();
	RpmsgEptdev *raw =
		new (GFP_KERNEL) RpmsgEptdev(RpmsgCore::link_of(rpdev), &rpdev, nullptr, ci);
	if (!raw)
		return keel::err(-ENOMEM);
	RefPtr<RpmsgEptdev> eptdev = keel::adopt_ref(raw);
	TRY(RpmsgCharCore::add_node(*raw));
	auto drv = keel::make_unique<RpmsgChrdev>(GFP_KERNEL, raw);
	if (drv.is_error())
		return drv.error();
	TRY(RpmsgCharCore::publish(*raw));
	(void)eptdev.leak_ref();
	return drv;
}

void RpmsgChrdev::remove(RpmsgDevice &rpdev)
{
	m_eptdev->remove();
}

} // namespace

constinit RpmsgDriver rpmsg_chrdev_driver{ driver_for<RpmsgChrdev>, "rpmsg_chrdev" };

} // namespace rpmsg
