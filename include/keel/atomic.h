/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Atomic<T>: integer atomics on the compiler's __atomic builtins, which GCC
 * and Clang lower to the same instructions the kernel's atomic_t uses. Only
 * for CPU-to-CPU state; memory shared with another processor is ordered with
 * the barriers of <keel/barrier.h>.
 */
#ifndef KEEL_ATOMIC_H
#define KEEL_ATOMIC_H

#include <keel/utility.h>

namespace keel {

enum class MemoryOrder : int {
	Relaxed = __ATOMIC_RELAXED,
	Acquire = __ATOMIC_ACQUIRE,
	Release = __ATOMIC_RELEASE,
	AcqRel = __ATOMIC_ACQ_REL,
	SeqCst = __ATOMIC_SEQ_CST,
};

template <typename T> class Atomic : NonMovable {
	static_assert(is_integral_v<T> || is_pointer_v<T> || is_enum_v<T>,
		      "Atomic<T>: scalar only");

public:
	constexpr Atomic() : m_v() {}
	constexpr explicit Atomic(T v) : m_v(v) {}

	T load(MemoryOrder o = MemoryOrder::SeqCst) const { return __atomic_load_n(&m_v, int(o)); }
	void store(T v, MemoryOrder o = MemoryOrder::SeqCst) { __atomic_store_n(&m_v, v, int(o)); }
	T exchange(T v, MemoryOrder o = MemoryOrder::SeqCst)
	{
		return __atomic_exchange_n(&m_v, v, int(o));
	}
	/* On failure @expected is updated with the current value. */
	bool compare_exchange(T &expected, T desired, MemoryOrder o = MemoryOrder::SeqCst)
	{
		return __atomic_compare_exchange_n(&m_v, &expected, desired, false, int(o),
						   failure_order(o));
	}
	T fetch_add(T d, MemoryOrder o = MemoryOrder::SeqCst)
	{
		return __atomic_fetch_add(&m_v, d, int(o));
	}
	T fetch_sub(T d, MemoryOrder o = MemoryOrder::SeqCst)
	{
		return __atomic_fetch_sub(&m_v, d, int(o));
	}
	T fetch_or(T d, MemoryOrder o = MemoryOrder::SeqCst)
	{
		return __atomic_fetch_or(&m_v, d, int(o));
	}
	T fetch_and(T d, MemoryOrder o = MemoryOrder::SeqCst)
	{
		return __atomic_fetch_and(&m_v, d, int(o));
	}
	T add_return(T d) { return __atomic_add_fetch(&m_v, d, __ATOMIC_SEQ_CST); }
	T sub_return(T d) { return __atomic_sub_fetch(&m_v, d, __ATOMIC_SEQ_CST); }

private:
	static constexpr int failure_order(MemoryOrder o)
	{
		switch (o) {
		case MemoryOrder::Relaxed:
		case MemoryOrder::Release:
			return __ATOMIC_RELAXED;
		case MemoryOrder::Acquire:
		case MemoryOrder::AcqRel:
			return __ATOMIC_ACQUIRE;
		default:
			return __ATOMIC_SEQ_CST;
		}
	}
	T m_v;
};

} // namespace keel

#endif
