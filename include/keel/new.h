/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Placement new and the framework's allocating new. There is no <new> in
 * kernel builds; the hosted port includes none either, so that the same
 * declarations are used everywhere.
 */
#ifndef KEEL_NEW_H
#define KEEL_NEW_H

#include <keel/port.h>
#include <keel/types.h>

namespace keel {
/**
 * struct Gfp - an allocation's context (Linux gfp_t)
 * @flags: the KEEL_GFP_* bits of <keel/port.h>
 *
 * Every allocation names one: GFP_KERNEL may sleep, GFP_ATOMIC may not
 * (callbacks, spinlocks held); __GFP_ZERO zeroes the memory and
 * __GFP_NOWARN keeps a failure quiet. A type of its own, so that an
 * allocation cannot be passed a stray integer.
 */
struct Gfp {
	unsigned int flags;
	/**
	 * operator|() - both sets of flags (GFP_KERNEL | __GFP_ZERO)
	 * @o: the other flags
	 *
	 * Context: any (constexpr).
	 * Return: the union.
	 */
	constexpr Gfp operator|(Gfp o) const { return Gfp{ flags | o.flags }; }
	/**
	 * has() - are all of @o's flags set?
	 * @o: the flags to test
	 *
	 * Context: any (constexpr).
	 * Return: true when every flag of @o is in this one.
	 */
	constexpr bool has(Gfp o) const { return (flags & o.flags) == o.flags; }
};
} // namespace keel

inline constexpr keel::Gfp GFP_KERNEL{ KEEL_GFP_KERNEL };
inline constexpr keel::Gfp GFP_ATOMIC{ KEEL_GFP_ATOMIC };
inline constexpr keel::Gfp __GFP_ZERO{ KEEL_GFP_ZERO };
inline constexpr keel::Gfp __GFP_NOWARN{ KEEL_GFP_NOWARN };

/*
 * Guarded against a second definition: a hosted translation unit may already
 * see libstdc++'s <new> through a C++ header of the toolchain.
 */
#if !defined(_NEW) && !defined(__NEW__) && !defined(KEEL_HAVE_PLACEMENT_NEW)
#define KEEL_HAVE_PLACEMENT_NEW
/**
 * operator new() - placement new: construct an object at @p
 * @p: suitably sized and aligned storage
 *
 * Context: any.
 * Return: @p.
 */
inline void *operator new(__SIZE_TYPE__, void *p) noexcept
{
	return p;
}
/**
 * operator new[]() - placement new of an array at @p
 * @p: suitably sized and aligned storage
 *
 * Context: any.
 * Return: @p.
 */
inline void *operator new[](__SIZE_TYPE__, void *p) noexcept
{
	return p;
}
/**
 * operator delete() - placement delete: nothing to free
 *
 * Only called by the compiler when a constructor run by placement new
 * throws, which never happens here (-fno-exceptions).
 *
 * Context: any.
 */
inline void operator delete(void *, void *) noexcept {}
#endif

/**
 * operator new() - allocate an object: new (GFP_KERNEL) T(...)
 * @size: bytes of the object
 * @gfp: the allocation context
 *
 * A noexcept allocation function: on failure it returns nullptr and the
 * constructor does not run. Use keel::make_unique() or keel::adopt_ref()
 * rather than this directly; they turn nullptr into -ENOMEM. The object is
 * freed with plain delete (kfree() underneath).
 *
 * Context: may sleep with GFP_KERNEL; any with GFP_ATOMIC.
 * Return: the memory, or nullptr.
 */
void *operator new(__SIZE_TYPE__ size, keel::Gfp gfp) noexcept;
/**
 * operator new[]() - allocate an array: new (GFP_KERNEL) T[n]
 * @size: bytes of the array
 * @gfp: the allocation context
 *
 * As operator new(); freed with delete[].
 *
 * Context: may sleep with GFP_KERNEL; any with GFP_ATOMIC.
 * Return: the memory, or nullptr.
 */
void *operator new[](__SIZE_TYPE__ size, keel::Gfp gfp) noexcept;
/**
 * operator delete() - free what operator new(size, gfp) returned
 * @p: the memory
 *
 * The matching deallocation function, which the compiler calls if a
 * constructor run by new (gfp) does not complete.
 *
 * Context: any.
 */
void operator delete(void *p, keel::Gfp) noexcept;
/**
 * operator delete[]() - free what operator new[](size, gfp) returned
 * @p: the memory
 *
 * Context: any.
 */
void operator delete[](void *p, keel::Gfp) noexcept;

#endif
