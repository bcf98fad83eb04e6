// SPDX-License-Identifier: GPL-2.0
/*
 * Linux port: DMA-coherent memory and cache maintenance.
 *
 * os_dev is a struct device with a DMA mask (a remoteproc's parent, a PCI
 * device). NULL means keel's own "keel-dma" platform device (64-bit mask),
 * registered when keel.ko loads (PLATFORM_DEVID_AUTO: "keel-dma.N"): the
 * buffer is then ordinary dma-direct memory whose DMA address is its physical address, which is
 * what a peer sharing the machine's memory expects (and what Linux's virtio_rpmsg_bus gets from its
 * parent device).
 *
 * Cache hooks: dma_alloc_coherent() memory needs no maintenance, and x86 is
 * cache-coherent for all DMA, so both hooks are empty. A port for a
 * non-coherent arm64 remote would map them onto streaming DMA sync calls.
 */
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/platform_device.h>

#include "shim.h"

static struct platform_device *keel_dma_pdev;

struct device *keel_dma_default_dev(void)
{
	return keel_dma_pdev ? &keel_dma_pdev->dev : NULL;
}

int keel_linux_dma_init(void)
{
	struct platform_device *pdev;
	int ret;

	pdev = platform_device_register_simple("keel-dma", PLATFORM_DEVID_AUTO, NULL, 0);
	if (IS_ERR(pdev))
		return PTR_ERR(pdev);
	ret = dma_coerce_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret) {
		platform_device_unregister(pdev);
		return ret;
	}
	keel_dma_pdev = pdev;
	return 0;
}

void keel_linux_dma_exit(void)
{
	platform_device_unregister(keel_dma_pdev);
	keel_dma_pdev = NULL;
}

void *keel_port_dma_alloc_coherent(void *os_dev, size_t size, keel_u64 *dma_handle,
				   unsigned int gfp)
{
	dma_addr_t handle = 0;
	void *cpu = dma_alloc_coherent(os_dev ?: keel_dma_default_dev(), size, &handle,
				       keel_linux_gfp(gfp));

	*dma_handle = handle;
	return cpu;
}

void keel_port_dma_free_coherent(void *os_dev, size_t size, void *cpu, keel_u64 dma_handle)
{
	dma_free_coherent(os_dev ?: keel_dma_default_dev(), size, cpu, dma_handle);
}

void keel_port_cache_clean(const void *addr, size_t size)
{
}

void keel_port_cache_invalidate(const void *addr, size_t size)
{
}
