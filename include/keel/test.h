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

struct TestCase {
	const char *name;
	void (*run)(Test &t);
	/* KUnit's generate_params: next parameter after @prev (nullptr: first); nullptr ends. */
	const void *(*generate_params)(const void *prev, char *desc);
};

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

enum class Status { Success, Failure, Skipped };

class Test : NonMovable {
public:
	/* @os: the runner's context (struct kunit * in the kernel). */
	Test(const char *name, const void *param, void *os) : m_name(name), m_param(param), m_os(os)
	{
	}
	~Test();

	const char *name() const { return m_name; }
	void *os_context() const { return m_os; }
	template <typename T> const T &param() const { return *static_cast<const T *>(m_param); }
	const void *raw_param() const { return m_param; }
	/* Suite-defined state, set by init(). */
	void *priv = nullptr;

	bool failed() const { return m_status == Status::Failure; }
	Status status() const { return m_status; }
	__printf(4, 5) void fail(const char *file, int line, const char *fmt, ...);
	__printf(2, 3) void skip(const char *fmt, ...);
	const char *skip_reason() const { return m_skip_reason; }
	/* A diagnostic line in the output (kunit_info). */
	__printf(2, 3) void info(const char *fmt, ...);

	/* Test-managed memory, freed when the case ends (kunit_kzalloc). nullptr on failure. */
	void *alloc(size_t size, Gfp gfp = GFP_KERNEL);
	template <typename T> T *alloc_array(size_t n, Gfp gfp = GFP_KERNEL)
	{
		size_t bytes;
		if (check_mul_overflow(n, sizeof(T), &bytes))
			return nullptr;
		return static_cast<T *>(alloc(bytes, gfp));
	}
	/* Runs @fn(@arg) when the case ends, last added first (kunit_add_action). */
	Result<void> add_cleanup(void (*fn)(void *), void *arg);
	/* Runs every cleanup now (also done by the destructor). */
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

/*
 * Runs one case (with one parameter) of @suite: init, run, exit, cleanups.
 * Every runner calls this; the result is the case's status.
 */
Status run_case(const TestSuite &suite, const TestCase &tc, const void *param, void *os,
		char *skip_reason, size_t skip_len);

/* --- expectation helpers (used by the macros) --- */
void format_value(char *buf, size_t size, long long v);
void format_value(char *buf, size_t size, unsigned long long v);
void format_value(char *buf, size_t size, const void *p);
void format_value(char *buf, size_t size, bool v);
void format_value(char *buf, size_t size, Error e);

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

enum class Op { Eq, Ne, Lt, Le, Gt, Ge };

/* Integer comparison without sign-conversion surprises (std::cmp_less). */
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
const char *op_str(Op op);
void report_binary(Test &t, const char *file, int line, const char *op, const char *ea,
		   const char *eb, const char *va, const char *vb);

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
bool expect_true(Test &t, bool v, bool want, const char *expr, const char *file, int line);
bool expect_streq(Test &t, const char *a, const char *b, bool want_eq, const char *ea,
		  const char *eb, const char *file, int line);
bool expect_memeq(Test &t, const void *a, const void *b, size_t n, const char *ea, const char *eb,
		  const char *file, int line);
template <typename T>
bool expect_ok(Test &t, const Result<T> &r, const char *expr, const char *file, int line)
{
	if (r.is_ok()) [[likely]]
		return true;
	t.fail(file, line, "Expected %s to succeed, but it failed with %d", expr,
	       r.error().to_errno());
	return false;
}
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
#define EXPECT_EQ(t, a, b) __KEEL_BIN(t, a, b, ::keel::test::Op::Eq)
#define EXPECT_NE(t, a, b) __KEEL_BIN(t, a, b, ::keel::test::Op::Ne)
#define EXPECT_LT(t, a, b) __KEEL_BIN(t, a, b, ::keel::test::Op::Lt)
#define EXPECT_LE(t, a, b) __KEEL_BIN(t, a, b, ::keel::test::Op::Le)
#define EXPECT_GT(t, a, b) __KEEL_BIN(t, a, b, ::keel::test::Op::Gt)
#define EXPECT_GE(t, a, b) __KEEL_BIN(t, a, b, ::keel::test::Op::Ge)
#define EXPECT_TRUE(t, v) ::keel::test::expect_true((t), !!(v), true, #v, __FILE__, __LINE__)
#define EXPECT_FALSE(t, v) ::keel::test::expect_true((t), !!(v), false, #v, __FILE__, __LINE__)
#define EXPECT_NULL(t, p)                                                                          \
	__KEEL_BIN(t, (const void *)(p), (const void *)nullptr, ::keel::test::Op::Eq)
#define EXPECT_NOT_NULL(t, p)                                                                      \
	__KEEL_BIN(t, (const void *)(p), (const void *)nullptr, ::keel::test::Op::Ne)
#define EXPECT_STREQ(t, a, b)                                                                      \
	::keel::test::expect_streq((t), (a), (b), true, #a, #b, __FILE__, __LINE__)
#define EXPECT_STRNE(t, a, b)                                                                      \
	::keel::test::expect_streq((t), (a), (b), false, #a, #b, __FILE__, __LINE__)
#define EXPECT_MEMEQ(t, a, b, n)                                                                   \
	::keel::test::expect_memeq((t), (a), (b), (n), #a, #b, __FILE__, __LINE__)
#define EXPECT_OK(t, r) ::keel::test::expect_ok((t), (r), #r, __FILE__, __LINE__)
#define EXPECT_ERR(t, r, e) ::keel::test::expect_err((t), (r), (e), #r, __FILE__, __LINE__)
#define EXPECT_FAIL(t, fmt, ...) (t).fail(__FILE__, __LINE__, fmt, ##__VA_ARGS__)

#define __KEEL_ASSERT(x)                                                                           \
	do {                                                                                       \
		if (!(x)) [[unlikely]]                                                             \
			return;                                                                    \
	} while (0)
#define ASSERT_EQ(t, a, b) __KEEL_ASSERT(EXPECT_EQ(t, a, b))
#define ASSERT_NE(t, a, b) __KEEL_ASSERT(EXPECT_NE(t, a, b))
#define ASSERT_LT(t, a, b) __KEEL_ASSERT(EXPECT_LT(t, a, b))
#define ASSERT_LE(t, a, b) __KEEL_ASSERT(EXPECT_LE(t, a, b))
#define ASSERT_GT(t, a, b) __KEEL_ASSERT(EXPECT_GT(t, a, b))
#define ASSERT_GE(t, a, b) __KEEL_ASSERT(EXPECT_GE(t, a, b))
#define ASSERT_TRUE(t, v) __KEEL_ASSERT(EXPECT_TRUE(t, v))
#define ASSERT_FALSE(t, v) __KEEL_ASSERT(EXPECT_FALSE(t, v))
#define ASSERT_NULL(t, p) __KEEL_ASSERT(EXPECT_NULL(t, p))
#define ASSERT_NOT_NULL(t, p) __KEEL_ASSERT(EXPECT_NOT_NULL(t, p))
#define ASSERT_STREQ(t, a, b) __KEEL_ASSERT(EXPECT_STREQ(t, a, b))
#define ASSERT_MEMEQ(t, a, b, n) __KEEL_ASSERT(EXPECT_MEMEQ(t, a, b, n))
#define ASSERT_OK(t, r) __KEEL_ASSERT(EXPECT_OK(t, r))
#define ASSERT_ERR(t, r, e) __KEEL_ASSERT(EXPECT_ERR(t, r, e))

#define KEEL_CASE(fn)                                                                              \
	::keel::test::TestCase                                                                     \
	{                                                                                          \
#fn, fn, nullptr                                                                   \
	}
#define KEEL_PARAM_CASE(fn, gen)                                                                   \
	::keel::test::TestCase                                                                     \
	{                                                                                          \
#fn, fn, gen                                                                       \
	}

/*
 * KEEL_TEST_SUITE(suite): registers @suite with the runner. Hosted: a pointer
 * in the "keel_test_suites" section, found through the linker's
 * __start_/__stop_ symbols (no constructor runs). The kernel port lists
 * suites from the sources at build time and may redefine this macro.
 */
#ifndef KEEL_TEST_SUITE
#define KEEL_TEST_SUITE(suite)                                                                     \
	__attribute__((used, section("keel_test_suites"),                                          \
		       aligned(sizeof(void *)))) static const ::keel::test::TestSuite *const       \
	KEEL_CONCAT(__keel_suite_, suite) = &(suite)
#endif

/*
 * KEEL_PARAMS(name, array, describe): a generate_params function over a
 * static array; @describe(const T &p, char *desc), with T the array's
 * element type, writes the case name.
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
