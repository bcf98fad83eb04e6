/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DMA-coherent memory: a CPU address plus the address the device (the
 * remote processor) uses for the same bytes. Owned: freed on destruction.
 */
#ifndef KEEL_DMA_H
#define KEEL_DMA_H

#include <keel/error.h>
#include <keel/port.h>

namespace keel {

class DmaBuffer {
public:
	DmaBuffer() = default;
	DmaBuffer(DmaBuffer &&o)
	    : m_os_dev(o.m_os_dev), m_cpu(exchange(o.m_cpu, nullptr)), m_dma(o.m_dma),
	      m_size(exchange(o.m_size, 0))
	{
	}
	DmaBuffer &operator=(DmaBuffer &&o)
	{
		free();
		m_os_dev = o.m_os_dev;
		m_cpu = exchange(o.m_cpu, nullptr);
		m_dma = o.m_dma;
		m_size = exchange(o.m_size, 0);
		return *this;
	}
	~DmaBuffer() { free(); }

	/* dma_alloc_coherent(): zeroed memory. @os_dev: see keel_port_dma_alloc_coherent(). */
	static Result<DmaBuffer> alloc_coherent(void *os_dev, size_t size, Gfp gfp)
	{
		DmaBuffer b;
		u64 dma = 0;
		void *cpu = keel_port_dma_alloc_coherent(os_dev, size, &dma, gfp.flags);
		if (!cpu)
			return err(-ENOMEM);
		b.m_os_dev = os_dev;
		b.m_cpu = cpu;
		b.m_dma = dma;
		b.m_size = size;
		return b;
	}
	void free()
	{
		if (m_cpu)
			keel_port_dma_free_coherent(m_os_dev, m_size, m_cpu, m_dma);
		m_cpu = nullptr;
		m_size = 0;
	}
	void *cpu_addr() const { return m_cpu; }
	dma_addr_t dma_addr() const { return m_dma; }
	size_t size() const { return m_size; }

private:
	void *m_os_dev = nullptr;
	void *m_cpu = nullptr;
	dma_addr_t m_dma = 0;
	size_t m_size = 0;
};

/* Ownership transfers of non-coherent shared memory (no-ops when coherent). */
inline void cache_clean(const void *p, size_t n)
{
	keel_port_cache_clean(p, n);
}
inline void cache_invalidate(const void *p, size_t n)
{
	keel_port_cache_invalidate(p, n);
}

} // namespace keel

#endif
