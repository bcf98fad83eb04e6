// SPDX-License-Identifier: GPL-2.0
/*
 * 64-bit division helpers (<keel/math.h>): the same results as '/' and '%'
 * through the port's helper (32-bit targets) and in constant expressions.
 */
#include <keel/math.h>
#include <keel/test.h>

using namespace keel;
using keel::test::Test;
using keel::test::TestCase;
using keel::test::TestSuite;

namespace {

static_assert(div_u64(10, 3) == 3);
static_assert(div_s64(-7, 2) == -3 && div_s64(7, -2) == -3 && div_s64(-7, -2) == 3);
static_assert(div_u64(~u64(0), 1) == ~u64(0));

/* Values the compiler cannot see through, so the runtime path is taken. */
template <typename T> T opaque(T v)
{
	asm volatile("" : "+r"(v));
	return v;
}

void div_u64_rem_matches_operators(Test &t)
{
	const u64 dividends[] = {
		0,	1, 999, 1000000007, u64(1) << 32, (u64(1) << 32) + 5, 0x123456789abcdefULL,
		~u64(0)
	};
	const u32 divisors[] = { 1, 2, 7, 1000, 4000000, 0xffffffffu };
	for (u64 n : dividends) {
		for (u32 d : divisors) {
			u32 rem = 0xdead;
			u64 q = div_u64_rem(opaque(n), opaque(d), &rem);
			EXPECT_EQ(t, q, n / d);
			EXPECT_EQ(t, rem, u32(n % d));
		}
	}
}

void div_s64_truncates_toward_zero(Test &t)
{
	EXPECT_EQ(t, div_s64(opaque(s64(-7)), opaque(s32(2))), -3);
	EXPECT_EQ(t, div_s64(opaque(s64(7)), opaque(s32(-2))), -3);
	EXPECT_EQ(t, div_s64(opaque(s64(-7)), opaque(s32(-2))), 3);
	EXPECT_EQ(t, div_s64(opaque(s64(-5000000001LL)), opaque(s32(1000000))), -5000);
	EXPECT_EQ(t, div_s64(opaque(KEEL_S64_MAX), opaque(s32(1))), KEEL_S64_MAX);
	EXPECT_EQ(t, div_s64(opaque(-KEEL_S64_MAX), opaque(s32(1000))), -KEEL_S64_MAX / 1000);
}

const TestCase math_cases[] = {
	KEEL_CASE(div_u64_rem_matches_operators),
	KEEL_CASE(div_s64_truncates_toward_zero),
	{},
};

const TestSuite math_suite = { .name = "keel_math", .cases = math_cases };

} // namespace

KEEL_TEST_SUITE(math_suite);
