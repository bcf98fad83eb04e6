// SPDX-License-Identifier: GPL-2.0
/* kmalloc family, UniquePtr, make_unique, UniqueArray, new (Gfp). */
#include <keel/alloc.h>
#include <keel/string.h>
#include <keel/test.h>

using namespace keel;
using namespace keel::test;

namespace {

struct Obj {
	static inline int constructed = 0;
	static inline int destroyed = 0;
	int a, b;
	Obj(int x, int y) : a(x), b(y) { constructed++; }
	~Obj() { destroyed++; }
};

void kzalloc_returns_zeroed_memory(Test &t)
{
	const size_t sizes[] = { 1, 64, 4096, 100000 };
	for (size_t size : sizes) {
		u8 *p = static_cast<u8 *>(kzalloc(size, GFP_KERNEL));
		ASSERT_NOT_NULL(t, p);
		size_t nonzero = 0;
		for (size_t i = 0; i < size; i++)
			nonzero += p[i] != 0;
		EXPECT_EQ(t, nonzero, size_t(0));
		memset(p, 0xa5, size);
		kfree(p);
	}
	/* GFP_ATOMIC works too (no sleeping context needed). */
	void *q = kmalloc(32, GFP_ATOMIC);
	EXPECT_NOT_NULL(t, q);
	kfree(q);
	kfree(nullptr);
}

void kcalloc_rejects_overflowing_sizes(Test &t)
{
	EXPECT_NULL(t, kcalloc(KEEL_SIZE_MAX / 2, 4, GFP_KERNEL));
	u32 *p = static_cast<u32 *>(kcalloc(8, sizeof(u32), GFP_KERNEL));
	ASSERT_NOT_NULL(t, p);
	EXPECT_EQ(t, p[7], 0u);
	kfree(p);
}

void make_unique_constructs_and_destroys_once(Test &t)
{
	Obj::constructed = Obj::destroyed = 0;
	{
		auto r = make_unique<Obj>(GFP_KERNEL, 1, 2);
		ASSERT_OK(t, r);
		UniquePtr<Obj> p = r.release_value();
		EXPECT_EQ(t, p->a + p->b, 3);
		UniquePtr<Obj> q = move(p);
		EXPECT_NULL(t, p.get());
		EXPECT_EQ(t, Obj::constructed, 1);
		EXPECT_EQ(t, Obj::destroyed, 0);
	}
	EXPECT_EQ(t, Obj::destroyed, 1);
}

void unique_ptr_reset_and_leak(Test &t)
{
	Obj::constructed = Obj::destroyed = 0;
	UniquePtr<Obj> p(new (GFP_KERNEL) Obj(1, 1));
	ASSERT_NOT_NULL(t, p.get());
	p.reset(new (GFP_KERNEL) Obj(2, 2));
	EXPECT_EQ(t, Obj::destroyed, 1);
	EXPECT_EQ(t, p->a, 2);
	Obj *raw = p.leak();
	EXPECT_FALSE(t, bool(p));
	EXPECT_EQ(t, Obj::destroyed, 1);
	delete raw;
	EXPECT_EQ(t, Obj::destroyed, 2);
}

void unique_array_is_zeroed_and_sized(Test &t)
{
	auto r = UniqueArray<u16>::create(100, GFP_KERNEL);
	ASSERT_OK(t, r);
	UniqueArray<u16> a = r.release_value();
	EXPECT_EQ(t, a.size(), size_t(100));
	EXPECT_EQ(t, a[99], 0u);
	a[5] = 7;
	UniqueArray<u16> b = move(a);
	EXPECT_EQ(t, b[5], 7u);
	EXPECT_EQ(t, a.size(), size_t(0));
	EXPECT_NULL(t, a.data());
	auto empty = UniqueArray<u32>::create(0, GFP_KERNEL);
	EXPECT_OK(t, empty);
}

void test_alloc_is_freed_with_the_case(Test &t)
{
	/* Leaks would fail the ASan build; here: memory is usable and zeroed. */
	u64 *p = t.alloc_array<u64>(16);
	ASSERT_NOT_NULL(t, p);
	EXPECT_EQ(t, p[15], 0u);
	EXPECT_NULL(t, t.alloc_array<u64>(KEEL_SIZE_MAX / 4));
}

void alloc_calls_counts_every_allocation(Test &t)
{
	u64 before = alloc_calls();
	void *a = kmalloc(16, GFP_KERNEL);
	void *b = kzalloc(16, GFP_KERNEL);
	void *c = kcalloc(2, 8, GFP_KERNEL);
	Obj *o = new (GFP_KERNEL) Obj(1, 2);
	u64 after = alloc_calls();
	kfree(a);
	kfree(b);
	kfree(c);
	delete o;
	/* At least ours: other threads may allocate meanwhile. */
	EXPECT_GE(t, after - before, 4u);
	/* Freeing is not an allocation, and reading the count allocates nothing. */
	u64 again = alloc_calls();
	EXPECT_EQ(t, alloc_calls(), again);
}

const TestCase alloc_cases[] = {
	KEEL_CASE(alloc_calls_counts_every_allocation),
	KEEL_CASE(kzalloc_returns_zeroed_memory),
	KEEL_CASE(kcalloc_rejects_overflowing_sizes),
	KEEL_CASE(make_unique_constructs_and_destroys_once),
	KEEL_CASE(unique_ptr_reset_and_leak),
	KEEL_CASE(unique_array_is_zeroed_and_sized),
	KEEL_CASE(test_alloc_is_freed_with_the_case),
	{},
};

const TestSuite alloc_suite = { .name = "keel_alloc", .cases = alloc_cases };

} // namespace

KEEL_TEST_SUITE(alloc_suite);
