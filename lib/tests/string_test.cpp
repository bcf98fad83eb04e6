// SPDX-License-Identifier: GPL-2.0
/* strscpy, strscpy_untrusted, snprintf, streq. */
#include <keel/string.h>
#include <keel/test.h>

using namespace keel;
using namespace keel::test;

namespace {

void strscpy_copies_a_string_that_fits(Test &t)
{
	char buf[8];
	auto r = strscpy(buf, "rpmsg", sizeof(buf));
	ASSERT_OK(t, r);
	EXPECT_EQ(t, r.value(), size_t(5));
	EXPECT_STREQ(t, buf, "rpmsg");
	/* Exactly full: 7 characters and the NUL. */
	EXPECT_EQ(t, strscpy(buf, "1234567", sizeof(buf)).value_or(0), size_t(7));
	EXPECT_STREQ(t, buf, "1234567");
}

void strscpy_truncates_with_e2big(Test &t)
{
	char buf[8];
	memset(buf, 'x', sizeof(buf));
	EXPECT_ERR(t, strscpy(buf, "rpmsg-client-sample", sizeof(buf)), -E2BIG);
	EXPECT_STREQ(t, buf, "rpmsg-c");
	EXPECT_ERR(t, strscpy(buf, "a", 0), -E2BIG);
	EXPECT_EQ(t, buf[0], 'r');
}

void untrusted_copy_forces_a_nul(Test &t)
{
	/* A 32-byte name field with no terminator, as a hostile peer sends it. */
	char wire[32];
	memset(wire, 'A', sizeof(wire));
	char name[32];
	size_t n = strscpy_untrusted(name, sizeof(name), wire, sizeof(wire));
	EXPECT_EQ(t, n, size_t(31));
	EXPECT_EQ(t, name[31], '\0');
	EXPECT_EQ(t, strlen(name), size_t(31));

	/* Stops at the source bound even when the destination is larger. */
	char big[64];
	EXPECT_EQ(t, strscpy_untrusted(big, sizeof(big), wire, 5), size_t(5));
	EXPECT_STREQ(t, big, "AAAAA");

	/* Stops at an embedded NUL. */
	const char src[] = { 'h', 'i', '\0', 'x', 'y' };
	EXPECT_EQ(t, strscpy_untrusted(big, sizeof(big), src, sizeof(src)), size_t(2));
	EXPECT_STREQ(t, big, "hi");
	EXPECT_EQ(t, strscpy_untrusted(big, 0, src, sizeof(src)), size_t(0));
}

void snprintf_formats_and_truncates(Test &t)
{
	char buf[16];
	EXPECT_EQ(t, snprintf(buf, sizeof(buf), "%s:%u", "ept", 1024u), 8);
	EXPECT_STREQ(t, buf, "ept:1024");
	/* Returns the untruncated length, like C's. */
	EXPECT_EQ(t, snprintf(buf, 4, "%d", 123456), 6);
	EXPECT_STREQ(t, buf, "123");
	EXPECT_TRUE(t, streq("a", "a"));
	EXPECT_FALSE(t, streq("a", "ab"));
}

const TestCase string_cases[] = {
	KEEL_CASE(strscpy_copies_a_string_that_fits),
	KEEL_CASE(strscpy_truncates_with_e2big),
	KEEL_CASE(untrusted_copy_forces_a_nul),
	KEEL_CASE(snprintf_formats_and_truncates),
	{},
};

const TestSuite string_suite = { .name = "keel_string", .cases = string_cases };

} // namespace

KEEL_TEST_SUITE(string_suite);
