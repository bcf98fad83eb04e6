// SPDX-License-Identifier: GPL-2.0
/*
 * Hosted wait queues: a mutex, a CLOCK_MONOTONIC condition variable and a
 * wake-up sequence number.
 *
 * No lost wake-ups: prepare() samples the sequence under the mutex, then the
 * caller checks its condition; wake_up() bumps the sequence under the same
 * mutex after the waker changed the state. Either prepare() ran first (sleep()
 * then sees a new sequence and returns at once) or the waker's unlock
 * happens-before prepare()'s lock, and the caller's check sees the new state.
 *
 * Signals and kthread_stop(): a sleeping kthread registers the queue as its
 * blocker; the signaller sets its flag, then broadcasts the queue under the
 * queue's mutex, so the sleeper either sees the flag before waiting or is
 * woken from the wait.
 */
#include "posix_internal.h"

namespace keel::posix {

namespace {

struct WaitFunc;

struct WaitQ {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	u64 seq;
	WaitFunc *funcs; /* callback entries, under @lock */
};

struct WaitFunc {
	WaitFunc *next;
	keel_port_wait_fn fn;
	void *ctx;
};
static_assert(sizeof(WaitFunc) <= KEEL_WAIT_FUNC_SIZE && alignof(WaitFunc) <= KEEL_WAIT_FUNC_ALIGN);
static_assert(sizeof(WaitQ) <= KEEL_WAITQ_SIZE && alignof(WaitQ) <= KEEL_WAITQ_ALIGN);

struct WaitEntry {
	u64 seq;
	unsigned int kicks;
	int interruptible;
};
static_assert(sizeof(WaitEntry) <= KEEL_WAIT_ENTRY_SIZE &&
	      alignof(WaitEntry) <= KEEL_WAIT_ENTRY_ALIGN);

WaitQ *to_waitq(void *wq)
{
	/* SAFETY: @wq is the KEEL_WAITQ_SIZE storage of a WaitQueue, aligned for WaitQ. */
	return static_cast<WaitQ *>(wq);
}

WaitEntry *to_entry(void *entry)
{
	/* SAFETY: @entry is the caller's KEEL_WAIT_ENTRY_SIZE storage, aligned for WaitEntry. */
	return static_cast<WaitEntry *>(entry);
}

void kick_waitq(void *obj)
{
	WaitQ *q = static_cast<WaitQ *>(obj);
	check_pthread(pthread_mutex_lock(&q->lock), "waitq lock");
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

enum class Woken { No, Yes, Signal };

/* Under q->lock: why the sleeper should return, if it should. */
Woken check_woken(const WaitQ *q, const WaitEntry *e, const ThreadCtl *self)
{
	if (q->seq != e->seq)
		return Woken::Yes;
	if (e->interruptible && signal_pending(self))
		return Woken::Signal;
	if (kicks(self) != e->kicks)
		return Woken::Yes;
	return Woken::No;
}

} // namespace

} // namespace keel::posix

using namespace keel::posix;

/* No lockdep here: @name and @key are for the Linux port. */
extern "C" void keel_port_waitq_init(void *wq, const char *name, struct keel_lock_key *key)
{
	WaitQ *q = to_waitq(wq);
	check_pthread(pthread_mutex_init(&q->lock, nullptr), "waitq mutex_init");
	cond_init_monotonic(&q->cond);
	q->seq = 0;
	q->funcs = nullptr;
}

extern "C" void keel_port_waitq_destroy(void *wq)
{
	WaitQ *q = to_waitq(wq);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
}

extern "C" void keel_port_wake_up(void *wq)
{
	WaitQ *q = to_waitq(wq);
	check_pthread(pthread_mutex_lock(&q->lock), "waitq lock");
	q->seq++;
	pthread_cond_broadcast(&q->cond);
	/* Linux calls an entry's function under the queue's lock: so do we. */
	for (WaitFunc *f = q->funcs; f; f = f->next)
		f->fn(f->ctx);
	pthread_mutex_unlock(&q->lock);
}

extern "C" void keel_port_waitq_add_func(void *wq, void *entry, keel_port_wait_fn fn, void *ctx)
{
	WaitQ *q = to_waitq(wq);
	/* SAFETY: @entry is the caller's KEEL_WAIT_FUNC_SIZE storage, aligned for WaitFunc. */
	WaitFunc *f = static_cast<WaitFunc *>(entry);
	f->fn = fn;
	f->ctx = ctx;
	check_pthread(pthread_mutex_lock(&q->lock), "waitq lock");
	f->next = q->funcs;
	q->funcs = f;
	pthread_mutex_unlock(&q->lock);
}

extern "C" void keel_port_waitq_remove_func(void *wq, void *entry)
{
	WaitQ *q = to_waitq(wq);
	WaitFunc *f = static_cast<WaitFunc *>(entry);
	check_pthread(pthread_mutex_lock(&q->lock), "waitq lock");
	for (WaitFunc **pp = &q->funcs; *pp; pp = &(*pp)->next) {
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	}
	pthread_mutex_unlock(&q->lock);
}

extern "C" void keel_port_wait_prepare(void *wq, void *entry, int interruptible)
{
	WaitQ *q = to_waitq(wq);
	WaitEntry *e = to_entry(entry);
	e->kicks = kicks(current_thread());
	e->interruptible = interruptible;
	check_pthread(pthread_mutex_lock(&q->lock), "waitq lock");
	e->seq = q->seq;
	pthread_mutex_unlock(&q->lock);
}

/* Ticks are ns here (KEEL_TICK_NS 1). */
extern "C" s64 keel_port_wait_sleep(void *wq, void *entry, s64 timeout_ns, int interruptible)
{
	WaitQ *q = to_waitq(wq);
	WaitEntry *e = to_entry(entry);
	ThreadCtl *self = current_thread();
	e->interruptible = interruptible;

	s64 deadline = 0;
	bool timed = deadline_after(timeout_ns, &deadline);
	struct timespec abs = ns_to_timespec(deadline);

	if (self)
		set_blocker(self, kick_waitq, q);
	check_pthread(pthread_mutex_lock(&q->lock), "waitq lock");
	Woken why;
	for (;;) {
		why = check_woken(q, e, self);
		if (why != Woken::No)
			break;
		if (!timed) {
			pthread_cond_wait(&q->cond, &q->lock);
			continue;
		}
		if (pthread_cond_timedwait(&q->cond, &q->lock, &abs) == ETIMEDOUT) {
			why = check_woken(q, e, self);
			break;
		}
	}
	pthread_mutex_unlock(&q->lock);
	if (self)
		clear_blocker(self);

	if (why == Woken::Signal)
		return -ERESTARTSYS;
	if (why == Woken::No)
		return 0;
	if (!timed)
		return timeout_ns;
	s64 left = deadline - now_ns();
	return left > 0 ? left : 1;
}

extern "C" void keel_port_wait_finish(void *wq, void *entry)
{
	/* Nothing is linked: the entry is only the sampled sequence. */
	(void)wq;
	(void)entry;
}
