// SPDX-License-Identifier: GPL-2.0
/*
 * Runtime PM: usage counts, autosuspend, parent/child ordering, disabled
 * state, concurrent get/put.
 */
#include <keel/thread.h>
#include <keel/wait.h>

#include "test_bus.h"

using namespace keel;
using namespace keel::test_bus;
using keel::test::Test;

namespace {

constinit Events s_ev;
constinit Atomic<int> s_suspends;
constinit Atomic<int> s_resumes;
/* Callbacks of one device never overlap: counts callbacks running. */
constinit Atomic<int> s_in_callback;
constinit Atomic<int> s_overlaps;
/* Record events (off in the concurrent case, whose order is not defined). */
constinit Atomic<int> s_record;

class PmDriver : NonMovable {
public:
	static constexpr NameDeviceId id_table[] = { { "pm" }, {} };
	static Result<UniquePtr<PmDriver>> probe(TDevice &)
	{
		return make_unique<PmDriver>(GFP_KERNEL);
	}
	Result<void> runtime_suspend(TDevice &dev) { return callback(dev, "suspend", s_suspends); }
	Result<void> runtime_resume(TDevice &dev) { return callback(dev, "resume", s_resumes); }

private:
	static Result<void> callback(TDevice &dev, const char *what, Atomic<int> &count)
	{
		if (s_in_callback.fetch_add(1) != 0)
			s_overlaps.fetch_add(1);
		if (s_record.load())
			s_ev.add("%s:%s", what, dev.name());
		count.fetch_add(1);
		s_in_callback.fetch_sub(1);
		return ok();
	}
};
TEST_DRIVER(s_pm_drv, PmDriver, "pm_drv");

/* The idle callback of IdleDriver is running; remove() ran meanwhile. */
constinit Atomic<int> s_in_idle;
constinit Atomic<int> s_removed_in_idle;

/* An idle callback that takes its time, to overlap an unbind. */
class IdleDriver : NonMovable {
public:
	static constexpr NameDeviceId id_table[] = { { "pm_idle" }, {} };
	static Result<UniquePtr<IdleDriver>> probe(TDevice &)
	{
		return make_unique<IdleDriver>(GFP_KERNEL);
	}
	/* Runs in remove(): the data goes. */
	~IdleDriver()
	{
		if (s_in_idle.load())
			s_removed_in_idle.fetch_add(1);
	}
	Result<void> runtime_idle(TDevice &)
	{
		s_in_idle.store(1);
		/* Long enough for an unbind that does not wait to run remove() meanwhile. */
		msleep(200);
		s_in_idle.store(0);
		/* Stay up: no suspend after it. */
		return err(-EBUSY);
	}
};
TEST_DRIVER(s_idle_drv, IdleDriver, "pm_idle_drv");

/*
 * Registers a bound device, Active with runtime PM enabled. The parent is
 * held meanwhile: the probe's get/put of the parent would otherwise let it
 * suspend before the child is active (as on Linux).
 */
TDevice *pm_device(Test &t, const char *name, Device *parent = nullptr)
{
	if (parent)
		pm_runtime_get_noresume(*parent);
	TDevice *dev = tdev_register(name, "pm", parent);
	if (!dev || !dev->is_bound()) {
		EXPECT_FAIL(t, "device %s not bound", name);
	} else {
		EXPECT_OK(t, pm_runtime_set_active(*dev));
		pm_runtime_enable(*dev);
	}
	if (parent)
		pm_runtime_put_noidle(*parent);
	return dev;
}

void usage_count_blocks_suspend(Test &t)
{
	TDevice *dev = pm_device(t, "u0");
	ASSERT_NOT_NULL(t, dev);
	EXPECT_TRUE(t, pm_runtime_active(*dev));
	EXPECT_OK(t, pm_runtime_get_sync(*dev));
	EXPECT_EQ(t, pm_runtime_usage_count(*dev), 1);
	EXPECT_EQ(t, s_resumes.load(), 0); /* already active */
	EXPECT_ERR(t, pm_runtime_suspend(*dev), -EAGAIN);
	EXPECT_TRUE(t, pm_runtime_active(*dev));

	pm_runtime_put_sync(*dev);
	EXPECT_EQ(t, pm_runtime_usage_count(*dev), 0);
	EXPECT_TRUE(t, pm_runtime_suspended(*dev));
	EXPECT_EQ(t, s_suspends.load(), 1);

	EXPECT_OK(t, pm_runtime_get_sync(*dev));
	EXPECT_TRUE(t, pm_runtime_active(*dev));
	EXPECT_EQ(t, s_resumes.load(), 1);
	/* Async put: suspends from the work item. */
	pm_runtime_put(*dev);
	EXPECT_TRUE(t, wait_until([&] { return pm_runtime_suspended(*dev); }, 2000));
	EXPECT_EQ(t, s_suspends.load(), 2);

	/* Unbalanced put is refused with a warning line, count stays 0. */
	log_set_echo(false);
	pm_runtime_put_noidle(*dev);
	log_set_echo(true);
	EXPECT_EQ(t, pm_runtime_usage_count(*dev), 0);
	device_unregister(*dev);
}

void disabled_device_refuses(Test &t)
{
	TDevice *dev = tdev_register("d0", "pm");
	ASSERT_NOT_NULL(t, dev);
	/* Initial state: suspended, disabled. */
	EXPECT_TRUE(t, pm_runtime_suspended(*dev));
	EXPECT_FALSE(t, pm_runtime_enabled(*dev));
	EXPECT_ERR(t, pm_runtime_resume(*dev), -EACCES);
	EXPECT_ERR(t, pm_runtime_suspend(*dev), -EACCES);
	EXPECT_OK(t, pm_runtime_set_active(*dev));
	EXPECT_OK(t, pm_runtime_resume(*dev)); /* active: fine even disabled */
	pm_runtime_enable(*dev);
	EXPECT_ERR(t, pm_runtime_set_suspended(*dev), -EAGAIN);
	EXPECT_OK(t, pm_runtime_suspend(*dev));
	EXPECT_TRUE(t, pm_runtime_suspended(*dev));
	pm_runtime_disable(*dev);
	EXPECT_ERR(t, pm_runtime_resume(*dev), -EACCES);
	EXPECT_EQ(t, s_resumes.load(), 0);
	EXPECT_EQ(t, s_suspends.load(), 1);
	device_unregister(*dev);
}

void autosuspend_after_delay(Test &t)
{
	TDevice *dev = pm_device(t, "a0");
	ASSERT_NOT_NULL(t, dev);
	pm_runtime_set_autosuspend_delay(*dev, 50);
	pm_runtime_use_autosuspend(*dev);
	ASSERT_OK(t, pm_runtime_get_sync(*dev));
	s64 start = ktime_get_ns();
	pm_runtime_mark_last_busy(*dev);
	pm_runtime_put_autosuspend(*dev);
	EXPECT_TRUE(t, pm_runtime_active(*dev));
	EXPECT_TRUE(t, wait_until([&] { return pm_runtime_suspended(*dev); }, 3000));
	s64 waited = ktime_get_ns() - start;
	EXPECT_GE(t, waited, ms_to_ns(50));
	EXPECT_EQ(t, s_suspends.load(), 1);

	/* Busy again before expiry: the timer is pushed back. */
	ASSERT_OK(t, pm_runtime_get_sync(*dev));
	EXPECT_EQ(t, s_resumes.load(), 1);
	pm_runtime_mark_last_busy(*dev);
	pm_runtime_put_autosuspend(*dev);
	msleep(20);
	pm_runtime_mark_last_busy(*dev);
	msleep(20);
	EXPECT_TRUE(t, pm_runtime_active(*dev));
	EXPECT_TRUE(t, wait_until([&] { return pm_runtime_suspended(*dev); }, 3000));

	/* A negative delay prevents autosuspend (but not an explicit suspend). */
	ASSERT_OK(t, pm_runtime_get_sync(*dev));
	pm_runtime_set_autosuspend_delay(*dev, -1);
	pm_runtime_put_autosuspend(*dev);
	msleep(20);
	EXPECT_TRUE(t, pm_runtime_active(*dev));
	EXPECT_OK(t, pm_runtime_suspend(*dev));
	EXPECT_TRUE(t, pm_runtime_suspended(*dev));
	device_unregister(*dev);
}

void parent_stays_active_while_child_active(Test &t)
{
	s_record.store(1);
	TDevice *p = pm_device(t, "P");
	ASSERT_NOT_NULL(t, p);
	TDevice *c = pm_device(t, "C", p);
	ASSERT_NOT_NULL(t, c);
	EXPECT_EQ(t, pm_runtime_child_count(*p), 1);
	/* The parent cannot suspend under an active child. */
	EXPECT_ERR(t, pm_runtime_suspend(*p), -EBUSY);
	EXPECT_TRUE(t, pm_runtime_active(*p));

	/* The child suspends, then (asynchronously) the parent. */
	EXPECT_OK(t, pm_runtime_suspend(*c));
	EXPECT_EQ(t, pm_runtime_child_count(*p), 0);
	EXPECT_TRUE(t, wait_until([&] { return pm_runtime_suspended(*p); }, 2000));

	/* Resuming the child resumes the parent first. */
	EXPECT_OK(t, pm_runtime_get_sync(*c));
	EXPECT_TRUE(t, pm_runtime_active(*p));
	EXPECT_TRUE(t, pm_runtime_active(*c));
	EXPECT_EQ(t, pm_runtime_child_count(*p), 1);
	EXPECT_ERR(t, pm_runtime_suspend(*p), -EBUSY);
	pm_runtime_put_sync(*c);
	EXPECT_TRUE(t, wait_until([&] { return pm_runtime_suspended(*p); }, 2000));

	char buf[256];
	EXPECT_STREQ(t, s_ev.join(buf, sizeof(buf)),
		     "suspend:C,suspend:P,resume:P,resume:C,suspend:C,suspend:P");

	/* Ignoring children, the parent may suspend under an active child. */
	EXPECT_OK(t, pm_runtime_get_sync(*c));
	pm_suspend_ignore_children(*p, true);
	EXPECT_OK(t, pm_runtime_suspend(*p));
	pm_suspend_ignore_children(*p, false);
	pm_runtime_put_noidle(*c);
	s_record.store(0);

	/* Removing an active child gives the parent its count back. */
	EXPECT_OK(t, pm_runtime_resume(*p));
	EXPECT_OK(t, pm_runtime_resume(*c));
	EXPECT_EQ(t, pm_runtime_child_count(*p), 1);
	/*
	 * Resuming a device that is already Active queues no idle check
	 * (Linux): it stays up although its usage count is 0. (One did, and
	 * the kernel's worker on the other CPU suspended C before the count
	 * above was read.)
	 */
	EXPECT_FALSE(t, wait_until([&] { return pm_runtime_suspended(*c); }, 50));
	EXPECT_EQ(t, pm_runtime_child_count(*p), 1);
	device_unregister(*c);
	EXPECT_EQ(t, pm_runtime_child_count(*p), 0);
	device_unregister(*p);
}

/* --- concurrent get/put --- */

constexpr int PM_THREADS = 4;
constexpr int PM_ITERS = 300;

struct PmStress {
	Device *dev;
	int id;
	Atomic<int> *done;
	Completion *all_done;
};

int pm_stress_thread(void *arg)
{
	PmStress *s = static_cast<PmStress *>(arg);
	for (int i = 0; i < PM_ITERS; i++) {
		if (pm_runtime_get_sync(*s->dev).is_error())
			s->done->fetch_add(1000000); /* flagged below */
		pm_runtime_mark_last_busy(*s->dev);
		switch ((i + s->id) % 3) {
		case 0:
			pm_runtime_put(*s->dev);
			break;
		case 1:
			pm_runtime_put_sync(*s->dev);
			break;
		default:
			pm_runtime_put_autosuspend(*s->dev);
			break;
		}
	}
	if (s->done->add_return(1) == PM_THREADS)
		s->all_done->complete();
	while (!Thread::should_stop())
		msleep(1);
	return 0;
}

void concurrent_get_put(Test &t)
{
	TDevice *p = pm_device(t, "sp");
	ASSERT_NOT_NULL(t, p);
	TDevice *dev = pm_device(t, "s0", p);
	ASSERT_NOT_NULL(t, dev);
	pm_runtime_set_autosuspend_delay(*dev, 1);
	pm_runtime_use_autosuspend(*dev);

	Atomic<int> done;
	Completion all_done{ "pm_runtime_all_done", KEEL_LOCK_KEY() };
	PmStress args[PM_THREADS];
	Thread *threads[PM_THREADS] = {};
	for (int i = 0; i < PM_THREADS; i++) {
		args[i] = { dev, i, &done, &all_done };
		Result<Thread *> r = Thread::run(pm_stress_thread, &args[i], "pm_stress");
		if (r.is_ok())
			threads[i] = r.value();
		else
			EXPECT_FAIL(t, "thread %d did not start", i);
	}
	EXPECT_GT(t, all_done.wait_timeout(ms_to_ns(20000)), 0);
	for (Thread *th : threads)
		if (th)
			th->stop();
	EXPECT_EQ(t, done.load(), PM_THREADS);
	EXPECT_EQ(t, pm_runtime_usage_count(*dev), 0);
	EXPECT_TRUE(
		t,
		wait_until([&] { return pm_runtime_suspended(*dev) && pm_runtime_suspended(*p); },
			   3000));
	EXPECT_EQ(t, s_overlaps.load(), 0);
	/* Started active: every resume was followed by a suspend. */
	EXPECT_EQ(t, s_suspends.load() - s_resumes.load(), 2);
	EXPECT_EQ(t, pm_runtime_child_count(*p), 0);
	device_unregister(*dev);
	device_unregister(*p);
}

/*
 * An unbind waits for a runtime PM callback already running: an idle
 * callback (queued, run by the work item) leaves the device Active, so the
 * unbind's resume does not wait for it; remove() must not free the data
 * under it.
 */
void unbind_waits_for_a_running_idle_callback(Test &t)
{
	s_in_idle.store(0);
	s_removed_in_idle.store(0);
	ASSERT_OK(t, driver_register(s_idle_drv));
	TDevice *dev = tdev_register("i0", "pm_idle");
	if (!dev || !dev->is_bound()) {
		EXPECT_FAIL(t, "device i0 not bound");
	} else {
		EXPECT_OK(t, pm_runtime_set_active(*dev));
		pm_runtime_enable(*dev);
		EXPECT_OK(t, pm_request_idle(*dev));
		EXPECT_TRUE(t, wait_until([&] { return s_in_idle.load() == 1; }, 2000));
	}
	if (dev)
		device_unregister(*dev);
	EXPECT_EQ(t, s_removed_in_idle.load(), 0);
	EXPECT_EQ(t, s_in_idle.load(), 0);
	driver_unregister(s_idle_drv);
}

int pm_case_init(Test &t)
{
	s_ev.reset();
	s_suspends.store(0);
	s_resumes.store(0);
	s_overlaps.store(0);
	s_in_callback.store(0);
	s_record.store(0);
	if (tbus_suite_init(t))
		return -1;
	return driver_register(s_pm_drv).is_ok() ? 0 : -1;
}

void pm_case_exit(Test &t)
{
	driver_unregister(s_pm_drv);
	tbus_suite_exit(t);
}

const test::TestCase pm_runtime_cases[] = {
	KEEL_CASE(usage_count_blocks_suspend),
	KEEL_CASE(disabled_device_refuses),
	KEEL_CASE(autosuspend_after_delay),
	KEEL_CASE(parent_stays_active_while_child_active),
	KEEL_CASE(concurrent_get_put),
	KEEL_CASE(unbind_waits_for_a_running_idle_callback),
	{},
};

const test::TestSuite pm_runtime_suite = {
	.name = "keel_pm_runtime",
	.cases = pm_runtime_cases,
	.init = pm_case_init,
	.exit = pm_case_exit,
};

} // namespace

KEEL_TEST_SUITE(pm_runtime_suite);
