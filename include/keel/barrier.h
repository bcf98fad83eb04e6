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

/*
 * Each architecture names the instruction of each barrier; one set of
 * functions below uses them. Without a table (another architecture) the
 * barriers are the compiler's fences of the same strength.
 */
#if defined(__x86_64__) || defined(__i386__)
/* x86 is TSO: loads are not reordered with loads, stores not with stores. */
#define KEEL_ASM_MB "mfence"
#define KEEL_ASM_RMB "lfence"
#define KEEL_ASM_WMB "sfence"
#define KEEL_ASM_DMA_RMB ""
#define KEEL_ASM_DMA_WMB ""
/* Linux uses a locked add on the stack for smp_mb(): cheaper than mfence. */
#define KEEL_ASM_VIRT_MB "lock; addl $0,-4(%%rsp)"
#define KEEL_ASM_VIRT_RMB ""
#define KEEL_ASM_VIRT_WMB ""
#elif defined(__aarch64__)
#define KEEL_ASM_MB "dsb sy"
#define KEEL_ASM_RMB "dsb ld"
#define KEEL_ASM_WMB "dsb st"
#define KEEL_ASM_DMA_RMB "dmb oshld"
#define KEEL_ASM_DMA_WMB "dmb oshst"
#define KEEL_ASM_VIRT_MB "dmb osh"
#define KEEL_ASM_VIRT_RMB "dmb oshld"
#define KEEL_ASM_VIRT_WMB "dmb oshst"
#elif defined(__arm__)
#define KEEL_ASM_MB "dsb"
#define KEEL_ASM_RMB "dsb"
#define KEEL_ASM_WMB "dsb st"
#define KEEL_ASM_DMA_RMB "dmb osh"
#define KEEL_ASM_DMA_WMB "dmb oshst"
#define KEEL_ASM_VIRT_MB "dmb osh"
#define KEEL_ASM_VIRT_RMB "dmb osh"
#define KEEL_ASM_VIRT_WMB "dmb oshst"
#endif

#ifdef KEEL_ASM_MB
#define KEEL_BARRIER(insn, order) __asm__ __volatile__(insn ::: "memory", "cc")
#else
#define KEEL_BARRIER(insn, order) __atomic_thread_fence(order)
#endif

/**
 * mb() - a full barrier, also for MMIO (Linux mb())
 *
 * Orders all earlier loads and stores, to memory and to device registers,
 * before all later ones: what a doorbell register write after the ring
 * update needs when the doorbell is not a plain memory store.
 *
 * Context: any.
 */
__always_inline void mb()
{
	KEEL_BARRIER(KEEL_ASM_MB, __ATOMIC_SEQ_CST);
}
/**
 * rmb() - a read barrier, also for MMIO (Linux rmb())
 *
 * Orders earlier loads, from memory and device registers, before later
 * loads.
 *
 * Context: any.
 */
__always_inline void rmb()
{
	KEEL_BARRIER(KEEL_ASM_RMB, __ATOMIC_SEQ_CST);
}
/**
 * wmb() - a write barrier, also for MMIO (Linux wmb())
 *
 * Orders earlier stores, to memory and device registers, before later
 * stores.
 *
 * Context: any.
 */
__always_inline void wmb()
{
	KEEL_BARRIER(KEEL_ASM_WMB, __ATOMIC_SEQ_CST);
}
/**
 * dma_rmb() - order loads from coherent DMA memory (Linux dma_rmb())
 *
 * Between reading a descriptor's ownership flag written by a device and
 * reading the rest of the descriptor.
 *
 * Context: any.
 */
__always_inline void dma_rmb()
{
	KEEL_BARRIER(KEEL_ASM_DMA_RMB, __ATOMIC_ACQUIRE);
}
/**
 * dma_wmb() - order stores to coherent DMA memory (Linux dma_wmb())
 *
 * Between filling a descriptor and handing it to a device.
 *
 * Context: any.
 */
__always_inline void dma_wmb()
{
	KEEL_BARRIER(KEEL_ASM_DMA_WMB, __ATOMIC_RELEASE);
}
/**
 * virt_mb() - a full barrier against the peer of a shared ring (Linux virtio_mb())
 *
 * Between re-enabling notifications and re-checking the ring for work,
 * so that a peer's update in between is never missed.
 *
 * Context: any.
 */
__always_inline void virt_mb()
{
	KEEL_BARRIER(KEEL_ASM_VIRT_MB, __ATOMIC_SEQ_CST);
}
/**
 * virt_rmb() - a read barrier against the peer of a shared ring (Linux virtio_rmb())
 *
 * After reading an index the peer published (used->idx, avail->idx),
 * before reading the entries it covers.
 *
 * Context: any.
 */
__always_inline void virt_rmb()
{
	KEEL_BARRIER(KEEL_ASM_VIRT_RMB, __ATOMIC_ACQUIRE);
}
/**
 * virt_wmb() - a write barrier against the peer of a shared ring (Linux virtio_wmb())
 *
 * After writing entries, before publishing the index that hands them to
 * the peer.
 *
 * Context: any.
 */
__always_inline void virt_wmb()
{
	KEEL_BARRIER(KEEL_ASM_VIRT_WMB, __ATOMIC_RELEASE);
}

#undef KEEL_BARRIER
#undef KEEL_ASM_MB
#undef KEEL_ASM_RMB
#undef KEEL_ASM_WMB
#undef KEEL_ASM_DMA_RMB
#undef KEEL_ASM_DMA_WMB
#undef KEEL_ASM_VIRT_MB
#undef KEEL_ASM_VIRT_RMB
#undef KEEL_ASM_VIRT_WMB

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
/**
 * KEEL_TSAN_FENCE() - tell ThreadSanitizer about the barrier next to it
 * @o: the barrier's strength, an __ATOMIC_* order (virt_wmb(): RELEASE,
 *	virt_rmb(): ACQUIRE, virt_mb(): SEQ_CST)
 *
 * Nothing outside TSan builds. Put it next to each virt_*() barrier that
 * orders a hand-off between the two sides of a ring.
 *
 * Context: any.
 */
#define KEEL_TSAN_FENCE(o) ::keel::detail::tsan_fence(o)
#else
#define KEEL_TSAN_FENCE(o)                                                                         \
	do {                                                                                       \
	} while (0)
#endif

} // namespace keel

#endif
