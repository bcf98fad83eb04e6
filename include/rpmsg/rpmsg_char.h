/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rpmsg character devices (Linux drivers/rpmsg/rpmsg_ctrl.c and
 * rpmsg_char.c) without an OS: the semantics of the <linux/rpmsg.h>
 * UAPI, shared by every port. A frontend gives them a face: the Linux
 * port's cdev glue (os/linux/rpmsg_char/: /dev/rpmsg_ctrlN, /dev/rpmsgN)
 * and the hosted library (os/posix/rpmsgdev/: file-descriptor-like
 * handles). Documentation/rpmsg-char.rst is the userspace interface.
 *
 * Nodes, as Linux has them:
 *  - a control node per rpmsg link, "rpmsg_ctrlN" (N from 0, lowest free,
 *    freed when the node is released): RPMSG_CREATE_EPT_IOCTL makes an
 *    endpoint node, RPMSG_CREATE_DEV_IOCTL / RPMSG_RELEASE_DEV_IOCTL
 *    create and remove an rpmsg channel (which binds by driver-core
 *    matching; "rpmsg-raw" binds the endpoint-node driver);
 *  - endpoint nodes, "rpmsgN": read one message per call, write one
 *    message per call, poll, RPMSG_DESTROY_EPT_IOCTL; one opener at a time;
 *  - channel nodes (no file operations): one per rpmsg channel, named
 *    after the channel device, with its name, addresses and driver as
 *    attributes (what Linux shows under /sys/bus/rpmsg/devices).
 *
 * Lifetime: a node is refcounted. Its frontend holds a reference while
 * the node is published and one per open file; a node that goes away
 * (its endpoint destroyed, its channel or link removed) is unpublished at
 * once, and the files still open on it fail with Linux's errors (-EPIPE,
 * POLLHUP) until they are closed.
 */
#ifndef RPMSG_RPMSG_CHAR_H
#define RPMSG_RPMSG_CHAR_H

#include <keel/refcount.h>
#include <keel/wait.h>
#include <rpmsg/rpmsg.h>

/*
 * The UAPI itself (struct rpmsg_endpoint_info, the ioctl numbers) is
 * <linux/rpmsg.h>; it is not included here because its RPMSG_ADDR_ANY
 * macro would rewrite rpmsg::RPMSG_ADDR_ANY. Code that needs both includes
 * drivers/rpmsg/rpmsg_char_uapi.h last.
 */

namespace rpmsg {

using keel::size_t;

/* Unread messages an endpoint node queues at most (RpmsgCharFrontend.queue_max). */
inline constexpr u32 RPMSG_CHAR_QUEUE_MAX = 256;

/**
 * enum RpmsgCharPollBits - poll() bits the character devices add to those
 * of <rpmsg/rpmsg.h>, with the values of their EPOLL* namesakes
 * @RPMSG_POLLIN: a message can be read
 * @RPMSG_POLLRDNORM: as RPMSG_POLLIN
 * @RPMSG_POLLWRNORM: as RPMSG_POLLOUT (the control device)
 */
enum RpmsgCharPollBits : u32 {
	RPMSG_POLLIN = 0x001,
	RPMSG_POLLRDNORM = 0x040,
	RPMSG_POLLWRNORM = 0x100,
};

/**
 * enum RpmsgCharKind - what a node is
 * @Ctrl: a control node, rpmsg_ctrlN (one per link)
 * @Ept: an endpoint node, rpmsgN
 * @Channel: a channel's node (attributes only)
 */
enum class RpmsgCharKind : u8 { Ctrl, Ept, Channel };

class RpmsgCharNode;
struct RpmsgCharCore;

/**
 * struct RpmsgCharFrontend - what a port does for the character devices
 * @name: the frontend's name, for logs.
 * @publish: make @node reachable (Linux: the device and its cdev);
 *	process context, may sleep; an error leaves the node unpublished.
 * @unpublish: make it unreachable: no new open after it returns; files
 *	open on it stay valid. Process context, may sleep.
 * @copy_out: move n bytes of a read() from the core to the caller's
 *	buffer (the cookie the frontend passed to read(): a user pointer, an
 *	iov_iter, ...), after what the call copied before; -EFAULT on a bad
 *	address.
 * @copy_in: move n bytes of a write() from the caller's buffer (the cookie
 *	passed to write()) to the core; -EFAULT on a bad address.
 * @copy_to_user: copy_out() for an ioctl's argument (a user pointer).
 * @copy_from_user: copy_in() for an ioctl's argument.
 * @poll_wait: register the caller of poll() (@ctx, what the frontend
 *	passed to RpmsgCharNode::poll()) on @wq (Linux poll_wait()). The
 *	queue lives as long as the node.
 * @queue_max: unread messages an endpoint node keeps; 0 means
 *	RPMSG_CHAR_QUEUE_MAX.
 */
struct RpmsgCharFrontend {
	const char *name;
	Result<void> (*publish)(RpmsgCharNode &node);
	void (*unpublish)(RpmsgCharNode &node);
	Result<void> (*copy_out)(void *ubuf, const void *from, size_t n);
	Result<void> (*copy_in)(void *to, const void *ubuf, size_t n);
	Result<void> (*copy_to_user)(void *to, const void *from, size_t n);
	Result<void> (*copy_from_user)(void *to, const void *from, size_t n);
	void (*poll_wait)(keel::WaitQueue &wq, void *ctx);
	u32 queue_max;
};

/**
 * rpmsg_char_register() - bring the character devices up with @fe.
 * @fe: the frontend (kept by pointer: it must outlive the registration)
 *
 * Registers the rpmsg bus (counted), a control node for every rpmsg link
 * (existing and new), the endpoint-node driver "rpmsg_chrdev" (channels
 * "rpmsg-raw" and "rpmsg_chrdev") and a channel node for every channel.
 * Context: may sleep.
 * Return: 0, -EBUSY when a frontend is registered, -EINVAL for a
 * frontend without its operations, -ENOMEM.
 */
Result<void> rpmsg_char_register(const RpmsgCharFrontend &fe)
	KEEL_EXPORT_AS(keel_rpmsg_char_register);
/**
 * rpmsg_char_unregister() - take every node down and let go of the frontend.
 *
 * Every node is unpublished and its endpoint destroyed; files still open
 * keep their nodes until closed (the frontend makes sure none can be
 * used after it is gone: a module's open files pin it).
 * Context: may sleep.
 */
void rpmsg_char_unregister();

/**
 * rpmsg_char_find() - a published node by name.
 * @name: "rpmsg_ctrl0", "rpmsg3", a channel's device name
 *
 * Context: may sleep.
 * Return: the node (a reference), or null.
 */
keel::RefPtr<RpmsgCharNode> rpmsg_char_find(const char *name);

/**
 * rpmsg_char_for_each() - call @fn for every published node, oldest first.
 * @fn: returns false to stop; gets a node it may keep a reference to
 * @arg: passed to @fn
 *
 * Context: may sleep (@fn runs without the core's locks).
 * Return: the nodes visited.
 */
u32 rpmsg_char_for_each(bool (*fn)(RpmsgCharNode &node, void *arg), void *arg)
	KEEL_EXPORT_AS(keel_rpmsg_char_for_each);

/**
 * class RpmsgCharNode - a control, endpoint or channel node
 *
 * With the file operations a frontend maps its own onto. Each returns
 * Linux's error codes for the UAPI (Documentation/rpmsg-char.rst); a node
 * of the wrong kind answers as Linux's file without that operation would
 * (-EINVAL). Refcounted (get(), put()): the frontend holds a reference
 * while the node is published and one per open file.
 */
class RpmsgCharNode : public keel::RefCounted<RpmsgCharNode> {
public:
	/**
	 * kind() - what the node is
	 *
	 * Context: any.
	 * Return: its kind.
	 */
	RpmsgCharKind kind() const { return m_kind; }
	/**
	 * name() - the node's name
	 *
	 * Context: any.
	 * Return: "rpmsg_ctrlN", "rpmsgN", or the channel's device name.
	 */
	const char *name() const { return m_name; }
	/**
	 * id() - the N of a control or endpoint node's name (its minor)
	 *
	 * Context: any.
	 * Return: the number (0 for a channel node).
	 */
	u32 id() const { return m_id; }
	/**
	 * live() - is the node still published?
	 *
	 * Context: may sleep.
	 * Return: false once its endpoint, channel or link went away.
	 */
	bool live() const;

	/**
	 * fe_data() - the frontend's object for this node
	 *
	 * Context: any.
	 * Return: what set_fe_data() stored (null before).
	 */
	void *fe_data() const { return m_fe_data; }
	/**
	 * set_fe_data() - store the frontend's object for this node
	 * @p: the object (the frontend's publish() sets it)
	 *
	 * Context: any.
	 */
	void set_fe_data(void *p) { m_fe_data = p; }

	/**
	 * open() - a file opens the node.
	 *
	 * Endpoint nodes: creates the endpoint (a node made by
	 * RPMSG_CREATE_EPT_IOCTL) or takes the channel's (an "rpmsg-raw"
	 * channel's node). The frontend holds a node reference per open file.
	 * Context: may sleep.
	 * Return: 0; -EBUSY when open already; -ENETRESET when the node went
	 * away; -EINVAL when the endpoint cannot be created (its address is
	 * taken); -ENXIO for a channel node.
	 */
	Result<void> open() KEEL_EXPORT_AS(keel_rpmsg_char_open);
	/**
	 * close() - the last file closes: the endpoint goes (not a channel's),
	 * unread messages with it.
	 *
	 * Context: may sleep; never while another operation on the file runs.
	 */
	void close() KEEL_EXPORT_AS(keel_rpmsg_char_close);
	/**
	 * read() - one message, truncated to @count bytes (the rest is lost).
	 * @ubuf: the caller's buffer (the frontend's copy_out() cookie)
	 * @count: its size
	 * @nonblock: O_NONBLOCK
	 *
	 * Context: may sleep (interruptibly).
	 * Return: the bytes copied; -EAGAIN (non-blocking, nothing queued);
	 * -ERESTARTSYS (a signal); -EPIPE when the endpoint is gone; -EFAULT
	 * (the message is lost, as in Linux).
	 */
	Result<size_t> read(void *ubuf, size_t count, bool nonblock)
		KEEL_EXPORT_AS(keel_rpmsg_char_read);
	/**
	 * write() - @count bytes as one message to the node's destination.
	 * @ubuf: the caller's bytes (the frontend's copy_in() cookie)
	 * @count: their number, at most the MTU; 0 sends an empty message
	 * @nonblock: O_NONBLOCK: no waiting for a tx buffer
	 *
	 * Context: may sleep.
	 * Return: @count; -EMSGSIZE above the MTU; -EAGAIN (non-blocking, no
	 * tx buffer); -ETIMEDOUT (no tx buffer within the link's send
	 * timeout); -EINVAL when the destination is RPMSG_ADDR_ANY; -EPIPE
	 * when the endpoint or the peer is gone; -ENOTCONN when the link is
	 * down; -EFAULT; -ERESTARTSYS.
	 */
	Result<size_t> write(const void *ubuf, size_t count, bool nonblock)
		KEEL_EXPORT_AS(keel_rpmsg_char_write);
	/**
	 * poll() - readiness, after registering @ctx on the node's queue.
	 * @ctx: the frontend's poll context (given to its poll_wait())
	 *
	 * Context: may sleep.
	 * Return: RPMSG_POLLIN | RPMSG_POLLRDNORM with a message queued,
	 * RPMSG_POLLOUT when a write would not wait; RPMSG_POLLERR |
	 * RPMSG_POLLHUP once the endpoint or the link is gone.
	 */
	u32 poll(void *ctx) KEEL_EXPORT_AS(keel_rpmsg_char_poll);
	/**
	 * ioctl() - the UAPI's ioctls of the node's kind.
	 * @cmd: the request
	 * @arg: its argument (a user pointer, or a value)
	 *
	 * Context: may sleep.
	 * Return: 0 or Linux's error (see Documentation/rpmsg-char.rst);
	 * -EINVAL for an unknown request.
	 */
	Result<long> ioctl(unsigned int cmd, unsigned long arg)
		KEEL_EXPORT_AS(keel_rpmsg_char_ioctl);

	/**
	 * attrs() - the attribute names of a node kind, null-terminated.
	 * @kind: the kind
	 *
	 * Context: any.
	 * Return: the names (static).
	 */
	static const char *const *attrs(RpmsgCharKind kind) KEEL_EXPORT_AS(keel_rpmsg_char_attrs);
	/**
	 * show() - one attribute's value, "value\n" as sysfs shows it.
	 * @attr: one of attrs(kind())
	 * @buf: where to write it (NUL-terminated)
	 * @size: its size
	 *
	 * Context: may sleep; takes no lock a node's removal holds.
	 * Return: the length written; -ENOENT for an unknown attribute;
	 * -ENODEV for a value of a link that is gone.
	 */
	Result<size_t> show(const char *attr, char *buf, size_t size)
		KEEL_EXPORT_AS(keel_rpmsg_char_show);

protected:
	friend class keel::RefCounted<RpmsgCharNode>;
	friend struct RpmsgCharCore;
	static constexpr size_t NAME_SIZE = 96;

	explicit RpmsgCharNode(RpmsgCharKind kind) : m_kind(kind) {}
	~RpmsgCharNode() = default;
	void release();

	RpmsgCharKind m_kind;
	bool m_published = false; /* under the core's mutex */
	bool m_listed = false;	  /* on the core's list, under its mutex */
	/* The core it was made under (a reference, dropped at release). */
	RpmsgCharCore *m_core = nullptr;
	u32 m_id = 0;
	void *m_fe_data = nullptr;
	char m_name[NAME_SIZE] = {};
	/* On the core's list of nodes (published or about to be). */
	keel::ListNode m_node;
};

} // namespace rpmsg

#endif
