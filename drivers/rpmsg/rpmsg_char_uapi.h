/* SPDX-License-Identifier: GPL-2.0 */
/*
 * <linux/rpmsg.h>, the UAPI of the character devices, for C++ that also
 * uses <rpmsg/rpmsg.h>: include it last. Its RPMSG_ADDR_ANY macro is
 * dropped again (rpmsg::RPMSG_ADDR_ANY is the same value, checked), and
 * the flow-control ioctls of 6.12's header are defined for older ones
 * (the kernel's 6.1 UAPI and Debian 12's linux-libc-dev lack them).
 */
#ifndef RPMSG_RPMSG_CHAR_UAPI_H
#define RPMSG_RPMSG_CHAR_UAPI_H

/* First: its RPMSG_ADDR_ANY must not see the UAPI's macro. */
#include <rpmsg/rpmsg.h>

#include <linux/rpmsg.h>

/*
 * In a kernel build (__KERNEL__) the UAPI's <asm-generic/ioctl.h> leaves
 * this to the kernel's own header, which C++ does not include.
 */
#ifndef _IOC_TYPECHECK
#define _IOC_TYPECHECK(t) (sizeof(t))
#endif

#ifndef RPMSG_GET_OUTGOING_FLOWCONTROL
#define RPMSG_GET_OUTGOING_FLOWCONTROL _IOR(0xb5, 0x5, int)
#endif
#ifndef RPMSG_SET_INCOMING_FLOWCONTROL
#define RPMSG_SET_INCOMING_FLOWCONTROL _IOR(0xb5, 0x6, int)
#endif

static_assert(RPMSG_ADDR_ANY == 0xFFFFFFFF, "the UAPI's RPMSG_ADDR_ANY");
#undef RPMSG_ADDR_ANY
static_assert(rpmsg::RPMSG_ADDR_ANY == 0xffffffffu);
static_assert(sizeof(struct rpmsg_endpoint_info) == 40);
static_assert(sizeof(((struct rpmsg_endpoint_info *)nullptr)->name) == rpmsg::RPMSG_NAME_SIZE);
/* The numbers every Linux architecture with the generic ioctl encoding uses. */
static_assert(RPMSG_CREATE_EPT_IOCTL == 0x4028b501u);
static_assert(RPMSG_DESTROY_EPT_IOCTL == 0xb502u);
static_assert(RPMSG_CREATE_DEV_IOCTL == 0x4028b503u);
static_assert(RPMSG_RELEASE_DEV_IOCTL == 0x4028b504u);
static_assert(RPMSG_GET_OUTGOING_FLOWCONTROL == 0x8004b505u);
static_assert(RPMSG_SET_INCOMING_FLOWCONTROL == 0x8004b506u);

#endif
