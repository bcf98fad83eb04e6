/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Between keel_rpmsg_char.ko's C half (rpmsg_char_main.c: the kernel's
 * file operations, devices and sysfs) and its C++ half
 * (rpmsg_char_glue.cpp: the port-neutral core's RpmsgCharNode and the
 * frontend it is registered with). Clean C and C++; errors are negative
 * errnos, as on both sides.
 */
#ifndef KEEL_OS_LINUX_RPMSG_CHAR_GLUE_H
#define KEEL_OS_LINUX_RPMSG_CHAR_GLUE_H

#ifdef __cplusplus
extern "C" {
#endif

/* An rpmsg::RpmsgCharNode, opaque to C. */
struct keel_rpmsg_node;

/* Node kinds (rpmsg::RpmsgCharKind). */
#define KEEL_RPMSG_NODE_CTRL 0
#define KEEL_RPMSG_NODE_EPT 1
#define KEEL_RPMSG_NODE_CHANNEL 2
#define KEEL_RPMSG_NODE_KINDS 3

/* --- C++ half: the core, called by the kernel's file operations --- */

/* Registers the frontend: nodes for every link and channel are published. */
int keel_rpmsg_glue_start(unsigned int queue_max);
void keel_rpmsg_glue_stop(void);

int keel_rpmsg_node_kind(struct keel_rpmsg_node *node);
const char *keel_rpmsg_node_name(struct keel_rpmsg_node *node);
unsigned int keel_rpmsg_node_id(struct keel_rpmsg_node *node);
void *keel_rpmsg_node_fe(struct keel_rpmsg_node *node);
void keel_rpmsg_node_set_fe(struct keel_rpmsg_node *node, void *fe);
void keel_rpmsg_node_get(struct keel_rpmsg_node *node);
void keel_rpmsg_node_put(struct keel_rpmsg_node *node);

int keel_rpmsg_node_open(struct keel_rpmsg_node *node);
void keel_rpmsg_node_close(struct keel_rpmsg_node *node);
/* @iter: the call's struct iov_iter (the copies go through it). */
long keel_rpmsg_node_read(struct keel_rpmsg_node *node, void *iter, __SIZE_TYPE__ count,
			  int nonblock);
long keel_rpmsg_node_write(struct keel_rpmsg_node *node, void *iter, __SIZE_TYPE__ count,
			   int nonblock);
/* @ctx: a struct keel_rpmsg_poll_ctx; the EPOLL* mask. */
unsigned int keel_rpmsg_node_poll(struct keel_rpmsg_node *node, void *ctx);
long keel_rpmsg_node_ioctl(struct keel_rpmsg_node *node, unsigned int cmd, unsigned long arg);
/* The attribute names of a kind (null-terminated), and one's value. */
const char *const *keel_rpmsg_node_attrs(int kind);
long keel_rpmsg_node_show(struct keel_rpmsg_node *node, const char *attr, char *buf,
			  __SIZE_TYPE__ size);

/* --- C half: the kernel's side of the frontend, called by the core --- */

/* Creates the node's device (and cdev); sets its frontend data. */
int keel_rpmsg_kernel_publish(struct keel_rpmsg_node *node);
void keel_rpmsg_kernel_unpublish(struct keel_rpmsg_node *node, void *fe);
int keel_rpmsg_kernel_copy_out(void *iter, const void *from, __SIZE_TYPE__ n);
int keel_rpmsg_kernel_copy_in(void *to, void *iter, __SIZE_TYPE__ n);
int keel_rpmsg_kernel_copy_to_user(void *to, const void *from, __SIZE_TYPE__ n);
int keel_rpmsg_kernel_copy_from_user(void *to, const void *from, __SIZE_TYPE__ n);
/* poll_wait() of the poll context on a wait_queue_head_t. */
void keel_rpmsg_kernel_poll_wait(void *wq, void *ctx);

#ifdef __cplusplus
}
#endif

#endif
