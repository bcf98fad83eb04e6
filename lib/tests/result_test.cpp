// SPDX-License-Identifier: GPL-2.0
#include <keel/error.h>
#include <keel/test.h>

using namespace keel;
using namespace keel::test;

namespace {

Result<int> parse_positive(int v)
{
	if (v <= 0)
		return err(-EINVAL);
	return v;
}

Result<int> doubled(int v)
{
	int x = TRY(parse_positive(v));
	return x * 2;
}

Result<void> check_all(int a, int b)
{
	TRY(parse_positive(a));
	TRY(parse_positive(b));
	return ok();
}

void result_value_round_trips(Test &t)
{
	auto r = parse_positive(7);
	ASSERT_TRUE(t, r.is_ok());
	EXPECT_EQ(t, r.value(), 7);
}

void try_propagates_first_error(Test &t)
{
	EXPECT_ERR(t, doubled(-3), -EINVAL);
	EXPECT_EQ(t, doubled(-3).error(), err(-EINVAL));
	EXPECT_NE(t, doubled(-3).error(), err(-ENOMEM));
	auto r = doubled(21);
	ASSERT_OK(t, r);
	EXPECT_EQ(t, r.value(), 42);
	EXPECT_ERR(t, check_all(1, 0), -EINVAL);
	EXPECT_OK(t, check_all(1, 2));
}

void error_keeps_errno_range(Test &t)
{
	EXPECT_EQ(t, err(-ENOMEM).to_errno(), -ENOMEM);
	EXPECT_EQ(t, err(-MAX_ERRNO).to_errno(), -MAX_ERRNO);
	/* Out-of-range codes are a bug in the caller: they become -EINVAL. */
	EXPECT_EQ(t, err(0).to_errno(), -EINVAL);
	EXPECT_EQ(t, err(5).to_errno(), -EINVAL);
	EXPECT_EQ(t, err(-MAX_ERRNO - 1).to_errno(), -EINVAL);
}

void c_boundary_maps_one_to_one(Test &t)
{
	EXPECT_EQ(t, from_result(to_result(0)), 0);
	EXPECT_EQ(t, from_result(to_result(-EPROBE_DEFER)), -EPROBE_DEFER);
	EXPECT_EQ(t, from_result(to_result(-EIO)), -EIO);
	EXPECT_TRUE(t, to_result(3).is_ok());
}

const TestCase result_cases[] = {
	KEEL_CASE(result_value_round_trips),
	KEEL_CASE(try_propagates_first_error),
	KEEL_CASE(error_keeps_errno_range),
	KEEL_CASE(c_boundary_maps_one_to_one),
	{},
};

const TestSuite result_suite = { .name = "keel_result", .cases = result_cases };

} // namespace

KEEL_TEST_SUITE(result_suite);
