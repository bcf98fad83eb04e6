// SPDX-License-Identifier: GPL-2.0
/*
 * C entry points into the framework for os/linux/main.c (C cannot call C++
 * names).
 */
#include <keel/device.h>

extern "C" void keel_linux_framework_exit(void);

/* Frees the driver core's global state; every bus is unregistered by now. */
void keel_linux_framework_exit(void)
{
	keel::driver_core_exit();
}
