// SPDX-License-Identifier: GPL-2.0
/*
 * Shared-memory virtio transport, the host role: the virtio driver side,
 * what Linux's drivers/remoteproc/remoteproc_virtio.c does plus the
 * vdev/vring/carveout handling of remoteproc_core.c. See
 * include/virtio/virtio_shm.h and Documentation/shm-transport.rst.
 */
#include <keel/barrier.h>
#include <keel/dma.h>
#include <keel/log.h>
#include <keel/string.h>
#include <keel/time.h>
#include <virtio/virtio_shm.h>

#include "virtio_shm_internal.h"

namespace virtio {

using namespace detail;

/* --- host: the config ops of each VirtioDevice --- */

struct ShmHostOps {
	using Vdev = ShmHost::Vdev;
	using Vring = ShmHost::Vring;

	static Vdev &vd(VirtioDevice &vdev) { return *vdev.transport_priv<Vdev>(); }
	static const rproc::RscVdev &rsc(VirtioDevice &vdev)
	{
		Vdev &v = vd(vdev);
		return v.host->m_info.vdevs[v.index];
	}

	static u8 get_status(VirtioDevice &vdev) { return vd(vdev).status; }

	static void write_status(Vdev &v, u8 status)
	{
		ShmHost *h = v.host;
		const rproc::RscVdev &r = h->m_info.vdevs[v.index];
		v.status = status;
		/* Rings (zeroed and initialised by find_vqs) are visible before the status that
		 * announces them. */
		keel::virt_wmb();
		size_t off = h->m_rsc_off + rproc::vdev_field_status(r.offset);
		(void)h->m_region.peer_write<u8>(off, status);
		/* The remote polls the status; the ring only saves it a poll period. */
		(void)h->m_doorbell->ring(keel::DOORBELL_ANY);
	}
	static void set_status(VirtioDevice &vdev, u8 status) { write_status(vd(vdev), status); }
	static void reset(VirtioDevice &vdev)
	{
		/* Linux rproc_virtio_reset(): status 0; the remote stops using the rings. */
		write_status(vd(vdev), 0);
	}

	/* The table has 32 feature bits: no VIRTIO_F_VERSION_1 (bit 32), so rings are legacy. */
	static u64 get_features(VirtioDevice &vdev) { return rsc(vdev).dfeatures; }

	static Result<void> finalize_features(VirtioDevice &vdev)
	{
		for (unsigned int bit = 32; bit < 64; bit++)
			vdev.clear_feature(bit);
		Vdev &v = vd(vdev);
		return v.host->table_write32(rproc::vdev_field_gfeatures(rsc(vdev).offset),
					     u32(vdev.features()));
	}

	static Result<size_t> config_off(VirtioDevice &vdev, u32 offset, u32 len)
	{
		const rproc::RscVdev &r = rsc(vdev);
		if (!keel::range_fits(r.config_len, offset, len))
			return err(-EINVAL);
		return vd(vdev).host->m_rsc_off + r.config_offset + offset;
	}
	static Result<void> get_config(VirtioDevice &vdev, u32 offset, void *buf, u32 len)
	{
		size_t off = TRY(config_off(vdev, offset, len));
		const keel::ShmRegion &reg = vd(vdev).host->m_region;
		TRY(reg.invalidate(off, len));
		return reg.copy_from(buf, off, len);
	}
	static Result<void> set_config(VirtioDevice &vdev, u32 offset, const void *buf, u32 len)
	{
		size_t off = TRY(config_off(vdev, offset, len));
		const keel::ShmRegion &reg = vd(vdev).host->m_region;
		TRY(reg.copy_to(off, buf, len));
		return reg.clean(off, len);
	}

	static void del_vqs(VirtioDevice &vdev)
	{
		Vdev &v = vd(vdev);
		for (auto &r : v.vring) {
			VirtQueue *vq;
			{
				/* Unpublish first: no interrupt reaches the queue once it is freed.
				 */
				Guard g{ v.host->m_lock };
				vq = keel::exchange(r.vq, nullptr);
			}
			if (vq)
				vdev.del_vq(vq);
		}
	}

	static Result<void> find_vqs(VirtioDevice &vdev, keel::Span<const VqInfo> infos,
				     keel::Span<VirtQueue *> vqs)
	{
		Vdev &v = vd(vdev);
		const rproc::RscVdev &r = rsc(vdev);
		if (infos.size() > r.num_of_vrings || vqs.size() < infos.size()) {
			dev_err(&vdev, "%zu queues requested, the table declares %u", infos.size(),
				r.num_of_vrings);
			return err(-EINVAL);
		}
		for (u32 i = 0; i < infos.size(); i++) {
			vqs[i] = nullptr;
			if (!infos[i].name)
				continue;
			Result<VirtQueue *> vq = new_vq(vdev, v, r, i, infos[i]);
			if (vq.is_error()) {
				del_vqs(vdev);
				return vq.error();
			}
			vqs[i] = vq.value();
		}
		return ok();
	}

	static Result<VirtQueue *> new_vq(VirtioDevice &vdev, Vdev &v, const rproc::RscVdev &r,
					  u32 i, const VqInfo &info)
	{
		Vring &ring = v.vring[i];
		const rproc::RscVring &rv = r.vring[i];
		VqConfig cfg;
		cfg.name = info.name;
		cfg.index = u16(i);
		cfg.num = rv.num;
		cfg.align = rv.align;
		cfg.ring =
			TRY(v.host->m_region.sub(ring.offset, TRY(ring_bytes(rv.num, rv.align))));
		cfg.vdev = &vdev;
		cfg.callback = info.callback;
		cfg.transport_priv = &ring;
		/* new_vq() zeroes the ring: a restarted session starts at index 0 on both sides. */
		VirtQueue *vq = TRY(vdev.new_vq(cfg, GFP_KERNEL));
		Guard g{ v.host->m_lock };
		ring.vq = vq;
		return vq;
	}

	static Result<void> notify(VirtQueue &vq)
	{
		Vring *r = vq.transport_priv<Vring>();
		return r->host->m_doorbell->ring(r->notifyid);
	}

	static keel::Doorbell *doorbell(VirtioDevice &vdev)
	{
		return vdev.transport_priv<Vdev>()->host->m_doorbell;
	}
};

static constinit const VirtioConfigOps s_shm_host_ops = {
	.get_status = &ShmHostOps::get_status,
	.set_status = &ShmHostOps::set_status,
	.reset = &ShmHostOps::reset,
	.get_features = &ShmHostOps::get_features,
	.finalize_features = &ShmHostOps::finalize_features,
	.get_config = &ShmHostOps::get_config,
	.set_config = &ShmHostOps::set_config,
	.find_vqs = &ShmHostOps::find_vqs,
	.del_vqs = &ShmHostOps::del_vqs,
	.notify = &ShmHostOps::notify,
	.doorbell = &ShmHostOps::doorbell,
};

static ShmHost *host_of(VirtioDevice &vdev)
{
	if (&vdev.config() != &s_shm_host_ops)
		return nullptr;
	return vdev.transport_priv<ShmHostOps::Vdev>()->host;
}

const keel::ShmRegion *shm_transport_region(VirtioDevice &vdev)
{
	ShmHost *h = host_of(vdev);
	return h ? &h->region() : nullptr;
}

Result<ShmAlloc> shm_dma_alloc(VirtioDevice &vdev, size_t size, size_t align)
{
	ShmHost *h = host_of(vdev);
	if (!h)
		return err(-ENODEV);
	return h->alloc(size, align);
}

void shm_dma_free(VirtioDevice &vdev, const ShmAlloc &a)
{
	if (ShmHost *h = host_of(vdev))
		h->free(a);
}

/* --- host --- */

ShmHost::ShmHost(const ShmHostConfig &cfg)
    : m_name(cfg.name), m_region(cfg.region), m_doorbell(cfg.doorbell), m_crashed_fn(cfg.crashed),
      m_crashed_ctx(cfg.crashed_ctx), m_parent(cfg.parent), m_register(cfg.register_devices)
{
}

Result<keel::UniquePtr<ShmHost>> ShmHost::create(const ShmHostConfig &cfg, keel::Gfp gfp)
{
	if (!cfg.region.valid() || cfg.region.size() < 2 * SHM_PAGE || !cfg.doorbell ||
	    cfg.region.da() % SHM_PAGE) {
		pr_err("%s: shm host needs a page-aligned region of two pages or more and a "
		       "doorbell",
		       cfg.name);
		return err(-EINVAL);
	}
	/* The table carries 32-bit device addresses: every byte of the region must have one. */
	u64 last = cfg.region.da() + (cfg.region.size() - 1);
	if (last > KEEL_U32_MAX || last < cfg.region.da()) {
		pr_err("%s: shared region at device address 0x%llx, %zu bytes: beyond the 32 bits "
		       "of the resource table",
		       cfg.name, (unsigned long long)cfg.region.da(), cfg.region.size());
		return err(-EINVAL);
	}
	ShmHost *h = new (gfp) ShmHost(cfg);
	if (!h)
		return err(-ENOMEM);
	h->m_doorbell->set_handler(&doorbell_handler, h);
	h->m_doorbell->set_peer_down(&peer_down, h);
	h->m_doorbell->enable();
	return keel::UniquePtr<ShmHost>(h);
}

ShmHost::~ShmHost()
{
	detach();
	m_doorbell->disable();
	m_doorbell->set_handler(nullptr, nullptr);
	m_doorbell->set_peer_down(nullptr, nullptr);
}

VirtioDevice *ShmHost::vdev(u32 i) const
{
	return i < m_num_vdevs ? m_vdevs[i].dev.get() : nullptr;
}

/*
 * One attempt at a private copy of the remote's table, as of one publish
 * (a seqcount read): the size copied, -EAGAIN when there is no complete
 * table to copy (none published yet, or a republish began before or
 * during the copy: *@changing is set then), -EINVAL for a bad header.
 */
Result<size_t> ShmHost::copy_table(bool *changing)
{
	/* The remote's line only: ours (host_gen) may hold a write not yet cleaned. */
	TRY(m_region.invalidate(SHM_HDR_REMOTE_LINE, SHM_CACHE_LINE));
	u32 seq = TRY(shm_read32(m_region, SHM_HDR_SEQ));
	if (seq & 1) {
		*changing = true;
		return err(-EAGAIN);
	}
	/* The header and the table of that publish are read after its sequence. */
	keel::virt_rmb();
	ShmHeader h = TRY(m_region.read<ShmHeader>(0));
	if (keel::le32_to_cpu(h.magic) != SHM_MAGIC ||
	    keel::le32_to_cpu(h.remote_state) != SHM_REMOTE_READY)
		return err(-EAGAIN);
	u32 ver = keel::le32_to_cpu(h.version);
	u32 off = keel::le32_to_cpu(h.rsc_offset), size = keel::le32_to_cpu(h.rsc_size);
	bool bad = ver < SHM_VERSION_MIN || ver > SHM_VERSION || off < sizeof(ShmHeader) ||
		   off % SHM_CACHE_LINE || size < sizeof(rproc::ResourceTable) ||
		   size > SHM_MAX_TABLE || !m_region.contains(off, size);
	if (!bad) {
		TRY(m_region.invalidate(off, size));
		TRY(m_region.copy_from(m_table, off, size));
	}
	/* Then the sequence again: a republish that began meanwhile changed it. */
	keel::virt_rmb();
	if (TRY(shm_read32(m_region, SHM_HDR_SEQ)) != seq) {
		*changing = true;
		return err(-EAGAIN);
	}
	if (bad) {
		pr_err_ratelimited("%s: bad shm header: version %u, table at 0x%x size %u", m_name,
				   ver, off, size);
		return err(-EINVAL);
	}
	m_rsc_off = off;
	m_remote_gen = keel::le32_to_cpu(h.remote_gen);
	m_remote_seq = seq;
	m_remote_version = ver;
	return size_t(size);
}

Result<void> ShmHost::snapshot_table(s64 deadline)
{
	bool changing = false;
	for (;;) {
		Result<size_t> size = copy_table(&changing);
		if (size.is_ok())
			return rproc::rsc_table_parse(keel::Span<const u8>(m_table, size.value()),
						      &m_region, &m_info);
		if (size.error().to_errno() != -EAGAIN)
			return size.error();
		/*
		 * Every attempt without a table checks the deadline and sleeps,
		 * so a remote that keeps republishing cannot hold the host.
		 */
		if (keel::ktime_get_ns() >= deadline) {
			if (changing)
				pr_err("%s: the resource table kept changing (remote republishing)",
				       m_name);
			else
				pr_err("%s: no resource table published", m_name);
			return err(-ETIMEDOUT);
		}
		keel::msleep(1);
	}
}

/*
 * The transport's own rule on top of the table's: every vring keeps the
 * driver's and the device's parts in different cache lines.
 */
Result<void> ShmHost::check_vrings()
{
	for (u32 v = 0; v < m_info.num_vdevs; v++) {
		const rproc::RscVdev &r = m_info.vdevs[v];
		for (u32 i = 0; i < r.num_of_vrings; i++) {
			if (ring_bytes(r.vring[i].num, r.vring[i].align).is_error()) {
				pr_err_ratelimited("%s: vdev%u vring%u: align %u below the "
						   "transport's %u-byte cache line",
						   m_name, v, i, r.vring[i].align, SHM_CACHE_LINE);
				return err(-EINVAL);
			}
		}
	}
	return ok();
}

Result<void> ShmHost::reserve(size_t start, size_t len, bool fixed)
{
	Guard g{ m_pool_lock };
	if (!m_region.contains(start, len) || len == 0)
		return err(-EINVAL);
	/*
	 * Whole cache lines: two blocks never share one, so that the writer
	 * of one never cleans or invalidates the other's bytes (a fixed block
	 * placed by the table that would share a line is refused as an
	 * overlap). Pool blocks start on a line already.
	 */
	size_t end = keel::align_up(start + len, size_t(SHM_CACHE_LINE));
	if (end > m_region.size())
		end = m_region.size();
	start = start & ~size_t(SHM_CACHE_LINE - 1);
	u32 pos = 0;
	for (; pos < m_num_blocks; pos++) {
		if (m_blocks[pos].start >= end)
			break;
		if (m_blocks[pos].end > start)
			return err(-EBUSY);
	}
	if (m_num_blocks == MAX_BLOCKS)
		return err(-ENOMEM);
	memmove(&m_blocks[pos + 1], &m_blocks[pos], (m_num_blocks - pos) * sizeof(Block));
	m_blocks[pos] = { start, end, fixed };
	m_num_blocks++;
	return ok();
}

Result<size_t> ShmHost::alloc_offset(size_t size, size_t align)
{
	if (!size || !keel::is_power_of_2(align))
		return err(-EINVAL);
	size_t cursor = 0;
	{
		Guard g{ m_pool_lock };
		/* First fit between blocks, bounded by the block count. */
		for (u32 i = 0; i <= m_num_blocks; i++) {
			size_t limit = i < m_num_blocks ? m_blocks[i].start : m_region.size();
			size_t cand = keel::align_up(cursor, align);
			if (cand >= cursor && cand <= limit && size <= limit - cand) {
				cursor = cand;
				goto found;
			}
			if (i < m_num_blocks)
				cursor = m_blocks[i].end;
		}
		return err(-ENOMEM);
	}
found:
	TRY(reserve(cursor, size, false));
	return cursor;
}

void ShmHost::free_offset(size_t start)
{
	Guard g{ m_pool_lock };
	for (u32 i = 0; i < m_num_blocks; i++) {
		if (m_blocks[i].start == start && !m_blocks[i].fixed) {
			memmove(&m_blocks[i], &m_blocks[i + 1],
				(m_num_blocks - i - 1) * sizeof(Block));
			m_num_blocks--;
			return;
		}
	}
}

Result<ShmAlloc> ShmHost::alloc(size_t size, size_t align)
{
	if (!keel::is_power_of_2(align))
		return err(-EINVAL);
	/* At least a cache line: buffers of two owners never share one (non-coherent ports). */
	size_t off = TRY(alloc_offset(size, align < SHM_CACHE_LINE ? SHM_CACHE_LINE : align));
	void *p = m_region.ptr(off, size).value();
	memset(p, 0, size);
	(void)m_region.clean(off, size);
	return ShmAlloc{ p, m_region.da() + off, off, size };
}

void ShmHost::free(const ShmAlloc &a)
{
	if (a.cpu)
		free_offset(a.offset);
}

Result<void> ShmHost::table_write32(size_t table_off, u32 v)
{
	return shm_write32(m_region, m_rsc_off + table_off, v);
}

/* [@da, @da + @len) lies in a carveout the table placed itself. */
bool ShmHost::in_carveout(u32 da, u32 len) const
{
	for (u32 c = 0; c < m_info.num_carveouts; c++) {
		const rproc::RscCarveout &co = m_info.carveouts[c];
		if (co.da != FW_RSC_ADDR_ANY && da >= co.da && len <= co.len &&
		    da - co.da <= co.len - len)
			return true;
	}
	return false;
}

Result<void> ShmHost::place_resources()
{
	m_num_blocks = 0;
	/* Header and table are the remote's; the pool is everything else. */
	TRY(reserve(0, sizeof(ShmHeader), true));
	TRY(reserve(m_rsc_off, m_info.size, true));
	for (u32 v = 0; v < m_info.num_vdevs; v++) {
		const rproc::RscVdev &r = m_info.vdevs[v];
		for (u32 i = 0; i < r.num_of_vrings; i++) {
			const rproc::RscVring &rv = r.vring[i];
			if (rv.da == FW_RSC_ADDR_ANY)
				continue;
			size_t off = TRY(rproc::rsc_table_check_vring(m_region, rv.da, rv.num,
								      rv.align, SHM_CACHE_LINE));
			if (reserve(off, TRY(ring_bytes(rv.num, rv.align)), true).is_error()) {
				pr_err_ratelimited(
					"%s: vdev%u vring%u at da 0x%x overlaps another resource",
					m_name, v, i, rv.da);
				return err(-EINVAL);
			}
			m_vdevs[v].vring[i].offset = off;
		}
	}
	/*
	 * Trace buffers the remote writes inside the region are its own:
	 * the pool must not place anything there (a trace in a carveout of
	 * the table, as Linux wants it, is covered by the carveout instead).
	 */
	for (u32 t = 0; t < m_info.num_traces; t++) {
		const rproc::RscTrace &tr = m_info.traces[t];
		Result<size_t> off = m_region.da_to_offset(tr.da, tr.len);
		if (off.is_error() || tr.len == 0 || in_carveout(tr.da, tr.len))
			continue;
		if (reserve(off.value(), tr.len, true).is_error()) {
			pr_err_ratelimited("%s: trace '%s' overlaps another resource", m_name,
					   tr.name);
			return err(-EINVAL);
		}
	}
	for (u32 c = 0; c < m_info.num_carveouts; c++) {
		rproc::RscCarveout &co = m_info.carveouts[c];
		if (co.da != FW_RSC_ADDR_ANY) {
			if (reserve(TRY(m_region.da_to_offset(co.da, co.len)), co.len, true)
				    .is_error()) {
				pr_err_ratelimited("%s: carveout '%s' overlaps another resource",
						   m_name, co.name);
				return err(-EINVAL);
			}
			continue;
		}
		size_t off = TRY(alloc_offset(co.len, SHM_PAGE));
		co.da = u32(m_region.da() + off);
		/* Linux writes da and pa of a carveout it allocated back to the table. */
		TRY(table_write32(co.offset + __builtin_offsetof(rproc::FwRscCarveout, da), co.da));
		TRY(table_write32(co.offset + __builtin_offsetof(rproc::FwRscCarveout, pa), co.da));
	}
	return place_vrings();
}

Result<void> ShmHost::place_vrings()
{
	/* Notify ids: rproc-wide, from 0, in table order (Linux rproc_alloc_vring's idr). */
	u32 notifyid = 0;
	for (u32 v = 0; v < m_info.num_vdevs; v++) {
		rproc::RscVdev &r = m_info.vdevs[v];
		for (u32 i = 0; i < r.num_of_vrings; i++) {
			rproc::RscVring &rv = r.vring[i];
			Vring &ring = m_vdevs[v].vring[i];
			if (rv.da == FW_RSC_ADDR_ANY) {
				size_t bytes = TRY(ring_bytes(rv.num, rv.align));
				Result<size_t> off = alloc_offset(
					bytes, rv.align < SHM_PAGE ? SHM_PAGE : rv.align);
				if (off.is_error()) {
					pr_err("%s: no room for vdev%u vring%u (%zu bytes)", m_name,
					       v, i, bytes);
					return off.error();
				}
				ring.offset = off.value();
				rv.da = u32(m_region.da() + ring.offset);
				TRY(table_write32(rproc::vdev_vring_field_da(r.offset, i), rv.da));
			}
			rv.notifyid = notifyid++;
			ring.host = this;
			ring.vdev = v;
			ring.index = i;
			ring.notifyid = rv.notifyid;
			TRY(table_write32(rproc::vdev_vring_field_notifyid(r.offset, i),
					  rv.notifyid));
		}
	}
	return ok();
}

Result<void> ShmHost::create_vdevs()
{
	for (u32 v = 0; v < m_info.num_vdevs; v++) {
		Vdev &d = m_vdevs[v];
		const rproc::RscVdev &r = m_info.vdevs[v];
		d.host = this;
		d.index = v;
		d.status = 0;
		/* Start from a clean entry: nothing acknowledged yet. */
		TRY(table_write32(rproc::vdev_field_gfeatures(r.offset), 0));
		ShmHostOps::write_status(d, 0);
		/* Linux leaves the vendor 0 for remoteproc devices. */
		d.dev = TRY(VirtioDevice::create(VirtioDeviceId{ r.id, 0 }, &s_shm_host_ops, &d,
						 m_parent, GFP_KERNEL));
		m_num_vdevs = v + 1;
		if (m_register) {
			Result<void> res = register_virtio_device(*d.dev);
			if (res.is_error()) {
				pr_err("%s: registering vdev%u failed: %d", m_name, v,
				       res.error().to_errno());
				return res;
			}
		}
	}
	return ok();
}

/*
 * Waits until the remote holds no queue of a host session older than
 * m_host_gen (Documentation/shm-transport.rst, "Leaving a host session"):
 * 0 when it has left, -EAGAIN when it published again meanwhile (the
 * table taken is stale), -ETIMEDOUT at @deadline, -EPROTO for a claim on
 * a session that has not started. Each attempt reads the remote's words
 * once, between two reads of its publish sequence.
 */
Result<void> ShmHost::wait_remote_left(s64 deadline)
{
	if (m_remote_version < 3) {
		pr_warn_ratelimited("%s: remote speaks shm version %u: it does not say when it "
				    "has left a host session",
				    m_name, m_remote_version);
		return ok();
	}
	for (;;) {
		u32 seq = TRY(shm_read32(m_region, SHM_HDR_SEQ));
		keel::virt_rmb();
		u32 in_use = TRY(shm_read32(m_region, SHM_HDR_IN_USE));
		keel::virt_rmb();
		KEEL_TSAN_FENCE(__ATOMIC_ACQUIRE);
		if (TRY(shm_read32(m_region, SHM_HDR_SEQ)) != seq || seq != m_remote_seq)
			return err(-EAGAIN);
		if (in_use > m_host_gen) {
			pr_err_ratelimited("%s: remote claims host session %u, but the newest is "
					   "%u",
					   m_name, in_use, m_host_gen);
			return err(-EPROTO);
		}
		/* None held, or only the new session's (a claim it withdraws at status 0). */
		if (in_use == 0 || in_use == m_host_gen)
			return ok();
		if (keel::ktime_get_ns() >= deadline) {
			pr_err_ratelimited("%s: remote still in host session %u (starting %u)",
					   m_name, in_use, m_host_gen);
			return err(-ETIMEDOUT);
		}
		keel::msleep(1);
	}
}

/*
 * A new host session, before any of its rings or buffers is written: the
 * status of every vdev 0 (the remote stops using the old rings, and a
 * DRIVER_OK left by an earlier host cannot pass for this session's), then
 * the new host_gen, then the wait for the remote to leave older sessions.
 */
Result<void> ShmHost::start_session(s64 deadline)
{
	for (u32 v = 0; v < m_info.num_vdevs; v++)
		TRY(m_region.peer_write<u8>(
			m_rsc_off + rproc::vdev_field_status(m_info.vdevs[v].offset), 0));
	/* The statuses before the host_gen that the remote checks them after. */
	keel::virt_wmb();
	/*
	 * Read back so that a new host instance (a reloaded driver) continues
	 * the count; 0 stays "no session" in host_gen_in_use.
	 */
	m_host_gen = TRY(shm_read32(m_region, SHM_HDR_HOST_GEN)) + 1;
	if (m_host_gen == 0)
		m_host_gen = 1;
	TRY(shm_write32(m_region, SHM_HDR_HOST_GEN, m_host_gen));
	/*
	 * Our host_gen before its claim, its claim before its host_gen: either
	 * we see its claim on an older session, or it sees our host_gen and
	 * withdraws before reading any placement.
	 */
	keel::virt_mb();
	KEEL_TSAN_FENCE(__ATOMIC_SEQ_CST);
	(void)m_doorbell->ring(keel::DOORBELL_ANY);
	return wait_remote_left(deadline);
}

Result<void> ShmHost::attach(s64 timeout_ns)
{
	if (m_attached)
		return err(-EBUSY);
	s64 deadline = keel::ktime_get_ns() + timeout_ns;
	for (;;) {
		TRY(snapshot_table(deadline));
		TRY(check_vrings());
		Result<void> r = start_session(deadline);
		if (r.is_ok())
			break;
		if (r.error().to_errno() != -EAGAIN)
			return r;
		/* The remote published again while we waited: take the new table. */
		if (keel::ktime_get_ns() >= deadline) {
			pr_err_ratelimited("%s: the remote kept republishing", m_name);
			return err(-ETIMEDOUT);
		}
		keel::msleep(1);
	}
	m_attached = true;
	keel::ScopeGuard undo([this] { detach(); });
	TRY(place_resources());
	TRY(create_vdevs());
	undo.disarm();
	return ok();
}

void ShmHost::detach()
{
	if (!m_attached)
		return;
	for (u32 v = 0; v < m_num_vdevs; v++) {
		Vdev &d = m_vdevs[v];
		if (!d.dev)
			continue;
		if (d.dev->is_registered())
			unregister_virtio_device(*d.dev);
		ShmHostOps::del_vqs(*d.dev);
		ShmHostOps::write_status(d, 0);
		d.dev.reset();
	}
	m_num_vdevs = 0;
	{
		Guard g{ m_pool_lock };
		m_num_blocks = 0;
	}
	{
		/* The doorbell handler walks these; every device reference is gone already. */
		Guard g{ m_lock };
		for (auto &d : m_vdevs)
			d = Vdev();
	}
	m_attached = false;
}

Result<void> ShmHost::reset_region()
{
	if (m_attached)
		return err(-EBUSY);
	/* Not memset(): the doorbell handler may still be reading the old session. */
	TRY(m_region.zero(0, m_region.size()));
	return m_region.clean(0, m_region.size());
}

void ShmHost::doorbell_handler(void *ctx, u32 notifyid)
{
	ShmHost *h = static_cast<ShmHost *>(ctx);
	Guard g{ h->m_lock };
	for (u32 v = 0; v < rproc::RSC_MAX_VDEVS; v++) {
		for (auto &r : h->m_vdevs[v].vring) {
			if (r.vq && (notifyid == keel::DOORBELL_ANY || notifyid == r.notifyid))
				r.vq->interrupt();
		}
	}
}

void ShmHost::mark_crashed()
{
	m_crashed.store(true);
	/*
	 * Fail fast: every queue errors at once instead of waiting on a dead
	 * peer, and its driver is told (the callback runs once more), so that
	 * senders blocked on the queue return now.
	 */
	Guard g{ m_lock };
	for (auto &d : m_vdevs)
		for (auto &r : d.vring)
			if (r.vq)
				r.vq->break_ring();
}

bool ShmHost::remote_restarted() const
{
	/* The remote's line only. */
	if (m_region.invalidate(SHM_HDR_REMOTE_LINE, SHM_CACHE_LINE).is_error())
		return false;
	Result<u32> seq = shm_read32(m_region, SHM_HDR_SEQ);
	Result<u32> gen = shm_read32(m_region, SHM_HDR_REMOTE_GEN);
	if (seq.is_error() || gen.is_error())
		return false;
	return seq.value() != m_remote_seq || gen.value() != m_remote_gen;
}

void ShmHost::peer_down(void *ctx)
{
	ShmHost *h = static_cast<ShmHost *>(ctx);
	h->mark_crashed();
	/* A peer (or the hosted server) can announce this at will: rate-limited. */
	pr_err_ratelimited("%s: remote gone", h->m_name);
	if (h->m_crashed_fn)
		h->m_crashed_fn(h->m_crashed_ctx);
}

} // namespace virtio
