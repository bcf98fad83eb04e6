// SPDX-License-Identifier: GPL-2.0
/*
 * Split virtqueue tests: the layout against the UAPI helpers, the two sides
 * talking to each other, and one hostile-peer case per check (each asserts
 * the error, the broken queue and the log line; ASan checks that nothing
 * was read or written out of bounds).
 */
#include <keel/thread.h>
#include <keel/time.h>

#include "vring_test_util.h"

namespace {

using namespace virtio;
using namespace virtio::test;
using keel::Span;
using keel::test::Test;
using keel::test::TestCase;
using keel::test::TestSuite;

int suite_init()
{
	keel::log_set_echo(false);
	return 0;
}
void suite_exit()
{
	keel::log_set_echo(true);
}

/*
 * Produced by the C helpers of the UAPI <linux/virtio_ring.h> (they do not
 * compile as C++): for each (num, align), vring_init() on a 64 KiB-aligned
 * buffer gave avail, &vring_used_event, used and &vring_avail_event as
 * offsets, and vring_size() the total:
 *	struct vring vr; vring_init(&vr, num, buf, align);
 *	printf("{ %u, %lu, %lu, %lu, %lu, %lu, %u },\n", num, align,
 *	       (char *)vr.avail - buf, (char *)&vring_used_event(&vr) - buf,
 *	       (char *)vr.used - buf, (char *)&vring_avail_event(&vr) - buf,
 *	       vring_size(num, align));
 */
struct Golden {
	u32 num, align;
	size_t avail, used_event, used, avail_event, size;
};
const Golden golden[] = {
	{ 1, 4, 16, 22, 24, 36, 38 },
	{ 1, 16, 16, 22, 32, 44, 46 },
	{ 1, 64, 16, 22, 64, 76, 78 },
	{ 1, 4096, 16, 22, 4096, 4108, 4110 },
	{ 1, 16384, 16, 22, 16384, 16396, 16398 },
	{ 2, 4, 32, 40, 44, 64, 66 },
	{ 2, 16, 32, 40, 48, 68, 70 },
	{ 2, 64, 32, 40, 64, 84, 86 },
	{ 2, 4096, 32, 40, 4096, 4116, 4118 },
	{ 2, 16384, 32, 40, 16384, 16404, 16406 },
	{ 4, 4, 64, 76, 80, 116, 118 },
	{ 4, 16, 64, 76, 80, 116, 118 },
	{ 4, 64, 64, 76, 128, 164, 166 },
	{ 4, 4096, 64, 76, 4096, 4132, 4134 },
	{ 4, 16384, 64, 76, 16384, 16420, 16422 },
	{ 16, 4, 256, 292, 296, 428, 430 },
	{ 16, 16, 256, 292, 304, 436, 438 },
	{ 16, 64, 256, 292, 320, 452, 454 },
	{ 16, 4096, 256, 292, 4096, 4228, 4230 },
	{ 16, 16384, 256, 292, 16384, 16516, 16518 },
	{ 64, 4, 1024, 1156, 1160, 1676, 1678 },
	{ 64, 16, 1024, 1156, 1168, 1684, 1686 },
	{ 64, 64, 1024, 1156, 1216, 1732, 1734 },
	{ 64, 4096, 1024, 1156, 4096, 4612, 4614 },
	{ 64, 16384, 1024, 1156, 16384, 16900, 16902 },
	{ 128, 4, 2048, 2308, 2312, 3340, 3342 },
	{ 128, 16, 2048, 2308, 2320, 3348, 3350 },
	{ 128, 64, 2048, 2308, 2368, 3396, 3398 },
	{ 128, 4096, 2048, 2308, 4096, 5124, 5126 },
	{ 128, 16384, 2048, 2308, 16384, 17412, 17414 },
	{ 256, 4, 4096, 4612, 4616, 6668, 6670 },
	{ 256, 16, 4096, 4612, 4624, 6676, 6678 },
	{ 256, 64, 4096, 4612, 4672, 6724, 6726 },
	{ 256, 4096, 4096, 4612, 8192, 10244, 10246 },
	{ 256, 16384, 4096, 4612, 16384, 18436, 18438 },
	{ 1024, 4, 16384, 18436, 18440, 26636, 26638 },
	{ 1024, 16, 16384, 18436, 18448, 26644, 26646 },
	{ 1024, 64, 16384, 18436, 18496, 26692, 26694 },
	{ 1024, 4096, 16384, 18436, 20480, 28676, 28678 },
	{ 1024, 16384, 16384, 18436, 32768, 40964, 40966 },
	{ 32768, 4, 524288, 589828, 589832, 851980, 851982 },
	{ 32768, 16, 524288, 589828, 589840, 851988, 851990 },
	{ 32768, 64, 524288, 589828, 589888, 852036, 852038 },
	{ 32768, 4096, 524288, 589828, 593920, 856068, 856070 },
	{ 32768, 16384, 524288, 589828, 606208, 868356, 868358 },
};

void layout_matches_uapi_vring_init_and_vring_size(Test &t)
{
	for (const Golden &g : golden) {
		auto r = VringLayout::compute(g.num, g.align);
		ASSERT_OK(t, r);
		const VringLayout &l = r.value();
		EXPECT_EQ(t, l.desc, 0u);
		EXPECT_EQ(t, l.avail, g.avail);
		EXPECT_EQ(t, l.used_event, g.used_event);
		EXPECT_EQ(t, l.used, g.used);
		EXPECT_EQ(t, l.avail_event, g.avail_event);
		EXPECT_EQ(t, l.size, g.size);
		EXPECT_EQ(t, l.avail_ring(g.num), l.used_event);
		EXPECT_EQ(t, l.used_ring(g.num), l.avail_event);
	}
	/* The wire structs are the UAPI ones. */
	EXPECT_EQ(t, sizeof(VringDesc), sizeof(struct vring_desc));
	EXPECT_EQ(t, sizeof(VringUsedElem), sizeof(struct vring_used_elem));
}

void layout_rejects_bad_num_and_align(Test &t)
{
	const u32 bad_num[] = { 0, 3, 6, 100, 32769, 65536, 0x80000000u };
	for (u32 n : bad_num)
		EXPECT_ERR(t, VringLayout::compute(n, 4096), -EINVAL);
	const u32 bad_align[] = { 0, 1, 2, 3, 12, 4097, 131072 };
	for (u32 a : bad_align)
		EXPECT_ERR(t, VringLayout::compute(256, a), -EINVAL);
	EXPECT_OK(t, VringLayout::compute(32768, 4));
}

/*
 * Sizes that break the vring rule (VringLayout::compute()). They usually
 * come from the remote's resource table: both sides refuse them, each with
 * a log line naming the queue, num and align.
 */
struct BadSize {
	u32 num, align;
};
const BadSize bad_sizes[] = {
	{ 0, 64 },	/* empty */
	{ 12, 64 },	/* num not a power of two */
	{ 65536, 64 },	/* more than 16-bit indices can address */
	{ 16, 0 },	/* no alignment */
	{ 16, 2 },	/* used ring's 32-bit fields misaligned */
	{ 16, 96 },	/* align not a power of two */
	{ 16, 131072 }, /* past VRING_MAX_ALIGN */
};
void describe_bad_size(const BadSize &b, char *desc)
{
	keel::snprintf(desc, KEEL_TEST_DESC_LEN, "num_%u_align_%u", b.num, b.align);
}
KEEL_PARAMS(bad_size_gen, bad_sizes, describe_bad_size)

void create_refuses_a_size_that_breaks_the_rule(Test &t)
{
	const BadSize &b = t.param<BadSize>();
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 0));
	char needle[64];
	keel::snprintf(needle, sizeof(needle), "bad ring size: num %u align %u", b.num, b.align);

	u64 since = keel::log_seq();
	VqConfig vc;
	vc.name = "bad-vq";
	vc.num = b.num;
	vc.align = b.align;
	vc.ring = p.ring;
	vc.notify = test_notify;
	EXPECT_ERR(t, VirtQueue::create(vc, GFP_KERNEL), -EINVAL);
	EXPECT_TRUE(t, keel::log_contains_since(since, "bad-vq: bad ring size"));
	EXPECT_TRUE(t, keel::log_contains_since(since, needle));

	since = keel::log_seq();
	VringhConfig hc;
	hc.name = "bad-vringh";
	hc.num = b.num;
	hc.align = b.align;
	hc.ring = p.ring;
	hc.mem = p.region;
	EXPECT_ERR(t, Vringh::create(hc, GFP_KERNEL), -EINVAL);
	EXPECT_TRUE(t, keel::log_contains_since(since, "bad-vringh: bad ring size"));
	EXPECT_TRUE(t, keel::log_contains_since(since, needle));
}

void create_rejects_short_or_misaligned_window(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 256));
	VqConfig vc;
	vc.num = 8;
	vc.align = 64;
	vc.notify = test_notify;
	size_t bytes = VringLayout::compute(8, 64).value().size;
	vc.ring = p.region.sub(0, bytes - 1).value();
	EXPECT_ERR(t, VirtQueue::create(vc, GFP_KERNEL), -EINVAL);
	vc.ring = p.region.sub(8, bytes).value();
	EXPECT_ERR(t, VirtQueue::create(vc, GFP_KERNEL), -EINVAL);
	vc.ring = p.ring;
	vc.notify = nullptr;
	EXPECT_ERR(t, VirtQueue::create(vc, GFP_KERNEL), -EINVAL);
}

void outbuf_and_inbuf_round_trip(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 1024));
	int tok_out = 0, tok_in = 0;
	memcpy(p.buf(0), "hello, device", 14);
	Sg out[] = { { p.buf_da(0), 14 } };
	Sg in[] = { { p.buf_da(256), 100 }, { p.buf_da(512), 28 } };
	ASSERT_OK(t, p.vq->add_outbuf(out, &tok_out, GFP_KERNEL));
	ASSERT_OK(t, p.vq->add_inbuf(in, &tok_in, GFP_KERNEL));
	EXPECT_EQ(t, p.vq->num_free(), 5u);
	ASSERT_OK(t, p.vq->kick());
	EXPECT_EQ(t, p.kicks, 1u);

	VringhChainStorage<2, 2> c1, c2, c3;
	ASSERT_EQ(t, p.vrh->getdesc(c1).value_or(false), true);
	EXPECT_EQ(t, c1.read_len(), 14u);
	EXPECT_EQ(t, c1.write_len(), 0u);
	char got[32] = {};
	EXPECT_EQ(t, c1.pull(got, sizeof(got)), 14u);
	EXPECT_STREQ(t, got, "hello, device");

	ASSERT_EQ(t, p.vrh->getdesc(c2).value_or(false), true);
	EXPECT_EQ(t, c2.read_len(), 0u);
	EXPECT_EQ(t, c2.write_len(), 128u);
	EXPECT_EQ(t, c2.writable().size(), 2u);
	u8 pattern[120];
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = u8(i * 7);
	EXPECT_EQ(t, c2.push(pattern, sizeof(pattern)), 120u);
	EXPECT_EQ(t, p.vrh->getdesc(c3).value_or(true), false);

	/* Out of order: the second buffer first. */
	ASSERT_OK(t, p.vrh->add_used(c2, c2.pushed()));
	ASSERT_OK(t, p.vrh->add_used(c1, 0));
	EXPECT_TRUE(t, p.vrh->need_notify());

	auto b = p.vq->get_buf();
	ASSERT_OK(t, b);
	EXPECT_EQ(t, b.value().token, (void *)&tok_in);
	EXPECT_EQ(t, b.value().len, 120u);
	EXPECT_MEMEQ(t, p.buf(256), pattern, 100);
	EXPECT_MEMEQ(t, p.buf(512), pattern + 100, 20);
	b = p.vq->get_buf();
	ASSERT_OK(t, b);
	EXPECT_EQ(t, b.value().token, (void *)&tok_out);
	EXPECT_EQ(t, b.value().len, 0u);
	b = p.vq->get_buf();
	ASSERT_OK(t, b);
	EXPECT_FALSE(t, bool(b.value()));
	EXPECT_EQ(t, p.vq->num_free(), 8u);
	EXPECT_FALSE(t, p.vq->is_broken());
	EXPECT_FALSE(t, p.vrh->is_broken());
}

void sg_from_translates_cpu_pointers(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 256));
	auto sg = Sg::from(p.region, p.buf(16), 32);
	ASSERT_OK(t, sg);
	EXPECT_EQ(t, sg.value().addr, p.buf_da(16));
	EXPECT_EQ(t, sg.value().len, 32u);
	EXPECT_ERR(t, Sg::from(p.region, p.buf(250), 32), -EINVAL);
}

void add_sgs_rejects_bad_arguments_without_breaking(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 4, 64, true, false, 256));
	int tok;
	Sg ok1[] = { { p.buf_da(0), 8 } };
	Sg zero[] = { { p.buf_da(0), 0 } };
	Sg wrap[] = { { ~u64(0) - 3, 8 } };
	Sg five[] = { { p.buf_da(0), 8 },
		      { p.buf_da(8), 8 },
		      { p.buf_da(16), 8 },
		      { p.buf_da(24), 8 },
		      { p.buf_da(32), 8 } };
	Sg huge[] = { { p.buf_da(0), 0x80000000u }, { p.buf_da(0), 0x80000000u } };
	EXPECT_ERR(t, p.vq->add_outbuf(ok1, nullptr, GFP_KERNEL), -EINVAL);
	EXPECT_ERR(t, p.vq->add_outbuf(zero, &tok, GFP_KERNEL), -EINVAL);
	EXPECT_ERR(t, p.vq->add_inbuf(wrap, &tok, GFP_KERNEL), -EINVAL);
	EXPECT_ERR(t, p.vq->add_outbuf(five, &tok, GFP_KERNEL), -EINVAL);
	EXPECT_ERR(t, p.vq->add_inbuf(huge, &tok, GFP_KERNEL), -EINVAL);
	EXPECT_ERR(t, p.vq->add_sgs({}, {}, &tok, GFP_KERNEL), -EINVAL);
	for (int i = 0; i < 4; i++)
		ASSERT_OK(t, p.vq->add_outbuf(ok1, &tok, GFP_KERNEL));
	EXPECT_ERR(t, p.vq->add_outbuf(ok1, &tok, GFP_KERNEL), -ENOSPC);
	EXPECT_EQ(t, p.vq->num_free(), 0u);
	EXPECT_FALSE(t, p.vq->is_broken());
}

void add_used_rejects_bad_arguments_without_breaking(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 4, 64, true, false, 256));
	int tok;
	Sg in[] = { { p.buf_da(0), 16 } };
	ASSERT_OK(t, p.vq->add_inbuf(in, &tok, GFP_KERNEL));
	VringhChainStorage<1, 1> c, never;
	ASSERT_EQ(t, p.vrh->getdesc(c).value_or(false), true);
	EXPECT_ERR(t, p.vrh->add_used(c, 17), -EINVAL);
	EXPECT_ERR(t, p.vrh->add_used(never, 0), -EINVAL);
	VringhChain copy = c;
	ASSERT_OK(t, p.vrh->add_used(c, 16));
	EXPECT_ERR(t, p.vrh->add_used(copy, 0), -EINVAL);
	EXPECT_FALSE(t, p.vrh->is_broken());
}

/* A legacy device on a big-endian driver: every ring field is big endian in memory. */
void legacy_big_endian_ring_bytes(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, false, false, 256));
	int tok;
	Sg out[] = { { p.buf_da(0x10), 0x20 } };
	ASSERT_OK(t, p.vq->add_outbuf(out, &tok, GFP_KERNEL));
	const u8 *idx = p.mem + p.layout().avail_idx();
	EXPECT_EQ(t, idx[0], 0u);
	EXPECT_EQ(t, idx[1], 1u);
	const u8 *len = p.mem + p.layout().desc_at(0) + 8;
	EXPECT_EQ(t, len[3], 0x20u);
	EXPECT_EQ(t, len[0], 0u);
	VringhChainStorage<1, 1> c;
	ASSERT_EQ(t, p.vrh->getdesc(c).value_or(false), true);
	EXPECT_EQ(t, c.read_len(), 0x20u);
	ASSERT_OK(t, p.vrh->add_used(c, 0));
	const u8 *used_idx = p.mem + p.layout().used_idx();
	EXPECT_EQ(t, used_idx[1], 1u);
	auto b = p.vq->get_buf();
	ASSERT_OK(t, b);
	EXPECT_EQ(t, b.value().token, (void *)&tok);
}

/*
 * The descriptors add_sgs() writes, byte for byte: for chains of several
 * shapes (readable and writable segment counts) in both byte orders, every
 * descriptor carries its segment's address and length, VRING_DESC_F_NEXT
 * on all but the last, VRING_DESC_F_WRITE on the writable ones, a link to
 * the next one and 0 on the last; the avail ring publishes the head; and
 * the chain's descriptors go back to the free list when the device returns
 * it.
 */
struct ChainShape {
	u32 out, in;
	bool le;
};
const ChainShape chain_shapes[] = {
	{ 1, 0, true }, { 0, 1, true }, { 2, 1, true },	 { 1, 3, true },
	{ 3, 0, true }, { 0, 4, true }, { 2, 2, false }, { 1, 0, false },
};
void describe_chain(const ChainShape &s, char *desc)
{
	keel::snprintf(desc, KEEL_TEST_DESC_LEN, "out_%u_in_%u_%s", s.out, s.in,
		       s.le ? "le" : "be");
}
KEEL_PARAMS(chain_gen, chain_shapes, describe_chain)

VringDesc read_desc(const RingPair &p, u16 i)
{
	return p.ring.read<VringDesc>(p.layout().desc_at(i)).value_or(VringDesc());
}

void add_sgs_writes_each_descriptor_of_a_chain(Test &t)
{
	const ChainShape &s = t.param<ChainShape>();
	constexpr u32 NUM = 8;
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, NUM, 64, s.le, false, 1024));
	/* One buffer first, returned: the chain below starts mid free list. */
	int first, tok;
	Sg one[] = { { p.buf_da(0), 4 } };
	ASSERT_OK(t, p.vq->add_outbuf(one, &first, GFP_KERNEL));
	p.raw_used(0, 0);
	ASSERT_EQ(t, p.vq->get_buf().value().token, (void *)&first);

	Sg out[4], in[4];
	for (u32 k = 0; k < s.out; k++)
		out[k] = Sg{ p.buf_da(64 * k), 8 + k };
	for (u32 k = 0; k < s.in; k++)
		in[k] = Sg{ p.buf_da(512 + 64 * k), 16 + k };
	ASSERT_OK(t, p.vq->add_sgs(Span<const Sg>(out, s.out), Span<const Sg>(in, s.in), &tok,
				   GFP_KERNEL));
	u32 total = s.out + s.in;
	EXPECT_EQ(t, p.vq->num_free(), NUM - total);
	EXPECT_EQ(t, p.raw_read16(p.layout().avail_idx()), 2u);
	u16 i = p.raw_read16(p.layout().avail_ring(1));
	u16 head = i;
	for (u32 k = 0; k < total; k++) {
		ASSERT_LT(t, u32(i), NUM);
		VringDesc d = read_desc(p, i);
		const Sg &sg = k < s.out ? out[k] : in[k - s.out];
		bool last = k + 1 == total;
		u16 flags = keel::virtio16_to_cpu(s.le, d.flags);
		u16 next = keel::virtio16_to_cpu(s.le, d.next);
		EXPECT_EQ(t, keel::virtio64_to_cpu(s.le, d.addr), sg.addr);
		EXPECT_EQ(t, keel::virtio32_to_cpu(s.le, d.len), sg.len);
		EXPECT_EQ(t, bool(flags & VRING_DESC_F_NEXT), !last);
		EXPECT_EQ(t, bool(flags & VRING_DESC_F_WRITE), k >= s.out);
		EXPECT_EQ(t, flags & ~u16(VRING_DESC_F_NEXT | VRING_DESC_F_WRITE), 0);
		if (last)
			EXPECT_EQ(t, next, 0u);
		i = next;
	}

	u32 writable = 0;
	for (u32 k = 0; k < s.in; k++)
		writable += in[k].len;
	p.raw_used(head, writable);
	auto b = p.vq->get_buf();
	ASSERT_OK(t, b);
	EXPECT_EQ(t, b.value().token, (void *)&tok);
	EXPECT_EQ(t, b.value().len, writable);
	EXPECT_EQ(t, p.vq->num_free(), NUM);
	/* Every descriptor is free again: a chain of all of them fits. */
	Sg all[NUM];
	for (u32 k = 0; k < NUM; k++)
		all[k] = Sg{ p.buf_da(64 * k), 4 };
	EXPECT_OK(t, p.vq->add_outbuf(all, &tok, GFP_KERNEL));
	EXPECT_FALSE(t, p.vq->is_broken());
}

/* 16-bit free-running indices wrap; nothing may notice. */
void indices_wrap_past_16_bits(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 4, 16, true, true, 64));
	int toks[4];
	VringhChainStorage<1, 1> c;
	for (u32 i = 0; i < 70000; i++) {
		Sg in[] = { { p.buf_da((i % 4) * 16), 16 } };
		ASSERT_OK(t, p.vq->add_inbuf(in, &toks[i % 4], GFP_KERNEL));
		ASSERT_EQ(t, p.vrh->getdesc(c).value_or(false), true);
		ASSERT_OK(t, p.vrh->add_used(c, i % 17));
		auto b = p.vq->get_buf();
		ASSERT_OK(t, b);
		ASSERT_EQ(t, b.value().token, (void *)&toks[i % 4]);
		ASSERT_EQ(t, b.value().len, i % 17);
	}
	EXPECT_EQ(t, p.raw_read16(p.layout().avail_idx()), u16(70000));
	EXPECT_EQ(t, p.vq->num_free(), 4u);
}

void detach_unused_buf_returns_every_token(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 256));
	int toks[5];
	for (int i = 0; i < 4; i++) {
		Sg in[] = { { p.buf_da(i * 16), 16 }, { p.buf_da(128 + i * 16), 16 } };
		ASSERT_OK(t, p.vq->add_inbuf(in, &toks[i], GFP_KERNEL));
	}
	EXPECT_EQ(t, p.vq->num_free(), 0u);
	bool seen[5] = {};
	for (int i = 0; i < 4; i++) {
		void *tok = p.vq->detach_unused_buf();
		ASSERT_NOT_NULL(t, tok);
		int k = int(static_cast<int *>(tok) - toks);
		ASSERT_TRUE(t, k >= 0 && k < 5 && !seen[k]);
		seen[k] = true;
	}
	EXPECT_NULL(t, p.vq->detach_unused_buf());
	EXPECT_EQ(t, p.vq->num_free(), 8u);
	EXPECT_EQ(t, p.raw_read16(p.layout().avail_idx()), 0u);
}

/* --- hostile driver: the device side refuses its ring --- */

/* Expects @r to be -EIO with the ring broken and @needle logged since @since. */
template <typename T, typename Q>
void expect_broken(Test &t, const Result<T> &r, const Q &q, u64 since, const char *needle)
{
	EXPECT_ERR(t, r, -EIO);
	EXPECT_TRUE(t, q.is_broken());
	EXPECT_TRUE(t, keel::log_contains_since(since, needle));
	if (!keel::log_contains_since(since, needle)) {
		char last[256];
		keel::log_last(last, sizeof(last));
		t.info("last log line: %s", last);
	}
}

void device_refuses_avail_head_out_of_range(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 256));
	p.raw_post(8);
	u64 since = keel::log_seq();
	VringhChainStorage<2, 2> c;
	expect_broken(t, p.vrh->getdesc(c), *p.vrh, since,
		      "test-vringh: avail slot 0: head 8 out of range");
	/* Broken stays broken, logged once. */
	since = keel::log_seq();
	EXPECT_ERR(t, p.vrh->getdesc(c), -EIO);
	EXPECT_EQ(t, keel::log_seq(), since);
}

void device_refuses_next_out_of_range(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 256));
	p.raw_desc(0, p.buf_da(0), 8, VRING_DESC_F_NEXT, 9);
	p.raw_post(0);
	u64 since = keel::log_seq();
	VringhChainStorage<2, 2> c;
	expect_broken(t, p.vrh->getdesc(c), *p.vrh, since, "desc 0: next 9 out of range");
}

void device_refuses_loop_in_chain(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 256));
	p.raw_desc(0, p.buf_da(0), 8, VRING_DESC_F_NEXT, 1);
	p.raw_desc(1, p.buf_da(8), 8, VRING_DESC_F_NEXT, 2);
	p.raw_desc(2, p.buf_da(16), 8, VRING_DESC_F_NEXT, 1);
	p.raw_post(0);
	u64 since = keel::log_seq();
	VringhChainStorage<8, 8> c;
	expect_broken(t, p.vrh->getdesc(c), *p.vrh, since, "desc 2: next 1 loops back");
}

void device_refuses_chain_longer_than_num(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 256));
	/* Every descriptor chained, the last one pointing back to the first. */
	for (u16 i = 0; i < 8; i++)
		p.raw_desc(i, p.buf_da(i * 8), 8, VRING_DESC_F_NEXT, u16((i + 1) % 8));
	p.raw_post(0);
	u64 since = keel::log_seq();
	VringhChainStorage<16, 16> c;
	expect_broken(t, p.vrh->getdesc(c), *p.vrh, since, "chain at head 0 longer than num 8");
}

void device_refuses_desc_outside_region(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 256));
	/* Ends 1 byte past the window; then one below the window's start. */
	p.raw_desc(0, p.buf_da(240), 17, 0, 0);
	p.raw_post(0);
	u64 since = keel::log_seq();
	VringhChainStorage<2, 2> c;
	expect_broken(t, p.vrh->getdesc(c), *p.vrh, since, "desc 0: addr 0x");

	RingPair q;
	ASSERT_OK(t, pair_init(t, q, 8, 64, true, false, 256));
	q.raw_desc(3, TEST_DA - 1, 4, 0, 0);
	q.raw_post(3);
	since = keel::log_seq();
	expect_broken(t, q.vrh->getdesc(c), *q.vrh, since, "outside the shared region");
}

void device_refuses_addr_len_wrap(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 256));
	p.raw_desc(0, ~u64(0) - 0xf, 0x20, VRING_DESC_F_WRITE, 0);
	p.raw_post(0);
	u64 since = keel::log_seq();
	VringhChainStorage<2, 2> c;
	expect_broken(t, p.vrh->getdesc(c), *p.vrh, since, "outside the shared region");

	RingPair q;
	ASSERT_OK(t, pair_init(t, q, 8, 64, true, false, 256));
	q.raw_desc(0, q.buf_da(8), 0xffffffffu, VRING_DESC_F_WRITE, 0);
	q.raw_post(0);
	since = keel::log_seq();
	expect_broken(t, q.vrh->getdesc(c), *q.vrh, since, "len 4294967295 outside");
}

void device_refuses_avail_idx_jump(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 256));
	p.raw16(p.layout().avail_idx(), 9);
	u64 since = keel::log_seq();
	VringhChainStorage<2, 2> c;
	expect_broken(t, p.vrh->getdesc(c), *p.vrh, since, "avail idx 9 is 9 ahead of 0");
	EXPECT_ERR(t, p.vrh->avail_pending(), -EIO);
	/* Nothing to wait for on a broken ring (enable_loops_end_on_a_broken_ring). */
	EXPECT_TRUE(t, p.vrh->notify_enable());
}

void device_refuses_indirect_desc(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 256));
	p.raw_desc(0, p.buf_da(0), 32, VRING_DESC_F_INDIRECT, 0);
	p.raw_post(0);
	u64 since = keel::log_seq();
	VringhChainStorage<2, 2> c;
	expect_broken(t, p.vrh->getdesc(c), *p.vrh, since, "indirect descriptor");
}

void device_refuses_readable_after_writable(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 256));
	p.raw_desc(0, p.buf_da(0), 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	p.raw_desc(1, p.buf_da(8), 8, 0, 0);
	p.raw_post(0);
	u64 since = keel::log_seq();
	VringhChainStorage<2, 2> c;
	expect_broken(t, p.vrh->getdesc(c), *p.vrh, since, "readable after writable");
}

void device_refuses_head_reposted_while_in_use(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 256));
	p.raw_desc(0, p.buf_da(0), 8, VRING_DESC_F_WRITE, 0);
	p.raw_post(0);
	p.raw_post(0);
	VringhChainStorage<2, 2> c1, c2;
	ASSERT_EQ(t, p.vrh->getdesc(c1).value_or(false), true);
	u64 since = keel::log_seq();
	expect_broken(t, p.vrh->getdesc(c2), *p.vrh, since, "head 0 is already in use");
	EXPECT_ERR(t, p.vrh->add_used(c1, 0), -EIO);
}

void device_refuses_more_segments_than_storage(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 256));
	p.raw_desc(0, p.buf_da(0), 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	p.raw_desc(1, p.buf_da(8), 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	p.raw_desc(2, p.buf_da(16), 8, VRING_DESC_F_WRITE, 0);
	p.raw_post(0);
	u64 since = keel::log_seq();
	VringhChainStorage<2, 2> c;
	expect_broken(t, p.vrh->getdesc(c), *p.vrh, since, "more than 2 writable segments");
}

/* --- hostile device: the driver side refuses its used ring --- */

/*
 * The limits a chain's segments are held to, on either list: the total
 * length (u32, checked on the sum) and the caller's storage. The window
 * descriptors point into is declared 3 GiB long over the test's few
 * pages: getdesc() only translates and checks segments, it never touches
 * their bytes.
 */
struct SegLimit {
	const char *name;
	u16 flags; /* of every descriptor */
	u32 len;   /* of every descriptor */
	u16 n;	   /* descriptors in the chain */
	const char *log;
};

const SegLimit seg_limits[] = {
	{ "readable_over_4g", 0, 0xc0000000u, 2, "desc 1: chain longer than 4 GiB" },
	{ "writable_over_4g", VRING_DESC_F_WRITE, 0xc0000000u, 2,
	  "desc 1: chain longer than 4 GiB" },
	{ "readable_over_storage", 0, 8, 3, "desc 2: more than 2 readable segments" },
	{ "writable_over_storage", VRING_DESC_F_WRITE, 8, 3,
	  "desc 2: more than 2 writable segments" },
};

void describe_seg_limit(const SegLimit &l, char *desc)
{
	keel::snprintf(desc, KEEL_TEST_DESC_LEN, "%s", l.name);
}
KEEL_PARAMS(seg_limit_gen, seg_limits, describe_seg_limit)

void device_refuses_a_chain_past_its_segment_limits(Test &t)
{
	const SegLimit &l = t.param<SegLimit>();
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 256));
	VringhConfig hc;
	hc.name = "test-vringh";
	hc.num = 8;
	hc.align = 64;
	hc.ring = p.ring;
	hc.mem = ShmRegion(p.mem, size_t(3) << 30, TEST_DA);
	p.vrh = nullptr;
	auto vrh = Vringh::create(hc, GFP_KERNEL);
	ASSERT_OK(t, vrh);
	for (u16 i = 0; i < l.n; i++)
		p.raw_desc(i, TEST_DA, l.len, l.flags | (i + 1 < l.n ? VRING_DESC_F_NEXT : 0),
			   u16(i + 1));
	p.raw_post(0);
	u64 since = keel::log_seq();
	VringhChainStorage<2, 2> c;
	expect_broken(t, vrh.value()->getdesc(c), *vrh.value(), since, l.log);
	EXPECT_FALSE(t, c.valid());
}

void driver_refuses_used_id_out_of_range(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 256));
	int tok;
	Sg in[] = { { p.buf_da(0), 16 } };
	ASSERT_OK(t, p.vq->add_inbuf(in, &tok, GFP_KERNEL));
	p.raw_used(8, 0);
	u64 since = keel::log_seq();
	expect_broken(t, p.vq->get_buf(), *p.vq, since, "test-vq: used id 8 out of range");
	/* Everything fails fast afterwards, without another log line. */
	since = keel::log_seq();
	EXPECT_ERR(t, p.vq->add_inbuf(in, &tok, GFP_KERNEL), -EIO);
	EXPECT_ERR(t, p.vq->kick(), -EIO);
	EXPECT_ERR(t, p.vq->get_buf(), -EIO);
	EXPECT_FALSE(t, p.vq->more_used());
	EXPECT_EQ(t, keel::log_seq(), since);
}

void driver_refuses_used_id_not_outstanding(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 256));
	int tok;
	Sg in[] = { { p.buf_da(0), 16 } };
	ASSERT_OK(t, p.vq->add_inbuf(in, &tok, GFP_KERNEL));
	/* Head 0 is outstanding, 1 is not. Then 0 twice. */
	p.raw_used(1, 0);
	u64 since = keel::log_seq();
	expect_broken(t, p.vq->get_buf(), *p.vq, since, "used id 1 is not an outstanding buffer");

	RingPair q;
	ASSERT_OK(t, pair_init(t, q, 8, 64, true, false, 256));
	ASSERT_OK(t, q.vq->add_inbuf(in, &tok, GFP_KERNEL));
	q.raw_used(0, 4);
	q.raw_used(0, 4);
	auto b = q.vq->get_buf();
	ASSERT_OK(t, b);
	EXPECT_EQ(t, b.value().token, (void *)&tok);
	since = keel::log_seq();
	expect_broken(t, q.vq->get_buf(), *q.vq, since, "used id 0 is not an outstanding buffer");
}

void driver_refuses_used_len_larger_than_buffer(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 256));
	int tok;
	Sg out[] = { { p.buf_da(0), 100 } };
	Sg in[] = { { p.buf_da(128), 16 }, { p.buf_da(160), 16 } };
	ASSERT_OK(t, p.vq->add_sgs(out, in, &tok, GFP_KERNEL));
	/* 32 writable bytes: 33 is a lie (the readable 100 do not count). */
	p.raw_used(0, 33);
	u64 since = keel::log_seq();
	expect_broken(t, p.vq->get_buf(), *p.vq, since,
		      "used id 0 len 33 larger than its writable 32");
}

void driver_refuses_used_idx_jump(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 256));
	p.raw16(p.layout().used_idx(), 9);
	u64 since = keel::log_seq();
	expect_broken(t, p.vq->get_buf(), *p.vq, since, "used idx 9 is 9 ahead of 0");
}

/* push_used() writes entries only; used->idx moves once, at publish_used() or need_notify(). */
void used_entries_are_published_once_per_batch(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 1024));
	int tok[3];
	for (u32 i = 0; i < 3; i++) {
		Sg in[] = { { p.buf_da(64 * i), 64 } };
		ASSERT_OK(t, p.vq->add_inbuf(in, &tok[i], GFP_KERNEL));
	}
	VringhChainStorage<1, 1> c[3];
	for (u32 i = 0; i < 3; i++)
		ASSERT_EQ(t, p.vrh->getdesc(c[i]).value_or(false), true);
	ASSERT_OK(t, p.vrh->push_used(c[0], 0));
	ASSERT_OK(t, p.vrh->push_used(c[1], 8));
	EXPECT_EQ(t, p.raw_read16(p.layout().used_idx()), 0u);
	auto b = p.vq->get_buf();
	ASSERT_OK(t, b);
	EXPECT_FALSE(t, bool(b.value()));
	ASSERT_OK(t, p.vrh->publish_used());
	EXPECT_EQ(t, p.raw_read16(p.layout().used_idx()), 2u);
	/* A pushed entry is checked as add_used() checks it: this chain is spent. */
	EXPECT_ERR(t, p.vrh->push_used(c[0], 0), -EINVAL);
	ASSERT_OK(t, p.vrh->push_used(c[2], 0));
	EXPECT_TRUE(t, p.vrh->need_notify());
	EXPECT_EQ(t, p.raw_read16(p.layout().used_idx()), 3u);
	for (u32 i = 0; i < 3; i++) {
		b = p.vq->get_buf();
		ASSERT_OK(t, b);
		EXPECT_EQ(t, b.value().token, (void *)&tok[i]);
	}
	EXPECT_FALSE(t, p.vq->is_broken());
}

/*
 * The device loads avail->idx once per batch: the entries it published are
 * each still checked when taken, and the next load is checked again.
 */
void device_checks_each_entry_of_a_loaded_batch(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 256));
	p.raw_desc(0, p.buf_da(0), 8, 0, 0);
	p.raw_post(0);
	p.raw_post(9);
	VringhChainStorage<2, 2> c1, c2;
	EXPECT_EQ(t, p.vrh->avail_pending().value_or(0), 2u);
	ASSERT_EQ(t, p.vrh->getdesc(c1).value_or(false), true);
	u64 since = keel::log_seq();
	expect_broken(t, p.vrh->getdesc(c2), *p.vrh, since, "head 9 out of range");

	RingPair q;
	ASSERT_OK(t, pair_init(t, q, 8, 64, true, false, 256));
	q.raw_desc(0, q.buf_da(0), 8, 0, 0);
	q.raw_post(0);
	ASSERT_EQ(t, q.vrh->getdesc(c1).value_or(false), true);
	q.raw16(q.layout().avail_idx(), 10);
	since = keel::log_seq();
	expect_broken(t, q.vrh->getdesc(c2), *q.vrh, since, "avail idx 10 is 9 ahead of 1");
}

void failed_doorbell_breaks_queue(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 256));
	int tok;
	Sg in[] = { { p.buf_da(0), 16 } };
	ASSERT_OK(t, p.vq->add_inbuf(in, &tok, GFP_KERNEL));
	p.fail_doorbell = true;
	u64 since = keel::log_seq();
	expect_broken(t, p.vq->kick(), *p.vq, since, "doorbell failed (-32)");
}

/* --- notifications --- */

void interrupt_runs_callback_only_with_work(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 256));
	EXPECT_FALSE(t, p.vq->interrupt());
	EXPECT_EQ(t, p.callbacks, 0u);
	int tok;
	Sg in[] = { { p.buf_da(0), 16 } };
	ASSERT_OK(t, p.vq->add_inbuf(in, &tok, GFP_KERNEL));
	VringhChainStorage<1, 1> c;
	ASSERT_EQ(t, p.vrh->getdesc(c).value_or(false), true);
	ASSERT_OK(t, p.vrh->add_used(c, 3));
	EXPECT_TRUE(t, p.vq->interrupt());
	EXPECT_EQ(t, p.callbacks, 1u);
}

/* One buffer through the ring: posted, used by the device, collected. */
static bool round_trip(Test &t, RingPair &p, void *tok)
{
	Sg in[] = { { p.buf_da(0), 16 } };
	VringhChainStorage<1, 1> c;
	bool ok = EXPECT_OK(t, p.vq->add_inbuf(in, tok, GFP_KERNEL)) &&
		  EXPECT_EQ(t, p.vrh->getdesc(c).value_or(false), true) &&
		  EXPECT_OK(t, p.vrh->add_used(c, 3));
	if (!ok)
		return false;
	auto b = p.vq->get_buf();
	return EXPECT_OK(t, b) && EXPECT_EQ(t, b.value().token, tok);
}

/*
 * interrupt() runs without the driver's lock, so it may pair the
 * last_used_idx of a get_buf() that just ran on another CPU with a
 * used->idx read before it: an index that looks behind. Modelled by
 * showing it an older used->idx. No reason to break the ring (it did:
 * "used idx 0 is 65535 ahead of 1").
 */
void interrupt_with_a_stale_used_idx_keeps_the_ring(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 256));
	int tok;
	ASSERT_TRUE(t, round_trip(t, p, &tok));
	size_t used_idx = p.layout().used_idx();
	u64 since = keel::log_seq();
	p.raw16(used_idx, 0);
	(void)p.vq->interrupt();
	p.raw16(used_idx, 1);
	EXPECT_FALSE(t, p.vq->is_broken());
	EXPECT_EQ(t, keel::log_seq(), since);
	EXPECT_TRUE(t, round_trip(t, p, &tok));
}

struct IrqStorm {
	RingPair *p;
	keel::Atomic<bool> stop{ false };
	keel::Atomic<u32> calls{ 0 };
};

int irq_storm_fn(void *arg)
{
	IrqStorm *s = static_cast<IrqStorm *>(arg);
	while (!s->stop.load() && !keel::Thread::should_stop()) {
		(void)s->p->vq->interrupt();
		s->calls.fetch_add(1, keel::MemoryOrder::Relaxed);
		keel::cpu_relax();
	}
	return 0;
}

/*
 * The same race for real: interrupts on one thread while another posts
 * and collects (ThreadSanitizer reported it as a data race on
 * last_used_idx). The ring must stay healthy throughout.
 */
void interrupt_concurrent_with_get_buf_keeps_the_ring(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 256, false));
	IrqStorm s;
	s.p = &p;
	auto th = keel::Thread::run(&irq_storm_fn, &s, "vq-irq-storm");
	ASSERT_OK(t, th);
	int tok;
	u32 i = 0;
	/* Runs until the other thread has had many tries, whatever the speeds. */
	while ((i < 2000 || s.calls.load(keel::MemoryOrder::Relaxed) < 2000) && i < 1000000 &&
	       round_trip(t, p, &tok))
		i++;
	s.stop.store(true);
	(void)th.value()->stop();
	EXPECT_FALSE(t, p.vq->is_broken());
	EXPECT_GE(t, i, 2000u);
}

/* The race enable_cb() closes: the device uses a buffer while callbacks are off. */
void enable_cb_reports_work_that_raced_in(Test &t)
{
	for (int event = 0; event < 2; event++) {
		RingPair p;
		ASSERT_OK(t, pair_init(t, p, 8, 64, true, event, 256));
		int tok;
		Sg in[] = { { p.buf_da(0), 16 } };
		ASSERT_OK(t, p.vq->add_inbuf(in, &tok, GFP_KERNEL));
		p.vq->disable_cb();
		VringhChainStorage<1, 1> c;
		ASSERT_EQ(t, p.vrh->getdesc(c).value_or(false), true);
		ASSERT_OK(t, p.vrh->add_used(c, 1));
		EXPECT_FALSE(t, p.vrh->need_notify());
		EXPECT_FALSE(t, p.vq->enable_cb());
		ASSERT_OK(t, p.vq->get_buf());
		EXPECT_TRUE(t, p.vq->enable_cb());
		/* Now enabled and empty: the next use must interrupt. */
		ASSERT_OK(t, p.vq->add_inbuf(in, &tok, GFP_KERNEL));
		ASSERT_EQ(t, p.vrh->getdesc(c).value_or(false), true);
		ASSERT_OK(t, p.vrh->add_used(c, 1));
		EXPECT_TRUE(t, p.vrh->need_notify());
	}
}

/* Device-side kick suppression: notify_enable() closes the same race for kicks. */
void notify_enable_reports_buffers_that_raced_in(Test &t)
{
	for (int event = 0; event < 2; event++) {
		RingPair p;
		ASSERT_OK(t, pair_init(t, p, 8, 64, true, event, 256));
		int tok;
		Sg in[] = { { p.buf_da(0), 16 } };
		p.vrh->notify_disable();
		ASSERT_OK(t, p.vq->add_inbuf(in, &tok, GFP_KERNEL));
		if (!event)
			EXPECT_FALSE(t, p.vq->kick_prepare());
		EXPECT_FALSE(t, p.vrh->notify_enable());
		VringhChainStorage<1, 1> c;
		ASSERT_EQ(t, p.vrh->getdesc(c).value_or(false), true);
		EXPECT_TRUE(t, p.vrh->notify_enable());
		ASSERT_OK(t, p.vq->add_inbuf(in, &tok, GFP_KERNEL));
		EXPECT_TRUE(t, p.vq->kick_prepare());
	}
}

/*
 * The usual consumer loop, "drain; while (!enable()) drain;", must end once
 * the peer broke the ring: both sides answer "nothing to wait for" (true)
 * on a broken ring and the caller checks is_broken(), as with Linux's
 * virtqueue_enable_cb(). Bounded here so that a regression fails instead
 * of hanging.
 */
void enable_loops_end_on_a_broken_ring(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 8, 64, true, false, 256));
	VringhChainStorage<2, 2> c;
	/* A hostile driver: avail idx far ahead of what it could have posted. */
	p.raw16(p.layout().avail_idx(), 9);
	EXPECT_ERR(t, p.vrh->getdesc(c), -EIO);
	ASSERT_TRUE(t, p.vrh->is_broken());
	u32 rounds = 0;
	while (!p.vrh->notify_enable() && rounds < 1000) {
		(void)p.vrh->getdesc(c);
		rounds++;
	}
	EXPECT_EQ(t, rounds, 0u);

	/* A hostile device: the same loop on the driver side. */
	RingPair q;
	ASSERT_OK(t, pair_init(t, q, 8, 64, true, false, 256));
	q.raw16(q.layout().used_idx(), 9);
	EXPECT_ERR(t, q.vq->get_buf(), -EIO);
	ASSERT_TRUE(t, q.vq->is_broken());
	rounds = 0;
	while (!q.vq->enable_cb() && rounds < 1000) {
		(void)q.vq->get_buf();
		rounds++;
	}
	EXPECT_EQ(t, rounds, 0u);
}

/*
 * The device side's ownership transfers on a ring that needs cache
 * maintenance: which ranges of the ring Vringh invalidates before it reads
 * what the driver wrote, and cleans after it writes what the driver reads.
 * The ring's window carries ShmCacheOps that log each call (OpLog: the
 * calls as offsets from the ring's first byte).
 */
struct OpLog {
	/* Enough for one phase of a case (each case resets n between phases). */
	static constexpr u32 MAX = 16;
	const u8 *ring = nullptr;
	u32 n = 0;
	bool clean[MAX] = {};
	size_t off[MAX] = {};
	size_t len[MAX] = {};
	const keel::ShmCacheOps ops{ &OpLog::on_clean, &OpLog::on_invalidate, this };

	void on(const void *p, size_t l, bool c)
	{
		if (n < MAX) {
			clean[n] = c;
			off[n] = size_t(static_cast<const u8 *>(p) - ring);
			len[n] = l;
		}
		n++;
	}
	static void on_clean(void *ctx, const void *p, size_t l)
	{
		static_cast<OpLog *>(ctx)->on(p, l, true);
	}
	static void on_invalidate(void *ctx, const void *p, size_t l)
	{
		static_cast<OpLog *>(ctx)->on(p, l, false);
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

/*
 * @p with one side replaced by one whose ring window logs into @log: the
 * device side, or the driver side when @driver.
 */
Result<void> logged_pair(Test &t, RingPair &p, OpLog &log, u32 num, bool driver = false)
{
	TRY(pair_init(t, p, num, 64, true, false, 1024));
	log.ring = p.mem;
	ShmRegion logged = p.ring.with_cache_ops(&log.ops);
	if (driver) {
		VqConfig vc;
		vc.name = "test-vq";
		vc.num = num;
		vc.align = 64;
		vc.ring = logged;
		vc.little_endian = true;
		vc.notify = test_notify;
		vc.callback = test_callback;
		vc.transport_priv = &p;
		p.vq = TRY(VirtQueue::create(vc, GFP_KERNEL));
		return keel::ok();
	}
	VringhConfig hc;
	hc.name = "test-vringh";
	hc.num = num;
	hc.align = 64;
	hc.ring = logged;
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
	RingPair p;
	ASSERT_OK(t, logged_pair(t, p, log, 4));
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
	RingPair p;
	ASSERT_OK(t, logged_pair(t, p, log, 4));
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

/* One 16-byte out buffer at @da through the ring and back; false on any fault. */
bool out_round_trip(Test &t, RingPair &p, u64 da, u32 len, int *tok)
{
	Sg sg{ da, len };
	EXPECT_OK(t, p.vq->add_outbuf(Span<const Sg>(&sg, 1), tok, GFP_KERNEL));
	VringhChainStorage<1, 1> c;
	bool got = p.vrh->getdesc(c).value_or(false);
	EXPECT_TRUE(t, got);
	if (!got)
		return false;
	EXPECT_EQ(t, c.read_len(), len);
	EXPECT_EQ(t, c.readable().data()[0].base(), p.buf(size_t(da - p.buf_da(0))));
	EXPECT_OK(t, p.vrh->add_used(c, 0));
	auto b = p.vq->get_buf();
	EXPECT_TRUE(t, b.is_ok() && b.value().token == tok);
	return b.is_ok() && b.value().token == tok;
}

/*
 * A buffer queued again as it was, in the same descriptor and avail slot,
 * leaves both unwritten: only avail->idx is stored and cleaned (a store of
 * the same value would take the lines from the device). A different
 * length is written.
 */
void requeued_buffer_leaves_its_descriptor_and_entry_unwritten(Test &t)
{
	OpLog log;
	RingPair p;
	ASSERT_OK(t, logged_pair(t, p, log, 4, true));
	const VringLayout &l = p.layout();
	int tok = 0;
	/* A lap of the ring: descriptor 0 each time, every slot once. */
	for (u32 i = 0; i < 4; i++)
		ASSERT_TRUE(t, out_round_trip(t, p, p.buf_da(0), 16, &tok));
	log.n = 0;
	ASSERT_TRUE(t, out_round_trip(t, p, p.buf_da(0), 16, &tok));
	EXPECT_EQ(t, log.touching(true, l.desc_at(0), sizeof(VringDesc)), 0u);
	EXPECT_EQ(t, log.touching(true, l.avail_ring(0), 2), 0u);
	EXPECT_EQ(t, log.count(true, l.avail_idx(), 2), 1u);
	/* Another length: the descriptor is written (and cleaned) again. */
	log.n = 0;
	ASSERT_TRUE(t, out_round_trip(t, p, p.buf_da(0), 24, &tok));
	EXPECT_EQ(t, log.count(true, l.desc_at(0), sizeof(VringDesc)), 1u);
	EXPECT_FALSE(t, p.vq->is_broken());
	EXPECT_FALSE(t, p.vrh->is_broken());
}

/*
 * The check that skips an unchanged descriptor reads the ring, not a
 * private copy: a descriptor and avail entry the device overwrote are
 * written again, and the device reads the buffer as queued.
 */
void descriptor_the_device_overwrote_is_written_again(Test &t)
{
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, 4, 64, true, false, 1024));
	const VringLayout &l = p.layout();
	int tok = 0;
	for (u32 i = 0; i < 4; i++)
		ASSERT_TRUE(t, out_round_trip(t, p, p.buf_da(0), 16, &tok));
	/* Slot 0 and descriptor 0 come next: the device scribbles on both. */
	p.raw_desc(0, p.buf_da(512), 999, VRING_DESC_F_WRITE, 3);
	p.raw16(l.avail_ring(0), 2);
	ASSERT_TRUE(t, out_round_trip(t, p, p.buf_da(0), 16, &tok));
	EXPECT_EQ(t, p.raw_read16(l.avail_ring(0)), 0u);
	EXPECT_FALSE(t, p.vq->is_broken());
	EXPECT_FALSE(t, p.vrh->is_broken());
}

const TestCase virtio_ring_cases[] = {
	KEEL_CASE(layout_matches_uapi_vring_init_and_vring_size),
	KEEL_CASE(layout_rejects_bad_num_and_align),
	KEEL_PARAM_CASE(create_refuses_a_size_that_breaks_the_rule, bad_size_gen),
	KEEL_CASE(create_rejects_short_or_misaligned_window),
	KEEL_CASE(outbuf_and_inbuf_round_trip),
	KEEL_CASE(sg_from_translates_cpu_pointers),
	KEEL_CASE(add_sgs_rejects_bad_arguments_without_breaking),
	KEEL_CASE(add_used_rejects_bad_arguments_without_breaking),
	KEEL_CASE(legacy_big_endian_ring_bytes),
	KEEL_PARAM_CASE(add_sgs_writes_each_descriptor_of_a_chain, chain_gen),
	KEEL_CASE(indices_wrap_past_16_bits),
	KEEL_CASE(detach_unused_buf_returns_every_token),
	KEEL_CASE(device_refuses_avail_head_out_of_range),
	KEEL_CASE(device_refuses_next_out_of_range),
	KEEL_CASE(device_refuses_loop_in_chain),
	KEEL_CASE(device_refuses_chain_longer_than_num),
	KEEL_CASE(device_refuses_desc_outside_region),
	KEEL_CASE(device_refuses_addr_len_wrap),
	KEEL_CASE(device_refuses_avail_idx_jump),
	KEEL_CASE(device_refuses_indirect_desc),
	KEEL_CASE(device_refuses_readable_after_writable),
	KEEL_CASE(device_refuses_head_reposted_while_in_use),
	KEEL_CASE(device_refuses_more_segments_than_storage),
	KEEL_PARAM_CASE(device_refuses_a_chain_past_its_segment_limits, seg_limit_gen),
	KEEL_CASE(driver_refuses_used_id_out_of_range),
	KEEL_CASE(driver_refuses_used_id_not_outstanding),
	KEEL_CASE(driver_refuses_used_len_larger_than_buffer),
	KEEL_CASE(driver_refuses_used_idx_jump),
	KEEL_CASE(used_entries_are_published_once_per_batch),
	KEEL_CASE(device_checks_each_entry_of_a_loaded_batch),
	KEEL_CASE(failed_doorbell_breaks_queue),
	KEEL_CASE(interrupt_runs_callback_only_with_work),
	KEEL_CASE(interrupt_with_a_stale_used_idx_keeps_the_ring),
	KEEL_CASE(interrupt_concurrent_with_get_buf_keeps_the_ring),
	KEEL_CASE(enable_cb_reports_work_that_raced_in),
	KEEL_CASE(notify_enable_reports_buffers_that_raced_in),
	KEEL_CASE(enable_loops_end_on_a_broken_ring),
	KEEL_CASE(avail_entries_are_invalidated_with_the_idx_that_published_them),
	KEEL_CASE(used_element_is_cleaned_once_per_push),
	KEEL_CASE(requeued_buffer_leaves_its_descriptor_and_entry_unwritten),
	KEEL_CASE(descriptor_the_device_overwrote_is_written_again),
	{},
};

const TestSuite virtio_ring_suite = {
	.name = "virtio_ring",
	.cases = virtio_ring_cases,
	.init = nullptr,
	.exit = nullptr,
	.suite_init = suite_init,
	.suite_exit = suite_exit,
};

} // namespace

KEEL_TEST_SUITE(virtio_ring_suite);
