/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Forced (-include) into every C++ object of the Linux port, by
 * scripts/Makefile.cxx, before the source's first line.
 *
 * 1. UAPI headers. C++ sources may include UAPI headers (<linux/virtio_ring.h>,
 *    <linux/rpmsg.h>), never kernel-internal ones. Makefile.cxx puts the UAPI
 *    directories first on the include path, so <linux/virtio_config.h> is the
 *    UAPI header, as in a hosted build. In the source tree (unlike after
 *    headers_install) UAPI headers still include <linux/compiler_types.h>,
 *    which is C-only (it defines auto as __auto_type, for one): mark it as
 *    already included and give the few annotations UAPI headers use their
 *    installed (empty) meaning.
 *
 * 2. keel_port_bug() is noreturn. objtool (run per object on 6.1) cannot see
 *    that an external function never returns, and reports every caller as
 *    "falls through to next function". Calls from C++ therefore go through an
 *    alias of the same symbol declared without noreturn, followed by a trap
 *    (ud2), which objtool knows ends the path.
 */
#ifndef KEEL_OS_LINUX_CXX_PRELUDE_H
#define KEEL_OS_LINUX_CXX_PRELUDE_H

#define __LINUX_COMPILER_TYPES_H
#define __user
#define __force
#define __iomem
#define __kernel

#include <keel/error.h>
#include <keel/port.h>

/* Defined by lib/cxx_runtime.cpp; declared for 6.12's -Wmissing-declarations. */
extern "C" void __cxa_pure_virtual();

extern "C" void keel_linux_bug_call(const char *file, int line,
				    const char *what) __asm__("keel_port_bug");

namespace keel::os_linux {
[[noreturn]] inline __attribute__((always_inline)) void bug(const char *file, int line,
							    const char *what)
{
	keel_linux_bug_call(file, line, what);
	__builtin_trap();
}
} // namespace keel::os_linux

#define keel_port_bug(file, line, what) ::keel::os_linux::bug(file, line, what)

#endif
