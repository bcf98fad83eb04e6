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

long keel_linux_jiffies(keel_s64 ns)
{
	if (ns <= 0)
		return 0;
	if (ns == KEEL_S64_MAX)
		return MAX_SCHEDULE_TIMEOUT;
	/*
	 * +1 as msleep() does: a timer N jiffies ahead fires after N - 1 full
	 * jiffies plus what is left of the current one, and keel promises at
	 * least the delay asked for.
	 */
	return min_t(u64, DIV_ROUND_UP_ULL((u64)ns, TICK_NSEC) + 1, MAX_SCHEDULE_TIMEOUT - 1);
}

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
