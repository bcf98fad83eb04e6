// SPDX-License-Identifier: GPL-2.0
/*
 * Work, DelayedWork and WorkQueue with Linux's semantics: pending rules,
 * re-queueing while running, cancel_sync() against running and
 * self-requeueing items, flushes, ordered queues, non-reentrancy, delayed
 * expiry, mod, cancel.
 */
#include <keel/test.h>
#include <keel/thread.h>
#include <keel/time.h>
#include <keel/wait.h>
#include <keel/workqueue.h>

using namespace keel;
using namespace keel::test;

namespace {

u32 load(const u32 &v)
{
	return __atomic_load_n(&v, __ATOMIC_ACQUIRE);
}

/*
 * Work items with their completions are large (a Completion is a spinlock
 * and a wait queue: ~150 bytes with lockdep), and KASAN pads every stack
 * object: arrays of them, or more than a couple, would exceed the kernel's
 * 2 KB frame limit. Those live on the heap, freed when the case returns.
 */
template <typename T> UniquePtr<T> make(Test &t)
{
	auto r = make_unique<T>(GFP_KERNEL);
	EXPECT_OK(t, r);
	return r.is_ok() ? r.release_value() : UniquePtr<T>();
}

template <typename T, u32 N> struct Array {
	T at[N];
	T &operator[](u32 i) { return at[i]; }
	T *begin() { return at; }
	T *end() { return at + N; }
};

/* A work item that counts its runs, and optionally blocks or re-queues itself. */
struct Item {
	Work work{ [](Work &w) { container_of(&w, &Item::work)->run(); }, "workqueue_item",
		   KEEL_LOCK_KEY() };
	u32 runs = 0;	  /* atomic */
	u32 inside = 0;	  /* atomic: concurrent runs */
	u32 overlaps = 0; /* atomic */
	u32 requeue = 0;  /* re-queue itself while runs < requeue */
	s64 hold_ns = 0;  /* time spent in each run */
	Completion started{ "workqueue_started", KEEL_LOCK_KEY() };
	Completion *release = nullptr; /* waited for in each run */
	Completion ran{ "workqueue_ran", KEEL_LOCK_KEY() };

	void run()
	{
		if (__atomic_add_fetch(&inside, 1, __ATOMIC_ACQ_REL) != 1)
			__atomic_add_fetch(&overlaps, 1, __ATOMIC_RELAXED);
		started.complete();
		if (release)
			release->wait();
		if (hold_ns)
			udelay(unsigned(hold_ns / 1000));
		u32 n = __atomic_add_fetch(&runs, 1, __ATOMIC_ACQ_REL);
		__atomic_sub_fetch(&inside, 1, __ATOMIC_ACQ_REL);
		if (n < requeue)
			work.schedule();
		ran.complete();
	}
};

/* An ordered queue held busy by a blocker item, so later items stay pending. */
struct BlockedQueue {
	WorkQueue *wq = nullptr;
	Completion release{ "workqueue_release", KEEL_LOCK_KEY() };
	Item blocker;

	bool start(Test &t)
	{
		auto r = WorkQueue::create("test_ordered", true);
		if (r.is_error()) {
			EXPECT_OK(t, r);
			return false;
		}
		wq = r.value();
		blocker.release = &release;
		blocker.work.queue_on(*wq);
		blocker.started.wait();
		return true;
	}
	~BlockedQueue()
	{
		if (!wq)
			return;
		release.complete_all();
		wq->destroy();
	}
};

void work_runs_on_system_queue(Test &t)
{
	Item it;
	EXPECT_TRUE(t, it.work.schedule());
	EXPECT_GT(t, it.ran.wait_timeout(ms_to_ns(5000)), 0);
	it.work.flush();
	EXPECT_EQ(t, load(it.runs), 1u);
	EXPECT_FALSE(t, it.work.pending());
}

/* An item behind a blocked queue; the queue goes first (drained), then the item. */
struct BlockedItem {
	Item it;
	BlockedQueue bq;
};

void queueing_a_pending_item_returns_false(Test &t)
{
	auto p = make<BlockedItem>(t);
	ASSERT_NOT_NULL(t, p.get());
	auto &bq = p->bq;
	auto &it = p->it;
	ASSERT_TRUE(t, bq.start(t));
	EXPECT_TRUE(t, it.work.queue_on(*bq.wq));
	EXPECT_TRUE(t, it.work.pending());
	EXPECT_FALSE(t, it.work.queue_on(*bq.wq));
	EXPECT_FALSE(t, it.work.schedule());
	bq.release.complete_all();
	bq.wq->flush();
	EXPECT_EQ(t, load(it.runs), 1u);
	EXPECT_FALSE(t, it.work.pending());
}

void requeue_while_running_runs_again(Test &t)
{
	Item it;
	Completion release{ "workqueue_release", KEEL_LOCK_KEY() };
	it.release = &release;
	EXPECT_TRUE(t, it.work.schedule());
	it.started.wait();
	/* Running is not pending: the queueing succeeds and means one more run. */
	EXPECT_FALSE(t, it.work.pending());
	EXPECT_TRUE(t, it.work.schedule());
	EXPECT_TRUE(t, it.work.pending());
	release.complete_all();
	it.work.flush();
	EXPECT_EQ(t, load(it.runs), 2u);
	EXPECT_EQ(t, load(it.overlaps), 0u);
}

void cancel_sync_waits_for_the_running_instance(Test &t)
{
	Item it;
	it.hold_ns = ms_to_ns(40);
	EXPECT_TRUE(t, it.work.schedule());
	it.started.wait();
	/* Not pending (it runs), so false; but it must return only after the run. */
	EXPECT_FALSE(t, it.work.cancel_sync());
	EXPECT_EQ(t, load(it.runs), 1u);
	EXPECT_EQ(t, load(it.inside), 0u);
}

void cancel_sync_removes_a_pending_item(Test &t)
{
	auto p = make<BlockedItem>(t);
	ASSERT_NOT_NULL(t, p.get());
	auto &bq = p->bq;
	auto &it = p->it;
	ASSERT_TRUE(t, bq.start(t));
	EXPECT_TRUE(t, it.work.queue_on(*bq.wq));
	EXPECT_TRUE(t, it.work.cancel_sync());
	EXPECT_FALSE(t, it.work.pending());
	EXPECT_FALSE(t, it.work.cancel_sync());
	bq.release.complete_all();
	bq.wq->flush();
	EXPECT_EQ(t, load(it.runs), 0u);
}

void cancel_sync_stops_a_self_requeueing_item(Test &t)
{
	Item it;
	it.requeue = ~0u; /* forever, until cancelled */
	it.hold_ns = us_to_ns(200);
	EXPECT_TRUE(t, it.work.schedule());
	while (load(it.runs) < 5)
		msleep(1);
	it.work.cancel_sync();
	u32 runs = load(it.runs);
	EXPECT_FALSE(t, it.work.pending());
	msleep(20);
	EXPECT_EQ(t, load(it.runs), runs);
	/* Usable again afterwards. */
	it.requeue = 0;
	EXPECT_TRUE(t, it.work.schedule());
	it.work.flush();
	EXPECT_EQ(t, load(it.runs), runs + 1);
}

int release_later(void *arg)
{
	msleep(50);
	static_cast<Completion *>(arg)->complete();
	return 0;
}

/*
 * flush() returns only after the queued run has finished. The run is held
 * until a helper releases it, so flush() finds it in progress; that flush()
 * reports "waited" (true) then is not asserted: it depends on this thread
 * reaching flush() before the helper's release, which no test can promise
 * on a loaded machine. Its result on an idle item is exact.
 */
void flush_waits_for_the_last_queueing(Test &t)
{
	Item it;
	Completion release{ "workqueue_release", KEEL_LOCK_KEY() };
	EXPECT_FALSE(t, it.work.flush());
	it.release = &release;
	EXPECT_TRUE(t, it.work.schedule());
	it.started.wait();
	auto helper = Thread::run(release_later, &release, "wq_release");
	if (helper.is_error())
		release.complete();
	(void)it.work.flush();
	/* Read before anything else could let the run finish late. */
	EXPECT_EQ(t, load(it.runs), 1u);
	EXPECT_FALSE(t, it.work.pending());
	EXPECT_FALSE(t, it.work.flush());
	if (helper.is_ok())
		helper.value()->stop();
	EXPECT_OK(t, helper);
}

/* Ordered queue: items record the order they ran in. */
struct Ordered {
	static constexpr u32 N = 64;
	struct Rec {
		Work work{ [](Work &w) { container_of(&w, &Rec::work)->run(); }, "workqueue_rec",
			   KEEL_LOCK_KEY() };
		Ordered *o;
		u32 idx;
		void run()
		{
			if (__atomic_add_fetch(&o->inside, 1, __ATOMIC_ACQ_REL) != 1)
				__atomic_add_fetch(&o->overlaps, 1, __ATOMIC_RELAXED);
			u32 pos = __atomic_fetch_add(&o->next, 1, __ATOMIC_ACQ_REL);
			if (pos < N)
				o->order[pos] = idx;
			udelay(20);
			__atomic_sub_fetch(&o->inside, 1, __ATOMIC_ACQ_REL);
		}
	};
	Rec recs[N];
	u32 order[N] = {};
	u32 next = 0, inside = 0, overlaps = 0;
};

void ordered_queue_runs_one_at_a_time_in_order(Test &t)
{
	auto op = make<Ordered>(t);
	ASSERT_NOT_NULL(t, op.get());
	Ordered &o = *op;
	auto r = WorkQueue::create("test_order", true);
	ASSERT_OK(t, r);
	WorkQueue *wq = r.value();
	for (u32 i = 0; i < Ordered::N; i++) {
		o.recs[i].o = &o;
		o.recs[i].idx = i;
		EXPECT_TRUE(t, o.recs[i].work.queue_on(*wq));
	}
	wq->flush();
	EXPECT_EQ(t, load(o.next), Ordered::N);
	EXPECT_EQ(t, load(o.overlaps), 0u);
	for (u32 i = 0; i < Ordered::N; i++)
		EXPECT_EQ(t, o.order[i], i);
	wq->destroy();
}

struct Queuer {
	Item *it;
	int rounds;
};

int queue_repeatedly(void *p)
{
	auto *q = static_cast<Queuer *>(p);
	for (int i = 0; i < q->rounds; i++) {
		q->it->work.schedule();
		udelay(20);
	}
	return 0;
}

void item_never_runs_concurrently_with_itself(Test &t)
{
	Item it;
	it.hold_ns = us_to_ns(50);
	Queuer q{ &it, 300 };
	Thread *th[3] = {};
	for (auto &p : th) {
		auto r = Thread::run(queue_repeatedly, &q, "queuer");
		EXPECT_OK(t, r);
		if (r.is_ok())
			p = r.value();
	}
	for (auto *p : th)
		if (p)
			p->stop();
	it.work.flush();
	EXPECT_GE(t, load(it.runs), 1u);
	EXPECT_EQ(t, load(it.overlaps), 0u);
}

void items_waiting_on_each_other_do_not_deadlock_a_queue(Test &t)
{
	auto ab = make<Array<Item, 2>>(t);
	ASSERT_NOT_NULL(t, ab.get());
	Item &a = (*ab)[0], &b = (*ab)[1];
	auto r = WorkQueue::create("test_concurrent", false);
	ASSERT_OK(t, r);
	WorkQueue *wq = r.value();
	/* a waits for b, queued after it: the queue must run b on another worker. */
	a.release = &b.ran;
	EXPECT_TRUE(t, a.work.queue_on(*wq));
	a.started.wait();
	EXPECT_TRUE(t, b.work.queue_on(*wq));
	EXPECT_GT(t, a.ran.wait_timeout(ms_to_ns(5000)), 0);
	wq->destroy();
	EXPECT_EQ(t, load(a.runs), 1u);
	EXPECT_EQ(t, load(b.runs), 1u);
}

void workqueue_flush_waits_for_every_queued_item(Test &t)
{
	auto items = make<Array<Item, 16>>(t);
	ASSERT_NOT_NULL(t, items.get());
	auto r = WorkQueue::create("test_flush", false);
	ASSERT_OK(t, r);
	WorkQueue *wq = r.value();
	for (auto &it : *items) {
		it.hold_ns = ms_to_ns(2);
		it.work.queue_on(*wq);
	}
	wq->flush();
	for (auto &it : *items)
		EXPECT_EQ(t, load(it.runs), 1u);
	wq->destroy();
}

void destroy_drains_pending_and_chained_items(Test &t)
{
	/* items[0..7]: plain; items[8] re-queues itself (on the system queue) a few times. */
	auto items = make<Array<Item, 9>>(t);
	ASSERT_NOT_NULL(t, items.get());
	auto r = WorkQueue::create("test_drain", true);
	ASSERT_OK(t, r);
	WorkQueue *wq = r.value();
	Item &chain = (*items)[8];
	for (u32 i = 0; i < 8; i++) {
		(*items)[i].hold_ns = ms_to_ns(1);
		(*items)[i].work.queue_on(*wq);
	}
	/* Drained or not, the chain finishes. */
	chain.requeue = 3;
	chain.work.queue_on(*wq);
	wq->destroy();
	for (u32 i = 0; i < 8; i++)
		EXPECT_EQ(t, load((*items)[i].runs), 1u);
	/* flush() covers the queueing it saw; the chain may queue again meanwhile. */
	while (chain.work.flush()) {
	}
	EXPECT_EQ(t, load(chain.runs), 3u);
}

/* Delayed work */

/*
 * A delay the test relies on not having expired by its next statement. It
 * must outlast any stall of the test thread: under TCG on a shared host a
 * vCPU can be descheduled for tens of milliseconds between two statements.
 */
constexpr s64 ARMED_MS = 300;

struct Timed {
	DelayedWork dwork{ [](DelayedWork &w) { container_of(&w, &Timed::dwork)->run(); },
			   "workqueue_timed", KEEL_LOCK_KEY() };
	u32 runs = 0;
	s64 ran_at = 0; /* atomic */
	Completion ran{ "workqueue_ran", KEEL_LOCK_KEY() };
	void run()
	{
		__atomic_store_n(&ran_at, ktime_get_ns(), __ATOMIC_RELEASE);
		__atomic_add_fetch(&runs, 1, __ATOMIC_ACQ_REL);
		ran.complete();
	}
	s64 ran_time() const { return __atomic_load_n(&ran_at, __ATOMIC_ACQUIRE); }
};

void delayed_work_fires_after_its_delay(Test &t)
{
	Timed tm;
	s64 start = ktime_get_ns();
	EXPECT_TRUE(t, tm.dwork.schedule(ms_to_ns(30)));
	ASSERT_GT(t, tm.ran.wait_timeout(ms_to_ns(5000)), 0);
	EXPECT_GE(t, tm.ran_time() - start, ms_to_ns(30));
	tm.dwork.cancel_sync();
	EXPECT_EQ(t, load(tm.runs), 1u);
}

void delayed_work_is_pending_until_it_runs(Test &t)
{
	Timed tm;
	EXPECT_TRUE(t, tm.dwork.schedule(ms_to_ns(ARMED_MS)));
	EXPECT_TRUE(t, tm.dwork.pending());
	/* Already pending: the earlier expiry stays. */
	EXPECT_FALSE(t, tm.dwork.schedule(ms_to_ns(1)));
	ASSERT_GT(t, tm.ran.wait_timeout(ms_to_ns(5000)), 0);
	tm.dwork.cancel_sync();
	EXPECT_FALSE(t, tm.dwork.pending());
	EXPECT_EQ(t, load(tm.runs), 1u);
}

void zero_delay_queues_at_once(Test &t)
{
	Timed tm;
	EXPECT_TRUE(t, tm.dwork.schedule(0));
	EXPECT_GT(t, tm.ran.wait_timeout(ms_to_ns(5000)), 0);
	tm.dwork.cancel_sync();
	EXPECT_EQ(t, load(tm.runs), 1u);
}

void mod_moves_a_pending_expiry_earlier(Test &t)
{
	Timed tm;
	s64 start = ktime_get_ns();
	EXPECT_TRUE(t, tm.dwork.schedule(ms_to_ns(20000)));
	EXPECT_TRUE(t, tm.dwork.mod(ms_to_ns(20)));
	ASSERT_GT(t, tm.ran.wait_timeout(ms_to_ns(5000)), 0);
	EXPECT_GE(t, tm.ran_time() - start, ms_to_ns(20));
	tm.dwork.cancel_sync();
	EXPECT_EQ(t, load(tm.runs), 1u);
}

void mod_moves_a_pending_expiry_later(Test &t)
{
	Timed tm;
	EXPECT_TRUE(t, tm.dwork.schedule(ms_to_ns(ARMED_MS)));
	s64 moved = ktime_get_ns();
	EXPECT_TRUE(t, tm.dwork.mod(ms_to_ns(2 * ARMED_MS)));
	ASSERT_GT(t, tm.ran.wait_timeout(ms_to_ns(5000)), 0);
	EXPECT_GE(t, tm.ran_time() - moved, ms_to_ns(2 * ARMED_MS));
	tm.dwork.cancel_sync();
	EXPECT_EQ(t, load(tm.runs), 1u);
}

void mod_of_an_idle_item_queues_it(Test &t)
{
	Timed tm;
	EXPECT_FALSE(t, tm.dwork.mod(ms_to_ns(5)));
	EXPECT_TRUE(t, tm.dwork.pending());
	EXPECT_GT(t, tm.ran.wait_timeout(ms_to_ns(5000)), 0);
	tm.dwork.cancel_sync();
	EXPECT_EQ(t, load(tm.runs), 1u);
}

void cancel_stops_a_pending_delayed_item(Test &t)
{
	Timed tm;
	EXPECT_TRUE(t, tm.dwork.schedule(ms_to_ns(ARMED_MS)));
	EXPECT_TRUE(t, tm.dwork.cancel());
	EXPECT_FALSE(t, tm.dwork.pending());
	EXPECT_FALSE(t, tm.dwork.cancel());
	msleep(ARMED_MS + 50);
	EXPECT_EQ(t, load(tm.runs), 0u);
	EXPECT_FALSE(t, tm.dwork.cancel_sync());
}

void flush_runs_a_delayed_item_now(Test &t)
{
	Timed tm;
	s64 start = ktime_get_ns();
	EXPECT_TRUE(t, tm.dwork.schedule(ms_to_ns(20000)));
	/*
	 * Its return value is not asserted: flush_delayed_work() queues the item
	 * at once, and Linux's flush_work() returns false when it already
	 * finished (possible on another CPU) by the time it looks. Guaranteed:
	 * it ran, exactly once, when flush() returns, and is no longer pending.
	 */
	(void)tm.dwork.flush();
	EXPECT_EQ(t, load(tm.runs), 1u);
	EXPECT_TRUE(t, tm.ran.try_wait());
	EXPECT_LT(t, ktime_get_ns() - start, ms_to_ns(5000));
	EXPECT_FALSE(t, tm.dwork.pending());
	/* Nothing pending and nothing running: nothing to wait for. */
	EXPECT_FALSE(t, tm.dwork.flush());
	EXPECT_FALSE(t, tm.dwork.cancel_sync());
	EXPECT_EQ(t, load(tm.runs), 1u);
}

void delayed_work_on_own_queue_fires(Test &t)
{
	auto ab = make<Array<Timed, 2>>(t);
	ASSERT_NOT_NULL(t, ab.get());
	Timed &a = (*ab)[0], &b = (*ab)[1];
	auto r = WorkQueue::create("test_delayed", false);
	ASSERT_OK(t, r);
	WorkQueue *wq = r.value();
	EXPECT_TRUE(t, a.dwork.queue_on(*wq, ms_to_ns(10)));
	EXPECT_FALSE(t, b.dwork.mod_on(*wq, ms_to_ns(5)));
	EXPECT_GT(t, a.ran.wait_timeout(ms_to_ns(5000)), 0);
	EXPECT_GT(t, b.ran.wait_timeout(ms_to_ns(5000)), 0);
	wq->flush();
	wq->destroy();
	EXPECT_EQ(t, load(a.runs), 1u);
	EXPECT_EQ(t, load(b.runs), 1u);
}

void delayed_items_are_queued_in_expiry_order(Test &t)
{
	/* On an ordered queue the run order is the queueing order, i.e. the timer's. */
	constexpr int N = 10;
	auto tmp = make<Array<Timed, N>>(t);
	ASSERT_NOT_NULL(t, tmp.get());
	auto &tm = *tmp;
	auto r = WorkQueue::create("test_expiry", true);
	ASSERT_OK(t, r);
	WorkQueue *wq = r.value();
	/* Armed in reverse expiry order; expiries 10 ms apart from one base. */
	s64 base = ktime_get_ns() + ms_to_ns(ARMED_MS);
	for (int i = N - 1; i >= 0; i--)
		EXPECT_TRUE(t, tm[i].dwork.queue_on(*wq, base + ms_to_ns(10 * i) - ktime_get_ns()));
	for (auto &x : tm)
		EXPECT_GT(t, x.ran.wait_timeout(ms_to_ns(5000)), 0);
	for (int i = 1; i < N; i++)
		EXPECT_LE(t, tm[i - 1].ran_time(), tm[i].ran_time());
	wq->destroy();
}

const TestCase workqueue_cases[] = {
	KEEL_CASE(work_runs_on_system_queue),
	KEEL_CASE(queueing_a_pending_item_returns_false),
	KEEL_CASE(requeue_while_running_runs_again),
	KEEL_CASE(cancel_sync_waits_for_the_running_instance),
	KEEL_CASE(cancel_sync_removes_a_pending_item),
	KEEL_CASE(cancel_sync_stops_a_self_requeueing_item),
	KEEL_CASE(flush_waits_for_the_last_queueing),
	KEEL_CASE(ordered_queue_runs_one_at_a_time_in_order),
	KEEL_CASE(item_never_runs_concurrently_with_itself),
	KEEL_CASE(items_waiting_on_each_other_do_not_deadlock_a_queue),
	KEEL_CASE(workqueue_flush_waits_for_every_queued_item),
	KEEL_CASE(destroy_drains_pending_and_chained_items),
	KEEL_CASE(delayed_work_fires_after_its_delay),
	KEEL_CASE(delayed_work_is_pending_until_it_runs),
	KEEL_CASE(zero_delay_queues_at_once),
	KEEL_CASE(mod_moves_a_pending_expiry_earlier),
	KEEL_CASE(mod_moves_a_pending_expiry_later),
	KEEL_CASE(mod_of_an_idle_item_queues_it),
	KEEL_CASE(cancel_stops_a_pending_delayed_item),
	KEEL_CASE(flush_runs_a_delayed_item_now),
	KEEL_CASE(delayed_work_on_own_queue_fires),
	KEEL_CASE(delayed_items_are_queued_in_expiry_order),
	{},
};

const TestSuite workqueue_suite = { .name = "keel_workqueue", .cases = workqueue_cases };

} // namespace

KEEL_TEST_SUITE(workqueue_suite);
