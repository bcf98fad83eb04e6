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

/**
 * struct VringDesc - a descriptor (struct vring_desc, in the device's byte order)
 * @addr: the buffer's device address
 * @len: its length
 * @flags: VRING_DESC_F_NEXT, _WRITE (device-writable), _INDIRECT
 * @next: the next descriptor of the chain, with VRING_DESC_F_NEXT
 */
struct VringDesc {
	keel::virtio64 addr;
	keel::virtio32 len;
	keel::virtio16 flags;
	keel::virtio16 next;
};
/**
 * struct VringUsedElem - a used ring entry (struct vring_used_elem)
 * @id: the head of the chain used
 * @len: bytes the device wrote into it
 */
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

/**
 * vring_need_event16() - vring_need_event() of the UAPI header, constexpr
 * @event_idx: the index the peer asked to be told about
 * @new_idx: the index now
 * @old: the index at the last notification
 *
 * Context: any (constexpr).
 * Return: true when moving from @old to @new_idx crossed @event_idx.
 */
constexpr bool vring_need_event16(u16 event_idx, u16 new_idx, u16 old)
{
	return u16(new_idx - event_idx - 1) < u16(new_idx - old);
}

/**
 * struct VringLayout - where each part of a split ring lives
 * @num: entries
 * @align: the used ring's alignment
 * @desc: offset of the descriptor table (struct vring_desc desc[num])
 * @avail: offset of the avail ring (flags, idx, ring[num])
 * @used_event: offset of avail->ring[num], written by the driver
 * @used: offset of the used ring (flags, idx, ring[num])
 * @avail_event: offset of used->ring[num] (a u16), written by the device
 * @size: bytes of the whole ring
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

	/**
	 * desc_at() - offset of descriptor @i
	 * @i: the index, below num
	 *
	 * Context: any.
	 * Return: the offset.
	 */
	size_t desc_at(u32 i) const { return desc + 16 * size_t(i); }
	/**
	 * avail_flags() - offset of avail->flags
	 *
	 * Context: any.
	 * Return: the offset.
	 */
	size_t avail_flags() const { return avail; }
	/**
	 * avail_idx() - offset of avail->idx
	 *
	 * Context: any.
	 * Return: the offset.
	 */
	size_t avail_idx() const { return avail + 2; }
	/**
	 * avail_ring() - offset of avail->ring[@slot]
	 * @slot: the slot, below num
	 *
	 * Context: any.
	 * Return: the offset.
	 */
	size_t avail_ring(u32 slot) const { return avail + 4 + 2 * size_t(slot); }
	/**
	 * used_flags() - offset of used->flags
	 *
	 * Context: any.
	 * Return: the offset.
	 */
	size_t used_flags() const { return used; }
	/**
	 * used_idx() - offset of used->idx
	 *
	 * Context: any.
	 * Return: the offset.
	 */
	size_t used_idx() const { return used + 2; }
	/**
	 * used_ring() - offset of used->ring[@slot]
	 * @slot: the slot, below num
	 *
	 * Context: any.
	 * Return: the offset.
	 */
	size_t used_ring(u32 slot) const { return used + 4 + 8 * size_t(slot); }
};

/**
 * struct Sg - one buffer segment as the device sees it
 * @addr: the device address (what the descriptor carries)
 * @len: the length
 *
 * Build it from a CPU pointer with Sg::from(), which translates through
 * the region the buffer lives in.
 */
struct Sg {
	u64 addr;
	u32 len;

	/**
	 * from() - the segment of @len bytes at @p in @mem
	 * @mem: the region the buffer lives in
	 * @p: the buffer
	 * @len: its length
	 *
	 * Context: any.
	 * Return: the segment, or -EINVAL when [@p, @p + @len) is outside @mem.
	 */
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
	/**
	 * set_broken() - mark the ring broken (device gone or reset: Linux
	 * virtio_break_device())
	 *
	 * Quietly: the caller reports why.
	 *
	 * Context: any.
	 */
	void set_broken() { m_broken.store(true, keel::MemoryOrder::Relaxed); }
	/**
	 * is_broken() - is the ring broken?
	 *
	 * Context: any.
	 * Return: true once broken (never cleared).
	 */
	bool is_broken() const { return m_broken.load(keel::MemoryOrder::Relaxed); }

protected:
	/* Marks the ring broken; logs "<name>: <message>" against @dev only the first time. */
	void bad_ring(const keel::Device *dev, const char *name, const char *fmt, ...)
		__printf(4, 5);
	/*
	 * How far the peer's @which ("used", "avail") index @idx is ahead of our
	 * @last. More than @num is impossible for an honest peer: the ring
	 * breaks (-EIO).
	 */
	Result<u16> idx_ahead(const keel::Device *dev, const char *name, const char *which, u16 idx,
			      u16 last, u16 num);

private:
	keel::Atomic<bool> m_broken{ false };
};
} // namespace detail

class VirtQueue;
/**
 * typedef VqCallback - a queue's buffer-used interrupt (Linux vq->callback)
 * @vq: the queue
 *
 * Atomic context: must not sleep.
 */
using VqCallback = void (*)(VirtQueue &vq);
/**
 * typedef VqNotify - ring the device's doorbell for a queue (the transport's notify)
 * @vq: the queue
 *
 * Any context. An error breaks the queue.
 */
using VqNotify = Result<void> (*)(VirtQueue &vq);

/**
 * struct VqConfig - what VirtQueue::create() needs
 * @name: the queue's name, in log lines
 * @index: its index in the device
 * @num: entries, a power of two (VringLayout::compute())
 * @align: the used ring's alignment
 * @ring: a window holding the ring, at least VringLayout::compute(num,
 *	align).size long, 16-byte aligned; zeroed by create() (the driver
 *	initialises rings)
 * @little_endian: the ring's byte order
 * @event_idx: VIRTIO_RING_F_EVENT_IDX was negotiated
 * @vdev: the device, or nullptr (tests)
 * @notify: rings the device's doorbell
 * @callback: the buffer-used interrupt, or nullptr
 * @transport_priv: the transport's per-queue state (its doorbell), see
 *	VirtQueue::transport_priv()
 *
 * Filled by the transport's find_vqs() (or a test).
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

/**
 * struct UsedBuf - a buffer the device returned
 * @token: the token given when it was added; nullptr when none was pending
 * @len: bytes the device wrote (checked against the buffer's writable size)
 */
struct UsedBuf {
	void *token = nullptr;
	u32 len = 0;
	/**
	 * operator bool() - was a buffer returned?
	 *
	 * Context: any.
	 * Return: false when the used ring had nothing new.
	 */
	explicit operator bool() const { return token != nullptr; }
};

/**
 * class VirtQueue - the driver side of a split ring (Linux struct vring_virtqueue)
 * @m_node: the link in the VirtioDevice's queue list (owned by the
 *	transport's find_vqs()/del_vqs())
 *
 * No lock of its own: the caller serialises the calls on one queue.
 *
 * Invariants: m_num_free + (descriptors of outstanding heads) == num; a head
 * is outstanding iff m_state[head].token != nullptr; m_free_head is the
 * first entry of a private free list linked through m_extra[].next;
 * m_avail_idx_shadow is the last avail->idx published; m_last_used_idx the
 * next used slot to read. Once broken it stays broken.
 */
class VirtQueue : keel::NonMovable, public detail::RingBroken {
public:
	/**
	 * create() - a driver-side queue over @cfg's ring
	 * @cfg: the queue's parameters
	 * @gfp: the allocation context of the private shadows
	 *
	 * Validates @cfg, zeroes the ring and builds the private shadows.
	 *
	 * Context: may sleep with GFP_KERNEL.
	 * Return: the queue; -EINVAL for a bad size, alignment or ring window,
	 * -ENOMEM.
	 */
	static Result<keel::UniquePtr<VirtQueue>> create(const VqConfig &cfg, keel::Gfp gfp);
	~VirtQueue();

	/**
	 * add_sgs() - expose a buffer chain to the device (Linux virtqueue_add_sgs())
	 * @out: device-readable segments, first in the chain
	 * @in: device-writable segments, after them
	 * @token: non-null cookie returned by get_buf() or detach_unused_buf()
	 * @gfp: accepted for Linux's signature; nothing is allocated
	 *
	 * Publishes the chain in the avail ring; the device sees it after the
	 * next kick (or at once if it polls).
	 *
	 * Context: any (never sleeps or allocates).
	 * Return: 0; -EINVAL for no segments, a null token, a zero-length or
	 * wrapping segment, or more than 4 GiB writable; -ENOSPC when fewer
	 * than out+in descriptors are free; -EIO when broken.
	 */
	Result<void> add_sgs(keel::Span<const Sg> out, keel::Span<const Sg> in, void *token,
			     keel::Gfp gfp) KEEL_EXPORT_AS(keel_virtqueue_add_sgs);
	/**
	 * add_outbuf() - expose device-readable segments (Linux virtqueue_add_outbuf())
	 * @sg: the segments
	 * @token: the buffer's cookie
	 * @gfp: unused (Linux's signature)
	 *
	 * Context: any.
	 * Return: as add_sgs().
	 */
	Result<void> add_outbuf(keel::Span<const Sg> sg, void *token, keel::Gfp gfp)
	{
		return add_sgs(sg, {}, token, gfp);
	}
	/**
	 * add_inbuf() - expose device-writable segments (Linux virtqueue_add_inbuf())
	 * @sg: the segments
	 * @token: the buffer's cookie
	 * @gfp: unused (Linux's signature)
	 *
	 * Context: any.
	 * Return: as add_sgs().
	 */
	Result<void> add_inbuf(keel::Span<const Sg> sg, void *token, keel::Gfp gfp)
	{
		return add_sgs({}, sg, token, gfp);
	}

	/**
	 * kick_prepare() - publish the added buffers; does the device want a
	 * notification? (Linux virtqueue_kick_prepare())
	 *
	 * Decided by the event index, or VRING_USED_F_NO_NOTIFY without it.
	 *
	 * Context: any.
	 * Return: true when notify() should follow.
	 */
	bool kick_prepare();
	/**
	 * notify() - ring the device's doorbell (Linux virtqueue_notify())
	 *
	 * A failing doorbell breaks the queue.
	 *
	 * Context: any.
	 * Return: 0, or -EIO when broken (or just broken by the doorbell).
	 */
	Result<void> notify();
	/**
	 * kick() - kick_prepare(), then notify() if needed (Linux virtqueue_kick())
	 *
	 * Context: any.
	 * Return: 0, or -EIO when broken.
	 */
	Result<void> kick();

	/**
	 * get_buf() - the next used buffer (Linux virtqueue_get_buf())
	 *
	 * Context: any.
	 * Return: the buffer, or an empty UsedBuf when none is pending; -EIO
	 * when broken or when the device returned a bad used entry (id out of
	 * range or not outstanding, len above the buffer's writable length,
	 * used->idx ahead by more than num), which breaks the queue.
	 */
	Result<UsedBuf> get_buf();
	/**
	 * more_used() - is a used buffer pending?
	 *
	 * Context: any.
	 * Return: true when get_buf() has one; false when not, or when broken
	 * or bad.
	 */
	bool more_used();

	/**
	 * disable_cb() - ask the device not to interrupt (virtqueue_disable_cb())
	 *
	 * An unreliable hint: a callback may still come.
	 *
	 * Context: any.
	 */
	void disable_cb();
	/**
	 * enable_cb() - re-enable callbacks, then re-check the used ring
	 * (Linux virtqueue_enable_cb())
	 *
	 * Context: any.
	 * Return: true when nothing is pending (the caller may wait) or the
	 * queue is broken (check is_broken()); false when buffers raced in:
	 * poll again.
	 */
	bool enable_cb();
	/**
	 * enable_cb_prepare() - re-enable callbacks, without re-checking
	 * (Linux virtqueue_enable_cb_prepare())
	 *
	 * Context: any.
	 * Return: the position to pass to poll().
	 */
	u16 enable_cb_prepare();
	/**
	 * poll() - were buffers used since @last_used_idx? (Linux virtqueue_poll())
	 * @last_used_idx: what enable_cb_prepare() returned
	 *
	 * Context: any.
	 * Return: true when some were; false when not, and false when broken,
	 * as in Linux: waiters must also check is_broken().
	 */
	bool poll(u16 last_used_idx);
	/**
	 * enable_cb_delayed() - re-enable callbacks, late (Linux
	 * virtqueue_enable_cb_delayed())
	 *
	 * With the event index, asks for an interrupt only after about 3/4 of
	 * the outstanding buffers are used.
	 *
	 * Context: any.
	 * Return: true when the caller may wait; false when that many were
	 * used already: poll again.
	 */
	bool enable_cb_delayed();

	/**
	 * detach_unused_buf() - take back a buffer the device never used
	 * (Linux virtqueue_detach_unused_buf())
	 *
	 * Only after the device was reset.
	 *
	 * Context: any.
	 * Return: a posted buffer's token, or nullptr when none is left.
	 */
	void *detach_unused_buf();

	/**
	 * interrupt() - the transport's handler for this queue's doorbell
	 * (Linux vring_interrupt())
	 *
	 * Runs the callback when work may be pending. Needs no lock: may run
	 * concurrently with the driver's serialised calls (it only compares
	 * indices, and never marks the queue broken).
	 *
	 * Context: atomic.
	 * Return: false when there was nothing to do (IRQ_NONE), true otherwise
	 * (also when broken: the callback does not run then).
	 */
	bool interrupt();
	/**
	 * break_ring() - the device is gone (a crash, a reset): break the queue
	 *
	 * Marks the queue broken and runs its callback once, so that a driver
	 * waiting on the queue (a sender waiting for a buffer) finds out now
	 * rather than at its timeout; Linux's virtio_break_device() leaves
	 * waiters to their timeouts. The callback sees is_broken().
	 *
	 * Context: atomic (the callback's context), with the transport's
	 * interrupt path excluded from freeing the queue.
	 */
	void break_ring();

	/**
	 * num_free() - free descriptors
	 *
	 * Context: any.
	 * Return: the count.
	 */
	u32 num_free() const { return m_num_free; }
	/**
	 * num() - entries of the ring
	 *
	 * Context: any.
	 * Return: the size.
	 */
	u32 num() const { return m_layout.num; }
	/**
	 * index() - the queue's index in its device
	 *
	 * Context: any.
	 * Return: the index.
	 */
	u16 index() const { return m_index; }
	/**
	 * name() - the queue's name
	 *
	 * Context: any.
	 * Return: the name.
	 */
	const char *name() const { return m_name; }
	/**
	 * layout() - the ring's layout
	 *
	 * Context: any.
	 * Return: the layout.
	 */
	const VringLayout &layout() const { return m_layout; }
	/**
	 * ring() - the ring's window
	 *
	 * Context: any.
	 * Return: the region.
	 */
	const ShmRegion &ring() const { return m_ring; }
	/**
	 * event_idx() - does the ring use VIRTIO_RING_F_EVENT_IDX?
	 *
	 * Context: any.
	 * Return: true when it does.
	 */
	bool event_idx() const { return m_event; }
	/**
	 * little_endian() - the ring's byte order
	 *
	 * Context: any.
	 * Return: true when little endian.
	 */
	bool little_endian() const { return m_le; }
	/**
	 * vdev() - the device
	 *
	 * Context: any.
	 * Return: the device, or nullptr (tests).
	 */
	VirtioDevice *vdev() const { return m_vdev; }
	/**
	 * transport_priv() - the transport's per-queue state, as its type T
	 *
	 * Context: any.
	 * Return: VqConfig::transport_priv.
	 */
	template <typename T> T *transport_priv() const
	{
		return static_cast<T *>(m_transport_priv);
	}
	/**
	 * set_priv() - set the driver's per-queue data (Linux vq->priv)
	 * @p: the data, for the callback
	 *
	 * Context: any; before callbacks can run.
	 */
	void set_priv(void *p) { m_priv = p; }
	/**
	 * priv() - the driver's per-queue data, as its type T
	 *
	 * Context: any.
	 * Return: what set_priv() stored, or nullptr.
	 */
	template <typename T> T *priv() const { return static_cast<T *>(m_priv); }

	/* Link in VirtioDevice's queue list (owned by the transport's find_vqs/del_vqs). */
	keel::ListNode m_node;

private:
	/* What a descriptor's private shadow needs: its link in the free list or chain. */
	struct DescExtra {
		u16 next;
	};
	struct HeadState {
		void *token;
		u32 in_len; /* writable bytes: the bound on the used length */
		u16 ndescs;
	};

	VirtQueue(const VqConfig &cfg, const VringLayout &layout, const ShmRegion &ring);
	/*
	 * The accessors take the ring's byte order (m_le); the hot paths are
	 * templates on it (LE), entered once per call by the public function,
	 * so that a ring in the CPU's order converts nothing per field.
	 */
	void put16(size_t off, u16 v, bool le);
	void put16(size_t off, u16 v) { put16(off, v, m_le); }
	void put16_mb(size_t off, u16 v, bool le);
	void put16_mb(size_t off, u16 v) { put16_mb(off, v, m_le); }
	u16 get16(size_t off, bool le);
	u16 get16(size_t off) { return get16(off, m_le); }
	template <bool LE>
	Result<void> add_sgs_as(keel::Span<const Sg> out, keel::Span<const Sg> in, void *token);
	template <bool LE> bool kick_prepare_as();
	template <bool LE> Result<bool> has_used_as();
	template <bool LE> Result<UsedBuf> get_buf_as();
	void *detach_buf(u16 head);
	bool set_no_interrupt(bool on);
	u16 last_used() const { return m_last_used_idx.load(keel::MemoryOrder::Relaxed); }

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
	/*
	 * used->idx as get_buf() last loaded and checked it (at most num
	 * ahead of m_last_used_idx then): the entries up to it are published
	 * and are taken without loading used->idx again, one load per batch.
	 */
	u16 m_used_idx_seen = 0;
	u16 m_num_added = 0;
	keel::UniqueArray<DescExtra> m_extra;
	keel::UniqueArray<HeadState> m_state;
};

/**
 * class VringhChain - one available chain taken by the device side
 *
 * The head, and its readable and writable segments as checked windows of
 * shared memory (each a ShmRegion: bounds-checked access, its own device
 * address). The caller owns the segment storage (no allocation per
 * chain); see VringhChainStorage. Valid from getdesc() until add_used().
 */
class VringhChain {
public:
	/**
	 * VringhChain() - an empty chain over the caller's segment storage
	 * @rd: room for readable segments
	 * @wr: room for writable segments
	 *
	 * Context: any.
	 */
	VringhChain(keel::Span<ShmRegion> rd, keel::Span<ShmRegion> wr)
	    : m_rd_store(rd), m_wr_store(wr)
	{
	}

	/**
	 * head() - the chain's head descriptor
	 *
	 * Context: any.
	 * Return: the head index.
	 */
	u16 head() const { return m_head; }
	/**
	 * valid() - does it hold a chain taken by getdesc()?
	 *
	 * Context: any.
	 * Return: true from getdesc() until add_used().
	 */
	bool valid() const { return m_valid; }
	/**
	 * readable() - the device-readable segments
	 *
	 * Context: any.
	 * Return: the segments, in chain order.
	 */
	keel::Span<const ShmRegion> readable() const { return { m_rd_store.data(), m_nr_rd }; }
	/**
	 * writable() - the device-writable segments
	 *
	 * Context: any.
	 * Return: the segments, in chain order.
	 */
	keel::Span<const ShmRegion> writable() const { return { m_wr_store.data(), m_nr_wr }; }
	/**
	 * read_len() - total bytes of the readable segments
	 *
	 * Context: any.
	 * Return: the sum (fits in u32: getdesc() checks it).
	 */
	u32 read_len() const { return m_rd_len; }
	/**
	 * write_len() - total bytes of the writable segments
	 *
	 * Context: any.
	 * Return: the sum (fits in u32).
	 */
	u32 write_len() const { return m_wr_len; }

	/**
	 * pull() - copy readable bytes out, continuing where the last pull stopped
	 * @dst: where to
	 * @len: bytes wanted
	 *
	 * Context: any.
	 * Return: bytes copied (fewer than @len at the end of the readable
	 * segments).
	 */
	size_t pull(void *dst, size_t len);
	/**
	 * push() - copy bytes into the writable segments, after the last push
	 * @src: where from
	 * @len: bytes
	 *
	 * Context: any.
	 * Return: bytes copied (fewer than @len when the segments are full);
	 * pushed() totals them.
	 */
	size_t push(const void *src, size_t len);
	/**
	 * pushed() - bytes push()ed so far: what to pass to add_used()
	 *
	 * Context: any.
	 * Return: the total.
	 */
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

/**
 * class VringhChainStorage - a VringhChain with room for R readable and W
 * writable segments inside itself
 *
 * A chain with more segments is refused by getdesc() (-EIO).
 */
template <size_t R, size_t W> class VringhChainStorage : public VringhChain {
public:
	/**
	 * VringhChainStorage() - an empty chain over its own storage
	 *
	 * Context: any.
	 */
	VringhChainStorage() : VringhChain(keel::Span<ShmRegion>(m_r), keel::Span<ShmRegion>(m_w))
	{
	}

private:
	ShmRegion m_r[R];
	ShmRegion m_w[W];
};

/**
 * struct VringhConfig - the device side's view of a ring
 * @name: the ring's name, in log lines
 * @num: entries (VringLayout::compute())
 * @align: the used ring's alignment
 * @ring: the ring's bytes as the device sees them (written by the driver)
 * @mem: where descriptor addresses point (device addresses translated with
 *	mem.da_to_offset()); may be the same window as @ring's parent
 * @little_endian: the driver's byte order for this ring (VIRTIO_F_VERSION_1
 *	negotiated, or a legacy driver that is little endian)
 * @event_idx: VIRTIO_RING_F_EVENT_IDX was negotiated
 * @dev: the device to log against, or nullptr
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

/**
 * class Vringh - the device side of a split ring (Linux struct vringh)
 *
 * No lock of its own: the caller serialises the calls on one ring.
 *
 * Invariants: m_last_avail_idx counts chains taken; m_last_used_idx is the
 * last used->idx published; a head is handed out iff its bit is set in
 * m_outstanding. Once broken it stays broken.
 */
class Vringh : keel::NonMovable, public detail::RingBroken {
public:
	/**
	 * create() - a device-side ring over @cfg's window
	 * @cfg: the ring's parameters
	 * @gfp: the allocation context of the private state
	 *
	 * Does not touch the ring (the driver initialises it).
	 *
	 * Context: may sleep with GFP_KERNEL.
	 * Return: the ring; -EINVAL for a bad size, alignment or window,
	 * -ENOMEM.
	 */
	static Result<keel::UniquePtr<Vringh>> create(const VringhConfig &cfg, keel::Gfp gfp)
		KEEL_EXPORT_AS(keel_vringh_create);

	/**
	 * getdesc() - take the next available chain (Linux vringh_getdesc_kern())
	 * @chain: filled with the chain's head and checked segments
	 *
	 * Context: any.
	 * Return: true with @chain filled, false when the avail ring is empty;
	 * -EIO when broken or the chain is bad (head/next out of range, loop,
	 * longer than num, indirect, segment outside @mem, readable after
	 * writable, more than 4 GiB, more segments than @chain can hold, avail
	 * idx ahead by more than num), which breaks the ring.
	 */
	Result<bool> getdesc(VringhChain &chain);
	/**
	 * avail_pending() - chains made available and not yet taken
	 *
	 * Loads avail->idx only when every chain seen published so far is
	 * taken: otherwise it answers from that earlier load.
	 *
	 * Context: any.
	 * Return: the count (at least 1 when any is pending, all of them after
	 * a fresh load); -EIO when broken or avail->idx is ahead by more than
	 * num.
	 */
	Result<u16> avail_pending()
	{
		if (is_broken())
			return keel::err(-EIO);
		/* Chains of the last load still to take: no load. */
		if (m_avail_idx_seen != m_last_avail_idx)
			return u16(m_avail_idx_seen - m_last_avail_idx);
		return load_avail_idx();
	}

	/**
	 * add_used() - return @chain to the driver (Linux vringh_complete_kern())
	 * @chain: a chain getdesc() handed out
	 * @len: bytes written into its writable segments
	 *
	 * The chain is invalid afterwards.
	 *
	 * Context: any.
	 * Return: 0; -EINVAL when @chain was not handed out by this ring or
	 * @len exceeds its writable length; -EIO when broken.
	 */
	Result<void> add_used(VringhChain &chain, u32 len);
	/**
	 * push_used() - write @chain's used entry, not yet published
	 * @chain: a chain getdesc() handed out
	 * @len: bytes written into its writable segments
	 *
	 * For returning a batch with one used->idx store: push_used() each
	 * chain, then publish_used() (or need_notify(), which publishes
	 * first). add_used() is both. The chain is invalid afterwards.
	 *
	 * Context: any.
	 * Return: as add_used().
	 */
	Result<void> push_used(VringhChain &chain, u32 len);
	/**
	 * publish_used() - store used->idx past every pushed entry
	 *
	 * Context: any.
	 * Return: 0 (also when nothing was pushed); -EIO when broken.
	 */
	Result<void> publish_used();
	/**
	 * need_notify() - should the driver be interrupted for what add_used()
	 * published? (Linux vringh_need_notify_kern())
	 *
	 * Publishes what push_used() left unpublished first.
	 *
	 * Context: any.
	 * Return: true when it asked for it (event index, or no
	 * VRING_AVAIL_F_NO_INTERRUPT).
	 */
	bool need_notify();
	/**
	 * notify_disable() - ask the driver not to kick (vringh_notify_disable_kern())
	 *
	 * An unreliable hint: the driver may kick anyway.
	 *
	 * Context: any.
	 */
	void notify_disable();
	/**
	 * notify_enable() - ask for kicks again, then re-check the avail ring
	 *
	 * Context: any.
	 * Return: true when nothing is pending or the ring is broken (nothing
	 * to wait for: check is_broken()), false when chains raced in and the
	 * caller must poll again. Same answers as VirtQueue::enable_cb().
	 */
	bool notify_enable();

	/**
	 * num() - entries of the ring
	 *
	 * Context: any.
	 * Return: the size.
	 */
	u32 num() const { return m_layout.num; }
	/**
	 * name() - the ring's name
	 *
	 * Context: any.
	 * Return: the name.
	 */
	const char *name() const { return m_name; }
	/**
	 * layout() - the ring's layout
	 *
	 * Context: any.
	 * Return: the layout.
	 */
	const VringLayout &layout() const { return m_layout; }
	/**
	 * event_idx() - does the ring use VIRTIO_RING_F_EVENT_IDX?
	 *
	 * Context: any.
	 * Return: true when used_event/avail_event are in use.
	 */
	bool event_idx() const { return m_event; }

private:
	Vringh(const VringhConfig &cfg, const VringLayout &layout);
	u16 get16(size_t off);
	void put16(size_t off, u16 v);
	VringDesc read_desc(size_t off) const;
	Result<u16> load_avail_idx();
	void invalidate_avail(u16 from, u16 n);
	Result<void> push_used_one(VringhChain &chain, u32 len);
	Result<void> publish_used_now();
	Result<void> walk_chain(u16 head, VringhChain &chain);
	Result<void> add_segment(u16 i, const VringDesc &d, VringhChain &chain, u64 &rd, u64 &wr);
	/* Bit @i of @map, for i < num (the maps hold num bits; callers check i first). */
	static bool test_bit(const keel::UniqueArray<u64> &map, u32 i)
	{
		return map.data()[i / 64] & (u64(1) << (i % 64));
	}
	static void set_bit(keel::UniqueArray<u64> &map, u32 i)
	{
		map.data()[i / 64] |= u64(1) << (i % 64);
	}
	static void clear_bit(keel::UniqueArray<u64> &map, u32 i)
	{
		map.data()[i / 64] &= ~(u64(1) << (i % 64));
	}

	VringLayout m_layout;
	ShmRegion m_ring;
	ShmRegion m_mem;
	const char *m_name;
	const keel::Device *m_dev;
	bool m_le;
	bool m_event;
	/*
	 * The avail side: the next chain to take, and avail->idx as last
	 * loaded and checked (at most num ahead of the next chain then): the
	 * chains up to it are published and are taken without loading
	 * avail->idx again, one load per batch.
	 */
	u16 m_last_avail_idx = 0, m_avail_idx_seen = 0;
	/*
	 * The used side: the next entry, used->idx as publish_used() last
	 * stored it, and as it was at the last need_notify() (the "old" of
	 * vring_need_event()).
	 */
	u16 m_last_used_idx = 0, m_used_idx_published = 0, m_signalled_used = 0;
	/* Chains used since the last need_notify() (may exceed 16 bits). */
	u32 m_completed = 0;
	keel::UniqueArray<u64> m_outstanding;
	keel::UniqueArray<u64> m_visited;
	keel::UniqueArray<u16> m_chain;
};

} // namespace virtio

#endif
