// SPDX-License-Identifier: GPL-2.0
/*
 * rpmsg_echo.ko: module glue for echo.cpp (the remote's echo
 * service), built with KEEL_MODULE_GLUE.
 */
#include <linux/module.h>

int keel_module_init(void);
void keel_module_exit(void);

static int __init rpmsg_echo_init(void)
{
	return keel_module_init();
}

static void __exit rpmsg_echo_exit(void)
{
	keel_module_exit();
}

module_init(rpmsg_echo_init);
module_exit(rpmsg_echo_exit);
MODULE_DESCRIPTION("Remote processor messaging echo service (keel)");
MODULE_LICENSE("GPL");
