// SPDX-License-Identifier: GPL-2.0
/*
 * The device side's ownership transfers on a ring that needs cache
 * maintenance: which ranges of the ring Vringh invalidates before it reads
 * what the driver wrote, and cleans after it writes what the driver reads.
 * The ring's window carries ShmCacheOps that log each call.
 */
#include "vring_test_util.h"

namespace {

using namespace virtio;
using namespace virtio::test;
using keel::ShmCacheOps;
using keel::test::Test;
using keel::test::TestCase;
using keel::test::TestSuite;

struct OpLog {
	static constexpr u32 MAX = 64;
	const u8 *ring = nullptr;
	u32 n = 0;
	bool clean[MAX] = {};
	size_t off[MAX] = {};
	size_t len[MAX] = {};

	static void on(void *ctx, const void *p, size_t len, bool clean)
	{
		OpLog *l = static_cast<OpLog *>(ctx);
		if (l->n < MAX) {
			l->clean[l->n] = clean;
			l->off[l->n] = size_t(static_cast<const u8 *>(p) - l->ring);
			l->len[l->n] = len;
		}
		l->n++;
	}
	/* Calls of one kind that cover [@o, @o + @l) exactly. */
	u32 count(bool c, size_t o, size_t l) const
	{
		u32 k = 0;
		for (u32 i = 0; i < n && i < MAX; i++)
			k += clean[i] == c && off[i] == o && len[i] == l;
		return k;
	}
	/* Calls of one kind that touch any byte of [@o, @o + @l). */
	u32 touching(bool c, size_t o, size_t l) const
	{
		u32 k = 0;
		for (u32 i = 0; i < n && i < MAX; i++)
			k += clean[i] == c && off[i] < o + l && o < off[i] + len[i];
		return k;
	}
};

/* @p with its device side replaced by one whose ring window logs into @log. */
keel::Result<void> logged_pair(Test &t, RingPair &p, OpLog &log, const ShmCacheOps &ops, u32 num)
{
	TRY(pair_init(t, p, num, 64, true, false, 1024));
	log.ring = p.mem;
	VringhConfig hc;
	hc.name = "test-vringh";
	hc.num = num;
	hc.align = 64;
	hc.ring = p.ring.with_cache_ops(&ops);
	hc.mem = p.region;
	p.vrh = TRY(Vringh::create(hc, GFP_KERNEL));
	return keel::ok();
}

/*
 * The avail entries one avail->idx published are invalidated with that
 * load, before any of them is read: one range, or two when they wrap
 * past the end of the ring; the entries taken later without a load are
 * not invalidated again.
 */
void avail_entries_are_invalidated_with_the_idx_that_published_them(Test &t)
{
	OpLog log;
	const ShmCacheOps ops = {
		.clean = [](void *ctx, const void *p, size_t len) { OpLog::on(ctx, p, len, true); },
		.invalidate = [](void *ctx, const void *p,
				 size_t len) { OpLog::on(ctx, p, len, false); },
		.ctx = &log,
	};
	RingPair p;
	ASSERT_OK(t, logged_pair(t, p, log, ops, 4));
	const VringLayout &l = p.layout();
	for (u16 i = 0; i < 4; i++)
		p.raw_desc(i, p.buf_da(16 * i), 16, 0, 0);
	/* Three chains in slots 0..2, taken and returned. */
	for (u16 i = 0; i < 3; i++)
		p.raw_post(i);
	VringhChainStorage<1, 1> c[3];
	for (u32 i = 0; i < 3; i++)
		ASSERT_EQ(t, p.vrh->getdesc(c[i]).value_or(false), true);
	EXPECT_EQ(t, log.count(false, l.avail_ring(0), 6), 1u);
	EXPECT_EQ(t, log.touching(false, l.avail_ring(0), 8), 1u);
	for (u32 i = 0; i < 3; i++)
		ASSERT_OK(t, p.vrh->push_used(c[i], 0));
	ASSERT_OK(t, p.vrh->publish_used());
	/* Three more in slots 3, 0, 1: the batch wraps. */
	log.n = 0;
	p.raw_post(2);
	p.raw_post(1);
	p.raw_post(0);
	for (u32 i = 0; i < 3; i++) {
		ASSERT_EQ(t, p.vrh->getdesc(c[i]).value_or(false), true);
		EXPECT_EQ(t, c[i].head(), 2u - i);
	}
	EXPECT_EQ(t, log.count(false, l.avail_ring(3), 2), 1u);
	EXPECT_EQ(t, log.count(false, l.avail_ring(0), 4), 1u);
	EXPECT_EQ(t, log.touching(false, l.avail_ring(0), 8), 2u);
	/* The load itself, first. */
	ASSERT_TRUE(t, log.n > 0);
	EXPECT_TRUE(t, !log.clean[0] && log.off[0] == l.avail_idx() && log.len[0] == 2);
	EXPECT_FALSE(t, p.vrh->is_broken());
}

/* A used element is cleaned once, whole, when it is pushed. */
void used_element_is_cleaned_once_per_push(Test &t)
{
	OpLog log;
	const ShmCacheOps ops = {
		.clean = [](void *ctx, const void *p, size_t len) { OpLog::on(ctx, p, len, true); },
		.invalidate = [](void *ctx, const void *p,
				 size_t len) { OpLog::on(ctx, p, len, false); },
		.ctx = &log,
	};
	RingPair p;
	ASSERT_OK(t, logged_pair(t, p, log, ops, 4));
	const VringLayout &l = p.layout();
	p.raw_desc(0, p.buf_da(0), 16, VRING_DESC_F_WRITE, 0);
	p.raw_post(0);
	VringhChainStorage<1, 1> c;
	ASSERT_EQ(t, p.vrh->getdesc(c).value_or(false), true);
	log.n = 0;
	ASSERT_OK(t, p.vrh->push_used(c, 12));
	EXPECT_EQ(t, log.count(true, l.used_ring(0), 8), 1u);
	EXPECT_EQ(t, log.touching(true, l.used_ring(0), 8), 1u);
	ASSERT_OK(t, p.vrh->publish_used());
	EXPECT_EQ(t, log.count(true, l.used_idx(), 2), 1u);
	/* The element as written: id and len, each a whole u32. */
	EXPECT_EQ(t, p.raw_read16(l.used_idx()), 1u);
	VringUsedElem e = p.ring.read<VringUsedElem>(l.used_ring(0)).value_or(VringUsedElem());
	EXPECT_EQ(t, keel::virtio32_to_cpu(true, e.id), 0u);
	EXPECT_EQ(t, keel::virtio32_to_cpu(true, e.len), 12u);
}

const TestCase vringh_cache_cases[] = {
	KEEL_CASE(avail_entries_are_invalidated_with_the_idx_that_published_them),
	KEEL_CASE(used_element_is_cleaned_once_per_push),
	{},
};

const TestSuite vringh_cache_suite = { .name = "vringh_cache", .cases = vringh_cache_cases };

} // namespace

KEEL_TEST_SUITE(vringh_cache_suite);
