/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Doorbell: the interrupt line between two processors sharing memory.
 *
 * One side rings the other with a notify id (Linux rproc_ops.kick(vqid):
 * the vring's notifyid from the resource table); the other side's handler
 * runs with that id in interrupt-like context (kernel: a hard or threaded
 * IRQ; hosted: the link's notification thread; the in-kernel loopback link:
 * an IrqWork, i.e. hard-IRQ context). A backend whose hardware carries
 * fewer distinct ids than the link uses (a mailbox without payload, an
 * ivshmem device with one vector) delivers DOORBELL_ANY: "something
 * happened, look at every queue".
 *
 * A backend also reports the peer going away (a crash signal: the hosted
 * server's disconnect message, a watchdog, a mailbox error).
 *
 *	db.set_handler(&on_doorbell, this);
 *	db.set_peer_down(&on_crash, this);
 *	db.enable();
 *	...
 *	TRY(db.ring(notifyid));
 *	...
 *	db.disable(); // returns after any running handler has finished
 *
 * Handlers must not sleep. enable()/disable()/set_*() are called with the
 * doorbell disabled or from process context; disable() waits for a running
 * handler (synchronize_irq), so it must not be called from a handler.
 *
 * Backends: keel::LoopbackLink (<keel/loopback_link.h>, both ends in one
 * address space: the in-kernel link) and the hosted port's shmlink::Client
 * (eventfds from an ivshmem server). A backend embeds or derives from a
 * Doorbell, gives it its DoorbellOps, and calls deliver() and
 * deliver_peer_down() from its interrupt context.
 */
#ifndef KEEL_DOORBELL_H
#define KEEL_DOORBELL_H

#include <keel/atomic.h>
#include <keel/error.h>
#include <keel/time.h>

namespace keel {

/* Delivered when the backend cannot tell which id was rung. */
inline constexpr u32 DOORBELL_ANY = 0xFFFFFFFFu;

class Doorbell;

/**
 * struct DoorbellOps - what a doorbell backend provides
 * @ring: interrupt the peer with @notifyid. Context: any (never sleeps).
 *	Return: 0, -EPIPE when the peer is gone, -EINVAL for an id the
 *	backend cannot carry.
 * @peer_alive: true while a peer is attached and has not gone away.
 *	Context: any.
 * @wait: optional. Sleep until the peer rings, @kick is called, or
 *	@deadline_ns (ktime); deliver() the rings that came in the caller's
 *	context, in the backend's interrupt state, never concurrently with
 *	the backend's own interrupt context. Context: process (sleeps).
 *	It gives 0 (woken or rang: the caller re-checks its state), or
 *	-ETIMEDOUT at the deadline.
 * @kick: optional, with @wait. Make a sleeping @wait return. Context:
 *	any (never sleeps).
 *
 * A constant table, as every other interface of the stack
 * (VirtioConfigOps, the bus and driver ops): no virtual functions.
 */
struct DoorbellOps {
	Result<void> (*ring)(Doorbell &db, u32 notifyid);
	bool (*peer_alive)(const Doorbell &db);
	Result<void> (*wait)(Doorbell &db, s64 deadline_ns);
	void (*kick)(Doorbell &db);
};

/**
 * class Doorbell - one end of an interrupt line, as the stack sees it
 * @Handler: the user's doorbell handler: called with its context and the
 *	id rung (or DOORBELL_ANY); atomic context, must not sleep
 * @PeerDown: the user's peer-down callback: called with its context when
 *	the backend reports the peer gone; atomic context
 *
 * The backend fills in the ops at construction; the user (a transport)
 * sets the handlers and rings. m_running counts handlers in progress so
 * that disable() can wait for them. m_waiter says a direct waiter is
 * registered (at most one); m_sleeping that it is in the backend's wait;
 * m_kicked that a wake_waiter() came it has not consumed yet. The last
 * two pair as a Dekker handshake (both seq_cst): the waiter sets
 * m_sleeping then tests m_kicked, the waker sets m_kicked then tests
 * m_sleeping, so at least one of them sees the other and no wake-up is
 * lost, while a waker that finds the waiter running costs no system call.
 *
 * Context: see each method.
 */
class Doorbell : NonMovable {
public:
	/* Context: atomic (must not sleep). */
	using Handler = void (*)(void *ctx, u32 notifyid);
	using PeerDown = void (*)(void *ctx);

	/**
	 * Doorbell() - a disabled doorbell on the backend's @ops
	 * @ops: the backend's constant table; must outlive the doorbell
	 *
	 * Context: any.
	 */
	explicit Doorbell(const DoorbellOps &ops) : m_ops(&ops) {}
	/* The backend must have disabled delivery (no handler runs) by now. */
	~Doorbell() = default;

	/**
	 * ring() - interrupt the peer with @notifyid
	 * @notifyid: the id the peer's handler receives (or DOORBELL_ANY)
	 *
	 * Context: any (never sleeps).
	 * Return: 0, -EPIPE when the peer is gone, -EINVAL for an id the
	 * backend cannot carry.
	 */
	Result<void> ring(u32 notifyid) { return m_ops->ring(*this, notifyid); }
	/**
	 * peer_alive() - is a peer attached that has not gone away?
	 *
	 * Context: any.
	 * Return: true while it is.
	 */
	bool peer_alive() const { return m_ops->peer_alive(*this); }

	/**
	 * set_handler() - set the function that receives the peer's rings
	 * @fn: the handler (atomic context), or nullptr for none
	 * @ctx: its first argument
	 *
	 * Context: process, with the doorbell disabled.
	 */
	void set_handler(Handler fn, void *ctx)
	{
		m_fn = fn;
		m_ctx = ctx;
	}
	/**
	 * set_peer_down() - set the function told when the peer goes away
	 * @fn: the callback (atomic context), or nullptr for none
	 * @ctx: its argument
	 *
	 * Context: process, with the doorbell disabled.
	 */
	void set_peer_down(PeerDown fn, void *ctx)
	{
		m_down_fn = fn;
		m_down_ctx = ctx;
	}
	/**
	 * enable() - start delivering to the handlers
	 *
	 * Context: any.
	 */
	void enable() { m_enabled.store(true); }
	/**
	 * disable() - stop delivering (Linux disable_irq(): synchronous)
	 *
	 * Returns once no handler runs; none starts afterwards until enable().
	 *
	 * Context: may sleep (it spins for a running handler); never from a
	 * handler of this doorbell.
	 */
	void disable()
	{
		m_enabled.store(false);
		while (m_running.load() != 0)
			cpu_relax();
	}
	/**
	 * enabled() - is delivery enabled?
	 *
	 * Context: any.
	 * Return: true between enable() and disable().
	 */
	bool enabled() const { return m_enabled.load(); }
	/**
	 * delivered() - rings passed to the handler so far (statistics)
	 *
	 * Context: any.
	 * Return: the count.
	 */
	u64 delivered() const { return m_delivered.load(MemoryOrder::Relaxed); }

	/**
	 * wait_begin() - become the doorbell's direct waiter
	 *
	 * Context: process.
	 * Return: true when the caller is now the one direct waiter; false
	 * when the backend has no direct wait, or another thread is the
	 * waiter (sleep on a wait queue then).
	 */
	bool wait_begin()
	{
		bool none = false;
		if (!m_ops->wait || !m_waiter.compare_exchange(none, true))
			return false;
		m_kicked.store(false);
		return true;
	}
	/**
	 * wait_end() - stop being the direct waiter (after wait_begin() was true)
	 *
	 * Context: process.
	 */
	void wait_end() { m_waiter.store(false, MemoryOrder::Release); }
	/**
	 * wait() - sleep on the doorbell, running the rings that come here
	 * @deadline_ns: the ktime at which to give up
	 *
	 * Returns at once when a wake_waiter() came since the last wait();
	 * else sleeps until the peer rings (the handler then runs in the
	 * caller's context before wait() returns), wake_waiter(), or the
	 * deadline. A return says nothing about the caller's condition:
	 * re-check it, and wait again while it is false.
	 *
	 * Context: process, between wait_begin() and wait_end(); not from a
	 * handler of this doorbell.
	 * Return: 0, or -ETIMEDOUT at the deadline.
	 */
	Result<void> wait(s64 deadline_ns)
	{
		m_sleeping.store(true);
		if (m_kicked.exchange(false)) {
			m_sleeping.store(false);
			return ok();
		}
		m_direct_waits.fetch_add(1, MemoryOrder::Relaxed);
		Result<void> r = m_ops->wait(*this, deadline_ns);
		m_sleeping.store(false);
		return r;
	}
	/**
	 * wake_waiter() - make the direct waiter re-check its condition
	 *
	 * Call after making true what the waiter may wait for (as with
	 * WaitQueue::wake_up()). A no-op without a direct waiter; a system
	 * call only when it sleeps in the backend.
	 *
	 * Context: any (never sleeps).
	 */
	void wake_waiter()
	{
		if (!m_waiter.load())
			return;
		m_kicked.store(true);
		if (m_sleeping.load())
			m_ops->kick(*this);
	}
	/**
	 * direct_waits() - wait() calls that went to the backend (statistics)
	 *
	 * Context: any.
	 * Return: the count.
	 */
	u64 direct_waits() const { return m_direct_waits.load(MemoryOrder::Relaxed); }

	/* --- for backends --- */

	/**
	 * deliver() - hand a ring from the peer to the handler (backends only)
	 * @notifyid: the id rung, or DOORBELL_ANY
	 *
	 * Calls the handler unless the doorbell is disabled.
	 *
	 * Context: the backend's interrupt context.
	 */
	void deliver(u32 notifyid)
	{
		m_running.fetch_add(1);
		/* seq_cst: pairs with disable()'s store then load of m_running. */
		if (m_enabled.load() && m_fn) {
			m_delivered.fetch_add(1, MemoryOrder::Relaxed);
			m_fn(m_ctx, notifyid);
		}
		m_running.fetch_sub(1);
	}
	/**
	 * deliver_peer_down() - report the peer gone to the user (backends only)
	 *
	 * Calls the peer-down callback unless the doorbell is disabled.
	 *
	 * Context: the backend's interrupt context.
	 */
	void deliver_peer_down()
	{
		m_running.fetch_add(1);
		if (m_enabled.load() && m_down_fn)
			m_down_fn(m_down_ctx);
		m_running.fetch_sub(1);
	}

private:
	const DoorbellOps *m_ops;
	Handler m_fn = nullptr;
	void *m_ctx = nullptr;
	PeerDown m_down_fn = nullptr;
	void *m_down_ctx = nullptr;
	Atomic<bool> m_enabled{ false };
	Atomic<u32> m_running{ 0 };
	Atomic<u64> m_delivered{ 0 };
	Atomic<bool> m_waiter{ false };
	Atomic<bool> m_sleeping{ false };
	Atomic<bool> m_kicked{ false };
	Atomic<u64> m_direct_waits{ 0 };
};

} // namespace keel

#endif
