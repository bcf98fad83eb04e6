// SPDX-License-Identifier: GPL-2.0
/* Span and Array: sizes, element access, subspan clamping, const views. */
#include <keel/span.h>
#include <keel/test.h>

using namespace keel;
using namespace keel::test;

namespace {

void span_views_an_array(Test &t)
{
	u8 raw[6] = { 1, 2, 3, 4, 5, 6 };
	Span<u8> s(raw);
	EXPECT_EQ(t, s.size(), size_t(6));
	EXPECT_FALSE(t, s.empty());
	EXPECT_EQ(t, s[5], 6u);
	s[0] = 9;
	EXPECT_EQ(t, raw[0], 9u);
	u32 sum = 0;
	for (u8 v : s)
		sum += v;
	EXPECT_EQ(t, sum, 9u + 2 + 3 + 4 + 5 + 6);
	Span<const u8> c = s;
	EXPECT_EQ(t, c.data(), (const u8 *)raw);
	EXPECT_TRUE(t, Span<u8>().empty());
}

void subspan_clamps_to_the_span(Test &t)
{
	u32 raw[10] = {};
	Span<u32> s(raw, 10);
	EXPECT_EQ(t, s.subspan(2, 3).size(), size_t(3));
	EXPECT_EQ(t, s.subspan(2, 3).data(), raw + 2);
	EXPECT_EQ(t, s.subspan(8).size(), size_t(2));
	/* Length past the end, offset past the end, and overflowing both. */
	EXPECT_EQ(t, s.subspan(8, 5).size(), size_t(2));
	EXPECT_EQ(t, s.subspan(11, 1).size(), size_t(0));
	EXPECT_EQ(t, s.subspan(11, 1).data(), raw + 10);
	EXPECT_EQ(t, s.subspan(5, KEEL_SIZE_MAX).size(), size_t(5));
}

void array_has_fixed_size_and_views(Test &t)
{
	Array<u16, 4> a{ { 1, 2, 3, 4 } };
	static_assert(Array<u16, 4>::size() == 4);
	EXPECT_EQ(t, a[3], 4u);
	a[0] = 10;
	Span<u16> s = a.span();
	EXPECT_EQ(t, s.size(), size_t(4));
	EXPECT_EQ(t, s[0], 10u);
	const Array<u16, 4> &ca = a;
	EXPECT_EQ(t, ca[1], 2u);
	EXPECT_EQ(t, a.end() - a.begin(), 4);
}

const TestCase span_cases[] = {
	KEEL_CASE(span_views_an_array),
	KEEL_CASE(subspan_clamps_to_the_span),
	KEEL_CASE(array_has_fixed_size_and_views),
	{},
};

const TestSuite span_suite = { .name = "keel_span", .cases = span_cases };

} // namespace

KEEL_TEST_SUITE(span_suite);
