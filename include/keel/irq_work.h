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
#include <keel/utility.h>

namespace keel {

class IrqWork : NonMovable {
public:
	/* Context: hard IRQ (must not sleep). */
	using Fn = void (*)(IrqWork &);
	explicit IrqWork(Fn fn) : m_fn(fn) { keel_port_irq_work_init(m_storage, &trampoline); }
	/* The item must be idle when destroyed (sync() first). */
	~IrqWork() = default;

	/* Context: any. */
	bool queue() { return keel_port_irq_work_queue(m_storage) != 0; }
	/* Context: may sleep; not from the item itself. */
	void sync() { keel_port_irq_work_sync(m_storage); }

private:
	static void trampoline(void *storage)
	{
		/* SAFETY: the port passes back the storage registered in the constructor. */
		IrqWork *w = container_of(
			reinterpret_cast<unsigned char(*)[KEEL_IRQ_WORK_SIZE]>(storage),
			&IrqWork::m_storage);
		w->m_fn(*w);
	}
	alignas(KEEL_IRQ_WORK_ALIGN) unsigned char m_storage[KEEL_IRQ_WORK_SIZE];
	Fn m_fn;
};

} // namespace keel

#endif
