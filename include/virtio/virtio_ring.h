/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Split virtqueues in the layout of the UAPI <linux/virtio_ring.h>, over a
 * ShmRegion, for both roles:
 *
 *  - VirtQueue: the driver side (Linux drivers/virtio/virtio_ring.c). The
 *    host posts buffers (device addresses), kicks, and collects used ones.
 *  - Vringh: the device side (Linux drivers/vhost/vringh.c). The remote
 *    takes available chains, reads and writes them through checked windows,
 *    and returns them as used.
 *
 * The peer is untrusted. Every index, length and address the peer writes is
 * loaded once, checked, and only then used; anything that does not add up
 * marks the queue broken, is logged once (with the queue's name) and makes
 * every later call fail with -EIO. Bad arguments from the local caller are
 * -EINVAL and do not break the queue. Private shadows of what this side
 * published (avail idx, descriptors, per-head lengths) are never read back
 * from shared memory.
 *
 * Byte order: every ring field is a virtio16/32/64 converted with the
 * queue's little_endian flag (VIRTIO_F_VERSION_1 negotiated, or a legacy
 * device on a little-endian driver).
 *
 * Locking: as in Linux, a queue has no lock of its own. The caller
 * serialises all calls on one queue (one side's calls; the two sides of a
 * ring are independent objects and may run concurrently on two processors),
 * except VirtQueue::interrupt(), which the transport's interrupt handler
 * calls without the driver's lock.
 *
 * Documentation/virtio.rst describes the rules in full.
 */
#ifndef VIRTIO_VIRTIO_RING_H
#define VIRTIO_VIRTIO_RING_H

#include <keel/alloc.h>
#include <keel/atomic.h>
#include <keel/endian.h>
#include <keel/error.h>
#include <keel/list.h>
#include <keel/log.h>
#include <keel/shm.h>
#include <keel/span.h>

/*
 * The legacy helpers of the UAPI header (vring_init, vring_size) assign
 * void * without a cast and do not compile as C++; VringLayout below
 * computes the same layout (tested against golden values produced by the C
 * helpers). Include the UAPI header only through this one.
 */
#ifndef VIRTIO_RING_NO_LEGACY
#define VIRTIO_RING_NO_LEGACY
#endif
/*
 * Included after the keel headers: the hosted UAPI header pulls in libc's
 * <stdint.h>, whose (system-header) redefinition of __always_inline is then
 * silent and equivalent.
 */
#include <linux/virtio_ring.h>

namespace virtio {

using keel::Result;
using keel::ShmRegion;
using keel::size_t;

class VirtioDevice;

/* Largest ring the split layout allows (16-bit indices, power of two). */
inline constexpr u32 VRING_MAX_NUM = 32768;
/* Smallest used-ring alignment: its 32-bit fields stay aligned (VRING_USED_ALIGN_SIZE). */
inline constexpr u32 VRING_MIN_ALIGN = 4;
/* Largest alignment accepted: keeps every size in 32 bits (a 64 KiB page at most). */
inline constexpr u32 VRING_MAX_ALIGN = 65536;
static_assert(VRING_MIN_ALIGN == VRING_USED_ALIGN_SIZE);

/* struct vring_desc, with the device's byte order made explicit. */
struct VringDesc {
	keel::virtio64 addr;
	keel::virtio32 len;
	keel::virtio16 flags;
	keel::virtio16 next;
};
/* struct vring_used_elem. */
struct VringUsedElem {
	keel::virtio32 id;
	keel::virtio32 len;
};
static_assert(sizeof(VringDesc) == sizeof(struct vring_desc) && sizeof(VringDesc) == 16);
static_assert(__builtin_offsetof(VringDesc, len) == __builtin_offsetof(struct vring_desc, len));
static_assert(__builtin_offsetof(VringDesc, flags) == __builtin_offsetof(struct vring_desc, flags));
static_assert(__builtin_offsetof(VringDesc, next) == __builtin_offsetof(struct vring_desc, next));
static_assert(sizeof(VringUsedElem) == sizeof(struct vring_used_elem) &&
	      sizeof(VringUsedElem) == 8);

/*
 * vring_need_event() of the UAPI header, usable in constant expressions:
 * true when moving an index from @old to @new_idx crossed @event_idx.
 */
constexpr bool vring_need_event16(u16 event_idx, u16 new_idx, u16 old)
{
	return u16(new_idx - event_idx - 1) < u16(new_idx - old);
}

/**
 * struct VringLayout - where each part of a split ring lives
 *
 * Byte offsets from the ring's start (what vring_init() computes, as
 * offsets rather than pointers). The driver writes the descriptors and the
 * avail ring (up to and including used_event); the device writes the used
 * ring (up to and including avail_event). @align is where the used ring
 * starts, so it is also the boundary between the two writers.
 *
 * Invariants: num is a power of two in 1..VRING_MAX_NUM; align is a power
 * of two in VRING_MIN_ALIGN..VRING_MAX_ALIGN; size == vring_size(num, align)
 * of the UAPI header.
 */
struct VringLayout {
	u32 num = 0;
	u32 align = 0;
	size_t desc = 0;	/* struct vring_desc desc[num] */
	size_t avail = 0;	/* avail->flags, avail->idx, avail->ring[num] */
	size_t used_event = 0;	/* avail->ring[num]: written by the driver */
	size_t used = 0;	/* used->flags, used->idx, used->ring[num] */
	size_t avail_event = 0; /* used->ring[num] (a u16): written by the device */
	size_t size = 0;

	/**
	 * VringLayout::compute() - the vring size and alignment rule
	 * @num: entries, a power of two in 1..VRING_MAX_NUM
	 * @align: alignment of the used ring, a power of two in
	 *	VRING_MIN_ALIGN..VRING_MAX_ALIGN and at least @line
	 * @line: the writeback granule of the memory holding the ring: 1 when
	 *	it is coherent (or mapped uncached), else its cache line size.
	 *	An @align below it would put the driver's used_event and the
	 *	device's used->flags in one line, which no cache maintenance can
	 *	keep correct (each side's write-back would undo the other's).
	 *
	 * The one place the rule lives: the resource-table parser, both sides
	 * of the ring and the shared-memory transport all call it.
	 *
	 * Context: any.
	 * Return: the layout, or -EINVAL when @num, @align or @line break the rule.
	 */
	static Result<VringLayout> compute(u32 num, u32 align, u32 line = 1);

	size_t desc_at(u32 i) const { return desc + 16 * size_t(i); }
	size_t avail_flags() const { return avail; }
	size_t avail_idx() const { return avail + 2; }
	size_t avail_ring(u32 slot) const { return avail + 4 + 2 * size_t(slot); }
	size_t used_flags() const { return used; }
	size_t used_idx() const { return used + 2; }
	size_t used_ring(u32 slot) const { return used + 4 + 8 * size_t(slot); }
};

/*
 * Sg - one buffer segment as the device sees it: a device address (what the
 * descriptor carries) and a length. Build it from a CPU pointer with
 * Sg::from(), which translates through the region the buffer lives in.
 */
struct Sg {
	u64 addr;
	u32 len;

	static Result<Sg> from(const ShmRegion &mem, const void *p, u32 len)
	{
		size_t off = TRY(mem.offset_of(p, len));
		return Sg{ TRY(mem.offset_to_da(off, len)), len };
	}
};

namespace detail {
/**
 * class RingBroken - the broken state both sides of a ring share
 *
 * Linux's vq->broken and BAD_RING(): set from any context (a peer-down
 * handler, a bad index found by either side), read locklessly
 * (READ_ONCE), never cleared.
 *
 * Context: any.
 */
class RingBroken {
public:
	/* Marks the ring broken (device gone or reset: Linux virtio_break_device). */
	void set_broken() { m_broken.store(true, keel::MemoryOrder::Relaxed); }
	bool is_broken() const { return m_broken.load(keel::MemoryOrder::Relaxed); }

protected:
	/* Marks the ring broken; logs "<name>: <message>" against @dev only the first time. */
	void bad_ring(const keel::Device *dev, const char *name, const char *fmt, ...)
		__printf(4, 5);

private:
	keel::Atomic<bool> m_broken{ false };
};
} // namespace detail

class VirtQueue;
/* Buffer-used interrupt (Linux vq->callback). Atomic context: must not sleep. */
using VqCallback = void (*)(VirtQueue &vq);
/* Rings the device's doorbell for @vq (the transport's notify). */
using VqNotify = Result<void> (*)(VirtQueue &vq);

/*
 * VqConfig - what VirtQueue::create() needs; filled by the transport's
 * find_vqs() (or a test).
 * @ring: a window holding the ring, at least VringLayout::compute(num, align).size long,
 *        16-byte aligned; zeroed by create() (the driver initialises rings).
 */
struct VqConfig {
	const char *name = "vq";
	u16 index = 0;
	u32 num = 0;
	u32 align = 0;
	ShmRegion ring;
	bool little_endian = true;
	bool event_idx = false;
	VirtioDevice *vdev = nullptr;
	VqNotify notify = nullptr;
	VqCallback callback = nullptr;
	/* Transport's per-queue state (e.g. its doorbell), see VirtQueue::transport_priv(). */
	void *transport_priv = nullptr;
};

/* A buffer returned by the device: the token given at add time and the bytes written. */
struct UsedBuf {
	void *token = nullptr;
	u32 len = 0;
	/* False when the used ring had nothing new. */
	explicit operator bool() const { return token != nullptr; }
};

/*
 * VirtQueue - driver side of a split ring (Linux struct vring_virtqueue).
 *
 * Invariants: m_num_free + (descriptors of outstanding heads) == num; a head
 * is outstanding iff m_state[head].token != nullptr; m_free_head is the
 * first entry of a private free list linked through m_extra[].next;
 * m_avail_idx_shadow is the last avail->idx published; m_last_used_idx the
 * next used slot to read. Once broken it stays broken.
 */
class VirtQueue : keel::NonMovable, public detail::RingBroken {
public:
	/*
	 * create() - validate @cfg, zero the ring and build the private shadows.
	 * Return: the queue, -EINVAL for a bad size/alignment/ring window,
	 * -ENOMEM.
	 * Context: may sleep with GFP_KERNEL.
	 */
	static Result<keel::UniquePtr<VirtQueue>> create(const VqConfig &cfg, keel::Gfp gfp);
	~VirtQueue();

	/*
	 * add_sgs() - expose a buffer chain to the device: @out device-readable
	 * segments first, then @in device-writable ones (Linux virtqueue_add_sgs).
	 * @token: non-null cookie returned by get_buf() or detach_unused_buf().
	 * Return: -EINVAL for no segments, a null token, a zero-length or wrapping
	 * segment, or more than 4 GiB writable; -ENOSPC when fewer than
	 * out+in descriptors are free; -EIO when broken.
	 * Context: any (never sleeps or allocates; @gfp is accepted for Linux's
	 * signature).
	 */
	Result<void> add_sgs(keel::Span<const Sg> out, keel::Span<const Sg> in, void *token,
			     keel::Gfp gfp) KEEL_EXPORT_AS(keel_virtqueue_add_sgs);
	Result<void> add_outbuf(keel::Span<const Sg> sg, void *token, keel::Gfp gfp)
	{
		return add_sgs(sg, {}, token, gfp);
	}
	Result<void> add_inbuf(keel::Span<const Sg> sg, void *token, keel::Gfp gfp)
	{
		return add_sgs({}, sg, token, gfp);
	}

	/* kick_prepare() - true when the device wants a notification (event idx / NO_NOTIFY). */
	bool kick_prepare();
	/* notify() - ring the doorbell; a failing doorbell breaks the queue. -EIO when broken. */
	Result<void> notify();
	/* kick() - kick_prepare() then notify() if needed. */
	Result<void> kick();

	/*
	 * get_buf() - next used buffer. An empty UsedBuf when none is pending.
	 * Return: -EIO when broken or when the device returned a bad used entry
	 * (id out of range or not outstanding, len above the buffer's writable
	 * length, used->idx ahead by more than num).
	 */
	Result<UsedBuf> get_buf();
	/* more_used() - a used buffer is pending (false when broken or bad). */
	bool more_used();

	/* Callback suppression (Linux virtqueue_disable_cb & co.). Unreliable hints to the device. */
	void disable_cb();
	/*
	 * enable_cb() - re-enable callbacks, then re-check the used ring.
	 * Return: true when nothing is pending (the caller may wait) or the
	 * queue is broken (check is_broken()), false: poll again.
	 */
	bool enable_cb();
	/* Re-enable and return the opaque position to pass to poll(). */
	u16 enable_cb_prepare();
	/*
	 * True when buffers were used since @last_used_idx. False when broken,
	 * as in Linux: waiters must also check is_broken().
	 */
	bool poll(u16 last_used_idx);
	/* Re-enable, asking for an interrupt only after ~3/4 of outstanding buffers (event idx). */
	bool enable_cb_delayed();

	/* detach_unused_buf() - after reset: take back a posted buffer; nullptr when none left. */
	void *detach_unused_buf();

	/*
	 * interrupt() - the transport's handler for this queue's doorbell (Linux
	 * vring_interrupt). Runs the callback when work may be pending.
	 * Return: false when there was nothing to do (IRQ_NONE).
	 * Context: atomic; needs no lock: may run concurrently with the
	 * driver's serialised calls (it only compares indices, and never
	 * marks the queue broken).
	 */
	bool interrupt();

	u32 num_free() const { return m_num_free; }
	u32 num() const { return m_layout.num; }
	u16 index() const { return m_index; }
	const char *name() const { return m_name; }
	const VringLayout &layout() const { return m_layout; }
	const ShmRegion &ring() const { return m_ring; }
	bool event_idx() const { return m_event; }
	bool little_endian() const { return m_le; }
	VirtioDevice *vdev() const { return m_vdev; }
	template <typename T> T *transport_priv() const
	{
		return static_cast<T *>(m_transport_priv);
	}
	/* Driver's per-queue data for its callback (Linux vq->priv). */
	void set_priv(void *p) { m_priv = p; }
	template <typename T> T *priv() const { return static_cast<T *>(m_priv); }

	/* Link in VirtioDevice's queue list (owned by the transport's find_vqs/del_vqs). */
	keel::ListNode m_node;

private:
	struct DescExtra {
		u64 addr;
		u32 len;
		u16 flags;
		u16 next;
	};
	struct HeadState {
		void *token;
		u32 in_len; /* writable bytes: the bound on the used length */
		u16 ndescs;
	};

	VirtQueue(const VqConfig &cfg, const VringLayout &layout, const ShmRegion &ring);
	Result<void> write_desc(u16 i, u64 addr, u32 len, u16 flags, u16 next);
	Result<void> put16(size_t off, u16 v);
	Result<void> put16_mb(size_t off, u16 v);
	Result<u16> get16(size_t off);
	void *detach_buf(u16 head);
	Result<bool> has_used();
	u16 last_used() const { return m_last_used_idx.load(keel::MemoryOrder::Relaxed); }
	Result<void> check_sgs(keel::Span<const Sg> sgs, u64 *total);

	VringLayout m_layout;
	ShmRegion m_ring;
	const char *m_name;
	u16 m_index;
	bool m_le;
	bool m_event;
	VirtioDevice *m_vdev;
	const keel::Device *m_dev;
	VqNotify m_notify;
	VqCallback m_callback;
	void *m_transport_priv;
	void *m_priv = nullptr;

	u16 m_free_head = 0;
	u32 m_num_free = 0;
	u16 m_avail_idx_shadow = 0;
	u16 m_avail_flags_shadow = 0;
	/*
	 * Written only by the serialised calls; atomic because interrupt()
	 * reads it without the driver's lock (relaxed: it only compares).
	 */
	keel::Atomic<u16> m_last_used_idx{ 0 };
	u16 m_num_added = 0;
	keel::UniqueArray<DescExtra> m_extra;
	keel::UniqueArray<HeadState> m_state;
};

/*
 * VringhChain - one available chain taken by the device side: the head, and
 * its readable and writable segments as checked windows of shared memory
 * (each a ShmRegion: bounds-checked access, its own device address).
 * The caller owns the segment storage (no allocation per chain); see
 * VringhChainStorage.
 */
class VringhChain {
public:
	VringhChain(keel::Span<ShmRegion> rd, keel::Span<ShmRegion> wr)
	    : m_rd_store(rd), m_wr_store(wr)
	{
	}

	u16 head() const { return m_head; }
	bool valid() const { return m_valid; }
	keel::Span<const ShmRegion> readable() const { return { m_rd_store.data(), m_nr_rd }; }
	keel::Span<const ShmRegion> writable() const { return { m_wr_store.data(), m_nr_wr }; }
	/* Total bytes of the readable / writable segments (each fits in u32). */
	u32 read_len() const { return m_rd_len; }
	u32 write_len() const { return m_wr_len; }

	/* pull() - copy up to @len readable bytes, continuing where the last pull stopped. */
	size_t pull(void *dst, size_t len);
	/* push() - copy up to @len bytes into the writable segments; pushed() totals them. */
	size_t push(const void *src, size_t len);
	u32 pushed() const { return m_wr_done; }

private:
	friend class Vringh;
	void reset();
	keel::Span<ShmRegion> m_rd_store, m_wr_store;
	u16 m_head = 0;
	bool m_valid = false;
	u16 m_nr_rd = 0, m_nr_wr = 0;
	u32 m_rd_len = 0, m_wr_len = 0;
	/* Copy cursors: segment index and offset inside it. */
	u16 m_rd_seg = 0, m_wr_seg = 0;
	size_t m_rd_off = 0, m_wr_off = 0;
	u32 m_wr_done = 0;
};

template <size_t R, size_t W> class VringhChainStorage : public VringhChain {
public:
	VringhChainStorage() : VringhChain(keel::Span<ShmRegion>(m_r), keel::Span<ShmRegion>(m_w))
	{
	}

private:
	ShmRegion m_r[R];
	ShmRegion m_w[W];
};

/*
 * VringhConfig - the device side's view of a ring.
 * @ring: the ring's bytes as the device sees them (written by the driver).
 * @mem: where descriptor addresses point (device addresses translated with
 *       mem.da_to_offset()); may be the same window as @ring's parent.
 * @little_endian: the driver's byte order for this ring (VIRTIO_F_VERSION_1
 *       negotiated, or a legacy driver that is little endian).
 */
struct VringhConfig {
	const char *name = "vringh";
	u32 num = 0;
	u32 align = 0;
	ShmRegion ring;
	ShmRegion mem;
	bool little_endian = true;
	bool event_idx = false;
	const keel::Device *dev = nullptr;
};

/*
 * Vringh - device side of a split ring (Linux struct vringh).
 *
 * Invariants: m_last_avail_idx counts chains taken; m_last_used_idx is the
 * last used->idx published; a head is handed out iff its bit is set in
 * m_outstanding. Once broken it stays broken.
 */
class Vringh : keel::NonMovable, public detail::RingBroken {
public:
	/* create() - -EINVAL for a bad size/alignment/window, -ENOMEM. Does not touch the ring. */
	static Result<keel::UniquePtr<Vringh>> create(const VringhConfig &cfg, keel::Gfp gfp)
		KEEL_EXPORT_AS(keel_vringh_create);

	/*
	 * getdesc() - take the next available chain into @chain.
	 * Return: true with @chain filled, false when the avail ring is empty,
	 * -EIO when broken or the chain is bad (head/next out of range, loop,
	 * longer than num, indirect, segment outside @mem, readable after
	 * writable, more than 4 GiB, more segments than @chain can hold, avail
	 * idx ahead by more than num).
	 */
	Result<bool> getdesc(VringhChain &chain);
	/* Chains the driver has made available and we have not taken (0 when broken). */
	Result<u16> avail_pending();

	/*
	 * add_used() - return @chain to the driver with @len bytes written.
	 * -EINVAL if @chain was not handed out by this ring or @len exceeds its
	 * writable length; -EIO when broken. The chain is invalid afterwards.
	 */
	Result<void> add_used(VringhChain &chain, u32 len);
	/* need_notify() - should the driver be interrupted for what add_used() published? */
	bool need_notify();
	/* Kick suppression hints to the driver (unreliable: the driver may kick anyway). */
	void notify_disable();
	/*
	 * notify_enable() - ask for kicks again, then re-check the avail ring.
	 * Return: true when nothing is pending or the ring is broken (nothing
	 * to wait for: check is_broken()), false when chains raced in and the
	 * caller must poll again. Same answers as VirtQueue::enable_cb().
	 */
	bool notify_enable();

	u32 num() const { return m_layout.num; }
	const char *name() const { return m_name; }
	const VringLayout &layout() const { return m_layout; }
	/* True when the ring uses VIRTIO_RING_F_EVENT_IDX (used_event/avail_event). */
	bool event_idx() const { return m_event; }

private:
	Vringh(const VringhConfig &cfg, const VringLayout &layout);
	Result<u16> get16(size_t off);
	Result<void> put16(size_t off, u16 v);
	Result<void> walk_chain(u16 head, VringhChain &chain);
	Result<void> add_segment(u16 i, const VringDesc &d, VringhChain &chain, u64 *rd, u64 *wr);
	bool test_bit(keel::UniqueArray<u64> &map, u32 i) const
	{
		return map[i / 64] & (u64(1) << (i % 64));
	}
	void set_bit(keel::UniqueArray<u64> &map, u32 i) { map[i / 64] |= u64(1) << (i % 64); }
	void clear_bit(keel::UniqueArray<u64> &map, u32 i) { map[i / 64] &= ~(u64(1) << (i % 64)); }

	VringLayout m_layout;
	ShmRegion m_ring;
	ShmRegion m_mem;
	const char *m_name;
	const keel::Device *m_dev;
	bool m_le;
	bool m_event;
	u16 m_last_avail_idx = 0;
	u16 m_last_used_idx = 0;
	/* used->idx at the last need_notify(): the "old" of vring_need_event(). */
	u16 m_signalled_used = 0;
	/* Chains used since the last need_notify() (may exceed 16 bits). */
	u32 m_completed = 0;
	keel::UniqueArray<u64> m_outstanding;
	keel::UniqueArray<u64> m_visited;
	keel::UniqueArray<u16> m_chain;
};

} // namespace virtio

#endif
