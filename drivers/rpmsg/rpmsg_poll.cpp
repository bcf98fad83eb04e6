// SPDX-License-Identifier: GPL-2.0
/*
 * Delivery of received messages (Documentation/rpmsg.rst, "Delivery
 * modes"): who runs a link's receive passes, and when the remote's
 * notifications are on. Both transports (virtio_rpmsg_bus.cpp,
 * rpmsg_remote.cpp) give the core four receive ops (rx_poll, rx_disable,
 * rx_enable, rx_pending; rpmsg_internal.h); everything else is here, once.
 *
 * A receive pass is NAPI's poll: notifications off, poll up to a budget,
 * and only when the ring is empty re-enable them with the re-check that
 * closes the race (a message added between the last poll and the
 * re-enable is seen by the re-check, or notifies). Who runs passes:
 *
 *  - doorbell mode: the doorbell's interrupt context. Where that is a
 *    thread of its own (keel_port_irq_may_spin()), it spins between passes
 *    for the adaptive budget (RpmsgSpin) with notifications still off, so
 *    that a message arriving soon costs the remote no doorbell and us no
 *    wake-up;
 *  - polling mode: the link's polling thread, with notifications off while
 *    it polls; idle for busy_poll_idle_ns, it re-arms and sleeps until the
 *    doorbell wakes it;
 *  - in either mode, a client inside a busy-poll section (rpmsg_poll.h):
 *    the ring is its while the section is open; the last one to leave
 *    re-arms and handles what raced in.
 *
 * The passes of one link are serialised by m_rx_lock (callbacks run under
 * it, as always). A poller takes it with a try-lock: when someone else runs
 * a pass, there is nothing for it to do.
 */
#include <keel/log.h>
#include <keel/time.h>
#include <rpmsg/rpmsg_poll.h>

#include "rpmsg_internal.h"

namespace rpmsg {

using keel::Guard;

namespace {

/* Rounds of poll-and-re-arm one pass makes at most when messages keep racing in. */
constexpr u32 RX_MAX_ROUNDS = 4;
/* The polling thread yields the CPU this often while it spins (a kthread must). */
constexpr s64 POLL_RESCHED_NS = keel::NSEC_PER_MSEC;
/* Its sleep is sliced, so that a stop or a lost wake-up costs at most this. */
constexpr s64 POLL_SLEEP_SLICE_NS = 100 * keel::NSEC_PER_MSEC;

} // namespace

/* --- the receive pass --- */

void RpmsgLink::rx_disarm()
{
	if (!m_rx_armed)
		return;
	m_ops->rx_disable(*this);
	m_rx_armed = false;
}

void RpmsgLink::rx_reset()
{
	Guard rx{ m_rx_lock };
	/* New rings start with notifications on; a poller turns them off at its next poll. */
	m_rx_armed = true;
	m_rx_idle_since = 0;
}

/*
 * The adaptive spin between two passes of an interrupt context that may
 * spin: watch the ring (notifications still off) for the budget.
 * Return: true when a message came within it.
 */
bool RpmsgLink::rx_spin_between(s64 start)
{
	s64 budget = m_rx_spin.budget(m_cfg.spin_max_ns);
	if (!budget || !keel_port_irq_may_spin())
		return false;
	s64 lat =
		spin_until([this]() NO_THREAD_SAFETY_ANALYSIS { return m_ops->rx_pending(*this); },
			   start, budget);
	if (lat < 0) {
		if (lat == SPIN_CUT)
			m_rx_spin.backoff();
		m_stats.rx_spin_misses.fetch_add(1, keel::MemoryOrder::Relaxed);
		return false;
	}
	m_stats.rx_spin_hits.fetch_add(1, keel::MemoryOrder::Relaxed);
	m_rx_spin.update(lat, true, m_cfg.spin_max_ns);
	return true;
}

/*
 * One NAPI pass: poll with notifications off until the ring is empty
 * (then re-arm: done) or @budget messages were handled.
 * Return: true when the budget ran out (the caller continues later;
 * notifications stay off meanwhile).
 */
bool RpmsgLink::rx_pass(u32 budget)
{
	if (m_rx_idle_since) {
		/* Since the last pass ended: the latency a spin would have had to bridge. */
		m_rx_spin.update(keel::ktime_get_ns() - m_rx_idle_since, false, m_cfg.spin_max_ns);
		m_rx_idle_since = 0;
	}
	rx_disarm();
	u32 done = 0;
	for (u32 round = 0;; round++) {
		u32 n = m_ops->rx_poll(*this, budget - done);
		done += n;
		if (done >= budget)
			return true;
		/* A busy poller owns the ring: it re-arms when its section ends. */
		if (m_rx_pollers)
			return false;
		s64 end = keel::ktime_get_ns();
		if (rx_spin_between(end))
			continue;
		m_rx_armed = true;
		if (m_ops->rx_enable(*this)) {
			m_rx_idle_since = end;
			return false;
		}
		/* One raced in: poll again, unless the passes keep finding nothing to take. */
		if (round + 1 >= RX_MAX_ROUNDS)
			return n != 0;
		rx_disarm();
	}
}

void RpmsgLink::rx_interrupt()
{
	if (!m_ops->rx_poll)
		return;
	if (polling_mode()) {
		/* The polling thread sleeps (re-armed): wake it, it polls. */
		m_poll_kicks.fetch_add(1, keel::MemoryOrder::Release);
		m_pollq.wake_up();
		return;
	}
	bool more;
	m_stats.rx_irq_passes.fetch_add(1, keel::MemoryOrder::Relaxed);
	{
		Guard rx{ m_rx_lock };
		more = rx_pass(m_nr_slots);
	}
	/* Bounded: a remote that keeps refilling cannot hold the interrupt. */
	if (more)
		rx_schedule();
}

void RpmsgLink::rx_irq_fn(keel::IrqWork &w)
{
	keel::container_of(&w, &RpmsgLink::m_rx_irq)->rx_interrupt();
}

/* --- polling --- */

u32 RpmsgLink::poll_rx(u32 budget)
{
	if (!m_ops->rx_poll || !budget)
		return 0;
	unsigned long flags;
	/* Held: another context runs a pass (or we are inside one of its callbacks). */
	if (!m_rx_lock.try_lock_irqsave(flags))
		return 0;
	/* Inside a section, the ring is the pollers': keep the remote quiet. */
	if (m_rx_pollers)
		rx_disarm();
	u32 n = m_ops->rx_poll(*this, budget);
	m_rx_lock.unlock_irqrestore(flags);
	if (n)
		m_stats.rx_polls.fetch_add(1, keel::MemoryOrder::Relaxed);
	return n;
}

void RpmsgLink::busy_poll_begin()
{
	if (!m_ops->rx_poll)
		return;
	Guard rx{ m_rx_lock };
	m_rx_pollers++;
	rx_disarm();
}

void RpmsgLink::busy_poll_end()
{
	if (!m_ops->rx_poll)
		return;
	bool more;
	{
		Guard rx{ m_rx_lock };
		if (WARN_ON_ONCE(m_rx_pollers == 0) || --m_rx_pollers)
			return;
		/* The last one leaves: re-arm, and handle here what raced in. */
		m_rx_idle_since = 0;
		more = rx_pass(m_nr_slots);
	}
	if (more) {
		if (polling_mode()) {
			m_poll_kicks.fetch_add(1, keel::MemoryOrder::Release);
			m_pollq.wake_up();
		} else {
			rx_schedule();
		}
	}
}

/*
 * The polling thread (polling mode): polls with a busy-poll section open;
 * idle for busy_poll_idle_ns (never, when negative), it closes the section
 * (re-arming the doorbell, handling what raced in) and sleeps until the
 * doorbell kicks it, the link comes up, or it is stopped.
 */
int RpmsgLink::poller_main(void *arg)
{
	RpmsgLink *l = static_cast<RpmsgLink *>(arg);
	const s64 idle_ns = l->m_cfg.busy_poll_idle_ns;
	const u32 budget = l->m_cfg.poll_budget ? l->m_cfg.poll_budget : RPMSG_POLL_BUDGET;
	bool open = false;
	u32 idle_spins = 0;
	s64 idle_since = 0, resched_at = keel::ktime_get_ns() + POLL_RESCHED_NS;
	while (!keel::Thread::should_stop()) {
		if (l->is_up() && !open) {
			l->busy_poll_begin();
			open = true;
		}
		u32 n = open ? l->poll_rx(budget) : 0;
		s64 now = keel::ktime_get_ns();
		if (now >= resched_at) {
			keel::cond_resched();
			resched_at = now + POLL_RESCHED_NS;
		}
		if (n) {
			idle_since = 0;
			continue;
		}
		if (!idle_since)
			idle_since = now;
		if (open && l->is_up() && (idle_ns < 0 || now - idle_since < idle_ns)) {
			keel::cpu_relax();
			/* Every few us: the sender may need this very CPU (spin_until()'s rule). */
			if ((++idle_spins & 63) == 0 && keel::spin_yield())
				keel::cond_resched();
			continue;
		}
		/* Idle (or the link is down): re-arm and sleep until kicked. */
		u32 kicks = l->m_poll_kicks.load(keel::MemoryOrder::Acquire);
		if (open) {
			l->busy_poll_end();
			open = false;
		}
		(void)l->m_pollq.wait_event_interruptible_timeout(
			[&] {
				return keel::Thread::should_stop() ||
				       l->m_poll_kicks.load(keel::MemoryOrder::Acquire) != kicks;
			},
			POLL_SLEEP_SLICE_NS);
		idle_since = 0;
	}
	if (open)
		l->busy_poll_end();
	return 0;
}

Result<void> RpmsgLink::start_poller()
{
	if (!polling_mode() || !m_ops->rx_poll || m_poller)
		return keel::ok();
	m_poller = TRY(keel::Thread::run(&RpmsgLink::poller_main, this, "rpmsg-poll"));
	return keel::ok();
}

void RpmsgLink::stop_poller()
{
	if (!m_poller)
		return;
	(void)m_poller->stop();
	m_poller = nullptr;
}

/* --- the client API (rpmsg_poll.h) --- */

u32 poll_rx(RpmsgEndpoint &ept, u32 budget)
{
	RpmsgLink *l = RpmsgCore::link_of(ept);
	return ept.is_destroyed() ? 0 : l->poll_rx(budget);
}

void busy_poll_begin(RpmsgEndpoint &ept)
{
	might_sleep();
	RpmsgCore::link_of(ept)->busy_poll_begin();
}

void busy_poll_end(RpmsgEndpoint &ept)
{
	RpmsgCore::link_of(ept)->busy_poll_end();
}

namespace detail {

s64 wait_spin_budget(RpmsgEndpoint &ept)
{
	RpmsgLink *l = RpmsgCore::link_of(ept);
	return l->wait_spin().budget(l->spin_max_ns());
}

void wait_spin_done(RpmsgEndpoint &ept, s64 latency_ns, bool caught, bool cut)
{
	RpmsgLink *l = RpmsgCore::link_of(ept);
	if (cut)
		l->wait_spin().backoff();
	else
		l->wait_spin().update(latency_ns, caught, l->spin_max_ns());
	if (caught)
		l->stats().wait_spin_hits.fetch_add(1, keel::MemoryOrder::Relaxed);
	else
		l->stats().wait_spin_misses.fetch_add(1, keel::MemoryOrder::Relaxed);
}

namespace {

/* A waiter's hook on its queue: wake-ups from other contexts end its doorbell sleep. */
struct DoorbellRelay {
	keel::WaitCallback cb;
	keel::Doorbell *db;
};

void relay_fn(keel::WaitCallback &cb)
{
	keel::container_of(&cb, &DoorbellRelay::cb)->db->wake_waiter();
}

} // namespace

/*
 * The direct wait: the waiter sleeps on the doorbell, and the remote's
 * ring runs the receive pass here (the backend's interrupt state, under
 * m_rx_lock as always), so that the reply costs one wake-up, not two.
 * The relay on @wq covers every other way @cond may come true (the
 * doorbell's own context took the ring, a poller, a destroyed endpoint):
 * their wake_up() reaches the doorbell's wake_waiter(), which the
 * doorbell's handshake keeps from being lost between our check of @cond
 * and our sleep.
 */
s64 wait_doorbell(RpmsgEndpoint &ept, keel::WaitQueue &wq, bool (*cond)(void *ctx), void *ctx,
		  s64 timeout_ns)
{
	might_sleep();
	keel::Doorbell *db = RpmsgCore::link_of(ept)->config().wait_doorbell;
	if (!db || !db->wait_begin())
		return -EBUSY;
	DoorbellRelay relay{ keel::WaitCallback(&relay_fn), db };
	relay.cb.add(wq);
	s64 deadline = keel::ktime_get_ns() + timeout_ns;
	s64 r;
	for (;;) {
		if (cond(ctx)) {
			s64 left = deadline - keel::ktime_get_ns();
			r = left > 0 ? left : 1;
			break;
		}
		if (keel::ktime_get_ns() >= deadline) {
			/* As wait_event_timeout(): the condition decides, even now. */
			r = cond(ctx) ? 1 : 0;
			break;
		}
		(void)db->wait(deadline);
	}
	relay.cb.remove();
	db->wait_end();
	return r;
}

} // namespace detail

} // namespace rpmsg
