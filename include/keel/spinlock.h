/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SpinLock: never sleeps; the IRQ-safe form (lock_irqsave) is what doorbell
 * handlers and the code they race with take. Mutex: may sleep.
 * Both are Clang capabilities; take them only through guards:
 *
 *	Guard g{m_lock};                // SpinLock: irqsave; Mutex: sleeps
 *
 * Each declaration site names its own lockdep class, as the kernel's
 * spin_lock_init()/mutex_init() macros do per call site:
 *
 *	Mutex m_lock{ "rpmsg_ept_lock", KEEL_LOCK_KEY() };
 *
 * There is no default class: one class shared by unrelated locks gives
 * lockdep both false reports (an order seen between two instances is
 * charged to every pair) and blind spots (a real inversion between two of
 * them looks like recursion of one class).
 */
#ifndef KEEL_SPINLOCK_H
#define KEEL_SPINLOCK_H

#include <keel/compiler.h>
#include <keel/port.h>
#include <keel/utility.h>

namespace keel {
/* One static lockdep class key per instantiation (per KEEL_LOCK_KEY() site). */
template <typename Site> inline constinit keel_lock_key lock_key_for{};

/**
 * struct LockSubSite - the type naming lock @Tag of declaration site @Site
 *
 * Only a name for lock_key_for<>: never instantiated as an object.
 */
template <typename Tag, typename Site> struct LockSubSite {
};

/**
 * struct LockSite - a lock declaration site, made by KEEL_LOCK_KEY()
 *
 * It converts to the site's class key (what SpinLock, Mutex, WaitQueue and
 * Work take); an object that holds more than one lock (Completion) derives
 * one more class per lock from the same site with key<Tag>().
 *
 * The key is an inline variable: a site in a header that is constructed in
 * two modules is two classes, one per module, as with a static inline
 * function of a kernel header. Lockdep needs nothing else to agree on.
 */
template <typename Site> struct LockSite {
	/**
	 * operator keel_lock_key *() - the site's class key
	 *
	 * Context: any (constexpr).
	 * Return: the one static key of @Site.
	 */
	constexpr operator keel_lock_key *() const { return &lock_key_for<Site>; }
	/**
	 * key() - the class key of lock @Tag of this site
	 *
	 * For objects holding several locks, one class each.
	 *
	 * Context: any (constexpr).
	 * Return: the static key of (@Tag, @Site).
	 */
	template <typename Tag> static constexpr keel_lock_key *key()
	{
		return &lock_key_for<LockSubSite<Tag, Site>>;
	}
};
} // namespace keel

/**
 * KEEL_LOCK_KEY() - the lockdep class of this source location
 *
 * Each lambda expression has a type of its own, so each use names a class
 * of its own (Documentation/cxx-in-kernel.rst, "Lockdep keys")::
 *
 *	Mutex m_lock{ "rpmsg_ept_lock", KEEL_LOCK_KEY() };
 *
 * Context: a lock's (or wait queue's, work item's) initialiser.
 * Return: a LockSite, which converts to the class key.
 */
#define KEEL_LOCK_KEY() (::keel::LockSite<decltype([] {})>{})

namespace keel {

/**
 * class SpinLock - a lock that never sleeps (Linux spinlock_t)
 *
 * The IRQ-safe form (lock_irqsave(), what Guard takes) is what doorbell
 * handlers and the code they race with take. Hold it briefly: no sleeping,
 * no allocation but GFP_ATOMIC, no call out to a driver while held. The
 * OS's lock is stored inside (m_storage), sized by <keel/port_types.h>.
 */
class CAPABILITY("spinlock") SpinLock : NonMovable {
public:
	/**
	 * SpinLock() - an unlocked spinlock of a lockdep class of its own
	 * @name: the class name lockdep prints
	 * @key: the class key, static and unique to the declaration site
	 *	(KEEL_LOCK_KEY())
	 *
	 * Context: any.
	 */
	SpinLock(const char *name, keel_lock_key *key)
	{
		keel_port_spin_init(m_storage, keel_lock_class_name(key, name), key);
	}
	/*
	 * No default constructor: every spinlock names its own lockdep class
	 * (SpinLock m_lock{ "name", KEEL_LOCK_KEY() }), as spin_lock_init()
	 * does per call site. One shared class made lockdep mix up a lock
	 * taken in hard-IRQ context with an unrelated one taken with IRQs on
	 * ("inconsistent lock state").
	 */

	/**
	 * lock() - take the lock, leaving interrupts as they are (spin_lock())
	 *
	 * Only where interrupts are known off, or the lock is never taken
	 * from an interrupt: prefer Guard (irqsave).
	 *
	 * Context: any; spins until the lock is free.
	 */
	void lock() ACQUIRE() { keel_port_spin_lock(m_storage); }
	/**
	 * unlock() - release what lock() took
	 *
	 * Context: the holder.
	 */
	void unlock() RELEASE() { keel_port_spin_unlock(m_storage); }
	/**
	 * try_lock() - take the lock if it is free (spin_trylock())
	 *
	 * Context: any.
	 * Return: true when taken.
	 */
	bool try_lock() TRY_ACQUIRE(true) { return keel_port_spin_trylock(m_storage) != 0; }
	/**
	 * try_lock_irqsave() - disable local interrupts and take the lock if it
	 * is free (spin_trylock_irqsave())
	 * @flags: set, when taken, to the interrupt state to give back to
	 *	unlock_irqrestore()
	 *
	 * Context: any.
	 * Return: true when taken.
	 */
	bool try_lock_irqsave(unsigned long &flags) TRY_ACQUIRE(true)
	{
		return keel_port_spin_trylock_irqsave(m_storage, &flags) != 0;
	}
	/**
	 * lock_irqsave() - disable local interrupts and take the lock
	 *
	 * Context: any.
	 * Return: the interrupt state to give back to unlock_irqrestore().
	 */
	[[nodiscard]] unsigned long lock_irqsave() ACQUIRE()
	{
		return keel_port_spin_lock_irqsave(m_storage);
	}
	/**
	 * unlock_irqrestore() - release the lock and restore interrupts
	 * @flags: what lock_irqsave() returned
	 *
	 * Context: the holder.
	 */
	void unlock_irqrestore(unsigned long flags) RELEASE()
	{
		keel_port_spin_unlock_irqrestore(m_storage, flags);
	}
	/**
	 * assert_held() - tell the thread-safety analysis the caller holds it
	 *
	 * Checks nothing at run time: for paths the analysis cannot follow
	 * (the lock taken by a caller through another name).
	 *
	 * Context: the holder.
	 */
	void assert_held() const KEEL_TA(assert_capability(this)) {}

private:
	alignas(KEEL_SPINLOCK_ALIGN) unsigned char m_storage[KEEL_SPINLOCK_SIZE];
};

/**
 * class Mutex - a sleeping lock (Linux struct mutex)
 *
 * For process context only; the holder may sleep. Must be unlocked when
 * destroyed. The OS's mutex is stored inside (m_storage).
 */
class CAPABILITY("mutex") Mutex : NonMovable {
public:
	/**
	 * Mutex() - an unlocked mutex of a lockdep class of its own
	 * @name: the class name lockdep prints
	 * @key: the class key, static and unique to the declaration site
	 *	(KEEL_LOCK_KEY())
	 *
	 * Context: any.
	 */
	Mutex(const char *name, keel_lock_key *key)
	{
		keel_port_mutex_init(m_storage, keel_lock_class_name(key, name), key);
	}
	~Mutex() { keel_port_mutex_destroy(m_storage); }

	/**
	 * lock() - take the mutex, sleeping while another holds it
	 *
	 * Context: may sleep.
	 */
	void lock() ACQUIRE()
	{
		keel_port_might_sleep(__FILE__, __LINE__);
		keel_port_mutex_lock(m_storage);
	}
	/**
	 * lock_nested() - take a mutex of a class already held (mutex_lock_nested())
	 * @subclass: the nesting level (a parent device's lock 0, its child's 1)
	 *
	 * Tells lockdep that this is an ordered nesting, not a recursion.
	 *
	 * Context: may sleep.
	 */
	void lock_nested(unsigned int subclass) ACQUIRE()
	{
		keel_port_might_sleep(__FILE__, __LINE__);
		keel_port_mutex_lock_nested(m_storage, subclass);
	}
	/**
	 * novalidate() - exempt it from lockdep (keel_port_mutex_novalidate())
	 *
	 * Context: process context, before the mutex is first taken.
	 */
	void novalidate() { keel_port_mutex_novalidate(m_storage); }
	/**
	 * lock_interruptible() - take the mutex unless a signal arrives first
	 *
	 * Context: may sleep.
	 * Return: 0 with the mutex held, or -EINTR without it.
	 */
	[[nodiscard]] int lock_interruptible() TRY_ACQUIRE(0)
	{
		keel_port_might_sleep(__FILE__, __LINE__);
		return keel_port_mutex_lock_interruptible(m_storage);
	}
	/**
	 * try_lock() - take the mutex if it is free, without sleeping
	 *
	 * Context: process context.
	 * Return: true when taken.
	 */
	bool try_lock() TRY_ACQUIRE(true) { return keel_port_mutex_trylock(m_storage) != 0; }
	/**
	 * unlock() - release the mutex
	 *
	 * Context: the holder.
	 */
	void unlock() RELEASE() { keel_port_mutex_unlock(m_storage); }
	/**
	 * is_locked() - is it held by anyone? (for assertions)
	 *
	 * Context: any.
	 * Return: true when held.
	 */
	bool is_locked() { return keel_port_mutex_is_locked(m_storage) != 0; }
	/**
	 * assert_held() - tell the thread-safety analysis the caller holds it
	 *
	 * Checks nothing at run time.
	 *
	 * Context: the holder.
	 */
	void assert_held() const KEEL_TA(assert_capability(this)) {}

private:
	alignas(KEEL_MUTEX_ALIGN) unsigned char m_storage[KEEL_MUTEX_SIZE];
};

/* RAII guards. Guard{spinlock} disables interrupts (irqsave): the safe default. */
template <typename L> class Guard;

/**
 * class Guard<SpinLock> - holds a spinlock, interrupts off, for a scope
 *
 * "Guard g{ m_lock };" takes it with lock_irqsave() and releases it with
 * unlock_irqrestore() when the scope ends (Linux guard(spinlock_irqsave)).
 */
template <> class SCOPED_CAPABILITY Guard<SpinLock> : NonMovable {
public:
	/**
	 * Guard() - take @l, interrupts off
	 * @l: the spinlock
	 *
	 * Context: any.
	 */
	explicit Guard(SpinLock &l) ACQUIRE(l) : m_lock(l), m_flags(l.lock_irqsave()) {}
	~Guard() RELEASE() { m_lock.unlock_irqrestore(m_flags); }

private:
	SpinLock &m_lock;
	unsigned long m_flags;
};

/**
 * class Guard<Mutex> - holds a mutex for a scope (Linux guard(mutex))
 */
template <> class SCOPED_CAPABILITY Guard<Mutex> : NonMovable {
public:
	/**
	 * Guard() - take @l
	 * @l: the mutex
	 *
	 * Context: may sleep.
	 */
	explicit Guard(Mutex &l) ACQUIRE(l) : m_lock(l) { l.lock(); }
	/**
	 * Guard() - take @l nested in a lock of its class (Mutex::lock_nested())
	 * @l: the mutex
	 * @subclass: the nesting level
	 *
	 * Context: may sleep.
	 */
	Guard(Mutex &l, unsigned int subclass) ACQUIRE(l) : m_lock(l) { l.lock_nested(subclass); }
	~Guard() RELEASE() { m_lock.unlock(); }

private:
	Mutex &m_lock;
};

Guard(SpinLock &)->Guard<SpinLock>;
Guard(Mutex &)->Guard<Mutex>;
Guard(Mutex &, unsigned int)->Guard<Mutex>;

/**
 * class SpinGuardNoIrq - holds a spinlock for a scope, interrupts untouched
 *
 * For code that knows interrupts are already off (an interrupt handler)
 * or that the lock is never taken from one.
 */
class SCOPED_CAPABILITY SpinGuardNoIrq : NonMovable {
public:
	/**
	 * SpinGuardNoIrq() - take @l with SpinLock::lock()
	 * @l: the spinlock
	 *
	 * Context: any.
	 */
	explicit SpinGuardNoIrq(SpinLock &l) ACQUIRE(l) : m_lock(l) { l.lock(); }
	~SpinGuardNoIrq() RELEASE() { m_lock.unlock(); }

private:
	SpinLock &m_lock;
};

/**
 * class Locked - small state behind its own lock (SerenityOS SpinlockProtected)
 *
 * The value is reachable only inside with(), under m_lock, which guards
 * nothing else. The lock's class is the declaration's::
 *
 *	Locked<u32> m_count{ "rpmsg_count", KEEL_LOCK_KEY(), 0 };
 */
template <typename T, typename L = SpinLock> class Locked : NonMovable {
public:
	/**
	 * Locked() - a value made from @args, and its lock
	 * @name: the lock's class name
	 * @key: the lock's class key (KEEL_LOCK_KEY())
	 * @args: the arguments of T's constructor
	 *
	 * Context: any.
	 */
	template <typename... Args>
	Locked(const char *name, keel_lock_key *key, Args &&...args)
	    : m_lock(name, key), m_value(forward<Args>(args)...)
	{
	}
	/**
	 * with() - run @f on the value with the lock held
	 * @f: called with a reference to the value; must not sleep when L is
	 *	a SpinLock, and must not keep the reference
	 *
	 * Context: any for a SpinLock (interrupts off meanwhile); may sleep for
	 * a Mutex.
	 * Return: what @f returns.
	 */
	template <typename F> decltype(auto) with(F f)
	{
		Guard g{ m_lock };
		return f(m_value);
	}

private:
	L m_lock;
	T m_value GUARDED_BY(m_lock);
};

} // namespace keel

#endif
