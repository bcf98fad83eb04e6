/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Busy polling for rpmsg clients (Linux's <net/busy_poll.h> for rpmsg):
 * a client thread that waits for the remote's answer can run the link's
 * receive pass itself instead of sleeping until the doorbell's context
 * runs it, and so skip the wake-ups of a notified round trip. The link's
 * delivery mode (RpmsgLinkConfig.delivery, <rpmsg/rpmsg_link.h>) says who
 * polls when no client does; Documentation/rpmsg.rst, "Delivery modes",
 * has the whole story.
 *
 *	// wait for the reply, spinning first for the link's adaptive budget:
 *	s64 r = rpmsg::wait_event_spin(ept, m_wq, [&] { return m_got; }, timeout);
 *
 *	// or own the ring for a while (a dedicated loop):
 *	rpmsg::busy_poll_begin(ept);
 *	while (!done)
 *		if (!rpmsg::poll_rx(ept, 16))
 *			keel::cpu_relax();
 *	rpmsg::busy_poll_end(ept);
 *
 * Callbacks keep their contract: a poll runs them in the caller's thread,
 * with the link's rx lock held (atomic context), one at a time, in order.
 * Neither call may be made from an endpoint callback of the same link.
 */
#ifndef RPMSG_RPMSG_POLL_H
#define RPMSG_RPMSG_POLL_H

#include <keel/time.h>
#include <keel/wait.h>
#include <rpmsg/rpmsg.h>

namespace rpmsg {

/**
 * poll_rx() - one NAPI-like poll of @ept's link in the caller's context
 * @ept: an endpoint of the link
 * @budget: messages to handle at most
 *
 * Handles up to @budget received messages of the link (of any of its
 * endpoints: their callbacks run here). Inside a busy-poll section the
 * remote's notifications stay off; outside it this changes nothing about
 * them (the doorbell still delivers what the poll leaves).
 *
 * Context: process or atomic, not from a callback of the same link.
 * Return: messages handled; 0 also when another context is running a
 * receive pass (it delivers them) or the endpoint is destroyed.
 */
u32 poll_rx(RpmsgEndpoint &ept, u32 budget);
/**
 * busy_poll_begin() - open a busy-poll section on @ept's link
 * @ept: an endpoint of the link
 *
 * Until the matching busy_poll_end() the remote's message notifications
 * are off and nobody else runs receive passes unless asked: the caller
 * polls with poll_rx(). Sections nest and may be open in several threads.
 *
 * Context: may sleep; not from a callback of the same link.
 */
void busy_poll_begin(RpmsgEndpoint &ept);
/**
 * busy_poll_end() - close a busy-poll section
 * @ept: the endpoint given to busy_poll_begin()
 *
 * The last section to close re-enables the remote's notifications, with
 * the re-check that closes the race, and handles in the caller's context
 * what arrived meanwhile (a ring's worth; the rest from interrupt work).
 *
 * Context: as busy_poll_begin().
 */
void busy_poll_end(RpmsgEndpoint &ept);

namespace detail {
/* The link's adaptive spin for client waits: the budget, and the verdict of one wait. */
s64 wait_spin_budget(RpmsgEndpoint &ept);
void wait_spin_done(RpmsgEndpoint &ept, s64 latency_ns, bool caught, bool cut)
	KEEL_EXPORT_AS(keel_rpmsg_wait_spin_done);
/* Sleeps on the link's doorbell (RpmsgLinkConfig.wait_doorbell); -EBUSY when it cannot. */
s64 wait_doorbell(RpmsgEndpoint &ept, keel::WaitQueue &wq, bool (*cond)(void *ctx), void *ctx,
		  s64 timeout_ns) KEEL_EXPORT_AS(keel_rpmsg_wait_doorbell);
} // namespace detail

/**
 * wait_event_spin() - wait for @cond, busy-polling the link first
 * @ept: an endpoint of the link the event comes from
 * @wq: the queue the waker wakes (after making @cond true)
 * @cond: the condition (a callable returning bool), evaluated many times
 * @timeout_ns: how long to wait in all
 *
 * Spin-then-sleep: for the link's adaptive spin budget (at most its
 * spin_max_ns) the caller polls the link in a busy-poll section and checks
 * @cond; then it sleeps on @wq as wait_event_timeout() does, or, when the
 * link has a doorbell that offers direct waits (RpmsgLinkConfig's
 * wait_doorbell) and no other thread waits on it, on the doorbell itself:
 * the remote's ring then wakes this thread, which runs the receive pass
 * (and so the callbacks) here, while @wq's wake-ups from other contexts
 * still end the sleep. The budget follows the latencies of past waits
 * (Documentation/rpmsg.rst, "The adaptive spin"); a spin_max_ns of 0
 * skips the spin.
 *
 * Context: may sleep; not from a callback of the same link.
 * Return: 0 when @cond is still false at the timeout, else the time left
 * (at least 1), as wait_event_timeout().
 */
template <typename Cond>
s64 wait_event_spin(RpmsgEndpoint &ept, keel::WaitQueue &wq, Cond cond, s64 timeout_ns)
{
	if (cond())
		return timeout_ns > 0 ? timeout_ns : 1;
	s64 start = keel::ktime_get_ns();
	s64 spin = detail::wait_spin_budget(ept);
	bool caught = false, cut = false;
	if (spin > 0) {
		busy_poll_begin(ept);
		for (u32 i = 0;; i++) {
			if (cond()) {
				caught = true;
				break;
			}
			if (!poll_rx(ept, 16))
				keel::cpu_relax();
			if ((i & 7) == 7 && keel::ktime_get_ns() - start >= spin)
				break;
			/* The scheduler wants the CPU (the event's sender may be waiting for it). */
			if ((i & 63) == 63 && keel::spin_yield()) {
				cut = true;
				break;
			}
		}
		busy_poll_end(ept);
		/* The section's end may have delivered it. */
		caught = caught || cond();
	}
	s64 left = timeout_ns - (keel::ktime_get_ns() - start);
	s64 r = left > 0 ? left : 1;
	if (!caught) {
		auto test = [](void *c) { return (*static_cast<Cond *>(c))(); };
		r = detail::wait_doorbell(ept, wq, test, &cond, left > 0 ? left : 0);
		if (r == -EBUSY)
			r = wq.wait_event_timeout(cond, left > 0 ? left : 0);
	}
	detail::wait_spin_done(ept, keel::ktime_get_ns() - start, caught, cut && !caught);
	return r;
}

} // namespace rpmsg

#endif
