/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The test API: KUnit-shaped suites of cases with expectations, compiled
 * unchanged into the hosted runner (KTAP on stdout, run by ctest) and into
 * real KUnit suites in the kernel port.
 *
 *	static void idr_alloc_lowest_free(Test &t)
 *	{
 *		Idr idr;
 *		ASSERT_OK(t, idr.alloc(&x, 0, 10, GFP_KERNEL));
 *		EXPECT_EQ(t, idr.find(0), &x);
 *	}
 *	static const TestCase idr_cases[] = { KEEL_CASE(idr_alloc_lowest_free), {} };
 *	static const TestSuite idr_suite = { .name = "keel_idr", .cases = idr_cases };
 *	KEEL_TEST_SUITE(idr_suite);
 *
 * EXPECT_* records a failure and continues; ASSERT_* records it and returns
 * from the enclosing (void) function, so destructors and guards still run
 * (no longjmp, no KUnit assert from C++ frames). Values are printed on
 * failure. Tests must not depend on anything OS-specific.
 */
#ifndef KEEL_TEST_H
#define KEEL_TEST_H

#include <keel/alloc.h>
#include <keel/compiler.h>
#include <keel/error.h>
#include <keel/list.h>
#include <keel/string.h>

namespace keel::test {

class Test;

/**
 * struct TestCase - one test case (Linux struct kunit_case)
 * @name: its name, printed in the KTAP output (the function's name)
 * @run: the case; fails through the EXPECT_ and ASSERT_ macros
 * @generate_params: for a parameterised case (KUnit's generate_params):
 *	returns the parameter after @prev (nullptr: the first) and writes
 *	its description into @desc (KEEL_TEST_DESC_LEN bytes); nullptr ends.
 *	nullptr for a plain case.
 *
 * A suite's table ends with a zeroed entry; KEEL_CASE() and
 * KEEL_PARAM_CASE() make the others.
 */
struct TestCase {
	const char *name;
	void (*run)(Test &t);
	/* KUnit's generate_params: next parameter after @prev (nullptr: first); nullptr ends. */
	const void *(*generate_params)(const void *prev, char *desc);
};

/**
 * struct TestSuite - a suite of cases (Linux struct kunit_suite)
 * @name: the suite's name (<subsystem>_<unit>: "keel_idr", "rpmsg_ns")
 * @cases: the cases, ending with a zeroed entry
 * @init: runs before each case; a nonzero return fails the case (optional)
 * @exit: runs after each case (optional)
 * @suite_init: runs once before the suite; nonzero fails it (optional)
 * @suite_exit: runs once after the suite (optional)
 */
struct TestSuite {
	const char *name;
	const TestCase *cases; /* ends with a zeroed entry */
	/* Per case, around each run; init may fail the case by returning nonzero. */
	int (*init)(Test &t);
	void (*exit)(Test &t);
	/* Once per suite. */
	int (*suite_init)();
	void (*suite_exit)();
};

#define KEEL_TEST_DESC_LEN 128

/**
 * enum Status - a case's outcome
 * @Success: every expectation held
 * @Failure: at least one failed (or init failed)
 * @Skipped: the case called skip()
 */
enum class Status { Success, Failure, Skipped };

/**
 * class Test - the running case (Linux struct kunit)
 * @priv: suite-defined state, set by the suite's init()
 *
 * Passed to every case and to the expectation macros. Owns the memory and
 * cleanups registered on it, released when the case ends (the runner
 * destroys it; cleanups run last added first). Not shared between
 * threads: threads a case starts report through the case's own thread.
 */
class Test : NonMovable {
public:
	/**
	 * Test() - the state of one case run
	 * @name: the case's name
	 * @param: the parameter of this run, or nullptr
	 * @os: the runner's context (struct kunit * in the kernel)
	 *
	 * Made by run_case(), not by tests.
	 *
	 * Context: any.
	 */
	Test(const char *name, const void *param, void *os) : m_name(name), m_param(param), m_os(os)
	{
	}
	~Test();

	/**
	 * name() - the case's name
	 *
	 * Context: any.
	 * Return: the name.
	 */
	const char *name() const { return m_name; }
	/**
	 * os_context() - the runner's context (struct kunit * in the kernel)
	 *
	 * Context: any.
	 * Return: the context given at construction.
	 */
	void *os_context() const { return m_os; }
	/**
	 * param() - this run's parameter, as the T its generator iterates over
	 *
	 * Context: any; only in a parameterised case.
	 * Return: a reference to the parameter.
	 */
	template <typename T> const T &param() const { return *static_cast<const T *>(m_param); }
	/**
	 * raw_param() - this run's parameter, untyped
	 *
	 * Context: any.
	 * Return: the parameter, or nullptr for a plain case.
	 */
	const void *raw_param() const { return m_param; }
	/* Suite-defined state, set by init(). */
	void *priv = nullptr;

	/**
	 * failed() - has an expectation failed so far?
	 *
	 * Context: any.
	 * Return: true once the case has failed.
	 */
	bool failed() const { return m_status == Status::Failure; }
	/**
	 * status() - the outcome so far
	 *
	 * Context: any.
	 * Return: the status.
	 */
	Status status() const { return m_status; }
	/**
	 * fail() - record a failure with a message (what the macros call)
	 * @file: the source file of the check
	 * @line: its line
	 * @fmt: printf format of the message
	 * @...: its arguments
	 *
	 * The case continues; the message goes to the runner's output.
	 *
	 * Context: any.
	 */
	__printf(4, 5) void fail(const char *file, int line, const char *fmt, ...);
	/**
	 * skip() - mark the case skipped, with a reason (kunit_skip())
	 * @fmt: printf format of the reason
	 * @...: its arguments
	 *
	 * Return from the case afterwards.
	 *
	 * Context: any.
	 */
	__printf(2, 3) void skip(const char *fmt, ...);
	/**
	 * skip_reason() - why the case was skipped
	 *
	 * Context: any.
	 * Return: the reason, "" when not skipped.
	 */
	const char *skip_reason() const { return m_skip_reason; }
	/**
	 * info() - print a diagnostic line in the output (kunit_info())
	 * @fmt: printf format
	 * @...: its arguments
	 *
	 * Context: any.
	 */
	__printf(2, 3) void info(const char *fmt, ...);

	/**
	 * alloc() - test-managed zeroed memory (kunit_kzalloc())
	 * @size: bytes
	 * @gfp: the allocation context
	 *
	 * Freed when the case ends.
	 *
	 * Context: may sleep with GFP_KERNEL.
	 * Return: the memory, or nullptr.
	 */
	void *alloc(size_t size, Gfp gfp = GFP_KERNEL);
	/**
	 * alloc_array() - test-managed zeroed array of @n T
	 * @n: elements
	 * @gfp: the allocation context
	 *
	 * Context: may sleep with GFP_KERNEL.
	 * Return: the array, or nullptr (also when the size overflows).
	 */
	template <typename T> T *alloc_array(size_t n, Gfp gfp = GFP_KERNEL)
	{
		size_t bytes;
		if (check_mul_overflow(n, sizeof(T), &bytes))
			return nullptr;
		return static_cast<T *>(alloc(bytes, gfp));
	}
	/**
	 * add_cleanup() - run @fn(@arg) when the case ends (kunit_add_action())
	 * @fn: the cleanup
	 * @arg: its argument
	 *
	 * Cleanups run last added first, also when an ASSERT_ returned early.
	 *
	 * Context: may sleep.
	 * Return: 0, or -ENOMEM (@fn is then not registered: clean up yourself).
	 */
	Result<void> add_cleanup(void (*fn)(void *), void *arg);
	/**
	 * cleanup() - run every registered cleanup now
	 *
	 * The destructor does it too.
	 *
	 * Context: that of the cleanups.
	 */
	void cleanup();

private:
	struct Resource {
		ListNode m_node;
		void (*fn)(void *);
		void *arg;
	};
	const char *m_name;
	const void *m_param;
	void *m_os;
	Status m_status = Status::Success;
	char m_skip_reason[KEEL_TEST_DESC_LEN] = {};
	List<Resource, &Resource::m_node> m_resources;
};

/**
 * run_case() - run one case of @suite with one parameter
 * @suite: the suite
 * @tc: the case
 * @param: the parameter, or nullptr
 * @os: the runner's context
 * @skip_reason: out: the reason when skipped
 * @skip_len: bytes of @skip_reason
 *
 * Runs init, the case, exit and the cleanups. Every runner (hosted, the
 * KUnit bridge) calls this.
 *
 * Context: may sleep.
 * Return: the case's status.
 */
Status run_case(const TestSuite &suite, const TestCase &tc, const void *param, void *os,
		char *skip_reason, size_t skip_len);

/* --- expectation helpers (used by the macros) --- */
/**
 * format_value() - print a signed value for a failure message
 * @buf: the buffer
 * @size: bytes of @buf
 * @v: the value
 *
 * Context: any.
 */
void format_value(char *buf, size_t size, long long v);
/**
 * format_value() - print an unsigned value for a failure message
 * @buf: the buffer
 * @size: bytes of @buf
 * @v: the value
 *
 * Context: any.
 */
void format_value(char *buf, size_t size, unsigned long long v);
/**
 * format_value() - print a pointer for a failure message
 * @buf: the buffer
 * @size: bytes of @buf
 * @p: the pointer
 *
 * Context: any.
 */
void format_value(char *buf, size_t size, const void *p);
/**
 * format_value() - print a bool for a failure message
 * @buf: the buffer
 * @size: bytes of @buf
 * @v: the value
 *
 * Context: any.
 */
void format_value(char *buf, size_t size, bool v);
/**
 * format_value() - print an Error ("error -22") for a failure message
 * @buf: the buffer
 * @size: bytes of @buf
 * @e: the error
 *
 * Context: any.
 */
void format_value(char *buf, size_t size, Error e);

/**
 * format_any() - print any value the expectations compare
 * @buf: the buffer
 * @size: bytes of @buf
 * @v: a bool, enum, integer, pointer, nullptr or Error
 *
 * Context: any.
 */
template <typename T> void format_any(char *buf, size_t size, const T &v)
{
	if constexpr (is_same_v<T, bool>)
		format_value(buf, size, v);
	else if constexpr (is_enum_v<T>)
		format_value(buf, size, (long long)v);
	else if constexpr (is_integral_v<T> && is_signed_v<T>)
		format_value(buf, size, (long long)v);
	else if constexpr (is_integral_v<T>)
		format_value(buf, size, (unsigned long long)v);
	else if constexpr (is_pointer_v<T>)
		format_value(buf, size, (const void *)v);
	else if constexpr (is_same_v<T, nullptr_t>)
		format_value(buf, size, (const void *)nullptr);
	else
		format_value(buf, size, v);
}

/**
 * enum Op - the comparison of a binary expectation
 * @Eq: ==
 * @Ne: !=
 * @Lt: <
 * @Le: <=
 * @Gt: >
 * @Ge: >=
 */
enum class Op { Eq, Ne, Lt, Le, Gt, Ge };

/**
 * cmp_less() - @a < @b without sign-conversion surprises (std::cmp_less)
 * @a: a value
 * @b: another, possibly of another signedness
 *
 * Context: any (constexpr).
 * Return: true when @a is mathematically less than @b.
 */
template <typename A, typename B> constexpr bool cmp_less(A a, B b)
{
	if constexpr (is_integral_v<A> && is_integral_v<B> && is_signed_v<A> != is_signed_v<B>) {
		if constexpr (is_signed_v<A>)
			return a < 0 ? true : (unsigned long long)a < (unsigned long long)b;
		else
			return b < 0 ? false : (unsigned long long)a < (unsigned long long)b;
	} else {
		return a < b;
	}
}
/**
 * cmp_equal() - @a == @b without sign-conversion surprises (std::cmp_equal)
 * @a: a value
 * @b: another, possibly of another signedness
 *
 * Context: any (constexpr).
 * Return: true when mathematically equal.
 */
template <typename A, typename B> constexpr bool cmp_equal(A a, B b)
{
	if constexpr (is_integral_v<A> && is_integral_v<B> && is_signed_v<A> != is_signed_v<B>) {
		if constexpr (is_signed_v<A>)
			return a >= 0 && (unsigned long long)a == (unsigned long long)b;
		else
			return b >= 0 && (unsigned long long)a == (unsigned long long)b;
	} else {
		return a == b;
	}
}
/**
 * compare() - does @a @op @b hold?
 * @op: the comparison
 * @a: left operand
 * @b: right operand
 *
 * Orderings only for types that have them (Error and wire types compare
 * for equality only: an ordering of them is false).
 *
 * Context: any (constexpr).
 * Return: true when it holds.
 */
template <typename A, typename B> constexpr bool compare(Op op, const A &a, const B &b)
{
	if (op == Op::Eq)
		return cmp_equal(a, b);
	if (op == Op::Ne)
		return !cmp_equal(a, b);
	/* Ordering only for types that have it (Error, wire types: equality only). */
	if constexpr (requires {
			      a < b;
			      b < a;
		      }) {
		switch (op) {
		case Op::Lt:
			return cmp_less(a, b);
		case Op::Le:
			return !cmp_less(b, a);
		case Op::Gt:
			return cmp_less(b, a);
		case Op::Ge:
			return !cmp_less(a, b);
		default:
			break;
		}
	}
	return false;
}
/**
 * op_str() - the C spelling of @op ("==", "<=")
 * @op: the comparison
 *
 * Context: any.
 * Return: the operator's text, "?" for a value that is not an Op.
 */
const char *op_str(Op op);
/**
 * report_binary() - fail @t with the message of a failed binary expectation
 * @t: the case
 * @file: the check's file
 * @line: its line
 * @op: the operator's text
 * @ea: the left expression's text
 * @eb: the right expression's text
 * @va: the left value, printed
 * @vb: the right value, printed
 *
 * Context: any.
 */
void report_binary(Test &t, const char *file, int line, const char *op, const char *ea,
		   const char *eb, const char *va, const char *vb);

/**
 * expect_binary() - check @a @op @b, failing @t with both values if not
 * @t: the case
 * @a: left value
 * @b: right value
 * @op: the comparison
 * @ea: left expression's text
 * @eb: right expression's text
 * @file: the check's file
 * @line: its line
 *
 * Context: any.
 * Return: true when it held.
 */
template <typename A, typename B>
bool expect_binary(Test &t, const A &a, const B &b, Op op, const char *ea, const char *eb,
		   const char *file, int line)
{
	if (compare(op, a, b)) [[likely]]
		return true;
	char va[64], vb[64];
	format_any(va, sizeof(va), a);
	format_any(vb, sizeof(vb), b);
	report_binary(t, file, line, op_str(op), ea, eb, va, vb);
	return false;
}
/**
 * expect_true() - check that @v is @want
 * @t: the case
 * @v: the value
 * @want: what it should be
 * @expr: the expression's text
 * @file: the check's file
 * @line: its line
 *
 * Context: any.
 * Return: true when it is.
 */
bool expect_true(Test &t, bool v, bool want, const char *expr, const char *file, int line);
/**
 * expect_streq() - check that two strings are (or are not) equal
 * @t: the case
 * @a: one string (nullptr prints as such and compares unequal)
 * @b: the other
 * @want_eq: true: they should be equal; false: they should differ
 * @ea: @a's expression text
 * @eb: @b's expression text
 * @file: the check's file
 * @line: its line
 *
 * Context: any.
 * Return: true when the check held.
 */
bool expect_streq(Test &t, const char *a, const char *b, bool want_eq, const char *ea,
		  const char *eb, const char *file, int line);
/**
 * expect_memeq() - check that @n bytes at @a and @b are equal
 * @t: the case
 * @a: one buffer
 * @b: the other
 * @n: bytes
 * @ea: @a's expression text
 * @eb: @b's expression text
 * @file: the check's file
 * @line: its line
 *
 * The message says where the first difference is.
 *
 * Context: any.
 * Return: true when equal.
 */
bool expect_memeq(Test &t, const void *a, const void *b, size_t n, const char *ea, const char *eb,
		  const char *file, int line);
/**
 * expect_ok() - check that @r succeeded
 * @t: the case
 * @r: the result
 * @expr: its expression's text
 * @file: the check's file
 * @line: its line
 *
 * Context: any.
 * Return: true when it did.
 */
template <typename T>
bool expect_ok(Test &t, const Result<T> &r, const char *expr, const char *file, int line)
{
	if (r.is_ok()) [[likely]]
		return true;
	t.fail(file, line, "Expected %s to succeed, but it failed with %d", expr,
	       r.error().to_errno());
	return false;
}
/**
 * expect_err() - check that @r failed with errno @want
 * @t: the case
 * @r: the result
 * @want: the negative errno expected
 * @expr: its expression's text
 * @file: the check's file
 * @line: its line
 *
 * Context: any.
 * Return: true when it did.
 */
template <typename T>
bool expect_err(Test &t, const Result<T> &r, int want, const char *expr, const char *file, int line)
{
	if (r.is_error() && r.error().to_errno() == want) [[likely]]
		return true;
	if (r.is_ok())
		t.fail(file, line, "Expected %s to fail with %d, but it succeeded", expr, want);
	else
		t.fail(file, line, "Expected %s to fail with %d, but it failed with %d", expr, want,
		       r.error().to_errno());
	return false;
}

} // namespace keel::test

#define __KEEL_BIN(t, a, b, op)                                                                    \
	::keel::test::expect_binary((t), (a), (b), op, #a, #b, __FILE__, __LINE__)
/**
 * EXPECT_EQ() - expect @a == @b
 * @t: the case
 * @a: a value
 * @b: the value it should equal
 *
 * Integers of different signedness compare mathematically. Both values are
 * printed on failure; the case continues.
 *
 * Context: a test case.
 * Return: true when it held.
 */
#define EXPECT_EQ(t, a, b) __KEEL_BIN(t, a, b, ::keel::test::Op::Eq)
/**
 * EXPECT_NE() - expect @a != @b
 * @t: the case
 * @a: a value
 * @b: a value it should differ from
 *
 * Context: a test case.
 * Return: true when it held.
 */
#define EXPECT_NE(t, a, b) __KEEL_BIN(t, a, b, ::keel::test::Op::Ne)
/**
 * EXPECT_LT() - expect @a < @b
 * @t: the case
 * @a: a value
 * @b: its bound
 *
 * Context: a test case.
 * Return: true when it held.
 */
#define EXPECT_LT(t, a, b) __KEEL_BIN(t, a, b, ::keel::test::Op::Lt)
/**
 * EXPECT_LE() - expect @a <= @b
 * @t: the case
 * @a: a value
 * @b: its bound
 *
 * Context: a test case.
 * Return: true when it held.
 */
#define EXPECT_LE(t, a, b) __KEEL_BIN(t, a, b, ::keel::test::Op::Le)
/**
 * EXPECT_GT() - expect @a > @b
 * @t: the case
 * @a: a value
 * @b: its bound
 *
 * Context: a test case.
 * Return: true when it held.
 */
#define EXPECT_GT(t, a, b) __KEEL_BIN(t, a, b, ::keel::test::Op::Gt)
/**
 * EXPECT_GE() - expect @a >= @b
 * @t: the case
 * @a: a value
 * @b: its bound
 *
 * Context: a test case.
 * Return: true when it held.
 */
#define EXPECT_GE(t, a, b) __KEEL_BIN(t, a, b, ::keel::test::Op::Ge)
/**
 * EXPECT_TRUE() - expect @v to be true
 * @t: the case
 * @v: a condition
 *
 * Context: a test case.
 * Return: true when it held.
 */
#define EXPECT_TRUE(t, v) ::keel::test::expect_true((t), !!(v), true, #v, __FILE__, __LINE__)
/**
 * EXPECT_FALSE() - expect @v to be false
 * @t: the case
 * @v: a condition
 *
 * Context: a test case.
 * Return: true when it held.
 */
#define EXPECT_FALSE(t, v) ::keel::test::expect_true((t), !!(v), false, #v, __FILE__, __LINE__)
/**
 * EXPECT_NULL() - expect @p to be nullptr
 * @t: the case
 * @p: a pointer
 *
 * Context: a test case.
 * Return: true when it held.
 */
#define EXPECT_NULL(t, p)                                                                          \
	__KEEL_BIN(t, (const void *)(p), (const void *)nullptr, ::keel::test::Op::Eq)
/**
 * EXPECT_NOT_NULL() - expect @p not to be nullptr
 * @t: the case
 * @p: a pointer
 *
 * Context: a test case.
 * Return: true when it held.
 */
#define EXPECT_NOT_NULL(t, p)                                                                      \
	__KEEL_BIN(t, (const void *)(p), (const void *)nullptr, ::keel::test::Op::Ne)
/**
 * EXPECT_STREQ() - expect two strings to be equal
 * @t: the case
 * @a: a string
 * @b: the string it should equal
 *
 * Context: a test case.
 * Return: true when it held.
 */
#define EXPECT_STREQ(t, a, b)                                                                      \
	::keel::test::expect_streq((t), (a), (b), true, #a, #b, __FILE__, __LINE__)
/**
 * EXPECT_STRNE() - expect two strings to differ
 * @t: the case
 * @a: a string
 * @b: a string it should differ from
 *
 * Context: a test case.
 * Return: true when it held.
 */
#define EXPECT_STRNE(t, a, b)                                                                      \
	::keel::test::expect_streq((t), (a), (b), false, #a, #b, __FILE__, __LINE__)
/**
 * EXPECT_MEMEQ() - expect @n bytes at @a and @b to be equal
 * @t: the case
 * @a: a buffer
 * @b: the buffer it should equal
 * @n: bytes
 *
 * Context: a test case.
 * Return: true when it held.
 */
#define EXPECT_MEMEQ(t, a, b, n)                                                                   \
	::keel::test::expect_memeq((t), (a), (b), (n), #a, #b, __FILE__, __LINE__)
/**
 * EXPECT_OK() - expect the Result @r to be a success
 * @t: the case
 * @r: a Result (evaluated once)
 *
 * Context: a test case.
 * Return: true when it held.
 */
#define EXPECT_OK(t, r) ::keel::test::expect_ok((t), (r), #r, __FILE__, __LINE__)
/**
 * EXPECT_ERR() - expect the Result @r to fail with errno @e
 * @t: the case
 * @r: a Result
 * @e: the negative errno, e.g. -EINVAL
 *
 * Context: a test case.
 * Return: true when it held.
 */
#define EXPECT_ERR(t, r, e) ::keel::test::expect_err((t), (r), (e), #r, __FILE__, __LINE__)
/**
 * EXPECT_FAIL() - fail the case with a message, unconditionally
 * @t: the case
 * @fmt: printf format
 * @...: its arguments
 *
 * Context: a test case.
 */
#define EXPECT_FAIL(t, fmt, ...) (t).fail(__FILE__, __LINE__, fmt, ##__VA_ARGS__)

#define __KEEL_ASSERT(x)                                                                           \
	do {                                                                                       \
		if (!(x)) [[unlikely]]                                                             \
			return;                                                                    \
	} while (0)
/**
 * ASSERT_EQ() - EXPECT_EQ(), and return from the case when it fails
 * @t: the case
 * @a: as for EXPECT_ (left)
 * @b: as for EXPECT_ (right)
 *
 * Returns from the enclosing void function, so destructors and guards
 * run; never use it while threads the case started still use its stack
 * frame (stop them first).
 *
 * Context: a test case (or a void function it calls).
 */
#define ASSERT_EQ(t, a, b) __KEEL_ASSERT(EXPECT_EQ(t, a, b))
/**
 * ASSERT_NE() - EXPECT_NE(), and return from the case when it fails
 * @t: the case
 * @a: as for EXPECT_ (left)
 * @b: as for EXPECT_ (right)
 *
 * Context: a test case (or a void function it calls).
 */
#define ASSERT_NE(t, a, b) __KEEL_ASSERT(EXPECT_NE(t, a, b))
/**
 * ASSERT_LT() - EXPECT_LT(), and return from the case when it fails
 * @t: the case
 * @a: as for EXPECT_ (left)
 * @b: as for EXPECT_ (right)
 *
 * Context: a test case (or a void function it calls).
 */
#define ASSERT_LT(t, a, b) __KEEL_ASSERT(EXPECT_LT(t, a, b))
/**
 * ASSERT_LE() - EXPECT_LE(), and return from the case when it fails
 * @t: the case
 * @a: as for EXPECT_ (left)
 * @b: as for EXPECT_ (right)
 *
 * Context: a test case (or a void function it calls).
 */
#define ASSERT_LE(t, a, b) __KEEL_ASSERT(EXPECT_LE(t, a, b))
/**
 * ASSERT_GT() - EXPECT_GT(), and return from the case when it fails
 * @t: the case
 * @a: as for EXPECT_ (left)
 * @b: as for EXPECT_ (right)
 *
 * Context: a test case (or a void function it calls).
 */
#define ASSERT_GT(t, a, b) __KEEL_ASSERT(EXPECT_GT(t, a, b))
/**
 * ASSERT_GE() - EXPECT_GE(), and return from the case when it fails
 * @t: the case
 * @a: as for EXPECT_ (left)
 * @b: as for EXPECT_ (right)
 *
 * Context: a test case (or a void function it calls).
 */
#define ASSERT_GE(t, a, b) __KEEL_ASSERT(EXPECT_GE(t, a, b))
/**
 * ASSERT_TRUE() - EXPECT_TRUE(), and return from the case when it fails
 * @t: the case
 * @v: a condition
 *
 * Context: a test case (or a void function it calls).
 */
#define ASSERT_TRUE(t, v) __KEEL_ASSERT(EXPECT_TRUE(t, v))
/**
 * ASSERT_FALSE() - EXPECT_FALSE(), and return from the case when it fails
 * @t: the case
 * @v: a condition
 *
 * Context: a test case (or a void function it calls).
 */
#define ASSERT_FALSE(t, v) __KEEL_ASSERT(EXPECT_FALSE(t, v))
/**
 * ASSERT_NULL() - EXPECT_NULL(), and return from the case when it fails
 * @t: the case
 * @p: a pointer
 *
 * Context: a test case (or a void function it calls).
 */
#define ASSERT_NULL(t, p) __KEEL_ASSERT(EXPECT_NULL(t, p))
/**
 * ASSERT_NOT_NULL() - EXPECT_NOT_NULL(), and return from the case when it fails
 * @t: the case
 * @p: a pointer
 *
 * Context: a test case (or a void function it calls).
 */
#define ASSERT_NOT_NULL(t, p) __KEEL_ASSERT(EXPECT_NOT_NULL(t, p))
/**
 * ASSERT_STREQ() - EXPECT_STREQ(), and return from the case when it fails
 * @t: the case
 * @a: as for EXPECT_ (left)
 * @b: as for EXPECT_ (right)
 *
 * Context: a test case (or a void function it calls).
 */
#define ASSERT_STREQ(t, a, b) __KEEL_ASSERT(EXPECT_STREQ(t, a, b))
/**
 * ASSERT_MEMEQ() - EXPECT_MEMEQ(), and return from the case when it fails
 * @t: the case
 * @a: as for EXPECT_ (left)
 * @b: as for EXPECT_ (right)
 * @n: bytes
 *
 * Context: a test case (or a void function it calls).
 */
#define ASSERT_MEMEQ(t, a, b, n) __KEEL_ASSERT(EXPECT_MEMEQ(t, a, b, n))
/**
 * ASSERT_OK() - EXPECT_OK(), and return from the case when it fails
 * @t: the case
 * @r: a Result
 *
 * Context: a test case (or a void function it calls).
 */
#define ASSERT_OK(t, r) __KEEL_ASSERT(EXPECT_OK(t, r))
/**
 * ASSERT_ERR() - EXPECT_ERR(), and return from the case when it fails
 * @t: the case
 * @r: a Result
 * @e: the negative errno
 *
 * Context: a test case (or a void function it calls).
 */
#define ASSERT_ERR(t, r, e) __KEEL_ASSERT(EXPECT_ERR(t, r, e))

/**
 * KEEL_CASE() - the TestCase entry of case function @fn
 * @fn: the case, named after the behaviour it checks
 *
 * Context: a constant initialiser.
 * Return: the entry.
 */
#define KEEL_CASE(fn)                                                                              \
	::keel::test::TestCase                                                                     \
	{                                                                                          \
#fn, fn, nullptr                                                                   \
	}
/**
 * KEEL_PARAM_CASE() - the TestCase entry of a parameterised case
 * @fn: the case; it reads its parameter with Test::param()
 * @gen: the parameter generator (KEEL_PARAMS())
 *
 * Context: a constant initialiser.
 * Return: the entry.
 */
#define KEEL_PARAM_CASE(fn, gen)                                                                   \
	::keel::test::TestCase                                                                     \
	{                                                                                          \
#fn, fn, gen                                                                       \
	}

#ifndef KEEL_TEST_SUITE
/**
 * KEEL_TEST_SUITE() - register @suite with the runner
 * @suite: a static const TestSuite
 *
 * Hosted: a pointer in the "keel_test_suites" section, found through the
 * linker's __start_/__stop_ symbols (no constructor runs). The kernel port
 * lists suites from the sources at build time and may redefine this macro.
 *
 * Context: namespace scope, once per suite.
 */
#define KEEL_TEST_SUITE(suite)                                                                     \
	__attribute__((used, section("keel_test_suites"),                                          \
		       aligned(sizeof(void *)))) static const ::keel::test::TestSuite *const       \
	KEEL_CONCAT(__keel_suite_, suite) = &(suite)
#endif

/**
 * KEEL_PARAMS() - define a generate_params function over a static array
 * @name: the function's name, for KEEL_PARAM_CASE()
 * @array: the parameters, a static array of T
 * @describe: describe(const T &p, char *desc) writes the name of the run
 *	with parameter @p (at most KEEL_TEST_DESC_LEN bytes)
 *
 * Context: namespace scope.
 */
#define KEEL_PARAMS(name, array, describe)                                                         \
	static const void *name(const void *prev, char *desc)                                      \
	{                                                                                          \
		auto *first = &(array)[0];                                                         \
		auto *p = prev ? static_cast<decltype(first)>(prev) + 1 : first;                   \
		if (p >= first + ARRAY_SIZE(array))                                                \
			return nullptr;                                                            \
		describe(*p, desc);                                                                \
		return p;                                                                          \
	}

#endif
