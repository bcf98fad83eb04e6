/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The KUnit bridge's shim interface: what kunit_bridge.cpp (C++, builds and
 * runs the suites) needs from KUnit, one kernel call or field access per
 * function, implemented in kunit.c (C, the only side that can include
 * <kunit/test.h>). Clean C and C++: both include this one declaration.
 *
 * KUnit objects are opaque here: struct kunit_suite and struct kunit_case
 * are allocated by C++ as zeroed arrays of keel_kunit_suite_size() /
 * keel_kunit_case_size() bytes and filled through these functions.
 */
#ifndef KEEL_OS_LINUX_KUNIT_BRIDGE_H
#define KEEL_OS_LINUX_KUNIT_BRIDGE_H

#ifdef __cplusplus
extern "C" {
#endif

struct kunit;
struct kunit_case;
struct kunit_suite;

typedef const void *(*keel_kunit_gen_fn)(const void *prev, char *desc);

/* --- kunit.c: the shim --- */
__SIZE_TYPE__ keel_kunit_suite_size(void);
__SIZE_TYPE__ keel_kunit_case_size(void);
/* KUNIT_PARAM_DESC_SIZE, for a static_assert-like check at init. */
__SIZE_TYPE__ keel_kunit_param_desc_size(void);
void keel_kunit_case_set(struct kunit_case *kc, const char *name, void (*run)(struct kunit *test),
			 keel_kunit_gen_fn gen);
void keel_kunit_suite_set(struct kunit_suite *ks, const char *name, struct kunit_case *cases,
			  int (*init)(struct kunit_suite *suite),
			  void (*exit)(struct kunit_suite *suite));
const char *keel_kunit_suite_name(struct kunit_suite *ks);
const char *keel_kunit_test_name(struct kunit *test);
const void *keel_kunit_test_param(struct kunit *test);
int keel_kunit_test_failed(struct kunit *test);
void keel_kunit_fail(struct kunit *test, const char *msg);
void keel_kunit_info(struct kunit *test, const char *msg);
void keel_kunit_skip(struct kunit *test, const char *reason);
int keel_kunit_glob_match(const char *pattern, const char *name);
int keel_kunit_run_suites(struct kunit_suite **suites, unsigned int n);
void keel_kunit_exit_suites(struct kunit_suite **suites, unsigned int n);

/* --- kunit_bridge.cpp: the bridge --- */
/* Builds every suite matching @filter (NULL: all) and runs them. */
int keel_kunit_init(const char *filter);
void keel_kunit_exit(void);

#ifdef __cplusplus
}
#endif

#endif
