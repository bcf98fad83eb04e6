/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Doorbell: the interrupt line between two processors sharing memory.
 *
 * One side rings the other with a notify id (Linux rproc_ops.kick(vqid):
 * the vring's notifyid from the resource table); the other side's handler
 * runs with that id in interrupt-like context (kernel: a hard or threaded
 * IRQ; hosted: the link's notification thread; loopback: an IrqWork, i.e.
 * hard-IRQ context in the kernel and the interrupt thread hosted). A
 * backend whose hardware carries fewer distinct ids than the link uses (a
 * mailbox without payload, an ivshmem device with one vector) delivers
 * DOORBELL_ANY: "something happened, look at every queue".
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
 */
#ifndef KEEL_DOORBELL_H
#define KEEL_DOORBELL_H

#include <keel/atomic.h>
#include <keel/error.h>
#include <keel/time.h>
#include <keel/irq_work.h>

namespace keel {

/* Delivered when the backend cannot tell which id was rung. */
inline constexpr u32 DOORBELL_ANY = 0xFFFFFFFFu;

class Doorbell : NonMovable {
public:
	/* Context: atomic (must not sleep). */
	using Handler = void (*)(void *ctx, u32 notifyid);
	using PeerDown = void (*)(void *ctx);

	/*
	 * ring() - interrupt the peer with @notifyid.
	 * Return: 0, -EPIPE when the peer is gone, -EINVAL for an id the backend
	 * cannot carry. Context: any (never sleeps).
	 */
	virtual Result<void> ring(u32 notifyid) = 0;
	/* True while a peer is attached and has not gone away. */
	virtual bool peer_alive() const = 0;

	void set_handler(Handler fn, void *ctx)
	{
		m_fn = fn;
		m_ctx = ctx;
	}
	void set_peer_down(PeerDown fn, void *ctx)
	{
		m_down_fn = fn;
		m_down_ctx = ctx;
	}
	void enable() { m_enabled.store(true); }
	/* Stops delivery; returns once no handler runs. Context: may sleep; not from a handler. */
	void disable()
	{
		m_enabled.store(false);
		while (m_running.load() != 0)
			cpu_relax();
	}
	bool enabled() const { return m_enabled.load(); }
	/* Notifications delivered to the handler and dropped while disabled (statistics). */
	u64 delivered() const { return m_delivered.load(MemoryOrder::Relaxed); }

	/* --- for backends --- */

	/* Calls the handler unless disabled. Context: the backend's interrupt context. */
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
	void deliver_peer_down()
	{
		m_running.fetch_add(1);
		if (m_enabled.load() && m_down_fn)
			m_down_fn(m_down_ctx);
		m_running.fetch_sub(1);
	}

protected:
	Doorbell() = default;
	virtual ~Doorbell() = default;

private:
	Handler m_fn = nullptr;
	void *m_ctx = nullptr;
	PeerDown m_down_fn = nullptr;
	void *m_down_ctx = nullptr;
	Atomic<bool> m_enabled{ false };
	Atomic<u32> m_running{ 0 };
	Atomic<u64> m_delivered{ 0 };
};

/*
 * LoopbackLink - both ends of a doorbell in one address space (unit tests;
 * the kernel port's in-kernel link). ring() on one end delivers on the other:
 *  - Direct: the peer's handler runs inside ring() (the caller's context
 *    must then be a valid interrupt context for the peer: no locks the
 *    handler takes may be held, which is why tests use Deferred);
 *  - Deferred: ring() records the id and queues an IrqWork that delivers
 *    it in hard-interrupt context (Linux irq_work; hosted: the interrupt
 *    thread), so ringing never re-enters the peer from the ringer's stack
 *    and handlers run where sleeping is caught, as with a real interrupt.
 * Ids 0..62 are delivered as themselves, larger ones as DOORBELL_ANY;
 * repeated rings before delivery coalesce (as interrupts do).
 */
class LoopbackLink : NonMovable {
public:
	enum class Mode { Direct, Deferred };

	class End final : public Doorbell {
	public:
		Result<void> ring(u32 notifyid) override;
		bool peer_alive() const override { return m_link->m_alive.load(); }
		End &peer() const { return this == &m_link->m_a ? m_link->m_b : m_link->m_a; }

	private:
		friend class LoopbackLink;
		End(LoopbackLink *link) : m_link(link) {}
		static void irq_fn(IrqWork &w);
		void drain();
		LoopbackLink *m_link;
		/* Bit i: id i pending (bit 63: DOORBELL_ANY). */
		Atomic<u64> m_pending{ 0 };
		IrqWork m_irq{ &End::irq_fn };
	};

	explicit LoopbackLink(Mode mode = Mode::Deferred) : m_mode(mode) {}
	/* Flushes pending deliveries: no work runs after this. Context: may sleep. */
	~LoopbackLink() { shutdown(); }

	End &a() { return m_a; }
	End &b() { return m_b; }
	/* Report the link dead to both ends (a crash signal) and stop delivering. */
	void cut()
	{
		m_alive.store(false);
		m_a.deliver_peer_down();
		m_b.deliver_peer_down();
	}
	/* Waits until every queued delivery has run. Context: may sleep. */
	void flush()
	{
		m_a.m_irq.sync();
		m_b.m_irq.sync();
	}
	/* Stops ringing and waits for deliveries in flight. Context: may sleep. */
	void shutdown()
	{
		m_alive.store(false);
		flush();
	}

private:
	Mode m_mode;
	Atomic<bool> m_alive{ true };
	End m_a{ this };
	End m_b{ this };
};

inline Result<void> LoopbackLink::End::ring(u32 notifyid)
{
	if (!m_link->m_alive.load())
		return err(-EPIPE);
	End &to = peer();
	if (m_link->m_mode == Mode::Direct) {
		to.deliver(notifyid);
		return ok();
	}
	u64 bit = notifyid < 63 ? u64(1) << notifyid : u64(1) << 63;
	to.m_pending.fetch_or(bit);
	to.m_irq.queue();
	return ok();
}

inline void LoopbackLink::End::irq_fn(IrqWork &w) { container_of(&w, &End::m_irq)->drain(); }

inline void LoopbackLink::End::drain()
{
	u64 bits = m_pending.exchange(0);
	while (bits) {
		u32 i = u32(__builtin_ctzll(bits));
		bits &= bits - 1;
		deliver(i == 63 ? DOORBELL_ANY : i);
	}
}

} // namespace keel

#endif
