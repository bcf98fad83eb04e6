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

void udelay_waits_at_least_that_long(Test &t)
{
	s64 start = ktime_get_ns();
	udelay(200);
	EXPECT_GE(t, ktime_get_ns() - start, us_to_ns(200));
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
	KEEL_CASE(udelay_waits_at_least_that_long),
	KEEL_CASE(conversions_match_units),
	{},
};

const TestSuite time_suite = { .name = "keel_time", .cases = time_cases };

} // namespace

KEEL_TEST_SUITE(time_suite);
