/* SPDX-License-Identifier: GPL-2.0 */
/*
 * keel's allocation flag values, readable from the C shim (which cannot
 * include the C++ header <keel/new.h> that defines them). check.cpp asserts
 * that both agree.
 */
#ifndef KEEL_OS_LINUX_GFP_H
#define KEEL_OS_LINUX_GFP_H

#define KEEL_LINUX_GFP_ATOMIC 0x1u
#define KEEL_LINUX_GFP_ZERO 0x100u
#define KEEL_LINUX_GFP_NOWARN 0x200u

#endif
