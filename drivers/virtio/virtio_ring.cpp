// SPDX-License-Identifier: GPL-2.0
/*
 * Split virtqueue, driver side (Linux drivers/virtio/virtio_ring.c, split
 * ring only, no indirect descriptors).
 *
 * What this side publishes (descriptors, avail ring, avail flags,
 * used_event) and needs again is kept in private shadows (descriptor links,
 * per-head lengths, avail idx and flags) and never read back. Everything the
 * device writes (used ring, used flags, avail_event) is loaded once, checked
 * and then used from the local copy.
 */
#include <keel/barrier.h>
#include <keel/string.h>
#include <virtio/virtio_ring.h>

#include "vring_internal.h"

namespace virtio {

using keel::cpu_to_virtio16;
using keel::cpu_to_virtio32;
using keel::cpu_to_virtio64;
using keel::err;
using keel::ok;
using keel::Span;
using keel::UniqueArray;
using keel::UniquePtr;
using keel::virtio16_to_cpu;
using keel::virtio32_to_cpu;

Result<VringLayout> VringLayout::compute(u32 num, u32 align, u32 line)
{
	if (num == 0 || num > VRING_MAX_NUM || !keel::is_power_of_2(num))
		return err(-EINVAL);
	if (align < VRING_MIN_ALIGN || align > VRING_MAX_ALIGN || !keel::is_power_of_2(align))
		return err(-EINVAL);
	if (line == 0 || !keel::is_power_of_2(line) || align < line)
		return err(-EINVAL);

	VringLayout l;
	l.num = num;
	l.align = align;
	l.desc = 0;
	l.avail = 16 * size_t(num);
	l.used_event = l.avail + 4 + 2 * size_t(num);
	/* vring_init(): the used ring starts at the next @align boundary after used_event. */
	l.used = keel::align_up(l.used_event + 2, size_t(align));
	l.avail_event = l.used + 4 + 8 * size_t(num);
	l.size = l.avail_event + 2;
	return l;
}

/* Checks a ring window given by a local caller (transport or test). */
static Result<ShmRegion> ring_window(const ShmRegion &ring, const VringLayout &layout)
{
	if (!ring.valid() || ring.size() < layout.size)
		return err(-EINVAL);
	/* Descriptor tables are 16-byte aligned (virtio 1.x 2.7.5); the u64 loads need 8. */
	if (reinterpret_cast<keel::uintptr_t>(ring.base()) % VRING_DESC_ALIGN_SIZE)
		return err(-EINVAL);
	return ring.sub(0, layout.size);
}

void detail::RingBroken::bad_ring(const keel::Device *dev, const char *name, const char *fmt, ...)
{
	if (m_broken.exchange(true, keel::MemoryOrder::Relaxed))
		return;
	char msg[160];
	__builtin_va_list ap;
	__builtin_va_start(ap, fmt);
	keel_port_vsnprintf(msg, sizeof(msg), fmt, ap);
	__builtin_va_end(ap);
	dev_err(dev, "%s: %s", name, msg);
}

Result<u16> detail::RingBroken::idx_ahead(const keel::Device *dev, const char *name,
					  const char *which, u16 idx, u16 last, u16 num)
{
	u16 ahead = u16(idx - last);
	if (ahead > num) {
		bad_ring(dev, name, "%s idx %u is %u ahead of %u (num %u)", which, idx, ahead, last,
			 num);
		return err(-EIO);
	}
	return ahead;
}

VirtQueue::VirtQueue(const VqConfig &cfg, const VringLayout &layout, const ShmRegion &ring)
    : m_layout(layout), m_ring(ring), m_name(cfg.name ? cfg.name : "vq"), m_index(cfg.index),
      m_le(cfg.little_endian), m_event(cfg.event_idx), m_vdev(cfg.vdev),
      m_dev(detail::vdev_log_device(cfg.vdev)), m_notify(cfg.notify), m_callback(cfg.callback),
      m_transport_priv(cfg.transport_priv)
{
}

VirtQueue::~VirtQueue() = default;

Result<UniquePtr<VirtQueue>> VirtQueue::create(const VqConfig &cfg, keel::Gfp gfp)
{
	auto lr = VringLayout::compute(cfg.num, cfg.align);
	if (lr.is_error()) {
		/* num and align usually come from the remote's resource table. */
		dev_err(detail::vdev_log_device(cfg.vdev), "%s: bad ring size: num %u align %u",
			cfg.name ? cfg.name : "vq", cfg.num, cfg.align);
		return lr.error();
	}
	VringLayout layout = lr.value();
	ShmRegion ring = TRY(ring_window(cfg.ring, layout));
	if (!cfg.notify)
		return err(-EINVAL);

	auto extra = TRY(UniqueArray<DescExtra>::create(layout.num, gfp));
	auto state = TRY(UniqueArray<HeadState>::create(layout.num, gfp));
	VirtQueue *raw = new (gfp) VirtQueue(cfg, layout, ring);
	if (!raw)
		return err(-ENOMEM);
	UniquePtr<VirtQueue> vq(raw);
	vq->m_extra = keel::move(extra);
	vq->m_state = keel::move(state);

	/*
	 * The driver initialises the ring: a stale ring from before a remote
	 * restart must not be replayed (indices restart at 0).
	 */
	TRY(ring.zero(0, layout.size));
	/* The private free list: every descriptor, in order. */
	for (u32 i = 0; i < layout.num; i++)
		vq->m_extra[i].next = u16(i + 1 == layout.num ? 0 : i + 1);
	vq->m_free_head = 0;
	vq->m_num_free = layout.num;
	/* No callback: ask for no interrupts (Linux vring_create_virtqueue). */
	if (!cfg.callback) {
		vq->m_avail_flags_shadow = VRING_AVAIL_F_NO_INTERRUPT;
		if (!vq->m_event)
			vq->put16(layout.avail_flags(), vq->m_avail_flags_shadow);
	}
	(void)ring.clean(0, layout.size);
	return vq;
}

/*
 * The ring accessors. Every offset comes from the layout and our own
 * indices (masked by num, or from the private free list), and create()
 * checked once that the layout fits the 16-byte aligned window
 * (ring_window()): so no access checks it again. The one index the device
 * gives, a used element's id, is checked by get_buf() before it is used.
 */
__always_inline void VirtQueue::put16(size_t off, u16 v, bool le)
{
	m_ring.peer_write_unchecked(off, cpu_to_virtio16(le, v));
}

/* Linux virtio_store_mb(): the store is visible before any later load. */
__always_inline void VirtQueue::put16_mb(size_t off, u16 v, bool le)
{
	put16(off, v, le);
	keel::virt_mb();
	KEEL_TSAN_FENCE(__ATOMIC_SEQ_CST);
}

__always_inline u16 VirtQueue::get16(size_t off, bool le)
{
	return virtio16_to_cpu(le, m_ring.peer_read_unchecked<keel::virtio16>(off));
}

/*
 * The descriptor at @off of the table (inside the window, 16-byte
 * aligned): stored as two untorn 8-byte words, as peer_write() would
 * store it, with one clean for both. The second word holds len, flags and
 * next in wire order, in the CPU's layout of a u64 (composed with shifts:
 * cheaper than merging the fields of a struct).
 *
 * A descriptor that already reads as the new one is not stored again: a
 * store, even of the same value, takes the line away from the device,
 * whose next read of it then misses. A buffer queued again at the same
 * place with the same length (every rx buffer, most tx buffers of a
 * stream) leaves the line shared. The comparison reads what the device
 * sees; whatever the device wrote there, a differing word is stored.
 */
static __always_inline void ring_write_desc(const ShmRegion &ring, bool le, size_t off,
					    const Sg &sg, u16 flags, u16 next)
{
	u64 addr = __builtin_bit_cast(u64, cpu_to_virtio64(le, sg.addr));
	u64 len = __builtin_bit_cast(u32, cpu_to_virtio32(le, sg.len));
	u64 f = __builtin_bit_cast(u16, cpu_to_virtio16(le, flags));
	u64 n = __builtin_bit_cast(u16, cpu_to_virtio16(le, next));
	static_assert(__builtin_offsetof(VringDesc, len) == 8 && sizeof(VringDesc) == 16);
	u64 rest = keel::CPU_IS_LITTLE_ENDIAN ? len | f << 32 | n << 48 : len << 32 | f << 16 | n;
	ring.invalidate_unchecked(off, sizeof(VringDesc));
	if (ring.read_unchecked<u64>(off) == addr && ring.read_unchecked<u64>(off + 8) == rest)
		return;
	ring.write_unchecked(off, addr);
	ring.write_unchecked(off + 8, rest);
	ring.clean_unchecked(off, sizeof(VringDesc));
}

/* Local caller's segments: non-empty, not wrapping; false when one is bad. Sums their bytes. */
static __always_inline bool sum_sgs(Span<const Sg> sgs, u64 *total)
{
	u64 sum = 0;
	for (const Sg &sg : sgs) {
		u64 end;
		if (sg.len == 0 || keel::check_add_overflow(sg.addr, u64(sg.len), &end))
			return false;
		sum += sg.len;
	}
	*total = sum;
	return true;
}

template <bool LE>
__always_inline Result<void> VirtQueue::add_sgs_as(Span<const Sg> out, Span<const Sg> in,
						   void *token)
{
	if (is_broken())
		return err(-EIO);
	size_t total = out.size() + in.size();
	if (!token || total == 0 || total > m_layout.num)
		return err(-EINVAL);
	u64 out_bytes, in_bytes;
	if (!sum_sgs(out, &out_bytes) || !sum_sgs(in, &in_bytes))
		return err(-EINVAL);
	/* A chain carries at most 4 GiB in all (virtio 1.x 2.7.13.1); used len is 32-bit. */
	if (out_bytes + in_bytes > KEEL_U32_MAX)
		return err(-EINVAL);
	if (m_num_free < total)
		return err(-ENOSPC);

	/*
	 * The chain is a prefix of the private free list: its links are the
	 * free list's, and the descriptor after its last is the new free head.
	 */
	DescExtra *extra = m_extra.data();
	u16 head = m_free_head, i = head;
	size_t left = total;
	/* The readable segments, then the writable ones: no per-descriptor choice. */
	auto chain = [&](Span<const Sg> sgs, u16 flags) {
		for (const Sg &sg : sgs) {
			u16 next = extra[i].next;
			bool more = --left != 0;
			ring_write_desc(m_ring, LE, m_layout.desc_at(i), sg,
					more ? u16(flags | VRING_DESC_F_NEXT) : flags,
					more ? next : 0);
			i = next;
		}
	};
	chain(out, 0);
	chain(in, VRING_DESC_F_WRITE);
	m_free_head = i;
	m_num_free -= u32(total);
	m_state.data()[head] = HeadState{ token, u32(in_bytes), u16(total) };

	u16 avail_idx = m_avail_idx_shadow;
	u16 slot = avail_idx & u16(m_layout.num - 1);
	/* As for descriptors: an entry that holds @head already keeps its line shared. */
	if (get16(m_layout.avail_ring(slot), LE) != head)
		put16(m_layout.avail_ring(slot), head, LE);
	/* The descriptors and the ring entry are visible before the index publishing them. */
	keel::virt_wmb();
	KEEL_TSAN_FENCE(__ATOMIC_RELEASE);
	m_avail_idx_shadow = ++avail_idx;
	put16(m_layout.avail_idx(), avail_idx, LE);
	m_num_added++;
	/* Linux: kick before num_added could wrap and hide a kick from kick_prepare(). */
	if (m_num_added == 0xffff) [[unlikely]]
		return kick();
	return ok();
}

[[gnu::flatten]] Result<void> VirtQueue::add_sgs(Span<const Sg> out, Span<const Sg> in, void *token,
						 keel::Gfp)
{
	return m_le ? add_sgs_as<true>(out, in, token) : add_sgs_as<false>(out, in, token);
}

template <bool LE> __always_inline bool VirtQueue::kick_prepare_as()
{
	/* The new avail->idx is visible before we read the device's suppression state. */
	keel::virt_mb();
	KEEL_TSAN_FENCE(__ATOMIC_SEQ_CST);
	u16 new_idx = m_avail_idx_shadow, old = u16(new_idx - m_num_added);
	m_num_added = 0;
	if (m_event)
		return vring_need_event16(get16(m_layout.avail_event, LE), new_idx, old);
	return !(get16(m_layout.used_flags(), LE) & VRING_USED_F_NO_NOTIFY);
}

[[gnu::flatten]] bool VirtQueue::kick_prepare()
{
	return m_le ? kick_prepare_as<true>() : kick_prepare_as<false>();
}

__noinline Result<void> VirtQueue::notify()
{
	if (is_broken())
		return err(-EIO);
	auto r = m_notify(*this);
	if (r.is_error()) {
		bad_ring(m_dev, m_name, "doorbell failed (%d)", r.error().to_errno());
		return err(-EIO);
	}
	return ok();
}

/* notify() stays out of line: most kicks are suppressed, and need no frame for it. */
[[gnu::flatten]] __noinline Result<void> VirtQueue::kick()
{
	if (is_broken())
		return err(-EIO);
	if (kick_prepare()) [[unlikely]]
		return notify();
	return ok();
}

/*
 * True when a used entry is pending. used->idx is loaded (and checked to be
 * at most num ahead) only once the entries of the last load are taken; the
 * read barrier after a load orders the entries it publishes, also for the
 * later calls that take them without a load.
 */
template <bool LE> __always_inline Result<bool> VirtQueue::has_used_as()
{
	if (is_broken())
		return err(-EIO);
	u16 last = last_used();
	if (m_used_idx_seen != last)
		return true;
	u16 idx = get16(m_layout.used_idx(), LE);
	if (!TRY(idx_ahead(m_dev, m_name, "used", idx, last, m_layout.num)))
		return false;
	m_used_idx_seen = idx;
	/* Read the used entries only after seeing the used->idx that published them. */
	keel::virt_rmb();
	KEEL_TSAN_FENCE(__ATOMIC_ACQUIRE);
	return true;
}

bool VirtQueue::more_used()
{
	auto r = m_le ? has_used_as<true>() : has_used_as<false>();
	return r.is_ok() && r.value();
}

__always_inline void *VirtQueue::detach_buf(u16 head)
{
	HeadState &st = m_state.data()[head];
	DescExtra *extra = m_extra.data();
	void *token = keel::exchange(st.token, nullptr);
	/* Walk the private shadow of the chain: bounded by ndescs, never by shared data. */
	u16 last = head;
	for (u16 k = 1; k < st.ndescs; k++)
		last = extra[last].next;
	extra[last].next = m_free_head;
	m_free_head = head;
	m_num_free += st.ndescs;
	st.ndescs = 0;
	st.in_len = 0;
	return token;
}

template <bool LE> __always_inline Result<UsedBuf> VirtQueue::get_buf_as()
{
	if (!TRY(has_used_as<LE>()))
		return UsedBuf{};

	u16 last = last_used();
	u16 slot = last & u16(m_layout.num - 1);
	VringUsedElem e = m_ring.peer_read_unchecked<VringUsedElem>(m_layout.used_ring(slot));
	u32 id = virtio32_to_cpu(LE, e.id), len = virtio32_to_cpu(LE, e.len);
	if (id >= m_layout.num) {
		bad_ring(m_dev, m_name, "used id %u out of range (num %u)", id, m_layout.num);
		return err(-EIO);
	}
	const HeadState &st = m_state.data()[id];
	if (!st.token) {
		bad_ring(m_dev, m_name, "used id %u is not an outstanding buffer", id);
		return err(-EIO);
	}
	/*
	 * Linux trusts len (virtio-net clamps it); we refuse a device that
	 * claims to have written past the buffer: the caller would read
	 * beyond what it posted.
	 */
	if (len > st.in_len) {
		bad_ring(m_dev, m_name, "used id %u len %u larger than its writable %u bytes", id,
			 len, st.in_len);
		return err(-EIO);
	}
	void *token = detach_buf(u16(id));
	last++;
	m_last_used_idx.store(last, keel::MemoryOrder::Relaxed);
	/*
	 * Tell the device which used entry we want an interrupt for, and have
	 * that visible before the next get_buf() reads used->idx.
	 */
	if (!(m_avail_flags_shadow & VRING_AVAIL_F_NO_INTERRUPT))
		put16_mb(m_layout.used_event, last, LE);
	return UsedBuf{ token, len };
}

[[gnu::flatten]] Result<UsedBuf> VirtQueue::get_buf()
{
	return m_le ? get_buf_as<true>() : get_buf_as<false>();
}

/*
 * Sets (@on) or clears VRING_AVAIL_F_NO_INTERRUPT in the shadow, and in
 * avail->flags without event idx (with it the device ignores the flags).
 * False when it was so already.
 */
bool VirtQueue::set_no_interrupt(bool on)
{
	if (bool(m_avail_flags_shadow & VRING_AVAIL_F_NO_INTERRUPT) == on)
		return false;
	m_avail_flags_shadow ^= VRING_AVAIL_F_NO_INTERRUPT;
	if (!m_event)
		put16(m_layout.avail_flags(), m_avail_flags_shadow);
	return true;
}

void VirtQueue::disable_cb()
{
	if (!set_no_interrupt(true))
		return;
	/*
	 * With event idx the device ignores avail->flags: move used_event out of
	 * the way instead. Linux writes 0, which still interrupts when used->idx
	 * crosses 0; one behind the last used entry is the farthest point (the
	 * device interrupts again only after 65535 more). Either is a hint.
	 */
	if (m_event)
		put16(m_layout.used_event, u16(last_used() - 1));
}

u16 VirtQueue::enable_cb_prepare()
{
	(void)set_no_interrupt(false);
	u16 last = last_used();
	put16(m_layout.used_event, last);
	return last;
}

bool VirtQueue::poll(u16 last_used_idx)
{
	if (is_broken())
		return false;
	/* The re-enable is visible before we re-check used->idx (else a wakeup is lost). */
	keel::virt_mb();
	KEEL_TSAN_FENCE(__ATOMIC_SEQ_CST);
	return get16(m_layout.used_idx()) != last_used_idx;
}

bool VirtQueue::enable_cb()
{
	u16 last = enable_cb_prepare();
	return !poll(last);
}

bool VirtQueue::enable_cb_delayed()
{
	(void)set_no_interrupt(false);
	/* Interrupt after ~3/4 of the outstanding buffers are used (Linux). */
	u16 last = last_used();
	u16 bufs = u16(u16(m_avail_idx_shadow - last) * 3 / 4);
	put16_mb(m_layout.used_event, u16(last + bufs));
	return u16(get16(m_layout.used_idx()) - last) <= bufs;
}

void *VirtQueue::detach_unused_buf()
{
	for (u32 i = 0; i < m_layout.num; i++) {
		if (!m_state[i].token)
			continue;
		void *token = detach_buf(u16(i));
		/* Not used by the device: take it back out of the avail ring (Linux). */
		m_avail_idx_shadow--;
		put16(m_layout.avail_idx(), m_avail_idx_shadow);
		return token;
	}
	return nullptr;
}

/*
 * Runs without the driver's lock, concurrently with get_buf() on another
 * CPU (as Linux's vring_interrupt()), so it only compares: used->idx with
 * last_used_idx, either of which may be stale (an index read before the
 * other side's update). Such a pair can look like any distance, so it
 * judges nothing: checking the distance is get_buf()'s job, under the
 * driver's lock, where both are current. A stale pair costs at most a
 * spurious callback (its get_buf() finds nothing); no interrupt is lost,
 * since the device publishes used->idx before it rings.
 */
bool VirtQueue::interrupt()
{
	if (get16(m_layout.used_idx()) == last_used())
		return false;
	if (is_broken())
		return true;
	if (m_callback)
		m_callback(*this);
	return true;
}

void VirtQueue::break_ring()
{
	set_broken();
	if (m_callback)
		m_callback(*this);
}

} // namespace virtio
