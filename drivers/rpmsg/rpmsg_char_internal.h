/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside the rpmsg character devices: the three kinds of node and the
 * core that publishes them (rpmsg_ctrl.cpp: the core, control nodes,
 * channel nodes; rpmsg_char.cpp: endpoint nodes and their driver).
 *
 * Lock order (outermost first), below the link registry's mutex (held
 * while a link's control node comes and goes):
 *   1. RpmsgCtrldev::m_lock (mutex: its ioctls' checks and endpoint nodes)
 *   2. the rpmsg core's channel and device locks
 * A channel that an ioctl creates or releases binds or unbinds under a
 * device lock, and a device lock is held around the registry's mutex
 * (a link is set up in its virtio device's probe): so those two ioctls
 * run outside m_lock, counted in m_busy, which detach() waits out.
 *   3. RpmsgEptdev::m_ept_lock (mutex: open, close, removal)
 *   4. RpmsgCharCore::lock (mutex: the node list, the numbers)
 *   5. RpmsgEptdev::m_lock (spinlock: the message queue and the endpoint
 *      pointer; taken in the endpoint's callback, atomic context)
 * The frontend's publish() and unpublish() run with none of 4 and 5 held:
 * unpublishing waits for attribute readers, and show() takes 1 or 4.
 */
#ifndef RPMSG_RPMSG_CHAR_INTERNAL_H
#define RPMSG_RPMSG_CHAR_INTERNAL_H

#include <keel/idr.h>
#include <keel/list.h>
#include <keel/notifier.h>
#include <keel/spinlock.h>
#include <rpmsg/rpmsg_char.h>

#include "rpmsg_internal.h"

namespace rpmsg {

class RpmsgCtrldev;

/* One queued message: the payload follows. */
struct RpmsgCharMsg {
	keel::ListNode node;
	u32 len;
	u8 data[];
};

/*
 * RpmsgEptdev - an endpoint node (Linux struct rpmsg_eptdev): made by a
 * control node's RPMSG_CREATE_EPT_IOCTL (the endpoint is created at open
 * and destroyed at close), or by the "rpmsg_chrdev" driver for a channel
 * (the channel's default endpoint, kept by the channel).
 *
 * Invariants: m_users counts operations inside the link (write, poll)
 * and its GONE bit is set once, by remove(), which then waits for them to
 * leave: after remove() the link may go. m_ept is set while a file has
 * the node open and it was not removed.
 */
class RpmsgEptdev : public RpmsgCharNode {
public:
	RpmsgEptdev(RpmsgLink *link, RpmsgDevice *rpdev, RpmsgCtrldev *ctrl,
		    const RpmsgChannelInfo &chinfo);
	~RpmsgEptdev();

	Result<void> open();
	void close();
	Result<size_t> read(void *ubuf, size_t count, bool nonblock);
	Result<size_t> write(const void *ubuf, size_t count, bool nonblock);
	u32 poll(void *ctx);
	Result<long> ioctl(unsigned int cmd, unsigned long arg);
	Result<size_t> show(const char *attr, char *buf, size_t size);

	/*
	 * remove() - Linux rpmsg_chrdev_eptdev_destroy(): the endpoint goes
	 * (not a channel's), readers wake (-EPIPE), writers and pollers leave
	 * the link, the node is unpublished. Idempotent. Context: may sleep.
	 */
	void remove();
	/* Queue a received message (the endpoint's callback). Context: atomic. */
	Result<void> enqueue(Span<const u8> data);

	static const char *const s_attrs[];

	/* On its control node's list (under the control node's m_lock). */
	keel::ListNode m_ctrl_node;

private:
	static constexpr u32 GONE = 1u << 31;
	static Result<void> rx_cb(RpmsgEndpoint &ept, Span<const u8> data, u32 src, void *priv);
	static void tx_relay(keel::WaitCallback &cb);
	bool enter();
	void exit();
	bool gone() const { return m_users.load(keel::MemoryOrder::Acquire) & GONE; }
	keel::RefPtr<RpmsgEndpoint> ept_ref();
	void release_ept() REQUIRES(m_ept_lock);
	void purge();

	const RpmsgChannelInfo m_chinfo;
	RpmsgLink *const m_link;
	/* The channel of a default-endpoint node (a device reference), else null. */
	RpmsgDevice *const m_rpdev;
	/* The control node that made it (a reference), else null. */
	RpmsgCtrldev *const m_ctrl;

	keel::Mutex m_ept_lock{ "rpmsg_eptdev_ept_lock", KEEL_LOCK_KEY() };
	bool m_open GUARDED_BY(m_ept_lock) = false;

	keel::SpinLock m_lock{ "rpmsg_eptdev_lock", KEEL_LOCK_KEY() };
	RpmsgEndpoint *m_ept GUARDED_BY(m_lock) = nullptr; /* a reference */
	keel::List<RpmsgCharMsg, &RpmsgCharMsg::node> m_queue GUARDED_BY(m_lock);
	u32 m_queued GUARDED_BY(m_lock) = 0;

	keel::Atomic<u32> m_users{ 0 };
	/* Readers, pollers, remove() waiting for the users to leave. */
	keel::WaitQueue m_readq{ "rpmsg_eptdev_readq", KEEL_LOCK_KEY() };
	/* On the link's send queue while m_ept is set: POLLOUT wakes m_readq. */
	keel::WaitCallback m_tx_relay{ &RpmsgEptdev::tx_relay };

	keel::Atomic<u64> m_rx_count{ 0 };
	keel::Atomic<u64> m_rx_dropped{ 0 };
	keel::Atomic<u64> m_tx_count{ 0 };
};

/*
 * RpmsgCtrldev - the control node of one link (Linux struct rpmsg_ctrldev).
 * Its ioctls check the link under m_lock, as Linux's under its ctrl_lock;
 * creating and releasing channels then run outside it (see the lock
 * order above). detach() (the link going) waits for those, removes the
 * endpoint nodes it made and unpublishes it.
 */
class RpmsgCtrldev : public RpmsgCharNode {
public:
	explicit RpmsgCtrldev(RpmsgLink &link);
	~RpmsgCtrldev();

	Result<long> ioctl(unsigned int cmd, unsigned long arg);
	Result<size_t> show(const char *attr, char *buf, size_t size);
	RpmsgLink *link() const { return m_link_ptr; }
	void detach();
	/* An endpoint node it made is removed. */
	void forget(RpmsgEptdev &eptdev);

	static const char *const s_attrs[];

	keel::Mutex m_lock{ "rpmsg_ctrldev_lock", KEEL_LOCK_KEY() };

private:
	Result<void> create_ept(const RpmsgChannelInfo &chinfo) REQUIRES(m_lock);

	/* The link, until detach(); m_link_ptr keeps its address for lookups. */
	RpmsgLink *m_link GUARDED_BY(m_lock);
	/* Channel ioctls under way on m_link (taken under m_lock while it is set). */
	keel::Atomic<u32> m_busy{ 0 };
	keel::WaitQueue m_idle{ "rpmsg_ctrldev_idle", KEEL_LOCK_KEY() };
	RpmsgLink *const m_link_ptr;
	keel::List<RpmsgEptdev, &RpmsgEptdev::m_ctrl_node> m_epts GUARDED_BY(m_lock);
};

/* RpmsgChanNode - a channel's node: attributes only. */
class RpmsgChanNode : public RpmsgCharNode {
public:
	RpmsgChanNode(RpmsgDevice &rpdev, const char *ctrl_name);
	~RpmsgChanNode();
	Result<size_t> show(const char *attr, char *buf, size_t size);
	RpmsgDevice *rpdev() const { return m_rpdev; }

	static const char *const s_attrs[];

private:
	RpmsgDevice *const m_rpdev; /* a device reference */
	char m_ctrl_name[NAME_SIZE] = {};
};

/*
 * RpmsgCharCore - the registered frontend and what it publishes: every
 * node (on @nodes, published or being published), the numbers of control
 * and endpoint nodes (Linux's idas: lowest free, freed when the node is
 * released), and the hooks into the rpmsg core: a link interface (control
 * nodes), the "rpmsg_chrdev" driver (endpoint nodes of channels) and a
 * bus notifier (channel nodes).
 *
 * Lifetime: allocated by rpmsg_char_register(); every node holds a
 * reference, so numbers can be freed by a node released after
 * rpmsg_char_unregister().
 */
struct RpmsgCharCore : public keel::RefCounted<RpmsgCharCore> {
	const RpmsgCharFrontend *fe;
	u32 queue_max;
	keel::Mutex lock{ "rpmsg_char_core", KEEL_LOCK_KEY() };
	keel::List<RpmsgCharNode, &RpmsgCharNode::m_node> nodes GUARDED_BY(lock);
	keel::Idr ctrl_ids GUARDED_BY(lock);
	keel::Idr ept_ids GUARDED_BY(lock);
	RpmsgLinkInterface intf;
	keel::NotifierBlock bus_nb;
	bool driver_registered = false;
	bool notifier_registered = false;
	bool intf_registered = false;

	/* The registered core (a reference), or null. */
	static keel::RefPtr<RpmsgCharCore> get_core();
	/* The core a node was made under (nodes hold a reference). */
	static RpmsgCharCore &of(RpmsgCharNode &node);

	/* Numbers a new node (control, endpoint) and lists it; channels are named by the caller. */
	static Result<void> add_node(RpmsgCharNode &node);
	/*
	 * Lists and publishes @fresh, a node just made (null: its allocation
	 * failed), which keeps the reference it was made with while published;
	 * on error it is released.
	 */
	static Result<void> add_new_node(RpmsgCharNode *fresh)
		KEEL_EXPORT_AS(keel_rpmsg_char_core_add_new_node);
	/* Publishes a listed node; on error it is unlisted (the caller puts it). */
	static Result<void> publish(RpmsgCharNode &node);
	/* Unpublishes and unlists a node (idempotent). Context: may sleep. */
	static void unpublish(RpmsgCharNode &node);
	/* The published control node of @link (a reference), or null. */
	static keel::RefPtr<RpmsgCtrldev> ctrl_of(RpmsgLink &link);

	static keel::RefPtr<RpmsgCharNode> find(const char *name);
	static u32 for_each(bool (*fn)(RpmsgCharNode &node, void *arg), void *arg)
		KEEL_EXPORT_AS(keel_rpmsg_char_core_for_each);
	/* The frontend's copies, through the core @node was made under. */
	static Result<void> copy_out(RpmsgCharNode &node, void *ubuf, const void *from, size_t n);
	static Result<void> copy_in(RpmsgCharNode &node, void *to, const void *ubuf, size_t n);
	static Result<void> copy_to_user(RpmsgCharNode &node, void *to, const void *from, size_t n);
	static Result<void> copy_from_user(RpmsgCharNode &node, void *to, const void *from,
					   size_t n);

	void release();
};

/* The "rpmsg_chrdev" driver (rpmsg_char.cpp), registered with the frontend. */
extern RpmsgDriver rpmsg_chrdev_driver;

/* Formats "value\n" into @buf: the length, -ENOSPC when it does not fit. */
__printf(3, 4) Result<size_t> rpmsg_char_emit(char *buf, size_t size, const char *fmt, ...);

} // namespace rpmsg

#endif
