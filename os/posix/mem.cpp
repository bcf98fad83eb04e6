// SPDX-License-Identifier: GPL-2.0
/*
 * Hosted memory: kmalloc on malloc, DMA-coherent memory on page-aligned
 * zeroed heap memory, cache maintenance hooks that only count, randomness.
 *
 * DMA addresses: the hosted port has no IOMMU and no device, so the "device
 * address" of a coherent buffer is its CPU address (unique while allocated,
 * never 0). Code that must translate between the two (vring descriptors
 * hold device addresses) is therefore exercised only where a transport
 * supplies its own address space (the shared-memory simulator does).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <keel/compiler.h>
#include <keel/new.h>
#include <keel/posix.h>

#include "posix_internal.h"

using namespace keel::posix;

namespace {

constexpr size_t DMA_ALIGN = 4096;

constinit unsigned long s_fail_nth;
/* Blocks handed out and not yet freed (kmalloc family and DMA-coherent). */
constinit long s_live_allocs;
constinit u64 s_random_seed;
constinit u64 s_random_seq;
thread_local constinit u64 t_random_state;

/* Fault injection: true if this allocation is the one chosen to fail. */
bool should_fail()
{
	unsigned long n = __atomic_load_n(&s_fail_nth, __ATOMIC_RELAXED);
	while (n != 0) {
		if (__atomic_compare_exchange_n(&s_fail_nth, &n, n - 1, false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return n == 1;
	}
	return false;
}

void check_gfp(unsigned int gfp, const char *what)
{
	if (!(gfp & KEEL_GFP_ATOMIC) && atomic_depth() > 0) [[unlikely]]
		warn_fmt(__FILE__, __LINE__, "%s with GFP_KERNEL in atomic context", what);
}

u64 splitmix64(u64 *x)
{
	u64 z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

} // namespace

extern "C" void *keel_port_kmalloc(__SIZE_TYPE__ size, unsigned int gfp)
{
	check_gfp(gfp, "kmalloc");
	if (should_fail())
		return nullptr;
	/* Linux returns a non-NULL ZERO_SIZE_PTR for 0 bytes: hand out a real, unique block. */
	if (size == 0)
		size = 1;
	void *p = (gfp & KEEL_GFP_ZERO) ? calloc(1, size) : malloc(size);
	if (p)
		__atomic_fetch_add(&s_live_allocs, 1, __ATOMIC_RELAXED);
	return p;
}

extern "C" void keel_port_kfree(const void *p)
{
	if (p)
		__atomic_fetch_sub(&s_live_allocs, 1, __ATOMIC_RELAXED);
	free(const_cast<void *>(p));
}

extern "C" long keel_posix_live_allocs(void)
{
	/* ThreadSanitizer's own global deletes free without keel_port_kfree(). */
	if (KEEL_TSAN)
		return -1;
	return __atomic_load_n(&s_live_allocs, __ATOMIC_RELAXED);
}

extern "C" void *keel_port_dma_alloc_coherent(void *os_dev, __SIZE_TYPE__ size, u64 *dma_handle,
					      unsigned int gfp)
{
	(void)os_dev;
	check_gfp(gfp, "dma_alloc_coherent");
	if (size == 0 || size > (__SIZE_TYPE__)1 << 40 || should_fail())
		return nullptr;
	size_t bytes = (size + DMA_ALIGN - 1) & ~(DMA_ALIGN - 1);
	void *p = aligned_alloc(DMA_ALIGN, bytes);
	if (!p)
		return nullptr;
	memset(p, 0, bytes);
	__atomic_fetch_add(&s_live_allocs, 1, __ATOMIC_RELAXED);
	*dma_handle = (u64)(keel::uintptr_t)p;
	return p;
}

extern "C" void keel_port_dma_free_coherent(void *os_dev, __SIZE_TYPE__ size, void *cpu,
					    u64 dma_handle)
{
	(void)os_dev;
	(void)size;
	if (cpu && dma_handle != (u64)(keel::uintptr_t)cpu) [[unlikely]]
		warn_fmt(__FILE__, __LINE__, "dma_free_coherent: handle 0x%llx does not match %p",
			 (unsigned long long)dma_handle, cpu);
	if (cpu)
		__atomic_fetch_sub(&s_live_allocs, 1, __ATOMIC_RELAXED);
	free(cpu);
}

/* Hosted processes share memory coherently: a mapping is the identity, syncs are counted. */
extern "C" int keel_port_dma_map(void *os_dev, void *cpu, __SIZE_TYPE__ size, u64 *dma_handle)
{
	(void)os_dev;
	(void)size;
	*dma_handle = (u64)(keel::uintptr_t)cpu;
	return 0;
}

extern "C" void keel_port_dma_unmap(void *os_dev, u64 dma_handle, __SIZE_TYPE__ size)
{
	(void)os_dev;
	(void)dma_handle;
	(void)size;
}

extern "C" void keel_port_dma_sync_for_device(void *os_dev, u64 dma_handle, __SIZE_TYPE__ off,
					      __SIZE_TYPE__ len)
{
	keel_port_cache_clean((const void *)(keel::uintptr_t)(dma_handle + off), len);
	(void)os_dev;
}

extern "C" void keel_port_dma_sync_for_cpu(void *os_dev, u64 dma_handle, __SIZE_TYPE__ off,
					   __SIZE_TYPE__ len)
{
	keel_port_cache_invalidate((const void *)(keel::uintptr_t)(dma_handle + off), len);
	(void)os_dev;
}

extern "C" int keel_port_dma_coherent(void *os_dev)
{
	(void)os_dev;
	return 1;
}

/* The hosted port's memory is coherent: no cache maintenance to do. */
extern "C" void keel_port_cache_clean(const void *addr, __SIZE_TYPE__ size)
{
	(void)addr;
	(void)size;
}

extern "C" void keel_port_cache_invalidate(const void *addr, __SIZE_TYPE__ size)
{
	(void)addr;
	(void)size;
}

extern "C" void keel_posix_fail_nth_alloc(unsigned long nth)
{
	__atomic_store_n(&s_fail_nth, nth, __ATOMIC_RELAXED);
}

extern "C" void keel_posix_random_seed(u64 seed)
{
	__atomic_store_n(&s_random_seed, seed | 1, __ATOMIC_RELAXED);
}

/* xorshift64* per thread, seeded from getrandom() or keel_posix_random_seed(). */
extern "C" u32 keel_port_get_random_u32(void)
{
	if (t_random_state == 0) {
		u64 seed = __atomic_load_n(&s_random_seed, __ATOMIC_RELAXED);
		if (seed) {
			/* Reproducible: threads draw distinct streams in creation order. */
			u64 x = seed + __atomic_fetch_add(&s_random_seq, 1, __ATOMIC_RELAXED);
			seed = splitmix64(&x);
		} else if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) {
			u64 x = (u64)now_ns() ^ (u64)(keel::uintptr_t)&t_random_state;
			seed = splitmix64(&x);
		}
		t_random_state = seed ? seed : 0x2545f4914f6cdd1dull;
	}
	u64 x = t_random_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t_random_state = x;
	return u32((x * 0x2545f4914f6cdd1dull) >> 32);
}
