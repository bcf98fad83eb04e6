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

/**
 * class DmaBuffer - owned DMA-coherent memory (Linux dma_alloc_coherent())
 *
 * A CPU address plus the address the device (the remote processor) uses
 * for the same bytes; freed when destroyed or free()d. Movable, not
 * copyable. An empty buffer holds nothing.
 */
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

	/**
	 * alloc_coherent() - allocate zeroed coherent memory (dma_alloc_coherent())
	 * @os_dev: the port's DMA-capable device, or nullptr where the port has
	 *	none (hosted): see keel_port_dma_alloc_coherent()
	 * @size: bytes wanted
	 * @gfp: the allocation context
	 *
	 * Context: may sleep with GFP_KERNEL.
	 * Return: the buffer, or -ENOMEM.
	 */
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
	/**
	 * free() - give the memory back now (dma_free_coherent()); empty afterwards
	 *
	 * The device must be done with it.
	 *
	 * Context: may sleep (Linux: not in interrupt context).
	 */
	void free()
	{
		if (m_cpu)
			keel_port_dma_free_coherent(m_os_dev, m_size, m_cpu, m_dma);
		m_cpu = nullptr;
		m_size = 0;
	}
	/**
	 * cpu_addr() - the CPU's address of the memory
	 *
	 * Context: any.
	 * Return: the address, or nullptr when empty.
	 */
	void *cpu_addr() const { return m_cpu; }
	/**
	 * dma_addr() - the device's address of the same memory
	 *
	 * Context: any.
	 * Return: the address.
	 */
	dma_addr_t dma_addr() const { return m_dma; }
	/**
	 * size() - bytes of the buffer
	 *
	 * Context: any.
	 * Return: the size, 0 when empty.
	 */
	size_t size() const { return m_size; }

private:
	void *m_os_dev = nullptr;
	void *m_cpu = nullptr;
	dma_addr_t m_dma = 0;
	size_t m_size = 0;
};

/**
 * cache_clean() - write @n bytes at @p back to memory, for the peer to read
 * @p: the range's start
 * @n: its length
 *
 * Before handing a range of non-coherent shared memory over; nothing on a
 * coherent port.
 *
 * Context: any.
 */
inline void cache_clean(const void *p, size_t n)
{
	keel_port_cache_clean(p, n);
}
/**
 * cache_invalidate() - drop stale cached copies of @n bytes at @p
 * @p: the range's start
 * @n: its length
 *
 * Before reading what the peer wrote into non-coherent shared memory;
 * nothing on a coherent port.
 *
 * Context: any.
 */
inline void cache_invalidate(const void *p, size_t n)
{
	keel_port_cache_invalidate(p, n);
}

} // namespace keel

#endif
