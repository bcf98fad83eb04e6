// SPDX-License-Identifier: GPL-2.0
/*
 * Driver core under concurrency: devices, device trees, drivers and bus
 * notifiers registered and unregistered from several threads at once.
 * Checks that no device is probed or removed twice, that every probe has its
 * remove, that nothing leaks, and (by a timeout) that nothing deadlocks.
 *
 * The amount of churn is a budget, not a target: the producers stop after
 * their iteration count or after STRESS_BUDGET_MS, whichever comes first,
 * so that a slow machine (an emulated arm64 with KASAN is ~10x slower than
 * a native x86) still finishes well inside the deadlock timeout. The case
 * never returns while a thread it started may still run: they use its
 * frame and the test bus it tears down.
 */
#include <keel/thread.h>
#include <keel/wait.h>

#include "test_bus.h"

using namespace keel;
using namespace keel::test_bus;
using keel::test::Test;

namespace {

constinit Atomic<int> s_probes;
constinit Atomic<int> s_removes;
constinit Atomic<int> s_double_probe;
constinit Atomic<int> s_double_remove;
constinit Atomic<int> s_live_data;
constinit Atomic<int> s_notifications;
constinit Atomic<u32> s_name_seq;
/* Set once both driver threads have registered: producers start then. */
constinit Atomic<int> s_drivers_up;

void note_probe(TDevice &dev)
{
	int expected = 0;
	if (!dev.bound.compare_exchange(expected, 1))
		s_double_probe.fetch_add(1);
	s_probes.fetch_add(1);
}

void note_remove(TDevice &dev)
{
	int expected = 1;
	if (!dev.bound.compare_exchange(expected, 0))
		s_double_remove.fetch_add(1);
	s_removes.fetch_add(1);
}

struct Data : NonMovable {
	Data() { s_live_data.fetch_add(1); }
	~Data() { s_live_data.fetch_sub(1); }
};

/* Two drivers competing for the same devices. */
class StressA : public Data {
public:
	static constexpr NameDeviceId id_table[] = { { "s" }, {} };
	static Result<UniquePtr<StressA>> probe(TDevice &dev)
	{
		auto d = TRY(make_unique<StressA>(GFP_KERNEL));
		note_probe(dev);
		return d;
	}
	void remove(TDevice &dev) { note_remove(dev); }
};
TEST_DRIVER(s_stress_a, StressA, "stress_a");

class StressB : public Data {
public:
	static constexpr NameDeviceId id_table[] = { { "s" }, {} };
	static Result<UniquePtr<StressB>> probe(TDevice &dev)
	{
		/* Sometimes defers: exercises the deferred list under churn. */
		if (s_name_seq.load() % 5 == 0)
			return err(-EPROBE_DEFER);
		auto d = TRY(make_unique<StressB>(GFP_KERNEL));
		note_probe(dev);
		return d;
	}
	void remove(TDevice &dev) { note_remove(dev); }
};
TEST_DRIVER(s_stress_b, StressB, "stress_b");

/* Creates a child in probe and unregisters it in remove. */
class StressParent : public Data {
public:
	static constexpr NameDeviceId id_table[] = { { "sp" }, {} };
	static Result<UniquePtr<StressParent>> probe(TDevice &dev)
	{
		auto d = TRY(make_unique<StressParent>(GFP_KERNEL));
		d->m_child = tdev_register("spc", "s", &dev);
		/* The parent may be going away meanwhile: then there is no child. */
		note_probe(dev);
		return d;
	}
	void remove(TDevice &dev)
	{
		note_remove(dev);
		if (m_child)
			device_unregister(*m_child);
	}
	TDevice *m_child = nullptr;
};
TEST_DRIVER(s_stress_parent, StressParent, "stress_parent");

int count_notify(NotifierBlock &, unsigned long, void *)
{
	s_notifications.fetch_add(1);
	return NOTIFY_DONE;
}

constexpr int DEV_ITERS = 400;
constexpr int TREE_ITERS = 200;
constexpr int PRODUCERS = 3; /* two device threads, one tree thread */
constexpr s64 STRESS_BUDGET_MS = 20000;
/* No progress for this long after the budget is spent means a deadlock. */
constexpr s64 STRESS_DEADLOCK_MS = 60000;

struct Shared {
	Atomic<int> finished;
	Atomic<int> iterations;
	ktime_t end; /* producers start no iteration after this */
	Completion *done;
};

/* True while @s's producers may start another iteration. */
bool keep_going(Shared *s)
{
	s->iterations.fetch_add(1);
	return ktime_get_ns() < s->end;
}

void producer_done(Shared *s)
{
	if (s->finished.add_return(1) == PRODUCERS)
		s->done->complete();
}

void wait_for_drivers()
{
	for (int i = 0; i < 5000 && s_drivers_up.load() < 2; i++)
		msleep(1);
}

void wait_for_stop()
{
	while (!Thread::should_stop())
		msleep(1);
}

int device_thread(void *arg)
{
	Shared *s = static_cast<Shared *>(arg);
	wait_for_drivers();
	for (int i = 0; i < DEV_ITERS && keep_going(s); i++) {
		char name[24];
		snprintf(name, sizeof(name), "sd%u", s_name_seq.add_return(1));
		TDevice *d = tdev_register(name, "s");
		if (!d)
			continue;
		if (i % 4 == 0)
			(void)device_reprobe(*d);
		if (i % 7 == 0)
			device_release_driver(*d);
		if (i % 9 == 0)
			(void)device_attach(*d);
		device_unregister(*d);
	}
	producer_done(s);
	wait_for_stop();
	return 0;
}

int tree_thread(void *arg)
{
	Shared *s = static_cast<Shared *>(arg);
	wait_for_drivers();
	for (int i = 0; i < TREE_ITERS && keep_going(s); i++) {
		char name[24];
		snprintf(name, sizeof(name), "tp%d", i);
		TDevice *p = tdev_register(name, "sp");
		if (!p)
			continue;
		TDevice *c = tdev_register("tc", "s", p);
		TDevice *g = c ? tdev_register("tg", "s", c) : nullptr;
		/* The whole subtree goes with the parent; our puts follow. */
		device_unregister(*p);
		if (g)
			device_unregister(*g);
		if (c)
			device_unregister(*c);
	}
	producer_done(s);
	wait_for_stop();
	return 0;
}

int driver_thread_a(void *)
{
	for (int i = 0; !Thread::should_stop(); i++) {
		(void)driver_register(s_stress_a);
		(void)driver_register(s_stress_parent);
		if (i == 0)
			s_drivers_up.fetch_add(1);
		/* Registered for a while, so that devices meet it. */
		if (i % 2)
			msleep(1);
		cond_resched();
		driver_unregister(s_stress_a);
		driver_unregister(s_stress_parent);
	}
	return 0;
}

int driver_thread_b(void *)
{
	NotifierBlock nb{ .notifier_call = count_notify };
	for (int i = 0; !Thread::should_stop(); i++) {
		(void)driver_register(s_stress_b);
		(void)bus_register_notifier(s_tbus, nb);
		if (i == 0)
			s_drivers_up.fetch_add(1);
		if (i % 3 == 0)
			msleep(1);
		(void)bus_rescan_devices(s_tbus);
		driver_deferred_probe_trigger();
		cond_resched();
		(void)bus_unregister_notifier(s_tbus, nb);
		driver_unregister(s_stress_b);
	}
	return 0;
}

void concurrent_register_unregister(Test &t)
{
	int live_devices = s_live_devices.load();
	Completion done{ "driver_core_stress_done", KEEL_LOCK_KEY() };
	Shared shared;
	shared.finished.store(0);
	shared.iterations.store(0);
	shared.end = ktime_get_ns() + ms_to_ns(STRESS_BUDGET_MS);
	shared.done = &done;

	struct Spec {
		Thread::Fn fn;
		void *arg;
	} specs[] = {
		{ device_thread, &shared },   { device_thread, &shared },
		{ tree_thread, &shared },     { driver_thread_a, nullptr },
		{ driver_thread_b, nullptr },
	};
	Thread *threads[ARRAY_SIZE(specs)] = {};
	/* Deferral and rejection lines by the thousand: counted, not printed. */
	log_set_echo(false);
	for (size_t i = 0; i < ARRAY_SIZE(specs); i++) {
		Result<Thread *> r = Thread::run(specs[i].fn, specs[i].arg, "drv_stress");
		if (r.is_error()) {
			EXPECT_FAIL(t, "thread %zu did not start", i);
			continue;
		}
		threads[i] = r.value();
	}
	/*
	 * A deadlock shows up as this failure rather than a hung run. The
	 * producers still hold pointers into this frame: keep waiting (the
	 * kernel's hung-task detector and the runner's timeout bound it).
	 */
	s64 timeout = ms_to_ns(STRESS_BUDGET_MS + STRESS_DEADLOCK_MS);
	if (done.wait_timeout(timeout) <= 0) {
		EXPECT_FAIL(t, "stress threads stuck for %lld s after their budget (deadlock?)",
			    (long long)(STRESS_DEADLOCK_MS / 1000));
		while (done.wait_timeout(ms_to_ns(STRESS_DEADLOCK_MS)) <= 0)
			;
	}
	log_set_echo(true);
	for (Thread *th : threads)
		if (th)
			th->stop();
	driver_deferred_probe_flush();

	EXPECT_EQ(t, s_double_probe.load(), 0);
	EXPECT_EQ(t, s_double_remove.load(), 0);
	EXPECT_GT(t, s_probes.load(), 0);
	EXPECT_EQ(t, s_probes.load(), s_removes.load());
	EXPECT_EQ(t, s_live_data.load(), 0);
	EXPECT_EQ(t, s_live_devices.load(), live_devices);
	EXPECT_FALSE(t, driver_is_registered(s_stress_a));
	t.info("%d producer iterations, %d probes, %d notifications", shared.iterations.load(),
	       s_probes.load(), s_notifications.load());
}

int stress_init(Test &t)
{
	s_probes.store(0);
	s_removes.store(0);
	s_double_probe.store(0);
	s_double_remove.store(0);
	s_drivers_up.store(0);
	return tbus_suite_init(t);
}

const test::TestCase stress_cases[] = {
	KEEL_CASE(concurrent_register_unregister),
	{},
};

const test::TestSuite stress_suite = {
	.name = "keel_driver_core_stress",
	.cases = stress_cases,
	.init = stress_init,
	.exit = tbus_suite_exit,
};

} // namespace

KEEL_TEST_SUITE(stress_suite);
