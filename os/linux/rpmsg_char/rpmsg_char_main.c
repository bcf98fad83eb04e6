// SPDX-License-Identifier: GPL-2.0
/*
 * keel_rpmsg_char.ko, C half: the rpmsg character devices of keel's links
 * as Linux shows its own (drivers/rpmsg/rpmsg_ctrl.c, rpmsg_char.c):
 * /dev/rpmsg_ctrlN per link, /dev/rpmsgN per endpoint node, a class
 * device per node with its attributes, and a device per channel on a bus
 * of our own (what Linux has under /sys/bus/rpmsg/devices). What each
 * operation does is the core's (rpmsg_char_glue.cpp calls it); here are
 * only the kernel's objects and one core call per file operation.
 *
 * Names (devnames=): Linux's rpmsg core, when the kernel has it
 * (CONFIG_RPMSG), owns the class and bus "rpmsg" and its rpmsg_char and
 * rpmsg_ctrl drivers number their own /dev/rpmsg_ctrlN and /dev/rpmsgN.
 * Both stacks in one kernel must not collide, so:
 *   linux  class and bus "rpmsg", regions "rpmsg_ctrl" and "rpmsg_char",
 *          nodes /dev/rpmsg_ctrlN and /dev/rpmsgN: exactly Linux's, for a
 *          kernel without Linux's rpmsg (refused when it has it);
 *   keel   class and bus "keel_rpmsg", regions "keel_rpmsg_ctrl" and
 *          "keel_rpmsg_char", nodes /dev/keel_rpmsg/rpmsg_ctrlN and
 *          /dev/keel_rpmsg/rpmsgN: Linux's names and numbers in a
 *          directory of their own, beside Linux's nodes;
 *   auto   (default) linux without CONFIG_RPMSG, else keel.
 * Majors are dynamic in both, as Linux's.
 */
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/version.h>

#include "rpmsg_char_glue.h"

#define KEEL_RPMSG_DEV_MAX (MINORMASK + 1)

static char *devnames = "auto";
module_param(devnames, charp, 0444);
MODULE_PARM_DESC(devnames, "node names: linux (/dev/rpmsg_ctrlN, class and bus rpmsg), "
			   "keel (/dev/keel_rpmsg/rpmsg_ctrlN, class and bus keel_rpmsg) or "
			   "auto (linux unless the kernel has Linux's rpmsg)");

static unsigned int queue_max;
module_param(queue_max, uint, 0444);
MODULE_PARM_DESC(queue_max, "unread messages an endpoint node keeps (0: 256)");

/**
 * struct keel_rpmsg_dev - the kernel's objects of one published node
 * @dev: its device (class device, or a device on the channel bus)
 * @cdev: its character device (control and endpoint nodes)
 * @node: the core's node (a reference, dropped at release)
 */
struct keel_rpmsg_dev {
	struct device dev;
	struct cdev cdev;
	struct keel_rpmsg_node *node;
};

/* What poll() hands the core, for keel_rpmsg_kernel_poll_wait(). */
struct keel_rpmsg_poll_ctx {
	struct file *filp;
	poll_table *wait;
};

/* The attributes of a node kind, made from the core's list of names. */
struct keel_rpmsg_attrs {
	struct device_attribute *dattrs;
	struct attribute **attrs;
	struct attribute_group group;
	const struct attribute_group *groups[2];
};

static struct keel_rpmsg_attrs keel_rpmsg_attrs[KEEL_RPMSG_NODE_KINDS];
static dev_t keel_rpmsg_ctrl_major;
static dev_t keel_rpmsg_ept_major;
static const char *keel_rpmsg_dir; /* the nodes' /dev subdirectory, or NULL */

static struct keel_rpmsg_dev *to_keel_rpmsg_dev(struct device *dev)
{
	return container_of(dev, struct keel_rpmsg_dev, dev);
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
static char *keel_rpmsg_devnode(const struct device *dev, umode_t *mode)
#else
static char *keel_rpmsg_devnode(struct device *dev, umode_t *mode)
#endif
{
	return kasprintf(GFP_KERNEL, "%s/%s", keel_rpmsg_dir, dev_name(dev));
}

static struct class keel_rpmsg_class;
static struct bus_type keel_rpmsg_bus;

/* --- file operations: one core call each --- */

static int keel_rpmsg_open(struct inode *inode, struct file *filp)
{
	struct keel_rpmsg_dev *d = container_of(inode->i_cdev, struct keel_rpmsg_dev, cdev);
	int ret;

	get_device(&d->dev);
	ret = keel_rpmsg_node_open(d->node);
	if (ret) {
		put_device(&d->dev);
		return ret;
	}
	filp->private_data = d;
	return 0;
}

static int keel_rpmsg_release(struct inode *inode, struct file *filp)
{
	struct keel_rpmsg_dev *d = filp->private_data;

	keel_rpmsg_node_close(d->node);
	put_device(&d->dev);
	return 0;
}

static ssize_t keel_rpmsg_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct keel_rpmsg_dev *d = iocb->ki_filp->private_data;

	return keel_rpmsg_node_read(d->node, to, iov_iter_count(to),
				    iocb->ki_filp->f_flags & O_NONBLOCK);
}

static ssize_t keel_rpmsg_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct keel_rpmsg_dev *d = iocb->ki_filp->private_data;

	return keel_rpmsg_node_write(d->node, from, iov_iter_count(from),
				     iocb->ki_filp->f_flags & O_NONBLOCK);
}

static __poll_t keel_rpmsg_poll(struct file *filp, poll_table *wait)
{
	struct keel_rpmsg_dev *d = filp->private_data;
	struct keel_rpmsg_poll_ctx ctx = { .filp = filp, .wait = wait };

	return (__force __poll_t)keel_rpmsg_node_poll(d->node, &ctx);
}

static long keel_rpmsg_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	struct keel_rpmsg_dev *d = filp->private_data;

	return keel_rpmsg_node_ioctl(d->node, cmd, arg);
}

/*
 * What every node's file operations have (as DRM_GEM_FOPS does for DRM):
 * the frontend's open, release and ioctl, which tell a control node from
 * an endpoint themselves.
 */
#define KEEL_RPMSG_NODE_FOPS                                                                       \
	.owner = THIS_MODULE, .open = keel_rpmsg_open, .release = keel_rpmsg_release,              \
	.unlocked_ioctl = keel_rpmsg_ioctl, .compat_ioctl = compat_ptr_ioctl

/* Linux's rpmsg_ctrl: open, release, ioctl. */
static const struct file_operations keel_rpmsg_ctrl_fops = {
	KEEL_RPMSG_NODE_FOPS,
};

/* Linux's rpmsg_char endpoint device: those, read, write and poll. */
static const struct file_operations keel_rpmsg_ept_fops = {
	KEEL_RPMSG_NODE_FOPS,
	.read_iter = keel_rpmsg_read_iter,
	.write_iter = keel_rpmsg_write_iter,
	.poll = keel_rpmsg_poll,
};

/* --- the kernel's side of the frontend --- */

int keel_rpmsg_kernel_copy_out(void *iter, const void *from, size_t n)
{
	return copy_to_iter(from, n, iter) == n ? 0 : -EFAULT;
}

int keel_rpmsg_kernel_copy_in(void *to, void *iter, size_t n)
{
	return copy_from_iter_full(to, n, iter) ? 0 : -EFAULT;
}

int keel_rpmsg_kernel_copy_to_user(void *to, const void *from, size_t n)
{
	return copy_to_user((void __user *)to, from, n) ? -EFAULT : 0;
}

int keel_rpmsg_kernel_copy_from_user(void *to, const void *from, size_t n)
{
	return copy_from_user(to, (const void __user *)from, n) ? -EFAULT : 0;
}

void keel_rpmsg_kernel_poll_wait(void *wq, void *ctx)
{
	struct keel_rpmsg_poll_ctx *c = ctx;

	poll_wait(c->filp, wq, c->wait);
}

static void keel_rpmsg_dev_release(struct device *dev)
{
	struct keel_rpmsg_dev *d = to_keel_rpmsg_dev(dev);

	keel_rpmsg_node_put(d->node);
	kfree(d);
}

int keel_rpmsg_kernel_publish(struct keel_rpmsg_node *node)
{
	int kind = keel_rpmsg_node_kind(node);
	struct keel_rpmsg_dev *d;
	dev_t major;
	int ret;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	d->node = node;
	keel_rpmsg_node_get(node);
	device_initialize(&d->dev);
	d->dev.release = keel_rpmsg_dev_release;
	d->dev.groups = keel_rpmsg_attrs[kind].groups;
	ret = dev_set_name(&d->dev, "%s", keel_rpmsg_node_name(node));
	if (ret)
		goto put;
	if (kind == KEEL_RPMSG_NODE_CHANNEL) {
		d->dev.bus = &keel_rpmsg_bus;
		ret = device_add(&d->dev);
	} else {
		major = kind == KEEL_RPMSG_NODE_CTRL ? keel_rpmsg_ctrl_major : keel_rpmsg_ept_major;
		d->dev.class = &keel_rpmsg_class;
		d->dev.devt = MKDEV(MAJOR(major), keel_rpmsg_node_id(node));
		cdev_init(&d->cdev, kind == KEEL_RPMSG_NODE_CTRL ? &keel_rpmsg_ctrl_fops
								 : &keel_rpmsg_ept_fops);
		d->cdev.owner = THIS_MODULE;
		ret = cdev_device_add(&d->cdev, &d->dev);
	}
	if (ret)
		goto put;
	keel_rpmsg_node_set_fe(node, d);
	return 0;
put:
	put_device(&d->dev);
	return ret;
}

void keel_rpmsg_kernel_unpublish(struct keel_rpmsg_node *node, void *fe)
{
	struct keel_rpmsg_dev *d = fe;

	if (keel_rpmsg_node_kind(node) == KEEL_RPMSG_NODE_CHANNEL)
		device_del(&d->dev);
	else
		cdev_device_del(&d->cdev, &d->dev);
	put_device(&d->dev);
}

/* --- attributes, from the core's names --- */

static ssize_t keel_rpmsg_attr_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return keel_rpmsg_node_show(to_keel_rpmsg_dev(dev)->node, attr->attr.name, buf, PAGE_SIZE);
}

static void keel_rpmsg_free_attrs(void)
{
	int k;

	for (k = 0; k < KEEL_RPMSG_NODE_KINDS; k++) {
		kfree(keel_rpmsg_attrs[k].dattrs);
		kfree(keel_rpmsg_attrs[k].attrs);
		memset(&keel_rpmsg_attrs[k], 0, sizeof(keel_rpmsg_attrs[k]));
	}
}

static int keel_rpmsg_build_attrs(void)
{
	const char *const *names;
	struct keel_rpmsg_attrs *a;
	int k, i, n;

	for (k = 0; k < KEEL_RPMSG_NODE_KINDS; k++) {
		a = &keel_rpmsg_attrs[k];
		names = keel_rpmsg_node_attrs(k);
		for (n = 0; names[n]; n++)
			;
		a->dattrs = kcalloc(n, sizeof(*a->dattrs), GFP_KERNEL);
		a->attrs = kcalloc(n + 1, sizeof(*a->attrs), GFP_KERNEL);
		if (!a->dattrs || !a->attrs) {
			keel_rpmsg_free_attrs();
			return -ENOMEM;
		}
		for (i = 0; i < n; i++) {
			sysfs_attr_init(&a->dattrs[i].attr);
			a->dattrs[i].attr.name = names[i];
			a->dattrs[i].attr.mode = 0444;
			a->dattrs[i].show = keel_rpmsg_attr_show;
			a->attrs[i] = &a->dattrs[i].attr;
		}
		a->group.attrs = a->attrs;
		a->groups[0] = &a->group;
	}
	return 0;
}

/* --- module --- */

static int __init keel_rpmsg_char_init(void)
{
	bool linux_names;
	int ret;

	if (!strcmp(devnames, "auto")) {
		linux_names = !IS_ENABLED(CONFIG_RPMSG);
	} else if (!strcmp(devnames, "linux")) {
		if (IS_ENABLED(CONFIG_RPMSG)) {
			pr_err("keel_rpmsg_char: devnames=linux: this kernel's own rpmsg owns "
			       "those names; use devnames=keel\n");
			return -EEXIST;
		}
		linux_names = true;
	} else if (!strcmp(devnames, "keel")) {
		linux_names = false;
	} else {
		pr_err("keel_rpmsg_char: devnames=%s: auto, linux or keel\n", devnames);
		return -EINVAL;
	}
	keel_rpmsg_class.name = linux_names ? "rpmsg" : "keel_rpmsg";
	keel_rpmsg_bus.name = keel_rpmsg_class.name;
	keel_rpmsg_dir = linux_names ? NULL : "keel_rpmsg";
	keel_rpmsg_class.devnode = linux_names ? NULL : keel_rpmsg_devnode;

	ret = keel_rpmsg_build_attrs();
	if (ret)
		return ret;
	ret = alloc_chrdev_region(&keel_rpmsg_ctrl_major, 0, KEEL_RPMSG_DEV_MAX,
				  linux_names ? "rpmsg_ctrl" : "keel_rpmsg_ctrl");
	if (ret)
		goto free_attrs;
	ret = alloc_chrdev_region(&keel_rpmsg_ept_major, 0, KEEL_RPMSG_DEV_MAX,
				  linux_names ? "rpmsg_char" : "keel_rpmsg_char");
	if (ret)
		goto free_ctrl;
	ret = class_register(&keel_rpmsg_class);
	if (ret)
		goto free_ept;
	ret = bus_register(&keel_rpmsg_bus);
	if (ret)
		goto free_class;
	ret = keel_rpmsg_glue_start(queue_max);
	if (ret)
		goto free_bus;
	pr_info("keel_rpmsg_char: /dev/%s%srpmsg_ctrlN and /dev/%s%srpmsgN, class and bus %s\n",
		keel_rpmsg_dir ?: "", keel_rpmsg_dir ? "/" : "", keel_rpmsg_dir ?: "",
		keel_rpmsg_dir ? "/" : "", keel_rpmsg_class.name);
	return 0;

free_bus:
	bus_unregister(&keel_rpmsg_bus);
free_class:
	class_unregister(&keel_rpmsg_class);
free_ept:
	unregister_chrdev_region(keel_rpmsg_ept_major, KEEL_RPMSG_DEV_MAX);
free_ctrl:
	unregister_chrdev_region(keel_rpmsg_ctrl_major, KEEL_RPMSG_DEV_MAX);
free_attrs:
	keel_rpmsg_free_attrs();
	return ret;
}

static void __exit keel_rpmsg_char_exit(void)
{
	keel_rpmsg_glue_stop();
	bus_unregister(&keel_rpmsg_bus);
	class_unregister(&keel_rpmsg_class);
	unregister_chrdev_region(keel_rpmsg_ept_major, KEEL_RPMSG_DEV_MAX);
	unregister_chrdev_region(keel_rpmsg_ctrl_major, KEEL_RPMSG_DEV_MAX);
	keel_rpmsg_free_attrs();
}

module_init(keel_rpmsg_char_init);
module_exit(keel_rpmsg_char_exit);
MODULE_DESCRIPTION("rpmsg character devices of keel's links (linux/rpmsg.h)");
MODULE_LICENSE("GPL");
