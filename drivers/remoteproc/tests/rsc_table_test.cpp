// SPDX-License-Identifier: GPL-2.0
/*
 * Resource table: golden byte images (encode, decode, field by field) and
 * one hostile table per check of the parser, each refused with -EINVAL and
 * its log line.
 */
#include <keel/log.h>
#include <keel/test.h>
#include <remoteproc/rsc_table.h>
#include <virtio/virtio_ring.h>

using namespace keel;
using namespace keel::test;
using namespace rproc;

namespace {

#define W(x)                                                                                       \
	u8(u32(x) & 0xff), u8((u32(x) >> 8) & 0xff), u8((u32(x) >> 16) & 0xff),                    \
		u8((u32(x) >> 24) & 0xff)

/*
 * A table as a firmware would declare it: one rpmsg vdev with two vrings
 * (one for the host to place, one placed by the remote) and a trace buffer.
 * Written by hand from Linux's rsc_table.h, not by the builder.
 */
constexpr size_t GOLDEN_SIZE = 144;
constexpr size_t GOLDEN_VDEV = 28;  /* the FwRscVdev (entry 0 at 24, past its type word) */
constexpr size_t GOLDEN_TRACE = 96; /* entry 1 */
const u8 golden[GOLDEN_SIZE] = {
	/* resource_table: ver, num, reserved[2], offset[2] */
	W(1),
	W(2),
	W(0),
	W(0),
	W(24),
	W(GOLDEN_TRACE),
	/* @24 fw_rsc_hdr: RSC_VDEV */
	W(3),
	/* fw_rsc_vdev: id 7 (rpmsg), notifyid 2, dfeatures NS, gfeatures, config_len */
	W(7),
	W(2),
	W(1),
	W(0),
	W(0),
	/* status, num_of_vrings, reserved[2] */
	0,
	2,
	0,
	0,
	/* vring0: da ANY, align 4096, num 256, notifyid 0, pa ANY */
	W(0xFFFFFFFF),
	W(4096),
	W(256),
	W(0),
	W(0xFFFFFFFF),
	/* vring1: da 0x10000, align 4096, num 256, notifyid 1, pa ANY */
	W(0x10000),
	W(4096),
	W(256),
	W(1),
	W(0xFFFFFFFF),
	/* @92: padding to 8 */
	0,
	0,
	0,
	0,
	/* @96 fw_rsc_hdr: RSC_TRACE; da, len, reserved, name[32] */
	W(2),
	W(0x20000),
	W(0x1000),
	W(0),
	't',
	'r',
	'a',
	'c',
	'e',
	'0',
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
};
static_assert(sizeof(golden) == GOLDEN_SIZE);

/* The shared region the golden table's addresses refer to: 256 KiB at da 0. */
constexpr size_t REGION_SIZE = 0x40000;
constinit u8 s_region_probe;
/* SAFETY: the parser only does address arithmetic on the region; it never dereferences it. */
constinit const ShmRegion s_region(&s_region_probe, REGION_SIZE, 0);

u32 get32(const u8 *p, size_t off)
{
	le32 v;
	memcpy(&v, p + off, 4);
	return le32_to_cpu(v);
}
void put32(u8 *p, size_t off, u32 v)
{
	le32 w = cpu_to_le32(v);
	memcpy(p + off, &w, 4);
}

int suite_init()
{
	log_set_echo(false);
	return 0;
}
void suite_exit()
{
	log_set_echo(true);
}

void golden_image_decodes_field_by_field(Test &t)
{
	RscTableInfo info;
	ASSERT_OK(t, rsc_table_parse(Span<const u8>(golden, GOLDEN_SIZE), &s_region, &info));
	EXPECT_EQ(t, info.size, GOLDEN_SIZE);
	EXPECT_EQ(t, info.num, 2u);
	EXPECT_EQ(t, info.num_skipped, 0u);
	ASSERT_EQ(t, info.num_vdevs, 1u);
	const RscVdev &v = info.vdevs[0];
	EXPECT_EQ(t, v.id, 7u);
	EXPECT_EQ(t, v.notifyid, 2u);
	EXPECT_EQ(t, v.dfeatures, 1u);
	EXPECT_EQ(t, v.gfeatures, 0u);
	EXPECT_EQ(t, v.config_len, 0u);
	EXPECT_EQ(t, v.status, 0u);
	EXPECT_EQ(t, v.num_of_vrings, 2u);
	EXPECT_EQ(t, v.offset, GOLDEN_VDEV);
	EXPECT_EQ(t, v.config_offset, 92u);
	EXPECT_EQ(t, v.vring[0].da, FW_RSC_ADDR_ANY);
	EXPECT_EQ(t, v.vring[0].align, 4096u);
	EXPECT_EQ(t, v.vring[0].num, 256u);
	EXPECT_EQ(t, v.vring[0].notifyid, 0u);
	EXPECT_EQ(t, v.vring[0].pa, FW_RSC_ADDR_ANY);
	EXPECT_EQ(t, v.vring[1].da, 0x10000u);
	EXPECT_EQ(t, v.vring[1].notifyid, 1u);
	ASSERT_EQ(t, info.num_traces, 1u);
	EXPECT_EQ(t, info.traces[0].da, 0x20000u);
	EXPECT_EQ(t, info.traces[0].len, 0x1000u);
	EXPECT_EQ(t, info.traces[0].offset, GOLDEN_TRACE + 4);
	EXPECT_STREQ(t, info.traces[0].name, "trace0");
}

void golden_field_offsets_match_linux(Test &t)
{
	/* The write-back fields the host touches, at the offsets Linux's struct gives them. */
	EXPECT_EQ(t, vdev_field_gfeatures(GOLDEN_VDEV), 40u);
	EXPECT_EQ(t, vdev_field_status(GOLDEN_VDEV), 48u);
	EXPECT_EQ(t, vdev_vring_field_da(GOLDEN_VDEV, 1), 72u);
	EXPECT_EQ(t, vdev_vring_field_notifyid(GOLDEN_VDEV, 1), 84u);
	EXPECT_EQ(t, get32(golden, vdev_vring_field_da(GOLDEN_VDEV, 1)), 0x10000u);
	EXPECT_EQ(t, get32(golden, vdev_vring_field_notifyid(GOLDEN_VDEV, 1)), 1u);
	EXPECT_EQ(t, golden[vdev_field_status(GOLDEN_VDEV) + 1], 2u);
	/* vring_size(256, 4096) and (8, 16) of linux/virtio_ring.h: the one vring rule's sizes. */
	EXPECT_EQ(t, virtio::VringLayout::compute(256, 4096).value_or(virtio::VringLayout{}).size,
		  10246u);
	EXPECT_EQ(t, virtio::VringLayout::compute(8, 16).value_or(virtio::VringLayout{}).size,
		  230u);
	EXPECT_ERR(t, virtio::VringLayout::compute(3, 16), -EINVAL);
}

Result<size_t> build_golden(Span<u8> buf)
{
	RscTableBuilder b(buf, 2);
	VdevSpec s = {};
	s.id = 7;
	s.notifyid = 2;
	s.dfeatures = 1;
	s.num_of_vrings = 2;
	s.vring[0] = { FW_RSC_ADDR_ANY, 4096, 256, 0, 0 };
	s.vring[1] = { 0x10000, 4096, 256, 1, 0 };
	size_t off = TRY(b.add_vdev(s));
	if (off != GOLDEN_VDEV)
		return err(-EIO);
	TRY(b.add_trace(0x20000, 0x1000, "trace0"));
	return b.finish();
}

void builder_encodes_golden_image(Test &t)
{
	u8 buf[256];
	memset(buf, 0xA5, sizeof(buf));
	auto r = build_golden(Span<u8>(buf, sizeof(buf)));
	ASSERT_OK(t, r);
	EXPECT_EQ(t, r.value(), GOLDEN_SIZE);
	EXPECT_MEMEQ(t, buf, golden, GOLDEN_SIZE);
	/* Field by field too, so a mismatch names the field. */
	EXPECT_EQ(t, get32(buf, 0), 1u);
	EXPECT_EQ(t, get32(buf, 4), 2u);
	EXPECT_EQ(t, get32(buf, 16), 24u);
	EXPECT_EQ(t, get32(buf, 20), GOLDEN_TRACE);
	EXPECT_EQ(t, get32(buf, 24), RSC_VDEV);
	EXPECT_EQ(t, get32(buf, GOLDEN_VDEV + 8), 1u);
	EXPECT_EQ(t, get32(buf, GOLDEN_VDEV + sizeof(FwRscVdev)), FW_RSC_ADDR_ANY);
	EXPECT_EQ(t, get32(buf, GOLDEN_TRACE), RSC_TRACE);
}

void builder_round_trips_config_and_carveout(Test &t)
{
	u8 buf[512];
	RscTableBuilder b(Span<u8>(buf, sizeof(buf)), 3);
	const u8 cfg[6] = { 1, 2, 3, 4, 5, 6 };
	VdevSpec s = {};
	s.id = 7;
	s.notifyid = FW_RSC_ADDR_ANY;
	s.dfeatures = 0x3;
	s.config_len = sizeof(cfg);
	s.config = cfg;
	s.num_of_vrings = 1;
	s.vring[0] = { FW_RSC_ADDR_ANY, 16, 8, 5, 0 };
	ASSERT_OK(t, b.add_carveout(0x30000, FW_RSC_ADDR_ANY, 0x8000, 0,
				    "a-very-long-carveout-name-that-fills-32"));
	auto voff = b.add_vdev(s);
	ASSERT_OK(t, voff);
	ASSERT_OK(t, b.add_raw(RSC_VENDOR_START + 1, cfg, 4));
	auto size = b.finish();
	ASSERT_OK(t, size);

	/* On the heap: the whole parse result does not belong on a kernel stack. */
	void *mem = t.alloc(sizeof(RscTableInfo));
	ASSERT_NOT_NULL(t, mem);
	RscTableInfo &info = *new (mem) RscTableInfo();
	ASSERT_OK(t, rsc_table_parse(Span<const u8>(buf, size.value()), &s_region, &info));
	EXPECT_EQ(t, info.num, 3u);
	EXPECT_EQ(t, info.num_skipped, 1u);
	ASSERT_EQ(t, info.num_carveouts, 1u);
	EXPECT_EQ(t, info.carveouts[0].da, 0x30000u);
	EXPECT_EQ(t, info.carveouts[0].len, 0x8000u);
	/* A 32-byte name without NUL is clamped and terminated. */
	EXPECT_EQ(t, strlen(info.carveouts[0].name), 32u);
	ASSERT_EQ(t, info.num_vdevs, 1u);
	const RscVdev &v = info.vdevs[0];
	EXPECT_EQ(t, v.offset, voff.value());
	EXPECT_EQ(t, v.dfeatures, 3u);
	EXPECT_EQ(t, v.config_len, 6u);
	EXPECT_MEMEQ(t, buf + v.config_offset, cfg, sizeof(cfg));
	EXPECT_EQ(t, v.vring[0].num, 8u);
	EXPECT_EQ(t, v.vring[0].align, 16u);
	EXPECT_EQ(t, v.vring[0].notifyid, 5u);
	EXPECT_EQ(t, v.vring[0].pa, FW_RSC_ADDR_ANY);
}

void builder_refuses_overflowing_buffer(Test &t)
{
	u8 buf[64];
	RscTableBuilder b(Span<u8>(buf, sizeof(buf)), 1);
	VdevSpec s = {};
	s.num_of_vrings = 2;
	s.vring[0] = s.vring[1] = { FW_RSC_ADDR_ANY, 16, 8, 0, 0 };
	EXPECT_ERR(t, b.add_vdev(s), -ENOSPC);
	RscTableBuilder tiny(Span<u8>(buf, 8), 1);
	EXPECT_ERR(t, tiny.finish(), -ENOSPC);
	RscTableBuilder full(Span<u8>(buf, sizeof(buf)), 1);
	ASSERT_OK(t, full.add_raw(RSC_VENDOR_START, nullptr, 0));
	EXPECT_ERR(t, full.add_raw(RSC_VENDOR_START, nullptr, 0), -ENOSPC);
}

void unknown_and_vendor_types_are_skipped_with_a_warning(Test &t)
{
	u8 buf[GOLDEN_SIZE];
	memcpy(buf, golden, GOLDEN_SIZE);
	put32(buf, GOLDEN_TRACE, 77);
	u64 since = log_seq();
	RscTableInfo info;
	ASSERT_OK(t, rsc_table_parse(Span<const u8>(buf, GOLDEN_SIZE), &s_region, &info));
	EXPECT_EQ(t, info.num_skipped, 1u);
	EXPECT_EQ(t, info.num_traces, 0u);
	EXPECT_EQ(t, info.num_vdevs, 1u);
	EXPECT_TRUE(t, log_contains_since(since, "unsupported resource type 77"));
	put32(buf, GOLDEN_TRACE, RSC_DEVMEM);
	ASSERT_OK(t, rsc_table_parse(Span<const u8>(buf, GOLDEN_SIZE), &s_region, &info));
	EXPECT_EQ(t, info.num_skipped, 1u);
}

/* --- hostile tables: one per check --- */

struct Hostile {
	const char *name;
	void (*mutate)(u8 *buf, size_t *size);
	const char *log;
};

const Hostile hostile[] = {
	{ "smaller_than_header", [](u8 *, size_t *n) { *n = 12; }, "smaller than its header" },
	{ "version_2", [](u8 *b, size_t *) { put32(b, 0, 2); }, "unsupported table version 2" },
	{ "version_0", [](u8 *b, size_t *) { put32(b, 0, 0); }, "unsupported table version 0" },
	{ "num_above_limit", [](u8 *b, size_t *) { put32(b, 4, RSC_MAX_ENTRIES + 1); },
	  "entries do not fit" },
	{ "num_huge_wraps", [](u8 *b, size_t *) { put32(b, 4, 0x40000001); },
	  "entries do not fit" },
	{ "offsets_past_end", [](u8 *, size_t *n) { *n = 20; }, "entries do not fit" },
	{ "offset_past_end", [](u8 *b, size_t *n) { put32(b, 20, u32(*n)); }, "outside the table" },
	{ "offset_huge", [](u8 *b, size_t *) { put32(b, 20, 0xFFFFFFFC); }, "outside the table" },
	{ "offset_overlaps_header", [](u8 *b, size_t *) { put32(b, 16, 8); }, "outside the table" },
	{ "offset_overlaps_offsets", [](u8 *b, size_t *) { put32(b, 16, 20); },
	  "outside the table" },
	{ "entry_header_past_end", [](u8 *b, size_t *n) { put32(b, 20, u32(*n - 2)); },
	  "outside the table" },
	{ "offset_unaligned", [](u8 *b, size_t *) { put32(b, 20, GOLDEN_TRACE + 2); },
	  "not 4-byte aligned" },
	{ "vdev_truncated",
	  [](u8 *b, size_t *n) {
		  put32(b, 4, 1);
		  *n = GOLDEN_VDEV + 10;
		  (void)b;
	  },
	  "vdev0 entry truncated" },
	{ "vdev_vrings_past_end",
	  [](u8 *b, size_t *n) {
		  put32(b, 4, 1);
		  *n = GOLDEN_VDEV + sizeof(FwRscVdev) + sizeof(FwRscVdevVring) + 4;
	  },
	  "vrings past the end" },
	{ "vdev_config_len_past_end", [](u8 *b, size_t *) { put32(b, GOLDEN_VDEV + 16, 53); },
	  "config_len 53 past" },
	{ "vdev_config_len_huge", [](u8 *b, size_t *) { put32(b, GOLDEN_VDEV + 16, 0xFFFFFFF0); },
	  "past the end" },
	{ "vdev_zero_vrings", [](u8 *b, size_t *) { b[GOLDEN_VDEV + 21] = 0; }, "has 0 vrings" },
	{ "vdev_three_vrings", [](u8 *b, size_t *) { b[GOLDEN_VDEV + 21] = 3; }, "has 3 vrings" },
	{ "vdev_reserved_nonzero", [](u8 *b, size_t *) { b[GOLDEN_VDEV + 23] = 1; },
	  "non-zero reserved" },
	{ "vring_num_zero", [](u8 *b, size_t *) { put32(b, GOLDEN_VDEV + 24 + 8, 0); },
	  "vring0: num 0" },
	{ "vring_num_not_pow2", [](u8 *b, size_t *) { put32(b, GOLDEN_VDEV + 44 + 8, 255); },
	  "vring1: num 255" },
	{ "vring_num_too_big", [](u8 *b, size_t *) { put32(b, GOLDEN_VDEV + 24 + 8, 65536); },
	  "num 65536" },
	{ "vring_align_zero", [](u8 *b, size_t *) { put32(b, GOLDEN_VDEV + 24 + 4, 0); },
	  "align 0" },
	{ "vring_align_not_pow2", [](u8 *b, size_t *) { put32(b, GOLDEN_VDEV + 24 + 4, 4095); },
	  "align 4095" },
	{ "vring_da_outside_region", [](u8 *b, size_t *) { put32(b, GOLDEN_VDEV + 44, 0x80000); },
	  "outside the shared" },
	{ "vring_da_straddles_end",
	  [](u8 *b, size_t *) { put32(b, GOLDEN_VDEV + 44, REGION_SIZE - 4096); },
	  "outside the shared" },
	{ "vring_da_unaligned", [](u8 *b, size_t *) { put32(b, GOLDEN_VDEV + 44, 0x10010); },
	  "not aligned" },
	{ "trace_truncated", [](u8 *, size_t *n) { *n = GOLDEN_TRACE + 20; },
	  "trace entry truncated" },
	{ "carveout_outside_region",
	  [](u8 *b, size_t *n) {
		  *n = GOLDEN_TRACE + 4 + sizeof(FwRscCarveout);
		  put32(b, GOLDEN_TRACE, RSC_CARVEOUT);
		  put32(b, GOLDEN_TRACE + 4, REGION_SIZE - 16); /* da */
		  put32(b, GOLDEN_TRACE + 12, 32);		/* len */
	  },
	  "outside the shared region" },
	{ "too_many_vdevs",
	  [](u8 *b, size_t *) {
		  /* Five entries, all pointing at the same vdev. */
		  memmove(b + 24 + 8 * RSC_MAX_VDEVS, b + 24, 68);
		  put32(b, 4, RSC_MAX_VDEVS + 1);
		  for (u32 i = 0; i <= RSC_MAX_VDEVS; i++)
			  put32(b, 16 + 4 * i, 24 + 8 * RSC_MAX_VDEVS);
	  },
	  "more than 4 vdevs" },
};

void describe_hostile(const Hostile &h, char *desc)
{
	snprintf(desc, KEEL_TEST_DESC_LEN, "%s", h.name);
}
KEEL_PARAMS(hostile_gen, hostile, describe_hostile)

void hostile_table_is_refused_with_a_log_line(Test &t)
{
	const Hostile &h = t.param<Hostile>();
	u8 buf[GOLDEN_SIZE + 64] = {};
	memcpy(buf, golden, GOLDEN_SIZE);
	size_t size = GOLDEN_SIZE;
	h.mutate(buf, &size);
	ASSERT_LE(t, size, sizeof(buf));
	u64 since = log_seq();
	RscTableInfo info;
	info.num_vdevs = 99;
	EXPECT_ERR(t, rsc_table_parse(Span<const u8>(buf, size), &s_region, &info), -EINVAL);
	if (!log_contains_since(since, h.log, KEEL_LOGLEVEL_ERR)) {
		char last[160];
		log_last(last, sizeof(last), KEEL_LOGLEVEL_DEBUG);
		EXPECT_FAIL(t, "expected a log line with '%s', last was '%s'", h.log, last);
	}
	/* Nothing half-parsed is left behind. */
	EXPECT_EQ(t, info.num_vdevs, 0u);
}

/*
 * rsc_table_check_vring(): where a vring may be placed. Each accepted
 * placement returns its offset; each refused one is -EINVAL with the log
 * line that names the reason (not merely "some line").
 */
void check_vring_accepts_placements_inside_the_region(Test &t)
{
	auto r = rsc_table_check_vring(s_region, 0x1000, 256, 4096);
	ASSERT_OK(t, r);
	EXPECT_EQ(t, r.value(), 0x1000u);
	r = rsc_table_check_vring(s_region, 0x2000, 16, 16);
	ASSERT_OK(t, r);
	EXPECT_EQ(t, r.value(), 0x2000u);
	/* The last placement that still fits: 16 entries at align 16 are 438 bytes. */
	r = rsc_table_check_vring(s_region, REGION_SIZE - 448, 16, 16);
	ASSERT_OK(t, r);
	EXPECT_EQ(t, r.value(), REGION_SIZE - 448);
}

struct BadPlacement {
	const char *name;
	u32 da, num, align, line;
	const char *log;
};
const BadPlacement bad_placements[] = {
	{ "da_unset", FW_RSC_ADDR_ANY, 16, 16, 1,
	  "vring da 0xffffffff unset or not aligned to 16" },
	{ "da_unaligned", 0x1008, 16, 16, 1, "vring da 0x1008 unset or not aligned to 16" },
	{ "past_the_end", REGION_SIZE - 64, 16, 16, 1, "size 438 outside the shared region" },
	{ "da_beyond_region", REGION_SIZE, 16, 16, 1, "outside the shared region" },
	{ "num_not_pow2", 0x1000, 12, 16, 1, "vring num 12 align 16 break the vring rule" },
	{ "align_below_line", 0x1000, 16, 16, 64,
	  "vring num 16 align 16 break the vring rule (line 64)" },
};
void describe_placement(const BadPlacement &p, char *desc)
{
	snprintf(desc, KEEL_TEST_DESC_LEN, "%s", p.name);
}
KEEL_PARAMS(placement_gen, bad_placements, describe_placement)

void check_vring_refuses_bad_placement_with_its_reason(Test &t)
{
	const BadPlacement &p = t.param<BadPlacement>();
	u64 since = log_seq();
	EXPECT_ERR(t, rsc_table_check_vring(s_region, p.da, p.num, p.align, p.line), -EINVAL);
	if (!log_contains_since(since, p.log, KEEL_LOGLEVEL_ERR)) {
		char last[160];
		log_last(last, sizeof(last), KEEL_LOGLEVEL_DEBUG);
		EXPECT_FAIL(t, "expected a log line with '%s', last was '%s'", p.log, last);
	}
}

const TestCase rsc_table_cases[] = {
	KEEL_CASE(golden_image_decodes_field_by_field),
	KEEL_CASE(golden_field_offsets_match_linux),
	KEEL_CASE(builder_encodes_golden_image),
	KEEL_CASE(builder_round_trips_config_and_carveout),
	KEEL_CASE(builder_refuses_overflowing_buffer),
	KEEL_CASE(unknown_and_vendor_types_are_skipped_with_a_warning),
	KEEL_PARAM_CASE(hostile_table_is_refused_with_a_log_line, hostile_gen),
	KEEL_CASE(check_vring_accepts_placements_inside_the_region),
	KEEL_PARAM_CASE(check_vring_refuses_bad_placement_with_its_reason, placement_gen),
	{},
};

const TestSuite rsc_table_suite = {
	.name = "rproc_rsc_table",
	.cases = rsc_table_cases,
	.init = nullptr,
	.exit = nullptr,
	.suite_init = suite_init,
	.suite_exit = suite_exit,
};

} // namespace

KEEL_TEST_SUITE(rsc_table_suite);
