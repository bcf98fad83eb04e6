/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KEEL_OS_LINUX_IRQ_WORK_TYPES_H
#define KEEL_OS_LINUX_IRQ_WORK_TYPES_H

#include <linux/irq_work.h>

/**
 * struct keel_linux_irq_work - an irq_work calling a keel callback
 * @work: the kernel's item
 * @fn: called with the storage address, in hard-IRQ context
 */
struct keel_linux_irq_work {
	struct irq_work work;
	void (*fn)(void *work);
};

#endif
