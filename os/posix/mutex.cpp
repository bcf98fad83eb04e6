// SPDX-License-Identifier: GPL-2.0
/*
 * Hosted mutexes: a pthread mutex (error-checking unless NDEBUG, so that
 * recursion and foreign unlocks are caught, and ThreadSanitizer sees a real
 * lock with its lock-order checking), plus the owner for mutex_is_locked()
 * and an unlock sequence word that interruptible waiters sleep on with a
 * futex: pthread mutexes cannot be interrupted, and
 * mutex_lock_interruptible() must return -EINTR when the thread is
 * signalled (keel_port_thread_signal()).
 */
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "posix_internal.h"

namespace keel::posix {

namespace {

thread_local constinit char t_owner_id;

struct PMutex {
	pthread_mutex_t m;
	/* The holder (address of its t_owner_id), or nullptr. */
	const void *owner;
	/* Futex word: bumped at every unlock and kick. */
	u32 seq;
	/* Threads in lock_interruptible() waiting on @seq. */
	u32 waiters;
};
static_assert(sizeof(PMutex) <= KEEL_MUTEX_SIZE && alignof(PMutex) <= KEEL_MUTEX_ALIGN);

PMutex *to_mutex(void *m)
{
	/* SAFETY: @m is the KEEL_MUTEX_SIZE storage of a Mutex, aligned for PMutex. */
	return static_cast<PMutex *>(m);
}

void futex_wait(u32 *addr, u32 val)
{
	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, nullptr, nullptr, 0);
}

void futex_wake_all(u32 *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 0x7fffffff, nullptr, nullptr, 0);
}

/* Wakes interruptible waiters so they re-check the lock and their signals. */
void kick_waiters(PMutex *pm)
{
	__atomic_fetch_add(&pm->seq, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&pm->waiters, __ATOMIC_SEQ_CST))
		futex_wake_all(&pm->seq);
}

void kick_mutex(void *obj)
{
	kick_waiters(static_cast<PMutex *>(obj));
}

void set_owner(PMutex *pm)
{
	__atomic_store_n(&pm->owner, &t_owner_id, __ATOMIC_RELAXED);
}

} // namespace

} // namespace keel::posix

using namespace keel::posix;

/* No lockdep here: @name and @key are for the Linux port. */
extern "C" void keel_port_mutex_init(void *m, const char *name, struct keel_lock_key *key)
{
	PMutex *pm = to_mutex(m);
	pthread_mutexattr_t attr;
	check_pthread(pthread_mutexattr_init(&attr), "mutexattr_init");
#ifndef NDEBUG
	check_pthread(pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK),
		      "mutexattr_settype");
#endif
	check_pthread(pthread_mutex_init(&pm->m, &attr), "mutex_init");
	pthread_mutexattr_destroy(&attr);
	pm->owner = nullptr;
	pm->seq = 0;
	pm->waiters = 0;
}

extern "C" void keel_port_mutex_destroy(void *m)
{
	PMutex *pm = to_mutex(m);
	if (__atomic_load_n(&pm->owner, __ATOMIC_RELAXED)) [[unlikely]]
		warn_fmt(__FILE__, __LINE__, "mutex destroyed while locked");
	pthread_mutex_destroy(&pm->m);
}

extern "C" void keel_port_mutex_lock(void *m)
{
	PMutex *pm = to_mutex(m);
	int rc = pthread_mutex_lock(&pm->m);
	if (rc == EDEADLK) [[unlikely]]
		keel_port_bug(__FILE__, __LINE__, "mutex recursion (deadlock)");
	check_pthread(rc, "mutex_lock");
	set_owner(pm);
}

extern "C" void keel_port_mutex_novalidate(void *m)
{
	/* No lock-order validator here (TSan checks the real order). */
	(void)m;
}

extern "C" void keel_port_mutex_lock_nested(void *m, unsigned int subclass)
{
	/* Nesting classes matter to lockdep only; TSan checks the real order. */
	(void)subclass;
	keel_port_mutex_lock(m);
}

extern "C" int keel_port_mutex_trylock(void *m)
{
	PMutex *pm = to_mutex(m);
	if (pthread_mutex_trylock(&pm->m) != 0)
		return 0;
	set_owner(pm);
	return 1;
}

extern "C" int keel_port_mutex_lock_interruptible(void *m)
{
	PMutex *pm = to_mutex(m);
	ThreadCtl *self = current_thread();
	if (!self) {
		/* No one can signal a thread the port did not start. */
		keel_port_mutex_lock(m);
		return 0;
	}
	if (signal_pending(self))
		return -EINTR;
	if (keel_port_mutex_trylock(m))
		return 0;

	__atomic_fetch_add(&pm->waiters, 1, __ATOMIC_SEQ_CST);
	set_blocker(self, kick_mutex, pm);
	int ret;
	for (;;) {
		/*
		 * Sample the word before trying: an unlock or a signal's kick
		 * after this point changes it and the futex wait returns.
		 */
		u32 seq = __atomic_load_n(&pm->seq, __ATOMIC_SEQ_CST);
		if (keel_port_mutex_trylock(m)) {
			ret = 0;
			break;
		}
		if (signal_pending(self)) {
			ret = -EINTR;
			break;
		}
		futex_wait(&pm->seq, seq);
	}
	clear_blocker(self);
	__atomic_fetch_sub(&pm->waiters, 1, __ATOMIC_SEQ_CST);
	return ret;
}

extern "C" void keel_port_mutex_unlock(void *m)
{
	PMutex *pm = to_mutex(m);
	if (__atomic_load_n(&pm->owner, __ATOMIC_RELAXED) != &t_owner_id) [[unlikely]]
		keel_port_bug(__FILE__, __LINE__,
			      "mutex_unlock of a mutex this thread does not hold");
	__atomic_store_n(&pm->owner, nullptr, __ATOMIC_RELAXED);
	check_pthread(pthread_mutex_unlock(&pm->m), "mutex_unlock");
	/*
	 * As with Linux's mutex_unlock(), the structure is touched after the
	 * release: whoever takes the mutex next may not free it on the
	 * assumption that the unlocker is done with it.
	 */
	kick_waiters(pm);
}

extern "C" int keel_port_mutex_is_locked(void *m)
{
	return __atomic_load_n(&to_mutex(m)->owner, __ATOMIC_RELAXED) != nullptr;
}
