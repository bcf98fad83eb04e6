/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PortWork: what Work, DelayedWork and IrqWork share. Each holds an opaque
 * object of the port (a work_struct, a delayed_work, an irq_work) as aligned
 * bytes, and the function to run; the port calls one trampoline back with
 * those bytes, which finds the item again and runs its function.
 */
#ifndef KEEL_PORT_WORK_H
#define KEEL_PORT_WORK_H

#include <keel/compiler.h>
#include <keel/utility.h>

namespace keel {

/**
 * class PortWork - an item whose port object calls back into C++
 * @Fn: the item's function, called with the item itself, in the context
 *	of the item type (process context for Work and DelayedWork, hard
 *	interrupt for IrqWork)
 *
 * The base of a work item type @T (CRTP) whose port object takes @Size
 * bytes aligned to @Align (the sizes of <keel/port_types.h>). @T's
 * constructor hands m_storage and trampoline() to the port's init call;
 * when the port runs the item, trampoline() calls the item's function with
 * the item.
 *
 * Invariants: m_storage is registered with the port for the item's whole
 * life, so the port never calls back with storage that is not a @T's.
 */
template <typename T, size_t Size, size_t Align> class PortWork : NonMovable {
public:
	using Fn = void (*)(T &);

protected:
	explicit PortWork(Fn fn) : m_fn(fn) {}

	static void trampoline(void *storage)
	{
		/* SAFETY: the port passes back the storage registered by T's constructor. */
		PortWork *self = container_of(static_cast<unsigned char(*)[Size]>(storage),
					      &PortWork::m_storage);
		self->m_fn(static_cast<T &>(*self));
	}

	alignas(Align) unsigned char m_storage[Size];

private:
	Fn m_fn;
};

} // namespace keel

#endif
