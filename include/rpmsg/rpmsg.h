/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rpmsg client API (Linux include/linux/rpmsg.h): channels (rpmsg
 * devices on the rpmsg bus), their drivers, endpoints, and sending and
 * receiving messages. This is the one header a client driver includes.
 *
 * A remote processor announces a service by name; the link to it creates
 * one RpmsgDevice (a channel) per announcement, and the driver core binds
 * the RpmsgDriver whose id table holds that name. The driver's probe gets
 * the channel with a default endpoint at the channel's local address; its
 * on_message() receives what the remote sends there:
 *
 *	class SampleClient : keel::NonMovable {
 *	public:
 *		static constexpr rpmsg::RpmsgDeviceId id_table[] = {
 *			{ "rpmsg-client-sample" }, {}
 *		};
 *		static Result<UniquePtr<SampleClient>> probe(rpmsg::RpmsgDevice &rpdev);
 *		void remove(rpmsg::RpmsgDevice &rpdev);
 *		Result<void> on_message(rpmsg::RpmsgDevice &rpdev, Span<const u8> data,
 *					u32 src);
 *	};
 *	module_rpmsg_driver(SampleClient, "rpmsg_client_sample");
 *
 * Contexts. Endpoint callbacks (on_message and any RpmsgRxCb) run in
 * atomic context (an interrupt, or with a spinlock held): they must not
 * sleep. The send rule that follows from it is enforced, not just
 * documented: in atomic context every send variant is non-blocking. A
 * blocking send called there behaves as its trysend twin (-ENOMEM at once
 * when no buffer is free) instead of sleeping, so a callback that answers
 * can never deadlock, even with both directions out of buffers. A callback
 * that must not lose its answer holds the received buffer
 * (hold_rx_buffer()) and defers the send to process context (a work item),
 * as samples/rpmsg/echo.cpp does.
 *
 * Addresses: 0..1023 are reserved (RPMSG_RESERVED_ADDRESSES; the name
 * service is 53), dynamic ones are allocated from 1024 up, lowest free
 * first, as Linux does. RPMSG_ADDR_ANY asks for a dynamic address, and is
 * never a valid source or destination of a message.
 *
 * Documentation/rpmsg.rst has the full story, a minimal driver and the
 * protocol as implemented.
 */
#ifndef RPMSG_RPMSG_H
#define RPMSG_RPMSG_H

#include <keel/alloc.h>
#include <keel/atomic.h>
#include <keel/device.h>
#include <keel/error.h>
#include <keel/list.h>
#include <keel/refcount.h>
#include <keel/span.h>
#include <keel/time.h>
#include <keel/wait.h>

namespace rpmsg {

using keel::Result;
using keel::Span;

/* Wire constants, with Linux's names. */
inline constexpr u32 RPMSG_ADDR_ANY = 0xffffffffu;
inline constexpr u32 RPMSG_NS_ADDR = 53;
inline constexpr u32 RPMSG_RESERVED_ADDRESSES = 1024;
/* A channel name, with its NUL (Linux RPMSG_NAME_SIZE). */
inline constexpr unsigned int RPMSG_NAME_SIZE = 32;

/* How long a blocking send waits for a tx buffer by default (Linux: 15 s). */
inline constexpr s64 RPMSG_SEND_TIMEOUT_NS = 15 * keel::NSEC_PER_SEC;

/* poll() bits, with the values of EPOLLOUT, EPOLLERR and EPOLLHUP. */
inline constexpr u32 RPMSG_POLLOUT = 0x004;
inline constexpr u32 RPMSG_POLLERR = 0x008;
inline constexpr u32 RPMSG_POLLHUP = 0x010;

/**
 * struct RpmsgDeviceId - a driver's id table entry (struct rpmsg_device_id)
 * @name: the channel name it binds to; an empty name ends the table
 * @driver_data: the driver's value for this entry
 *
 * The same layout as Linux's.
 */
struct RpmsgDeviceId {
	char name[RPMSG_NAME_SIZE];
	unsigned long driver_data;
};

/**
 * struct RpmsgChannelInfo - a channel's name and addresses (struct
 * rpmsg_channel_info)
 * @name: the channel name, NUL-terminated within RPMSG_NAME_SIZE
 * @src: the local address, or RPMSG_ADDR_ANY for a dynamic one
 * @dst: the remote's address, or RPMSG_ADDR_ANY when unknown
 */
struct RpmsgChannelInfo {
	char name[RPMSG_NAME_SIZE];
	u32 src;
	u32 dst;
};

class RpmsgDevice;
class RpmsgEndpoint;
class RpmsgLink;
struct RpmsgCore;
struct RpmsgBusOps;

/**
 * typedef RpmsgRxCb - an endpoint's receive callback (Linux rpmsg_rx_cb_t)
 * @ept: the endpoint the message was sent to
 * @data: the payload; valid until the callback returns, or until
 *	release_rx_buffer() after hold_rx_buffer()
 * @src: the sender's address
 * @priv: the private data given to create_ept()
 *
 * Context: atomic (must not sleep); callbacks of one endpoint never run
 * concurrently.
 * Return: the driver's verdict; an error is counted, the message is gone
 * either way.
 */
using RpmsgRxCb = Result<void> (*)(RpmsgEndpoint &ept, Span<const u8> data, u32 src, void *priv);

/**
 * class RpmsgEndpoint - an address on a link, with a receive callback
 * (Linux struct rpmsg_endpoint)
 *
 * Lifetime: create_ept() returns a reference (the caller's) and the link
 * keeps one while the endpoint is live. destroy_ept() takes it off the
 * link, waits for a running callback and for senders inside the link to
 * leave, and drops the link's reference; the memory goes with the last
 * reference. Sends on a destroyed endpoint fail with -ESHUTDOWN.
 *
 * Size: 64 bytes on LP64 (checked at build time against the 128-byte
 * budget; make bench prints it).
 *
 * Invariants: m_addr never changes once allocated; m_cb and m_priv change
 * only under the link's endpoint lock while the endpoint is Pending (no
 * callback runs: every callback of a link runs under its rx lock, after
 * the endpoint was found Active under the endpoint lock); m_users counts
 * senders inside the link, and its DEAD bit is set once, by destroy.
 */
class RpmsgEndpoint : public keel::RefCounted<RpmsgEndpoint> {
public:
	/**
	 * addr() - the endpoint's local address
	 *
	 * Context: any.
	 * Return: the address; never changes once allocated.
	 */
	u32 addr() const { return m_addr; }
	/**
	 * rpdev() - the channel the endpoint belongs to
	 *
	 * Context: any.
	 * Return: the channel, or nullptr for the link's own endpoints (the
	 * name service).
	 */
	RpmsgDevice *rpdev() const { return m_rpdev; }
	/**
	 * is_destroyed() - has destroy_ept() started?
	 *
	 * Context: any.
	 * Return: true once it has (sends then fail with -ESHUTDOWN).
	 */
	bool is_destroyed() const { return m_users.load(keel::MemoryOrder::Acquire) & DEAD; }

private:
	friend class keel::RefCounted<RpmsgEndpoint>;
	friend class RpmsgLink;
	friend struct RpmsgCore;
	static constexpr u32 DEAD = 1u << 31;
	static constexpr u32 USERS = DEAD - 1;
	static constexpr u16 NO_SLOT = 0xffff;
	enum class State : u8 { Pending, Active };

	RpmsgEndpoint(RpmsgLink *link, RpmsgDevice *rpdev, RpmsgRxCb cb, void *priv)
	    : m_link(link), m_rpdev(rpdev), m_cb(cb), m_priv(priv)
	{
	}
	~RpmsgEndpoint() = default;
	void release() { delete this; }
	/* Enter the link as a sender: false once dead. */
	bool enter();
	void exit() { m_users.fetch_sub(1, keel::MemoryOrder::Release); }

	keel::Atomic<u32> m_users{ 0 };
	u32 m_addr = RPMSG_ADDR_ANY;
	RpmsgLink *m_link;
	RpmsgDevice *m_rpdev;
	RpmsgRxCb m_cb;
	void *m_priv;
	/* Messages held while Pending (a FIFO of rx slots), under the endpoint lock. */
	u16 m_held_head = NO_SLOT;
	u16 m_held_tail = NO_SLOT;
	/* The rx slot being delivered to the callback (hold_rx_buffer()), or NO_SLOT. */
	u16 m_cur_slot = NO_SLOT;
	State m_state = State::Active;
	/* The rx slot of the current delivery was held by the client. */
	bool m_cur_held = false;
};

/**
 * class RpmsgDevice - a channel (Linux struct rpmsg_device)
 *
 * A named service on one link, with a local address (src) and the
 * remote's (dst).
 *
 * Created by the link (a name service announcement, create_channel(), or a
 * remote's service) and removed with it; never create or delete one
 * yourself. Its local address is reserved when it is created, so that
 * messages the remote sends to it before a driver is bound can be held
 * (Documentation/rpmsg.rst, "Before the driver binds").
 */
class RpmsgDevice : public keel::Device {
public:
	/**
	 * channel_name() - the channel's name (what drivers match on)
	 *
	 * Context: any.
	 * Return: the name, NUL-terminated.
	 */
	const char *channel_name() const { return m_id.name; }
	/**
	 * id() - the channel's id entry (its name)
	 *
	 * Context: any.
	 * Return: the id.
	 */
	const RpmsgDeviceId &id() const { return m_id; }
	/**
	 * src() - the local address (reserved at creation)
	 *
	 * Context: any.
	 * Return: the address.
	 */
	u32 src() const { return m_src; }
	/**
	 * dst() - the remote's address
	 *
	 * Context: any.
	 * Return: the address, or RPMSG_ADDR_ANY when unknown.
	 */
	u32 dst() const { return m_dst; }
	/**
	 * announce() - is the channel announced to the remote when its driver
	 * binds?
	 *
	 * Context: any.
	 * Return: true for local channels the remote must learn of.
	 */
	bool announce() const { return m_announce; }
	/**
	 * ept() - the default endpoint (at src())
	 *
	 * Receives into the driver's on_message(), sends with send() to dst().
	 *
	 * Context: any; valid from the driver's probe until its remove returns.
	 * Return: the endpoint.
	 */
	RpmsgEndpoint *ept() const { return m_ept; }
	/**
	 * little_endian() - the byte order of the channel's link
	 *
	 * See virtio_rpmsg.h.
	 *
	 * Context: any.
	 * Return: true when little endian.
	 */
	bool little_endian() const;

private:
	friend class RpmsgLink;
	friend struct RpmsgCore;
	friend struct RpmsgBusOps;
	friend void keel::device_release_container<RpmsgDevice>(keel::Device &dev);
	RpmsgDevice() = default;
	~RpmsgDevice() = default;
	void release();

	RpmsgDeviceId m_id = {};
	u32 m_src = RPMSG_ADDR_ANY;
	u32 m_dst = RPMSG_ADDR_ANY;
	bool m_announce = false;
	/* Created from the remote's announcement (gone with the session). */
	bool m_from_ns = false;
	/* The remote was told of the channel (announce_create() sent). */
	keel::Atomic<bool> m_announced{ false };
	/* Removal started: blocking sends on its endpoints stop waiting. */
	keel::Atomic<bool> m_unbinding{ false };
	RpmsgLink *m_link = nullptr;
	/*
	 * The default endpoint, reserved with the channel: Pending (messages
	 * held) while no driver's on_message() may run. The device owns one
	 * reference, dropped when the link removes the channel.
	 */
	RpmsgEndpoint *m_ept = nullptr;
	/* On the link's channel list (the list holds a device reference). */
	keel::ListNode m_link_node;
};

namespace detail {
template <typename T> struct RpmsgDriverTag {
};
template <typename T> struct RxTrampoline {
	static Result<void> call(RpmsgEndpoint &ept, Span<const u8> data, u32 src, void *priv)
	{
		/* SAFETY: the core passes the data this driver's probe returned (a T). */
		return static_cast<T *>(priv)->on_message(*ept.rpdev(), data, src);
	}
};
template <typename T> constexpr RpmsgRxCb callback_of()
{
	if constexpr (requires(T & t, RpmsgDevice & d, Span<const u8> s, u32 a) {
			      t.on_message(d, s, a);
		      })
		return &RxTrampoline<T>::call;
	else
		return nullptr;
}
template <typename T> constexpr Span<const RpmsgDeviceId> id_table_of()
{
	if constexpr (requires { T::id_table; })
		/* The terminating empty entry is not part of the span. */
		return Span<const RpmsgDeviceId>(T::id_table,
						 sizeof(T::id_table) / sizeof(T::id_table[0]) - 1);
	else
		return {};
}
} // namespace detail

/* Names the driver class T of an RpmsgDriver: RpmsgDriver d{ rpmsg::driver_for<T>, "name" }. */
template <typename T> inline constexpr detail::RpmsgDriverTag<T> driver_for{};

/* The rpmsg bus (registered by rpmsg_init()). */
extern keel::Bus rpmsg_bus;

/**
 * class RpmsgDriver - a driver of the rpmsg bus (Linux struct rpmsg_driver)
 *
 * A constinit object built from a driver class T declaring::
 *
 *	static constexpr RpmsgDeviceId id_table[] = { { "name" }, {} };   (optional)
 *	static Result<UniquePtr<T>> probe(RpmsgDevice &rpdev);
 *	void remove(RpmsgDevice &rpdev);                                   (optional)
 *	Result<void> on_message(RpmsgDevice &rpdev, Span<const u8> data, u32 src);  (optional)
 *
 * on_message() is the default endpoint's callback (atomic context); it
 * runs from just after probe() returns until remove() starts. A driver
 * without an id table binds only through driver_override. Use
 * module_rpmsg_driver() to declare one.
 */
class RpmsgDriver : public keel::Driver {
public:
	/**
	 * RpmsgDriver() - the driver of class T (driver_for<T>)
	 * @name: the driver's name
	 *
	 * Context: any (constexpr: for constinit drivers).
	 */
	template <typename T>
	constexpr RpmsgDriver(detail::RpmsgDriverTag<T>, const char *name)
	    : keel::Driver(name, rpmsg_bus, keel::DriverAdapter<T, RpmsgDevice>::ops),
	      m_ids(detail::id_table_of<T>()), m_callback(detail::callback_of<T>())
	{
	}

	/**
	 * id_table() - the channel names the driver binds to
	 *
	 * Context: any.
	 * Return: T::id_table without its empty entry (empty without one).
	 */
	Span<const RpmsgDeviceId> id_table() const { return m_ids; }
	/**
	 * callback() - the default endpoint's callback (T::on_message())
	 *
	 * Context: any.
	 * Return: the callback, or nullptr when T has no on_message().
	 */
	RpmsgRxCb callback() const { return m_callback; }
	/**
	 * match() - the id table entry for channel @name
	 * @name: a channel name
	 *
	 * Context: any.
	 * Return: the entry, or nullptr.
	 */
	const RpmsgDeviceId *match(const char *name) const;

private:
	Span<const RpmsgDeviceId> m_ids;
	RpmsgRxCb m_callback;
};

/**
 * module_rpmsg_driver() - declare the constinit driver of class @T
 * @T: the driver class, an unqualified name
 * @drv_name: the driver's name
 *
 * Defines T##_rpmsg_driver. Built as its own kernel module
 * (KEEL_MODULE_GLUE defined), it also defines keel_module_init() and
 * keel_module_exit(), which register and unregister the driver; the
 * module's tiny C file calls them from module_init/module_exit (see
 * samples/rpmsg/). Elsewhere, register it with register_rpmsg_driver().
 *
 * Context: namespace scope, once per driver.
 */
#define module_rpmsg_driver(T, drv_name)                                                           \
	constinit ::rpmsg::RpmsgDriver T##_rpmsg_driver{ ::rpmsg::driver_for<T>, drv_name };       \
	KEEL_RPMSG_MODULE_GLUE(T##_rpmsg_driver)

#ifdef KEEL_MODULE_GLUE
/**
 * KEEL_RPMSG_MODULE_GLUE() - a client module's init and exit around @drv
 * @drv: the driver object
 *
 * Part of module_rpmsg_driver(): defines keel_module_init() (rpmsg_init()
 * and register the driver, module_driver_init()) and keel_module_exit()
 * in a module built with KEEL_MODULE_GLUE; nothing elsewhere.
 *
 * Context: namespace scope.
 */
#define KEEL_RPMSG_MODULE_GLUE(drv)                                                                \
	extern "C" int keel_module_init(void);                                                     \
	extern "C" void keel_module_exit(void);                                                    \
	extern "C" int keel_module_init(void)                                                      \
	{                                                                                          \
		return ::keel::from_result(::rpmsg::module_driver_init(drv));                      \
	}                                                                                          \
	extern "C" void keel_module_exit(void)                                                     \
	{                                                                                          \
		::rpmsg::module_driver_exit(drv);                                                  \
	}
#else
#define KEEL_RPMSG_MODULE_GLUE(drv)
#endif

/* --- the bus and its drivers --- */

/**
 * rpmsg_init() - register the rpmsg bus.
 *
 * Counted: each call needs one rpmsg_exit(); the bus goes with the last.
 * Context: may sleep.
 * Return: 0, or the error of bus_register().
 */
Result<void> rpmsg_init();
/**
 * rpmsg_exit() - drop one rpmsg_init() reference; the last unregisters the bus.
 *
 * Context: may sleep.
 */
void rpmsg_exit();

/**
 * register_rpmsg_driver() - register @drv and bind it to every matching channel.
 * @drv: a constinit driver (module_rpmsg_driver())
 *
 * A channel announced before the driver registered binds now; messages the
 * remote sent to it meanwhile are delivered after probe (within the hold
 * limits of Documentation/rpmsg.rst).
 * Context: may sleep.
 * Return: 0, -EBUSY if a driver of that name is registered, -EINVAL
 * without the bus.
 */
Result<void> register_rpmsg_driver(RpmsgDriver &drv);
/**
 * unregister_rpmsg_driver() - unbind @drv from every channel and unregister it.
 * @drv: the driver
 *
 * Context: may sleep.
 */
void unregister_rpmsg_driver(RpmsgDriver &drv);
/**
 * module_driver_init() - rpmsg_init() and register_rpmsg_driver(): a module's init.
 * @drv: the driver
 *
 * Context: may sleep.
 * Return: 0, or the first error (nothing left registered).
 */
Result<void> module_driver_init(RpmsgDriver &drv);
/**
 * module_driver_exit() - undo module_driver_init().
 * @drv: the driver
 *
 * Context: may sleep.
 */
void module_driver_exit(RpmsgDriver &drv);

/* --- channels --- */

/**
 * create_channel() - create a local channel on the link of @rpdev.
 * @rpdev: any channel of the link
 * @chinfo: name, local address (or RPMSG_ADDR_ANY) and the remote's address
 *
 * The channel is announced to the remote when a driver binds (Linux
 * rpmsg_create_channel()).
 * Context: may sleep.
 * Return: the channel (a new reference), -EEXIST for a channel of that
 * name and addresses, -EBUSY for a taken local address, -ENOSPC when the
 * link has its maximum of channels, -EINVAL for a bad name, -ENOMEM.
 */
Result<keel::RefPtr<RpmsgDevice>> create_channel(RpmsgDevice &rpdev, const RpmsgChannelInfo &chinfo)
	KEEL_EXPORT_AS(keel_rpmsg_create_channel);
/**
 * release_channel() - remove a channel created by create_channel().
 * @rpdev: any channel of the link
 * @chinfo: what create_channel() was given
 *
 * Context: may sleep.
 * Return: 0, -ENOENT when no such channel exists.
 */
Result<void> release_channel(RpmsgDevice &rpdev, const RpmsgChannelInfo &chinfo)
	KEEL_EXPORT_AS(keel_rpmsg_release_channel);

/* --- endpoints --- */

/**
 * create_ept() - create an endpoint on @rpdev's link (Linux rpmsg_create_ept()).
 * @rpdev: the channel
 * @cb: the receive callback (atomic context)
 * @priv: passed to @cb
 * @chinfo: @chinfo.src is the address, or RPMSG_ADDR_ANY for a dynamic one
 *
 * The endpoint receives from the moment this returns.
 * Context: may sleep.
 * Return: the endpoint (the caller's reference; destroy it with
 * destroy_ept()), -EBUSY when the address is taken, -EINVAL for a null
 * @cb, -ENODEV when the link is going away, -ENOMEM.
 */
Result<keel::RefPtr<RpmsgEndpoint>> create_ept(RpmsgDevice &rpdev, RpmsgRxCb cb, void *priv,
					       const RpmsgChannelInfo &chinfo)
	KEEL_EXPORT_AS(keel_rpmsg_create_ept);
/**
 * destroy_ept() - take @ept off its link (Linux rpmsg_destroy_ept()).
 * @ept: the endpoint
 *
 * Waits for a running callback and for senders inside the link to leave;
 * no callback runs after it returns. Blocked senders on @ept return
 * -ESHUTDOWN, received buffers it still holds are released. A no-op on a
 * destroyed endpoint.
 * Context: may sleep; never from @ept's own callback.
 */
void destroy_ept(RpmsgEndpoint &ept);

/* --- sending --- */

/**
 * send() - send @data from @ept to its channel's remote address.
 * @ept: the sending endpoint (its address is the source)
 * @data: the payload, at most get_mtu() bytes
 *
 * Waits up to the link's send timeout (default RPMSG_SEND_TIMEOUT_NS)
 * for a tx buffer. In atomic context (an endpoint callback) it does not
 * wait: see the file comment.
 * Context: may sleep, unless called in atomic context.
 * Return: 0; -EINVAL when the channel has no remote address; -EMSGSIZE
 * above the MTU; -ENOMEM without a free buffer in atomic context;
 * -ETIMEDOUT; -ERESTARTSYS on a signal; -ESHUTDOWN when @ept is destroyed
 * or its channel is being removed; -ENODEV when the link is going away;
 * -ENOTCONN when the link is down; -EPIPE when the peer is gone (a
 * crashed remote: also for a sender that was waiting, at once, and for one
 * whose endpoint the crash's removal destroyed); -EAGAIN in
 * atomic context while the remote sleeps (a resume is requested); the
 * error of waking the remote.
 */
Result<void> send(RpmsgEndpoint &ept, Span<const u8> data);
/**
 * sendto() - send @data from @ept to @dst.
 * @ept: the sending endpoint
 * @data: the payload
 * @dst: the destination address
 *
 * Context: as send().
 * Return: as send(); -EINVAL for RPMSG_ADDR_ANY.
 */
Result<void> sendto(RpmsgEndpoint &ept, Span<const u8> data, u32 dst);
/**
 * send_offchannel() - send @data from @src (any address) to @dst over @ept's link.
 * @ept: the endpoint whose link carries the message
 * @src: the source address written in the header
 * @dst: the destination address
 * @data: the payload
 *
 * Context: as send().
 * Return: as send(); -EINVAL for RPMSG_ADDR_ANY as @src or @dst.
 */
Result<void> send_offchannel(RpmsgEndpoint &ept, u32 src, u32 dst, Span<const u8> data)
	KEEL_EXPORT_AS(keel_rpmsg_send_offchannel);
/**
 * send_offchannel_timeout() - send_offchannel() with its own tx-buffer timeout.
 * @ept: the endpoint whose link carries the message
 * @src: the source address
 * @dst: the destination address
 * @data: the payload
 * @timeout_ns: how long to wait for a tx buffer (0: not at all)
 *
 * Context: as send().
 * Return: as send(); with @timeout_ns == 0, -ENOMEM when no buffer is free.
 */
Result<void> send_offchannel_timeout(RpmsgEndpoint &ept, u32 src, u32 dst, Span<const u8> data,
				     s64 timeout_ns)
	KEEL_EXPORT_AS(keel_rpmsg_send_offchannel_timeout);
/**
 * sendto_timeout() - sendto() with its own tx-buffer timeout.
 * @ept: the sending endpoint
 * @data: the payload
 * @dst: the destination address
 * @timeout_ns: how long to wait for a tx buffer (0: not at all)
 *
 * Context: as send().
 * Return: as send_offchannel_timeout().
 */
Result<void> sendto_timeout(RpmsgEndpoint &ept, Span<const u8> data, u32 dst, s64 timeout_ns)
	KEEL_EXPORT_AS(keel_rpmsg_sendto_timeout);
/**
 * trysend() - send() that never waits (Linux rpmsg_trysend()).
 * @ept: the sending endpoint
 * @data: the payload
 *
 * Context: any.
 * Return: as send(); -ENOMEM at once when no tx buffer is free.
 */
Result<void> trysend(RpmsgEndpoint &ept, Span<const u8> data);
/**
 * trysendto() - sendto() that never waits.
 * @ept: the sending endpoint
 * @data: the payload
 * @dst: the destination address
 *
 * Context: any.
 * Return: as trysend().
 */
Result<void> trysendto(RpmsgEndpoint &ept, Span<const u8> data, u32 dst)
	KEEL_EXPORT_AS(keel_rpmsg_trysendto);
/**
 * trysend_offchannel() - send_offchannel() that never waits.
 * @ept: the endpoint whose link carries the message
 * @src: the source address
 * @dst: the destination address
 * @data: the payload
 *
 * Context: any.
 * Return: as trysend().
 */
Result<void> trysend_offchannel(RpmsgEndpoint &ept, u32 src, u32 dst, Span<const u8> data)
	KEEL_EXPORT_AS(keel_rpmsg_trysend_offchannel);

/**
 * poll() - readiness of @ept (Linux rpmsg_poll()).
 * @ept: the endpoint
 *
 * When no tx buffer is free, arms a wake-up of poll_waitqueue() for the
 * next one the remote returns.
 * Context: any.
 * Return: RPMSG_POLLOUT when a send would not wait; RPMSG_POLLHUP |
 * RPMSG_POLLERR when @ept is destroyed or the link is down or gone.
 */
u32 poll(RpmsgEndpoint &ept);
/**
 * poll_waitqueue() - the queue woken when poll()'s answer may have changed.
 * @ept: the endpoint
 *
 * Context: any.
 * Return: the link's send wait queue; valid while @ept is live.
 */
keel::WaitQueue &poll_waitqueue(RpmsgEndpoint &ept);
/**
 * get_mtu() - the largest payload one message of @ept's link carries.
 * @ept: the endpoint
 *
 * Context: any.
 * Return: the MTU (496 with Linux's 512-byte buffers), -ESHUTDOWN when
 * @ept is destroyed.
 */
Result<u32> get_mtu(RpmsgEndpoint &ept);

/* --- power --- */

/**
 * pm_get() - keep the remote processor of @ept awake (a channel held open)
 * @ept: an endpoint of the link
 *
 * The remote processor is a runtime-PM device (Documentation/remoteproc.rst,
 * "Runtime PM"): each send holds it active for its duration and traffic
 * either way marks it busy; idle past its autosuspend delay it sleeps, and
 * the next send wakes it first. A user that must not let it sleep while
 * it is open (a character device that is open, a driver streaming from
 * the remote) holds it with pm_get() and lets go with pm_put(); a driver
 * drops its holds in remove at the latest.
 * Context: may sleep (resumes the remote).
 * Return: 0 (also when runtime PM is off); the resume's error, the hold
 * is not taken then.
 */
Result<void> pm_get(RpmsgEndpoint &ept);
/**
 * pm_put() - undo one successful pm_get()
 * @ept: the endpoint pm_get() was called with (its link must still exist:
 *	before the channel's remove returns)
 *
 * Context: any.
 */
void pm_put(RpmsgEndpoint &ept);

/* --- name service --- */

/**
 * announce_create() - tell the remote about the local channel @rpdev.
 * @rpdev: a channel with announce() set and a bound driver
 *
 * Sends a name service create message (name, src) if the remote has a
 * name service. The core calls it when a driver binds, and the remote role
 * again at every new host session: drivers rarely need it.
 * Context: may sleep.
 * Return: 0 (also when nothing needs announcing), or the send's error.
 */
Result<void> announce_create(RpmsgDevice &rpdev);
/**
 * announce_destroy() - tell the remote the local channel @rpdev is gone.
 * @rpdev: the channel
 *
 * Context: may sleep.
 * Return: 0, or the send's error.
 */
Result<void> announce_destroy(RpmsgDevice &rpdev);

/* --- zero copy --- */

/**
 * struct RpmsgTxBuf - a tx buffer lent to the caller
 * @payload: the payload area to fill (get_mtu() bytes)
 * @cookie: the link's handle of the buffer
 *
 * From get_tx_payload_buffer(); fill @payload, then send it with a
 * *_nocopy() call or give it back with release_tx_buffer().
 */
struct RpmsgTxBuf {
	Span<u8> payload;
	u32 cookie = 0;
};

/**
 * get_tx_payload_buffer() - borrow a tx buffer of @ept's link.
 * @ept: the endpoint
 * @timeout_ns: how long to wait for a free buffer (0: not at all; the
 *	atomic-context rule applies)
 *
 * Context: may sleep unless @timeout_ns is 0 or in atomic context.
 * Return: the buffer (get_mtu() bytes of payload), and the errors of
 * send_offchannel_timeout().
 */
Result<RpmsgTxBuf> get_tx_payload_buffer(RpmsgEndpoint &ept, s64 timeout_ns);
/**
 * get_tx_payload_buffers() - borrow up to @bufs.size() tx buffers at once.
 * @ept: the endpoint
 * @bufs: where the buffers go, from the front
 * @timeout_ns: how long to wait for the first free buffer (as
 *	get_tx_payload_buffer()); the others are those free at that moment
 *
 * One lock and one pass over the ring for the lot: with
 * send_nocopy_batch() the way to stream messages (Documentation/rpmsg.rst,
 * "Batches").
 *
 * Context: may sleep unless @timeout_ns is 0 or in atomic context.
 * Return: how many were lent (1 to @bufs.size()); -EINVAL for an empty
 * @bufs, else the errors of get_tx_payload_buffer().
 */
Result<u32> get_tx_payload_buffers(RpmsgEndpoint &ept, Span<RpmsgTxBuf> bufs, s64 timeout_ns)
	KEEL_EXPORT_AS(keel_rpmsg_get_tx_payload_buffers);
/**
 * send_offchannel_nocopy() - send @len bytes of a borrowed buffer.
 * @ept: the endpoint that borrowed @buf
 * @src: the source address
 * @dst: the destination address
 * @buf: from get_tx_payload_buffer(); invalid afterwards (also on error)
 * @len: payload bytes written
 *
 * Context: any.
 * Return: 0; -EINVAL for a bad address, a buffer not borrowed (or already
 * sent) or @len above the payload; -ESHUTDOWN/-ENOTCONN/-EPIPE as send().
 */
Result<void> send_offchannel_nocopy(RpmsgEndpoint &ept, u32 src, u32 dst, RpmsgTxBuf &buf, u32 len)
	KEEL_EXPORT_AS(keel_rpmsg_send_offchannel_nocopy);
/**
 * sendto_nocopy() - send_offchannel_nocopy() from @ept's address.
 * @ept: the endpoint that borrowed @buf
 * @buf: the buffer
 * @len: payload bytes written
 * @dst: the destination address
 *
 * Context: any.
 * Return: as send_offchannel_nocopy().
 */
Result<void> sendto_nocopy(RpmsgEndpoint &ept, RpmsgTxBuf &buf, u32 len, u32 dst)
	KEEL_EXPORT_AS(keel_rpmsg_sendto_nocopy);
/**
 * send_nocopy() - sendto_nocopy() to the channel's remote address.
 * @ept: the endpoint that borrowed @buf
 * @buf: the buffer
 * @len: payload bytes written
 *
 * Context: any.
 * Return: as send_offchannel_nocopy().
 */
Result<void> send_nocopy(RpmsgEndpoint &ept, RpmsgTxBuf &buf, u32 len)
	KEEL_EXPORT_AS(keel_rpmsg_send_nocopy);
/**
 * sendto_nocopy_batch() - send several borrowed buffers, in order, at once.
 * @ept: the endpoint that borrowed @bufs
 * @bufs: from get_tx_payload_buffer[s](); all invalid afterwards (also on
 *	error)
 * @lens: the payload bytes written into each of @bufs, as many as @bufs
 * @dst: the destination address
 *
 * The messages are queued under one lock and the remote is notified once
 * (one barrier, at most one doorbell) instead of once per message. All or
 * nothing: a bad buffer or length sends none (each buffer that was lent
 * goes back).
 *
 * Context: any.
 * Return: 0; -EINVAL for a bad address, an empty batch, @lens not as long
 * as @bufs, a buffer not borrowed (or already sent) or a length above its
 * payload; -ESHUTDOWN/-ENOTCONN/-EPIPE as send().
 */
Result<void> sendto_nocopy_batch(RpmsgEndpoint &ept, Span<RpmsgTxBuf> bufs, Span<const u32> lens,
				 u32 dst) KEEL_EXPORT_AS(keel_rpmsg_sendto_nocopy_batch);
/**
 * send_nocopy_batch() - sendto_nocopy_batch() to the channel's remote address.
 * @ept: the endpoint that borrowed @bufs
 * @bufs: the buffers
 * @lens: the payload bytes of each
 *
 * Context: any.
 * Return: as sendto_nocopy_batch().
 */
Result<void> send_nocopy_batch(RpmsgEndpoint &ept, Span<RpmsgTxBuf> bufs, Span<const u32> lens)
	KEEL_EXPORT_AS(keel_rpmsg_send_nocopy_batch);
/**
 * release_tx_buffer() - give back a borrowed tx buffer unsent.
 * @ept: the endpoint that borrowed @buf
 * @buf: the buffer; invalid afterwards
 *
 * Context: any.
 * Return: 0, -EINVAL for a buffer that is not borrowed.
 */
Result<void> release_tx_buffer(RpmsgEndpoint &ept, RpmsgTxBuf &buf)
	KEEL_EXPORT_AS(keel_rpmsg_release_tx_buffer);

/**
 * struct RpmsgRxToken - a received buffer kept past its callback
 * @cookie: the link's handle of the buffer
 *
 * From hold_rx_buffer(); give it back with release_rx_buffer().
 */
struct RpmsgRxToken {
	u32 cookie = 0;
};

/**
 * hold_rx_buffer() - keep the buffer being delivered to @ept's callback.
 * @ept: the endpoint whose callback is running
 *
 * The callback's data stays valid (and the buffer out of the ring) until
 * release_rx_buffer(). At most the link's hold limit of buffers are held
 * by clients at once (Documentation/rpmsg.rst).
 * Context: @ept's callback only.
 * Return: the token to release it with; -EINVAL outside the callback;
 * -ENOBUFS when the link's hold limit is reached (copy the data instead).
 */
Result<RpmsgRxToken> hold_rx_buffer(RpmsgEndpoint &ept);
/**
 * release_rx_buffer() - give a held buffer back to the link.
 * @ept: the endpoint that held it
 * @token: what hold_rx_buffer() returned
 *
 * Context: any.
 * Return: 0, -EINVAL for a token that is not held by @ept (released
 * twice, or reclaimed when @ept was destroyed).
 */
Result<void> release_rx_buffer(RpmsgEndpoint &ept, RpmsgRxToken token)
	KEEL_EXPORT_AS(keel_rpmsg_release_rx_buffer);

} // namespace rpmsg

#endif
