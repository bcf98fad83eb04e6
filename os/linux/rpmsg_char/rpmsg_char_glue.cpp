// SPDX-License-Identifier: GPL-2.0
/*
 * keel_rpmsg_char.ko, C++ half: the frontend registered with the
 * character devices' core (keel.ko), and the C entry points the kernel's
 * file operations call (rpmsg_char_glue.h). One core call per function:
 * the semantics are the core's.
 */
#include <rpmsg/rpmsg_char.h>

#include "rpmsg_char_glue.h"

using keel::Result;
using keel::size_t;
using rpmsg::RpmsgCharNode;

namespace {

RpmsgCharNode *node_of(keel_rpmsg_node *n)
{
	/* SAFETY: the C half only holds nodes this file handed out (as keel_rpmsg_node). */
	return reinterpret_cast<RpmsgCharNode *>(n);
}

keel_rpmsg_node *c_node(RpmsgCharNode &n)
{
	return reinterpret_cast<keel_rpmsg_node *>(&n);
}

Result<void> fe_publish(RpmsgCharNode &n)
{
	return keel::to_result(keel_rpmsg_kernel_publish(c_node(n)));
}

void fe_unpublish(RpmsgCharNode &n)
{
	keel_rpmsg_kernel_unpublish(c_node(n), n.fe_data());
}

/*
 * A copy the kernel makes (rpmsg_char_main.c): copy_to_iter() for a read,
 * copy_to_user() and copy_from_user() for an ioctl's argument. Its 0 or
 * -EFAULT is the Result.
 */
template <int (*kernel_copy)(void *to, const void *from, size_t n)>
Result<void> fe_copy(void *to, const void *from, size_t n)
{
	return keel::to_result(kernel_copy(to, from, n));
}

Result<void> fe_copy_in(void *to, const void *iter, size_t n)
{
	/* SAFETY: the cookie is the write's iov_iter, which the copy advances. */
	return keel::to_result(keel_rpmsg_kernel_copy_in(to, const_cast<void *>(iter), n));
}

void fe_poll_wait(keel::WaitQueue &wq, void *ctx)
{
	keel_rpmsg_kernel_poll_wait(wq.port_queue(), ctx);
}

constinit rpmsg::RpmsgCharFrontend s_fe = {
	.name = "keel_rpmsg_char",
	.publish = fe_publish,
	.unpublish = fe_unpublish,
	.copy_out = fe_copy<keel_rpmsg_kernel_copy_out>,
	.copy_in = fe_copy_in,
	.copy_to_user = fe_copy<keel_rpmsg_kernel_copy_to_user>,
	.copy_from_user = fe_copy<keel_rpmsg_kernel_copy_from_user>,
	.poll_wait = fe_poll_wait,
	.queue_max = 0,
};

long size_or_errno(const Result<size_t> &r)
{
	return r.is_ok() ? long(r.value()) : long(r.error().to_errno());
}

} // namespace

extern "C" int keel_rpmsg_glue_start(unsigned int queue_max)
{
	s_fe.queue_max = queue_max;
	return keel::from_result(rpmsg::rpmsg_char_register(s_fe));
}

extern "C" void keel_rpmsg_glue_stop(void)
{
	rpmsg::rpmsg_char_unregister();
}

extern "C" int keel_rpmsg_node_kind(keel_rpmsg_node *node)
{
	static_assert(int(rpmsg::RpmsgCharKind::Ctrl) == KEEL_RPMSG_NODE_CTRL);
	static_assert(int(rpmsg::RpmsgCharKind::Ept) == KEEL_RPMSG_NODE_EPT);
	static_assert(int(rpmsg::RpmsgCharKind::Channel) == KEEL_RPMSG_NODE_CHANNEL);
	return int(node_of(node)->kind());
}

extern "C" const char *keel_rpmsg_node_name(keel_rpmsg_node *node)
{
	return node_of(node)->name();
}

extern "C" unsigned int keel_rpmsg_node_id(keel_rpmsg_node *node)
{
	return node_of(node)->id();
}

extern "C" void *keel_rpmsg_node_fe(keel_rpmsg_node *node)
{
	return node_of(node)->fe_data();
}

extern "C" void keel_rpmsg_node_set_fe(keel_rpmsg_node *node, void *fe)
{
	node_of(node)->set_fe_data(fe);
}

extern "C" void keel_rpmsg_node_get(keel_rpmsg_node *node)
{
	node_of(node)->get();
}

extern "C" void keel_rpmsg_node_put(keel_rpmsg_node *node)
{
	node_of(node)->put();
}

extern "C" int keel_rpmsg_node_open(keel_rpmsg_node *node)
{
	return keel::from_result(node_of(node)->open());
}

extern "C" void keel_rpmsg_node_close(keel_rpmsg_node *node)
{
	node_of(node)->close();
}

extern "C" long keel_rpmsg_node_read(keel_rpmsg_node *node, void *iter, size_t count, int nonblock)
{
	return size_or_errno(node_of(node)->read(iter, count, nonblock));
}

extern "C" long keel_rpmsg_node_write(keel_rpmsg_node *node, void *iter, size_t count, int nonblock)
{
	return size_or_errno(node_of(node)->write(iter, count, nonblock));
}

extern "C" unsigned int keel_rpmsg_node_poll(keel_rpmsg_node *node, void *ctx)
{
	return node_of(node)->poll(ctx);
}

extern "C" long keel_rpmsg_node_ioctl(keel_rpmsg_node *node, unsigned int cmd, unsigned long arg)
{
	Result<long> r = node_of(node)->ioctl(cmd, arg);
	return r.is_ok() ? r.value() : long(r.error().to_errno());
}

extern "C" const char *const *keel_rpmsg_node_attrs(int kind)
{
	return RpmsgCharNode::attrs(rpmsg::RpmsgCharKind(kind));
}

extern "C" long keel_rpmsg_node_show(keel_rpmsg_node *node, const char *attr, char *buf,
				     size_t size)
{
	return size_or_errno(node_of(node)->show(attr, buf, size));
}
