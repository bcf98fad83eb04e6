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

/**
 * enum MemoryOrder - the ordering an atomic operation gives (C++'s
 * memory_order, the compiler's __ATOMIC_* values)
 * @Relaxed: atomicity only, no ordering (Linux atomic_read()/_relaxed)
 * @Acquire: later accesses stay after it (Linux _acquire)
 * @Release: earlier accesses stay before it (Linux _release)
 * @AcqRel: both, for read-modify-write operations
 * @SeqCst: one total order of all SeqCst operations (Linux's value-returning
 *	atomics with their full barriers)
 */
enum class MemoryOrder : int {
	Relaxed = __ATOMIC_RELAXED,
	Acquire = __ATOMIC_ACQUIRE,
	Release = __ATOMIC_RELEASE,
	AcqRel = __ATOMIC_ACQ_REL,
	SeqCst = __ATOMIC_SEQ_CST,
};

/**
 * class Atomic - an atomic integer, pointer or enum (Linux atomic_t & co.)
 *
 * Every operation is atomic against every other on the same object; the
 * MemoryOrder argument (sequentially consistent by default) says what it
 * orders around it. Not copyable or movable: it is shared by address.
 *
 * Context: every operation, any context (none sleeps).
 */
template <typename T> class Atomic : NonMovable {
	static_assert(is_integral_v<T> || is_pointer_v<T> || is_enum_v<T>,
		      "Atomic<T>: scalar only");

public:
	/**
	 * Atomic() - a zero (or null) value
	 *
	 * Context: any (constexpr: usable in constinit objects).
	 */
	constexpr Atomic() : m_v() {}
	/**
	 * Atomic() - an initial value
	 * @v: the value
	 *
	 * Context: any (constexpr).
	 */
	constexpr explicit Atomic(T v) : m_v(v) {}

	/**
	 * load() - read the value
	 * @o: ordering (Relaxed, Acquire or SeqCst)
	 *
	 * Context: any.
	 * Return: the value.
	 */
	T load(MemoryOrder o = MemoryOrder::SeqCst) const { return __atomic_load_n(&m_v, int(o)); }
	/**
	 * store() - write the value
	 * @v: the new value
	 * @o: ordering (Relaxed, Release or SeqCst)
	 *
	 * Context: any.
	 */
	void store(T v, MemoryOrder o = MemoryOrder::SeqCst) { __atomic_store_n(&m_v, v, int(o)); }
	/**
	 * exchange() - write @v and return what it replaced (Linux xchg())
	 * @v: the new value
	 * @o: ordering
	 *
	 * Context: any.
	 * Return: the previous value.
	 */
	T exchange(T v, MemoryOrder o = MemoryOrder::SeqCst)
	{
		return __atomic_exchange_n(&m_v, v, int(o));
	}
	/**
	 * compare_exchange() - write @desired if the value is @expected (Linux
	 * try_cmpxchg())
	 * @expected: the value hoped for; on failure, updated to the current one
	 * @desired: the value to write
	 * @o: ordering on success; a failure orders as the load part of @o
	 *
	 * Never fails spuriously (the strong form).
	 *
	 * Context: any.
	 * Return: true when the value was @expected and is now @desired.
	 */
	bool compare_exchange(T &expected, T desired, MemoryOrder o = MemoryOrder::SeqCst)
	{
		return __atomic_compare_exchange_n(&m_v, &expected, desired, false, int(o),
						   failure_order(o));
	}
	/**
	 * inc_unless_set() - add one unless a bit of @mask is set
	 * @mask: the bits that forbid it (a usage count whose top bit says
	 *	"going away": Linux's atomic_add_unless() and
	 *	percpu_ref_tryget_live() for such a count)
	 *
	 * Orders as an acquire on success: what the one who cleared the bits
	 * published is seen.
	 *
	 * Context: any.
	 * Return: true when one was added, false when a bit of @mask was set.
	 */
	bool inc_unless_set(T mask)
	{
		T v = load(MemoryOrder::Relaxed);
		do {
			if (v & mask)
				return false;
		} while (!compare_exchange(v, v + 1, MemoryOrder::Acquire));
		return true;
	}
	/**
	 * fetch_add() - add @d (Linux atomic_fetch_add())
	 * @d: the addend (wraps around for unsigned types)
	 * @o: ordering
	 *
	 * Context: any.
	 * Return: the value before the addition.
	 */
	T fetch_add(T d, MemoryOrder o = MemoryOrder::SeqCst)
	{
		return __atomic_fetch_add(&m_v, d, int(o));
	}
	/**
	 * fetch_sub() - subtract @d (Linux atomic_fetch_sub())
	 * @d: the amount
	 * @o: ordering
	 *
	 * Context: any.
	 * Return: the value before the subtraction.
	 */
	T fetch_sub(T d, MemoryOrder o = MemoryOrder::SeqCst)
	{
		return __atomic_fetch_sub(&m_v, d, int(o));
	}
	/**
	 * fetch_or() - set the bits of @d (Linux atomic_fetch_or())
	 * @d: the bits
	 * @o: ordering
	 *
	 * Context: any.
	 * Return: the value before.
	 */
	T fetch_or(T d, MemoryOrder o = MemoryOrder::SeqCst)
	{
		return __atomic_fetch_or(&m_v, d, int(o));
	}
	/**
	 * fetch_and() - keep only the bits of @d (Linux atomic_fetch_and())
	 * @d: the mask
	 * @o: ordering
	 *
	 * Context: any.
	 * Return: the value before.
	 */
	T fetch_and(T d, MemoryOrder o = MemoryOrder::SeqCst)
	{
		return __atomic_fetch_and(&m_v, d, int(o));
	}
	/**
	 * add_return() - add @d, fully ordered (Linux atomic_add_return())
	 * @d: the addend
	 *
	 * Context: any.
	 * Return: the value after the addition.
	 */
	T add_return(T d) { return __atomic_add_fetch(&m_v, d, __ATOMIC_SEQ_CST); }
	/**
	 * sub_return() - subtract @d, fully ordered (Linux atomic_sub_return())
	 * @d: the amount
	 *
	 * Context: any.
	 * Return: the value after the subtraction.
	 */
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
