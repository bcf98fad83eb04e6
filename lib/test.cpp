// SPDX-License-Identifier: GPL-2.0
/*
 * The port-neutral half of the test API: expectations, test-managed
 * resources, and running one case. Runners (hosted KTAP runner, the kernel's
 * KUnit bridge) own iteration and output; they receive messages through
 * keel_test_report().
 */
#include <keel/log.h>
#include <keel/test.h>

/* Implemented by each runner: @is_failure 1 for a failed expectation, 0 for info. */
extern "C" void keel_test_report(void *os_ctx, int is_failure, const char *msg);

namespace keel::test {

namespace {
constexpr size_t MSG_MAX = 512;

const char *basename(const char *path)
{
	const char *b = path;
	for (const char *p = path; *p; p++)
		if (*p == '/')
			b = p + 1;
	return b;
}
} // namespace

Test::~Test()
{
	cleanup();
}

void Test::fail(const char *file, int line, const char *fmt, ...)
{
	char msg[MSG_MAX];
	int n = keel::snprintf(msg, sizeof(msg), "%s:%d: ", basename(file), line);
	size_t off = n > 0 ? min(size_t(n), sizeof(msg) - 1) : 0;
	__builtin_va_list ap;
	__builtin_va_start(ap, fmt);
	keel_port_vsnprintf(msg + off, sizeof(msg) - off, fmt, ap);
	__builtin_va_end(ap);
	m_status = Status::Failure;
	keel_test_report(m_os, 1, msg);
}

void Test::skip(const char *fmt, ...)
{
	__builtin_va_list ap;
	__builtin_va_start(ap, fmt);
	keel_port_vsnprintf(m_skip_reason, sizeof(m_skip_reason), fmt, ap);
	__builtin_va_end(ap);
	if (m_status != Status::Failure)
		m_status = Status::Skipped;
}

void Test::info(const char *fmt, ...)
{
	char msg[MSG_MAX];
	__builtin_va_list ap;
	__builtin_va_start(ap, fmt);
	keel_port_vsnprintf(msg, sizeof(msg), fmt, ap);
	__builtin_va_end(ap);
	keel_test_report(m_os, 0, msg);
}

void *Test::alloc(size_t size, Gfp gfp)
{
	void *p = kzalloc(size, gfp);
	if (!p)
		return nullptr;
	if (add_cleanup([](void *q) { kfree(q); }, p).is_error()) {
		kfree(p);
		return nullptr;
	}
	return p;
}

Result<void> Test::add_cleanup(void (*fn)(void *), void *arg)
{
	auto r = TRY(make_unique<Resource>(GFP_KERNEL));
	r->fn = fn;
	r->arg = arg;
	m_resources.push_front(*r.leak());
	return ok();
}

void Test::cleanup()
{
	while (Resource *r = m_resources.pop_front()) {
		r->fn(r->arg);
		delete r;
	}
}

Status run_case(const TestSuite &suite, const TestCase &tc, const void *param, void *os,
		char *skip_reason, size_t skip_len)
{
	Test t(tc.name, param, os);
	/* Each case sees every rate-limited line it provokes (rate limits are per site). */
	keel::ratelimit_reset_all();
	if (suite.init && suite.init(t) != 0) {
		t.fail(__FILE__, __LINE__, "suite %s: init failed", suite.name);
		return Status::Failure;
	}
	tc.run(t);
	if (suite.exit)
		suite.exit(t);
	t.cleanup();
	if (skip_reason && skip_len)
		strscpy_untrusted(skip_reason, skip_len, t.skip_reason(), KEEL_TEST_DESC_LEN);
	return t.status();
}

void format_value(char *buf, size_t size, long long v)
{
	snprintf(buf, size, "%lld", v);
}

void format_value(char *buf, size_t size, unsigned long long v)
{
	if (v > 9)
		snprintf(buf, size, "%llu (0x%llx)", v, v);
	else
		snprintf(buf, size, "%llu", v);
}

void format_value(char *buf, size_t size, const void *p)
{
	/* Plain hex: %p differs between ports (the kernel hashes it). */
	snprintf(buf, size, "0x%llx", (unsigned long long)reinterpret_cast<uintptr_t>(p));
}

void format_value(char *buf, size_t size, bool v)
{
	snprintf(buf, size, "%s", v ? "true" : "false");
}

void format_value(char *buf, size_t size, Error e)
{
	snprintf(buf, size, "error %d", e.to_errno());
}

const char *op_str(Op op)
{
	/* In the order of enum class Op. */
	static constexpr const char *names[] = { "==", "!=", "<", "<=", ">", ">=" };
	static_assert(ARRAY_SIZE(names) == size_t(Op::Ge) + 1);
	size_t i = size_t(op);
	return i < ARRAY_SIZE(names) ? names[i] : "?";
}

void report_binary(Test &t, const char *file, int line, const char *op, const char *ea,
		   const char *eb, const char *va, const char *vb)
{
	t.fail(file, line, "Expected %s %s %s, but\n        %s == %s\n        %s == %s", ea, op, eb,
	       ea, va, eb, vb);
}

bool expect_true(Test &t, bool v, bool want, const char *expr, const char *file, int line)
{
	if (v == want) [[likely]]
		return true;
	t.fail(file, line, "Expected %s to be %s, but is %s", expr, want ? "true" : "false",
	       v ? "true" : "false");
	return false;
}

bool expect_streq(Test &t, const char *a, const char *b, bool want_eq, const char *ea,
		  const char *eb, const char *file, int line)
{
	bool eq = a && b ? strcmp(a, b) == 0 : a == b;
	if (eq == want_eq) [[likely]]
		return true;
	t.fail(file, line, "Expected %s %s %s, but\n        %s == \"%s\"\n        %s == \"%s\"", ea,
	       want_eq ? "==" : "!=", eb, ea, a ? a : "(null)", eb, b ? b : "(null)");
	return false;
}

bool expect_memeq(Test &t, const void *a, const void *b, size_t n, const char *ea, const char *eb,
		  const char *file, int line)
{
	if (memcmp(a, b, n) == 0) [[likely]]
		return true;
	const u8 *pa = static_cast<const u8 *>(a), *pb = static_cast<const u8 *>(b);
	size_t i = 0;
	while (pa[i] == pb[i])
		i++;
	t.fail(file, line, "Expected %s == %s (%zu bytes), but byte %zu differs: 0x%02x != 0x%02x",
	       ea, eb, n, i, pa[i], pb[i]);
	return false;
}

} // namespace keel::test
