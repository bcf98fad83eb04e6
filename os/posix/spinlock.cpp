// SPDX-License-Identifier: GPL-2.0
/*
 * Hosted spinlocks: a real test-and-test-and-set spinlock, not a pthread
 * mutex, so that the hosted build has the kernel's contract: holding one
 * makes the thread atomic (might_sleep(), GFP_KERNEL and mutexes complain),
 * recursion is caught at once instead of deadlocking silently, and the
 * acquire/release atomics are what ThreadSanitizer sees. A waiter yields the
 * CPU after a short spin, since a hosted holder can be preempted (a kernel
 * holder cannot).
 *
 * "Interrupts" are the simulator's doorbell threads: irqsave only raises the
 * atomic depth; there is nothing to mask.
 */
#include <sched.h>

#include <keel/posix.h>

#include "posix_internal.h"

namespace keel::posix {

namespace {

thread_local constinit int t_atomic_depth;
thread_local constinit int t_irq_depth;
/* Handlers of a dedicated interrupt thread (keel_posix_threaded_irq_enter()). */
thread_local constinit int t_threaded_irq_depth;
/* Its address identifies the calling thread as a lock owner. */
thread_local constinit char t_owner_id;

/* The owner is the lock word: taking it is one compare-and-swap from null. */
struct Spin {
	const void *owner;
	u32 magic;
};
static_assert(sizeof(Spin) <= KEEL_SPINLOCK_SIZE && alignof(Spin) <= KEEL_SPINLOCK_ALIGN);

constexpr u32 SPIN_MAGIC = 0x5350494eu; /* "SPIN" */

Spin *to_spin(void *lock)
{
	/* SAFETY: @lock is the KEEL_SPINLOCK_SIZE storage of a SpinLock, aligned for Spin. */
	return static_cast<Spin *>(lock);
}

void check_magic(Spin *s)
{
	if (__atomic_load_n(&s->magic, __ATOMIC_RELAXED) != SPIN_MAGIC) [[unlikely]]
		keel_port_bug(__FILE__, __LINE__, "spinlock used before init (or corrupted)");
}

/* One atomic operation when the lock is free; recursion is looked for only when it is not. */
bool spin_try(Spin *s)
{
	const void *none = nullptr;
	return __atomic_compare_exchange_n(&s->owner, &none, &t_owner_id, false, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

void spin_acquire(Spin *s)
{
	check_magic(s);
	unsigned int spins = 0;
	while (!spin_try(s)) {
		if (__atomic_load_n(&s->owner, __ATOMIC_RELAXED) == &t_owner_id) [[unlikely]]
			keel_port_bug(__FILE__, __LINE__, "spinlock recursion");
		while (__atomic_load_n(&s->owner, __ATOMIC_RELAXED) != nullptr) {
			if (++spins < 128)
				keel_port_cpu_relax();
			else
				sched_yield();
		}
	}
}

void spin_release(Spin *s)
{
	if (__atomic_load_n(&s->owner, __ATOMIC_RELAXED) != &t_owner_id) [[unlikely]]
		warn_fmt(__FILE__, __LINE__, "spin_unlock of a lock this thread does not hold");
	__atomic_store_n(&s->owner, nullptr, __ATOMIC_RELEASE);
}

/* Leaves a nesting level of @depth; below zero is a bug of the caller, named by @what. */
void depth_exit(int &depth, const char *what)
{
	if (--depth < 0) [[unlikely]]
		keel_port_bug(__FILE__, __LINE__, what);
}

} // namespace

void atomic_enter()
{
	t_atomic_depth++;
}

void atomic_exit()
{
	depth_exit(t_atomic_depth, "atomic depth underflow (unbalanced unlock)");
}

int atomic_depth()
{
	return t_atomic_depth;
}

} // namespace keel::posix

using namespace keel::posix;

/* No lockdep here: @name and @key are for the Linux port. */
extern "C" void keel_port_spin_init(void *lock, const char *name, struct keel_lock_key *key)
{
	Spin *s = to_spin(lock);
	s->owner = nullptr;
	s->magic = SPIN_MAGIC;
}

extern "C" void keel_port_spin_lock(void *lock)
{
	atomic_enter();
	spin_acquire(to_spin(lock));
}

extern "C" void keel_port_spin_unlock(void *lock)
{
	spin_release(to_spin(lock));
	atomic_exit();
}

extern "C" unsigned long keel_port_spin_lock_irqsave(void *lock)
{
	/* The flags carry the depth to restore: an unbalanced restore is caught. */
	unsigned long flags = (unsigned long)atomic_depth();
	atomic_enter();
	spin_acquire(to_spin(lock));
	return flags;
}

extern "C" void keel_port_spin_unlock_irqrestore(void *lock, unsigned long flags)
{
	spin_release(to_spin(lock));
	atomic_exit();
	if ((unsigned long)atomic_depth() != flags) [[unlikely]]
		warn_fmt(__FILE__, __LINE__, "spin_unlock_irqrestore: flags %lu, depth now %d",
			 flags, atomic_depth());
}

extern "C" int keel_port_spin_trylock(void *lock)
{
	Spin *s = to_spin(lock);
	check_magic(s);
	atomic_enter();
	if (__atomic_load_n(&s->owner, __ATOMIC_RELAXED) == nullptr && spin_try(s))
		return 1;
	atomic_exit();
	return 0;
}

extern "C" int keel_port_spin_trylock_irqsave(void *lock, unsigned long *flags)
{
	unsigned long depth = (unsigned long)atomic_depth();
	if (!keel_port_spin_trylock(lock))
		return 0;
	*flags = depth;
	return 1;
}

extern "C" int keel_port_in_atomic(void)
{
	return atomic_depth() > 0;
}

extern "C" void keel_posix_irq_enter(void)
{
	t_irq_depth++;
	atomic_enter();
}

extern "C" void keel_posix_irq_exit(void)
{
	atomic_exit();
	depth_exit(t_irq_depth, "unbalanced keel_posix_irq_exit()");
}

extern "C" int keel_posix_in_irq(void)
{
	return t_irq_depth > 0;
}

extern "C" void keel_posix_threaded_irq_enter(void)
{
	t_threaded_irq_depth++;
	keel_posix_irq_enter();
}

extern "C" void keel_posix_threaded_irq_exit(void)
{
	keel_posix_irq_exit();
	depth_exit(t_threaded_irq_depth, "unbalanced keel_posix_threaded_irq_exit()");
}

extern "C" int keel_port_irq_may_spin(void)
{
	/* Only the outermost handler of a dedicated thread: a nested one interrupts another. */
	return t_threaded_irq_depth > 0 && t_irq_depth == 1;
}
