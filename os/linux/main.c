// SPDX-License-Identifier: GPL-2.0
/*
 * keel.ko: the framework and the driver core, for other modules to use.
 * Module init registers the default DMA device (see dma.c); the framework
 * itself needs no initialisation (every global is constinit).
 */
#include <linux/module.h>

#include "shim.h"

static int __init keel_init(void)
{
	return keel_linux_dma_init();
}

static void __exit keel_exit(void)
{
	keel_linux_framework_exit();
	keel_linux_dma_exit();
}

module_init(keel_init);
module_exit(keel_exit);
MODULE_DESCRIPTION("keel: C++ framework and driver core for the rpmsg/virtio stack");
MODULE_LICENSE("GPL");
