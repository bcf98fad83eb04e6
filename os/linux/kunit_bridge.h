/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The interface between the KUnit bridge's two halves: kunit.c (C, builds
 * the struct kunit_suite objects) calls kunit_bridge.cpp (C++, walks keel's
 * suites by index). Clean C and C++: both include this one declaration.
 */
#ifndef KEEL_OS_LINUX_KUNIT_BRIDGE_H
#define KEEL_OS_LINUX_KUNIT_BRIDGE_H

#ifdef __cplusplus
extern "C" {
#endif

typedef const void *(*keel_kunit_gen_fn)(const void *prev, char *desc);

unsigned int keel_kunit_suite_count(void);
const char *keel_kunit_suite_name(unsigned int s);
unsigned int keel_kunit_case_count(unsigned int s);
const char *keel_kunit_case_name(unsigned int s, unsigned int c);
keel_kunit_gen_fn keel_kunit_case_params(unsigned int s, unsigned int c);
int keel_kunit_suite_init(unsigned int s);
void keel_kunit_suite_exit(unsigned int s);
int keel_kunit_run_case(unsigned int s, unsigned int c, const void *param, void *test, char *skip,
			__SIZE_TYPE__ skip_len);

#ifdef __cplusplus
}
#endif

#endif
