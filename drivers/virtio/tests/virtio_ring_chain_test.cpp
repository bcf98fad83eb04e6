// SPDX-License-Identifier: GPL-2.0
/*
 * The descriptors add_sgs() writes, byte for byte: for chains of several
 * shapes (readable and writable segment counts) in both byte orders, every
 * descriptor of the chain carries its segment's address and length,
 * VRING_DESC_F_NEXT on all but the last, VRING_DESC_F_WRITE on the
 * writable ones, a next link to the following one and 0 on the last; the
 * avail ring publishes the head; and the chain's descriptors go back to
 * the free list when the device returns it.
 */
#include "vring_test_util.h"

namespace {

using namespace virtio;
using namespace virtio::test;
using keel::test::Test;
using keel::test::TestCase;
using keel::test::TestSuite;

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
	ASSERT_OK(t, p.vq->add_sgs(keel::Span<const Sg>(out, s.out), keel::Span<const Sg>(in, s.in),
				   &tok, GFP_KERNEL));
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

const TestCase virtio_ring_chain_cases[] = {
	KEEL_PARAM_CASE(add_sgs_writes_each_descriptor_of_a_chain, chain_gen),
	{},
};

const TestSuite virtio_ring_chain_suite = {
	.name = "virtio_ring_chain",
	.cases = virtio_ring_chain_cases,
};

} // namespace

KEEL_TEST_SUITE(virtio_ring_chain_suite);
