// SPDX-License-Identifier: GPL-2.0
/*
 * Linux port: work items, delayed work and work queues. keel's Work stores a
 * struct keel_linux_work (the work_struct plus keel's callback); the kernel
 * runs keel_linux_work_call(), which calls the callback with the storage.
 */
#include <linux/lockdep.h>
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

/*
 * INIT_WORK() gives every item initialised here one lockdep class (its
 * static key is this line's); the caller's key replaces it, as
 * __INIT_WORK() sets its own per call site. The delayed item's timer keeps
 * the class of this line: its callback only queues the work.
 */
void keel_port_work_init(void *work, keel_port_work_fn fn, const char *name,
			 struct keel_lock_key *key)
{
	struct keel_linux_work *w = work;

	INIT_WORK(&w->work, keel_linux_work_call);
#ifdef CONFIG_LOCKDEP
	lockdep_init_map(&w->work.lockdep_map, name, (struct lock_class_key *)key, 0);
#endif
	w->fn = fn;
}

void keel_port_delayed_work_init(void *dwork, keel_port_work_fn fn, const char *name,
				 struct keel_lock_key *key)
{
	struct keel_linux_delayed_work *w = dwork;

	INIT_DELAYED_WORK(&w->dwork, keel_linux_delayed_work_call);
#ifdef CONFIG_LOCKDEP
	lockdep_init_map(&w->dwork.work.lockdep_map, name, (struct lock_class_key *)key, 0);
#endif
	w->fn = fn;
}

int keel_port_queue_work(void *wq, void *work)
{
	return queue_work(keel_wq(wq), work);
}

int keel_port_queue_delayed_work(void *wq, void *dwork, keel_s64 delay_ticks)
{
	return queue_delayed_work(keel_wq(wq), dwork, delay_ticks);
}

int keel_port_mod_delayed_work(void *wq, void *dwork, keel_s64 delay_ticks)
{
	return mod_delayed_work(keel_wq(wq), dwork, delay_ticks);
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
