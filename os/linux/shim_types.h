/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel objects with a callback pointer beside them: the storage behind
 * keel's Work, DelayedWork and WaitCallback (the port fills them).
 */
#ifndef KEEL_OS_LINUX_SHIM_TYPES_H
#define KEEL_OS_LINUX_SHIM_TYPES_H

#include <linux/wait.h>
#include <linux/workqueue.h>

typedef void (*keel_linux_work_fn)(void *work);

/**
 * struct keel_linux_work - a work item calling a keel callback
 * @work: the kernel's work item; first, so its address is the storage's
 * @fn: called with the storage address when the work runs
 */
struct keel_linux_work {
	struct work_struct work;
	keel_linux_work_fn fn;
};

/**
 * struct keel_linux_delayed_work - a delayed work item calling a keel callback
 * @dwork: the kernel's delayed work item (work + timer); first
 * @fn: called with the storage address when the work runs
 */
struct keel_linux_delayed_work {
	struct delayed_work dwork;
	keel_linux_work_fn fn;
};

/**
 * struct keel_linux_wait_func - a wait queue entry calling a keel callback
 * @entry: the kernel's entry (its func is the shim's trampoline, its
 *	private the callback's context)
 * @fn: called with the context on every wake-up of the queue
 */
struct keel_linux_wait_func {
	struct wait_queue_entry entry;
	void (*fn)(void *ctx);
};

#endif
