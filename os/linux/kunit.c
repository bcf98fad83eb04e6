// SPDX-License-Identifier: GPL-2.0
/*
 * keel_test.ko's module glue and the KUnit side of the bridge: one KUnit
 * call or field access per function (kunit_bridge.h). Building the suites,
 * filtering and running them is C++ (kunit_bridge.cpp).
 *
 * keel_test.ko holds the tests, the test API (lib/test.cpp) and this
 * bridge; the framework, the driver core and the stack it tests are
 * keel.ko's, imported like any client module does.
 */
#include <kunit/test.h>
#include <linux/glob.h>
#include <linux/module.h>
#include <linux/string.h>

#include "kunit_bridge.h"

/* lib/test.cpp's reporter, implemented here for the kernel. */
void keel_test_report(void *os_ctx, int is_failure, const char *msg);

static char *filter;
module_param(filter, charp, 0444);
MODULE_PARM_DESC(filter, "Run only the suites whose name matches this glob");

void keel_test_report(void *os_ctx, int is_failure, const char *msg)
{
	if (is_failure)
		keel_kunit_fail(os_ctx, msg);
	else
		keel_kunit_info(os_ctx, msg);
}

size_t keel_kunit_suite_size(void)
{
	return sizeof(struct kunit_suite);
}

size_t keel_kunit_case_size(void)
{
	return sizeof(struct kunit_case);
}

size_t keel_kunit_param_desc_size(void)
{
	return KUNIT_PARAM_DESC_SIZE;
}

void keel_kunit_case_set(struct kunit_case *kc, const char *name, void (*run)(struct kunit *test),
			 keel_kunit_gen_fn gen)
{
	kc->name = name;
	kc->run_case = run;
	kc->generate_params = gen;
}

void keel_kunit_suite_set(struct kunit_suite *ks, const char *name, struct kunit_case *cases,
			  int (*init)(struct kunit_suite *suite),
			  void (*exit)(struct kunit_suite *suite))
{
	/* 6.1 declares the name const; the suite is ours to fill before registering. */
	strscpy((char *)ks->name, name, sizeof(ks->name));
	ks->test_cases = cases;
	ks->suite_init = init;
	ks->suite_exit = exit;
}

const char *keel_kunit_suite_name(struct kunit_suite *ks)
{
	return ks->name;
}

const char *keel_kunit_test_name(struct kunit *test)
{
	return test->name;
}

const void *keel_kunit_test_param(struct kunit *test)
{
	return test->param_value;
}

int keel_kunit_test_failed(struct kunit *test)
{
	return test->status == KUNIT_FAILURE;
}

void keel_kunit_fail(struct kunit *test, const char *msg)
{
	KUNIT_FAIL(test, "%s", msg);
}

void keel_kunit_info(struct kunit *test, const char *msg)
{
	kunit_info(test, "%s", msg);
}

void keel_kunit_skip(struct kunit *test, const char *reason)
{
	kunit_mark_skipped(test, "%s", reason);
}

int keel_kunit_glob_match(const char *pattern, const char *name)
{
	return glob_match(pattern, name);
}

int keel_kunit_run_suites(struct kunit_suite **suites, unsigned int n)
{
	return __kunit_test_suites_init(suites, n);
}

void keel_kunit_exit_suites(struct kunit_suite **suites, unsigned int n)
{
	__kunit_test_suites_exit(suites, n);
}

static int __init keel_test_init(void)
{
	return keel_kunit_init(filter);
}

static void __exit keel_test_exit(void)
{
	keel_kunit_exit();
}

module_init(keel_test_init);
module_exit(keel_test_exit);
MODULE_DESCRIPTION("keel: the framework's unit tests as KUnit suites");
MODULE_LICENSE("GPL");
