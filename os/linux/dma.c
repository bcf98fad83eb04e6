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
 * Memory shared with a peer is either dma_alloc_coherent() memory (coherent
 * by construction: on a device that does not snoop, arm64's dma-direct
 * maps it non-cacheable), or cacheable memory mapped for streaming DMA
 * (keel_port_dma_map()) whose every ownership transfer is synced with the
 * kernel's own calls, dma_sync_single_range_for_device()/_for_cpu(): a
 * clean or an invalidate to the point of coherency on a non-coherent arm64
 * device, nothing on a coherent one (x86, or dma-coherent in the device
 * tree). The address-only hooks below serve regions that carry no mapping
 * (coherent memory): they are empty.
 */
#include <linux/dma-map-ops.h>
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

int keel_port_dma_map(void *os_dev, void *cpu, size_t size, keel_u64 *dma_handle)
{
	struct device *dev = os_dev ?: keel_dma_default_dev();
	dma_addr_t handle = dma_map_single(dev, cpu, size, DMA_BIDIRECTIONAL);

	if (dma_mapping_error(dev, handle))
		return -ENOMEM;
	*dma_handle = handle;
	return 0;
}

void keel_port_dma_unmap(void *os_dev, keel_u64 dma_handle, size_t size)
{
	dma_unmap_single(os_dev ?: keel_dma_default_dev(), dma_handle, size, DMA_BIDIRECTIONAL);
}

void keel_port_dma_sync_for_device(void *os_dev, keel_u64 dma_handle, size_t off, size_t len)
{
	dma_sync_single_range_for_device(os_dev ?: keel_dma_default_dev(), dma_handle, off, len,
					 DMA_BIDIRECTIONAL);
}

void keel_port_dma_sync_for_cpu(void *os_dev, keel_u64 dma_handle, size_t off, size_t len)
{
	dma_sync_single_range_for_cpu(os_dev ?: keel_dma_default_dev(), dma_handle, off, len,
				      DMA_BIDIRECTIONAL);
}

int keel_port_dma_coherent(void *os_dev)
{
	return dev_is_dma_coherent(os_dev ?: keel_dma_default_dev());
}

void keel_port_cache_clean(const void *addr, size_t size) {}

void keel_port_cache_invalidate(const void *addr, size_t size) {}
