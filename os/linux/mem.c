// SPDX-License-Identifier: GPL-2.0
/*
 * Linux port: memory, diagnostics, logging and randomness for keel.
 * One kernel call per function; see include/keel/port.h for the contracts.
 */
#include <linux/bug.h>
#include <linux/kernel.h>
#include <linux/printk.h>
#include <linux/random.h>
#include <linux/slab.h>

#include "shim.h"

/* No flag is GFP_KERNEL: keel's Gfp (<keel/new.h>) is built on <keel/port.h>'s values. */
static_assert(KEEL_GFP_KERNEL == 0);

/* keel's Gfp bits onto the kernel's: a table, not a decision. */
gfp_t keel_linux_gfp(unsigned int gfp)
{
	return ((gfp & KEEL_GFP_ATOMIC) ? GFP_ATOMIC : GFP_KERNEL) |
	       ((gfp & KEEL_GFP_ZERO) ? __GFP_ZERO : 0) |
	       ((gfp & KEEL_GFP_NOWARN) ? __GFP_NOWARN : 0);
}

void *keel_port_kmalloc(size_t size, unsigned int gfp)
{
	return kmalloc(size, keel_linux_gfp(gfp));
}

void keel_port_kfree(const void *p)
{
	kfree(p);
}

void keel_port_bug(const char *file, int line, const char *what)
{
	pr_emerg("keel: BUG at %s:%d: %s\n", file, line, what);
	BUG();
}

void keel_port_warn(const char *file, int line, const char *what)
{
	WARN(1, "keel: %s:%d: %s\n", file, line, what);
}

void keel_port_might_sleep(const char *file, int line)
{
#ifdef CONFIG_DEBUG_ATOMIC_SLEEP
	__might_sleep(file, line);
#endif
	might_resched();
}

/* printk takes the level from its format string: one format per level. */
static const char *const keel_log_fmt[] = {
	KERN_EMERG "%s\n",   KERN_ALERT "%s\n",	 KERN_CRIT "%s\n", KERN_ERR "%s\n",
	KERN_WARNING "%s\n", KERN_NOTICE "%s\n", KERN_INFO "%s\n", KERN_DEBUG "%s\n",
};

void keel_port_log(int level, const char *msg)
{
	printk(keel_log_fmt[clamp(level, 0, 7)], msg);
}

int keel_port_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	return vsnprintf(buf, size, fmt, ap);
}

keel_u32 keel_port_get_random_u32(void)
{
	return get_random_u32();
}
