/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Barriers of DMA strength, for memory shared with another processor (a
 * remote core, a device). Named as Linux names them:
 *  - virt_mb/virt_rmb/virt_wmb: order accesses to a shared ring against the
 *    other processor (Linux's virtio_mb() with weak_barriers, i.e. the
 *    smp_* barriers, made outer-shareable on arm64 since the peer may sit
 *    outside the inner-shareable domain).
 *  - dma_rmb/dma_wmb: order accesses to coherent DMA memory.
 *  - mb/rmb/wmb: full barriers, also ordering MMIO (doorbell registers).
 * Each use carries a comment saying what it orders.
 */
#ifndef KEEL_BARRIER_H
#define KEEL_BARRIER_H

#include <keel/compiler.h>

namespace keel {

#if defined(__x86_64__) || defined(__i386__)
/* x86 is TSO: loads are not reordered with loads, stores not with stores. */
__always_inline void mb()
{
	__asm__ __volatile__("mfence" ::: "memory");
}
__always_inline void rmb()
{
	__asm__ __volatile__("lfence" ::: "memory");
}
__always_inline void wmb()
{
	__asm__ __volatile__("sfence" ::: "memory");
}
__always_inline void dma_rmb()
{
	barrier();
}
__always_inline void dma_wmb()
{
	barrier();
}
/* Linux uses a locked add on the stack for smp_mb(): cheaper than mfence. */
__always_inline void virt_mb()
{
	__asm__ __volatile__("lock; addl $0,-4(%%rsp)" ::: "memory", "cc");
}
__always_inline void virt_rmb()
{
	barrier();
}
__always_inline void virt_wmb()
{
	barrier();
}
#elif defined(__aarch64__)
__always_inline void mb()
{
	__asm__ __volatile__("dsb sy" ::: "memory");
}
__always_inline void rmb()
{
	__asm__ __volatile__("dsb ld" ::: "memory");
}
__always_inline void wmb()
{
	__asm__ __volatile__("dsb st" ::: "memory");
}
__always_inline void dma_rmb()
{
	__asm__ __volatile__("dmb oshld" ::: "memory");
}
__always_inline void dma_wmb()
{
	__asm__ __volatile__("dmb oshst" ::: "memory");
}
__always_inline void virt_mb()
{
	__asm__ __volatile__("dmb osh" ::: "memory");
}
__always_inline void virt_rmb()
{
	__asm__ __volatile__("dmb oshld" ::: "memory");
}
__always_inline void virt_wmb()
{
	__asm__ __volatile__("dmb oshst" ::: "memory");
}
#elif defined(__arm__)
__always_inline void mb()
{
	__asm__ __volatile__("dsb" ::: "memory");
}
__always_inline void rmb()
{
	__asm__ __volatile__("dsb" ::: "memory");
}
__always_inline void wmb()
{
	__asm__ __volatile__("dsb st" ::: "memory");
}
__always_inline void dma_rmb()
{
	__asm__ __volatile__("dmb osh" ::: "memory");
}
__always_inline void dma_wmb()
{
	__asm__ __volatile__("dmb oshst" ::: "memory");
}
__always_inline void virt_mb()
{
	__asm__ __volatile__("dmb osh" ::: "memory");
}
__always_inline void virt_rmb()
{
	__asm__ __volatile__("dmb osh" ::: "memory");
}
__always_inline void virt_wmb()
{
	__asm__ __volatile__("dmb oshst" ::: "memory");
}
#else
__always_inline void mb()
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
__always_inline void rmb()
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
__always_inline void wmb()
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
__always_inline void dma_rmb()
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
}
__always_inline void dma_wmb()
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
}
__always_inline void virt_mb()
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
__always_inline void virt_rmb()
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
}
__always_inline void virt_wmb()
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
}
#endif

/*
 * ThreadSanitizer understands neither inline-asm fences nor standalone C++
 * fences (clang 14 ignores __atomic_thread_fence: a release fence, a
 * relaxed flag store, a relaxed load and an acquire fence still report the
 * data they order as a race). In TSan builds the same points therefore
 * release and acquire one synchronisation object through TSan's interface:
 * every acquire point sees what was written before any release point. That
 * is stronger than the fences (it can hide a race between two fenced
 * paths) but never reports a correctly fenced hand-off, such as a ring's
 * payload and descriptors published before its index. The asm is kept: it
 * is what ships.
 */
#if KEEL_TSAN
extern "C" void __tsan_acquire(void *addr);
extern "C" void __tsan_release(void *addr);
namespace detail {
inline char tsan_fence_sync;
__always_inline void tsan_fence(int order)
{
	if (order == __ATOMIC_ACQUIRE || order == __ATOMIC_ACQ_REL || order == __ATOMIC_SEQ_CST)
		__tsan_acquire(&tsan_fence_sync);
	if (order == __ATOMIC_RELEASE || order == __ATOMIC_ACQ_REL || order == __ATOMIC_SEQ_CST)
		__tsan_release(&tsan_fence_sync);
}
} // namespace detail
#define KEEL_TSAN_FENCE(o) ::keel::detail::tsan_fence(o)
#else
#define KEEL_TSAN_FENCE(o)                                                                         \
	do {                                                                                       \
	} while (0)
#endif

} // namespace keel

#endif
