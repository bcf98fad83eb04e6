// SPDX-License-Identifier: GPL-2.0
/*
 * Linux port: interrupt-context work (irq_work). keel's IrqWork stores a
 * struct keel_linux_irq_work; the kernel runs keel_linux_irq_work_call() in
 * hard-IRQ context, which calls keel's callback with the storage.
 */
#include <linux/irq_work.h>

#include "irq_work_types.h"
#include "shim.h"

static_assert(sizeof(struct keel_linux_irq_work) == KEEL_IRQ_WORK_SIZE);
static_assert(__alignof__(struct keel_linux_irq_work) == KEEL_IRQ_WORK_ALIGN);

static void keel_linux_irq_work_call(struct irq_work *work)
{
	struct keel_linux_irq_work *w = container_of(work, struct keel_linux_irq_work, work);

	w->fn(w);
}

void keel_port_irq_work_init(void *work, keel_port_irq_work_fn fn)
{
	struct keel_linux_irq_work *w = work;

	init_irq_work(&w->work, keel_linux_irq_work_call);
	w->fn = fn;
}

int keel_port_irq_work_queue(void *work)
{
	struct keel_linux_irq_work *w = work;

	return irq_work_queue(&w->work);
}

void keel_port_irq_work_sync(void *work)
{
	struct keel_linux_irq_work *w = work;

	irq_work_sync(&w->work);
}
