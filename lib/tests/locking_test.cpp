// SPDX-License-Identifier: GPL-2.0
/*
 * SpinLock, Mutex, Guard and Locked<T>: mutual exclusion under contention,
 * trylock, is_locked, and mutex_lock_interruptible() against signals.
 */
#include <keel/spinlock.h>
#include <keel/test.h>
#include <keel/thread.h>
#include <keel/time.h>
#include <keel/wait.h>

using namespace keel;
using namespace keel::test;

namespace {

constexpr int NR_THREADS = 4;
constexpr int ITERATIONS = 2000;

/*
 * The protected counter is incremented in two halves with a window in
 * between, so that a lock that does not exclude loses updates quickly.
 */
template <typename L> struct Shared {
	L lock{ "locking_test_shared", KEEL_LOCK_KEY() };
	u64 counter GUARDED_BY(lock) = 0;
	u32 inside = 0;	    /* threads inside the critical section (atomic) */
	u32 violations = 0; /* atomic */
};

template <typename L> int hammer(void *arg)
{
	auto *s = static_cast<Shared<L> *>(arg);
	for (int i = 0; i < ITERATIONS; i++) {
		Guard g{ s->lock };
		if (__atomic_add_fetch(&s->inside, 1, __ATOMIC_RELAXED) != 1)
			__atomic_add_fetch(&s->violations, 1, __ATOMIC_RELAXED);
		u64 v = s->counter;
		if ((i & 63) == 0)
			cpu_relax();
		s->counter = v + 1;
		__atomic_sub_fetch(&s->inside, 1, __ATOMIC_RELAXED);
	}
	return 0;
}

template <typename L> void check_exclusion(Test &t)
{
	Shared<L> s;
	Thread *th[NR_THREADS] = {};
	/*
	 * No ASSERT while hammers run: they use @s, on this frame. A thread
	 * that does not start is a failure, after the others have stopped.
	 */
	int started = 0;
	for (auto &p : th) {
		auto r = Thread::run(hammer<L>, &s, "lock_hammer");
		EXPECT_OK(t, r);
		if (r.is_error())
			break;
		p = r.value();
		started++;
	}
	for (auto *p : th)
		if (p)
			EXPECT_EQ(t, p->stop(), 0);
	if (started != NR_THREADS)
		return;
	Guard g{ s.lock };
	EXPECT_EQ(t, s.counter, u64(NR_THREADS) * ITERATIONS);
	EXPECT_EQ(t, __atomic_load_n(&s.violations, __ATOMIC_RELAXED), 0u);
}

void spinlock_excludes_concurrent_holders(Test &t)
{
	check_exclusion<SpinLock>(t);
}

void mutex_excludes_concurrent_holders(Test &t)
{
	check_exclusion<Mutex>(t);
}

/* Tries a lock from another thread and reports whether it got it. */
template <typename L> struct TryArg {
	L *lock;
	int got;
};

template <typename L> int try_from_thread(void *arg)
{
	auto *a = static_cast<TryArg<L> *>(arg);
	if (a->lock->try_lock()) {
		a->got = 1;
		a->lock->unlock();
	}
	return 0;
}

template <typename L> int try_once_elsewhere(Test &t, L &lock)
{
	TryArg<L> a{ &lock, 0 };
	auto r = Thread::run(try_from_thread<L>, &a, "try_lock");
	if (r.is_error())
		return -1;
	r.value()->stop();
	return a.got;
}

/*
 * The holder of a spinlock may not sleep, so the other thread is started
 * first and the two hand over through spinning on a phase word.
 */
struct SpinTry {
	SpinLock *lock;
	u32 phase; /* atomic: 1 held by main, 2 tried */
	int got;
};

int spin_try_thread(void *p)
{
	auto *s = static_cast<SpinTry *>(p);
	while (__atomic_load_n(&s->phase, __ATOMIC_ACQUIRE) != 1)
		cpu_relax();
	if (s->lock->try_lock()) {
		s->got = 1;
		s->lock->unlock();
	}
	__atomic_store_n(&s->phase, 2, __ATOMIC_RELEASE);
	return 0;
}

void spinlock_trylock_fails_while_held(Test &t)
{
	SpinLock lock{ "locking_test_lock", KEEL_LOCK_KEY() };
	SpinTry s{ &lock, 0, 0 };
	auto r = Thread::run(spin_try_thread, &s, "spin_try");
	ASSERT_OK(t, r);
	lock.lock();
	__atomic_store_n(&s.phase, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&s.phase, __ATOMIC_ACQUIRE) != 2)
		cpu_relax();
	lock.unlock();
	r.value()->stop();
	EXPECT_EQ(t, s.got, 0);
	EXPECT_EQ(t, try_once_elsewhere(t, lock), 1);
	if (lock.try_lock())
		lock.unlock();
	else
		EXPECT_FAIL(t, "try_lock of a free spinlock failed");
}

void spinlock_holder_is_atomic(Test &t)
{
	SpinLock lock{ "locking_test_lock", KEEL_LOCK_KEY() };
	EXPECT_FALSE(t, keel_port_in_atomic());
	{
		Guard g{ lock };
		EXPECT_TRUE(t, keel_port_in_atomic());
	}
	{
		SpinGuardNoIrq g{ lock };
		EXPECT_TRUE(t, keel_port_in_atomic());
	}
	EXPECT_FALSE(t, keel_port_in_atomic());
}

void mutex_trylock_and_is_locked(Test &t)
{
	Mutex m{ "locking_m", KEEL_LOCK_KEY() };
	EXPECT_FALSE(t, m.is_locked());
	m.lock();
	EXPECT_TRUE(t, m.is_locked());
	EXPECT_EQ(t, try_once_elsewhere(t, m), 0);
	m.unlock();
	EXPECT_FALSE(t, m.is_locked());
	EXPECT_EQ(t, try_once_elsewhere(t, m), 1);
	if (m.try_lock()) {
		EXPECT_TRUE(t, m.is_locked());
		m.unlock();
	} else {
		EXPECT_FAIL(t, "try_lock of a free mutex failed");
	}
}

void mutex_guard_nested_subclass_locks(Test &t)
{
	/* One class, as for two device locks: the child is taken as subclass 1. */
	keel_lock_key *key = KEEL_LOCK_KEY();
	Mutex parent{ "locking_nested", key }, child{ "locking_nested", key };
	{
		Guard gp{ parent };
		Guard gc{ child, 1u };
		EXPECT_TRUE(t, parent.is_locked());
		EXPECT_TRUE(t, child.is_locked());
	}
	EXPECT_FALSE(t, parent.is_locked());
	EXPECT_FALSE(t, child.is_locked());
}

struct InterruptArg {
	Mutex *m;
	Completion ready{ "locking_ready", KEEL_LOCK_KEY() };
	Completion done{ "locking_done", KEEL_LOCK_KEY() }; /* @ret and @waited_ns are set */
	int ret = 1;
	s64 waited_ns = 0;
};

int lock_interruptible_thread(void *p)
{
	auto *a = static_cast<InterruptArg *>(p);
	Thread::allow_signal();
	a->ready.complete();
	s64 start = ktime_get_ns();
	int ret = a->m->lock_interruptible();
	a->waited_ns = ktime_get_ns() - start;
	a->ret = ret;
	if (ret == 0)
		a->m->unlock();
	a->done.complete();
	return 0;
}

void mutex_lock_interruptible_returns_eintr_on_signal(Test &t)
{
	Mutex m{ "locking_m", KEEL_LOCK_KEY() };
	InterruptArg a;
	a.m = &m;
	m.lock();
	auto r = Thread::run(lock_interruptible_thread, &a, "mtx_intr");
	if (r.is_error()) {
		m.unlock();
		EXPECT_OK(t, r);
		return;
	}
	a.ready.wait();
	/* Let it block on the mutex (if it has not yet, the pending signal still wins). */
	msleep(20);
	r.value()->signal();
	/*
	 * Interrupted by the signal before stop(), whose TIF_NOTIFY_SIGNAL would
	 * interrupt it too. If it was not, unlocking lets it return (with 0).
	 */
	EXPECT_GT(t, a.done.wait_timeout(ms_to_ns(5000)), 0);
	m.unlock();
	r.value()->stop();
	EXPECT_EQ(t, a.ret, -EINTR);
	/* Interrupted promptly, not when the holder let go. */
	EXPECT_LT(t, a.waited_ns, ms_to_ns(5000));
}

void mutex_lock_interruptible_gets_lock_when_released(Test &t)
{
	Mutex m{ "locking_m", KEEL_LOCK_KEY() };
	InterruptArg a;
	a.m = &m;
	m.lock();
	auto r = Thread::run(lock_interruptible_thread, &a, "mtx_intr");
	if (r.is_error()) {
		m.unlock();
		EXPECT_OK(t, r);
		return;
	}
	a.ready.wait();
	msleep(10);
	m.unlock();
	/* Locked before stop(), which would interrupt the wait (TIF_NOTIFY_SIGNAL). */
	EXPECT_GT(t, a.done.wait_timeout(ms_to_ns(5000)), 0);
	r.value()->stop();
	EXPECT_EQ(t, a.ret, 0);
	EXPECT_FALSE(t, m.is_locked());
}

void locked_with_runs_under_lock(Test &t)
{
	Locked<int> v{ "locking_locked", KEEL_LOCK_KEY(), 41 };
	int seen = v.with([&](int &x) {
		EXPECT_TRUE(t, keel_port_in_atomic());
		return ++x;
	});
	EXPECT_EQ(t, seen, 42);
	EXPECT_EQ(t, v.with([](int &x) { return x; }), 42);
}

const TestCase locking_cases[] = {
	KEEL_CASE(spinlock_excludes_concurrent_holders),
	KEEL_CASE(mutex_excludes_concurrent_holders),
	KEEL_CASE(spinlock_trylock_fails_while_held),
	KEEL_CASE(spinlock_holder_is_atomic),
	KEEL_CASE(mutex_trylock_and_is_locked),
	KEEL_CASE(mutex_guard_nested_subclass_locks),
	KEEL_CASE(mutex_lock_interruptible_returns_eintr_on_signal),
	KEEL_CASE(mutex_lock_interruptible_gets_lock_when_released),
	KEEL_CASE(locked_with_runs_under_lock),
	{},
};

const TestSuite locking_suite = { .name = "keel_locking", .cases = locking_cases };

} // namespace

KEEL_TEST_SUITE(locking_suite);
