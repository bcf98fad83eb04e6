/* SPDX-License-Identifier: GPL-2.0 */
/*
 * WaitQueue (wait_queue_head_t) and Completion.
 *
 *	s64 r = wq.wait_event_timeout([&] { return done; }, ms_to_ns(100));
 *
 * Timeouts are in ns of the monotonic clock. Return values follow Linux:
 *  wait_event_timeout(): 0 when the condition is still false at timeout,
 *	else the remaining time (>= 1);
 *  wait_event_interruptible(): 0 or -ERESTARTSYS;
 *  wait_event_interruptible_timeout(): 0, remaining (>= 1), or -ERESTARTSYS.
 * The condition is re-evaluated after every wake-up; the waker changes the
 * state and then calls wake_up() (wake_up() orders both).
 */
#ifndef KEEL_WAIT_H
#define KEEL_WAIT_H

#include <keel/errno.h>
#include <keel/port.h>
#include <keel/spinlock.h>
#include <keel/time.h>
#include <keel/utility.h>

namespace keel {

/**
 * class WaitQueue - threads waiting for a condition (wait_queue_head_t)
 *
 * A waiter sleeps until its condition holds; whoever changes the state
 * calls wake_up() afterwards. The condition is a callable evaluated in the
 * waiter's context, after every wake-up, and must not sleep. The OS's wait
 * queue is stored inside (m_storage); its internal lock gets the class
 * given at construction.
 */
class WaitQueue : NonMovable {
public:
	/**
	 * WaitQueue() - an empty wait queue
	 * @name: the class name of the queue's lock
	 * @key: its class key, static and unique to the declaration site
	 *	(KEEL_LOCK_KEY())
	 *
	 * Context: any.
	 */
	WaitQueue(const char *name, keel_lock_key *key)
	{
		keel_port_waitq_init(m_storage, keel_lock_class_name(key, name), key);
	}
	~WaitQueue() { keel_port_waitq_destroy(m_storage); }

	/**
	 * wake_up() - wake every waiter, which then re-checks its condition
	 *
	 * Orders the caller's earlier stores before the waiters' checks: change
	 * the state, then wake.
	 *
	 * Context: any.
	 */
	void wake_up() { keel_port_wake_up(m_storage); }

	/**
	 * port_queue() - the port's queue object (Linux: the wait_queue_head_t)
	 *
	 * For a port's glue that hands the queue to the OS (poll_wait()).
	 *
	 * Context: any.
	 * Return: the storage the port initialised.
	 */
	void *port_queue() { return m_storage; }

	/**
	 * wait_event() - sleep until @cond() is true (Linux wait_event())
	 * @cond: the condition; returns bool, must not sleep
	 *
	 * Uninterruptible and without a deadline: only for conditions that are
	 * bound to come true (never a wait on a peer).
	 *
	 * Context: may sleep.
	 */
	template <typename Cond> void wait_event(Cond cond)
	{
		(void)wait(cond, TIMEOUT_INFINITE, false);
	}
	/**
	 * wait_event_timeout() - sleep until @cond() or the timeout
	 * @cond: the condition
	 * @timeout_ns: the longest wait in ns (TIMEOUT_INFINITE: no limit)
	 *
	 * The condition decides, even at the deadline (Linux).
	 *
	 * Context: may sleep.
	 * Return: 0 when @cond() is still false at the deadline, else the time
	 * left in ns (at least 1).
	 */
	template <typename Cond> [[nodiscard]] s64 wait_event_timeout(Cond cond, s64 timeout_ns)
	{
		return wait(cond, timeout_ns, false);
	}
	/**
	 * wait_event_interruptible() - sleep until @cond() or a signal
	 * @cond: the condition
	 *
	 * Context: may sleep.
	 * Return: 0 when @cond() became true, -ERESTARTSYS when a signal came
	 * first.
	 */
	template <typename Cond> [[nodiscard]] int wait_event_interruptible(Cond cond)
	{
		s64 r = wait(cond, TIMEOUT_INFINITE, true);
		return r < 0 ? int(r) : 0;
	}
	/**
	 * wait_event_interruptible_timeout() - sleep until @cond(), a signal or
	 * the timeout
	 * @cond: the condition
	 * @timeout_ns: the longest wait in ns
	 *
	 * Context: may sleep.
	 * Return: 0 at the deadline with @cond() false, the time left (>= 1)
	 * when it became true, or -ERESTARTSYS on a signal.
	 */
	template <typename Cond>
	[[nodiscard]] s64 wait_event_interruptible_timeout(Cond cond, s64 timeout_ns)
	{
		return wait(cond, timeout_ns, true);
	}

private:
	template <typename Cond> s64 wait(Cond &cond, s64 timeout_ns, bool interruptible)
	{
		keel_port_might_sleep(__FILE__, __LINE__);
		if (cond())
			return timeout_ns > 0 ? timeout_ns : 1;
		alignas(KEEL_WAIT_ENTRY_ALIGN) unsigned char entry[KEEL_WAIT_ENTRY_SIZE];
		s64 remaining = timeout_ns;
		for (;;) {
			keel_port_wait_prepare(m_storage, entry, interruptible);
			if (cond()) {
				remaining = remaining > 0 ? remaining : 1;
				break;
			}
			if (interruptible && keel_port_signal_pending()) {
				remaining = -ERESTARTSYS;
				break;
			}
			if (remaining <= 0) {
				/* Linux: the condition decides, even at timeout. */
				remaining = cond() ? 1 : 0;
				break;
			}
			s64 left = sleep(entry, remaining, interruptible);
			/*
			 * Woken by a signal: round again, where the condition is
			 * looked at before the signal (Linux ___wait_event()), so
			 * a condition that came true with it is a success. The
			 * time left is then at most what it was before the sleep.
			 */
			if (left >= 0)
				remaining = left;
		}
		keel_port_wait_finish(m_storage, entry);
		return remaining;
	}

	/* One sleep: the remaining time in ns (>= 1), 0 on timeout, or -ERESTARTSYS. */
	s64 sleep(unsigned char *entry, s64 timeout_ns, bool interruptible)
	{
		s64 left = keel_port_wait_sleep(m_storage, entry, ns_to_ticks(timeout_ns),
						interruptible);
		if (left <= 0 || timeout_ns == TIMEOUT_INFINITE)
			return left < 0 ? left : (left ? timeout_ns : 0);
		/* The extra tick of ns_to_ticks() is not time the caller asked for. */
		return clamp(ticks_to_ns(left), s64(1), timeout_ns);
	}

	alignas(KEEL_WAITQ_ALIGN) unsigned char m_storage[KEEL_WAITQ_SIZE];
};

/**
 * class WaitCallback - a wait queue entry that calls a function
 * @Fn: the function's type: it gets the entry (container_of() finds the
 *	entry's owner)
 *
 * Its queue's wake-ups call a function instead of waking a task (Linux
 * init_waitqueue_func_entry() and add_wait_queue()). It relays one
 * queue's wake-ups to another, so that a waiter on the other (a poll of
 * several objects; a file whose queue must not outlive it) hears both::
 *
 *	WaitCallback m_relay{ [](WaitCallback &cb) { ... wake_up() ... } };
 *	m_relay.add(link_queue);  ...  m_relay.remove();
 *
 * The function runs in the waker's context (any, atomic included) with the
 * queue's lock held: it must not sleep, nor add or remove entries of that
 * queue. Invariants: on at most one queue at a time; off it (remove(), or
 * the destructor) before that queue is destroyed.
 */
class WaitCallback : NonMovable {
public:
	using Fn = void (*)(WaitCallback &cb);
	/**
	 * WaitCallback() - an entry on no queue yet
	 * @fn: the function its queue's wake-ups call
	 *
	 * Context: any.
	 */
	explicit WaitCallback(Fn fn) : m_fn(fn) {}
	~WaitCallback() { remove(); }

	/**
	 * add() - hear @wq's wake-ups from now on
	 * @wq: the queue (a no-op when the entry is on a queue already)
	 *
	 * Context: any.
	 */
	void add(WaitQueue &wq)
	{
		if (m_wq)
			return;
		m_wq = &wq;
		keel_port_waitq_add_func(wq.port_queue(), m_entry, &WaitCallback::call, this);
	}
	/**
	 * remove() - take the entry off its queue (a no-op when on none)
	 *
	 * Once it returns, the function is not running and will not run again.
	 *
	 * Context: any.
	 */
	void remove()
	{
		if (!m_wq)
			return;
		keel_port_waitq_remove_func(m_wq->port_queue(), m_entry);
		m_wq = nullptr;
	}
	/**
	 * added() - is the entry on a queue?
	 *
	 * Context: any.
	 * Return: true between add() and remove().
	 */
	bool added() const { return m_wq != nullptr; }

private:
	static void call(void *ctx)
	{
		/* SAFETY: add() registered this object as the context. */
		WaitCallback *cb = static_cast<WaitCallback *>(ctx);
		cb->m_fn(*cb);
	}
	alignas(KEEL_WAIT_FUNC_ALIGN) unsigned char m_entry[KEEL_WAIT_FUNC_SIZE];
	Fn m_fn;
	WaitQueue *m_wq = nullptr;
};

/**
 * class Completion - a one-shot (or counted) event (Linux struct completion)
 *
 * Locking: m_lock guards the count (m_done); complete() changes it and
 * wakes the waiters under m_lock, which the waiter also takes to consume
 * it: once wait*() returns, complete() has finished touching the object,
 * so a completion may live on the waiter's stack (the reason Linux's
 * completion takes its wait-queue lock). Both locks get classes of the
 * declaration site::
 *
 *	Completion m_done{ "sample_done", KEEL_LOCK_KEY() };
 */
class Completion : NonMovable {
public:
	/**
	 * Completion() - a completion not yet completed
	 * @name: the class name of its locks
	 * @site: the declaration site (KEEL_LOCK_KEY()): one class for the
	 *	count's lock, one for the wait queue
	 *
	 * Context: any.
	 */
	template <typename Site>
	Completion(const char *name, LockSite<Site> site)
	    : m_lock(name, site.template key<Completion>()), m_wq(name, site)
	{
	}
	/**
	 * complete() - signal one event: one waiter (present or future) returns
	 *
	 * Context: any.
	 */
	void complete()
	{
		Guard g{ m_lock };
		if (m_done < COMPLETE_ALL - 1)
			m_done++;
		m_wq.wake_up();
	}
	/**
	 * complete_all() - complete every present and future waiter, until
	 * reinit()
	 *
	 * Context: any.
	 */
	void complete_all()
	{
		Guard g{ m_lock };
		m_done = COMPLETE_ALL;
		m_wq.wake_up();
	}
	/**
	 * reinit() - forget past events (Linux reinit_completion())
	 *
	 * Only when no one waits.
	 *
	 * Context: any.
	 */
	void reinit()
	{
		Guard g{ m_lock };
		m_done = 0;
	}
	/**
	 * done() - is an event pending? (Linux completion_done())
	 *
	 * Context: any.
	 * Return: true when a wait would return at once.
	 */
	bool done() const
	{
		Guard g{ m_lock };
		return m_done != 0;
	}

	/**
	 * wait() - wait for an event and consume it (wait_for_completion())
	 *
	 * Uninterruptible and without a deadline: not for events a peer owes.
	 *
	 * Context: may sleep.
	 */
	void wait()
	{
		m_wq.wait_event([this] { return try_consume(); });
	}
	/**
	 * wait_timeout() - wait for an event, at most @timeout_ns
	 * @timeout_ns: the longest wait in ns
	 *
	 * Context: may sleep.
	 * Return: 0 on timeout (nothing consumed), else the time left (>= 1).
	 */
	[[nodiscard]] s64 wait_timeout(s64 timeout_ns)
	{
		return m_wq.wait_event_timeout([this] { return try_consume(); }, timeout_ns);
	}
	/**
	 * wait_interruptible() - wait for an event unless a signal comes
	 *
	 * Context: may sleep.
	 * Return: 0 with the event consumed, or -ERESTARTSYS.
	 */
	[[nodiscard]] int wait_interruptible()
	{
		return m_wq.wait_event_interruptible([this] { return try_consume(); });
	}
	/**
	 * wait_interruptible_timeout() - wait for an event, a signal or the timeout
	 * @timeout_ns: the longest wait in ns
	 *
	 * Context: may sleep.
	 * Return: 0 on timeout, the time left (>= 1) with the event consumed, or
	 * -ERESTARTSYS.
	 */
	[[nodiscard]] s64 wait_interruptible_timeout(s64 timeout_ns)
	{
		return m_wq.wait_event_interruptible_timeout([this] { return try_consume(); },
							     timeout_ns);
	}
	/**
	 * try_wait() - consume an event if one is pending (try_wait_for_completion())
	 *
	 * Context: any.
	 * Return: true when one was consumed.
	 */
	bool try_wait() { return try_consume(); }

private:
	static constexpr u32 COMPLETE_ALL = 0x80000000u;
	bool try_consume()
	{
		Guard g{ m_lock };
		if (m_done == 0)
			return false;
		if (m_done != COMPLETE_ALL)
			m_done--;
		return true;
	}
	mutable SpinLock m_lock;
	u32 m_done GUARDED_BY(m_lock) = 0;
	WaitQueue m_wq;
};

} // namespace keel

#endif
