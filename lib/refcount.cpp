// SPDX-License-Identifier: GPL-2.0
#include <keel/log.h>
#include <keel/refcount.h>
#include <keel/spinlock.h>
#include <keel/wait.h>

namespace keel {

/*
 * Out of line so the inline fast paths stay small. The count is pinned so
 * the object leaks instead of being freed (or freed twice) under a user.
 */
void Refcount::saturate(const char *why)
{
	m_refs.store(SATURATED, MemoryOrder::Relaxed);
	/*
	 * An error line, not a WARN: the saturation tests trigger it on
	 * purpose, and the kernel test runner fails on any WARNING.
	 */
	pr_err("refcount_t: %s", why);
}

} // namespace keel
