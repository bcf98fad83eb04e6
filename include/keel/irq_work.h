/* SPDX-License-Identifier: GPL-2.0 */
/*
 * IrqWork: run a function in hard-interrupt context, queued from any
 * context (Linux irq_work). What an in-process doorbell uses to deliver a
 * "remote interrupt" the way real hardware would: on another stack, in a
 * context that must not sleep.
 *
 * Semantics (Linux's): queue() on a pending item is a no-op and returns
 * false; the item may be re-queued while it runs and then runs again;
 * sync() returns once it is neither pending nor running.
 */
#ifndef KEEL_IRQ_WORK_H
#define KEEL_IRQ_WORK_H

#include <keel/compiler.h>
#include <keel/port.h>
#include <keel/port_work.h>

namespace keel {

/**
 * class IrqWork - a function run in hard-interrupt context (Linux irq_work)
 *
 * The item must be idle when destroyed (sync() first).
 */
class IrqWork : public PortWork<IrqWork, KEEL_IRQ_WORK_SIZE, KEEL_IRQ_WORK_ALIGN> {
public:
	/**
	 * IrqWork() - an idle item running @fn (init_irq_work())
	 * @fn: the function; runs in hard IRQ context and must not sleep
	 *
	 * Context: any.
	 */
	explicit IrqWork(Fn fn) : PortWork(fn) { keel_port_irq_work_init(m_storage, &trampoline); }
	/* The item must be idle when destroyed (sync() first). */
	~IrqWork() = default;

	/**
	 * queue() - run the item soon, in interrupt context (irq_work_queue())
	 *
	 * An item queued while it runs runs again afterwards.
	 *
	 * Context: any.
	 * Return: true when queued, false when it was already pending.
	 */
	bool queue() { return keel_port_irq_work_queue(m_storage) != 0; }
	/**
	 * sync() - wait until the item is neither pending nor running
	 * (irq_work_sync())
	 *
	 * Context: may sleep; never from the item itself.
	 */
	void sync() { keel_port_irq_work_sync(m_storage); }
};

} // namespace keel

#endif
