/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside the rpmsg core (Linux drivers/rpmsg/rpmsg_internal.h): RpmsgLink,
 * what every transport builds on, and the ops a transport provides.
 *
 * A link is one rpmsg connection to one remote processor: the virtio host
 * role (virtio_rpmsg_bus.cpp, the driver side of a virtio rpmsg device) or
 * the remote role (rpmsg_remote.cpp, the device side). The core keeps
 * everything the two roles share, so that each rule lives in one place:
 *
 *  - the endpoint table (addresses, dispatch, destroy waiting for running
 *    callbacks), its holding of messages for channels whose driver is not
 *    bound yet, and the rx buffers clients hold (zero copy);
 *  - header validation of every received buffer;
 *  - the send path: header, the wait for a tx buffer (timeouts, the
 *    atomic-context rule), zero-copy tx bookkeeping;
 *  - channels (rpmsg devices) and the name service (rpmsg_ns.cpp).
 *
 * The transport moves buffers: RpmsgLinkOps hands out tx buffers, queues
 * them, takes back rx buffers; it calls receive() for each rx buffer the
 * remote filled, with m_rx_lock held. Who runs those receive passes and
 * when (the doorbell, a polling thread, a client polling) is the core's
 * (rpmsg_poll.cpp): the transport only polls its ring and turns the
 * remote's notifications off and on.
 *
 * Lock order (outermost first):
 *   0. the link registry's mutex (rpmsg_core.cpp): held while link
 *      interfaces hear of a link (RpmsgLinkInterface)
 *   1. m_chan_lock (mutex: the channel list; held around device add/remove)
 *   2. m_ept_mutex (mutex: endpoint creation and destruction)
 *   3. m_rx_lock (spinlock: serialises rx processing and every endpoint
 *      callback of the link; held while callbacks run)
 *   4. the transport's ring locks (tx, rx queue), taken by the ops
 *   5. m_ept_lock (spinlock: the address table, endpoint states and held
 *      FIFOs, the rx slots), m_ns_lock (the name service queue); never
 *      held across a callback or an op
 * A callback may send (the transport's tx lock) and release rx buffers.
 */
#ifndef RPMSG_RPMSG_INTERNAL_H
#define RPMSG_RPMSG_INTERNAL_H

#include <keel/alloc.h>
#include <keel/idr.h>
#include <keel/irq_work.h>
#include <keel/log.h>
#include <keel/spinlock.h>
#include <keel/thread.h>
#include <keel/wait.h>
#include <keel/workqueue.h>
#include <rpmsg/rpmsg.h>
#include <rpmsg/rpmsg_link.h>
#include <rpmsg/virtio_rpmsg.h>

namespace virtio {
class VirtioDevice;
}

namespace rpmsg {

/*
 * RpmsgLinkOps - what a transport does for the core (Linux's
 * rpmsg_device_ops and rpmsg_endpoint_ops, reduced to buffer moves).
 * Every op may be called in atomic context and must not sleep.
 *
 * @get_tx: up to @out.size() (at least one) free tx buffers, each as the
 *	payload area after its header, stored at the front of @out. Return:
 *	how many; -ENOMEM when none is free now; -ENOTCONN (link down),
 *	-EPIPE (peer gone, queue broken) or -ENODEV (going away) when no
 *	buffer will come.
 * @submit_tx: check that each of @bufs is a buffer @get_tx handed out (and
 *	not yet submitted or put) and that its payload of @lens[k] bytes fits
 *	it, else -EINVAL and nothing is queued; then write each header (@src,
 *	@dst, the length in the link's byte order), queue them to the remote
 *	in order and notify the remote once, as the ring asks (one barrier
 *	and at most one doorbell for the batch).
 * @xmit: optional, a send's common case under one lock: take a free tx
 *	buffer, write @hdr and @data into it, queue and notify as
 *	@submit_tx; -ENOMEM when none is free (the core then waits with
 *	@get_tx), -EMSGSIZE when the free one is too small (the remote
 *	role: the host posted less than the configured size), else as
 *	@get_tx and @submit_tx.
 * @put_tx: give back a buffer from @get_tx unsent; -EINVAL as above.
 *	The core then wakes the senders waiting for a buffer.
 * @tx_wait: @waiting: one more sender waits for a tx buffer, or one less.
 *	The transport counts them under its tx lock and enables the remote's
 *	"buffer returned" notifications only while the count is not zero.
 * @tx_poll: true when a tx buffer is free; if not, make sure the next one
 *	returned wakes the link's send queue.
 * @recycle_rx: give the rx buffer of slot @cookie back to the remote.
 *
 * The receive ops (optional: a transport without them delivers by calling
 * receive() itself, and cannot be polled) run with m_rx_lock held:
 * @rx_poll: handle up to @budget rx buffers the remote filled (receive()
 *	each; give back those not kept and notify the remote of them as its
 *	ring asks). Return: how many were handled.
 * @rx_disable: ask the remote not to notify new messages (a hint).
 * @rx_enable: ask for notifications again and re-check after a full
 *	barrier. Return: true when no buffer waits (or none can be taken
 *	now: the transport restarts a pass itself when that changes), false
 *	when one raced in: poll again.
 * @rx_pending: a filled rx buffer waits (one load of the ring's index:
 *	what the adaptive spin watches).
 */
struct RpmsgLinkOps {
	Result<u32> (*get_tx)(RpmsgLink &link, Span<RpmsgTxBuf> out);
	Result<void> (*submit_tx)(RpmsgLink &link, u32 src, u32 dst, Span<const RpmsgTxBuf> bufs,
				  Span<const u32> lens);
	Result<void> (*xmit)(RpmsgLink &link, const RpmsgHdr &hdr, Span<const u8> data);
	Result<void> (*put_tx)(RpmsgLink &link, u32 cookie, const u8 *buf);
	void (*tx_wait)(RpmsgLink &link, bool waiting);
	bool (*tx_poll)(RpmsgLink &link);
	void (*recycle_rx)(RpmsgLink &link, u32 cookie);
	u32 (*rx_poll)(RpmsgLink &link, u32 budget);
	void (*rx_disable)(RpmsgLink &link);
	bool (*rx_enable)(RpmsgLink &link);
	bool (*rx_pending)(RpmsgLink &link);
};

/*
 * rpmsg_link_ops<T>() - the ops table of a transport class T whose static
 * member functions are named after the RpmsgLinkOps fields, all of them
 * given (a class that keeps them private befriends this template):
 *	constinit const RpmsgLinkOps T::s_ops = rpmsg_link_ops<T>();
 */
template <typename T> constexpr RpmsgLinkOps rpmsg_link_ops()
{
	return RpmsgLinkOps{
		.get_tx = &T::get_tx,
		.submit_tx = &T::submit_tx,
		.xmit = &T::xmit,
		.put_tx = &T::put_tx,
		.tx_wait = &T::tx_wait,
		.tx_poll = &T::tx_poll,
		.recycle_rx = &T::recycle_rx,
		.rx_poll = &T::rx_poll,
		.rx_disable = &T::rx_disable,
		.rx_enable = &T::rx_enable,
		.rx_pending = &T::rx_pending,
	};
}

/*
 * RpmsgSpin - the adaptive spin budget of one kind of wait (a receive
 * context between passes, senders waiting for a tx buffer, clients
 * waiting for a reply): how long a context about to sleep for the remote
 * first busy-waits, bounded by a cap (Documentation/rpmsg.rst, "The
 * adaptive spin"). The policy is KVM's halt polling, driven by the
 * latency observed at each wait (the time from the start of the wait to
 * the event):
 *  - caught while spinning: the budget stays;
 *  - missed, but the event came within the cap: the budget grows to
 *    cover it (at least doubling, at least 5/4 of the latency, at most
 *    the cap);
 *  - missed, and the event took longer than the cap: spinning cannot pay;
 *    the budget halves (below SPIN_MIN_NS: 0, no spin at all);
 *  - cut short because the scheduler wanted the CPU (spin_yield()): the
 *    CPUs are oversubscribed, and a spin takes time from the very task
 *    that would answer it (the peer, on a shared core): the budget drops
 *    to 0 and stays there for the next QUIET_WAITS waits (backoff()).
 *    KVM's halt polling has the same blind spot; the kernel's own
 *    spinners (mutex optimistic spinning) spin only while the owner runs.
 * A budget of 0 grows again when a wait ends within the cap.
 *
 * Context: any; updates are racy on purpose (a hint, one word).
 */
class RpmsgSpin {
public:
	/* Below this a spin is not worth the clock reads. */
	static constexpr s64 SPIN_MIN_NS = 500;
	/* Waits without a spin after one was cut short for the CPU (then one probe). */
	static constexpr u32 QUIET_WAITS = 256;

	/* The spin before the next wait: 0 means sleep at once. */
	s64 budget(s64 cap) const
	{
		s64 b = m_ns.load(keel::MemoryOrder::Relaxed);
		return cap <= 0 ? 0 : b < cap ? b : cap;
	}
	/* A wait ended @latency_ns after it began; @caught: during the spin. */
	void update(s64 latency_ns, bool caught, s64 cap)
	{
		s64 b = m_ns.load(keel::MemoryOrder::Relaxed);
		if (caught || cap <= 0)
			return;
		u32 quiet = m_quiet.load(keel::MemoryOrder::Relaxed);
		if (quiet) {
			m_quiet.store(quiet - 1, keel::MemoryOrder::Relaxed);
			return;
		}
		/* Shifts, not '/': 64-bit division is a libgcc call on 32-bit kernels. */
		if (latency_ns <= cap) {
			s64 want = latency_ns + (keel::max(latency_ns, s64(0)) >> 2);
			b = keel::max(keel::max(2 * b, want), SPIN_MIN_NS);
			b = b < cap ? b : cap;
		} else {
			b >>= 1;
			if (b < SPIN_MIN_NS)
				b = 0;
		}
		m_ns.store(b, keel::MemoryOrder::Relaxed);
	}
	/* A spin was cut short because the scheduler wanted the CPU: stop spinning a while. */
	void backoff()
	{
		m_ns.store(0, keel::MemoryOrder::Relaxed);
		m_quiet.store(QUIET_WAITS, keel::MemoryOrder::Relaxed);
	}
	s64 current() const { return m_ns.load(keel::MemoryOrder::Relaxed); }

private:
	keel::Atomic<s64> m_ns{ 0 };
	keel::Atomic<u32> m_quiet{ 0 };
};

/* Counters of a link, for tests, diagnostics and the bench. */
struct RpmsgLinkStats {
	keel::Atomic<u64> rx_delivered;
	keel::Atomic<u64> rx_bad;	   /* bad header: dropped */
	keel::Atomic<u64> rx_no_recipient; /* unknown destination: dropped */
	keel::Atomic<u64> rx_held;	   /* held for a channel without driver */
	keel::Atomic<u64> rx_hold_dropped; /* dropped: hold limit, timeout, channel gone */
	keel::Atomic<u64> rx_cb_errors;	   /* callbacks that returned an error */
	keel::Atomic<u64> tx_sent;
	keel::Atomic<u64> rx_irq_passes;    /* receive passes run by the doorbell (interrupt) */
	keel::Atomic<u64> rx_polls;	    /* polls (a polling thread, a client) that found some */
	keel::Atomic<u64> rx_spin_hits;	    /* a message came during the adaptive spin */
	keel::Atomic<u64> rx_spin_misses;   /* ... and did not */
	keel::Atomic<u64> wait_spin_hits;   /* a waiting sender or client got it while spinning */
	keel::Atomic<u64> wait_spin_misses; /* ... or went to sleep */
	keel::Atomic<u64> ns_bad;	    /* malformed or refused announcements */
	keel::Atomic<u64> ns_dropped;	    /* queue full */
	keel::Atomic<u64> ns_created;
	keel::Atomic<u64> ns_destroyed;
	/*
	 * Why the last message (announcement) was dropped: -EINVAL bad header
	 * (announcement), -ENXIO no recipient, -ENOBUFS hold limit (queue
	 * full), -ETIMEDOUT held too long, -EEXIST/-ENOENT/-ENOSPC refused.
	 */
	keel::Atomic<int> rx_last_error;
	keel::Atomic<int> ns_last_error;
};

/*
 * spin_until() - busy-wait until @cond() holds or @budget_ns have passed
 * since @start (ktime ns), or the scheduler wants the CPU
 * (keel::spin_yield(): a spin must not delay the very task it waits for
 * when they share a CPU). Return: the latency (ns since @start) when it
 * held, -1 when the budget ran out, SPIN_CUT when the scheduler wanted
 * the CPU. Context: any (it never sleeps; keep @budget_ns small).
 */
inline constexpr s64 SPIN_CUT = -2;
template <typename Cond> s64 spin_until(Cond cond, s64 start, s64 budget_ns)
{
	for (u32 i = 0;; i++) {
		if (cond())
			return keel::ktime_get_ns() - start;
		keel::cpu_relax();
		/* A clock read costs tens of ns: every few relaxes only; a yield every few us. */
		if ((i & 7) == 7 && keel::ktime_get_ns() - start >= budget_ns)
			return -1;
		if ((i & 63) == 63 && keel::spin_yield())
			return SPIN_CUT;
	}
}

/* The state of an rx slot (one rx buffer of the transport). */
enum class RxSlotState : u8 { Free, Pending, Client };

struct RxSlot {
	const u8 *data;	      /* payload */
	s64 held_at;	      /* Pending: when */
	RpmsgEndpoint *owner; /* Client: the holder */
	u32 src;
	u16 len;
	u16 next; /* Pending: FIFO link */
	u16 gen;  /* bumped at every client hold: stale tokens fail */
	RxSlotState state;
};

/*
 * RpmsgLinkInterface - a listener that hears of every link (Linux's
 * class_interface): @add_link runs for each link that finished init()
 * (and, at registration, for each existing one), @remove_link when the
 * link starts shutdown() (and, at unregistration, for each one still
 * there), before any of its channels or endpoints goes. Both run in
 * process context with the registry's mutex held (lock order 0): they
 * may sleep, create and destroy endpoints and channels of that link, but
 * must not (un)register interfaces.
 */
struct RpmsgLinkInterface {
	void (*add_link)(RpmsgLinkInterface &intf, RpmsgLink &link);
	void (*remove_link)(RpmsgLinkInterface &intf, RpmsgLink &link);
	/* Private to the registry. */
	keel::ListNode m_node{};
};

/**
 * rpmsg_link_interface_register() - hear of every link, existing and new.
 * @intf: the interface (add_link() runs for each existing link now)
 *
 * Needs the rpmsg bus (rpmsg_init()), which keeps the registry.
 * Context: may sleep.
 * Return: 0, -ENODEV without the bus, -EEXIST if registered already.
 */
Result<void> rpmsg_link_interface_register(RpmsgLinkInterface &intf)
	KEEL_EXPORT_AS(keel_rpmsg_link_intf_register);
/**
 * rpmsg_link_interface_unregister() - stop; remove_link() runs for each link.
 * @intf: a registered interface
 *
 * Context: may sleep.
 */
void rpmsg_link_interface_unregister(RpmsgLinkInterface &intf)
	KEEL_EXPORT_AS(keel_rpmsg_link_intf_unregister);

/*
 * RpmsgLink - one link to one remote processor (Linux's struct
 * virtproc_info, minus the virtio specifics). Embedded in a transport's
 * object, which outlives every channel and endpoint of the link.
 *
 * Lifetime: init() (allocates the rx slots), then the transport starts
 * delivering; shutdown() (process context) removes every channel,
 * destroys every endpoint and stops the name service; then the transport
 * stops delivering and frees its rings; then the destructor.
 */
class RpmsgLink : keel::NonMovable {
public:
	struct Params {
		const char *name = "rpmsg";
		/* Channels are children of this device; logs name it. */
		keel::Device *dev = nullptr;
		bool little_endian = true;
		/* Bytes of each rx buffer (the header included): the length bound. */
		u32 rx_buf_size = RPMSG_BUF_SIZE;
		/* Bytes of each tx buffer: the MTU is this minus the header. */
		u32 tx_buf_size = RPMSG_BUF_SIZE;
		/* Rx slot cookies the transport uses: 0 .. nr_rx_slots - 1 (at most 65535). */
		u32 nr_rx_slots = 0;
		/*
		 * The runtime-PM device of the remote (its remoteproc), or null:
		 * senders hold it active (resuming it first), traffic marks it
		 * busy (see pm_get()).
		 */
		keel::Device *pm_dev = nullptr;
		RpmsgLinkConfig config;
	};

	explicit RpmsgLink(const RpmsgLinkOps &ops) : m_ops(&ops) {}
	~RpmsgLink();

	/* init() - set up; -EINVAL for bad params, -ENOMEM. Context: may sleep. */
	Result<void> init(const Params &p, keel::Gfp gfp);
	/*
	 * shutdown() - remove every channel (their drivers' remove runs),
	 * destroy every endpoint, stop the name service, wake every sender
	 * (-ENODEV). The transport's ops are still called during it.
	 * Context: may sleep.
	 */
	void shutdown();

	/* --- for transports --- */

	enum class RxVerdict : u8 { Recycle, Keep };
	/*
	 * receive() - validate and dispatch the rx buffer of slot @slot: @len
	 * bytes at @buf were written by the remote (the used length).
	 * Return: Recycle (give the buffer back now) or Keep (the core holds
	 * it; recycle_rx() gives it back later).
	 * Context: atomic, with m_rx_lock held.
	 */
	RxVerdict receive(u32 slot, const u8 *buf, u32 len) REQUIRES(m_rx_lock);
	/* Wake senders waiting for a tx buffer (the transport's tx-complete interrupt). */
	void tx_wake() { m_sendq.wake_up(); }
	/* Link state for senders: down links fail sends with -ENOTCONN. */
	void set_up(bool up);
	bool is_up() const { return m_up.load(keel::MemoryOrder::Acquire); }
	/*
	 * set_peer_gone() - the remote is gone (its transport broke: a crash,
	 * a broken ring), or back (@gone false, a new session). While gone,
	 * every blocked sender returns -EPIPE at once, later sends fail with
	 * -EPIPE, poll() reports POLLHUP | POLLERR; senders and poll waiters
	 * are woken. Transports call it where they see the break, so that no
	 * sender waits out its timeout on a dead peer.
	 * Context: any.
	 */
	void set_peer_gone(bool gone);
	bool peer_gone() const { return m_peer_gone.load(keel::MemoryOrder::Acquire); }
	/*
	 * pm_get() - hold the remote active for a send: resume it first if it
	 * sleeps (process context), or, in atomic context, only when it is
	 * active already (else a resume is requested and -EAGAIN returned).
	 * Every call, failed or not, is paired with pm_put(). Runtime PM off
	 * (disabled, or no PM device) is not an error.
	 */
	Result<void> pm_get();
	/* pm_put() - traffic happened: mark the remote busy, drop the hold (autosuspend). */
	void pm_put();
	/* The remote has a name service (VIRTIO_RPMSG_F_NS negotiated). */
	void set_peer_ns(bool ns) { m_peer_ns.store(ns); }
	bool peer_ns() const { return m_peer_ns.load(); }
	/* create_ns_ept() - the name service endpoint at RPMSG_NS_ADDR. Context: may sleep. */
	Result<void> create_ns_ept();
	/*
	 * add_channel() - create and register a channel (Linux
	 * rpmsg_create_channel() / __rpmsg_create_channel()).
	 * @driver_override: bind only to the driver of this name (nullptr: by id)
	 * @from_ns: created by an announcement (removed when the session ends)
	 * Context: may sleep. Return: the channel; see create_channel().
	 */
	Result<keel::RefPtr<RpmsgDevice>> add_channel(const RpmsgChannelInfo &chinfo, bool announce,
						      const char *driver_override, bool from_ns)
		KEEL_EXPORT_AS(keel_rpmsg_link_add_channel);
	/* remove_channel() - unregister the channel @name/@src/@dst (ANY matches any). -ENOENT. */
	Result<void> remove_channel(const char *name, u32 src, u32 dst);
	/* remove_channels() - all (@only_ns: from announcements). Context: may sleep. */
	void remove_channels(bool only_ns);
	/* announce_all() - announce every bound local channel (new session). Context: may sleep. */
	void announce_all();
	/* Drops every held message and client-held rx buffer (session end). Context: may sleep. */
	void reclaim_rx();
	/* The remote must hear of every channel again (a new session). */
	void forget_announced();
	/* Buffer sizes of a new session (the remote role), set while the link is down. */
	void set_buf_sizes(u32 rx, u32 tx)
	{
		m_rx_buf_size.store(rx, keel::MemoryOrder::Relaxed);
		m_tx_buf_size.store(tx, keel::MemoryOrder::Relaxed);
	}

	/* --- the core's own (rpmsg_core.cpp, rpmsg_ns.cpp) --- */

	Result<keel::RefPtr<RpmsgEndpoint>> create_ept(RpmsgDevice *rpdev, RpmsgRxCb cb, void *priv,
						       u32 addr, bool pending)
		KEEL_EXPORT_AS(keel_rpmsg_link_create_ept);
	void destroy_ept(RpmsgEndpoint &ept);
	Result<void> send(RpmsgEndpoint &ept, u32 src, u32 dst, Span<const u8> data, s64 timeout_ns)
		KEEL_EXPORT_AS(keel_rpmsg_link_send);
	Result<u32> get_tx_buffers(RpmsgEndpoint &ept, Span<RpmsgTxBuf> out, s64 timeout_ns)
		KEEL_EXPORT_AS(keel_rpmsg_link_get_tx_buffers);
	Result<void> send_nocopy(RpmsgEndpoint &ept, u32 src, u32 dst, Span<RpmsgTxBuf> bufs,
				 Span<const u32> lens) KEEL_EXPORT_AS(keel_rpmsg_link_send_nocopy);
	Result<void> put_tx_buffer(RpmsgEndpoint &ept, RpmsgTxBuf &buf)
		KEEL_EXPORT_AS(keel_rpmsg_link_put_tx_buffer);
	u32 poll(RpmsgEndpoint &ept);
	Result<RpmsgRxToken> hold_rx(RpmsgEndpoint &ept);
	Result<void> release_rx(RpmsgEndpoint &ept, RpmsgRxToken token)
		KEEL_EXPORT_AS(keel_rpmsg_link_release_rx);
	/*
	 * The bus's probe and remove of a channel: the default endpoint gets
	 * the driver's callback (still Pending), becomes Active after probe
	 * (delivering what was held), and Pending again before remove; after
	 * remove, endpoints the driver left on the channel are destroyed.
	 */
	void claim_default(RpmsgDevice &rpdev, RpmsgRxCb cb)
		KEEL_EXPORT_AS(keel_rpmsg_link_claim_default);
	void activate_default(RpmsgDevice &rpdev, void *priv)
		KEEL_EXPORT_AS(keel_rpmsg_link_activate_default);
	void quiesce_default(RpmsgDevice &rpdev);
	void reap_endpoints(RpmsgDevice &rpdev);
	Result<void> announce(RpmsgDevice &rpdev, bool create);
	/* The name service's message handling (rpmsg_ns.cpp), in process context. */
	Result<void> ns_handle(const RpmsgNsMsg &msg);
	/* Waits until every queued announcement is handled. Context: may sleep. */
	void ns_flush() { m_ns_work.flush(); }

	/* --- delivery (rpmsg_poll.cpp; Documentation/rpmsg.rst, "Delivery modes") --- */

	/*
	 * rx_interrupt() - the remote notified the rx ring: in doorbell mode a
	 * receive pass in the caller's context (what is left beyond a ring's
	 * worth continues from interrupt work); in polling mode a wake-up of
	 * the polling thread. Needs the transport's receive ops.
	 * Context: interrupt (atomic).
	 */
	void rx_interrupt();
	/* rx_schedule() - run rx_interrupt() from interrupt work. Context: any. */
	void rx_schedule() { (void)m_rx_irq.queue(); }
	/* rx_sync() - wait for that work. Context: may sleep. */
	void rx_sync() { m_rx_irq.sync(); }
	/* rx_reset() - new rings (a session starts): the remote's notifications are on. */
	void rx_reset();
	/*
	 * start_poller()/stop_poller() - the polling thread of polling mode
	 * (nothing in doorbell mode). The transport starts it once its ring
	 * can be polled and stops it before the ring goes away.
	 * Context: may sleep.
	 */
	Result<void> start_poller();
	void stop_poller();
	/* The client API of <rpmsg/rpmsg_poll.h>. */
	u32 poll_rx(u32 budget);
	void busy_poll_begin();
	void busy_poll_end();
	/* The adaptive spin of senders (wait_tx()) and of clients' waits. */
	RpmsgSpin &wait_spin() { return m_wait_spin; }
	RpmsgSpin &rx_spin() { return m_rx_spin; }
	s64 spin_max_ns() const { return m_cfg.spin_max_ns; }
	RpmsgDelivery delivery() const { return m_cfg.delivery; }

	const char *name() const { return m_name; }
	keel::Device *dev() const { return m_dev; }
	bool little_endian() const { return m_le; }
	u32 mtu() const { return m_tx_buf_size.load(keel::MemoryOrder::Relaxed) - RPMSG_HDR_SIZE; }
	u32 rx_buf_size() const { return m_rx_buf_size.load(keel::MemoryOrder::Relaxed); }
	const RpmsgLinkConfig &config() const { return m_cfg; }
	RpmsgLinkStats &stats() { return m_stats; }
	keel::WaitQueue &sendq() { return m_sendq; }
	/* Live endpoints (the name service's and channels' reservations included). */
	u32 nr_endpoints();
	u32 nr_channels();
	/* Held messages (pending channels) and client-held rx buffers. */
	u32 nr_held() const { return m_nr_held.load(); }
	u32 nr_client_held() const { return m_nr_client_held.load(); }
	/* A driver is bound to @rpdev and its on_message() receives (probe has returned). */
	bool channel_active(RpmsgDevice &rpdev);
	/* The channel named @name with remote address @dst (ANY: any), or null. */
	keel::RefPtr<RpmsgDevice> find_channel(const char *name, u32 dst);

	/* Serialises rx processing and every callback of the link (see the lock order). */
	keel::SpinLock m_rx_lock{ "rpmsg_rx_lock", KEEL_LOCK_KEY() };

private:
	friend struct RpmsgCore;
	friend struct RpmsgLinkRegistry;
	struct NsQueue;

	RxVerdict dispatch(u32 slot, u32 src, u32 dst, const u8 *data, u16 len) REQUIRES(m_rx_lock);
	RxVerdict deliver(RpmsgEndpoint &ept, RpmsgRxCb cb, void *priv, u32 slot, u32 src,
			  const u8 *data, u16 len) KEEL_EXPORT_AS(keel_rpmsg_link_deliver)
		REQUIRES(m_rx_lock);
	void flush_held(RpmsgEndpoint &ept, bool deliver_them);
	void forget_rx_ept(const RpmsgEndpoint &ept) KEEL_EXPORT_AS(keel_rpmsg_link_forget_rx_ept)
		REQUIRES(m_rx_lock);
	void destroy_channel(RpmsgDevice &rpdev);
	Result<void> check_new_channel(const RpmsgChannelInfo &chinfo)
		KEEL_EXPORT_AS(keel_rpmsg_link_check_new_channel);
	Result<void> check_new_channel_locked(const RpmsgChannelInfo &chinfo)
		KEEL_EXPORT_AS(keel_rpmsg_link_check_channel_locked) REQUIRES(m_chan_lock);
	void drop_client_held(RpmsgEndpoint *owner)
		KEEL_EXPORT_AS(keel_rpmsg_link_drop_client_held);
	Result<u32> wait_tx(RpmsgEndpoint &ept, s64 timeout_ns, Span<RpmsgTxBuf> out);
	Result<u32> wait_tx_slow(RpmsgEndpoint &ept, s64 timeout_ns, Span<RpmsgTxBuf> out)
		KEEL_EXPORT_AS(keel_rpmsg_link_wait_tx_slow);
	Result<void> put_tx(u32 cookie, const u8 *buf);
	void put_tx_all(Span<const RpmsgTxBuf> bufs, const char *what)
		KEEL_EXPORT_AS(keel_rpmsg_link_put_tx_all);
	Result<void> preload_ids();
	Result<void> ns_init(keel::Gfp gfp);
	Result<void> can_send(RpmsgEndpoint &ept);
	/* What a send on a destroyed endpoint of this link fails with. */
	int gone_errno() const;
	void put_slot(u32 slot) REQUIRES(m_ept_lock);
	void expire_held();
	static void hold_work_fn(keel::DelayedWork &w);
	static void ns_work_fn(keel::Work &w);
	static Result<void> ns_cb(RpmsgEndpoint &ept, Span<const u8> data, u32 src, void *priv)
		KEEL_EXPORT_AS(keel_rpmsg_link_ns_cb);
	void ns_drain();
	bool rx_pass(u32 budget) REQUIRES(m_rx_lock);
	bool rx_spin_between(s64 start) REQUIRES(m_rx_lock);
	void rx_disarm() REQUIRES(m_rx_lock);
	static void rx_irq_fn(keel::IrqWork &w);
	static int poller_main(void *arg);
	bool polling_mode() const { return m_cfg.delivery == RpmsgDelivery::Polling; }

	const RpmsgLinkOps *m_ops;
	const char *m_name = "rpmsg";
	keel::Device *m_dev = nullptr;
	bool m_le = true;
	keel::Atomic<u32> m_rx_buf_size{ RPMSG_BUF_SIZE };
	keel::Atomic<u32> m_tx_buf_size{ RPMSG_BUF_SIZE };
	RpmsgLinkConfig m_cfg;
	u32 m_hold_max = 0;
	u32 m_client_hold_max = 0;
	keel::Atomic<bool> m_up{ false };
	keel::Atomic<bool> m_peer_gone{ false };
	keel::Atomic<bool> m_dying{ false };
	keel::Device *m_pm_dev = nullptr;
	keel::Atomic<bool> m_peer_ns{ false };
	RpmsgLinkStats m_stats;

	/* Creation and destruction of endpoints (process context). */
	keel::Mutex m_ept_mutex{ "rpmsg_ept_mutex", KEEL_LOCK_KEY() };
	/* The address table, endpoint states, held FIFOs and rx slots. */
	keel::SpinLock m_ept_lock{ "rpmsg_ept_lock", KEEL_LOCK_KEY() };
	keel::Idr m_epts GUARDED_BY(m_ept_lock);
	keel::UniqueArray<RxSlot> m_slots GUARDED_BY(m_ept_lock);
	u32 m_nr_slots = 0; /* fixed at init */
	keel::Atomic<u32> m_nr_held{ 0 };
	keel::Atomic<u32> m_nr_client_held{ 0 };
	keel::RefPtr<RpmsgEndpoint> m_ns_ept;

	/* Senders waiting for a tx buffer; also poll()'s queue. */
	keel::WaitQueue m_sendq{ "rpmsg_sendq", KEEL_LOCK_KEY() };

	/* Channels of this link, each holding a device reference. */
	keel::Mutex m_chan_lock{ "rpmsg_chan_lock", KEEL_LOCK_KEY() };
	keel::List<RpmsgDevice, &RpmsgDevice::m_link_node> m_channels GUARDED_BY(m_chan_lock);
	u32 m_nr_channels GUARDED_BY(m_chan_lock) = 0;

	/* Announcements received (atomic context), handled by m_ns_work. */
	keel::SpinLock m_ns_lock{ "rpmsg_ns_lock", KEEL_LOCK_KEY() };
	NsQueue *m_nsq = nullptr;
	keel::Work m_ns_work{ &RpmsgLink::ns_work_fn, "rpmsg_ns_work", KEEL_LOCK_KEY() };
	keel::DelayedWork m_hold_work{ &RpmsgLink::hold_work_fn, "rpmsg_hold_work",
				       KEEL_LOCK_KEY() };

	/* On the link registry (interfaces heard of it), under the registry's mutex. */
	keel::ListNode m_reg_node;
	bool m_registered = false;
	/*
	 * Delivery. The remote's rx notifications are on (m_rx_armed) only
	 * while no pass runs and nobody polls; both change under m_rx_lock.
	 */
	bool m_rx_armed GUARDED_BY(m_rx_lock) = true;
	/*
	 * The endpoint dispatch() last found Active, with the callback it
	 * had then: the next message to the same address skips the table.
	 * Under m_rx_lock, which every change that could make it stale
	 * (destroy, back to Pending) takes after the change: see
	 * forget_rx_ept().
	 */
	struct RxEptHint {
		u32 addr;
		RpmsgEndpoint *ept;
		RpmsgRxCb cb;
		void *priv;
	};
	RxEptHint m_rx_hint GUARDED_BY(m_rx_lock) = {};
	/* Busy-poll sections open (clients, the polling thread). */
	u32 m_rx_pollers GUARDED_BY(m_rx_lock) = 0;
	/* When the last pass ended with the ring re-armed (0: since consumed). */
	s64 m_rx_idle_since GUARDED_BY(m_rx_lock) = 0;
	RpmsgSpin m_rx_spin;
	RpmsgSpin m_tx_spin;
	RpmsgSpin m_wait_spin;
	/* Continues a pass that used its whole budget. */
	keel::IrqWork m_rx_irq{ &RpmsgLink::rx_irq_fn };
	/* The polling thread sleeps here; the doorbell (polling mode) and link-up wake it. */
	keel::WaitQueue m_pollq{ "rpmsg_pollq", KEEL_LOCK_KEY() };
	keel::Atomic<u32> m_poll_kicks{ 0 };
	keel::Thread *m_poller = nullptr;
};

/* The host role's link of a bound virtio rpmsg device (tests, the bench), or null. */
RpmsgLink *virtio_rpmsg_link(virtio::VirtioDevice &vdev);

/*
 * RpmsgCore - the core's access to the private parts of the public types
 * (one friend instead of many), and helpers shared by the core's files.
 */
struct RpmsgCore {
	static RpmsgLink *link_of(RpmsgEndpoint &ept) { return ept.m_link; }
	static RpmsgLink *link_of(RpmsgDevice &rpdev) { return rpdev.m_link; }
	/* Validates a channel name: 1..31 printable characters, NUL-terminated within 32. */
	static bool valid_name(const char *name, size_t size);
};

/* Encode/decode the wire header (the byte order of @le). */
inline RpmsgHdr rpmsg_hdr_encode(bool le, u32 src, u32 dst, u16 len)
{
	RpmsgHdr h;
	h.src = cpu_to_rpmsg32(le, src);
	h.dst = cpu_to_rpmsg32(le, dst);
	h.reserved = cpu_to_rpmsg32(le, 0);
	h.len = cpu_to_rpmsg16(le, len);
	h.flags = cpu_to_rpmsg16(le, 0);
	return h;
}

} // namespace rpmsg

#endif
