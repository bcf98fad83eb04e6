// SPDX-License-Identifier: GPL-2.0
/*
 * Control nodes (Linux drivers/rpmsg/rpmsg_ctrl.c), channel nodes, and
 * the core that publishes every node through the registered frontend.
 *
 * Linux makes its control device from an "rpmsg_ctrl" channel that
 * virtio_rpmsg_bus registers per link. A keel channel reserves an address
 * and counts among the link's channels, so the control node comes from a
 * link interface instead (rpmsg_internal.h): one per link, in both roles,
 * made when the link is set up and detached when it starts shutting down,
 * before its channels and endpoints go.
 */
#include <keel/log.h>
#include <keel/string.h>

#include "rpmsg_char_internal.h"
#include "rpmsg_char_uapi.h"

namespace rpmsg {

using keel::Guard;
using keel::RefPtr;

namespace {

/* The registered core (the registration's reference), or null. */
constinit keel::Atomic<RpmsgCharCore *> s_core{ nullptr };

/* Linux's RPMSG_DEV_MAX: the minors of a char device region. */
constexpr u32 RPMSG_DEV_MAX = 1u << 20;

} // namespace

Result<size_t> rpmsg_char_emit(char *buf, size_t size, const char *fmt, ...)
{
	__builtin_va_list ap;
	__builtin_va_start(ap, fmt);
	int n = keel_port_vsnprintf(buf, size, fmt, ap);
	__builtin_va_end(ap);
	if (n < 0 || size_t(n) >= size)
		return keel::err(-ENOSPC);
	return size_t(n);
}

/* --- the core --- */

RefPtr<RpmsgCharCore> RpmsgCharCore::get_core()
{
	return RefPtr<RpmsgCharCore>(s_core.load(keel::MemoryOrder::Acquire));
}

RpmsgCharCore &RpmsgCharCore::of(RpmsgCharNode &node)
{
	return *node.m_core;
}

void RpmsgCharCore::release()
{
	{
		Guard g{ lock };
		WARN_ON(!nodes.is_empty());
		ctrl_ids.destroy();
		ept_ids.destroy();
	}
	delete this;
}

Result<void> RpmsgCharCore::add_node(RpmsgCharNode &node)
{
	RpmsgCharCore *core = s_core.load(keel::MemoryOrder::Acquire);
	if (!core)
		return keel::err(-ENODEV);
	Guard g{ core->lock };
	if (node.m_kind == RpmsgCharKind::Channel) {
		/* Channel nodes are named after their device: refuse a second of a name. */
		for (RpmsgCharNode &n : core->nodes)
			if (!strcmp(n.m_name, node.m_name))
				return keel::err(-EEXIST);
	} else {
		bool ctrl = node.m_kind == RpmsgCharKind::Ctrl;
		keel::Idr &ids = ctrl ? core->ctrl_ids : core->ept_ids;
		node.m_id = TRY(ids.alloc(&node, 0, RPMSG_DEV_MAX, GFP_KERNEL));
		(void)keel::snprintf(node.m_name, sizeof(node.m_name),
				     ctrl ? "rpmsg_ctrl%u" : "rpmsg%u", node.m_id);
	}
	node.m_core = core;
	core->get();
	core->nodes.push_back(node);
	node.m_listed = true;
	return keel::ok();
}

Result<void> RpmsgCharCore::add_new_node(RpmsgCharNode *fresh)
{
	if (!fresh)
		return keel::err(-ENOMEM);
	RefPtr<RpmsgCharNode> node = keel::adopt_ref(fresh);
	TRY(add_node(*fresh));
	TRY(publish(*fresh));
	(void)node.leak_ref();
	return keel::ok();
}

Result<void> RpmsgCharCore::publish(RpmsgCharNode &node)
{
	RpmsgCharCore &core = of(node);
	Result<void> r = core.fe->publish(node);
	Guard g{ core.lock };
	if (r.is_error()) {
		if (node.m_listed) {
			core.nodes.remove(node);
			node.m_listed = false;
		}
		return r;
	}
	node.m_published = true;
	return keel::ok();
}

void RpmsgCharCore::unpublish(RpmsgCharNode &node)
{
	if (!node.m_core)
		return;
	RpmsgCharCore &core = of(node);
	bool published;
	{
		Guard g{ core.lock };
		published = keel::exchange(node.m_published, false);
		if (node.m_listed) {
			core.nodes.remove(node);
			node.m_listed = false;
		}
	}
	/* Without the core's lock: unpublishing waits for attribute readers. */
	if (published)
		core.fe->unpublish(node);
}

RefPtr<RpmsgCtrldev> RpmsgCharCore::ctrl_of(RpmsgLink &link)
{
	RpmsgCharCore *core = s_core.load(keel::MemoryOrder::Acquire);
	if (!core)
		return nullptr;
	Guard g{ core->lock };
	for (RpmsgCharNode &n : core->nodes) {
		if (n.m_kind != RpmsgCharKind::Ctrl)
			continue;
		RpmsgCtrldev &c = static_cast<RpmsgCtrldev &>(n);
		if (c.link() == &link)
			return RefPtr<RpmsgCtrldev>(&c);
	}
	return nullptr;
}

Result<void> RpmsgCharCore::copy_out(RpmsgCharNode &node, void *ubuf, const void *from, size_t n)
{
	return of(node).fe->copy_out(ubuf, from, n);
}

Result<void> RpmsgCharCore::copy_in(RpmsgCharNode &node, void *to, const void *ubuf, size_t n)
{
	return of(node).fe->copy_in(to, ubuf, n);
}

Result<void> RpmsgCharCore::copy_to_user(RpmsgCharNode &node, void *to, const void *from, size_t n)
{
	return of(node).fe->copy_to_user(to, from, n);
}

Result<void> RpmsgCharCore::copy_from_user(RpmsgCharNode &node, void *to, const void *from,
					   size_t n)
{
	return of(node).fe->copy_from_user(to, from, n);
}

/* --- nodes: the kind's operation, or what Linux's file without it answers --- */

void RpmsgCharNode::release()
{
	RpmsgCharCore *core = m_core;
	if (core) {
		Guard g{ core->lock };
		if (m_listed) {
			core->nodes.remove(*this);
			m_listed = false;
		}
		/* Linux frees the numbers when the device is released, not when removed. */
		if (m_kind == RpmsgCharKind::Ctrl)
			(void)core->ctrl_ids.remove(m_id);
		else if (m_kind == RpmsgCharKind::Ept)
			(void)core->ept_ids.remove(m_id);
	}
	switch (m_kind) {
	case RpmsgCharKind::Ctrl:
		delete static_cast<RpmsgCtrldev *>(this);
		break;
	case RpmsgCharKind::Ept:
		delete static_cast<RpmsgEptdev *>(this);
		break;
	case RpmsgCharKind::Channel:
		delete static_cast<RpmsgChanNode *>(this);
		break;
	}
	if (core)
		core->put();
}

bool RpmsgCharNode::live() const
{
	RpmsgCharCore *core = m_core;
	if (!core)
		return false;
	Guard g{ core->lock };
	return m_published;
}

Result<void> RpmsgCharNode::open()
{
	switch (m_kind) {
	case RpmsgCharKind::Ept:
		return static_cast<RpmsgEptdev *>(this)->open();
	case RpmsgCharKind::Ctrl:
		return keel::ok();
	default:
		return keel::err(-ENXIO);
	}
}

void RpmsgCharNode::close()
{
	if (m_kind == RpmsgCharKind::Ept)
		static_cast<RpmsgEptdev *>(this)->close();
}

Result<size_t> RpmsgCharNode::read(void *ubuf, size_t count, bool nonblock)
{
	if (m_kind != RpmsgCharKind::Ept)
		return keel::err(-EINVAL);
	return static_cast<RpmsgEptdev *>(this)->read(ubuf, count, nonblock);
}

Result<size_t> RpmsgCharNode::write(const void *ubuf, size_t count, bool nonblock)
{
	if (m_kind != RpmsgCharKind::Ept)
		return keel::err(-EINVAL);
	return static_cast<RpmsgEptdev *>(this)->write(ubuf, count, nonblock);
}

u32 RpmsgCharNode::poll(void *ctx)
{
	if (m_kind != RpmsgCharKind::Ept)
		/* A file without poll is always ready (Linux DEFAULT_POLLMASK). */
		return RPMSG_POLLIN | RPMSG_POLLOUT | RPMSG_POLLRDNORM | RPMSG_POLLWRNORM;
	return static_cast<RpmsgEptdev *>(this)->poll(ctx);
}

Result<long> RpmsgCharNode::ioctl(unsigned int cmd, unsigned long arg)
{
	switch (m_kind) {
	case RpmsgCharKind::Ept:
		return static_cast<RpmsgEptdev *>(this)->ioctl(cmd, arg);
	case RpmsgCharKind::Ctrl:
		return static_cast<RpmsgCtrldev *>(this)->ioctl(cmd, arg);
	default:
		return keel::err(-ENOTTY);
	}
}

const char *const *RpmsgCharNode::attrs(RpmsgCharKind kind)
{
	switch (kind) {
	case RpmsgCharKind::Ctrl:
		return RpmsgCtrldev::s_attrs;
	case RpmsgCharKind::Ept:
		return RpmsgEptdev::s_attrs;
	default:
		return RpmsgChanNode::s_attrs;
	}
}

Result<size_t> RpmsgCharNode::show(const char *attr, char *buf, size_t size)
{
	switch (m_kind) {
	case RpmsgCharKind::Ctrl:
		return static_cast<RpmsgCtrldev *>(this)->show(attr, buf, size);
	case RpmsgCharKind::Ept:
		return static_cast<RpmsgEptdev *>(this)->show(attr, buf, size);
	default:
		return static_cast<RpmsgChanNode *>(this)->show(attr, buf, size);
	}
}

/* --- control nodes --- */

const char *const RpmsgCtrldev::s_attrs[] = {
	"link", "mtu", "rx_count", "tx_count", "rx_dropped", "endpoints", "channels", nullptr,
};

RpmsgCtrldev::RpmsgCtrldev(RpmsgLink &link)
    : RpmsgCharNode(RpmsgCharKind::Ctrl), m_link(&link), m_link_ptr(&link)
{
}

RpmsgCtrldev::~RpmsgCtrldev()
{
	WARN_ON(!m_epts.is_empty());
}

Result<void> RpmsgCtrldev::create_ept(const RpmsgChannelInfo &chinfo)
{
	RpmsgEptdev *raw = new (GFP_KERNEL) RpmsgEptdev(m_link, nullptr, this, chinfo);
	if (!raw)
		return keel::err(-ENOMEM);
	RefPtr<RpmsgEptdev> eptdev = keel::adopt_ref(raw);
	TRY(RpmsgCharCore::add_node(*raw));
	m_epts.push_back(*raw);
	Result<void> r = RpmsgCharCore::publish(*raw);
	if (r.is_error()) {
		m_epts.remove(*raw);
		return r;
	}
	/* The control node's reference, dropped when the node is removed. */
	(void)eptdev.leak_ref();
	return keel::ok();
}

Result<long> RpmsgCtrldev::ioctl(unsigned int cmd, unsigned long arg)
{
	might_sleep();
	struct rpmsg_endpoint_info info;
	/* Linux copies the argument first, for every request. */
	TRY(RpmsgCharCore::copy_from_user(*this, &info, reinterpret_cast<const void *>(arg),
					  sizeof(info)));
	RpmsgChannelInfo ci;
	memcpy(ci.name, info.name, RPMSG_NAME_SIZE);
	/* A name without its NUL is cut to 31 bytes, not refused (Linux). */
	ci.name[RPMSG_NAME_SIZE - 1] = '\0';
	ci.src = info.src;
	ci.dst = info.dst;

	RpmsgLink *link;
	{
		Guard g{ m_lock };
		if (!m_link)
			return keel::err(-ENODEV);
		if (cmd == RPMSG_CREATE_EPT_IOCTL) {
			TRY(create_ept(ci));
			return 0L;
		}
		if (cmd != RPMSG_CREATE_DEV_IOCTL && cmd != RPMSG_RELEASE_DEV_IOCTL)
			return keel::err(-EINVAL);
		link = m_link;
		m_busy.fetch_add(1);
	}
	/* The channel binds or unbinds under device locks: not under m_lock. */
	keel::ScopeGuard done([this] {
		if (m_busy.sub_return(1) == 0)
			m_idle.wake_up();
	});
	switch (cmd) {
	case RPMSG_CREATE_DEV_IOCTL: {
		/* Linux announces a created channel only when its address is given. */
		auto r = link->add_channel(ci, ci.src != RPMSG_ADDR_ANY, nullptr, false);
		if (r.is_error()) {
			/* Linux: rpmsg_create_channel() gives no reason; the ioctl says -ENXIO. */
			pr_debug("rpmsg_char: %s: channel %s not created: %d", name(), ci.name,
				 r.error().to_errno());
			return keel::err(-ENXIO);
		}
		return 0L;
	}
	case RPMSG_RELEASE_DEV_IOCTL: {
		Result<void> r = link->remove_channel(ci.name, ci.src, ci.dst);
		/* Linux: no such channel is -EINVAL. */
		if (r.is_error())
			return keel::err(r.error().to_errno() == -ENOENT ? -EINVAL
									 : r.error().to_errno());
		return 0L;
	}
	default:
		return keel::err(-EINVAL);
	}
}

void RpmsgCtrldev::forget(RpmsgEptdev &eptdev)
{
	Guard g{ m_lock };
	if (eptdev.m_ctrl_node.is_linked())
		m_epts.remove(eptdev);
}

void RpmsgCtrldev::detach()
{
	might_sleep();
	{
		Guard g{ m_lock };
		m_link = nullptr;
	}
	/* Channel ioctls that found the link finish with it before it goes. */
	m_idle.wait_event([this] { return m_busy.load() == 0; });
	for (;;) {
		RefPtr<RpmsgEptdev> e;
		{
			Guard g{ m_lock };
			e = RefPtr<RpmsgEptdev>(m_epts.pop_front());
		}
		if (!e)
			break;
		e->remove();
	}
	RpmsgCharCore::unpublish(*this);
}

Result<size_t> RpmsgCtrldev::show(const char *attr, char *buf, size_t size)
{
	Guard g{ m_lock };
	if (!m_link)
		return keel::err(-ENODEV);
	RpmsgLinkStats &st = m_link->stats();
	if (!strcmp(attr, "link"))
		return rpmsg_char_emit(buf, size, "%s\n", m_link->name());
	if (!strcmp(attr, "mtu"))
		return rpmsg_char_emit(buf, size, "%u\n", m_link->mtu());
	if (!strcmp(attr, "rx_count"))
		return rpmsg_char_emit(buf, size, "%llu\n",
				       (unsigned long long)st.rx_delivered.load());
	if (!strcmp(attr, "tx_count"))
		return rpmsg_char_emit(buf, size, "%llu\n", (unsigned long long)st.tx_sent.load());
	if (!strcmp(attr, "rx_dropped"))
		return rpmsg_char_emit(buf, size, "%llu\n",
				       (unsigned long long)(st.rx_bad.load() +
							    st.rx_no_recipient.load() +
							    st.rx_hold_dropped.load()));
	if (!strcmp(attr, "endpoints"))
		return rpmsg_char_emit(buf, size, "%u\n", m_link->nr_endpoints());
	if (!strcmp(attr, "channels"))
		return rpmsg_char_emit(buf, size, "%u\n", m_link->nr_channels());
	return keel::err(-ENOENT);
}

/* --- channel nodes --- */

const char *const RpmsgChanNode::s_attrs[] = {
	"name", "src", "dst", "announce", "driver", "ctrl", nullptr,
};

RpmsgChanNode::RpmsgChanNode(RpmsgDevice &rpdev, const char *ctrl_name)
    : RpmsgCharNode(RpmsgCharKind::Channel), m_rpdev(&rpdev)
{
	rpdev.get();
	(void)keel::strscpy(m_name, rpdev.name(), sizeof(m_name));
	(void)keel::strscpy(m_ctrl_name, ctrl_name ? ctrl_name : "", sizeof(m_ctrl_name));
}

RpmsgChanNode::~RpmsgChanNode()
{
	m_rpdev->put();
}

Result<size_t> RpmsgChanNode::show(const char *attr, char *buf, size_t size)
{
	RpmsgDevice &d = *m_rpdev;
	if (!strcmp(attr, "name"))
		return rpmsg_char_emit(buf, size, "%s\n", d.channel_name());
	if (!strcmp(attr, "src"))
		return rpmsg_char_emit(buf, size, "%d\n", int(d.src()));
	if (!strcmp(attr, "dst"))
		return rpmsg_char_emit(buf, size, "%d\n", int(d.dst()));
	if (!strcmp(attr, "announce"))
		return rpmsg_char_emit(buf, size, "%s\n", d.announce() ? "true" : "false");
	if (!strcmp(attr, "ctrl"))
		return rpmsg_char_emit(buf, size, "%s\n", m_ctrl_name);
	if (!strcmp(attr, "driver")) {
		/* The device lock keeps the driver (and its name) bound while we look. */
		Guard g{ d.mutex() };
		const keel::Driver *drv = d.driver();
		return rpmsg_char_emit(buf, size, "%s\n", drv ? drv->name() : "");
	}
	return keel::err(-ENOENT);
}

namespace {

void add_channel_node(RpmsgDevice &rpdev)
{
	RpmsgLink *link = RpmsgCore::link_of(rpdev);
	RefPtr<RpmsgCtrldev> ctrl = link ? RpmsgCharCore::ctrl_of(*link) : nullptr;
	/* The published node keeps its reference, dropped by remove_channel_node(). */
	Result<void> r = RpmsgCharCore::add_new_node(
		new (GFP_KERNEL) RpmsgChanNode(rpdev, ctrl ? ctrl->name() : nullptr));
	if (r.is_error())
		pr_warn("rpmsg_char: channel %s has no node: %d", rpdev.name(),
			r.error().to_errno());
}

void remove_channel_node(RpmsgDevice &rpdev)
{
	RpmsgCharCore *core = s_core.load(keel::MemoryOrder::Acquire);
	RpmsgChanNode *found = nullptr;
	{
		Guard g{ core->lock };
		for (RpmsgCharNode &n : core->nodes) {
			if (n.kind() == RpmsgCharKind::Channel &&
			    static_cast<RpmsgChanNode &>(n).rpdev() == &rpdev) {
				found = static_cast<RpmsgChanNode *>(&n);
				break;
			}
		}
	}
	if (!found)
		return;
	RpmsgCharCore::unpublish(*found);
	found->put();
}

bool channel_node_exists(RpmsgDevice &rpdev)
{
	RpmsgCharCore *core = s_core.load(keel::MemoryOrder::Acquire);
	Guard g{ core->lock };
	for (RpmsgCharNode &n : core->nodes)
		if (n.kind() == RpmsgCharKind::Channel &&
		    static_cast<RpmsgChanNode &>(n).rpdev() == &rpdev)
			return true;
	return false;
}

int bus_event(keel::NotifierBlock &nb, unsigned long action, void *data)
{
	/* SAFETY: the rpmsg bus's notifier data is the device, an RpmsgDevice. */
	RpmsgDevice &rpdev = *static_cast<RpmsgDevice *>(static_cast<keel::Device *>(data));
	if (action == keel::BUS_NOTIFY_ADD_DEVICE && !channel_node_exists(rpdev))
		add_channel_node(rpdev);
	else if (action == keel::BUS_NOTIFY_DEL_DEVICE)
		remove_channel_node(rpdev);
	return keel::NOTIFY_DONE;
}

int add_existing_channel(keel::Device &dev, void *)
{
	/* SAFETY: every device on the rpmsg bus is an RpmsgDevice. */
	RpmsgDevice &rpdev = static_cast<RpmsgDevice &>(dev);
	if (!channel_node_exists(rpdev))
		add_channel_node(rpdev);
	return 0;
}

/* --- the link interface: a control node per link --- */

void link_added(RpmsgLinkInterface &, RpmsgLink &link)
{
	/* The published node keeps its reference, dropped by link_removed(). */
	Result<void> r = RpmsgCharCore::add_new_node(new (GFP_KERNEL) RpmsgCtrldev(link));
	if (r.is_error())
		dev_err(link.dev(), "no rpmsg control node: %d", r.error().to_errno());
}

void link_removed(RpmsgLinkInterface &, RpmsgLink &link)
{
	RefPtr<RpmsgCtrldev> ctrl = RpmsgCharCore::ctrl_of(link);
	if (!ctrl)
		return;
	ctrl->detach();
	ctrl->put();
}

void teardown(RpmsgCharCore &core)
{
	if (core.intf_registered)
		rpmsg_link_interface_unregister(core.intf);
	if (core.driver_registered)
		unregister_rpmsg_driver(rpmsg_chrdev_driver);
	if (core.notifier_registered) {
		(void)keel::bus_unregister_notifier(rpmsg_bus, core.bus_nb);
		/* Channel nodes of channels still there. */
		for (;;) {
			RefPtr<RpmsgChanNode> n;
			{
				Guard g{ core.lock };
				for (RpmsgCharNode &x : core.nodes) {
					if (x.kind() == RpmsgCharKind::Channel) {
						n = RefPtr<RpmsgChanNode>(
							static_cast<RpmsgChanNode *>(&x));
						break;
					}
				}
			}
			if (!n)
				break;
			RpmsgCharCore::unpublish(*n);
			n->put();
		}
	}
	core.intf_registered = core.driver_registered = core.notifier_registered = false;
}

} // namespace

/* --- registration --- */

Result<void> rpmsg_char_register(const RpmsgCharFrontend &fe)
{
	might_sleep();
	if (!fe.publish || !fe.unpublish || !fe.copy_out || !fe.copy_in || !fe.copy_to_user ||
	    !fe.copy_from_user || !fe.poll_wait)
		return keel::err(-EINVAL);
	RpmsgCharCore *core = new (GFP_KERNEL) RpmsgCharCore;
	if (!core)
		return keel::err(-ENOMEM);
	RefPtr<RpmsgCharCore> ref = keel::adopt_ref(core);
	core->fe = &fe;
	core->queue_max = fe.queue_max ? fe.queue_max : RPMSG_CHAR_QUEUE_MAX;
	core->intf.add_link = link_added;
	core->intf.remove_link = link_removed;
	core->bus_nb.notifier_call = bus_event;
	RpmsgCharCore *none = nullptr;
	if (!s_core.compare_exchange(none, core))
		return keel::err(-EBUSY);
	Result<void> r = rpmsg_init();
	if (r.is_error()) {
		s_core.store(nullptr);
		return r;
	}
	/* Channel nodes first: control nodes name themselves in them. */
	r = keel::bus_register_notifier(rpmsg_bus, core->bus_nb);
	if (r.is_ok()) {
		core->notifier_registered = true;
		r = rpmsg_link_interface_register(core->intf);
	}
	if (r.is_ok()) {
		core->intf_registered = true;
		r = register_rpmsg_driver(rpmsg_chrdev_driver);
	}
	if (r.is_ok()) {
		core->driver_registered = true;
		(void)keel::__bus_for_each_dev(rpmsg_bus, nullptr, add_existing_channel, nullptr);
	}
	if (r.is_error()) {
		teardown(*core);
		s_core.store(nullptr);
		rpmsg_exit();
		return r;
	}
	/* The registration's reference. */
	(void)ref.leak_ref();
	return keel::ok();
}

void rpmsg_char_unregister()
{
	might_sleep();
	RpmsgCharCore *core = s_core.load(keel::MemoryOrder::Acquire);
	if (!core)
		return;
	teardown(*core);
	s_core.store(nullptr, keel::MemoryOrder::Release);
	rpmsg_exit();
	core->put();
}

RefPtr<RpmsgCharNode> rpmsg_char_find(const char *name)
{
	return RpmsgCharCore::find(name);
}

u32 rpmsg_char_for_each(bool (*fn)(RpmsgCharNode &node, void *arg), void *arg)
{
	return RpmsgCharCore::for_each(fn, arg);
}

RefPtr<RpmsgCharNode> RpmsgCharCore::find(const char *name)
{
	RefPtr<RpmsgCharCore> core = get_core();
	if (!core)
		return nullptr;
	Guard g{ core->lock };
	for (RpmsgCharNode &n : core->nodes)
		if (n.m_published && !strcmp(n.name(), name))
			return RefPtr<RpmsgCharNode>(&n);
	return nullptr;
}

u32 RpmsgCharCore::for_each(bool (*fn)(RpmsgCharNode &node, void *arg), void *arg)
{
	RefPtr<RpmsgCharCore> core = get_core();
	if (!core)
		return 0;
	/* By position, taking a reference each time: @fn runs without the lock. */
	u32 visited = 0;
	for (u32 i = 0;; i++) {
		RefPtr<RpmsgCharNode> node;
		{
			Guard g{ core->lock };
			u32 k = 0;
			for (RpmsgCharNode &n : core->nodes) {
				if (!n.m_published)
					continue;
				if (k++ == i) {
					node = RefPtr<RpmsgCharNode>(&n);
					break;
				}
			}
		}
		if (!node)
			return visited;
		visited++;
		if (!fn(*node, arg))
			return visited;
	}
}

} // namespace rpmsg
