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

const TestCase time_cases[] = {
	KEEL_CASE(clock_is_monotonic),
	KEEL_CASE(msleep_sleeps_at_least_that_long),
	KEEL_CASE(udelay_busy_waits_in_microseconds),
	KEEL_CASE(conversions_match_units),
	{},
};

const TestSuite time_suite = { .name = "keel_time", .cases = time_cases };

} // namespace

KEEL_TEST_SUITE(time_suite);
