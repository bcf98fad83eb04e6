// SPDX-License-Identifier: GPL-2.0
/*
 * Idr: lowest-free allocation in ranges, exact and cyclic allocation,
 * -ENOSPC/-EBUSY/-EINVAL, remove/find/replace, ordered iteration, preload,
 * sparse and many ids, and a randomized run against a reference bitmap.
 */
#include <keel/idr.h>
#include <keel/spinlock.h>
#include <keel/test.h>

using namespace keel;
using namespace keel::test;

namespace {

/* Distinct non-null pointers standing for objects. */
void *obj(u32 n)
{
	return reinterpret_cast<void *>(uintptr_t(n) * 16 + 0x1000);
}

void alloc_returns_lowest_free_id(Test &t)
{
	Idr idr;
	for (u32 i = 0; i < 5; i++) {
		auto r = idr.alloc(obj(i), 0, 0, GFP_KERNEL);
		ASSERT_OK(t, r);
		EXPECT_EQ(t, r.value(), i);
	}
	EXPECT_EQ(t, idr.remove(2), obj(2));
	EXPECT_EQ(t, idr.remove(0), obj(0));
	EXPECT_EQ(t, idr.alloc(obj(10), 0, 0, GFP_KERNEL).value_or(99), 0u);
	EXPECT_EQ(t, idr.alloc(obj(11), 0, 0, GFP_KERNEL).value_or(99), 2u);
	EXPECT_EQ(t, idr.alloc(obj(12), 0, 0, GFP_KERNEL).value_or(99), 5u);
	EXPECT_EQ(t, idr.count(), 6u);
}

void alloc_respects_the_range(Test &t)
{
	Idr idr;
	EXPECT_EQ(t, idr.alloc(obj(1), 1024, 0, GFP_KERNEL).value_or(0), 1024u);
	EXPECT_EQ(t, idr.alloc(obj(2), 1024, 0, GFP_KERNEL).value_or(0), 1025u);
	EXPECT_EQ(t, idr.alloc(obj(3), 10, 12, GFP_KERNEL).value_or(0), 10u);
	EXPECT_EQ(t, idr.alloc(obj(4), 10, 12, GFP_KERNEL).value_or(0), 11u);
	EXPECT_ERR(t, idr.alloc(obj(5), 10, 12, GFP_KERNEL), -ENOSPC);
	EXPECT_EQ(t, idr.alloc(obj(6), 0, 1, GFP_KERNEL).value_or(9), 0u);
	EXPECT_ERR(t, idr.alloc(obj(7), 0, 1, GFP_KERNEL), -ENOSPC);
	EXPECT_EQ(t, idr.find(1024), obj(1));
	EXPECT_EQ(t, idr.find(11), obj(4));
	EXPECT_NULL(t, idr.find(12));
}

void alloc_rejects_bad_arguments(Test &t)
{
	Idr idr;
	EXPECT_ERR(t, idr.alloc(nullptr, 0, 0, GFP_KERNEL), -EINVAL);
	EXPECT_ERR(t, idr.alloc(obj(1), 5, 5, GFP_KERNEL), -EINVAL);
	EXPECT_ERR(t, idr.alloc(obj(1), 6, 5, GFP_KERNEL), -EINVAL);
	EXPECT_ERR(t, idr.alloc(obj(1), 0x80000000u, 0, GFP_KERNEL), -EINVAL);
	EXPECT_ERR(t, idr.alloc_exact(nullptr, 3, GFP_KERNEL), -EINVAL);
	EXPECT_ERR(t, idr.alloc_exact(obj(1), 0x80000000u, GFP_KERNEL), -EINVAL);
	EXPECT_ERR(t, idr.replace(nullptr, 0), -EINVAL);
	EXPECT_TRUE(t, idr.is_empty());
}

void alloc_exact_takes_that_id_or_fails_busy(Test &t)
{
	Idr idr;
	EXPECT_OK(t, idr.alloc_exact(obj(53), 53, GFP_KERNEL));
	EXPECT_ERR(t, idr.alloc_exact(obj(54), 53, GFP_KERNEL), -EBUSY);
	EXPECT_EQ(t, idr.find(53), obj(53));
	/* Range allocation flows around it. */
	EXPECT_EQ(t, idr.alloc(obj(1), 53, 60, GFP_KERNEL).value_or(0), 54u);
	EXPECT_OK(t, idr.alloc_exact(obj(2), Idr::ID_MAX, GFP_KERNEL));
	EXPECT_EQ(t, idr.find(Idr::ID_MAX), obj(2));
	EXPECT_EQ(t, idr.count(), 3u);
}

void alloc_cyclic_moves_on_then_wraps(Test &t)
{
	Idr idr;
	EXPECT_EQ(t, idr.alloc_cyclic(obj(1), 1, 5, GFP_KERNEL).value_or(0), 1u);
	EXPECT_EQ(t, idr.remove(1), obj(1));
	/* Not the freed 1: the cursor moved on. */
	EXPECT_EQ(t, idr.alloc_cyclic(obj(2), 1, 5, GFP_KERNEL).value_or(0), 2u);
	EXPECT_EQ(t, idr.alloc_cyclic(obj(3), 1, 5, GFP_KERNEL).value_or(0), 3u);
	EXPECT_EQ(t, idr.alloc_cyclic(obj(4), 1, 5, GFP_KERNEL).value_or(0), 4u);
	/* End of range: wraps to the lowest free. */
	EXPECT_EQ(t, idr.alloc_cyclic(obj(5), 1, 5, GFP_KERNEL).value_or(0), 1u);
	EXPECT_ERR(t, idr.alloc_cyclic(obj(6), 1, 5, GFP_KERNEL), -ENOSPC);
	EXPECT_EQ(t, idr.remove(3), obj(3));
	EXPECT_EQ(t, idr.alloc_cyclic(obj(7), 1, 5, GFP_KERNEL).value_or(0), 3u);
}

void remove_find_and_replace(Test &t)
{
	Idr idr;
	ASSERT_OK(t, idr.alloc_exact(obj(1), 100, GFP_KERNEL));
	EXPECT_NULL(t, idr.remove(101));
	EXPECT_NULL(t, idr.find(99));
	EXPECT_NULL(t, idr.find(1u << 30));
	auto r = idr.replace(obj(2), 100);
	ASSERT_OK(t, r);
	EXPECT_EQ(t, r.value(), obj(1));
	EXPECT_EQ(t, idr.find(100), obj(2));
	EXPECT_ERR(t, idr.replace(obj(3), 101), -ENOENT);
	EXPECT_EQ(t, idr.remove(100), obj(2));
	EXPECT_NULL(t, idr.remove(100));
	EXPECT_TRUE(t, idr.is_empty());
	EXPECT_ERR(t, idr.replace(obj(3), 100), -ENOENT);
}

void for_each_visits_ids_in_order_and_stops_early(Test &t)
{
	Idr idr;
	const u32 ids[] = { 70000, 3, 64, 63, 4096, 1024, 0, Idr::ID_MAX };
	for (u32 id : ids)
		ASSERT_OK(t, idr.alloc_exact(obj(id), id, GFP_KERNEL));
	u32 seen[ARRAY_SIZE(ids)] = {};
	u32 n = 0;
	bool ptrs_match = true;
	idr.for_each([&](u32 id, void *p) {
		if (n < ARRAY_SIZE(seen))
			seen[n] = id;
		n++;
		ptrs_match &= p == obj(id);
		return true;
	});
	const u32 sorted[] = { 0, 3, 63, 64, 1024, 4096, 70000, Idr::ID_MAX };
	EXPECT_EQ(t, n, u32(ARRAY_SIZE(ids)));
	EXPECT_MEMEQ(t, seen, sorted, sizeof(sorted));
	EXPECT_TRUE(t, ptrs_match);

	u32 visited = 0;
	idr.for_each([&](u32 id, void *) { return ++visited < 3; });
	EXPECT_EQ(t, visited, 3u);
}

void for_each_may_remove_the_current_id(Test &t)
{
	Idr idr;
	for (u32 i = 0; i < 200; i++)
		ASSERT_OK(t, idr.alloc(obj(i), 0, 0, GFP_KERNEL));
	u32 visits = 0;
	idr.for_each([&](u32 id, void *) {
		visits++;
		if (id % 2 == 0)
			idr.remove(id);
		return true;
	});
	EXPECT_EQ(t, visits, 200u);
	EXPECT_EQ(t, idr.count(), 100u);
	EXPECT_NULL(t, idr.find(0));
	EXPECT_EQ(t, idr.find(1), obj(1));
}

void sparse_high_ids_work(Test &t)
{
	Idr idr;
	ASSERT_OK(t, idr.alloc_exact(obj(1), 1u << 30, GFP_KERNEL));
	ASSERT_OK(t, idr.alloc_exact(obj(2), 5, GFP_KERNEL));
	EXPECT_EQ(t, idr.alloc(obj(3), (1u << 30) - 1, 0, GFP_KERNEL).value_or(0), (1u << 30) - 1);
	EXPECT_EQ(t, idr.alloc(obj(4), (1u << 30) - 1, 0, GFP_KERNEL).value_or(0), (1u << 30) + 1);
	EXPECT_EQ(t, idr.find(1u << 30), obj(1));
	EXPECT_EQ(t, idr.find(5), obj(2));
	EXPECT_EQ(t, idr.remove(1u << 30), obj(1));
	EXPECT_EQ(t, idr.remove((1u << 30) - 1), obj(3));
	EXPECT_EQ(t, idr.remove((1u << 30) + 1), obj(4));
	/* The tree shrank back: low ids still there. */
	EXPECT_EQ(t, idr.find(5), obj(2));
	EXPECT_EQ(t, idr.count(), 1u);
}

void ids_reach_int_max_and_no_further(Test &t)
{
	Idr idr;
	EXPECT_EQ(t, idr.alloc(obj(1), Idr::ID_MAX, 0, GFP_KERNEL).value_or(0), Idr::ID_MAX);
	EXPECT_ERR(t, idr.alloc(obj(2), Idr::ID_MAX, 0, GFP_KERNEL), -ENOSPC);
	EXPECT_EQ(t, idr.alloc(obj(3), Idr::ID_MAX - 1, 0, GFP_KERNEL).value_or(0),
		  Idr::ID_MAX - 1);
}

void many_ids_fill_and_refill_lowest_first(Test &t)
{
	Idr idr;
	constexpr u32 N = 10000;
	for (u32 i = 0; i < N; i++) {
		auto r = idr.alloc(obj(i), 0, 0, GFP_KERNEL);
		ASSERT_OK(t, r);
		if (r.value() != i) {
			EXPECT_EQ(t, r.value(), i);
			return;
		}
	}
	EXPECT_EQ(t, idr.count(), N);
	for (u32 i = 1; i < N; i += 2)
		EXPECT_EQ(t, idr.remove(i), obj(i));
	for (u32 i = 1; i < N; i += 2) {
		u32 id = idr.alloc(obj(i), 0, 0, GFP_KERNEL).value_or(~0u);
		if (id != i) {
			EXPECT_EQ(t, id, i);
			return;
		}
	}
	EXPECT_EQ(t, idr.alloc(obj(N), 0, 0, GFP_KERNEL).value_or(0), N);
	for (u32 i = 0; i <= N; i++)
		if (idr.find(i) != obj(i)) {
			EXPECT_EQ(t, idr.find(i), obj(i));
			return;
		}
	idr.destroy();
	EXPECT_TRUE(t, idr.is_empty());
	EXPECT_NULL(t, idr.find(5));
	EXPECT_EQ(t, idr.alloc(obj(1), 0, 0, GFP_KERNEL).value_or(9), 0u);
}

void preloaded_alloc_needs_no_memory_under_a_spinlock(Test &t)
{
	/*
	 * After preload(), the alloc below takes no memory: if it did, the
	 * GFP_KERNEL allocation under a spinlock would raise a WARNING (the
	 * kernel: "sleeping function called from invalid context") and fail
	 * the case. Each round lands in a new part of the tree.
	 */
	Idr idr;
	SpinLock lock{ "idr_test_lock", KEEL_LOCK_KEY() };
	const u32 starts[] = { 0, 1024, 70000, 5000000, 1u << 30 };
	for (u32 s : starts) {
		ASSERT_OK(t, idr.preload(0, GFP_KERNEL));
		Result<u32> r = err(-EINVAL);
		{
			Guard g{ lock };
			r = idr.alloc(obj(s), s, 0, GFP_KERNEL);
		}
		ASSERT_OK(t, r);
		EXPECT_EQ(t, r.value(), s);
	}
}

/* A randomized sequence of operations checked against a plain bitmap. */
void random_operations_match_a_reference(Test &t)
{
	constexpr u32 RANGE = 3000;
	u8 *used = t.alloc_array<u8>(RANGE);
	ASSERT_NOT_NULL(t, used);
	Idr idr;
	u64 x = 0x9e3779b97f4a7c15ull;
	auto next = [&x] {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		return x;
	};
	u32 count = 0;
	for (int op = 0; op < 20000; op++) {
		u32 a = u32(next() % RANGE);
		switch (next() % 4) {
		case 0:
		case 1: {
			u32 start = a;
			u32 want = start;
			while (want < RANGE && used[want])
				want++;
			auto r = idr.alloc(obj(start), start, RANGE, GFP_KERNEL);
			if (want == RANGE) {
				if (r.is_ok() || r.error().to_errno() != -ENOSPC) {
					EXPECT_FAIL(t, "op %d: alloc from %u should be -ENOSPC", op,
						    start);
					return;
				}
			} else if (r.is_error() || r.value() != want) {
				EXPECT_FAIL(t, "op %d: alloc from %u gave %d, want %u", op, start,
					    r.is_ok() ? int(r.value()) : r.error().to_errno(),
					    want);
				return;
			} else {
				used[want] = 1;
				count++;
			}
			break;
		}
		case 2: {
			void *p = idr.remove(a);
			if ((p != nullptr) != (used[a] != 0)) {
				EXPECT_FAIL(t, "op %d: remove(%u) disagrees with the reference", op,
					    a);
				return;
			}
			count -= used[a];
			used[a] = 0;
			break;
		}
		default:
			if ((idr.find(a) != nullptr) != (used[a] != 0)) {
				EXPECT_FAIL(t, "op %d: find(%u) disagrees with the reference", op,
					    a);
				return;
			}
		}
	}
	EXPECT_EQ(t, idr.count(), count);
	u32 walked = 0;
	bool in_ref = true;
	idr.for_each([&](u32 id, void *) {
		walked++;
		in_ref &= id < RANGE && used[id];
		return true;
	});
	EXPECT_EQ(t, walked, count);
	EXPECT_TRUE(t, in_ref);
}

const TestCase idr_cases[] = {
	KEEL_CASE(alloc_returns_lowest_free_id),
	KEEL_CASE(alloc_respects_the_range),
	KEEL_CASE(alloc_rejects_bad_arguments),
	KEEL_CASE(alloc_exact_takes_that_id_or_fails_busy),
	KEEL_CASE(alloc_cyclic_moves_on_then_wraps),
	KEEL_CASE(remove_find_and_replace),
	KEEL_CASE(for_each_visits_ids_in_order_and_stops_early),
	KEEL_CASE(for_each_may_remove_the_current_id),
	KEEL_CASE(sparse_high_ids_work),
	KEEL_CASE(ids_reach_int_max_and_no_further),
	KEEL_CASE(many_ids_fill_and_refill_lowest_first),
	KEEL_CASE(preloaded_alloc_needs_no_memory_under_a_spinlock),
	KEEL_CASE(random_operations_match_a_reference),
	{},
};

const TestSuite idr_suite = { .name = "keel_idr", .cases = idr_cases };

} // namespace

KEEL_TEST_SUITE(idr_suite);
