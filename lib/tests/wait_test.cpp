// SPDX-License-Identifier: GPL-2.0
/*
 * WaitQueue: wake-ups, timeouts and the remaining time, signals against
 * interruptible waits, kthread_stop() waking a sleeper, and no lost wake-up
 * under a ping-pong stress.
 *
 * A waiting thread reports its result (a Completion the test waits on, with
 * a timeout) before the test stops it: kthread_stop() wakes the thread and
 * sets TIF_NOTIFY_SIGNAL, which ends any interruptible wait with
 * -ERESTARTSYS, so a result read only after stop() says little about the
 * wake-up or the signal under test.
 */
#include <keel/atomic.h>
#include <keel/test.h>
#include <keel/thread.h>
#include <keel/time.h>
#include <keel/wait.h>

using namespace keel;
using namespace keel::test;

namespace {

struct Waiter {
	WaitQueue wq{ "wait_wq", KEEL_LOCK_KEY() };
	Completion started{ "wait_started", KEEL_LOCK_KEY() };
	Completion finished{ "wait_finished", KEEL_LOCK_KEY() }; /* @ret and @elapsed_ns are set */
	int flag = 0;						 /* atomic */
	bool allow_signal = false;
	s64 timeout_ns = TIMEOUT_INFINITE;
	s64 ret = 12345;
	s64 elapsed_ns = 0;

	bool flag_set() const { return __atomic_load_n(&flag, __ATOMIC_ACQUIRE) != 0; }
	void set_flag()
	{
		__atomic_store_n(&flag, 1, __ATOMIC_RELEASE);
		wq.wake_up();
	}
};

int wait_uninterruptible(void *p)
{
	auto *w = static_cast<Waiter *>(p);
	w->started.complete();
	s64 start = ktime_get_ns();
	w->ret = w->wq.wait_event_timeout([w] { return w->flag_set(); }, w->timeout_ns);
	w->elapsed_ns = ktime_get_ns() - start;
	w->finished.complete();
	return 0;
}

int wait_interruptible(void *p)
{
	auto *w = static_cast<Waiter *>(p);
	if (w->allow_signal)
		Thread::allow_signal();
	w->started.complete();
	s64 start = ktime_get_ns();
	w->ret = w->wq.wait_event_interruptible_timeout([w] { return w->flag_set(); },
							w->timeout_ns);
	w->elapsed_ns = ktime_get_ns() - start;
	w->finished.complete();
	return 0;
}

Thread *start(Test &t, Thread::Fn fn, Waiter &w)
{
	auto r = Thread::run(fn, &w, "waiter");
	if (r.is_error()) {
		EXPECT_OK(t, r);
		return nullptr;
	}
	w.started.wait();
	return r.value();
}

/*
 * Waits (bounded) until the waiter recorded its result, then stops it. If it
 * did not finish, the failure is recorded and the flag set so that it
 * returns; false then: its result is not the one under test.
 */
bool finish(Test &t, Thread *th, Waiter &w)
{
	bool finished = EXPECT_GT(t, w.finished.wait_timeout(ms_to_ns(5000)), 0);
	if (!finished)
		w.set_flag();
	th->stop();
	return finished;
}

void wake_up_wakes_a_sleeping_waiter(Test &t)
{
	Waiter w;
	Thread *th = start(t, wait_uninterruptible, w);
	ASSERT_NOT_NULL(t, th);
	msleep(10);
	w.set_flag();
	if (!finish(t, th, w))
		return;
	EXPECT_EQ(t, w.ret, TIMEOUT_INFINITE);
}

struct Shared {
	WaitQueue wq{ "wait_wq", KEEL_LOCK_KEY() };
	int flag = 0;  /* atomic */
	int woken = 0; /* atomic */
	Completion started{ "wait_started", KEEL_LOCK_KEY() };
	Completion woke{ "wait_woke", KEEL_LOCK_KEY() };
};

int wait_shared(void *p)
{
	auto *sh = static_cast<Shared *>(p);
	sh->started.complete();
	sh->wq.wait_event([sh] { return __atomic_load_n(&sh->flag, __ATOMIC_ACQUIRE) != 0; });
	__atomic_add_fetch(&sh->woken, 1, __ATOMIC_RELAXED);
	sh->woke.complete();
	return 0;
}

void wake_up_wakes_every_waiter(Test &t)
{
	constexpr int N = 4;
	Shared sh;
	Thread *th[N] = {};
	int n = 0;
	for (auto &p : th) {
		auto r = Thread::run(wait_shared, &sh, "waiter");
		EXPECT_OK(t, r);
		if (r.is_ok()) {
			p = r.value();
			sh.started.wait();
			n++;
		}
	}
	msleep(10);
	__atomic_store_n(&sh.flag, 1, __ATOMIC_RELEASE);
	sh.wq.wake_up();
	/* Woken by the one wake_up(), not by stop()'s wake_up_process(). */
	for (int i = 0; i < n; i++)
		EXPECT_GT(t, sh.woke.wait_timeout(ms_to_ns(5000)), 0);
	EXPECT_EQ(t, __atomic_load_n(&sh.woken, __ATOMIC_RELAXED), n);
	for (auto *p : th)
		if (p)
			p->stop();
}

void timeout_returns_zero_after_the_timeout(Test &t)
{
	WaitQueue wq{ "wait_wq", KEEL_LOCK_KEY() };
	s64 start = ktime_get_ns();
	s64 r = wq.wait_event_timeout([] { return false; }, ms_to_ns(20));
	s64 elapsed = ktime_get_ns() - start;
	EXPECT_EQ(t, r, 0);
	EXPECT_GE(t, elapsed, ms_to_ns(20));
}

/*
 * A wait woken before its timeout returns what is left of it. Nothing here
 * bounds how long anything took (TCG and KASAN make any such bound a
 * guess); what holds at any speed:
 *  - 1 <= ret <= timeout;
 *  - ret + elapsed >= timeout - 2 ticks: the waiter measured @elapsed
 *    around the whole wait, so the time the wait used is at most that
 *    (a wait that returned 1, or any too-small remainder, fails here);
 *  - ret < timeout: the test wakes the waiter only after it is queued and
 *    has checked the condition (its second evaluation) and after a 30 ms
 *    sleep of its own, during which the waiter only has to reach its
 *    schedule() to lose at least the 2 ticks that make ret smaller (a
 *    wait that returned the whole timeout fails here).
 */
struct CountingWaiter {
	Waiter w;
	int evaluations = 0; /* atomic */
};

int wait_counting(void *p)
{
	auto *cw = static_cast<CountingWaiter *>(p);
	Waiter *w = &cw->w;
	w->started.complete();
	s64 start = ktime_get_ns();
	w->ret = w->wq.wait_event_timeout(
		[cw] {
			__atomic_add_fetch(&cw->evaluations, 1, __ATOMIC_RELEASE);
			return cw->w.flag_set();
		},
		w->timeout_ns);
	w->elapsed_ns = ktime_get_ns() - start;
	w->finished.complete();
	return 0;
}

void woken_wait_returns_remaining_time(Test &t)
{
	constexpr s64 TWO_TICKS = ms_to_ns(20); /* HZ >= 100 */
	CountingWaiter cw;
	cw.w.timeout_ns = ms_to_ns(5000);
	auto r = Thread::run(wait_counting, &cw, "waiter");
	ASSERT_OK(t, r);
	Thread *th = r.value();
	cw.w.started.wait();
	/* Queued and about to sleep: the condition was checked after prepare (bounded). */
	for (int i = 0; i < 5000 && __atomic_load_n(&cw.evaluations, __ATOMIC_ACQUIRE) < 2; i++)
		msleep(1);
	msleep(30);
	cw.w.set_flag();
	if (!finish(t, th, cw.w))
		return;
	EXPECT_GE(t, cw.w.ret, 1);
	EXPECT_LT(t, cw.w.ret, cw.w.timeout_ns);
	EXPECT_GE(t, cw.w.ret + cw.w.elapsed_ns, cw.w.timeout_ns - TWO_TICKS);
}

void true_condition_returns_whole_timeout_at_once(Test &t)
{
	WaitQueue wq{ "wait_wq", KEEL_LOCK_KEY() };
	EXPECT_EQ(t, wq.wait_event_timeout([] { return true; }, ms_to_ns(100)), ms_to_ns(100));
	/* Linux: a true condition at zero timeout still reports success (1). */
	EXPECT_EQ(t, wq.wait_event_timeout([] { return true; }, 0), 1);
	EXPECT_EQ(t, wq.wait_event_timeout([] { return false; }, 0), 0);
	EXPECT_EQ(t, wq.wait_event_interruptible([] { return true; }), 0);
}

void signal_interrupts_interruptible_wait(Test &t)
{
	Waiter w;
	w.allow_signal = true;
	Thread *th = start(t, wait_interruptible, w);
	ASSERT_NOT_NULL(t, th);
	msleep(20);
	th->signal();
	if (!finish(t, th, w))
		return;
	EXPECT_EQ(t, w.ret, -ERESTARTSYS);
}

/* A waiter that takes signals, in a 10 s interruptible wait (asleep by now, most likely). */
Thread *start_long_interruptible(Test &t, Waiter &w)
{
	w.allow_signal = true;
	w.timeout_ns = ms_to_ns(10000);
	Thread *th = start(t, wait_interruptible, w);
	if (th)
		msleep(20);
	return th;
}

void signal_interrupts_interruptible_timeout_wait_promptly(Test &t)
{
	Waiter w;
	Thread *th = start_long_interruptible(t, w);
	ASSERT_NOT_NULL(t, th);
	th->signal();
	if (!finish(t, th, w))
		return;
	EXPECT_EQ(t, w.ret, -ERESTARTSYS);
	EXPECT_LT(t, w.elapsed_ns, ms_to_ns(5000));
}

/*
 * A condition that is true when a signal wakes the waiter is a success, as
 * on Linux (the condition is looked at first): a thread stopped just as
 * what it waited for happened must not be told it was interrupted.
 */
void condition_true_at_a_signal_wins(Test &t)
{
	Waiter w;
	Thread *th = start_long_interruptible(t, w);
	ASSERT_NOT_NULL(t, th);
	/* True without a wake-up: only the signal wakes the waiter. */
	__atomic_store_n(&w.flag, 1, __ATOMIC_RELEASE);
	th->signal();
	if (!finish(t, th, w))
		return;
	EXPECT_GE(t, w.ret, 1);
}

struct SignalSteps {
	WaitQueue wq{ "wait_wq", KEEL_LOCK_KEY() };
	Completion started{ "wait_started", KEEL_LOCK_KEY() };
	Completion finished{ "wait_finished", KEEL_LOCK_KEY() };
	int go = 0;
	s64 uninterruptible = 1;
	int first = 1;
	int pending_before_flush = 0;
	s64 after_flush = 1;
	bool allow = true;
};

int signal_steps_thread(void *p)
{
	auto *s = static_cast<SignalSteps *>(p);
	if (s->allow)
		Thread::allow_signal();
	s->started.complete();
	/* Not interruptible: a signal does not end it, the condition does. */
	s->uninterruptible = s->wq.wait_event_timeout(
		[s] { return __atomic_load_n(&s->go, __ATOMIC_ACQUIRE) != 0; }, ms_to_ns(10000));
	s->first = s->wq.wait_event_interruptible([] { return false; });
	s->pending_before_flush = Thread::signal_pending();
	Thread::flush_signals();
	s->after_flush = s->wq.wait_event_interruptible_timeout([] { return false; }, ms_to_ns(10));
	s->finished.complete();
	return 0;
}

void pending_signal_fails_next_interruptible_wait_until_flushed(Test &t)
{
	SignalSteps s;
	auto r = Thread::run(signal_steps_thread, &s, "sig_steps");
	ASSERT_OK(t, r);
	s.started.wait();
	msleep(10);
	r.value()->signal();
	msleep(10);
	__atomic_store_n(&s.go, 1, __ATOMIC_RELEASE);
	s.wq.wake_up();
	/* Every step done before stop(), whose TIF_NOTIFY_SIGNAL would fail the last wait. */
	bool finished = EXPECT_GT(t, s.finished.wait_timeout(ms_to_ns(5000)), 0);
	r.value()->stop();
	if (!finished)
		return;
	EXPECT_GE(t, s.uninterruptible, 1);
	EXPECT_EQ(t, s.first, -ERESTARTSYS);
	EXPECT_EQ(t, s.pending_before_flush, 1);
	EXPECT_EQ(t, s.after_flush, 0);
}

void signal_is_ignored_without_allow_signal(Test &t)
{
	Waiter w;
	w.allow_signal = false;
	w.timeout_ns = ms_to_ns(60);
	Thread *th = start(t, wait_interruptible, w);
	ASSERT_NOT_NULL(t, th);
	th->signal();
	/* The full timeout runs out before stop(), which would interrupt it. */
	if (!finish(t, th, w))
		return;
	EXPECT_EQ(t, w.ret, 0);
	EXPECT_GE(t, w.elapsed_ns, ms_to_ns(60));
}

int sleep_until_stopped(void *p)
{
	auto *wq = static_cast<WaitQueue *>(p);
	/* Nobody calls wq->wake_up(): kthread_stop() itself must wake the thread. */
	while (!Thread::should_stop())
		wq->wait_event([] { return Thread::should_stop(); });
	return 7;
}

void stop_wakes_a_thread_sleeping_on_should_stop(Test &t)
{
	WaitQueue wq{ "wait_wq", KEEL_LOCK_KEY() };
	auto r = Thread::run(sleep_until_stopped, &wq, "stopper");
	ASSERT_OK(t, r);
	msleep(10);
	s64 start = ktime_get_ns();
	EXPECT_EQ(t, r.value()->stop(), 7);
	EXPECT_LT(t, ktime_get_ns() - start, ms_to_ns(5000));
}

/* Two threads hand a token back and forth; a lost wake-up stalls one until its timeout. */
struct PingPong {
	WaitQueue wq{ "wait_wq", KEEL_LOCK_KEY() };
	u32 turn = 0; /* atomic: even: ping's move, odd: pong's */
	u32 stalls = 0;
	static constexpr u32 ROUNDS = 1000;
};

template <u32 Parity> int ping_pong(void *p)
{
	auto *pp = static_cast<PingPong *>(p);
	for (u32 i = 0; i < PingPong::ROUNDS; i++) {
		s64 r = pp->wq.wait_event_timeout(
			[pp] {
				return (__atomic_load_n(&pp->turn, __ATOMIC_ACQUIRE) & 1) == Parity;
			},
			ms_to_ns(2000));
		if (r == 0) {
			__atomic_add_fetch(&pp->stalls, 1, __ATOMIC_RELAXED);
			return -1;
		}
		__atomic_add_fetch(&pp->turn, 1, __ATOMIC_RELEASE);
		pp->wq.wake_up();
	}
	return 0;
}

void no_wake_up_is_lost_under_ping_pong(Test &t)
{
	PingPong pp;
	auto a = Thread::run(ping_pong<0>, &pp, "ping");
	ASSERT_OK(t, a);
	auto b = Thread::run(ping_pong<1>, &pp, "pong");
	if (b.is_error()) {
		__atomic_store_n(&pp.turn, 2 * PingPong::ROUNDS + 1, __ATOMIC_RELEASE);
		a.value()->stop();
		EXPECT_OK(t, b);
		return;
	}
	EXPECT_EQ(t, a.value()->stop(), 0);
	EXPECT_EQ(t, b.value()->stop(), 0);
	EXPECT_EQ(t, pp.stalls, 0u);
	EXPECT_EQ(t, __atomic_load_n(&pp.turn, __ATOMIC_ACQUIRE), 2 * PingPong::ROUNDS);
}

/* A callback entry hears every wake-up of its queue until removed, and relays it. */
struct Relay {
	WaitQueue src{ "wait_relay_src", KEEL_LOCK_KEY() };
	WaitQueue dst{ "wait_relay_dst", KEEL_LOCK_KEY() };
	Atomic<u32> calls{ 0 };
	WaitCallback cb{ [](WaitCallback &c) {
		Relay *r = container_of(&c, &Relay::cb);
		r->calls.fetch_add(1);
		r->dst.wake_up();
	} };
};

void callback_hears_wake_ups_until_removed(Test &t)
{
	Relay r;
	r.src.wake_up();
	EXPECT_EQ(t, r.calls.load(), 0u);
	r.cb.add(r.src);
	EXPECT_TRUE(t, r.cb.added());
	r.src.wake_up();
	r.src.wake_up();
	EXPECT_EQ(t, r.calls.load(), 2u);
	/* Adding twice is a no-op: still one call per wake-up. */
	r.cb.add(r.src);
	r.src.wake_up();
	EXPECT_EQ(t, r.calls.load(), 3u);
	r.cb.remove();
	EXPECT_FALSE(t, r.cb.added());
	r.src.wake_up();
	EXPECT_EQ(t, r.calls.load(), 3u);
	r.cb.remove();
}

struct RelayWaiter {
	Relay *r;
	Atomic<bool> flag{ false };
	Completion done{ "wait_relay_done", KEEL_LOCK_KEY() };
	s64 ret = 0;
};

int wait_on_relay_dst(void *p)
{
	auto *w = static_cast<RelayWaiter *>(p);
	w->ret = w->r->dst.wait_event_timeout([w] { return w->flag.load(); }, ms_to_ns(5000));
	w->done.complete();
	return 0;
}

/* A waiter on the relay's target is woken by a wake-up of the source queue. */
void callback_relays_a_wake_up_to_a_sleeper(Test &t)
{
	Relay r;
	r.cb.add(r.src);
	RelayWaiter w;
	w.r = &r;
	auto th = Thread::run(wait_on_relay_dst, &w, "relay-waiter");
	ASSERT_OK(t, th);
	msleep(10);
	w.flag.store(true);
	/* Only the source is woken: the relay must carry it over. */
	r.src.wake_up();
	EXPECT_GT(t, w.done.wait_timeout(ms_to_ns(5000)), 0);
	EXPECT_GT(t, w.ret, 0);
	th.value()->stop();
	r.cb.remove();
}

const TestCase wait_cases[] = {
	KEEL_CASE(wake_up_wakes_a_sleeping_waiter),
	KEEL_CASE(wake_up_wakes_every_waiter),
	KEEL_CASE(timeout_returns_zero_after_the_timeout),
	KEEL_CASE(woken_wait_returns_remaining_time),
	KEEL_CASE(true_condition_returns_whole_timeout_at_once),
	KEEL_CASE(signal_interrupts_interruptible_wait),
	KEEL_CASE(signal_interrupts_interruptible_timeout_wait_promptly),
	KEEL_CASE(condition_true_at_a_signal_wins),
	KEEL_CASE(pending_signal_fails_next_interruptible_wait_until_flushed),
	KEEL_CASE(signal_is_ignored_without_allow_signal),
	KEEL_CASE(stop_wakes_a_thread_sleeping_on_should_stop),
	KEEL_CASE(no_wake_up_is_lost_under_ping_pong),
	KEEL_CASE(callback_hears_wake_ups_until_removed),
	KEEL_CASE(callback_relays_a_wake_up_to_a_sleeper),
	{},
};

const TestSuite wait_suite = { .name = "keel_wait", .cases = wait_cases };

} // namespace

KEEL_TEST_SUITE(wait_suite);
