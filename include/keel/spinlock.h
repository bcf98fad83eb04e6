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

template <typename Tag, typename Site> struct LockSubSite {
};

/*
 * LockSite<Site>: a lock declaration site, made by KEEL_LOCK_KEY(). It
 * converts to the site's class key (what SpinLock, Mutex, WaitQueue and Work
 * take); an object that holds more than one lock (Completion) derives one
 * more class per lock from the same site with key<Tag>().
 *
 * The key is an inline variable: a site in a header that is constructed in
 * two modules is two classes, one per module, as with a static inline
 * function of a kernel header. Lockdep needs nothing else to agree on.
 */
template <typename Site> struct LockSite {
	constexpr operator keel_lock_key *() const { return &lock_key_for<Site>; }
	template <typename Tag> static constexpr keel_lock_key *key()
	{
		return &lock_key_for<LockSubSite<Tag, Site>>;
	}
};
} // namespace keel

/*
 * KEEL_LOCK_KEY(): the lockdep class of this source location (each lambda
 * expression has a type of its own). Usage:
 *	Mutex m_lock{ "rpmsg_ept_lock", KEEL_LOCK_KEY() };
 */
#define KEEL_LOCK_KEY() (::keel::LockSite<decltype([] {})>{})

namespace keel {

class CAPABILITY("spinlock") SpinLock : NonMovable {
public:
	/*
	 * @name and @key name the lock class for lockdep (Linux port). The key
	 * must be a static object unique to the declaration site.
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

	void lock() ACQUIRE() { keel_port_spin_lock(m_storage); }
	void unlock() RELEASE() { keel_port_spin_unlock(m_storage); }
	bool try_lock() TRY_ACQUIRE(true) { return keel_port_spin_trylock(m_storage) != 0; }
	/* spin_trylock_irqsave(): true with @flags set for unlock_irqrestore(). */
	bool try_lock_irqsave(unsigned long &flags) TRY_ACQUIRE(true)
	{
		return keel_port_spin_trylock_irqsave(m_storage, &flags) != 0;
	}
	[[nodiscard]] unsigned long lock_irqsave() ACQUIRE()
	{
		return keel_port_spin_lock_irqsave(m_storage);
	}
	void unlock_irqrestore(unsigned long flags) RELEASE()
	{
		keel_port_spin_unlock_irqrestore(m_storage, flags);
	}
	/* For lockdep-less assertions: documents that the caller holds it. */
	void assert_held() const KEEL_TA(assert_capability(this)) {}

private:
	alignas(KEEL_SPINLOCK_ALIGN) unsigned char m_storage[KEEL_SPINLOCK_SIZE];
};

class CAPABILITY("mutex") Mutex : NonMovable {
public:
	/* As for SpinLock: @key is static and unique to the declaration site. */
	Mutex(const char *name, keel_lock_key *key)
	{
		keel_port_mutex_init(m_storage, keel_lock_class_name(key, name), key);
	}
	~Mutex() { keel_port_mutex_destroy(m_storage); }

	/* Context: may sleep. */
	void lock() ACQUIRE()
	{
		keel_port_might_sleep(__FILE__, __LINE__);
		keel_port_mutex_lock(m_storage);
	}
	/* Nested acquisition of the same class (parent then child device). */
	void lock_nested(unsigned int subclass) ACQUIRE()
	{
		keel_port_might_sleep(__FILE__, __LINE__);
		keel_port_mutex_lock_nested(m_storage, subclass);
	}
	/* Returns -EINTR when a signal arrives first (the lock is then not held). */
	[[nodiscard]] int lock_interruptible() TRY_ACQUIRE(0)
	{
		keel_port_might_sleep(__FILE__, __LINE__);
		return keel_port_mutex_lock_interruptible(m_storage);
	}
	bool try_lock() TRY_ACQUIRE(true) { return keel_port_mutex_trylock(m_storage) != 0; }
	void unlock() RELEASE() { keel_port_mutex_unlock(m_storage); }
	bool is_locked() { return keel_port_mutex_is_locked(m_storage) != 0; }
	void assert_held() const KEEL_TA(assert_capability(this)) {}

private:
	alignas(KEEL_MUTEX_ALIGN) unsigned char m_storage[KEEL_MUTEX_SIZE];
};

/* RAII guards. Guard{spinlock} disables interrupts (irqsave): the safe default. */
template <typename L> class Guard;

template <> class SCOPED_CAPABILITY Guard<SpinLock> : NonMovable {
public:
	explicit Guard(SpinLock &l) ACQUIRE(l) : m_lock(l), m_flags(l.lock_irqsave()) {}
	~Guard() RELEASE() { m_lock.unlock_irqrestore(m_flags); }

private:
	SpinLock &m_lock;
	unsigned long m_flags;
};

template <> class SCOPED_CAPABILITY Guard<Mutex> : NonMovable {
public:
	explicit Guard(Mutex &l) ACQUIRE(l) : m_lock(l) { l.lock(); }
	Guard(Mutex &l, unsigned int subclass) ACQUIRE(l) : m_lock(l) { l.lock_nested(subclass); }
	~Guard() RELEASE() { m_lock.unlock(); }

private:
	Mutex &m_lock;
};

Guard(SpinLock &)->Guard<SpinLock>;
Guard(Mutex &)->Guard<Mutex>;
Guard(Mutex &, unsigned int)->Guard<Mutex>;

/* A spinlock guard that leaves interrupts alone (caller knows IRQs are off). */
class SCOPED_CAPABILITY SpinGuardNoIrq : NonMovable {
public:
	explicit SpinGuardNoIrq(SpinLock &l) ACQUIRE(l) : m_lock(l) { l.lock(); }
	~SpinGuardNoIrq() RELEASE() { m_lock.unlock(); }

private:
	SpinLock &m_lock;
};

/*
 * Locked<T>: small state behind its own lock, reachable only inside with()
 * (SerenityOS SpinlockProtected). The lock's class is the declaration's:
 *	Locked<u32> m_count{ "rpmsg_count", KEEL_LOCK_KEY(), 0 };
 */
template <typename T, typename L = SpinLock> class Locked : NonMovable {
public:
	template <typename... Args>
	Locked(const char *name, keel_lock_key *key, Args &&...args)
	    : m_lock(name, key), m_value(forward<Args>(args)...)
	{
	}
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
