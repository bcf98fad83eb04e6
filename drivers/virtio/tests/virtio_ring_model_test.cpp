// SPDX-License-Identifier: GPL-2.0
/*
 * Randomised model test of the split ring: the driver side (VirtQueue) and
 * the device side (Vringh) share one ring and are driven by random
 * operations from a seeded xorshift PRNG (the seed is printed), checked
 * against a reference model:
 *  - every chain reaches the device in avail order, with its segments'
 *    lengths and bytes; every used buffer returns to the driver in used
 *    order with its token, its length and the bytes the device wrote:
 *    nothing lost, duplicated or reordered;
 *  - every kick_prepare() and need_notify() decision follows the
 *    suppression rules (flags, or event indices), computed independently
 *    from the model's indices, and no wakeup is lost after enable_cb() or
 *    notify_enable() reported an empty ring.
 * In both byte orders (legacy big endian simulated on a little-endian
 * host) and with and without VIRTIO_RING_F_EVENT_IDX.
 */
#include "vring_test_util.h"

namespace {

using namespace virtio;
using namespace virtio::test;
using keel::test::Test;
using keel::test::TestCase;
using keel::test::TestSuite;

constexpr u32 MAX_NUM = 64;
constexpr u32 MAX_SEG = 3;
constexpr u32 SEG_BYTES = 32;
constexpr u32 OPS = 40000;

struct Params {
	u32 num;
	bool le;
	bool event;
	u64 seed;
};
const Params params[] = {
	{ 8, true, false, 0x1234 },  { 8, true, true, 0x2345 },	 { 8, false, false, 0x3456 },
	{ 8, false, true, 0x4567 },  { 64, true, true, 0x5678 }, { 64, false, false, 0x6789 },
	{ 1, true, true, 0x789a },   { 2, false, true, 0x89ab }, { 16, true, false, 0x9abc },
	{ 16, false, true, 0xabcd },
};
void describe(const Params &p, char *desc)
{
	keel::snprintf(desc, KEEL_TEST_DESC_LEN, "num %u %s %s seed 0x%llx", p.num,
		       p.le ? "le" : "legacy-be", p.event ? "event_idx" : "flags",
		       (unsigned long long)p.seed);
}
KEEL_PARAMS(model_gen, params, describe)

/* One posted buffer (the token the driver gets back). */
struct Rec {
	bool live;
	u32 serial;
	u32 nout, nin;
	u32 out_len[MAX_SEG], in_len[MAX_SEG];
	u32 in_total;
};

u8 out_byte(u32 serial, u32 seg, u32 j)
{
	return u8(serial * 31 + seg * 7 + j);
}
u8 in_byte(u32 serial, u32 j)
{
	return u8((serial * 17 + j) ^ 0x5a);
}

struct Model {
	/* Indices as the spec defines them, kept by the model itself. */
	u16 avail_idx = 0, last_avail = 0, used_idx = 0, last_used = 0;
	/* Driver suppression state. */
	bool cb_enabled = true;
	u16 used_event = 0;
	u16 kick_old = 0;
	/* Device suppression state. */
	bool kicks_enabled = true;
	u16 avail_event = 0;
	u16 signalled = 0;
	u32 completed = 0;
	/*
	 * No-lost-wakeup watchdogs: after enable_cb() (notify_enable()) reported
	 * an empty ring, the first buffer used (made available) afterwards must
	 * interrupt (kick).
	 */
	bool irq_armed = false, used_since_arm = false;
	bool kick_armed = false, added_since_arm = false;
	/* FIFOs of record indices. */
	u32 avail_fifo[MAX_NUM], avail_head = 0, avail_count = 0;
	u32 used_fifo[MAX_NUM], used_len[MAX_NUM], used_head = 0, used_count = 0;
	/* Device-held chains: record index per storage slot. */
	bool held[MAX_NUM] = {};
	u32 held_rec[MAX_NUM];
	u32 nheld = 0;
	Rec recs[MAX_NUM] = {};
	VringhChainStorage<MAX_SEG, MAX_SEG> chains[MAX_NUM];
	u32 serial = 0;
	u32 kicks = 0, irqs = 0, gets = 0;
};

struct Ctx {
	Test &t;
	RingPair &p;
	Model &m;
	XorShift &rng;
	u32 num;
	bool event;
};

bool need_event(u16 ev, u16 new_idx, u16 old)
{
	return u16(new_idx - ev - 1) < u16(new_idx - old);
}

bool op_add(Ctx &c)
{
	Model &m = c.m;
	u32 r;
	for (r = 0; r < c.num && m.recs[r].live; r++)
		;
	if (r == c.num)
		return true; /* every head is outstanding */
	u32 nout = c.rng.below(MAX_SEG + 1), nin = c.rng.below(MAX_SEG + 1);
	if (nout + nin == 0)
		nout = 1;
	Sg out[MAX_SEG], in[MAX_SEG];
	Rec rec = { true, m.serial + 1, nout, nin, {}, {}, 0 };
	for (u32 k = 0; k < nout; k++) {
		rec.out_len[k] = 1 + c.rng.below(SEG_BYTES);
		size_t off = (size_t(r) * 2 * MAX_SEG + k) * SEG_BYTES;
		for (u32 j = 0; j < rec.out_len[k]; j++)
			c.p.buf(off)[j] = out_byte(rec.serial, k, j);
		out[k] = { c.p.buf_da(off), rec.out_len[k] };
	}
	for (u32 k = 0; k < nin; k++) {
		rec.in_len[k] = 1 + c.rng.below(SEG_BYTES);
		rec.in_total += rec.in_len[k];
		size_t off = (size_t(r) * 2 * MAX_SEG + MAX_SEG + k) * SEG_BYTES;
		in[k] = { c.p.buf_da(off), rec.in_len[k] };
	}
	u32 free_before = c.p.vq->num_free();
	auto res = c.p.vq->add_sgs({ out, nout }, { in, nin }, &m.recs[r], GFP_KERNEL);
	if (nout + nin > c.num)
		return EXPECT_ERR(c.t, res, -EINVAL);
	if (free_before < nout + nin)
		return EXPECT_ERR(c.t, res, -ENOSPC);
	if (!EXPECT_OK(c.t, res) || !EXPECT_EQ(c.t, c.p.vq->num_free(), free_before - nout - nin))
		return false;
	m.serial++;
	m.recs[r] = rec;
	m.avail_fifo[(m.avail_head + m.avail_count++) % MAX_NUM] = r;
	m.avail_idx++;
	m.added_since_arm = true;
	return true;
}

bool op_kick(Ctx &c)
{
	Model &m = c.m;
	bool want = c.event ? need_event(m.avail_event, m.avail_idx, m.kick_old) : m.kicks_enabled;
	m.kick_old = m.avail_idx;
	bool got = c.p.vq->kick_prepare();
	if (!EXPECT_EQ(c.t, got, want))
		return false;
	if (m.kick_armed && m.added_since_arm) {
		if (!EXPECT_TRUE(c.t, got))
			return false;
		m.kick_armed = false;
	}
	if (got) {
		m.kicks++;
		return EXPECT_OK(c.t, c.p.vq->notify());
	}
	return true;
}

bool check_chain(Ctx &c, const VringhChain &ch, const Rec &rec)
{
	if (!EXPECT_EQ(c.t, ch.readable().size(), rec.nout) ||
	    !EXPECT_EQ(c.t, ch.writable().size(), rec.nin))
		return false;
	u32 in_total = 0;
	for (u32 k = 0; k < rec.nout; k++) {
		const ShmRegion &seg = ch.readable()[k];
		if (!EXPECT_EQ(c.t, seg.size(), rec.out_len[k]))
			return false;
		for (u32 j = 0; j < rec.out_len[k]; j++)
			if (!EXPECT_EQ(c.t, seg.base()[j], out_byte(rec.serial, k, j)))
				return false;
	}
	for (u32 k = 0; k < rec.nin; k++) {
		if (!EXPECT_EQ(c.t, ch.writable()[k].size(), rec.in_len[k]))
			return false;
		in_total += rec.in_len[k];
	}
	return EXPECT_EQ(c.t, ch.write_len(), in_total);
}

bool op_take(Ctx &c)
{
	Model &m = c.m;
	u32 slot;
	for (slot = 0; slot < c.num && m.held[slot]; slot++)
		;
	if (slot == c.num)
		return true;
	auto res = c.p.vrh->getdesc(m.chains[slot]);
	if (!EXPECT_OK(c.t, res))
		return false;
	if (!res.value())
		return EXPECT_EQ(c.t, m.avail_count, 0u);
	if (!EXPECT_GT(c.t, m.avail_count, 0u))
		return false;
	u32 r = m.avail_fifo[m.avail_head];
	m.avail_head = (m.avail_head + 1) % MAX_NUM;
	m.avail_count--;
	m.last_avail++;
	m.held[slot] = true;
	m.held_rec[slot] = r;
	m.nheld++;
	return check_chain(c, m.chains[slot], m.recs[r]);
}

bool op_complete(Ctx &c)
{
	Model &m = c.m;
	if (!m.nheld)
		return true;
	u32 pick = c.rng.below(m.nheld), slot;
	for (slot = 0;; slot++)
		if (m.held[slot] && pick-- == 0)
			break;
	const Rec &rec = m.recs[m.held_rec[slot]];
	u32 len = c.rng.below(rec.in_total + 1);
	u8 bytes[MAX_SEG * SEG_BYTES];
	for (u32 j = 0; j < len; j++)
		bytes[j] = in_byte(rec.serial, j);
	if (!EXPECT_EQ(c.t, m.chains[slot].push(bytes, len), len))
		return false;
	if (!EXPECT_OK(c.t, c.p.vrh->add_used(m.chains[slot], len)))
		return false;
	m.used_fifo[(m.used_head + m.used_count) % MAX_NUM] = m.held_rec[slot];
	m.used_len[(m.used_head + m.used_count) % MAX_NUM] = len;
	m.used_count++;
	m.held[slot] = false;
	m.nheld--;
	m.used_idx++;
	m.completed++;
	m.used_since_arm = true;
	return true;
}

bool op_need_notify(Ctx &c)
{
	Model &m = c.m;
	bool want = false;
	if (m.completed)
		want = c.event ? need_event(m.used_event, m.used_idx, m.signalled) : m.cb_enabled;
	bool got = c.p.vrh->need_notify();
	if (!EXPECT_EQ(c.t, got, want))
		return false;
	if (m.irq_armed && m.used_since_arm) {
		if (!EXPECT_TRUE(c.t, got))
			return false;
		m.irq_armed = false;
	}
	if (m.completed) {
		m.signalled = m.used_idx;
		m.completed = 0;
	}
	if (got)
		m.irqs++;
	/* The handler sees work exactly when used buffers are pending (a late interrupt may find none). */
	return EXPECT_EQ(c.t, c.p.vq->more_used(), m.used_count > 0);
}

bool op_get_buf(Ctx &c)
{
	Model &m = c.m;
	auto res = c.p.vq->get_buf();
	if (!EXPECT_OK(c.t, res))
		return false;
	UsedBuf b = res.value();
	if (!m.used_count)
		return EXPECT_FALSE(c.t, bool(b));
	u32 r = m.used_fifo[m.used_head], len = m.used_len[m.used_head];
	m.used_head = (m.used_head + 1) % MAX_NUM;
	m.used_count--;
	Rec &rec = m.recs[r];
	if (!EXPECT_EQ(c.t, b.token, (void *)&rec) || !EXPECT_EQ(c.t, b.len, len))
		return false;
	/* The bytes the device wrote, across the writable segments. */
	u32 j = 0;
	for (u32 k = 0; k < rec.nin && j < len; k++) {
		const u8 *seg = c.p.buf((size_t(r) * 2 * MAX_SEG + MAX_SEG + k) * SEG_BYTES);
		for (u32 i = 0; i < rec.in_len[k] && j < len; i++, j++)
			if (!EXPECT_EQ(c.t, seg[i], in_byte(rec.serial, j)))
				return false;
	}
	rec.live = false;
	m.last_used++;
	m.gets++;
	m.irq_armed = false;
	if (m.cb_enabled)
		m.used_event = m.last_used;
	return true;
}

bool op_callbacks(Ctx &c)
{
	Model &m = c.m;
	switch (c.rng.below(3)) {
	case 0:
		if (m.cb_enabled && c.event)
			m.used_event = u16(m.last_used - 1);
		m.cb_enabled = false;
		m.irq_armed = false;
		c.p.vq->disable_cb();
		return true;
	case 1: {
		m.cb_enabled = true;
		m.used_event = m.last_used;
		bool want = m.used_idx == m.last_used;
		bool got = c.p.vq->enable_cb();
		m.irq_armed = got;
		m.used_since_arm = false;
		return EXPECT_EQ(c.t, got, want);
	}
	default: {
		m.cb_enabled = true;
		u16 bufs = u16(u16(m.avail_idx - m.last_used) * 3 / 4);
		m.used_event = u16(m.last_used + bufs);
		bool want = !(u16(m.used_idx - m.last_used) > bufs);
		m.irq_armed = false;
		return EXPECT_EQ(c.t, c.p.vq->enable_cb_delayed(), want);
	}
	}
}

bool op_kicks(Ctx &c)
{
	Model &m = c.m;
	if (c.rng.below(2)) {
		/* With event idx, avail_event moves one behind the next chain taken. */
		if (c.event)
			m.avail_event = u16(m.last_avail - 1);
		else
			m.kicks_enabled = false;
		m.kick_armed = false;
		c.p.vrh->notify_disable();
		return true;
	}
	if (c.event)
		m.avail_event = m.last_avail;
	else
		m.kicks_enabled = true;
	bool want = m.avail_idx == m.last_avail;
	bool got = c.p.vrh->notify_enable();
	m.kick_armed = got;
	m.added_since_arm = false;
	return EXPECT_EQ(c.t, got, want);
}

bool step(Ctx &c)
{
	u32 op = c.rng.below(100);
#ifdef MODEL_TRACE
	c.t.info("op %u avail %u last_avail %u used %u last_used %u kick_old %u ae %u ue %u sig %u "
		 "compl %u ka %d ia %d",
		 op, c.m.avail_idx, c.m.last_avail, c.m.used_idx, c.m.last_used, c.m.kick_old,
		 c.m.avail_event, c.m.used_event, c.m.signalled, c.m.completed, c.m.kick_armed,
		 c.m.irq_armed);
#endif
	if (op < 25)
		return op_add(c);
	if (op < 35)
		return op_kick(c);
	if (op < 52)
		return op_take(c);
	if (op < 70)
		return op_complete(c);
	if (op < 78)
		return op_need_notify(c);
	if (op < 94)
		return op_get_buf(c);
	if (op < 97)
		return op_callbacks(c);
	return op_kicks(c);
}

/* Drain: the device takes and completes everything, the driver collects it all. */
bool drain(Ctx &c)
{
	for (u32 guard = 0; guard < 16 * MAX_NUM; guard++) {
		if (!c.m.avail_count && !c.m.nheld && !c.m.used_count)
			return true;
		if (!op_take(c) || !op_complete(c) || !op_need_notify(c) || !op_get_buf(c))
			return false;
	}
	return EXPECT_FAIL(c.t, "drain did not finish"), false;
}

void ring_matches_reference_model(Test &t)
{
	const Params &prm = t.param<Params>();
	t.info("seed 0x%llx num %u %s %s", (unsigned long long)prm.seed, prm.num,
	       prm.le ? "le" : "legacy-be", prm.event ? "event_idx" : "flags");
	RingPair p;
	ASSERT_OK(t, pair_init(t, p, prm.num, 64, prm.le, prm.event,
			       size_t(prm.num) * 2 * MAX_SEG * SEG_BYTES));
	auto mr = keel::make_unique<Model>(GFP_KERNEL);
	ASSERT_OK(t, mr);
	Model &m = *mr.value();
	XorShift rng(prm.seed);
	Ctx c{ t, p, m, rng, prm.num, prm.event };
	for (u32 i = 0; i < OPS; i++) {
		if (!step(c)) {
			t.info("failed at op %u (seed 0x%llx)", i, (unsigned long long)prm.seed);
			return;
		}
	}
	ASSERT_TRUE(t, drain(c));
	EXPECT_EQ(t, p.vq->num_free(), prm.num);
	EXPECT_FALSE(t, p.vq->is_broken());
	EXPECT_FALSE(t, p.vrh->is_broken());
	EXPECT_EQ(t, p.kicks, m.kicks);
	EXPECT_EQ(t, m.gets, m.serial);
	t.info("%u buffers, %u kicks, %u interrupts", m.gets, m.kicks, m.irqs);
}

const TestCase virtio_ring_model_cases[] = {
	KEEL_PARAM_CASE(ring_matches_reference_model, model_gen),
	{},
};

const TestSuite virtio_ring_model_suite = {
	.name = "virtio_ring_model",
	.cases = virtio_ring_model_cases,
};

} // namespace

KEEL_TEST_SUITE(virtio_ring_model_suite);
