// SPDX-License-Identifier: GPL-2.0
/*
 * Logging: lines are counted and searchable by level (what hostile-peer
 * tests assert on), and rate limiting suppresses past the burst.
 */
#include <keel/log.h>
#include <keel/string.h>
#include <keel/test.h>
#include <keel/time.h>

using namespace keel;
using namespace keel::test;

namespace {

/* Quiet while a case floods the log; the record still counts every line. */
struct Quiet : NonMovable {
	Quiet() { log_set_echo(false); }
	~Quiet() { log_set_echo(true); }
};

void errors_are_counted_and_searchable(Test &t)
{
	Quiet q;
	u64 errs = log_count(KEEL_LOGLEVEL_ERR);
	u64 since = log_count(KEEL_LOGLEVEL_DEBUG);
	/* No device: the driver core's tests cover the "name: " prefix. */
	dev_err(nullptr, "bad ring index %u", 77u);
	pr_info("an info line %d", 1);
	EXPECT_EQ(t, log_count(KEEL_LOGLEVEL_ERR), errs + 1);
	EXPECT_TRUE(t, log_contains_since(since, "bad ring index 77", KEEL_LOGLEVEL_ERR));
	/* Info is not an error... */
	EXPECT_FALSE(t, log_contains_since(since, "an info line", KEEL_LOGLEVEL_ERR));
	/* ...but is recorded at its own level. */
	EXPECT_TRUE(t, log_contains_since(since, "an info line", KEEL_LOGLEVEL_INFO));
	EXPECT_FALSE(t, log_contains_since(since, "never logged", KEEL_LOGLEVEL_DEBUG));
}

void last_line_is_available_without_newline(Test &t)
{
	Quiet q;
	pr_warn("last warning %s\n", "here");
	char buf[64];
	log_last(buf, sizeof(buf), KEEL_LOGLEVEL_WARNING);
	EXPECT_STREQ(t, buf, "last warning here");
}

void ratelimit_allows_burst_then_suppresses(Test &t)
{
	RateLimit rs = { ms_to_ns(10000), 5, 0, 0, 0, 0 };
	int allowed = 0;
	for (int i = 0; i < 20; i++)
		allowed += rs.allow();
	EXPECT_EQ(t, allowed, 5);
	EXPECT_EQ(t, rs.missed, 15u);
}

void ratelimit_opens_a_new_window_and_reports_missed(Test &t)
{
	Quiet q;
	/* A window long enough that a stalled vCPU cannot end it inside the loop. */
	RateLimit rs = { ms_to_ns(250), 2, 0, 0, 0, 0 };
	for (int i = 0; i < 6; i++)
		rs.allow();
	msleep(260);
	u64 since = log_count(KEEL_LOGLEVEL_DEBUG);
	EXPECT_TRUE(t, rs.allow());
	EXPECT_TRUE(t, log_contains_since(since, "4 messages suppressed", KEEL_LOGLEVEL_WARNING));
	EXPECT_TRUE(t, rs.allow());
	EXPECT_FALSE(t, rs.allow());
}

void ratelimit_reset_all_opens_a_fresh_window(Test &t)
{
	Quiet q;
	RateLimit rs = { ms_to_ns(10000), 2, 0, 0, 0, 0 };
	rs.allow();
	rs.allow();
	EXPECT_FALSE(t, rs.allow());
	EXPECT_EQ(t, rs.missed, 1u);
	u64 since = log_count(KEEL_LOGLEVEL_DEBUG);
	ratelimit_reset_all();
	/* A fresh window long before the interval ends, with nothing "suppressed" to report. */
	EXPECT_TRUE(t, rs.allow());
	EXPECT_TRUE(t, rs.allow());
	EXPECT_FALSE(t, rs.allow());
	EXPECT_FALSE(t, log_contains_since(since, "suppressed", KEEL_LOGLEVEL_WARNING));
}

void ratelimited_macro_logs_only_the_burst(Test &t)
{
	Quiet q;
	u64 before = log_count(KEEL_LOGLEVEL_ERR);
	for (int i = 0; i < 3 * KEEL_RATELIMIT_BURST; i++)
		dev_err_ratelimited(nullptr, "flood %d", i);
	EXPECT_EQ(t, log_count(KEEL_LOGLEVEL_ERR) - before, u64(KEEL_RATELIMIT_BURST));
}

void once_macro_logs_once(Test &t)
{
	Quiet q;
	u64 before = log_count(KEEL_LOGLEVEL_WARNING);
	for (int i = 0; i < 5; i++)
		dev_warn_once(nullptr, "only once %d", i);
	EXPECT_EQ(t, log_count(KEEL_LOGLEVEL_WARNING) - before, 1u);
}

const TestCase log_cases[] = {
	KEEL_CASE(errors_are_counted_and_searchable),
	KEEL_CASE(last_line_is_available_without_newline),
	KEEL_CASE(ratelimit_allows_burst_then_suppresses),
	KEEL_CASE(ratelimit_opens_a_new_window_and_reports_missed),
	KEEL_CASE(ratelimit_reset_all_opens_a_fresh_window),
	KEEL_CASE(ratelimited_macro_logs_only_the_burst),
	KEEL_CASE(once_macro_logs_once),
	{},
};

const TestSuite log_suite = { .name = "keel_log", .cases = log_cases };

} // namespace

KEEL_TEST_SUITE(log_suite);
