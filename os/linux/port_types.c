// SPDX-License-Identifier: GPL-2.0
/*
 * Sizes and alignments of the kernel objects keel stores opaquely, for the
 * generated <keel/port_types.h> (asm-offsets style: compiled to assembly with
 * the module's own flags, then scripts/gen_port_types.sh turns the markers
 * into #defines). Every value is checked again with static_assert where the
 * shim uses the type.
 */
#include <linux/jiffies.h>
#include <linux/kbuild.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "irq_work_types.h"
#include "shim_types.h"

#define KEEL_SIZE(sym, type)                                                                       \
	DEFINE(KEEL_##sym##_SIZE, sizeof(type));                                                   \
	DEFINE(KEEL_##sym##_ALIGN, __alignof__(type))

/* An empty struct lock_class_key (no lockdep) still needs one byte of storage. */
struct keel_lock_key_min {
	struct lock_class_key key;
	char min[sizeof(struct lock_class_key) ? 0 : 1];
};

void keel_port_types(void);
void keel_port_types(void)
{
	KEEL_SIZE(LOCK_KEY, struct keel_lock_key_min);
	KEEL_SIZE(SPINLOCK, spinlock_t);
	KEEL_SIZE(MUTEX, struct mutex);
	KEEL_SIZE(WAITQ, struct wait_queue_head);
	KEEL_SIZE(WAIT_ENTRY, struct wait_queue_entry);
	KEEL_SIZE(WAIT_FUNC, struct keel_linux_wait_func);
	KEEL_SIZE(WORK, struct keel_linux_work);
	KEEL_SIZE(DELAYED_WORK, struct keel_linux_delayed_work);
	KEEL_SIZE(IRQ_WORK, struct keel_linux_irq_work);
	/* Time crosses the port in jiffies (<keel/time.h> converts). */
	DEFINE(KEEL_TICK_NS, TICK_NSEC);
	DEFINE(KEEL_TICKS_INFINITE, MAX_SCHEDULE_TIMEOUT);
}
