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

class Work : public PortWork<Work, KEEL_WORK_SIZE, KEEL_WORK_ALIGN> {
public:
	/* @key: static, unique to the declaration site (KEEL_LOCK_KEY()). */
	Work(Fn fn, const char *name, keel_lock_key *key) : PortWork(fn)
	{
		keel_port_work_init(m_storage, &trampoline, keel_lock_class_name(key, name), key);
	}
	/* The item must be idle (not pending, not running) when destroyed. */
	~Work() = default;

	/* Queue on the system queue; false if it was already pending. */
	bool schedule() { return keel_port_queue_work(nullptr, m_storage) != 0; }
	bool queue_on(WorkQueue &wq);
	/* Context: may sleep. True if it was pending. */
	bool cancel_sync() { return keel_port_cancel_work_sync(m_storage) != 0; }
	/* Context: may sleep. True if it waited. */
	bool flush() { return keel_port_flush_work(m_storage) != 0; }
	bool pending() { return keel_port_work_pending(m_storage) != 0; }
};

class DelayedWork : public PortWork<DelayedWork, KEEL_DELAYED_WORK_SIZE, KEEL_DELAYED_WORK_ALIGN> {
public:
	DelayedWork(Fn fn, const char *name, keel_lock_key *key) : PortWork(fn)
	{
		keel_port_delayed_work_init(m_storage, &trampoline, keel_lock_class_name(key, name),
					    key);
	}

	/* False if already pending (the earlier expiry stays). */
	bool schedule(s64 delay_ns)
	{
		return keel_port_queue_delayed_work(nullptr, m_storage, ns_to_ticks(delay_ns)) != 0;
	}
	bool queue_on(WorkQueue &wq, s64 delay_ns);
	/* Re-arms with the new delay whether pending or not; true if it was pending. */
	bool mod(s64 delay_ns)
	{
		return keel_port_mod_delayed_work(nullptr, m_storage, ns_to_ticks(delay_ns)) != 0;
	}
	bool mod_on(WorkQueue &wq, s64 delay_ns);
	/* Does not wait for a running instance. */
	bool cancel() { return keel_port_cancel_delayed_work(m_storage) != 0; }
	/* Context: may sleep. */
	bool cancel_sync() { return keel_port_cancel_delayed_work_sync(m_storage) != 0; }
	/* Runs a pending item now and waits for it. Context: may sleep. */
	bool flush() { return keel_port_flush_delayed_work(m_storage) != 0; }
	bool pending() { return keel_port_delayed_work_pending(m_storage) != 0; }
};

/* A work queue of one's own (alloc_workqueue / alloc_ordered_workqueue). */
class WorkQueue : NonMovable {
public:
	/* @ordered: one item at a time, in order. */
	static Result<WorkQueue *> create(const char *name, bool ordered);
	/* Drains and frees the queue. Context: may sleep. */
	void destroy();
	void flush() { keel_port_workqueue_flush(m_wq); }
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
