// SPDX-License-Identifier: GPL-2.0
/*
 * rpmsg_loopback.ko: module glue and parameters for loopback.cpp, a
 * virtual remote processor in the same kernel.
 */
#include <linux/module.h>

static char *services = "rpmsg-client-sample";
module_param(services, charp, 0444);
MODULE_PARM_DESC(services, "services the remote offers: name[:driver],...");

static char *driver = "rpmsg_echo";
module_param(driver, charp, 0444);
MODULE_PARM_DESC(driver, "driver of the services that name none");

static unsigned int vring_num = 256;
module_param(vring_num, uint, 0444);
MODULE_PARM_DESC(vring_num, "entries of each vring (power of two, <= 4096): buffers each way");

static unsigned int buf_size = 512;
module_param(buf_size, uint, 0444);
MODULE_PARM_DESC(buf_size, "bytes per buffer, header included, both ways");

int rpmsg_loopback_module_init(const char *services, const char *driver, unsigned int vring_num,
			       unsigned int buf_size);
void rpmsg_loopback_module_exit(void);

static int __init rpmsg_loopback_init(void)
{
	return rpmsg_loopback_module_init(services, driver, vring_num, buf_size);
}

static void __exit rpmsg_loopback_exit(void)
{
	rpmsg_loopback_module_exit();
}

module_init(rpmsg_loopback_init);
module_exit(rpmsg_loopback_exit);
MODULE_DESCRIPTION("rpmsg: a virtual remote processor in the same kernel (keel)");
MODULE_LICENSE("GPL");
