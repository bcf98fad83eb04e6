// SPDX-License-Identifier: GPL-2.0
/*
 * Linux port: work items, delayed work and work queues. keel's Work stores a
 * struct keel_linux_work (the work_struct plus keel's callback); the kernel
 * runs keel_linux_work_call(), which calls the callback with the storage.
 */
#include <linux/workqueue.h>

#include "shim.h"
#include "shim_types.h"

static_assert(sizeof(struct keel_linux_work) == KEEL_WORK_SIZE);
static_assert(__alignof__(struct keel_linux_work) == KEEL_WORK_ALIGN);
static_assert(sizeof(struct keel_linux_delayed_work) == KEEL_DELAYED_WORK_SIZE);
static_assert(__alignof__(struct keel_linux_delayed_work) == KEEL_DELAYED_WORK_ALIGN);

static struct workqueue_struct *keel_wq(void *wq)
{
	return wq ? wq : system_wq;
}

static void keel_linux_work_call(struct work_struct *work)
{
	struct keel_linux_work *w = container_of(work, struct keel_linux_work, work);

	w->fn(w);
}

static void keel_linux_delayed_work_call(struct work_struct *work)
{
	struct keel_linux_delayed_work *w =
		container_of(to_delayed_work(work), struct keel_linux_delayed_work, dwork);

	w->fn(w);
}

void keel_port_work_init(void *work, keel_port_work_fn fn)
{
	struct keel_linux_work *w = work;

	INIT_WORK(&w->work, keel_linux_work_call);
	w->fn = fn;
}

void keel_port_delayed_work_init(void *dwork, keel_port_work_fn fn)
{
	struct keel_linux_delayed_work *w = dwork;

	INIT_DELAYED_WORK(&w->dwork, keel_linux_delayed_work_call);
	w->fn = fn;
}

int keel_port_queue_work(void *wq, void *work)
{
	return queue_work(keel_wq(wq), work);
}

int keel_port_queue_delayed_work(void *wq, void *dwork, keel_s64 delay_ns)
{
	return queue_delayed_work(keel_wq(wq), dwork, keel_linux_jiffies(delay_ns));
}

int keel_port_mod_delayed_work(void *wq, void *dwork, keel_s64 delay_ns)
{
	return mod_delayed_work(keel_wq(wq), dwork, keel_linux_jiffies(delay_ns));
}

int keel_port_cancel_work_sync(void *work)
{
	return cancel_work_sync(work);
}

int keel_port_flush_work(void *work)
{
	return flush_work(work);
}

int keel_port_cancel_delayed_work(void *dwork)
{
	return cancel_delayed_work(dwork);
}

int keel_port_cancel_delayed_work_sync(void *dwork)
{
	return cancel_delayed_work_sync(dwork);
}

int keel_port_flush_delayed_work(void *dwork)
{
	return flush_delayed_work(dwork);
}

int keel_port_work_pending(void *work)
{
	return work_pending((struct work_struct *)work);
}

int keel_port_delayed_work_pending(void *dwork)
{
	return delayed_work_pending((struct delayed_work *)dwork);
}

void *keel_port_workqueue_create(const char *name, int ordered)
{
	if (ordered)
		return alloc_ordered_workqueue("%s", 0, name);
	return alloc_workqueue("%s", 0, 0, name);
}

void keel_port_workqueue_destroy(void *wq)
{
	destroy_workqueue(wq);
}

void keel_port_workqueue_flush(void *wq)
{
	flush_workqueue((struct workqueue_struct *)wq);
}

