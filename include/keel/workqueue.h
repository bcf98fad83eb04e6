/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Deferred work (Linux workqueues). A Work runs its function in process
 * context on a worker thread; DelayedWork after a delay. Semantics are
 * Linux's: queueing a pending item is a no-op (returns false); an item may be
 * re-queued while it runs and will then run again; cancel_sync() returns with
 * the item neither pending nor running; flush() waits for the last queueing
 * to finish.
 *
 *	struct Foo {
 *		Work m_work{ [](Work &w) { container_of(&w, &Foo::m_work)->run(); },
 *			     "foo_work", KEEL_LOCK_KEY() };
 *	};
 *
 * Each declaration names the item's lockdep class (flush() and
 * cancel_sync() under a lock that the item's function takes is a deadlock
 * lockdep reports), as Linux's INIT_WORK() does per call site.
 */
#ifndef KEEL_WORKQUEUE_H
#define KEEL_WORKQUEUE_H

#include <keel/compiler.h>
#include <keel/error.h>
#include <keel/port.h>
#include <keel/port_work.h>
#include <keel/spinlock.h>
#include <keel/time.h>

namespace keel {

class WorkQueue;

/**
 * class Work - a function run later in process context (Linux work_struct)
 *
 * The function (Fn) runs on a worker thread and may sleep. The item must
 * be idle (neither pending nor running) when destroyed: cancel_sync()
 * first.
 */
class Work : public PortWork<Work, KEEL_WORK_SIZE, KEEL_WORK_ALIGN> {
public:
	/**
	 * Work() - an idle item running @fn (Linux INIT_WORK())
	 * @fn: the function, called with the item
	 * @name: its lockdep class name
	 * @key: its class key, static and unique to the declaration site
	 *	(KEEL_LOCK_KEY()): flush() under a lock that @fn takes is then a
	 *	deadlock lockdep reports
	 *
	 * Context: any.
	 */
	Work(Fn fn, const char *name, keel_lock_key *key) : PortWork(fn)
	{
		keel_port_work_init(m_storage, &trampoline, keel_lock_class_name(key, name), key);
	}
	/* The item must be idle (not pending, not running) when destroyed. */
	~Work() = default;

	/**
	 * schedule() - queue the item on the system queue (schedule_work())
	 *
	 * Context: any.
	 * Return: true when queued, false when it was already pending (it then
	 * runs once for both).
	 */
	bool schedule() { return keel_port_queue_work(nullptr, m_storage) != 0; }
	/**
	 * queue_on() - queue the item on @wq (queue_work())
	 * @wq: a queue of one's own
	 *
	 * Context: any.
	 * Return: true when queued, false when already pending.
	 */
	bool queue_on(WorkQueue &wq);
	/**
	 * cancel_sync() - unqueue the item and wait for a running instance
	 * (cancel_work_sync())
	 *
	 * Returns with the item neither pending nor running, even if it
	 * re-queues itself.
	 *
	 * Context: may sleep; never from the item itself.
	 * Return: true when it was pending.
	 */
	bool cancel_sync() { return keel_port_cancel_work_sync(m_storage) != 0; }
	/**
	 * flush() - wait for the last queueing of the item to finish (flush_work())
	 *
	 * Context: may sleep; never from the item itself.
	 * Return: true when it waited.
	 */
	bool flush() { return keel_port_flush_work(m_storage) != 0; }
	/**
	 * pending() - is the item queued and not yet started? (work_pending())
	 *
	 * Context: any.
	 * Return: true when pending (stale as soon as read).
	 */
	bool pending() { return keel_port_work_pending(m_storage) != 0; }
};

/**
 * class DelayedWork - a function run in process context after a delay
 * (Linux delayed_work)
 *
 * As Work, with a timer that queues the item when it expires.
 */
class DelayedWork : public PortWork<DelayedWork, KEEL_DELAYED_WORK_SIZE, KEEL_DELAYED_WORK_ALIGN> {
public:
	/**
	 * DelayedWork() - an idle delayed item running @fn (INIT_DELAYED_WORK())
	 * @fn: the function, called with the item
	 * @name: its lockdep class name
	 * @key: its class key (KEEL_LOCK_KEY())
	 *
	 * Context: any.
	 */
	DelayedWork(Fn fn, const char *name, keel_lock_key *key) : PortWork(fn)
	{
		keel_port_delayed_work_init(m_storage, &trampoline, keel_lock_class_name(key, name),
					    key);
	}

	/**
	 * schedule() - queue the item on the system queue after @delay_ns
	 * (schedule_delayed_work())
	 * @delay_ns: the delay (rounded up to the port's ticks; 0: now)
	 *
	 * Context: any.
	 * Return: true when armed, false when already pending (the earlier
	 * expiry stays).
	 */
	bool schedule(s64 delay_ns)
	{
		return keel_port_queue_delayed_work(nullptr, m_storage, ns_to_ticks(delay_ns)) != 0;
	}
	/**
	 * queue_on() - queue the item on @wq after @delay_ns
	 * @wq: a queue of one's own
	 * @delay_ns: the delay
	 *
	 * Context: any.
	 * Return: true when armed, false when already pending.
	 */
	bool queue_on(WorkQueue &wq, s64 delay_ns);
	/**
	 * mod() - (re)arm the item for @delay_ns from now (mod_delayed_work())
	 * @delay_ns: the new delay
	 *
	 * Whether pending or not; a cancel in progress wins and nothing is
	 * queued.
	 *
	 * Context: any.
	 * Return: true when it was pending.
	 */
	bool mod(s64 delay_ns)
	{
		return keel_port_mod_delayed_work(nullptr, m_storage, ns_to_ticks(delay_ns)) != 0;
	}
	/**
	 * mod_on() - (re)arm the item on @wq for @delay_ns from now
	 * @wq: a queue of one's own
	 * @delay_ns: the new delay
	 *
	 * Context: any.
	 * Return: true when it was pending.
	 */
	bool mod_on(WorkQueue &wq, s64 delay_ns);
	/**
	 * cancel() - disarm or unqueue the item, without waiting for a running
	 * instance (cancel_delayed_work())
	 *
	 * Context: any.
	 * Return: true when it was pending.
	 */
	bool cancel() { return keel_port_cancel_delayed_work(m_storage) != 0; }
	/**
	 * cancel_sync() - disarm the item and wait for a running instance
	 *
	 * Context: may sleep; never from the item itself.
	 * Return: true when it was pending.
	 */
	bool cancel_sync() { return keel_port_cancel_delayed_work_sync(m_storage) != 0; }
	/**
	 * flush() - run a pending item now and wait for it (flush_delayed_work())
	 *
	 * Context: may sleep; never from the item itself.
	 * Return: true when it waited.
	 */
	bool flush() { return keel_port_flush_delayed_work(m_storage) != 0; }
	/**
	 * pending() - is the item armed or queued?
	 *
	 * Context: any.
	 * Return: true when pending.
	 */
	bool pending() { return keel_port_delayed_work_pending(m_storage) != 0; }
};

/**
 * class WorkQueue - a work queue of one's own (alloc_workqueue())
 *
 * For items that must not share the system queue's workers (an ordered
 * sequence, a flush that must not wait for unrelated items). An opaque
 * handle to the port's queue: made by create(), freed by destroy().
 */
class WorkQueue : NonMovable {
public:
	/**
	 * create() - a new queue (alloc_workqueue(), alloc_ordered_workqueue())
	 * @name: its name (shown by the port: the worker threads')
	 * @ordered: run at most one item at a time, in queueing order
	 *
	 * Context: may sleep.
	 * Return: the queue, or -ENOMEM.
	 */
	static Result<WorkQueue *> create(const char *name, bool ordered);
	/**
	 * destroy() - drain and free the queue (destroy_workqueue())
	 *
	 * Waits until nothing is pending or running, re-queued items
	 * included. Delayed items still armed are a bug (warned about and
	 * disarmed): cancel them first.
	 *
	 * Context: may sleep; never from one of its items.
	 */
	void destroy();
	/**
	 * flush() - wait for every item queued so far (flush_workqueue())
	 *
	 * Context: may sleep; never from one of its items.
	 */
	void flush() { keel_port_workqueue_flush(m_wq); }
	/**
	 * port_handle() - the port's queue, for the port calls
	 *
	 * Context: any.
	 * Return: the handle.
	 */
	void *port_handle() const { return m_wq; }

private:
	explicit WorkQueue(void *wq) : m_wq(wq) {}
	void *m_wq;
};

inline bool Work::queue_on(WorkQueue &wq)
{
	return keel_port_queue_work(wq.port_handle(), m_storage) != 0;
}
inline bool DelayedWork::queue_on(WorkQueue &wq, s64 delay_ns)
{
	return keel_port_queue_delayed_work(wq.port_handle(), m_storage, ns_to_ticks(delay_ns)) !=
	       0;
}
inline bool DelayedWork::mod_on(WorkQueue &wq, s64 delay_ns)
{
	return keel_port_mod_delayed_work(wq.port_handle(), m_storage, ns_to_ticks(delay_ns)) != 0;
}

} // namespace keel

#endif
