// SPDX-License-Identifier: GPL-2.0
/* Monotonic time, sleeps, delays and conversions. */
#include <keel/test.h>
#include <keel/time.h>

using namespace keel;
using namespace keel::test;

namespace {

void clock_is_monotonic(Test &t)
{
	s64 prev = ktime_get_ns();
	EXPECT_GT(t, prev, 0);
	int backwards = 0;
	for (int i = 0; i < 10000; i++) {
		s64 now = ktime_get_ns();
		backwards += now < prev;
		prev = now;
	}
	EXPECT_EQ(t, backwards, 0);
}

void msleep_sleeps_at_least_that_long(Test &t)
{
	s64 start = ktime_get_ns();
	msleep(15);
	s64 elapsed = ktime_get_ns() - start;
	EXPECT_GE(t, elapsed, ms_to_ns(15));
	EXPECT_LT(t, elapsed, ms_to_ns(5000));
}

/*
 * udelay() busy-waits in microseconds. Linux documents that it may return
 * early (the delay loop and the clocksource need not agree: under QEMU's
 * TCG a 200 us udelay was measured at 111 us by ktime). So the bound is
 * loose, but still catches a delay that does not wait or takes the wrong
 * unit (ns: 1000 times shorter), and an absurdly long one.
 */
void udelay_busy_waits_in_microseconds(Test &t)
{
	s64 start = ktime_get_ns();
	udelay(2000);
	s64 took = ktime_get_ns() - start;
	EXPECT_GE(t, took, us_to_ns(2000) / 5);
	EXPECT_LT(t, took, ms_to_ns(2000));
	cond_resched();
	cpu_relax();
}

void conversions_match_units(Test &t)
{
	EXPECT_EQ(t, ms_to_ns(3), 3000000);
	EXPECT_EQ(t, us_to_ns(7), 7000);
	EXPECT_EQ(t, ns_to_ms(2999999), 2);
	EXPECT_EQ(t, NSEC_PER_SEC, 1000 * NSEC_PER_MSEC);
	EXPECT_GT(t, TIMEOUT_INFINITE, ms_to_ns(1000LL * 3600 * 24 * 365 * 100));
}

/*
 * Timeouts as port ticks: never shorter than asked. A 4 ms tick (HZ=250)
 * and a 1 ns tick (hosted) with the kernel's MAX_SCHEDULE_TIMEOUT.
 */
void ns_to_ticks_never_shortens(Test &t)
{
	constexpr s64 tick = 4 * NSEC_PER_MSEC, inf = KEEL_S64_MAX;
	EXPECT_EQ(t, ns_to_ticks(0, tick, inf), 0);
	EXPECT_EQ(t, ns_to_ticks(-5, tick, inf), 0);
	/* Rounded up, plus the tick already running. */
	EXPECT_EQ(t, ns_to_ticks(1, tick, inf), 2);
	EXPECT_EQ(t, ns_to_ticks(tick, tick, inf), 2);
	EXPECT_EQ(t, ns_to_ticks(tick + 1, tick, inf), 3);
	EXPECT_EQ(t, ns_to_ticks(ms_to_ns(1000), tick, inf), 251);
	/* Infinite stays infinite; anything finite stays finite. */
	EXPECT_EQ(t, ns_to_ticks(TIMEOUT_INFINITE, tick, inf), inf);
	EXPECT_EQ(t, ns_to_ticks(TIMEOUT_INFINITE - 1, 1, inf), inf - 1);
	EXPECT_EQ(t, ns_to_ticks(TIMEOUT_INFINITE - 1, tick, 1000), 999);
	/* A 1 ns tick needs no extra one. */
	EXPECT_EQ(t, ns_to_ticks(1, 1, inf), 1);
	EXPECT_EQ(t, ns_to_ticks(ms_to_ns(5), 1, inf), ms_to_ns(5));
	/* And back, saturating. */
	EXPECT_EQ(t, ticks_to_ns(3, tick), 3 * tick);
	EXPECT_EQ(t, ticks_to_ns(inf, tick), TIMEOUT_INFINITE);
	EXPECT_GE(t, ticks_to_ns(ns_to_ticks(ms_to_ns(7))), ms_to_ns(7));
}

const TestCase time_cases[] = {
	KEEL_CASE(clock_is_monotonic),
	KEEL_CASE(msleep_sleeps_at_least_that_long),
	KEEL_CASE(udelay_busy_waits_in_microseconds),
	KEEL_CASE(conversions_match_units),
	KEEL_CASE(ns_to_ticks_never_shortens),
	{},
};

const TestSuite time_suite = { .name = "keel_time", .cases = time_cases };

} // namespace

KEEL_TEST_SUITE(time_suite);
