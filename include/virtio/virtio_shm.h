/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The shared-memory virtio transport (Linux drivers/remoteproc/
 * remoteproc_virtio.c for the host role; OpenAMP's remoteproc_virtio for the
 * remote role): a resource table, vrings and buffers in one region both
 * processors map, and a Doorbell between them.
 *
 *  - ShmHost (the virtio driver side): finds the remote's table, validates
 *    a private snapshot of it, places the vrings the table leaves to the
 *    host (da == FW_RSC_ADDR_ANY) with a carveout allocator over the region,
 *    assigns notify ids, writes da, notifyid, gfeatures and status back
 *    into the vdev entries, and registers one VirtioDevice per vdev whose
 *    config ops read and write that entry. Doorbell interrupts are routed
 *    to the queue with that notify id.
 *  - ShmRemote (the virtio device side): publishes the table, waits for
 *    DRIVER_OK, checks the vring addresses the host wrote, and builds
 *    device-side queues (Vringh) on them.
 *
 * Region layout (Documentation/shm-transport.rst has the picture):
 *
 *	0x0000  ShmHeader (two 64-byte lines): the remote's line (magic,
 *		version, table offset and size, remote generation and state)
 *		and the host's (host generation)
 *	rsc_off the resource table (written by the remote, the host writes
 *		back only vring da/notifyid, carveout da/pa, gfeatures, status)
 *	...     the host's pool: vrings with da == ANY, driver buffers
 *
 * The remote is untrusted; the host is trusted by the remote only as far as
 * the memory it may touch: the remote checks every vring address the host
 * writes against the region.
 *
 * Sessions: the remote bumps remote_gen each time it publishes (boot); the
 * host bumps host_gen each time it attaches. The remote drops its queues
 * when it sees host_gen change or the status leave DRIVER_OK, and says so
 * in host_gen_in_use (its own line); the host's attach writes no ring or
 * buffer of a new session before the remote has left every older one
 * (Documentation/shm-transport.rst, "Leaving a host session"). The host
 * zeroes each vring it creates, so no index survives a restart.
 */
#ifndef VIRTIO_VIRTIO_SHM_H
#define VIRTIO_VIRTIO_SHM_H

#include <keel/alloc.h>
#include <keel/doorbell.h>
#include <keel/endian.h>
#include <keel/refcount.h>
#include <keel/shm.h>
#include <keel/spinlock.h>
#include <keel/wait.h>
#include <remoteproc/rsc_table.h>
#include <virtio/virtio.h>
#include <virtio/virtio_ring.h>

namespace virtio {

/* "KSHM" */
inline constexpr u32 SHM_MAGIC = 0x4D48534Bu;
/*
 * 3: the remote reports the host session it still uses (host_gen_in_use);
 * 2: each writer's header fields in lines of their own (1 shared one line).
 * The host accepts SHM_VERSION_MIN..SHM_VERSION: a version-2 remote leaves
 * host_gen_in_use zero, so the host's attach cannot wait for it (logged).
 */
inline constexpr u32 SHM_VERSION = 3;
inline constexpr u32 SHM_VERSION_MIN = 2;
/**
 * enum ShmRemoteState - the values of ShmHeader.remote_state
 * @SHM_REMOTE_NONE: no table published, or one being rewritten
 * @SHM_REMOTE_READY: the table is complete
 */
enum ShmRemoteState : u32 {
	SHM_REMOTE_NONE = 0,
	SHM_REMOTE_READY = 1,
};
/* Largest table the host snapshots. */
inline constexpr u32 SHM_MAX_TABLE = 4096;
/*
 * The transport's cache-line size: on a port where the region is cached
 * but not coherent, cache maintenance works on lines of this size, so no
 * line may hold bytes that both sides write. The header keeps each
 * writer's fields in lines of their own, vrings need an align of at least
 * this (VringLayout::compute()'s @line), and every block the host places
 * or allocates starts on a line and does not share its last line. A port
 * with larger lines cannot use this layout non-coherently (see
 * Documentation/shm-transport.rst, "Cache lines and writers").
 */
inline constexpr u32 SHM_CACHE_LINE = 64;
/* Default placement of the table: the first line after the header. */
inline constexpr u32 SHM_DEFAULT_RSC_OFFSET = 0x80;

/**
 * struct ShmHeader - at offset 0 of the region; little endian; two lines
 * @magic: SHM_MAGIC
 * @version: SHM_VERSION
 * @rsc_offset: the resource table's offset from the region start (a
 *	multiple of SHM_CACHE_LINE, past the header)
 * @rsc_size: the table's size in bytes
 * @remote_gen: the remote session, bumped at every publish
 * @remote_state: an enum ShmRemoteState: READY once the table is complete
 * @seq: the publish sequence (a seqcount): odd while the remote rewrites
 *	the table and this line, bumped to the next even value when done. The
 *	host takes a copy only if it read the same even value before and after.
 * @host_gen_in_use: the oldest host session (a host_gen) whose queues the
 *	remote still holds, 0 when it holds none. Written when the remote
 *	claims a session (before it reads that session's placement) and
 *	whenever it drops queues (publish() writes 0). The host's attach of
 *	session N waits while it reads a value in 1..N-1 (version 3).
 * @reserved0: zero
 * @host_gen: the host session, bumped at every attach
 * @reserved1: zero
 *
 * The first line is written by the remote only, the second by the host
 * only (the host never writes the remote's line, nor the remote the
 * host's), so that each side's cache maintenance touches only its own
 * fields.
 */
struct ShmHeader {
	/* Line 0: the remote's. */
	keel::le32 magic;
	keel::le32 version;
	keel::le32 rsc_offset;
	keel::le32 rsc_size;
	keel::le32 remote_gen;
	keel::le32 remote_state;
	keel::le32 seq;
	keel::le32 host_gen_in_use;
	keel::le32 reserved0[8];
	/* Line 1: the host's. */
	keel::le32 host_gen;
	keel::le32 reserved1[15];
};
static_assert(sizeof(ShmHeader) == 2 * SHM_CACHE_LINE);
static_assert(__builtin_offsetof(ShmHeader, host_gen) == SHM_CACHE_LINE);
static_assert(SHM_DEFAULT_RSC_OFFSET % SHM_CACHE_LINE == 0 &&
	      SHM_DEFAULT_RSC_OFFSET >= sizeof(ShmHeader));
inline constexpr size_t SHM_HDR_REMOTE_GEN = __builtin_offsetof(ShmHeader, remote_gen);
inline constexpr size_t SHM_HDR_HOST_GEN = __builtin_offsetof(ShmHeader, host_gen);
inline constexpr size_t SHM_HDR_REMOTE_STATE = __builtin_offsetof(ShmHeader, remote_state);
inline constexpr size_t SHM_HDR_SEQ = __builtin_offsetof(ShmHeader, seq);
inline constexpr size_t SHM_HDR_IN_USE = __builtin_offsetof(ShmHeader, host_gen_in_use);
static_assert(SHM_HDR_IN_USE < SHM_CACHE_LINE);
/* The remote's line of the header, and the host's. */
inline constexpr size_t SHM_HDR_REMOTE_LINE = 0;
inline constexpr size_t SHM_HDR_HOST_LINE = SHM_CACHE_LINE;

/**
 * struct ShmAlloc - a block of the shared region handed to a driver
 * @cpu: the CPU's address of the block (nullptr: no block)
 * @da: the device address of the block (what descriptors carry)
 * @offset: its offset in the region
 * @size: its size
 *
 * Made by shm_dma_alloc() (the rpmsg buffers), returned to
 * shm_dma_free().
 */
struct ShmAlloc {
	void *cpu = nullptr;
	u64 da = 0;
	size_t offset = 0;
	size_t size = 0;
};

class ShmHost;

/**
 * shm_transport_region() - the region a device of this transport lives in
 * @vdev: a virtio device
 *
 * For drivers building Sg::from() on their buffers.
 *
 * Context: any.
 * Return: the region, or nullptr when @vdev is not a device of this
 * transport.
 */
const keel::ShmRegion *shm_transport_region(VirtioDevice &vdev);
/**
 * shm_dma_alloc() - shared memory for a driver's buffers (the transport's
 * dma_alloc_coherent())
 * @vdev: a device of this transport
 * @size: bytes wanted
 * @align: alignment, a power of two (at least a cache line is used)
 *
 * Zeroed. Freed with shm_dma_free(), or with the pool when the host
 * detaches.
 *
 * Context: may sleep.
 * Return: the block; -ENODEV when @vdev is not a device of this transport,
 * -EINVAL for an @align that is not a power of two, -ENOMEM when the pool
 * has no room.
 */
Result<ShmAlloc> shm_dma_alloc(VirtioDevice &vdev, size_t size, size_t align);
/**
 * shm_dma_free() - give back what shm_dma_alloc() returned
 * @vdev: the device it was allocated for
 * @a: the block (an empty one is ignored)
 *
 * Context: may sleep.
 */
void shm_dma_free(VirtioDevice &vdev, const ShmAlloc &a) KEEL_EXPORT_AS(keel_virtio_shm_dma_free);

/**
 * struct ShmHostConfig - what ShmHost::create() needs
 * @name: the host's name, in log lines
 * @region: the shared region: page-aligned device address, two pages or more
 * @doorbell: the interrupt line to the remote (its handlers become the
 *	host's)
 * @crashed: called (atomic context) when the doorbell reports the peer
 *	gone, after the devices are broken; may be nullptr
 * @crashed_ctx: its argument
 * @parent: parent of the virtio devices (DMA os_dev, logs); may be nullptr
 * @register_devices: register each device with the virtio bus on attach
 *	(tests may drive the ops by hand instead)
 */
struct ShmHostConfig {
	const char *name = "shm";
	keel::ShmRegion region;
	keel::Doorbell *doorbell = nullptr;
	/* Called (atomic context) when the doorbell reports the peer gone, after the devices are broken. */
	void (*crashed)(void *ctx) = nullptr;
	void *crashed_ctx = nullptr;
	/* Parent of the virtio devices (DMA os_dev, logs); may be null. */
	keel::Device *parent = nullptr;
	/* Register each device with the virtio bus on attach (tests may drive the ops by hand). */
	bool register_devices = true;
};

/**
 * class ShmHost - the host role of the transport over one region and doorbell
 *
 * Locking: m_lock (a SpinLock, taken in the doorbell handler) guards the
 * notify id -> queue map; m_pool_lock (a SpinLock) guards the allocator's
 * blocks (alloc/free may come from driver probes while attached);
 * everything else is process context, serialised by the caller
 * (attach/detach) and the virtio bus lock (config ops). Lock order:
 * virtio bus lock -> m_lock; m_pool_lock nests in no other.
 */
class ShmHost : keel::NonMovable {
public:
	/**
	 * create() - a host over @cfg's region and doorbell, not attached
	 * @cfg: the configuration
	 * @gfp: the allocation context
	 *
	 * Takes over the doorbell's handlers and enables it.
	 *
	 * Context: may sleep with GFP_KERNEL.
	 * Return: the host; -EINVAL for a region that is not page-aligned or
	 * smaller than two pages, or no doorbell; -ENOMEM.
	 */
	static Result<keel::UniquePtr<ShmHost>> create(const ShmHostConfig &cfg, keel::Gfp gfp)
		KEEL_EXPORT_AS(keel_virtio_shm_host_create);
	~ShmHost();

	/**
	 * attach() - take the remote's table and create its devices
	 * @timeout_ns: how long to wait, in all, for a published table and
	 *	for the remote to leave an earlier host session
	 *
	 * Waits for a complete table (re-reading it while the remote rewrites
	 * it) and validates a private snapshot. Then starts a new host session:
	 * resets every vdev's status, bumps host_gen, and waits until the
	 * remote holds no queue of an older session (host_gen_in_use 0 or at
	 * least the new host_gen; a remote that published but never built
	 * queues, or a region reset since, shows 0 and is not waited for).
	 * Only then places vrings and carveouts and creates (and registers) the
	 * vdevs, whose probes write the rings and buffers.
	 *
	 * Context: may sleep.
	 * Return: 0; -ETIMEDOUT when no complete table appeared in time, or the
	 * remote stayed in an older host session (both logged), -EPROTO when
	 * the remote claims a host session that has not started (logged),
	 * -EINVAL for a bad table (logged), -ENOMEM when the region is too
	 * small, -EBUSY when attached already.
	 */
	Result<void> attach(s64 timeout_ns);
	/**
	 * detach() - unregister and free the vdevs, reset their status, free the pool
	 *
	 * Context: may sleep.
	 */
	void detach();
	/**
	 * reset_region() - zero the whole region
	 *
	 * After a remote crash, before it boots again: no table, ring or index
	 * survives.
	 *
	 * Context: may sleep.
	 * Return: 0; -EBUSY while attached.
	 */
	Result<void> reset_region();

	/**
	 * attached() - are the remote's devices created?
	 *
	 * Context: any.
	 * Return: true between attach() and detach().
	 */
	bool attached() const { return m_attached; }
	/**
	 * crashed() - has the doorbell reported the remote gone?
	 *
	 * Context: any.
	 * Return: true until clear_crashed().
	 */
	bool crashed() const { return m_crashed.load(); }
	/**
	 * mark_crashed() - the remote is gone: break every queue now
	 *
	 * Every queue is broken and its driver's callback runs once
	 * (VirtQueue::break_ring()), so that its senders fail at once. The
	 * peer-down callback does this before calling the crashed callback; a
	 * remoteproc core calls it for every crash it is told of.
	 *
	 * Context: any.
	 */
	void mark_crashed();
	/**
	 * remote_restarted() - has the remote published again since attach()?
	 *
	 * A new remote session that the host did not start: the old rings are
	 * stale. Only while attached (the caller orders it after attach() and
	 * before detach()).
	 *
	 * Context: any.
	 * Return: true when the remote's session number moved.
	 */
	bool remote_restarted() const;
	/**
	 * clear_crashed() - forget the crash (after reset_region(), before the
	 * next attach)
	 *
	 * Context: any.
	 */
	void clear_crashed() { m_crashed.store(false); }
	/**
	 * num_vdevs() - devices the attached table declares
	 *
	 * Context: any.
	 * Return: the count.
	 */
	u32 num_vdevs() const { return m_num_vdevs; }
	/**
	 * vdev() - the virtio device of table entry @i
	 * @i: the vdev's index in the table
	 *
	 * Context: any; while attached.
	 * Return: the device, or nullptr out of range or when not attached.
	 */
	VirtioDevice *vdev(u32 i) const;
	/**
	 * table() - the validated snapshot of the remote's table
	 *
	 * Context: any; while attached.
	 * Return: the parsed table.
	 */
	const rproc::RscTableInfo &table() const { return m_info; }
	/**
	 * region() - the shared region
	 *
	 * Context: any.
	 * Return: the region.
	 */
	const keel::ShmRegion &region() const { return m_region; }
	/**
	 * host_gen() - the host session number, bumped at every attach
	 *
	 * Context: any.
	 * Return: the generation.
	 */
	u32 host_gen() const { return m_host_gen; }

	/**
	 * alloc() - a zeroed block of the host's pool (shm_dma_alloc()'s backend)
	 * @size: bytes
	 * @align: alignment, a power of two (at least a cache line is used:
	 *	blocks of two owners never share one)
	 *
	 * Context: any (the pool lock is a spinlock).
	 * Return: the block; -EINVAL for a bad @align, -ENOMEM when full.
	 */
	Result<ShmAlloc> alloc(size_t size, size_t align);
	/**
	 * free() - give a block back to the pool
	 * @a: a block from alloc() (an empty one is ignored)
	 *
	 * Context: any.
	 */
	void free(const ShmAlloc &a);

private:
	struct Vring {
		ShmHost *host = nullptr;
		u32 vdev = 0;
		u32 index = 0;
		u32 notifyid = 0;
		size_t offset = 0;	 /* of the ring in the region */
		VirtQueue *vq = nullptr; /* GUARDED_BY(m_lock) for the interrupt path */
	};
	struct Vdev {
		ShmHost *host = nullptr;
		u32 index = 0;
		u8 status = 0; /* shadow of what we wrote */
		/* The transport's reference (VirtioDevice::create()). */
		keel::RefPtr<VirtioDevice> dev;
		Vring vring[rproc::RVDEV_NUM_VRINGS];
	};
	struct Block {
		size_t start, end;
		bool fixed; /* placed by the table, never freed */
	};
	static constexpr u32 MAX_BLOCKS = 32;

	explicit ShmHost(const ShmHostConfig &cfg);
	Result<void> snapshot_table(s64 deadline);
	Result<void> start_session(s64 deadline);
	Result<void> wait_remote_left(s64 deadline);
	Result<size_t> copy_table(bool *changing);
	Result<void> check_vrings();
	Result<void> place_resources();
	bool in_carveout(u32 da, u32 len) const;
	Result<void> place_vrings();
	Result<void> create_vdevs();
	Result<void> reserve(size_t start, size_t len, bool fixed);
	Result<size_t> alloc_offset(size_t size, size_t align);
	void free_offset(size_t start);
	Result<void> table_write32(size_t table_off, u32 v);
	static void doorbell_handler(void *ctx, u32 notifyid);
	static void peer_down(void *ctx);

	friend struct ShmHostOps;

	const char *m_name;
	keel::ShmRegion m_region;
	keel::Doorbell *m_doorbell;
	void (*m_crashed_fn)(void *);
	void *m_crashed_ctx;
	keel::Device *m_parent;
	bool m_register;

	bool m_attached = false;
	keel::Atomic<bool> m_crashed{ false };
	u32 m_host_gen = 0;
	/* The publish we attached to: remote_gen and the (even) sequence. */
	u32 m_remote_gen = 0;
	u32 m_remote_seq = 0;
	u32 m_remote_version = 0;
	size_t m_rsc_off = 0;
	u8 m_table[SHM_MAX_TABLE];
	rproc::RscTableInfo m_info;
	u32 m_num_vdevs = 0;
	Vdev m_vdevs[rproc::RSC_MAX_VDEVS];
	keel::SpinLock m_lock{ "virtio_shm_host", KEEL_LOCK_KEY() };
	/* Guards the pool (alloc/free may come from driver probes while attached). */
	keel::SpinLock m_pool_lock{ "virtio_shm_pool", KEEL_LOCK_KEY() };
	Block m_blocks[MAX_BLOCKS];
	u32 m_num_blocks = 0;
};

/**
 * struct ShmRemoteConfig - what ShmRemote::create() needs
 * @name: the remote's name, in log lines
 * @region: the shared region
 * @doorbell: the interrupt line to the host (its handler becomes the
 *	remote's)
 * @rsc_offset: where to publish the table: a cache-line multiple past the
 *	header
 * @num_vdevs: devices in the table (1..RSC_MAX_VDEVS)
 * @vdevs: each device's entry (id, features, vrings, config space)
 * @num_traces: trace buffers (RSC_TRACE entries, published before the
 *	vdevs)
 * @traces: each one: text logs the remote writes at @da (inside the
 *	region, outside the table), @len bytes, named @name
 * @kick: called (doorbell context: must not sleep) when the host rings,
 *	with the vdev and vring of the queue, or DOORBELL_ANY for both when
 *	the ring did not say which
 * @kick_ctx: its first argument
 */
struct ShmRemoteConfig {
	const char *name = "shm-remote";
	keel::ShmRegion region;
	keel::Doorbell *doorbell = nullptr;
	u32 rsc_offset = SHM_DEFAULT_RSC_OFFSET;
	u32 num_vdevs = 0;
	rproc::VdevSpec vdevs[rproc::RSC_MAX_VDEVS];
	u32 num_traces = 0;
	/**
	 * struct Trace - one trace buffer of ShmRemoteConfig
	 * @da: its address in the region
	 * @len: its size in bytes
	 * @name: its name in the table
	 */
	struct Trace {
		u32 da;
		u32 len;
		const char *name;
	};
	Trace traces[rproc::RSC_MAX_TRACES] = {};
	void (*kick)(void *ctx, u32 vdev, u32 vring) = nullptr;
	void *kick_ctx = nullptr;
};

/**
 * class ShmRemote - the remote role: one published table, device-side queues
 *
 * No lock of its own: the caller serialises publish(), wait_driver_ok()
 * and drop_queues(); the doorbell handler only reads what a ready vdev
 * published through atomics (ready, notifyid).
 *
 * Context: publish/wait_driver_ok/vringh may sleep; notify() and the state
 * queries are callable from any context.
 */
class ShmRemote : keel::NonMovable {
public:
	/**
	 * create() - a remote over @cfg's region and doorbell, not published
	 * @cfg: the configuration
	 * @gfp: the allocation context
	 *
	 * Context: may sleep with GFP_KERNEL.
	 * Return: the remote; -EINVAL for a bad configuration (no region or
	 * doorbell, a table offset inside the header or not line-aligned, no
	 * or too many vdevs or vrings), -ENOMEM.
	 */
	static Result<keel::UniquePtr<ShmRemote>> create(const ShmRemoteConfig &cfg, keel::Gfp gfp)
		KEEL_EXPORT_AS(keel_virtio_shm_remote_create);
	~ShmRemote();

	/**
	 * publish() - write the table and header (a new remote session) and
	 * ring the host
	 *
	 * Any queue of an earlier session is dropped. The header's sequence
	 * count is odd while the table is rewritten, so the host never takes a
	 * half-written copy.
	 *
	 * Context: may sleep.
	 * Return: 0; -EINVAL or -ENOSPC when the table does not fit the region
	 * or SHM_MAX_TABLE, or the doorbell's error.
	 */
	Result<void> publish();
	/**
	 * wait_driver_ok() - wait for the host's driver, then build the queues
	 * @vdev: the vdev's index in the table
	 * @timeout_ns: how long to wait
	 *
	 * Waits for DRIVER_OK in @vdev's status, then claims the host session
	 * in host_gen_in_use, reads and checks the host's vring placement and
	 * builds the Vringh of each vring. A host that starts another session
	 * meanwhile (host_gen moves, or the status leaves DRIVER_OK) makes it
	 * withdraw the claim and wait again.
	 *
	 * Context: may sleep.
	 * Return: 0; -ETIMEDOUT, -EIO when the host set FAILED, -EINVAL when
	 * the host placed a vring outside the region (or over the header or
	 * table), -ENOMEM.
	 */
	Result<void> wait_driver_ok(u32 vdev, s64 timeout_ns);
	/**
	 * vringh() - the device-side queue @vring of @vdev
	 * @vdev: the vdev's index
	 * @vring: the vring's index
	 *
	 * Context: any.
	 * Return: the queue, or nullptr before DRIVER_OK (or out of range).
	 */
	Vringh *vringh(u32 vdev, u32 vring) const;
	/**
	 * notify() - ring the host for @vring of @vdev
	 * @vdev: the vdev's index
	 * @vring: the vring's index
	 *
	 * With the notify id the host assigned.
	 *
	 * Context: any.
	 * Return: 0; -ENODEV before DRIVER_OK or out of range, or the
	 * doorbell's error (-EPIPE: the host is gone).
	 */
	Result<void> notify(u32 vdev, u32 vring);
	/**
	 * gfeatures() - the features in use by @vdev
	 * @vdev: the vdev's index
	 *
	 * What the host acknowledged (read at DRIVER_OK), masked by what this
	 * remote offered (dfeatures): a bit never offered is never used.
	 *
	 * Context: any.
	 * Return: the feature bits.
	 */
	u32 gfeatures(u32 vdev) const;
	/**
	 * status() - @vdev's live status byte
	 * @vdev: the vdev's index
	 *
	 * Read once, after invalidating its cache line.
	 *
	 * Context: any.
	 * Return: the VIRTIO_CONFIG_S_* bits (0 when out of range).
	 */
	u8 status(u32 vdev) const;
	/**
	 * host_reset() - has the host left the session @vdev's queues were
	 * built for?
	 * @vdev: the vdev's index
	 *
	 * The status is no longer DRIVER_OK, or the host's generation changed.
	 * The caller then calls drop_queues() and wait_driver_ok() again.
	 *
	 * Context: any.
	 * Return: true when it has.
	 */
	bool host_reset(u32 vdev) const;
	/**
	 * drop_queues() - free @vdev's device-side queues
	 * @vdev: the vdev's index
	 *
	 * Then tells the host, in host_gen_in_use, that the session they
	 * belonged to is left (a host's attach waits for it).
	 *
	 * Context: may sleep.
	 */
	void drop_queues(u32 vdev);
	/**
	 * session_host_gen() - the host session @vdev's queues were built in
	 * @vdev: the vdev's index
	 *
	 * Context: any.
	 * Return: the host_gen, 0 when none were built.
	 */
	u32 session_host_gen(u32 vdev) const;
	/**
	 * read_host_gen() - the host_gen in the header now
	 *
	 * Context: any.
	 * Return: the generation; an error when the header cannot be read.
	 */
	Result<u32> read_host_gen() const;
	/**
	 * remote_gen() - this remote's session number, bumped at every publish()
	 *
	 * Context: any.
	 * Return: the generation.
	 */
	u32 remote_gen() const { return m_remote_gen; }
	/**
	 * region() - the shared region
	 *
	 * Context: any.
	 * Return: the region.
	 */
	const keel::ShmRegion &region() const { return m_region; }

private:
	struct Vdev {
		rproc::VdevSpec spec;
		size_t offset = 0; /* of the FwRscVdev in the table */
		u32 gfeatures = 0;
		u32 host_gen = 0;
		/* The host session claimed in host_gen_in_use (0: none). */
		u32 claim = 0;
		/* Read by the doorbell handler while ready. */
		keel::Atomic<u32> notifyid[rproc::RVDEV_NUM_VRINGS];
		keel::UniquePtr<Vringh> vrh[rproc::RVDEV_NUM_VRINGS];
		keel::Atomic<bool> ready{ false };
	};
	explicit ShmRemote(const ShmRemoteConfig &cfg);
	Result<void> build_queues(u32 vdev);
	void set_claim(u32 vdev, u32 host_gen);
	static void doorbell_handler(void *ctx, u32 notifyid);

	const char *m_name;
	keel::ShmRegion m_region;
	keel::Doorbell *m_doorbell;
	u32 m_rsc_off;
	u32 m_num_vdevs;
	u32 m_num_traces;
	ShmRemoteConfig::Trace m_traces[rproc::RSC_MAX_TRACES];
	void (*m_kick)(void *, u32, u32);
	void *m_kick_ctx;
	u32 m_remote_gen = 0;
	/* Size of the table we published (what our builder returned): ours, not the header's. */
	size_t m_table_size = 0;
	Vdev m_vdevs[rproc::RSC_MAX_VDEVS];
	keel::WaitQueue m_wq{ "virtio_shm_remote", KEEL_LOCK_KEY() };
	u8 m_table[SHM_MAX_TABLE];
};

} // namespace virtio

#endif
