// SPDX-License-Identifier: GPL-2.0
/*
 * Split virtqueue, device side (the firmware's role; Linux
 * drivers/vhost/vringh.c). The driver that wrote the ring is untrusted:
 * every head, next index, flag, address and length is loaded once, checked
 * and only then used; chains are walked with a bound (num) and a visited
 * set (loops), and every address is translated through the shared region.
 * Indirect descriptors are not negotiated and refused.
 */
#include <keel/barrier.h>
#include <keel/string.h>
#include <virtio/virtio_ring.h>

#include "vring_internal.h"

namespace virtio {

using keel::cpu_to_virtio16;
using keel::cpu_to_virtio32;
using keel::err;
using keel::ok;
using keel::UniqueArray;
using keel::UniquePtr;
using keel::virtio16_to_cpu;
using keel::virtio32_to_cpu;
using keel::virtio64_to_cpu;

/* --- VringhChain --- */

void VringhChain::reset()
{
	m_head = 0;
	m_valid = false;
	m_nr_rd = m_nr_wr = 0;
	m_rd_len = m_wr_len = 0;
	m_rd_seg = m_wr_seg = 0;
	m_rd_off = m_wr_off = 0;
	m_wr_done = 0;
}

/*
 * Moves up to @len bytes through the segments @segs[0..@nr) from the cursor
 * (@seg, @off) on, and advances the cursor; @copy(segment, offset in it,
 * offset in the caller's buffer, n) moves n bytes. Stops early if a copy
 * fails (it cannot inside a chain getdesc() checked).
 */
template <typename Copy>
static size_t walk_segments(keel::Span<ShmRegion> segs, u16 nr, u16 &seg, size_t &off, size_t len,
			    Copy copy)
{
	size_t done = 0;
	while (done < len && seg < nr) {
		const ShmRegion &s = segs[seg];
		size_t n = keel::min(len - done, s.size() - off);
		if (copy(s, off, done, n).is_error())
			break;
		done += n;
		off += n;
		if (off == s.size()) {
			seg++;
			off = 0;
		}
	}
	return done;
}

size_t VringhChain::pull(void *dst, size_t len)
{
	u8 *d = static_cast<u8 *>(dst);
	return walk_segments(m_rd_store, m_nr_rd, m_rd_seg, m_rd_off, len,
			     [d](const ShmRegion &s, size_t off, size_t at, size_t n) {
				     return s.copy_from(d + at, off, n);
			     });
}

size_t VringhChain::push(const void *src, size_t len)
{
	const u8 *p = static_cast<const u8 *>(src);
	size_t done = walk_segments(m_wr_store, m_nr_wr, m_wr_seg, m_wr_off, len,
				    [p](const ShmRegion &s, size_t off, size_t at, size_t n) {
					    return s.copy_to(off, p + at, n);
				    });
	/* Bounded by write_len(), which fits in u32. */
	m_wr_done += u32(done);
	return done;
}

/* --- Vringh --- */

Vringh::Vringh(const VringhConfig &cfg, const VringLayout &layout)
    : m_layout(layout), m_ring(cfg.ring), m_mem(cfg.mem), m_name(cfg.name ? cfg.name : "vringh"),
      m_dev(cfg.dev), m_le(cfg.little_endian), m_event(cfg.event_idx)
{
}

Result<UniquePtr<Vringh>> Vringh::create(const VringhConfig &cfg, keel::Gfp gfp)
{
	auto lr = VringLayout::compute(cfg.num, cfg.align);
	if (lr.is_error()) {
		dev_err(cfg.dev, "%s: bad ring size: num %u align %u",
			cfg.name ? cfg.name : "vringh", cfg.num, cfg.align);
		return lr.error();
	}
	VringLayout layout = lr.value();
	if (!cfg.ring.valid() || cfg.ring.size() < layout.size || !cfg.mem.valid())
		return err(-EINVAL);
	if (reinterpret_cast<keel::uintptr_t>(cfg.ring.base()) % VRING_DESC_ALIGN_SIZE)
		return err(-EINVAL);

	size_t words = keel::div_round_up(size_t(layout.num), size_t(64));
	auto outstanding = TRY(UniqueArray<u64>::create(words, gfp));
	auto visited = TRY(UniqueArray<u64>::create(words, gfp));
	auto chain = TRY(UniqueArray<u16>::create(layout.num, gfp));
	Vringh *raw = new (gfp) Vringh(cfg, layout);
	if (!raw)
		return err(-ENOMEM);
	UniquePtr<Vringh> vrh(raw);
	vrh->m_ring = TRY(cfg.ring.sub(0, layout.size));
	vrh->m_outstanding = keel::move(outstanding);
	vrh->m_visited = keel::move(visited);
	vrh->m_chain = keel::move(chain);
	return vrh;
}

/*
 * The ring accessors. Every offset comes from the layout and our own
 * indices (masked by num, or checked against it), and create() took the
 * window as a sub-window of exactly the layout's size: so no access checks
 * it again. What the driver wrote is checked after it is loaded.
 */
__always_inline u16 Vringh::get16(size_t off)
{
	return virtio16_to_cpu(m_le, m_ring.peer_read_unchecked<keel::virtio16>(off));
}

__always_inline void Vringh::put16(size_t off, u16 v)
{
	m_ring.peer_write_unchecked(off, cpu_to_virtio16(m_le, v));
}

/*
 * avail->idx is loaded (and checked to be at most num ahead) only once the
 * chains of the last load are taken (avail_pending()); the read barrier
 * after a load orders the ring entries and descriptors it publishes, also
 * for the later calls that take them without a load.
 */
Result<u16> Vringh::load_avail_idx()
{
	u16 idx = get16(m_layout.avail_idx());
	u16 ahead = TRY(idx_ahead(m_dev, m_name, "avail", idx, m_last_avail_idx, m_layout.num));
	if (ahead) {
		m_avail_idx_seen = idx;
		/* Read the ring entries and descriptors only after the avail->idx publishing them. */
		keel::virt_rmb();
		KEEL_TSAN_FENCE(__ATOMIC_ACQUIRE);
		invalidate_avail(m_last_avail_idx, ahead);
	}
	return ahead;
}

/*
 * The ownership transfer of the avail entries [@from, @from + @n) that
 * one avail->idx published: invalidated once per load (at most two
 * ranges, the ring wraps), then read by getdesc() without maintenance.
 * The driver does not write them again before we return their chains.
 */
void Vringh::invalidate_avail(u16 from, u16 n)
{
	u32 mask = m_layout.num - 1;
	u32 first = from & mask;
	u32 run = keel::min<u32>(n, m_layout.num - first);
	m_ring.invalidate_unchecked(m_layout.avail_ring(first), 2 * size_t(run));
	if (run < n)
		m_ring.invalidate_unchecked(m_layout.avail_ring(0), 2 * size_t(n - run));
}

/*
 * One checked descriptor into @chain, its length added to @rd or @wr;
 * readable ones must all come first (virtio 2.7.4.2). Inlined into the
 * walk: the descriptor is already a private copy, and only the failure
 * paths (cold) call out.
 */
__always_inline Result<void> Vringh::add_segment(u16 i, const VringDesc &d, VringhChain &chain,
						 u64 &rd, u64 &wr)
{
	u16 flags = virtio16_to_cpu(m_le, d.flags);
	u64 addr = virtio64_to_cpu(m_le, d.addr);
	u32 len = virtio32_to_cpu(m_le, d.len);

	if (unlikely(flags & VRING_DESC_F_INDIRECT)) {
		bad_ring(m_dev, m_name, "desc %u: indirect descriptor (not negotiated)", i);
		return err(-EIO);
	}
	Result<ShmRegion> seg = m_mem.da_sub(addr, len);
	if (unlikely(seg.is_error())) {
		bad_ring(m_dev, m_name, "desc %u: addr 0x%llx len %u outside the shared region", i,
			 (unsigned long long)addr, len);
		return err(-EIO);
	}
	bool write = flags & VRING_DESC_F_WRITE;
	if (unlikely(!write && chain.m_nr_wr)) {
		bad_ring(m_dev, m_name, "desc %u: readable after writable", i);
		return err(-EIO);
	}
	/*
	 * The segment joins the readable or the writable list: one rule for
	 * both, called with each list's own total and count (so that neither
	 * has its address taken in the walk).
	 */
	auto append = [&](u64 &total, u16 &nr, keel::Span<ShmRegion> store) -> Result<void> {
		total += len;
		if (unlikely(total > KEEL_U32_MAX)) {
			bad_ring(m_dev, m_name, "desc %u: chain longer than 4 GiB", i);
			return err(-EIO);
		}
		if (unlikely(nr >= store.size())) {
			bad_ring(m_dev, m_name, "desc %u: more than %zu %s segments", i,
				 store.size(), write ? "writable" : "readable");
			return err(-EIO);
		}
		/* nr < store.size(): checked just above. */
		store.data()[nr++] = seg.value();
		return ok();
	};
	if (write)
		return append(wr, chain.m_nr_wr, chain.m_wr_store);
	TRY(append(rd, chain.m_nr_rd, chain.m_rd_store));
	/* The driver handed these bytes over: drop stale lines before reading them. */
	if (len)
		seg.value().invalidate_unchecked(0, len);
	return ok();
}

/*
 * The descriptor at @off of the table (inside the window, 16-byte
 * aligned): loaded as the driver side stores it, two untorn 8-byte words
 * after one invalidate, into a private copy.
 */
__always_inline VringDesc Vringh::read_desc(size_t off) const
{
	static_assert(sizeof(VringDesc) == 16);
	m_ring.invalidate_unchecked(off, sizeof(VringDesc));
	struct Words {
		u64 w[2];
	} raw{ { m_ring.read_unchecked<u64>(off), m_ring.read_unchecked<u64>(off + 8) } };
	return __builtin_bit_cast(VringDesc, raw);
}

__always_inline Result<void> Vringh::walk_chain(u16 head, VringhChain &chain)
{
	/*
	 * The visited set holds the descriptors of this walk that lead on (a
	 * next index): a chain of one never touches it. It is forgotten on
	 * every exit.
	 */
	u32 count = 0, marked = 0;
	u16 *path = m_chain.data();
	keel::ScopeGuard forget([&] {
		for (u32 k = 0; k < marked; k++)
			clear_bit(m_visited, path[k]);
	});
	u64 rd = 0, wr = 0;
	u16 i = head;
	for (;;) {
		/* i < num: the head and every next are checked before they are walked. */
		VringDesc d = read_desc(m_layout.desc_at(i));
		count++;
		TRY(add_segment(i, d, chain, rd, wr));
		if (!(virtio16_to_cpu(m_le, d.flags) & VRING_DESC_F_NEXT))
			break;
		/* marked < count <= num: m_chain holds num entries. */
		path[marked++] = i;
		set_bit(m_visited, i);
		u16 next = virtio16_to_cpu(m_le, d.next);
		if (unlikely(next >= m_layout.num)) {
			bad_ring(m_dev, m_name, "desc %u: next %u out of range (num %u)", i, next,
				 m_layout.num);
			return err(-EIO);
		}
		if (unlikely(count >= m_layout.num)) {
			bad_ring(m_dev, m_name, "chain at head %u longer than num %u", head,
				 m_layout.num);
			return err(-EIO);
		}
		if (unlikely(test_bit(m_visited, next))) {
			bad_ring(m_dev, m_name,
				 "desc %u: next %u loops back into the chain at head %u", i, next,
				 head);
			return err(-EIO);
		}
		i = next;
	}
	chain.m_rd_len = u32(rd);
	chain.m_wr_len = u32(wr);
	return ok();
}

Result<bool> Vringh::getdesc(VringhChain &chain)
{
	chain.reset();
	if (!TRY(avail_pending()))
		return false;

	u16 slot = m_last_avail_idx & u16(m_layout.num - 1);
	/* Invalidated with the load of avail->idx that published it (invalidate_avail()). */
	u16 head = virtio16_to_cpu(
		m_le, m_ring.read_unchecked<keel::virtio16>(m_layout.avail_ring(slot)));
	if (head >= m_layout.num) {
		bad_ring(m_dev, m_name, "avail slot %u: head %u out of range (num %u)", slot, head,
			 m_layout.num);
		return err(-EIO);
	}
	if (test_bit(m_outstanding, head)) {
		bad_ring(m_dev, m_name, "avail slot %u: head %u is already in use", slot, head);
		return err(-EIO);
	}
	auto r = walk_chain(head, chain);
	if (r.is_error()) {
		chain.reset();
		return r.error();
	}
	set_bit(m_outstanding, head);
	m_last_avail_idx++;
	chain.m_head = head;
	chain.m_valid = true;
	return true;
}

/* push_used(), inlined into add_used() too (one body, no call per message). */
__always_inline Result<void> Vringh::push_used_one(VringhChain &chain, u32 len)
{
	if (is_broken())
		return err(-EIO);
	if (!chain.m_valid || chain.m_head >= m_layout.num ||
	    !test_bit(m_outstanding, chain.m_head))
		return err(-EINVAL);
	if (len > chain.m_wr_len)
		return err(-EINVAL);

	/* Hand the written bytes back: clean them towards the driver. */
	u32 left = len;
	/* k < m_nr_wr, at most the store's size (add_segment()). */
	const ShmRegion *wr = chain.m_wr_store.data();
	for (u16 k = 0; k < chain.m_nr_wr && left; k++) {
		const ShmRegion &seg = wr[k];
		size_t n = keel::min(size_t(left), seg.size());
		seg.clean_unchecked(0, n);
		left -= u32(n);
	}

	u16 head = chain.m_head;
	u16 slot = m_last_used_idx & u16(m_layout.num - 1);
	VringUsedElem e;
	e.id = cpu_to_virtio32(m_le, head);
	e.len = cpu_to_virtio32(m_le, len);
	/* Each field one untorn 32-bit store (the element is only 4-byte aligned), one clean. */
	m_ring.peer_write_unchecked(m_layout.used_ring(slot), e);
	m_last_used_idx++;
	m_completed++;
	clear_bit(m_outstanding, head);
	chain.reset();
	return ok();
}

/* publish_used(), inlined into add_used() and need_notify(). */
__always_inline Result<void> Vringh::publish_used_now()
{
	if (is_broken())
		return err(-EIO);
	if (m_used_idx_published == m_last_used_idx)
		return ok();
	/* The used entries are visible before the used->idx that publishes them. */
	keel::virt_wmb();
	KEEL_TSAN_FENCE(__ATOMIC_RELEASE);
	put16(m_layout.used_idx(), m_last_used_idx);
	m_used_idx_published = m_last_used_idx;
	return ok();
}

Result<void> Vringh::push_used(VringhChain &chain, u32 len)
{
	return push_used_one(chain, len);
}

Result<void> Vringh::publish_used()
{
	return publish_used_now();
}

Result<void> Vringh::add_used(VringhChain &chain, u32 len)
{
	TRY(push_used_one(chain, len));
	return publish_used_now();
}

bool Vringh::need_notify()
{
	if (publish_used_now().is_error() || m_completed == 0)
		return false;
	/* used->idx is visible before we read the driver's suppression state (pairs with enable_cb). */
	keel::virt_mb();
	KEEL_TSAN_FENCE(__ATOMIC_SEQ_CST);
	bool notify;
	if (!m_event) {
		notify = !(get16(m_layout.avail_flags()) & VRING_AVAIL_F_NO_INTERRUPT);
	} else if (m_completed > 0xffff) {
		/* So many that the 16-bit window wrapped: always notify (Linux). */
		notify = true;
	} else {
		notify = vring_need_event16(get16(m_layout.used_event), m_last_used_idx,
					    m_signalled_used);
	}
	m_signalled_used = m_last_used_idx;
	m_completed = 0;
	return notify;
}

void Vringh::notify_disable()
{
	/*
	 * With event idx the driver ignores used->flags: move avail_event out
	 * of the way instead, one behind the next chain we take (the driver
	 * kicks again only after 65535 more), as VirtQueue::disable_cb() does
	 * with used_event. Left where notify_enable() put it, it would let the
	 * first chain added after that kick us while we are polling anyway.
	 */
	if (m_event)
		put16(m_layout.avail_event, u16(m_last_avail_idx - 1));
	else
		put16(m_layout.used_flags(), VRING_USED_F_NO_NOTIFY);
}

bool Vringh::notify_enable()
{
	if (m_event)
		put16(m_layout.avail_event, m_last_avail_idx);
	else
		put16(m_layout.used_flags(), 0);
	/* The re-enable is visible before we re-check avail->idx (else a kick is lost). */
	keel::virt_mb();
	KEEL_TSAN_FENCE(__ATOMIC_SEQ_CST);
	auto pending = avail_pending();
	/*
	 * A broken ring has nothing to wait for: "done", as enable_cb() answers
	 * on the driver side (Linux virtqueue_poll() is false when broken), so
	 * that "drain; while (!notify_enable()) drain;" ends. The caller then
	 * sees is_broken() or -EIO from its next call.
	 */
	if (pending.is_error())
		return true;
	return pending.value() == 0;
}

} // namespace virtio
