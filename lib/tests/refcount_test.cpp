// SPDX-License-Identifier: GPL-2.0
/*
 * Refcount, RefCounted<T> and RefPtr<T>: release runs exactly once, at the
 * last put, also under concurrent get/put; saturation instead of wrapping.
 */
#include <keel/log.h>
#include <keel/refcount.h>
#include <keel/test.h>
#include <keel/thread.h>

using namespace keel;
using namespace keel::test;

namespace {

struct Tracked : RefCounted<Tracked> {
	u32 *releases;
	explicit Tracked(u32 *r) : releases(r) {}
	/* Called by the last put() instead of delete. */
	void release()
	{
		__atomic_add_fetch(releases, 1, __ATOMIC_RELAXED);
		delete this;
	}
};

struct Derived : Tracked {
	using Tracked::Tracked;
};

void refcount_counts_and_reports_last_put(Test &t)
{
	Refcount r;
	EXPECT_EQ(t, r.read(), 1u);
	r.inc();
	EXPECT_EQ(t, r.read(), 2u);
	EXPECT_FALSE(t, r.dec_and_test());
	EXPECT_TRUE(t, r.dec_and_test());
	EXPECT_EQ(t, r.read(), 0u);
	EXPECT_FALSE(t, r.inc_not_zero());
	EXPECT_EQ(t, r.read(), 0u);
	r.set(3);
	EXPECT_TRUE(t, r.inc_not_zero());
	EXPECT_EQ(t, r.read(), 4u);
}

void release_runs_once_at_the_last_put(Test &t)
{
	u32 releases = 0;
	auto made = make_ref_counted<Tracked>(GFP_KERNEL, &releases);
	ASSERT_OK(t, made);
	RefPtr<Tracked> a = made.release_value();
	EXPECT_EQ(t, a->ref_count(), 1u);
	{
		RefPtr<Tracked> b = a;
		RefPtr<Tracked> c(b);
		EXPECT_EQ(t, a->ref_count(), 3u);
		RefPtr<Tracked> d = move(c);
		EXPECT_FALSE(t, bool(c));
		EXPECT_EQ(t, a->ref_count(), 3u);
	}
	EXPECT_EQ(t, releases, 0u);
	EXPECT_EQ(t, a->ref_count(), 1u);
	a = nullptr;
	EXPECT_EQ(t, releases, 1u);
}

void adopt_takes_over_without_a_new_reference(Test &t)
{
	u32 releases = 0;
	Tracked *raw = new (GFP_KERNEL) Tracked(&releases);
	ASSERT_NOT_NULL(t, raw);
	RefPtr<Tracked> p = adopt_ref(raw);
	EXPECT_EQ(t, p->ref_count(), 1u);
	/* leak_ref() hands the reference over; put() drops it. */
	Tracked *r = p.leak_ref();
	EXPECT_FALSE(t, bool(p));
	EXPECT_EQ(t, releases, 0u);
	r->put();
	EXPECT_EQ(t, releases, 1u);
}

void refptr_converts_from_derived(Test &t)
{
	u32 releases = 0;
	auto made = make_ref_counted<Derived>(GFP_KERNEL, &releases);
	ASSERT_OK(t, made);
	RefPtr<Tracked> base = made.release_value();
	EXPECT_EQ(t, base->ref_count(), 1u);
	base.reset();
	EXPECT_EQ(t, releases, 1u);
}

struct Shared {
	Tracked *obj;
	int rounds;
};

int get_put_many(void *p)
{
	auto *s = static_cast<Shared *>(p);
	for (int i = 0; i < s->rounds; i++) {
		RefPtr<Tracked> ref(s->obj);
		RefPtr<Tracked> again = ref;
	}
	return 0;
}

void concurrent_get_put_releases_exactly_once(Test &t)
{
	u32 releases = 0;
	Tracked *obj = new (GFP_KERNEL) Tracked(&releases);
	ASSERT_NOT_NULL(t, obj);
	Shared s{ obj, 5000 };
	Thread *th[4] = {};
	for (auto &p : th) {
		auto r = Thread::run(get_put_many, &s, "refs");
		EXPECT_OK(t, r);
		if (r.is_ok())
			p = r.value();
	}
	for (auto *p : th)
		if (p)
			p->stop();
	EXPECT_EQ(t, obj->ref_count(), 1u);
	EXPECT_EQ(t, __atomic_load_n(&releases, __ATOMIC_RELAXED), 0u);
	obj->put();
	EXPECT_EQ(t, __atomic_load_n(&releases, __ATOMIC_RELAXED), 1u);
}

void increment_from_zero_saturates_and_reports(Test &t)
{
	Refcount r(0);
	u64 since = log_count(KEEL_LOGLEVEL_DEBUG);
	log_set_echo(false);
	r.inc();
	log_set_echo(true);
	EXPECT_EQ(t, r.read(), Refcount::SATURATED);
	EXPECT_TRUE(t, log_contains_since(since, "use-after-free", KEEL_LOGLEVEL_ERR));
	/* Saturated stays saturated: never reaches zero again. */
	EXPECT_FALSE(t, r.dec_and_test());
	EXPECT_GE(t, r.read(), Refcount::SATURATED - 1);
}

void underflow_saturates_instead_of_wrapping(Test &t)
{
	Refcount r(1);
	EXPECT_TRUE(t, r.dec_and_test());
	u64 since = log_count(KEEL_LOGLEVEL_DEBUG);
	log_set_echo(false);
	EXPECT_FALSE(t, r.dec_and_test());
	log_set_echo(true);
	EXPECT_EQ(t, r.read(), Refcount::SATURATED);
	EXPECT_TRUE(t, log_contains_since(since, "underflow", KEEL_LOGLEVEL_ERR));
}

void increment_near_the_limit_saturates(Test &t)
{
	Refcount r(Refcount::SATURATED - 1);
	log_set_echo(false);
	r.inc();
	log_set_echo(true);
	EXPECT_EQ(t, r.read(), Refcount::SATURATED);
	/* A saturated count is still "alive" for inc_not_zero. */
	EXPECT_TRUE(t, r.inc_not_zero());
}

const TestCase refcount_cases[] = {
	KEEL_CASE(refcount_counts_and_reports_last_put),
	KEEL_CASE(release_runs_once_at_the_last_put),
	KEEL_CASE(adopt_takes_over_without_a_new_reference),
	KEEL_CASE(refptr_converts_from_derived),
	KEEL_CASE(concurrent_get_put_releases_exactly_once),
	KEEL_CASE(increment_from_zero_saturates_and_reports),
	KEEL_CASE(underflow_saturates_instead_of_wrapping),
	KEEL_CASE(increment_near_the_limit_saturates),
	{},
};

const TestSuite refcount_suite = { .name = "keel_refcount", .cases = refcount_cases };

} // namespace

KEEL_TEST_SUITE(refcount_suite);
