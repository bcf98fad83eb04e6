// SPDX-License-Identifier: GPL-2.0
/*
 * Completion: counted complete(), complete_all(), reinit(), timeouts,
 * interruptible waits, and completions on the waiter's stack.
 *
 * Waiter threads report that their wait returned (Waiters::returned) and the
 * test checks how before it stops them: kthread_stop() sets
 * TIF_NOTIFY_SIGNAL, which would itself end an interruptible wait with
 * -ERESTARTSYS.
 */
#include <keel/test.h>
#include <keel/thread.h>
#include <keel/time.h>
#include <keel/wait.h>

using namespace keel;
using namespace keel::test;

namespace {

void complete_before_wait_returns_at_once(Test &t)
{
	Completion c{ "completion_c", KEEL_LOCK_KEY() };
	EXPECT_FALSE(t, c.done());
	c.complete();
	EXPECT_TRUE(t, c.done());
	EXPECT_EQ(t, c.wait_timeout(ms_to_ns(100)), ms_to_ns(100));
	EXPECT_FALSE(t, c.done());
}

void each_complete_releases_one_wait(Test &t)
{
	Completion c{ "completion_c", KEEL_LOCK_KEY() };
	c.complete();
	c.complete();
	EXPECT_TRUE(t, c.try_wait());
	EXPECT_TRUE(t, c.try_wait());
	EXPECT_FALSE(t, c.try_wait());
	EXPECT_EQ(t, c.wait_timeout(ms_to_ns(5)), 0);
}

void complete_all_releases_every_wait_until_reinit(Test &t)
{
	Completion c{ "completion_c", KEEL_LOCK_KEY() };
	c.complete_all();
	for (int i = 0; i < 5; i++)
		EXPECT_GT(t, c.wait_timeout(ms_to_ns(10)), 0);
	EXPECT_TRUE(t, c.done());
	c.reinit();
	EXPECT_FALSE(t, c.done());
	EXPECT_FALSE(t, c.try_wait());
}

void wait_timeout_returns_zero_when_never_completed(Test &t)
{
	Completion c{ "completion_c", KEEL_LOCK_KEY() };
	s64 start = ktime_get_ns();
	EXPECT_EQ(t, c.wait_timeout(ms_to_ns(20)), 0);
	EXPECT_GE(t, ktime_get_ns() - start, ms_to_ns(20));
}

struct Waiters {
	Completion go{ "completion_go", KEEL_LOCK_KEY() };
	Completion started{ "completion_started", KEEL_LOCK_KEY() };
	Completion returned{ "completion_returned",
			     KEEL_LOCK_KEY() }; /* once per waiter whose wait returned */
	int woken = 0;				/* atomic */
	int interrupted = 0;			/* atomic */
	bool allow_signal = false;

	int n_woken() const { return __atomic_load_n(&woken, __ATOMIC_RELAXED); }
	int n_interrupted() const { return __atomic_load_n(&interrupted, __ATOMIC_RELAXED); }
};

int wait_for_go(void *p)
{
	auto *w = static_cast<Waiters *>(p);
	if (w->allow_signal)
		Thread::allow_signal();
	w->started.complete();
	int r = w->go.wait_interruptible();
	if (r == -ERESTARTSYS)
		__atomic_add_fetch(&w->interrupted, 1, __ATOMIC_RELAXED);
	else if (r == 0)
		__atomic_add_fetch(&w->woken, 1, __ATOMIC_RELAXED);
	w->returned.complete();
	return r;
}

void complete_all_wakes_every_sleeping_waiter(Test &t)
{
	Waiters w;
	Thread *th[3] = {};
	for (auto &p : th) {
		auto r = Thread::run(wait_for_go, &w, "compl_wait");
		EXPECT_OK(t, r);
		if (r.is_ok())
			p = r.value();
	}
	for (auto *p : th)
		if (p)
			w.started.wait();
	msleep(10);
	w.go.complete_all();
	int started = 0;
	for (auto *p : th)
		started += p != nullptr;
	/* Every waiter returns from complete_all() alone, before any stop(). */
	for (int i = 0; i < started; i++)
		EXPECT_GT(t, w.returned.wait_timeout(ms_to_ns(5000)), 0);
	EXPECT_EQ(t, w.n_woken(), started);
	EXPECT_EQ(t, w.n_interrupted(), 0);
	for (auto *p : th)
		if (p)
			EXPECT_EQ(t, p->stop(), 0);
}

void complete_wakes_exactly_one_of_two_waiters(Test &t)
{
	Waiters w;
	w.allow_signal = true;
	Thread *a = Thread::run(wait_for_go, &w, "compl_a").value_or(nullptr);
	Thread *b = Thread::run(wait_for_go, &w, "compl_b").value_or(nullptr);
	if (!a || !b) {
		/* Not one ASSERT while a started waiter still uses @w, on this frame. */
		w.go.complete_all();
		if (a)
			a->stop();
		if (b)
			b->stop();
		EXPECT_FAIL(t, "could not start two waiters");
		return;
	}
	w.started.wait();
	w.started.wait();
	w.go.complete();
	/* Exactly one consumes it; the other keeps sleeping until signalled. */
	for (int i = 0; i < 500 && __atomic_load_n(&w.woken, __ATOMIC_RELAXED) == 0; i++)
		msleep(2);
	msleep(20);
	EXPECT_EQ(t, w.n_woken(), 1);
	a->signal();
	b->signal();
	/* The other one is interrupted by its signal, not by stop(). */
	for (int i = 0; i < 2; i++)
		EXPECT_GT(t, w.returned.wait_timeout(ms_to_ns(5000)), 0);
	EXPECT_EQ(t, w.n_woken(), 1);
	EXPECT_EQ(t, w.n_interrupted(), 1);
	a->stop();
	b->stop();
}

void signal_interrupts_wait_interruptible(Test &t)
{
	Waiters w;
	w.allow_signal = true;
	auto r = Thread::run(wait_for_go, &w, "compl_sig");
	ASSERT_OK(t, r);
	w.started.wait();
	msleep(10);
	r.value()->signal();
	/* Interrupted by the signal, before stop() could. */
	EXPECT_GT(t, w.returned.wait_timeout(ms_to_ns(5000)), 0);
	EXPECT_EQ(t, w.n_interrupted(), 1);
	EXPECT_EQ(t, r.value()->stop(), -ERESTARTSYS);
	EXPECT_EQ(t, w.n_interrupted(), 1);
	/* The event was not consumed by the interrupted waiter. */
	w.go.complete();
	EXPECT_TRUE(t, w.go.try_wait());
}

/*
 * A waiter that owns its completion (on its stack, or freed right after the
 * wait, as here so that ASan sees any late touch) may free it as soon as
 * the wait returns: complete() must be done with the object by then.
 */
struct Handoff {
	Completion *slot; /* published by the waiter (atomic) */
};

int complete_published(void *p)
{
	auto *h = static_cast<Handoff *>(p);
	while (!Thread::should_stop()) {
		Completion *c = __atomic_exchange_n(&h->slot, nullptr, __ATOMIC_ACQ_REL);
		if (c)
			c->complete();
		else
			cpu_relax();
	}
	return 0;
}

void waiter_may_free_its_completion_when_wait_returns(Test &t)
{
	Handoff h{ nullptr };
	auto r = Thread::run(complete_published, &h, "completer");
	ASSERT_OK(t, r);
	int ok = 0;
	for (int i = 0; i < 300; i++) {
		auto c = make_unique<Completion>(GFP_KERNEL, "completion_freed", KEEL_LOCK_KEY());
		if (c.is_error())
			break;
		Completion *cp = c.value().get();
		__atomic_store_n(&h.slot, cp, __ATOMIC_RELEASE);
		if (i % 2) {
			if (cp->wait_timeout(ms_to_ns(2000)) > 0)
				ok++;
		} else {
			/* Polling sees the count the moment it changes: the widest window. */
			s64 end = ktime_get_ns() + ms_to_ns(2000);
			while (!cp->try_wait() && ktime_get_ns() < end)
				cpu_relax();
			ok += ktime_get_ns() < end;
		}
		/* Freed here, possibly while complete() is still returning. */
	}
	r.value()->stop();
	EXPECT_EQ(t, ok, 300);
}

const TestCase completion_cases[] = {
	KEEL_CASE(complete_before_wait_returns_at_once),
	KEEL_CASE(each_complete_releases_one_wait),
	KEEL_CASE(complete_all_releases_every_wait_until_reinit),
	KEEL_CASE(wait_timeout_returns_zero_when_never_completed),
	KEEL_CASE(complete_all_wakes_every_sleeping_waiter),
	KEEL_CASE(complete_wakes_exactly_one_of_two_waiters),
	KEEL_CASE(signal_interrupts_wait_interruptible),
	KEEL_CASE(waiter_may_free_its_completion_when_wait_returns),
	{},
};

const TestSuite completion_suite = { .name = "keel_completion", .cases = completion_cases };

} // namespace

KEEL_TEST_SUITE(completion_suite);
