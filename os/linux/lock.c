// SPDX-License-Identifier: GPL-2.0
/*
 * Linux port: spinlocks and mutexes. keel stores spinlock_t and struct mutex
 * in byte arrays sized by the generated <keel/port_types.h>; each
 * declaration site passes its own static struct lock_class_key (stored in a
 * struct keel_lock_key), so lockdep sees one class per site as with the
 * kernel's own spin_lock_init()/mutex_init() macros.
 */
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/spinlock.h>

#include "shim.h"

static_assert(sizeof(spinlock_t) == KEEL_SPINLOCK_SIZE);
static_assert(__alignof__(spinlock_t) == KEEL_SPINLOCK_ALIGN);
static_assert(sizeof(struct mutex) == KEEL_MUTEX_SIZE);
static_assert(__alignof__(struct mutex) == KEEL_MUTEX_ALIGN);
static_assert(sizeof(struct lock_class_key) <= sizeof(struct keel_lock_key));
static_assert(__alignof__(struct lock_class_key) <= __alignof__(struct keel_lock_key));

void keel_port_spin_init(void *lock, const char *name, struct keel_lock_key *key)
{
#ifdef CONFIG_DEBUG_SPINLOCK
	/* spin_lock_init() with the caller's key instead of one for this line. */
	__raw_spin_lock_init(spinlock_check(lock), name, (struct lock_class_key *)key,
			     LD_WAIT_CONFIG);
#else
	spin_lock_init((spinlock_t *)lock);
#endif
}

void keel_port_spin_lock(void *lock)
{
	spin_lock(lock);
}

void keel_port_spin_unlock(void *lock)
{
	spin_unlock(lock);
}

unsigned long keel_port_spin_lock_irqsave(void *lock)
{
	unsigned long flags;

	spin_lock_irqsave((spinlock_t *)lock, flags);
	return flags;
}

void keel_port_spin_unlock_irqrestore(void *lock, unsigned long flags)
{
	spin_unlock_irqrestore(lock, flags);
}

int keel_port_spin_trylock(void *lock)
{
	return spin_trylock((spinlock_t *)lock);
}

int keel_port_spin_trylock_irqsave(void *lock, unsigned long *flags)
{
	unsigned long f;

	if (!spin_trylock_irqsave((spinlock_t *)lock, f))
		return 0;
	*flags = f;
	return 1;
}

/* Exact only with CONFIG_PREEMPT_COUNT (which DEBUG_ATOMIC_SLEEP selects). */
int keel_port_in_atomic(void)
{
	return in_atomic() || irqs_disabled();
}

/* The port's doorbells deliver in hard-IRQ context (irq_work): never a place to spin. */
int keel_port_irq_may_spin(void)
{
	return 0;
}

void keel_port_mutex_init(void *m, const char *name, struct keel_lock_key *key)
{
	__mutex_init(m, name, (struct lock_class_key *)key);
}

void keel_port_mutex_novalidate(void *m)
{
#ifdef CONFIG_LOCKDEP
	lockdep_set_novalidate_class((struct mutex *)m);
#endif
}

void keel_port_mutex_destroy(void *m)
{
	mutex_destroy((struct mutex *)m);
}

void keel_port_mutex_lock(void *m)
{
	mutex_lock(m);
}

void keel_port_mutex_lock_nested(void *m, unsigned int subclass)
{
	mutex_lock_nested((struct mutex *)m, subclass);
}

int keel_port_mutex_lock_interruptible(void *m)
{
	return mutex_lock_interruptible(m);
}

int keel_port_mutex_trylock(void *m)
{
	return mutex_trylock(m);
}

void keel_port_mutex_unlock(void *m)
{
	mutex_unlock(m);
}

int keel_port_mutex_is_locked(void *m)
{
	return mutex_is_locked((struct mutex *)m);
}
