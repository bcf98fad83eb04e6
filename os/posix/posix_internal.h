/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to the hosted port (os/posix/): per-thread state shared by the
 * lock, wait, thread and workqueue files.
 */
#ifndef KEEL_POSIX_INTERNAL_H
#define KEEL_POSIX_INTERNAL_H

#include <pthread.h>
#include <time.h>

#include <keel/errno.h>
#include <keel/port.h>

namespace keel::posix {

/*
 * What a kthread is blocked on, so that keel_port_thread_signal() and
 * keel_port_thread_stop() can interrupt it: @kick wakes every sleeper of
 * @obj, which then re-checks its own reasons to return.
 */
struct Blocker {
	void (*kick)(void *obj);
	void *obj;
};

/*
 * A thread started by keel_port_thread_run() (task_struct + kthread).
 * Threads the port did not start (main, pool workers, the runner) have none:
 * for them signal_pending() and should_stop() are always false.
 *
 * Locking: @lock guards @blocker and is held while kicking it, so the object
 * a sleeper registered cannot go away under the kicker (the sleeper
 * unregisters under @lock before returning). Lock order: ThreadCtl::lock,
 * then the wait queue's or mutex's internal lock.
 */
struct ThreadCtl {
	pthread_mutex_t lock;
	Blocker blocker;
	pthread_t tid;
	int (*fn)(void *);
	void *arg;
	int result;
	/* Atomics (__atomic builtins): read by the thread, set by others. */
	int should_stop;
	int sigpending;
	int allow_signal;
	/* Bumped by thread_stop(): wakes the thread once from any sleep (wake_up_process). */
	unsigned int kicks;
	char name[16];
};

/* The calling thread's control block, or nullptr if the port did not start it. */
ThreadCtl *current_thread();
void set_blocker(ThreadCtl *t, void (*kick)(void *), void *obj);
void clear_blocker(ThreadCtl *t);
inline bool signal_pending(const ThreadCtl *t)
{
	return t && __atomic_load_n(&t->sigpending, __ATOMIC_SEQ_CST);
}
inline unsigned int kicks(const ThreadCtl *t)
{
	return t ? __atomic_load_n(&t->kicks, __ATOMIC_SEQ_CST) : 0;
}

/* Atomic-context depth of the calling thread (spinlocks, irqsave, IRQ-like handlers). */
void atomic_enter();
void atomic_exit();
int atomic_depth();

/* Monotonic-clock helpers. */
s64 now_ns();
struct timespec ns_to_timespec(s64 ns);
/* Deadline @timeout_ns from now; false when the timeout means "forever". */
bool deadline_after(s64 timeout_ns, s64 *deadline);
/* A condition variable that times out on CLOCK_MONOTONIC. */
void cond_init_monotonic(pthread_cond_t *c);

/* Prints a warning with a backtrace and counts it (keel_port_warn without a site). */
void warn_fmt(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Aborts on a pthread error that can only be a bug. */
void check_pthread(int rc, const char *what);

} // namespace keel::posix

#endif
