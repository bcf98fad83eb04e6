// SPDX-License-Identifier: GPL-2.0
/*
 * rpmsg_minimal.ko: module glue for minimal.cpp (built with
 * KEEL_MODULE_GLUE, so module_rpmsg_driver() provides these two).
 */
#include <linux/module.h>

int keel_module_init(void);
void keel_module_exit(void);

static int __init rpmsg_minimal_init(void)
{
	return keel_module_init();
}

static void __exit rpmsg_minimal_exit(void)
{
	keel_module_exit();
}

module_init(rpmsg_minimal_init);
module_exit(rpmsg_minimal_exit);
MODULE_ALIAS("rpmsg:rpmsg-minimal");
MODULE_DESCRIPTION("A minimal rpmsg client driver (keel)");
MODULE_LICENSE("GPL");
