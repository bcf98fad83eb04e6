/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test fixture shared by the virtqueue suites: one shared window holding a
 * split ring and a buffer area, with the driver side (VirtQueue) and the
 * device side (Vringh) on it, plus raw writers playing a hostile peer.
 */
#ifndef DRIVERS_VIRTIO_TESTS_VRING_TEST_UTIL_H
#define DRIVERS_VIRTIO_TESTS_VRING_TEST_UTIL_H

#include <keel/log.h>
#include <keel/test.h>
#include <virtio/virtio_ring.h>

namespace virtio::test {

using keel::Result;
using keel::ShmRegion;
using keel::UniquePtr;

/* The device address of byte 0 of the window: not 0, so translation is exercised. */
inline constexpr u64 TEST_DA = 0x40000000;

struct RingPair {
	u8 *mem = nullptr;
	ShmRegion region; /* the whole window */
	ShmRegion ring;	  /* the ring, at offset 0 */
	size_t buf_off = 0;
	size_t buf_size = 0;
	u32 num = 0;
	bool le = true;
	bool event = false;
	UniquePtr<VirtQueue> vq;
	UniquePtr<Vringh> vrh;
	u32 kicks = 0;
	u32 callbacks = 0;
	bool fail_doorbell = false;

	u64 buf_da(size_t off) const { return TEST_DA + buf_off + off; }
	u8 *buf(size_t off) const { return mem + buf_off + off; }
	const VringLayout &layout() const { return vq->layout(); }

	/* Raw peer writes (a hostile or scripted peer), in the ring's byte order. */
	void raw16(size_t off, u16 v) const { (void)ring.write(off, keel::cpu_to_virtio16(le, v)); }
	u16 raw_read16(size_t off) const
	{
		return keel::virtio16_to_cpu(
			le, ring.read<keel::virtio16>(off).value_or(keel::virtio16()));
	}
	void raw_desc(u16 i, u64 addr, u32 len, u16 flags, u16 next) const
	{
		VringDesc d;
		d.addr = keel::cpu_to_virtio64(le, addr);
		d.len = keel::cpu_to_virtio32(le, len);
		d.flags = keel::cpu_to_virtio16(le, flags);
		d.next = keel::cpu_to_virtio16(le, next);
		(void)ring.write(layout().desc_at(i), d);
	}
	/* The driver publishing @head in the next avail slot. */
	void raw_post(u16 head) const
	{
		u16 idx = raw_read16(layout().avail_idx());
		raw16(layout().avail_ring(idx & (num - 1)), head);
		raw16(layout().avail_idx(), u16(idx + 1));
	}
	/* The device publishing a used element. */
	void raw_used(u32 id, u32 len) const
	{
		u16 idx = raw_read16(layout().used_idx());
		VringUsedElem e;
		e.id = keel::cpu_to_virtio32(le, id);
		e.len = keel::cpu_to_virtio32(le, len);
		(void)ring.write(layout().used_ring(idx & (num - 1)), e.id);
		(void)ring.write(layout().used_ring(idx & (num - 1)) + 4, e.len);
		raw16(layout().used_idx(), u16(idx + 1));
	}
};

inline Result<void> test_notify(VirtQueue &vq)
{
	RingPair *p = vq.transport_priv<RingPair>();
	if (p->fail_doorbell)
		return keel::err(-EPIPE);
	p->kicks++;
	return keel::ok();
}

inline void test_callback(VirtQueue &vq)
{
	vq.transport_priv<RingPair>()->callbacks++;
}

/*
 * pair_init() - a window of ring + @buf_size bytes, both sides on it.
 * @callback: give the driver side a callback (else it asks for no interrupts).
 */
inline Result<void> pair_init(keel::test::Test &t, RingPair &p, u32 num, u32 align, bool le,
			      bool event, size_t buf_size, bool callback = true)
{
	size_t bytes = TRY(VringLayout::compute(num, align)).size;
	size_t ring_bytes = keel::align_up(bytes, size_t(64));
	size_t size = ring_bytes + buf_size;
	p.mem = static_cast<u8 *>(t.alloc(size));
	if (!p.mem)
		return keel::err(-ENOMEM);
	p.region = ShmRegion(p.mem, size, TEST_DA);
	p.ring = TRY(p.region.sub(0, bytes));
	p.buf_off = ring_bytes;
	p.buf_size = buf_size;
	p.num = num;
	p.le = le;
	p.event = event;

	VqConfig vc;
	vc.name = "test-vq";
	vc.num = num;
	vc.align = align;
	vc.ring = p.ring;
	vc.little_endian = le;
	vc.event_idx = event;
	vc.notify = test_notify;
	vc.callback = callback ? test_callback : nullptr;
	vc.transport_priv = &p;
	p.vq = TRY(VirtQueue::create(vc, GFP_KERNEL));

	VringhConfig hc;
	hc.name = "test-vringh";
	hc.num = num;
	hc.align = align;
	hc.ring = p.ring;
	hc.mem = p.region;
	hc.little_endian = le;
	hc.event_idx = event;
	p.vrh = TRY(Vringh::create(hc, GFP_KERNEL));
	return keel::ok();
}

/* xorshift64*: the model test's PRNG (seeded, printed, reproducible). */
struct XorShift {
	u64 s;
	explicit XorShift(u64 seed) : s(seed ? seed : 0x9E3779B97F4A7C15ull) {}
	u64 next()
	{
		s ^= s >> 12;
		s ^= s << 25;
		s ^= s >> 27;
		return s * 0x2545F4914F6CDD1Dull;
	}
	/* Uniform-enough in [0, n). */
	u32 below(u32 n) { return n ? u32(next() >> 32) % n : 0; }
};

} // namespace virtio::test

#endif
