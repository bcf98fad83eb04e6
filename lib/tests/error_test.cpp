// SPDX-License-Identifier: GPL-2.0
/*
 * Error/Result beyond keel_result's basics: move-only values, value
 * lifetimes (constructed and destroyed exactly once), value_or(),
 * Result<void>, and TRY stopping at the first error.
 */
#include <keel/alloc.h>
#include <keel/error.h>
#include <keel/test.h>

using namespace keel;
using namespace keel::test;

namespace {

struct Counted {
	static inline int alive = 0;
	int v;
	explicit Counted(int x) : v(x) { alive++; }
	Counted(Counted &&o) : v(o.v) { alive++; }
	~Counted() { alive--; }
};

Result<Counted> make_counted(int v)
{
	if (v < 0)
		return err(-ERANGE);
	return Counted(v);
}

void result_destroys_its_value_exactly_once(Test &t)
{
	Counted::alive = 0;
	{
		auto r = make_counted(3);
		ASSERT_OK(t, r);
		EXPECT_EQ(t, r.value().v, 3);
		EXPECT_EQ(t, Counted::alive, 1);
		Result<Counted> moved = move(r);
		EXPECT_EQ(t, moved.value().v, 3);
	}
	EXPECT_EQ(t, Counted::alive, 0);
	{
		auto r = make_counted(-1);
		EXPECT_ERR(t, r, -ERANGE);
		EXPECT_EQ(t, Counted::alive, 0);
	}
	EXPECT_EQ(t, Counted::alive, 0);
}

void result_holds_move_only_values(Test &t)
{
	auto r = make_unique<int>(GFP_KERNEL, 17);
	ASSERT_OK(t, r);
	UniquePtr<int> p = r.release_value();
	ASSERT_NOT_NULL(t, p.get());
	EXPECT_EQ(t, *p, 17);
}

void value_or_picks_the_fallback_on_error(Test &t)
{
	Result<int> bad = err(-EIO);
	Result<int> good = 5;
	EXPECT_EQ(t, bad.value_or(-1), -1);
	EXPECT_EQ(t, good.value_or(-1), 5);
	EXPECT_TRUE(t, bad.error() == err(-EIO));
	EXPECT_EQ(t, result_errno(bad), -EIO);
	EXPECT_EQ(t, result_errno(good), 0);
}

int g_steps;

Result<void> step(int n, bool fail)
{
	g_steps = n;
	if (fail)
		return err(-EPIPE);
	return ok();
}

Result<int> three_steps(int failing)
{
	TRY(step(1, failing == 1));
	TRY(step(2, failing == 2));
	TRY(step(3, failing == 3));
	return 0;
}

void try_stops_at_the_first_error(Test &t)
{
	EXPECT_ERR(t, three_steps(2), -EPIPE);
	EXPECT_EQ(t, g_steps, 2);
	EXPECT_OK(t, three_steps(0));
	EXPECT_EQ(t, g_steps, 3);
}

void result_void_reports_success_and_errors(Test &t)
{
	Result<void> good = ok();
	Result<void> bad = err(-ESHUTDOWN);
	EXPECT_TRUE(t, good.is_ok());
	EXPECT_TRUE(t, bad.is_error());
	EXPECT_EQ(t, bad.error().to_errno(), -ESHUTDOWN);
	EXPECT_EQ(t, from_result(bad), -ESHUTDOWN);
	EXPECT_EQ(t, from_result(good), 0);
	/* Errors outside the errno range are a bug: they map to -EINVAL. */
	EXPECT_EQ(t, from_result(to_result(-MAX_ERRNO - 5)), -EINVAL);
}

const TestCase error_cases[] = {
	KEEL_CASE(result_destroys_its_value_exactly_once), KEEL_CASE(result_holds_move_only_values),
	KEEL_CASE(value_or_picks_the_fallback_on_error),   KEEL_CASE(try_stops_at_the_first_error),
	KEEL_CASE(result_void_reports_success_and_errors), {},
};

const TestSuite error_suite = { .name = "keel_error", .cases = error_cases };

} // namespace

KEEL_TEST_SUITE(error_suite);
