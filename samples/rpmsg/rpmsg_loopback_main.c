// SPDX-License-Identifier: GPL-2.0
/*
 * rpmsg_loopback.ko: module glue and parameters for loopback.cpp, a
 * virtual remote processor in the same kernel.
 *
 * Crash injection, as remoteproc's debugfs offers it, in
 * /sys/kernel/debug/rpmsg_loopback/:
 *  - crash: any write crashes the remote (the link is cut, the host's
 *    channels go), then recovers it unless recovery is disabled;
 *  - recovery: reads "enabled" or "disabled"; takes "enabled",
 *    "disabled" or "recover" (boot a crashed remote now).
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/string.h>
#include <linux/uaccess.h>

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
void rpmsg_loopback_module_crash(void);
int rpmsg_loopback_module_recover(void);

/* Serialises crash and recovery (the loopback's calls must be). */
static DEFINE_MUTEX(rpmsg_loopback_lock);
static bool recovery_disabled;
static struct dentry *rpmsg_loopback_dir;

/* Runs @op under the lock: a write's result is @count or @op's error. */
static ssize_t run_locked(int (*op)(void), size_t count)
{
	int ret;

	mutex_lock(&rpmsg_loopback_lock);
	ret = op();
	mutex_unlock(&rpmsg_loopback_lock);
	return ret ? (ssize_t)ret : (ssize_t)count;
}

static int crash_op(void)
{
	rpmsg_loopback_module_crash();
	return recovery_disabled ? 0 : rpmsg_loopback_module_recover();
}

static int enable_op(void)
{
	WRITE_ONCE(recovery_disabled, false);
	return 0;
}

static int disable_op(void)
{
	WRITE_ONCE(recovery_disabled, true);
	return 0;
}

static ssize_t crash_write(struct file *file, const char __user *buf, size_t count, loff_t *ppos)
{
	return run_locked(crash_op, count);
}

static const struct file_operations crash_fops = {
	.write = crash_write,
	.open = simple_open,
	.llseek = generic_file_llseek,
};

static ssize_t recovery_read(struct file *file, char __user *ubuf, size_t count, loff_t *ppos)
{
	const char *s = READ_ONCE(recovery_disabled) ? "disabled\n" : "enabled\n";

	return simple_read_from_buffer(ubuf, count, ppos, s, strlen(s));
}

static ssize_t recovery_write(struct file *file, const char __user *ubuf, size_t count,
			      loff_t *ppos)
{
	char buf[16];

	if (count < 1 || count > sizeof(buf) - 1)
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	if (buf[count - 1] == '\n')
		buf[count - 1] = '\0';
	if (!strcmp(buf, "enabled"))
		return run_locked(enable_op, count);
	if (!strcmp(buf, "disabled"))
		return run_locked(disable_op, count);
	if (!strcmp(buf, "recover"))
		return run_locked(rpmsg_loopback_module_recover, count);
	return -EINVAL;
}

static const struct file_operations recovery_fops = {
	.read = recovery_read,
	.write = recovery_write,
	.open = simple_open,
	.llseek = generic_file_llseek,
};

static int __init rpmsg_loopback_init(void)
{
	int ret = rpmsg_loopback_module_init(services, driver, vring_num, buf_size);

	if (ret)
		return ret;
	/* Optional, as debugfs is: the remote runs without it. */
	rpmsg_loopback_dir = debugfs_create_dir("rpmsg_loopback", NULL);
	debugfs_create_file("crash", 0200, rpmsg_loopback_dir, NULL, &crash_fops);
	debugfs_create_file("recovery", 0600, rpmsg_loopback_dir, NULL, &recovery_fops);
	return 0;
}

static void __exit rpmsg_loopback_exit(void)
{
	/* Waits for the handlers running: none runs after it. */
	debugfs_remove_recursive(rpmsg_loopback_dir);
	rpmsg_loopback_module_exit();
}

module_init(rpmsg_loopback_init);
module_exit(rpmsg_loopback_exit);
MODULE_DESCRIPTION("rpmsg: a virtual remote processor in the same kernel (keel)");
MODULE_LICENSE("GPL");
