// SPDX-License-Identifier: GPL-2.0
/*
 * keel_sample_client.ko: module glue for sample_client.cpp, a client of
 * keel.ko's exported C++ API (bus, driver, device, work item).
 */
#include <linux/module.h>

int keel_sample_init(void);
void keel_sample_exit(void);

static int __init keel_sample_client_init(void)
{
	return keel_sample_init();
}

static void __exit keel_sample_client_exit(void)
{
	keel_sample_exit();
}

module_init(keel_sample_client_init);
module_exit(keel_sample_client_exit);
MODULE_DESCRIPTION("keel: sample client module (bus, driver and device through keel.ko)");
MODULE_LICENSE("GPL");
