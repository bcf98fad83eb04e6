/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Forced (-include) into every C++ object of keel_test.ko, before
 * <keel/test.h>: KEEL_TEST_SUITE() then defines, instead of a section entry,
 * one extern "C" pointer per suite named after the object and the suite
 * variable:
 *
 *	keel_suite__<object path with / as __>__<suite variable>
 *
 * scripts/gen_test_suites.sh finds the same names in the sources and
 * generates the table of them that the KUnit bridge walks (kunit.c).
 * A kernel module has no __start_/__stop_ section symbols (it is a
 * relocatable object), hence the build-time table.
 */
#ifndef KEEL_OS_LINUX_KUNIT_SUITE_H
#define KEEL_OS_LINUX_KUNIT_SUITE_H

#ifndef KEEL_OBJ_ID
#error "KEEL_OBJ_ID: set by scripts/Makefile.cxx for each object"
#endif

#define __keel_suite_sym2(obj, suite) keel_suite__##obj##__##suite
#define __keel_suite_sym(obj, suite) __keel_suite_sym2(obj, suite)

#define KEEL_TEST_SUITE(suite)                                                                     \
	extern "C" {                                                                               \
	extern const ::keel::test::TestSuite *const __keel_suite_sym(KEEL_OBJ_ID, suite);          \
	constinit const ::keel::test::TestSuite *const __keel_suite_sym(KEEL_OBJ_ID,               \
									suite) = &(suite);         \
	}                                                                                          \
	static_assert(true)

#endif
