// SPDX-License-Identifier: GPL-2.0
/*
 * Hosted test runner: runs every suite registered with KEEL_TEST_SUITE()
 * (found in the "keel_test_suites" section) and prints KTAP version 1, in
 * the shape the kernel's KUnit prints it, so the same parser reads both.
 *
 *	keel_tests [--list] [--count] [--filter=SUITE[.CASE]] [--seed=N]
 *
 * Exit status: 0 when every case passed or was skipped. A warning raised by
 * the framework during a case (keel_port_warn) fails that case, as a WARNING
 * fails the kernel run.
 */
#include <keel/port.h>
#include <keel/test.h>

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

using keel::test::Status;
using keel::test::TestCase;
using keel::test::TestSuite;

extern "C" {
extern const TestSuite *const __start_keel_test_suites[];
extern const TestSuite *const __stop_keel_test_suites[];
/* Provided by the hosted port; weak so a runner without it still links. */
unsigned long keel_posix_warn_count(void) __attribute__((weak));
}

namespace {

const char *s_filter;
int s_indent;

struct Totals {
	unsigned pass, fail, skip;
};

void print_indent()
{
	for (int i = 0; i < s_indent; i++)
		fputs("    ", stdout);
}

unsigned long warn_count()
{
	return keel_posix_warn_count ? keel_posix_warn_count() : 0;
}

/* --filter=SUITE or SUITE.CASE, each part a glob. */
bool selected(const TestSuite &s, const TestCase *tc)
{
	if (!s_filter)
		return true;
	char suite_pat[256];
	const char *dot = strchr(s_filter, '.');
	size_t n = dot ? size_t(dot - s_filter) : strlen(s_filter);
	snprintf(suite_pat, sizeof(suite_pat), "%.*s", int(n), s_filter);
	if (fnmatch(suite_pat, s.name, 0) != 0)
		return false;
	return !tc || !dot || fnmatch(dot + 1, tc->name, 0) == 0;
}

Status run_one(const TestSuite &s, const TestCase &tc, const void *param, char *skip,
	       size_t skip_len)
{
	unsigned long warns = warn_count();
	Status st = keel::test::run_case(s, tc, param, nullptr, skip, skip_len);
	if (warn_count() != warns) {
		print_indent();
		printf("    # %s: a WARNING was raised during the case\n", tc.name);
		st = Status::Failure;
	}
	return st;
}

void print_result(unsigned idx, const char *name, Status st, const char *skip)
{
	print_indent();
	if (st == Status::Skipped)
		printf("ok %u %s # SKIP %s\n", idx, name, skip);
	else
		printf("%s %u %s\n", st == Status::Failure ? "not ok" : "ok", idx, name);
	fflush(stdout);
}

void count(Totals &t, Status st)
{
	if (st == Status::Success)
		t.pass++;
	else if (st == Status::Failure)
		t.fail++;
	else
		t.skip++;
}

/* A parameterised case: one nested KTAP subtest, one result per parameter. */
Status run_params(const TestSuite &s, const TestCase &tc, Totals &totals)
{
	char desc[KEEL_TEST_DESC_LEN];
	s_indent++;
	print_indent();
	printf("KTAP version 1\n");
	print_indent();
	printf("# Subtest: %s\n", tc.name);
	unsigned n = 0, failed = 0, passed = 0;
	for (const void *p = tc.generate_params(nullptr, (desc[0] = 0, desc)); p;
	     p = tc.generate_params(p, (desc[0] = 0, desc))) {
		char skip[KEEL_TEST_DESC_LEN] = "";
		char pname[KEEL_TEST_DESC_LEN];
		snprintf(pname, sizeof(pname), "%s", desc[0] ? desc : "param");
		Status st = run_one(s, tc, p, skip, sizeof(skip));
		print_result(++n, pname, st, skip);
		count(totals, st);
		failed += st == Status::Failure;
		passed += st == Status::Success;
	}
	print_indent();
	printf("1..%u\n", n);
	s_indent--;
	return failed ? Status::Failure : (passed || !n ? Status::Success : Status::Skipped);
}

bool run_suite(const TestSuite &s, unsigned idx, Totals &all)
{
	Totals t{};
	s_indent = 1;
	print_indent();
	printf("KTAP version 1\n");
	print_indent();
	printf("# Subtest: %s\n", s.name);
	unsigned n = 0;
	for (const TestCase *tc = s.cases; tc->name; tc++)
		n += selected(s, tc);
	print_indent();
	printf("1..%u\n", n);
	bool suite_ok = true;
	if (s.suite_init && s.suite_init() != 0) {
		print_indent();
		printf("# %s: suite_init failed\n", s.name);
		suite_ok = false;
	}
	unsigned i = 0;
	for (const TestCase *tc = s.cases; suite_ok && tc->name; tc++) {
		if (!selected(s, tc))
			continue;
		char skip[KEEL_TEST_DESC_LEN] = "";
		Status st;
		if (tc->generate_params) {
			st = run_params(s, *tc, t);
		} else {
			st = run_one(s, *tc, nullptr, skip, sizeof(skip));
			count(t, st);
		}
		print_result(++i, tc->name, st, skip);
		suite_ok &= st != Status::Failure;
	}
	if (s.suite_exit)
		s.suite_exit();
	print_indent();
	printf("# %s: pass:%u fail:%u skip:%u total:%u\n", s.name, t.pass, t.fail, t.skip,
	       t.pass + t.fail + t.skip);
	s_indent = 0;
	printf("%s %u %s\n", suite_ok ? "ok" : "not ok", idx, s.name);
	all.pass += t.pass;
	all.fail += t.fail + (suite_ok ? 0 : (t.fail ? 0 : 1));
	all.skip += t.skip;
	return suite_ok;
}

unsigned case_count(const TestSuite &s)
{
	unsigned n = 0;
	char desc[KEEL_TEST_DESC_LEN];
	for (const TestCase *tc = s.cases; tc->name; tc++) {
		if (!selected(s, tc))
			continue;
		if (!tc->generate_params) {
			n++;
			continue;
		}
		for (const void *p = tc->generate_params(nullptr, desc); p;
		     p = tc->generate_params(p, desc))
			n++;
	}
	return n;
}

} // namespace

extern "C" void keel_test_report(void *, int is_failure, const char *msg)
{
	/* KTAP diagnostics: every line of the message as a comment at case depth. */
	const char *line = msg;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		int len = nl ? int(nl - line) : int(strlen(line));
		print_indent();
		printf("    # %s%.*s\n", is_failure ? "EXPECTATION FAILED at " : "", len, line);
		is_failure = 0;
		line = nl ? nl + 1 : nullptr;
	}
}

int main(int argc, char **argv)
{
	bool list = false, only_count = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--list"))
			list = true;
		else if (!strcmp(argv[i], "--count"))
			only_count = true;
		else if (!strncmp(argv[i], "--filter=", 9))
			s_filter = argv[i] + 9;
		else {
			fprintf(stderr, "usage: %s [--list] [--count] [--filter=SUITE[.CASE]]\n",
				argv[0]);
			return 2;
		}
	}
	setvbuf(stdout, nullptr, _IOLBF, 0);
	unsigned nsuites = 0, ncases = 0;
	for (auto p = __start_keel_test_suites; p < __stop_keel_test_suites; p++) {
		if (!selected(**p, nullptr))
			continue;
		nsuites++;
		ncases += case_count(**p);
		if (list)
			printf("%s %u\n", (*p)->name, case_count(**p));
	}
	if (list || only_count) {
		if (only_count)
			printf("%u\n", ncases);
		return 0;
	}
	printf("KTAP version 1\n1..%u\n", nsuites);
	Totals all{};
	unsigned idx = 0;
	bool ok = true;
	for (auto p = __start_keel_test_suites; p < __stop_keel_test_suites; p++)
		if (selected(**p, nullptr))
			ok &= run_suite(**p, ++idx, all);
	printf("# Totals: pass:%u fail:%u skip:%u total:%u\n", all.pass, all.fail, all.skip,
	       all.pass + all.fail + all.skip);
	if (const char *f = getenv("KEEL_TEST_TOTALS")) {
		FILE *out = fopen(f, "a");
		if (out) {
			fprintf(out, "%u %u %u %s\n", all.pass, all.fail, all.skip, argv[0]);
			fclose(out);
		}
	}
	return ok ? 0 : 1;
}
