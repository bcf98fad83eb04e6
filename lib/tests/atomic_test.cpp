// SPDX-License-Identifier: GPL-2.0
/* Atomic<T>: operation results, compare_exchange, and no lost updates across threads. */
#include <keel/atomic.h>
#include <keel/barrier.h>
#include <keel/test.h>
#include <keel/thread.h>
#include <keel/time.h>

using namespace keel;
using namespace keel::test;

namespace {

void operations_return_old_or_new_values(Test &t)
{
	Atomic<u32> a(5);
	EXPECT_EQ(t, a.load(), 5u);
	EXPECT_EQ(t, a.fetch_add(3), 5u);
	EXPECT_EQ(t, a.add_return(2), 10u);
	EXPECT_EQ(t, a.fetch_sub(4), 10u);
	EXPECT_EQ(t, a.sub_return(1), 5u);
	EXPECT_EQ(t, a.fetch_or(0x10), 5u);
	EXPECT_EQ(t, a.fetch_and(0x14), 0x15u);
	EXPECT_EQ(t, a.load(MemoryOrder::Acquire), 0x14u);
	EXPECT_EQ(t, a.exchange(99), 0x14u);
	a.store(7, MemoryOrder::Release);
	EXPECT_EQ(t, a.load(MemoryOrder::Relaxed), 7u);
}

void compare_exchange_reports_the_current_value(Test &t)
{
	Atomic<u64> a(10);
	u64 expected = 11;
	EXPECT_FALSE(t, a.compare_exchange(expected, 20));
	EXPECT_EQ(t, expected, 10u);
	EXPECT_TRUE(t, a.compare_exchange(expected, 20, MemoryOrder::AcqRel));
	EXPECT_EQ(t, a.load(), 20u);

	int x, y;
	Atomic<int *> p(&x);
	int *want = &x;
	EXPECT_TRUE(t, p.compare_exchange(want, &y));
	EXPECT_EQ(t, p.load(), &y);
}

void inc_unless_set_stops_at_the_mask(Test &t)
{
	constexpr u32 GONE = 1u << 31;
	Atomic<u32> users(0);
	EXPECT_TRUE(t, users.inc_unless_set(GONE));
	EXPECT_TRUE(t, users.inc_unless_set(GONE));
	EXPECT_EQ(t, users.load(), 2u);
	users.fetch_add(GONE);
	EXPECT_FALSE(t, users.inc_unless_set(GONE));
	EXPECT_EQ(t, users.load(), GONE + 2);
	/* Bits outside the mask do not stop it. */
	Atomic<u32> other(0x10);
	EXPECT_TRUE(t, other.inc_unless_set(GONE));
	EXPECT_EQ(t, other.load(), 0x11u);
}

struct Counter {
	Atomic<u64> total;
	Atomic<u32> cas_total;
};

int add_many(void *p)
{
	auto *c = static_cast<Counter *>(p);
	for (int i = 0; i < 20000; i++) {
		c->total.fetch_add(1, MemoryOrder::Relaxed);
		u32 old = c->cas_total.load(MemoryOrder::Relaxed);
		while (!c->cas_total.compare_exchange(old, old + 1, MemoryOrder::Relaxed)) {
		}
	}
	return 0;
}

void concurrent_increments_are_not_lost(Test &t)
{
	Counter c;
	Thread *th[4] = {};
	int started = 0;
	for (auto &p : th) {
		auto r = Thread::run(add_many, &c, "atomic");
		EXPECT_OK(t, r);
		if (r.is_ok()) {
			p = r.value();
			started++;
		}
	}
	for (auto *p : th)
		if (p)
			p->stop();
	EXPECT_EQ(t, c.total.load(), u64(started) * 20000);
	EXPECT_EQ(t, c.cas_total.load(), u32(started) * 20000);
}

/*
 * A hand-off ordered the way shared rings order theirs: plain data, a write
 * barrier, a relaxed flag; a relaxed load, a read barrier, the data. Plain
 * and KUnit builds check the data; the ThreadSanitizer build also checks
 * that the barriers are modelled (it reported this as a race before).
 */
struct Handoff {
	u8 data[64];
	u32 flag;
};

int handoff_writer(void *arg)
{
	Handoff *h = static_cast<Handoff *>(arg);
	for (u32 i = 0; i < sizeof(h->data); i++)
		h->data[i] = u8(i + 1);
	virt_wmb();
	KEEL_TSAN_FENCE(__ATOMIC_RELEASE);
	__atomic_store_n(&h->flag, 1, __ATOMIC_RELAXED);
	return 0;
}

void barrier_ordered_handoff_is_not_a_race(Test &t)
{
	Handoff *h = t.alloc_array<Handoff>(1);
	ASSERT_NOT_NULL(t, h);
	auto th = Thread::run(&handoff_writer, h, "handoff");
	ASSERT_OK(t, th);
	s64 deadline = ktime_get_ns() + ms_to_ns(5000);
	while (!__atomic_load_n(&h->flag, __ATOMIC_RELAXED) && ktime_get_ns() < deadline)
		cpu_relax();
	virt_rmb();
	KEEL_TSAN_FENCE(__ATOMIC_ACQUIRE);
	bool seen = __atomic_load_n(&h->flag, __ATOMIC_RELAXED);
	u32 wrong = 0;
	if (seen)
		for (u32 i = 0; i < sizeof(h->data); i++)
			wrong += h->data[i] != u8(i + 1);
	EXPECT_EQ(t, th.value()->stop(), 0);
	EXPECT_TRUE(t, seen);
	EXPECT_EQ(t, wrong, 0u);
}

const TestCase atomic_cases[] = {
	KEEL_CASE(barrier_ordered_handoff_is_not_a_race),
	KEEL_CASE(operations_return_old_or_new_values),
	KEEL_CASE(compare_exchange_reports_the_current_value),
	KEEL_CASE(inc_unless_set_stops_at_the_mask),
	KEEL_CASE(concurrent_increments_are_not_lost),
	{},
};

const TestSuite atomic_suite = { .name = "keel_atomic", .cases = atomic_cases };

} // namespace

KEEL_TEST_SUITE(atomic_suite);
