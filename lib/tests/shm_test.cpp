// SPDX-License-Identifier: GPL-2.0
/*
 * ShmRegion: the one bounds check (range_fits) at the edges of the value
 * range, device-address translation, and the untorn accessors: aligned
 * words, misaligned fields and copies at every alignment land on the right
 * bytes.
 */
#include <keel/shm.h>
#include <keel/test.h>

using namespace keel;
using namespace keel::test;

namespace {

constexpr u64 U64_MAX = ~u64(0);

void range_fits_never_overflows(Test &t)
{
	EXPECT_TRUE(t, range_fits(16, 0, 16));
	EXPECT_TRUE(t, range_fits(16, 16, 0));
	EXPECT_TRUE(t, range_fits(16, 8, 8));
	EXPECT_FALSE(t, range_fits(16, 8, 9));
	EXPECT_FALSE(t, range_fits(16, 17, 0));
	EXPECT_TRUE(t, range_fits(0, 0, 0));
	EXPECT_FALSE(t, range_fits(0, 0, 1));
	/* off + len wraps: a naive "off + len <= size" would accept these. */
	EXPECT_FALSE(t, range_fits(16, 8, U64_MAX - 4));
	EXPECT_FALSE(t, range_fits(16, U64_MAX, 2));
	EXPECT_TRUE(t, range_fits(U64_MAX, U64_MAX - 1, 1));
	EXPECT_FALSE(t, range_fits(U64_MAX, U64_MAX - 1, 2));
}

void region_checks_offsets_and_device_addresses(Test &t)
{
	u8 mem[64] = {};
	ShmRegion r(mem, sizeof(mem), 0x1000);
	EXPECT_TRUE(t, r.contains(0, 64));
	EXPECT_FALSE(t, r.contains(1, 64));
	EXPECT_ERR(t, r.read<u32>(61), -EINVAL);
	EXPECT_ERR(t, r.write<u32>(~size_t(0) - 1, 0u), -EINVAL);
	EXPECT_ERR(t, r.copy_from(mem, 60, 8), -EINVAL);
	EXPECT_ERR(t, r.clean(0, 65), -EINVAL);
	EXPECT_ERR(t, r.invalidate(64, 1), -EINVAL);
	auto off = r.da_to_offset(0x1010, 0x30);
	ASSERT_OK(t, off);
	EXPECT_EQ(t, off.value(), 0x10u);
	EXPECT_ERR(t, r.da_to_offset(0x1010, 0x31), -EINVAL);
	EXPECT_ERR(t, r.da_to_offset(0xfff, 1), -EINVAL);
	EXPECT_ERR(t, r.da_to_offset(U64_MAX, 2), -EINVAL);
	EXPECT_ERR(t, r.da_to_offset(0x1001, U64_MAX), -EINVAL);
	auto sub = r.sub(8, 16);
	ASSERT_OK(t, sub);
	EXPECT_EQ(t, sub.value().da(), 0x1008u);
	EXPECT_ERR(t, sub.value().read<u8>(16), -EINVAL);
	EXPECT_ERR(t, r.offset_of(mem + 60, 8), -EINVAL);
	EXPECT_EQ(t, r.offset_of(mem + 56, 8).value_or(0), 56u);
}

/* da_sub(): the window da_to_offset() and sub() give, refused where either refuses. */
void da_sub_is_the_checked_sub_window_of_a_device_range(Test &t)
{
	u8 mem[64] = {};
	const ShmCacheOps ops = {};
	ShmRegion r = ShmRegion(mem, sizeof(mem), 0x1000).with_cache_ops(&ops);
	auto s = r.da_sub(0x1010, 0x30);
	ASSERT_OK(t, s);
	EXPECT_TRUE(t, s.value().base() == mem + 0x10);
	EXPECT_EQ(t, s.value().size(), 0x30u);
	EXPECT_EQ(t, s.value().da(), 0x1010u);
	EXPECT_EQ(t, s.value().cache_ops(), &ops);
	EXPECT_EQ(t, r.da_sub(0x1040, 0).value_or(ShmRegion()).size(), 0u);
	EXPECT_ERR(t, r.da_sub(0x1010, 0x31), -EINVAL);
	EXPECT_ERR(t, r.da_sub(0x1041, 0), -EINVAL);
	EXPECT_ERR(t, r.da_sub(0xfff, 1), -EINVAL);
	EXPECT_ERR(t, r.da_sub(U64_MAX, 2), -EINVAL);
	EXPECT_ERR(t, r.da_sub(0x1001, U64_MAX), -EINVAL);
}

struct Odd {
	u8 b[7];
};

void accesses_land_on_the_right_bytes_at_any_alignment(Test &t)
{
	alignas(16) u8 mem[64];
	ShmRegion r(mem, sizeof(mem), 0);
	for (size_t off = 0; off < 9; off++) {
		memset(mem, 0xee, sizeof(mem));
		const u64 v64 = 0x0102030405060708ull;
		ASSERT_OK(t, r.write<u64>(off, v64));
		EXPECT_MEMEQ(t, mem + off, &v64, 8);
		EXPECT_EQ(t, mem[off + 8], 0xeeu);
		if (off)
			EXPECT_EQ(t, mem[off - 1], 0xeeu);
		EXPECT_EQ(t, r.read<u64>(off).value_or(0), v64);
		const u16 v16 = 0xa55a;
		ASSERT_OK(t, r.peer_write<u16>(off + 20, v16));
		EXPECT_EQ(t, r.peer_read<u16>(off + 20).value_or(0), v16);
		Odd o = { { 1, 2, 3, 4, 5, 6, 7 } };
		ASSERT_OK(t, r.write(off + 32, o));
		Odd back = r.read<Odd>(off + 32).value_or(Odd{});
		EXPECT_MEMEQ(t, back.b, o.b, 7);
	}
}

void copies_match_memcpy_for_every_offset_and_length(Test &t)
{
	alignas(16) u8 mem[80];
	u8 src[40], dst[48], want[80];
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = u8(i * 13 + 1);
	ShmRegion r(mem, sizeof(mem), 0);
	for (size_t off = 0; off < 16; off++) {
		for (size_t len = 0; len <= sizeof(src); len++) {
			memset(mem, 0x5a, sizeof(mem));
			memset(want, 0x5a, sizeof(want));
			memcpy(want + off, src, len);
			ASSERT_OK(t, r.copy_to(off, src, len));
			ASSERT_MEMEQ(t, mem, want, sizeof(mem));
			/* Into a misaligned private buffer too. */
			memset(dst, 0, sizeof(dst));
			ASSERT_OK(t, r.copy_from(dst + 3, off, len));
			ASSERT_MEMEQ(t, dst + 3, src, len);
		}
	}
}

/* A region's own cache ops see every ownership transfer, sub-windows included, and nothing else. */
struct OpLog {
	const void *p[8];
	size_t len[8];
	bool clean[8];
	u32 n = 0;
	static void on(void *ctx, const void *p, size_t len, bool clean)
	{
		OpLog *l = static_cast<OpLog *>(ctx);
		if (l->n < 8) {
			l->p[l->n] = p;
			l->len[l->n] = len;
			l->clean[l->n] = clean;
		}
		l->n++;
	}
};

void region_cache_ops_see_each_transfer(Test &t)
{
	alignas(16) u8 mem[64] = {};
	OpLog log;
	const ShmCacheOps ops = {
		.clean = [](void *ctx, const void *p, size_t len) { OpLog::on(ctx, p, len, true); },
		.invalidate = [](void *ctx, const void *p,
				 size_t len) { OpLog::on(ctx, p, len, false); },
		.ctx = &log,
	};
	ShmRegion r = ShmRegion(mem, sizeof(mem), 0).with_cache_ops(&ops);
	EXPECT_EQ(t, r.cache_ops(), &ops);
	ASSERT_OK(t, r.peer_write<u32>(8, 7u));
	EXPECT_EQ(t, r.peer_read<u32>(8).value_or(0), 7u);
	/* Plain accesses are not transfers. */
	ASSERT_OK(t, r.write<u32>(12, 1u));
	(void)r.read<u32>(12);
	auto sub = r.sub(32, 16);
	ASSERT_OK(t, sub);
	ASSERT_OK(t, sub.value().clean(4, 8));
	ASSERT_OK(t, sub.value().invalidate(0, 16));
	EXPECT_ERR(t, sub.value().clean(8, 9), -EINVAL);
	ASSERT_EQ(t, log.n, 4u);
	EXPECT_TRUE(t, log.clean[0] && log.p[0] == mem + 8 && log.len[0] == 4);
	EXPECT_TRUE(t, !log.clean[1] && log.p[1] == mem + 8 && log.len[1] == 4);
	EXPECT_TRUE(t, log.clean[2] && log.p[2] == mem + 36 && log.len[2] == 8);
	EXPECT_TRUE(t, !log.clean[3] && log.p[3] == mem + 32 && log.len[3] == 16);
}

/*
 * The unchecked accessors (offsets proved inside at creation) store and
 * load the same bytes and make the same transfers as the checked ones.
 */
void unchecked_accesses_match_the_checked_ones(Test &t)
{
	alignas(16) u8 mem[64] = {};
	alignas(16) u8 ref[64] = {};
	OpLog log, ref_log;
	const ShmCacheOps ops = {
		.clean = [](void *ctx, const void *p, size_t len) { OpLog::on(ctx, p, len, true); },
		.invalidate = [](void *ctx, const void *p,
				 size_t len) { OpLog::on(ctx, p, len, false); },
		.ctx = &log,
	};
	ShmCacheOps ref_ops = ops;
	ref_ops.ctx = &ref_log;
	ShmRegion r = ShmRegion(mem, sizeof(mem), 0).with_cache_ops(&ops);
	ShmRegion c = ShmRegion(ref, sizeof(ref), 0).with_cache_ops(&ref_ops);
	struct Pair {
		u32 a, b;
	};
	r.write_unchecked<u64>(16, 0x0102030405060708ull);
	ASSERT_OK(t, c.write<u64>(16, 0x0102030405060708ull));
	r.peer_write_unchecked<u16>(2, u16(0xbeef));
	ASSERT_OK(t, c.peer_write<u16>(2, u16(0xbeef)));
	/* A non-word type at a 4-byte boundary: in naturally aligned pieces. */
	r.peer_write_unchecked(36, Pair{ 11, 22 });
	ASSERT_OK(t, c.peer_write(36, Pair{ 11, 22 }));
	r.clean_unchecked(8, 24);
	ASSERT_OK(t, c.clean(8, 24));
	EXPECT_EQ(t, memcmp(mem, ref, sizeof(mem)), 0);
	EXPECT_EQ(t, r.peer_read_unchecked<u16>(2), u16(0xbeef));
	EXPECT_EQ(t, c.peer_read<u16>(2).value_or(0), u16(0xbeef));
	Pair p = r.peer_read_unchecked<Pair>(36);
	EXPECT_TRUE(t, p.a == 11 && p.b == 22);
	ASSERT_OK(t, c.peer_read<Pair>(36));
	/* Plain stores are not transfers: three cleans, two invalidates on each. */
	ASSERT_EQ(t, log.n, 5u);
	ASSERT_EQ(t, ref_log.n, 5u);
	for (u32 i = 0; i < 5; i++)
		EXPECT_TRUE(t, log.clean[i] == ref_log.clean[i] && log.len[i] == ref_log.len[i] &&
				       static_cast<const u8 *>(log.p[i]) - mem ==
					       static_cast<const u8 *>(ref_log.p[i]) - ref);
}

const TestCase shm_cases[] = {
	KEEL_CASE(range_fits_never_overflows),
	KEEL_CASE(region_checks_offsets_and_device_addresses),
	KEEL_CASE(da_sub_is_the_checked_sub_window_of_a_device_range),
	KEEL_CASE(accesses_land_on_the_right_bytes_at_any_alignment),
	KEEL_CASE(copies_match_memcpy_for_every_offset_and_length),
	KEEL_CASE(region_cache_ops_see_each_transfer),
	KEEL_CASE(unchecked_accesses_match_the_checked_ones),
	{},
};

const TestSuite shm_suite = { .name = "keel_shm", .cases = shm_cases };

} // namespace

KEEL_TEST_SUITE(shm_suite);
