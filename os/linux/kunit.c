// SPDX-License-Identifier: GPL-2.0
/*
 * The C half of the KUnit bridge, and keel_test.ko's module init.
 *
 * keel_test.ko is self-contained: it links its own copy of the framework and
 * the shim, and imports no C++ symbol from keel.ko. With MODVERSIONS (Debian
 * and our test kernels) an imported symbol's name must fit the 56-byte
 * modversion record (55 characters), which many mangled C++ names of the
 * framework's internals exceed; tests reach far into those internals.
 *
 * It turns keel's test suites
 * into real struct kunit_suite objects at module init and runs them with
 * __kunit_test_suites_init(), which both 6.1 and 6.12 export.
 *
 * Why at runtime and not with kunit_test_suites(): on 6.1 a module's
 * .kunit_test_suites run at MODULE_STATE_COMING, before module_init, and
 * the case counts live in C++ arrays C cannot size statically. Running them
 * from module_init gives the same order on every kernel line.
 *
 * KTAP: both lines get the same output from this module: a top-level
 * "KTAP version 1" / "1..N" header (6.1 prints none for module suites), then
 * all suites in one __kunit_test_suites_init() call (6.12 restarts the
 * numbering at 1 on every call, 6.1 continues from its counter, which is 1
 * for the first module after boot and again after every
 * __kunit_test_suites_exit()).
 *
 * Mapping a KUnit case back to keel's: KUnit calls suite_init() with the
 * kunit_suite (its index in keel_kunit_suites[] is the keel suite), and
 * test->name is the kunit_case's name pointer, i.e. keel's own case name.
 */
#include <kunit/test.h>
#include <linux/glob.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "kunit_bridge.h"
#include "shim.h"

/* lib/test.cpp's reporter, implemented here for the kernel. */
void keel_test_report(void *os_ctx, int is_failure, const char *msg);

static char *filter;
module_param(filter, charp, 0444);
MODULE_PARM_DESC(filter, "Run only the suites whose name matches this glob");

static struct kunit_suite *keel_kunit_suites;
static struct kunit_suite **keel_kunit_suite_ptrs;
static unsigned int keel_kunit_nr_suites;
/* Suites handed to KUnit (those matching the filter), first in keel_kunit_suite_ptrs. */
static unsigned int keel_kunit_nr_run;
/* The suite KUnit is running: set by suite_init, read by the case thunk. */
static unsigned int keel_kunit_current;

void keel_test_report(void *os_ctx, int is_failure, const char *msg)
{
	struct kunit *test = os_ctx;

	if (is_failure)
		KUNIT_FAIL(test, "%s", msg);
	else
		kunit_info(test, "%s", msg);
}

static int keel_kunit_suite_init_thunk(struct kunit_suite *suite)
{
	keel_kunit_current = suite - keel_kunit_suites;
	return keel_kunit_suite_init(keel_kunit_current);
}

static void keel_kunit_suite_exit_thunk(struct kunit_suite *suite)
{
	keel_kunit_suite_exit(suite - keel_kunit_suites);
}

static void keel_kunit_run_thunk(struct kunit *test)
{
	unsigned int s = keel_kunit_current;
	struct kunit_case *kc = keel_kunit_suites[s].test_cases;
	char skip[KUNIT_PARAM_DESC_SIZE] = "";
	unsigned int c;

	for (c = 0; kc[c].run_case; c++)
		if (kc[c].name == test->name)
			break;
	if (!kc[c].run_case) {
		KUNIT_FAIL(test, "keel: case %s not found in suite %s", test->name,
			   keel_kunit_suites[s].name);
		return;
	}
	switch (keel_kunit_run_case(s, c, test->param_value, test, skip, sizeof(skip))) {
	case 1:
		if (test->status != KUNIT_FAILURE)
			KUNIT_FAIL(test, "keel: case failed");
		break;
	case 2:
		kunit_mark_skipped(test, "%s", skip);
		break;
	}
}

static void keel_kunit_free(void)
{
	unsigned int s;

	for (s = 0; keel_kunit_suites && s < keel_kunit_nr_suites; s++)
		kfree(keel_kunit_suites[s].test_cases);
	kfree(keel_kunit_suites);
	kfree(keel_kunit_suite_ptrs);
	keel_kunit_suites = NULL;
	keel_kunit_suite_ptrs = NULL;
}

static int keel_kunit_build_suite(unsigned int s)
{
	struct kunit_suite *ks = &keel_kunit_suites[s];
	unsigned int c, n = keel_kunit_case_count(s);

	ks->test_cases = kcalloc(n + 1, sizeof(*ks->test_cases), GFP_KERNEL);
	if (!ks->test_cases)
		return -ENOMEM;
	for (c = 0; c < n; c++) {
		ks->test_cases[c].name = keel_kunit_case_name(s, c);
		ks->test_cases[c].run_case = keel_kunit_run_thunk;
		ks->test_cases[c].generate_params = keel_kunit_case_params(s, c);
	}
	/* 6.1 declares the name const; it is ours to fill before registering. */
	strscpy((char *)ks->name, keel_kunit_suite_name(s), sizeof(ks->name));
	ks->suite_init = keel_kunit_suite_init_thunk;
	ks->suite_exit = keel_kunit_suite_exit_thunk;
	return 0;
}

int keel_kunit_init(void)
{
	unsigned int s, nr_run, n = keel_kunit_suite_count();
	int ret = -ENOMEM;

	keel_kunit_suites = kcalloc(n, sizeof(*keel_kunit_suites), GFP_KERNEL);
	keel_kunit_suite_ptrs = kcalloc(n, sizeof(*keel_kunit_suite_ptrs), GFP_KERNEL);
	if (!keel_kunit_suites || !keel_kunit_suite_ptrs)
		goto err;
	keel_kunit_nr_suites = n;
	for (s = 0; s < n; s++) {
		ret = keel_kunit_build_suite(s);
		if (ret)
			goto err;
	}
	/* The runner checks every announced suite reports a result. */
	for (s = 0, nr_run = 0; s < n; s++) {
		if (filter && !glob_match(filter, keel_kunit_suites[s].name))
			continue;
		pr_info("keel_test: suite %s\n", keel_kunit_suites[s].name);
		keel_kunit_suite_ptrs[nr_run++] = &keel_kunit_suites[s];
	}
	pr_info("KTAP version 1\n");
	pr_info("1..%u\n", nr_run);
	keel_kunit_nr_run = nr_run;
	ret = __kunit_test_suites_init(keel_kunit_suite_ptrs, nr_run);
	if (!ret)
		return 0;
err:
	keel_kunit_free();
	return ret;
}

void keel_kunit_exit(void)
{
	__kunit_test_suites_exit(keel_kunit_suite_ptrs, keel_kunit_nr_run);
	keel_kunit_free();
}

static int __init keel_test_init(void)
{
	int ret = keel_linux_dma_init();

	if (ret)
		return ret;
	ret = keel_kunit_init();
	if (ret)
		keel_linux_dma_exit();
	return ret;
}

static void __exit keel_test_exit(void)
{
	keel_kunit_exit();
	keel_linux_framework_exit();
	keel_linux_dma_exit();
}

module_init(keel_test_init);
module_exit(keel_test_exit);
MODULE_DESCRIPTION("keel: the framework's unit tests as KUnit suites");
MODULE_LICENSE("GPL");
