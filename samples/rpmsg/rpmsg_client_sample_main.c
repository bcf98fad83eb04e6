// SPDX-License-Identifier: GPL-2.0
/*
 * rpmsg_client_sample.ko: module glue for client_sample.cpp, built
 * with KEEL_MODULE_GLUE so that module_rpmsg_driver() provides the
 * init/exit functions called here.
 */
#include <linux/module.h>

int keel_module_init(void);
void keel_module_exit(void);

static int __init rpmsg_client_sample_init(void)
{
	return keel_module_init();
}

static void __exit rpmsg_client_sample_exit(void)
{
	keel_module_exit();
}

module_init(rpmsg_client_sample_init);
module_exit(rpmsg_client_sample_exit);
MODULE_ALIAS("rpmsg:rpmsg-client-sample");
MODULE_DESCRIPTION("Remote processor messaging sample client driver (keel)");
MODULE_LICENSE("GPL");
