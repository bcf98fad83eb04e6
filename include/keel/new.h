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
/*
 * Allocation context (Linux gfp_t). Every allocation names one: GFP_KERNEL
 * may sleep, GFP_ATOMIC may not (callbacks, spinlocks held).
 */
struct Gfp {
	unsigned int flags;
	constexpr Gfp operator|(Gfp o) const { return Gfp{ flags | o.flags }; }
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
inline void *operator new(__SIZE_TYPE__, void *p) noexcept
{
	return p;
}
inline void *operator new[](__SIZE_TYPE__, void *p) noexcept
{
	return p;
}
inline void operator delete(void *, void *) noexcept {}
#endif

/*
 * new (GFP_KERNEL) T(...): returns nullptr on failure (noexcept allocation
 * function, so no constructor runs on nullptr). Use keel::make_unique() or
 * keel::adopt_ref() rather than this directly.
 */
void *operator new(__SIZE_TYPE__ size, keel::Gfp gfp) noexcept;
void *operator new[](__SIZE_TYPE__ size, keel::Gfp gfp) noexcept;
void operator delete(void *p, keel::Gfp) noexcept;
void operator delete[](void *p, keel::Gfp) noexcept;

#endif
