/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Cacheable memory shared with a peer that may not snoop the CPU's caches
 * (a Cortex-M/R remote beside Cortex-A cores, a non-coherent interconnect):
 * a streaming DMA mapping of the whole region, and cache maintenance at
 * each ownership transfer through the port's DMA sync calls (Linux:
 * dma_sync_single_range_for_device() cleans, _for_cpu() invalidates; both
 * do nothing for a coherent device).
 *
 *	auto s = TRY(DmaStream::map(os_dev, mem, size, GFP_KERNEL));
 *	ShmRegion region = ShmRegion(mem, size, s->dma_addr()).with_cache_ops(&s->cache_ops());
 *
 * Every access ShmRegion makes on behalf of the peer (peer_read(),
 * peer_write(), clean(), invalidate(), and what the rings and the transport
 * build on them) then maintains exactly the bytes it hands over or takes
 * back. Documentation/kernel-port.rst, "Memory model", says which memory
 * each platform shares and whether it needs this.
 */
#ifndef KEEL_DMA_STREAM_H
#define KEEL_DMA_STREAM_H

#include <keel/alloc.h>
#include <keel/atomic.h>
#include <keel/error.h>
#include <keel/log.h>
#include <keel/port.h>
#include <keel/shm.h>

namespace keel {

/**
 * class DmaStream - a streaming DMA mapping with the ShmCacheOps that sync it
 *
 * Invariants: the mapping covers [cpu, cpu + size) for the object's whole
 * life; the ops' ctx is this object, so it must outlive every region that
 * uses them.
 */
class DmaStream : NonMovable {
public:
	/**
	 * map() - map @size bytes at @cpu for streaming DMA to @os_dev
	 * @os_dev: the port's DMA device (NULL: the port's default one)
	 * @cpu: the memory, mappable by the port (Linux: the linear map)
	 * @size: its size
	 * @gfp: for the object itself
	 *
	 * Context: may sleep.
	 * Return: the mapping, -ENOMEM when it or the mapping cannot be made.
	 */
	static Result<UniquePtr<DmaStream>> map(void *os_dev, void *cpu, size_t size, Gfp gfp)
	{
		UniquePtr<DmaStream> s = TRY(make_unique<DmaStream>(gfp, os_dev, cpu, size));
		int r = keel_port_dma_map(os_dev, cpu, size, &s->m_dma);
		if (r)
			return err(r);
		s->m_mapped = true;
		return s;
	}
	/**
	 * DmaStream() - the object map() makes, not yet mapped
	 * @os_dev: the port's DMA device
	 * @cpu: the memory
	 * @size: its size
	 *
	 * Public for make_unique(); use map().
	 *
	 * Context: any.
	 */
	DmaStream(void *os_dev, void *cpu, size_t size)
	    : m_os_dev(os_dev), m_cpu(static_cast<u8 *>(cpu)), m_size(size)
	{
	}
	~DmaStream()
	{
		if (m_mapped)
			keel_port_dma_unmap(m_os_dev, m_dma, m_size);
	}

	/**
	 * dma_addr() - the device address of the first byte
	 *
	 * Context: any.
	 * Return: the address.
	 */
	dma_addr_t dma_addr() const { return m_dma; }
	/**
	 * cache_ops() - the ops that sync this mapping, for ShmRegion::with_cache_ops()
	 *
	 * Context: any.
	 * Return: the ops (their ctx is this object).
	 */
	const ShmCacheOps &cache_ops() const { return m_ops; }
	/**
	 * coherent() - does the device snoop the CPU's caches?
	 *
	 * Context: any.
	 * Return: true when the syncs are no-ops.
	 */
	bool coherent() const { return keel_port_dma_coherent(m_os_dev) != 0; }
	/**
	 * cleans() - ranges synced for the device (cleaned) so far
	 *
	 * Context: any.
	 * Return: the count (for tests and statistics).
	 */
	u64 cleans() const { return m_cleans.load(MemoryOrder::Relaxed); }
	/**
	 * invalidates() - ranges synced for the CPU (invalidated) so far
	 *
	 * Context: any.
	 * Return: the count.
	 */
	u64 invalidates() const { return m_invalidates.load(MemoryOrder::Relaxed); }

private:
	static void clean(void *ctx, const void *p, size_t len)
	{
		DmaStream *s = static_cast<DmaStream *>(ctx);
		s->m_cleans.fetch_add(1, MemoryOrder::Relaxed);
		if (s->mapped(p, len))
			keel_port_dma_sync_for_device(s->m_os_dev, s->m_dma, s->offset(p), len);
	}
	static void invalidate(void *ctx, const void *p, size_t len)
	{
		DmaStream *s = static_cast<DmaStream *>(ctx);
		s->m_invalidates.fetch_add(1, MemoryOrder::Relaxed);
		if (s->mapped(p, len))
			keel_port_dma_sync_for_cpu(s->m_os_dev, s->m_dma, s->offset(p), len);
	}
	size_t offset(const void *p) const { return size_t(static_cast<const u8 *>(p) - m_cpu); }
	/*
	 * ShmRegion passes only ranges inside itself; a region larger than its
	 * mapping is a caller's bug, reported once (a sync past the mapping
	 * would maintain memory the device does not own).
	 */
	bool mapped(const void *p, size_t len) const
	{
		const u8 *b = static_cast<const u8 *>(p);
		return !WARN_ON_ONCE(b < m_cpu || !range_fits(m_size, size_t(b - m_cpu), len));
	}

	void *m_os_dev;
	u8 *m_cpu;
	size_t m_size;
	dma_addr_t m_dma = 0;
	bool m_mapped = false;
	const ShmCacheOps m_ops{ &DmaStream::clean, &DmaStream::invalidate, this };
	Atomic<u64> m_cleans{ 0 };
	Atomic<u64> m_invalidates{ 0 };
};

} // namespace keel

#endif
