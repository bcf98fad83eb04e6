// SPDX-License-Identifier: GPL-2.0
/*
 * Hosted work queues with Linux's semantics (kernel/workqueue.c):
 *
 *  - queue_work() on a pending item is a no-op returning false; PENDING is
 *    cleared just before the function runs, so an item re-queued while it
 *    runs runs again afterwards;
 *  - an item never runs concurrently with itself (non-reentrant), on any
 *    queue: a worker skips items another worker is running;
 *  - ordered queues run one item at a time, in queueing order;
 *  - cancel_work_sync() removes a pending instance, blocks re-queueing
 *    (including by the function itself) and waits for a running one;
 *  - flush_work() waits for the last queueing to finish; flush_workqueue()
 *    for everything queued before it; destroy drains (chained re-queueing
 *    from the queue's own workers is allowed, as in drain_workqueue());
 *  - delayed work sits on a timer list served by one timer thread, then is
 *    queued like any work. It counts as pending while on the timer.
 *
 * As in Linux, a running item is known by its address in the worker
 * (worker->current_work), never through the item: the function may free
 * the item, and the worker does not touch it after the function returns.
 *
 * Concurrency: a queue has a growing pool of workers (1 for ordered queues,
 * up to MAX_WORKERS otherwise). A new worker starts when more items are
 * pending than workers are idle, which stands in for Linux's concurrency
 * management: an item that sleeps waiting for another item of the same
 * queue does not deadlock it.
 *
 * Locking: one lock, s_lock, guards every queue, item, worker and the timer
 * list. Item functions run without it. Everything here is short, and
 * correctness is easier to see with one lock than with Linux's per-pool
 * locks; the hosted port is not where throughput is measured.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "posix_internal.h"

namespace keel::posix {

namespace {

struct PQueue;
struct PWorker;

enum : u32 {
	WORK_PENDING = 1u << 0,	 /* queued on a list or on the timer */
	WORK_ON_LIST = 1u << 1,	 /* on wq's pending list */
	WORK_ON_TIMER = 1u << 2, /* delayed, timer armed */
};
constexpr u32 WORK_MAGIC = 0x574f524bu; /* "WORK" */

struct PWork {
	keel_port_work_fn fn;
	PWork *next, *prev; /* in wq's pending list */
	PQueue *wq;	    /* the queue it is (or will be, for delayed work) pending on */
	u64 queue_seq;	    /* bumped at each queueing that set PENDING */
	u64 ticket;	    /* position in wq, for flush_workqueue() */
	u32 flags;
	u32 canceling; /* cancel_*_sync() callers in progress: queueing fails */
	u32 magic;     /* written once by init, read without the lock */
	u32 unused;
};
static_assert(sizeof(PWork) <= KEEL_WORK_SIZE && alignof(PWork) <= KEEL_WORK_ALIGN);

struct PDelayed {
	PWork work; /* first: the function gets the delayed item's own storage */
	PDelayed *tnext, *tprev;
	s64 expires;
};
static_assert(sizeof(PDelayed) <= KEEL_DELAYED_WORK_SIZE &&
	      alignof(PDelayed) <= KEEL_DELAYED_WORK_ALIGN);

struct PWorker {
	PQueue *wq;
	pthread_t tid;
	PWork *current; /* identity only once the function returned */
	u64 current_seq;
	u64 current_ticket;
	PWorker *next; /* all workers, for the running-item lookup */
};

constexpr unsigned int MAX_WORKERS = 32;

struct PQueue {
	char name[32];
	bool ordered;
	bool draining;
	bool dying;
	PWork *head, *tail;
	pthread_cond_t more_work;
	unsigned int nr_pending; /* items on the list */
	unsigned int nr_workers;
	unsigned int max_workers;
	unsigned int idle; /* workers waiting on more_work */
	unsigned int nr_timers;
	u64 next_ticket;
	PQueue *next; /* all queues */
};

constinit pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
/* Broadcast when an item finishes: flush and cancel_sync callers wait here. */
constinit pthread_cond_t s_done = PTHREAD_COND_INITIALIZER;
constinit pthread_once_t s_once = PTHREAD_ONCE_INIT;
constinit PQueue s_system_storage = {};
constinit PQueue *s_queues;
constinit PWorker *s_workers;
/* Workers waiting only because the items left are running elsewhere. */
constinit unsigned int s_blocked;
/* Timer list, sorted by expiry, and its thread. */
constinit PDelayed *s_timers;
constinit pthread_cond_t s_timer_cond = {};
constinit bool s_timer_started;

thread_local constinit PWorker *t_worker;

void lock()
{
	check_pthread(pthread_mutex_lock(&s_lock), "workqueue lock");
}

void unlock()
{
	pthread_mutex_unlock(&s_lock);
}

/* Holds s_lock for a scope (the port's entry points). */
struct Locked {
	Locked() { lock(); }
	~Locked() { unlock(); }
	Locked(const Locked &) = delete;
	Locked &operator=(const Locked &) = delete;
};

PWork *to_work(void *work)
{
	/* SAFETY: @work is the KEEL_WORK_SIZE storage of a Work (or the head of a DelayedWork). */
	PWork *w = static_cast<PWork *>(work);
	if (w->magic != WORK_MAGIC) [[unlikely]]
		keel_port_bug(__FILE__, __LINE__, "work item used before init (or corrupted)");
	return w;
}

PDelayed *to_delayed(void *dwork)
{
	/* SAFETY: @dwork is the KEEL_DELAYED_WORK_SIZE storage of a DelayedWork. */
	to_work(dwork);
	return static_cast<PDelayed *>(dwork);
}

void queue_init(PQueue *q, const char *name, bool ordered)
{
	snprintf(q->name, sizeof(q->name), "%s", name ? name : "keel_wq");
	q->ordered = ordered;
	q->max_workers = ordered ? 1 : MAX_WORKERS;
	check_pthread(pthread_cond_init(&q->more_work, nullptr), "cond_init");
}

void system_init()
{
	queue_init(&s_system_storage, "events", false);
	cond_init_monotonic(&s_timer_cond);
	lock();
	s_system_storage.next = s_queues;
	s_queues = &s_system_storage;
	unlock();
}

PQueue *queue_of(void *wq)
{
	if (wq)
		return static_cast<PQueue *>(wq);
	pthread_once(&s_once, system_init);
	return &s_system_storage;
}

/* Under s_lock: the worker running @w, if any. */
PWorker *running_worker(const PWork *w)
{
	for (PWorker *k = s_workers; k; k = k->next)
		if (k->current == w)
			return k;
	return nullptr;
}

void *worker_main(void *arg);

/* Under s_lock. Failing to start a worker is fine while the queue has one. */
bool spawn_worker(PQueue *q)
{
	auto *k = static_cast<PWorker *>(calloc(1, sizeof(PWorker)));
	if (!k)
		return false;
	k->wq = q;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	/* Pool workers of the system queue live as long as the process. */
	if (q == &s_system_storage)
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&k->tid, &attr, worker_main, k);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		free(k);
		return false;
	}
	char name[16];
	snprintf(name, sizeof(name), "kworker/%.7s", q->name);
	pthread_setname_np(k->tid, name);
	k->next = s_workers;
	s_workers = k;
	q->nr_workers++;
	return true;
}

/* Under s_lock: appends @w to @q and gets a worker to it. */
void enqueue(PQueue *q, PWork *w)
{
	w->wq = q;
	w->ticket = ++q->next_ticket;
	w->next = nullptr;
	w->prev = q->tail;
	if (q->tail)
		q->tail->next = w;
	else
		q->head = w;
	q->tail = w;
	w->flags |= WORK_ON_LIST;
	q->nr_pending++;
	if (q->nr_workers == 0 || (q->nr_pending > q->idle && q->nr_workers < q->max_workers))
		if (!spawn_worker(q) && q->nr_workers == 0)
			keel_port_bug(__FILE__, __LINE__, "cannot start a workqueue worker");
	pthread_cond_signal(&q->more_work);
}

/* Under s_lock. */
void list_del(PQueue *q, PWork *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		q->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		q->tail = w->prev;
	w->next = w->prev = nullptr;
	w->flags &= ~WORK_ON_LIST;
	q->nr_pending--;
}

/* Under s_lock: the next item this queue's worker may run. */
PWork *pick(PQueue *q)
{
	if (q->ordered)
		return q->head && !running_worker(q->head) ? q->head : nullptr;
	for (PWork *w = q->head; w; w = w->next)
		if (!running_worker(w))
			return w;
	return nullptr;
}

/* Under s_lock: an item finished; wake whoever may be waiting for that. */
void item_done()
{
	pthread_cond_broadcast(&s_done);
	if (s_blocked)
		for (PQueue *q = s_queues; q; q = q->next)
			pthread_cond_broadcast(&q->more_work);
}

void *worker_main(void *arg)
{
	PWorker *k = static_cast<PWorker *>(arg);
	PQueue *q = k->wq;
	t_worker = k;
	lock();
	for (;;) {
		PWork *w = pick(q);
		if (!w) {
			if (q->dying)
				break;
			bool blocked = q->head != nullptr;
			s_blocked += blocked;
			q->idle++;
			pthread_cond_wait(&q->more_work, &s_lock);
			q->idle--;
			s_blocked -= blocked;
			continue;
		}
		list_del(q, w);
		w->flags &= ~WORK_PENDING;
		k->current = w;
		k->current_seq = w->queue_seq;
		k->current_ticket = w->ticket;
		keel_port_work_fn fn = w->fn;
		unlock();
		fn(w);
		lock();
		k->current = nullptr;
		item_done();
	}
	/* Dying: leave the global list; destroy joins the thread. */
	for (PWorker **p = &s_workers; *p; p = &(*p)->next) {
		if (*p == k) {
			*p = k->next;
			break;
		}
	}
	q->nr_workers--;
	pthread_cond_broadcast(&s_done);
	unlock();
	return nullptr;
}

/* --- timers --- */

/* Under s_lock. */
void timer_del(PDelayed *d)
{
	if (d->tprev)
		d->tprev->tnext = d->tnext;
	else
		s_timers = d->tnext;
	if (d->tnext)
		d->tnext->tprev = d->tprev;
	d->tnext = d->tprev = nullptr;
	d->work.flags &= ~WORK_ON_TIMER;
	d->work.wq->nr_timers--;
}

void *timer_main(void *)
{
	lock();
	for (;;) {
		PDelayed *d = s_timers;
		if (!d) {
			pthread_cond_wait(&s_timer_cond, &s_lock);
			continue;
		}
		if (d->expires > now_ns()) {
			struct timespec abs = ns_to_timespec(d->expires);
			pthread_cond_timedwait(&s_timer_cond, &s_lock, &abs);
			continue;
		}
		timer_del(d);
		enqueue(d->work.wq, &d->work);
	}
	return nullptr;
}

/* Under s_lock: arms @d on @q; @delay_ns <= 0 queues it at once. PENDING is set. */
void arm(PQueue *q, PDelayed *d, s64 delay_ns)
{
	if (delay_ns <= 0) {
		enqueue(q, &d->work);
		return;
	}
	if (!s_timer_started) {
		pthread_t tid;
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		check_pthread(pthread_create(&tid, &attr, timer_main, nullptr), "timer thread");
		pthread_attr_destroy(&attr);
		pthread_setname_np(tid, "keel_timer");
		s_timer_started = true;
	}
	d->work.wq = q;
	q->nr_timers++;
	s64 now = now_ns();
	d->expires = delay_ns > KEEL_S64_MAX - now ? KEEL_S64_MAX : now + delay_ns;
	d->work.flags |= WORK_ON_TIMER;
	PDelayed *prev = nullptr;
	PDelayed *pos = s_timers;
	while (pos && pos->expires <= d->expires) {
		prev = pos;
		pos = pos->tnext;
	}
	d->tprev = prev;
	d->tnext = pos;
	if (pos)
		pos->tprev = d;
	if (prev)
		prev->tnext = d;
	else
		s_timers = d;
	if (!prev)
		pthread_cond_signal(&s_timer_cond);
}

/* Under s_lock: takes a pending item off its list or timer; PENDING stays. */
void steal(PWork *w)
{
	if (w->flags & WORK_ON_TIMER)
		timer_del(reinterpret_cast<PDelayed *>(w));
	if (w->flags & WORK_ON_LIST)
		list_del(w->wq, w);
}

/* Under s_lock: may @q take new items from the caller? */
bool accepts(PQueue *q)
{
	if (q->dying || (q->draining && (!t_worker || t_worker->wq != q))) [[unlikely]] {
		warn_fmt(__FILE__, __LINE__, "queueing work on workqueue %s while it is destroyed",
			 q->name);
		return false;
	}
	return true;
}

/* Under s_lock: true (and PENDING set) if @w may be queued now. */
bool grab_pending(PQueue *q, PWork *w)
{
	if ((w->flags & WORK_PENDING) || w->canceling || !accepts(q))
		return false;
	w->flags |= WORK_PENDING;
	w->queue_seq++;
	return true;
}

/* Under s_lock: cancel_*_sync(); true if it was pending. */
bool cancel_sync_locked(PWork *w)
{
	bool was_pending = w->flags & WORK_PENDING;
	if (was_pending) {
		steal(w);
		w->flags &= ~WORK_PENDING;
	}
	if (t_worker && t_worker->current == w) {
		/* Waiting for ourselves would never end (Linux deadlocks here). */
		warn_fmt(__FILE__, __LINE__, "cancel_work_sync() of the running item from itself");
		return was_pending;
	}
	w->canceling++;
	while (running_worker(w))
		pthread_cond_wait(&s_done, &s_lock);
	w->canceling--;
	return was_pending;
}

/* Under s_lock: must a flush with @target still wait for @w? */
bool flush_busy(const PWork *w, u64 target)
{
	if ((w->flags & WORK_PENDING) && w->queue_seq <= target)
		return true;
	PWorker *k = running_worker(w);
	return k && k->current_seq <= target;
}

/* Under s_lock: flush_work(); true if it waited. */
bool flush_locked(PWork *w)
{
	u64 target = w->queue_seq;
	if (!flush_busy(w, target))
		return false;
	if (t_worker && t_worker->current == w) {
		/* Even a re-queued instance waits for this one: it would never run. */
		warn_fmt(__FILE__, __LINE__, "flush_work() of the running item from itself");
		return false;
	}
	while (flush_busy(w, target))
		pthread_cond_wait(&s_done, &s_lock);
	return true;
}

/* Under s_lock: the oldest ticket still pending or running on @q (~0 if none). */
u64 oldest_ticket(const PQueue *q)
{
	u64 oldest = q->head ? q->head->ticket : ~0ull;
	for (PWorker *k = s_workers; k; k = k->next)
		if (k->wq == q && k->current && k->current_ticket < oldest)
			oldest = k->current_ticket;
	return oldest;
}

/* Under s_lock: a queue is destroyed with delayed items still armed for it. */
void disarm_timers(PQueue *q)
{
	if (!q->nr_timers)
		return;
	/* They would fire into freed memory: the caller should have cancelled them. */
	warn_fmt(__FILE__, __LINE__, "workqueue %s destroyed with %u delayed items armed", q->name,
		 q->nr_timers);
	for (PDelayed *d = s_timers, *n; d; d = n) {
		n = d->tnext;
		if (d->work.wq == q) {
			timer_del(d);
			d->work.flags &= ~WORK_PENDING;
		}
	}
}

} // namespace

} // namespace keel::posix

using namespace keel::posix;

/* No lockdep here: @name and @key are for the Linux port. */
extern "C" void keel_port_work_init(void *work, keel_port_work_fn fn, const char *name,
				    keel_lock_key *key)
{
	PWork *w = static_cast<PWork *>(work);
	memset(w, 0, sizeof(*w));
	w->fn = fn;
	w->magic = WORK_MAGIC;
}

extern "C" void keel_port_delayed_work_init(void *dwork, keel_port_work_fn fn, const char *name,
					    keel_lock_key *key)
{
	PDelayed *d = static_cast<PDelayed *>(dwork);
	memset(d, 0, sizeof(*d));
	d->work.fn = fn;
	d->work.magic = WORK_MAGIC;
}

extern "C" int keel_port_queue_work(void *wq, void *work)
{
	PQueue *q = queue_of(wq);
	PWork *w = to_work(work);
	Locked l;
	bool queued = grab_pending(q, w);
	if (queued)
		enqueue(q, w);
	return queued;
}

/* Ticks are ns here (KEEL_TICK_NS 1). */
extern "C" int keel_port_queue_delayed_work(void *wq, void *dwork, s64 delay_ns)
{
	PQueue *q = queue_of(wq);
	PDelayed *d = to_delayed(dwork);
	Locked l;
	bool queued = grab_pending(q, &d->work);
	if (queued)
		arm(q, d, delay_ns);
	return queued;
}

extern "C" int keel_port_mod_delayed_work(void *wq, void *dwork, s64 delay_ns)
{
	PQueue *q = queue_of(wq);
	PDelayed *d = to_delayed(dwork);
	Locked l;
	bool was_pending = d->work.flags & WORK_PENDING;
	/* Linux: a cancel in progress wins; nothing is queued. */
	if (d->work.canceling || !accepts(q))
		return 0;
	if (was_pending)
		steal(&d->work);
	else
		grab_pending(q, &d->work);
	arm(q, d, delay_ns);
	return was_pending;
}

extern "C" int keel_port_cancel_work_sync(void *work)
{
	keel_port_might_sleep(__FILE__, __LINE__);
	PWork *w = to_work(work);
	Locked l;
	return cancel_sync_locked(w);
}

extern "C" int keel_port_flush_work(void *work)
{
	keel_port_might_sleep(__FILE__, __LINE__);
	PWork *w = to_work(work);
	Locked l;
	return flush_locked(w);
}

extern "C" int keel_port_cancel_delayed_work(void *dwork)
{
	PDelayed *d = to_delayed(dwork);
	Locked l;
	bool was_pending = d->work.flags & WORK_PENDING;
	if (was_pending) {
		steal(&d->work);
		d->work.flags &= ~WORK_PENDING;
	}
	return was_pending;
}

extern "C" int keel_port_cancel_delayed_work_sync(void *dwork)
{
	keel_port_might_sleep(__FILE__, __LINE__);
	PDelayed *d = to_delayed(dwork);
	Locked l;
	return cancel_sync_locked(&d->work);
}

extern "C" int keel_port_flush_delayed_work(void *dwork)
{
	keel_port_might_sleep(__FILE__, __LINE__);
	PDelayed *d = to_delayed(dwork);
	Locked l;
	/* Linux: the timer is cancelled and the item queued for immediate execution. */
	if (d->work.flags & WORK_ON_TIMER) {
		PQueue *q = d->work.wq;
		timer_del(d);
		enqueue(q, &d->work);
	}
	return flush_locked(&d->work);
}

extern "C" int keel_port_work_pending(void *work)
{
	PWork *w = to_work(work);
	Locked l;
	return (w->flags & WORK_PENDING) != 0;
}

extern "C" int keel_port_delayed_work_pending(void *dwork)
{
	return keel_port_work_pending(to_delayed(dwork));
}

extern "C" void *keel_port_workqueue_create(const char *name, int ordered)
{
	pthread_once(&s_once, system_init);
	auto *q = static_cast<PQueue *>(calloc(1, sizeof(PQueue)));
	if (!q)
		return nullptr;
	queue_init(q, name, ordered != 0);
	lock();
	bool ok = spawn_worker(q);
	if (ok) {
		q->next = s_queues;
		s_queues = q;
	}
	unlock();
	if (!ok) {
		pthread_cond_destroy(&q->more_work);
		free(q);
		return nullptr;
	}
	return q;
}

extern "C" void keel_port_workqueue_flush(void *wq)
{
	keel_port_might_sleep(__FILE__, __LINE__);
	PQueue *q = queue_of(wq);
	lock();
	if (t_worker && t_worker->wq == q) {
		warn_fmt(__FILE__, __LINE__, "flush_workqueue(%s) from its own worker", q->name);
		unlock();
		return;
	}
	u64 target = q->next_ticket;
	while (oldest_ticket(q) <= target)
		pthread_cond_wait(&s_done, &s_lock);
	unlock();
}

extern "C" void keel_port_workqueue_destroy(void *wq)
{
	keel_port_might_sleep(__FILE__, __LINE__);
	PQueue *q = static_cast<PQueue *>(wq);
	if (!q || q == &s_system_storage) [[unlikely]] {
		warn_fmt(__FILE__, __LINE__, "destroying the system workqueue");
		return;
	}
	lock();
	disarm_timers(q);
	/* drain_workqueue(): until nothing is pending or running, re-queues included. */
	q->draining = true;
	while (oldest_ticket(q) != ~0ull)
		pthread_cond_wait(&s_done, &s_lock);
	/* Armed by its own items while draining. */
	disarm_timers(q);
	q->dying = true;
	pthread_cond_broadcast(&q->more_work);
	for (PQueue **p = &s_queues; *p; p = &(*p)->next) {
		if (*p == q) {
			*p = q->next;
			break;
		}
	}
	/* Workers unlink themselves as they exit; collect their handles first. */
	unsigned int n = 0;
	pthread_t tids[MAX_WORKERS];
	PWorker *mine[MAX_WORKERS];
	for (PWorker *k = s_workers; k && n < MAX_WORKERS; k = k->next)
		if (k->wq == q) {
			mine[n] = k;
			tids[n++] = k->tid;
		}
	unlock();
	for (unsigned int i = 0; i < n; i++) {
		check_pthread(pthread_join(tids[i], nullptr), "join worker");
		free(mine[i]);
	}
	pthread_cond_destroy(&q->more_work);
	free(q);
}
