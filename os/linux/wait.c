// SPDX-License-Identifier: GPL-2.0
/*
 * Linux port: wait queues, the kernel's ___wait_event() split into calls.
 *
 * keel's WaitQueue loops prepare() / condition / sleep() and ends with
 * finish(). The entry lives on the waiter's stack, uninitialised at the
 * first prepare(); prepare() therefore initialises it and queues it, and
 * sleep() dequeues it again after schedule_timeout() (finish_wait()), so that
 * each prepare() starts from an unqueued entry. A wake_up() between
 * prepare() and sleep() is not lost: prepare_to_wait_event() set the task
 * state under the queue lock, and wake_up() makes it runnable again.
 */
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/wait.h>

#include "shim.h"
#include "shim_types.h"

static_assert(sizeof(struct wait_queue_head) == KEEL_WAITQ_SIZE);
static_assert(__alignof__(struct wait_queue_head) == KEEL_WAITQ_ALIGN);
static_assert(sizeof(struct wait_queue_entry) == KEEL_WAIT_ENTRY_SIZE);
static_assert(__alignof__(struct wait_queue_entry) == KEEL_WAIT_ENTRY_ALIGN);

void keel_port_waitq_init(void *wq, const char *name, struct keel_lock_key *key)
{
	__init_waitqueue_head(wq, name, (struct lock_class_key *)key);
}

void keel_port_waitq_destroy(void *wq) {}

void keel_port_wake_up(void *wq)
{
	wake_up((struct wait_queue_head *)wq);
}

void keel_port_wait_prepare(void *wq, void *entry, int interruptible)
{
	init_wait_entry(entry, 0);
	prepare_to_wait_event(wq, entry, interruptible ? TASK_INTERRUPTIBLE : TASK_UNINTERRUPTIBLE);
}

/*
 * Woken by a signal is woken: the caller's loop checks the condition before
 * the signal, as ___wait_event() does (a condition that became true wins
 * over a signal, e.g. kthread_stop()'s TIF_NOTIFY_SIGNAL).
 */
keel_s64 keel_port_wait_sleep(void *wq, void *entry, keel_s64 timeout_ticks, int interruptible)
{
	long left = schedule_timeout(timeout_ticks);

	finish_wait(wq, entry);
	return left;
}

void keel_port_wait_finish(void *wq, void *entry)
{
	finish_wait(wq, entry);
}

int keel_port_signal_pending(void)
{
	return signal_pending(current);
}

static_assert(sizeof(struct keel_linux_wait_func) == KEEL_WAIT_FUNC_SIZE);
static_assert(__alignof__(struct keel_linux_wait_func) == KEEL_WAIT_FUNC_ALIGN);

static int keel_linux_wait_func_wake(struct wait_queue_entry *entry, unsigned int mode, int flags,
				     void *key)
{
	struct keel_linux_wait_func *f = container_of(entry, struct keel_linux_wait_func, entry);

	f->fn(entry->private);
	return 0;
}

void keel_port_waitq_add_func(void *wq, void *entry, keel_port_wait_fn fn, void *ctx)
{
	struct keel_linux_wait_func *f = entry;

	init_waitqueue_func_entry(&f->entry, keel_linux_wait_func_wake);
	f->entry.private = ctx;
	f->fn = fn;
	add_wait_queue(wq, &f->entry);
}

void keel_port_waitq_remove_func(void *wq, void *entry)
{
	struct keel_linux_wait_func *f = entry;

	remove_wait_queue(wq, &f->entry);
}
