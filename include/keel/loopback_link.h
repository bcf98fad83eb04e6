/* SPDX-License-Identifier: GPL-2.0 */
/*
 * LoopbackLink: both ends of a doorbell in one address space, the in-kernel
 * link. The host and the remote of a shared-memory link run side by side
 * in one kernel (or one hosted process) over an ordinary memory region,
 * and ring each other through it as two processors would through a
 * mailbox. The shared-memory transport's suites run that way, hosted and
 * as KUnit suites in the kernel (drivers/remoteproc/tests), and so does
 * anything else that wants both roles in one kernel.
 *
 * Delivery modes:
 *  - Deferred (the default): ring() records the id and queues an IrqWork
 *    that delivers it in hard-interrupt context (Linux irq_work; hosted:
 *    the interrupt thread), so ringing never re-enters the peer from the
 *    ringer's stack and handlers run where sleeping is caught, as with a
 *    real interrupt;
 *  - Direct: the peer's handler runs inside ring() (the ringer's context
 *    must then be a valid interrupt context for the peer: no lock the
 *    handler takes may be held). Tests use it to run both roles on one
 *    thread. The id is delivered as rung.
 * Deferred delivery keeps ids 0..62 in a pending mask and delivers larger
 * ones as DOORBELL_ANY; repeated rings before delivery coalesce (as
 * interrupts do). cut() reports the peer gone to both ends, the way a
 * backend reports a crash.
 */
#ifndef KEEL_LOOPBACK_LINK_H
#define KEEL_LOOPBACK_LINK_H

#include <keel/doorbell.h>
#include <keel/irq_work.h>

namespace keel {

/**
 * class LoopbackLink - two connected in-process doorbells
 *
 * a() and b() are the two ends; each is a Doorbell whose ring() delivers
 * on the other.
 *
 * Context: construction, cut(), flush() and shutdown() may sleep (flush
 * waits for deliveries in flight); ring() on an end is callable from any
 * context.
 */
class LoopbackLink : NonMovable {
public:
	/**
	 * enum Mode - how a ring reaches the other end (see the file comment)
	 * @Direct: the peer's handler runs inside ring(), with the id as rung
	 * @Deferred: an IrqWork delivers it in hard-interrupt context, rings
	 *	coalescing meanwhile
	 */
	enum class Mode { Direct, Deferred };

	/**
	 * class End - one end of the link: a Doorbell ringing the other end
	 *
	 * Made by the link only. Invariants: m_pending holds the ids rung and
	 * not yet delivered (bit i: id i, bit 63: any larger id); m_irq
	 * delivers them.
	 */
	class End final : public Doorbell {
	public:
		/**
		 * peer() - the other end
		 *
		 * Context: any.
		 * Return: the end that this one's ring() delivers on.
		 */
		End &peer() const { return this == &m_link->m_a ? m_link->m_b : m_link->m_a; }

	private:
		friend class LoopbackLink;
		explicit End(LoopbackLink *link);
		static Result<void> ring_op(Doorbell &db, u32 notifyid);
		static bool peer_alive_op(const Doorbell &db);
		static void irq_fn(IrqWork &w);
		void drain();
		LoopbackLink *m_link;
		/* Bit i: id i pending (bit 63: DOORBELL_ANY). */
		Atomic<u64> m_pending{ 0 };
		IrqWork m_irq{ &End::irq_fn };
	};

	/**
	 * LoopbackLink() - a live link, both ends disabled
	 * @mode: how rings are delivered
	 *
	 * Context: may sleep.
	 */
	explicit LoopbackLink(Mode mode = Mode::Deferred) : m_mode(mode) {}
	/* Flushes pending deliveries: no work runs after this. Context: may sleep. */
	~LoopbackLink() { shutdown(); }

	/**
	 * a() - one end (by convention the host's)
	 *
	 * Context: any.
	 * Return: the end.
	 */
	End &a() { return m_a; }
	/**
	 * b() - the other end (by convention the remote's)
	 *
	 * Context: any.
	 * Return: the end.
	 */
	End &b() { return m_b; }
	/**
	 * cut() - report the link dead to both ends and stop delivering
	 *
	 * Each end's peer-down callback runs (in the caller's context), as a
	 * backend reports a crashed peer; later rings fail with -EPIPE.
	 *
	 * Context: process.
	 */
	void cut()
	{
		m_alive.store(false);
		m_a.deliver_peer_down();
		m_b.deliver_peer_down();
	}
	/**
	 * reconnect() - a peer is attached again after cut() (the remote
	 * rebooted): rings are delivered again
	 *
	 * Context: any.
	 */
	void reconnect() { m_alive.store(true); }
	/**
	 * flush() - wait until every queued delivery has run
	 *
	 * Context: may sleep; never from a handler of the link.
	 */
	void flush()
	{
		m_a.m_irq.sync();
		m_b.m_irq.sync();
	}
	/**
	 * shutdown() - stop ringing (rings fail with -EPIPE) and wait for
	 * deliveries in flight
	 *
	 * Unlike cut(), no peer-down callback runs.
	 *
	 * Context: may sleep; never from a handler of the link.
	 */
	void shutdown()
	{
		m_alive.store(false);
		flush();
	}

private:
	static const DoorbellOps s_end_ops;

	Mode m_mode;
	Atomic<bool> m_alive{ true };
	End m_a{ this };
	End m_b{ this };
};

inline constexpr DoorbellOps LoopbackLink::s_end_ops = {
	.ring = &LoopbackLink::End::ring_op,
	.peer_alive = &LoopbackLink::End::peer_alive_op,
};

inline LoopbackLink::End::End(LoopbackLink *link) : Doorbell(s_end_ops), m_link(link) {}

inline Result<void> LoopbackLink::End::ring_op(Doorbell &db, u32 notifyid)
{
	End &self = static_cast<End &>(db);
	LoopbackLink *link = self.m_link;
	if (!link->m_alive.load())
		return err(-EPIPE);
	End &to = self.peer();
	if (link->m_mode == Mode::Direct) {
		to.deliver(notifyid);
		return ok();
	}
	u64 bit = notifyid < 63 ? u64(1) << notifyid : u64(1) << 63;
	to.m_pending.fetch_or(bit);
	to.m_irq.queue();
	return ok();
}

inline bool LoopbackLink::End::peer_alive_op(const Doorbell &db)
{
	return static_cast<const End &>(db).m_link->m_alive.load();
}

inline void LoopbackLink::End::irq_fn(IrqWork &w)
{
	container_of(&w, &End::m_irq)->drain();
}

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
