// SPDX-License-Identifier: GPL-2.0
/*
 * Linux port: time and delays.
 */
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/sched.h>
#include <linux/timekeeping.h>

#include "shim.h"

keel_s64 keel_port_ktime_get_ns(void)
{
	return ktime_get_ns();
}

void keel_port_msleep(unsigned int ms)
{
	msleep(ms);
}

void keel_port_udelay(unsigned int us)
{
	udelay(us);
}

void keel_port_cond_resched(void)
{
	cond_resched();
}

void keel_port_cpu_relax(void)
{
	cpu_relax();
}

int keel_port_spin_yield(void)
{
	return need_resched();
}

keel_u64 keel_port_div_u64_rem(keel_u64 dividend, keel_u32 divisor, keel_u32 *rem)
{
	return div_u64_rem(dividend, divisor, rem);
}
