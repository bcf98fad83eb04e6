// SPDX-License-Identifier: GPL-2.0
/* Thread (kthread_run/kthread_stop): results, should_stop(), signals. */
#include <keel/test.h>
#include <keel/thread.h>
#include <keel/time.h>
#include <keel/wait.h>

using namespace keel;
using namespace keel::test;

namespace {

void stop_returns_the_thread_result(Test &t)
{
	auto r = Thread::run([](void *) { return 42; }, nullptr, "result");
	ASSERT_OK(t, r);
	msleep(5); /* the function has most likely returned already */
	EXPECT_EQ(t, r.value()->stop(), 42);
}

struct Loop {
	u64 iterations; /* atomic */
	int saw_stop;
};

int loop_until_stopped(void *p)
{
	auto *l = static_cast<Loop *>(p);
	while (!Thread::should_stop()) {
		__atomic_add_fetch(&l->iterations, 1, __ATOMIC_RELAXED);
		msleep(1);
	}
	l->saw_stop = 1;
	return -5;
}

void should_stop_turns_true_on_stop(Test &t)
{
	Loop l{ 0, 0 };
	auto r = Thread::run(loop_until_stopped, &l, "looper");
	ASSERT_OK(t, r);
	while (__atomic_load_n(&l.iterations, __ATOMIC_RELAXED) < 3)
		msleep(1);
	EXPECT_EQ(t, r.value()->stop(), -5);
	EXPECT_EQ(t, l.saw_stop, 1);
}

void caller_thread_is_not_stopped_or_signalled(Test &t)
{
	/* The test runner's own thread was not started by Thread::run(). */
	EXPECT_FALSE(t, Thread::should_stop());
	EXPECT_FALSE(t, Thread::signal_pending());
	Thread::allow_signal();
	Thread::flush_signals();
	EXPECT_FALSE(t, Thread::signal_pending());
}

struct SigArg {
	Completion allowed{ "thread_allowed", KEEL_LOCK_KEY() };
	Completion signalled{ "thread_signalled", KEEL_LOCK_KEY() };
	Completion reported{ "thread_reported", KEEL_LOCK_KEY() };
	int pending = -1;
	int after_flush = -1;
};

int report_signal(void *p)
{
	auto *a = static_cast<SigArg *>(p);
	Thread::allow_signal();
	a->allowed.complete();
	a->signalled.wait();
	a->pending = Thread::signal_pending();
	Thread::flush_signals();
	a->after_flush = Thread::signal_pending();
	a->reported.complete();
	return 0;
}

void signal_sets_pending_until_flushed(Test &t)
{
	SigArg a;
	auto r = Thread::run(report_signal, &a, "sig");
	ASSERT_OK(t, r);
	a.allowed.wait();
	r.value()->signal();
	a.signalled.complete();
	/*
	 * Only then stop(): kthread_stop() sets TIF_NOTIFY_SIGNAL, which makes
	 * signal_pending() true for good (flush_signals() does not clear it).
	 */
	bool reported = EXPECT_GT(t, a.reported.wait_timeout(ms_to_ns(5000)), 0);
	r.value()->stop();
	if (!reported)
		return;
	EXPECT_EQ(t, a.pending, 1);
	EXPECT_EQ(t, a.after_flush, 0);
}

void many_threads_start_and_stop(Test &t)
{
	constexpr int N = 16;
	Thread *th[N] = {};
	static int values[N];
	for (int i = 0; i < N; i++) {
		values[i] = i;
		auto r = Thread::run([](void *p) { return *static_cast<int *>(p) * 2; }, &values[i],
				     "many");
		EXPECT_OK(t, r);
		if (r.is_ok())
			th[i] = r.value();
	}
	for (int i = 0; i < N; i++)
		if (th[i])
			EXPECT_EQ(t, th[i]->stop(), i * 2);
}

const TestCase thread_cases[] = {
	KEEL_CASE(stop_returns_the_thread_result),
	KEEL_CASE(should_stop_turns_true_on_stop),
	KEEL_CASE(caller_thread_is_not_stopped_or_signalled),
	KEEL_CASE(signal_sets_pending_until_flushed),
	KEEL_CASE(many_threads_start_and_stop),
	{},
};

const TestSuite thread_suite = { .name = "keel_thread", .cases = thread_cases };

} // namespace

KEEL_TEST_SUITE(thread_suite);
