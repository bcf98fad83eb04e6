// SPDX-License-Identifier: GPL-2.0
/*
 * Shared-memory virtio transport, the remote role: the virtio device side
 * (OpenAMP's remoteproc_virtio.c in a firmware). See
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

ShmRemote::ShmRemote(const ShmRemoteConfig &cfg)
    : m_name(cfg.name), m_region(cfg.region), m_doorbell(cfg.doorbell), m_rsc_off(cfg.rsc_offset),
      m_num_vdevs(cfg.num_vdevs), m_num_traces(cfg.num_traces), m_kick(cfg.kick),
      m_kick_ctx(cfg.kick_ctx)
{
	for (u32 i = 0; i < m_num_vdevs; i++)
		m_vdevs[i].spec = cfg.vdevs[i];
	for (u32 i = 0; i < m_num_traces; i++)
		m_traces[i] = cfg.traces[i];
}

Result<keel::UniquePtr<ShmRemote>> ShmRemote::create(const ShmRemoteConfig &cfg, keel::Gfp gfp)
{
	if (!cfg.region.valid() || !cfg.doorbell || cfg.num_vdevs == 0 ||
	    cfg.num_vdevs > rproc::RSC_MAX_VDEVS || cfg.num_traces > rproc::RSC_MAX_TRACES ||
	    cfg.rsc_offset < sizeof(ShmHeader) || cfg.rsc_offset % SHM_CACHE_LINE ||
	    !cfg.region.contains(cfg.rsc_offset, 64)) {
		pr_err("%s: bad shm remote configuration", cfg.name);
		return err(-EINVAL);
	}
	for (u32 v = 0; v < cfg.num_vdevs; v++) {
		const rproc::VdevSpec &s = cfg.vdevs[v];
		if (s.num_of_vrings == 0 || s.num_of_vrings > rproc::RVDEV_NUM_VRINGS) {
			pr_err("%s: vdev%u: %u vrings (1..%u)", cfg.name, v, s.num_of_vrings,
			       rproc::RVDEV_NUM_VRINGS);
			return err(-EINVAL);
		}
		for (u32 i = 0; i < s.num_of_vrings; i++) {
			if (ring_bytes(s.vring[i].num, s.vring[i].align).is_error()) {
				pr_err("%s: vdev%u vring%u: num %u align %u break the vring rule "
				       "(cache line %u)",
				       cfg.name, v, i, s.vring[i].num, s.vring[i].align,
				       SHM_CACHE_LINE);
				return err(-EINVAL);
			}
		}
	}
	ShmRemote *r = new (gfp) ShmRemote(cfg);
	if (!r)
		return err(-ENOMEM);
	r->m_doorbell->set_handler(&doorbell_handler, r);
	r->m_doorbell->enable();
	return keel::UniquePtr<ShmRemote>(r);
}

ShmRemote::~ShmRemote()
{
	m_doorbell->disable();
	m_doorbell->set_handler(nullptr, nullptr);
	for (u32 v = 0; v < m_num_vdevs; v++)
		drop_queues(v);
}

Result<void> ShmRemote::publish()
{
	for (u32 v = 0; v < m_num_vdevs; v++)
		drop_queues(v);
	/* Our own line, as an earlier boot left it: generation and sequence continue. */
	TRY(m_region.invalidate(SHM_HDR_REMOTE_LINE, SHM_CACHE_LINE));
	bool again = TRY(shm_read32(m_region, 0)) == SHM_MAGIC;
	u32 gen = again ? TRY(shm_read32(m_region, SHM_HDR_REMOTE_GEN)) + 1 : 1;
	u32 seq = again ? TRY(shm_read32(m_region, SHM_HDR_SEQ)) : 0;
	/* Odd while we write (odd already if an earlier boot died here: skip to the next odd). */
	seq = (seq + 1) | 1;
	TRY(shm_write32(m_region, SHM_HDR_SEQ, seq));
	/* Not ready while the table is rewritten: the host must not snapshot half of it. */
	TRY(shm_write32(m_region, SHM_HDR_REMOTE_STATE, SHM_REMOTE_NONE));
	/* A new boot holds no queue of any host session, whatever an earlier one left here. */
	TRY(shm_write32(m_region, SHM_HDR_IN_USE, 0));
	keel::virt_wmb();

	size_t room = m_region.size() - m_rsc_off;
	rproc::RscTableBuilder b(
		keel::Span<u8>(m_table, room < SHM_MAX_TABLE ? room : SHM_MAX_TABLE),
		m_num_traces + m_num_vdevs);
	for (u32 t = 0; t < m_num_traces; t++)
		TRY(b.add_trace(m_traces[t].da, m_traces[t].len, m_traces[t].name));
	for (u32 v = 0; v < m_num_vdevs; v++)
		m_vdevs[v].offset = TRY(b.add_vdev(m_vdevs[v].spec));
	size_t size = TRY(b.finish());
	m_table_size = size;
	TRY(m_region.copy_to(m_rsc_off, m_table, size));
	TRY(m_region.clean(m_rsc_off, size));

	m_remote_gen = gen;
	TRY(shm_write32(m_region, __builtin_offsetof(ShmHeader, magic), SHM_MAGIC));
	TRY(shm_write32(m_region, __builtin_offsetof(ShmHeader, version), SHM_VERSION));
	TRY(shm_write32(m_region, __builtin_offsetof(ShmHeader, rsc_offset), m_rsc_off));
	TRY(shm_write32(m_region, __builtin_offsetof(ShmHeader, rsc_size), u32(size)));
	TRY(shm_write32(m_region, SHM_HDR_REMOTE_GEN, gen));
	/* The table and header fields are visible before the state that says they are complete...
	 */
	keel::virt_wmb();
	TRY(shm_write32(m_region, SHM_HDR_REMOTE_STATE, SHM_REMOTE_READY));
	/* ... and everything before the even sequence that closes the publish. */
	keel::virt_wmb();
	TRY(shm_write32(m_region, SHM_HDR_SEQ, seq + 1));
	/* The host may not be there yet: it finds the table when it attaches. */
	(void)m_doorbell->ring(keel::DOORBELL_ANY);
	return ok();
}

u8 ShmRemote::status(u32 vdev) const
{
	if (vdev >= m_num_vdevs)
		return 0;
	size_t off = m_rsc_off + rproc::vdev_field_status(m_vdevs[vdev].offset);
	return m_region.peer_read<u8>(off).value_or(0);
}

Result<void> ShmRemote::wait_driver_ok(u32 vdev, s64 timeout_ns)
{
	if (vdev >= m_num_vdevs)
		return err(-EINVAL);
	s64 deadline = keel::ktime_get_ns() + timeout_ns;
	for (;;) {
		u8 s = status(vdev);
		if (s & VIRTIO_CONFIG_S_FAILED) {
			pr_err_ratelimited("%s: vdev%u: host failed the device", m_name, vdev);
			return err(-EIO);
		}
		if (s & VIRTIO_CONFIG_S_DRIVER_OK) {
			/* Vring placement is read after the DRIVER_OK that publishes it. */
			keel::virt_rmb();
			Result<void> r = build_queues(vdev);
			/* -EAGAIN: the host started another session meanwhile; wait for it. */
			if (r.is_ok() || r.error().to_errno() != -EAGAIN)
				return r;
		}
		s64 left = deadline - keel::ktime_get_ns();
		if (left <= 0)
			return err(-ETIMEDOUT);
		/* The host rings after each status write; poll too, since rings can be lost or
		 * absent. */
		(void)m_wq.wait_event_timeout([&] { return status(vdev) != s; },
					      left < keel::ms_to_ns(2) ? left : keel::ms_to_ns(2));
	}
}

/*
 * host_gen_in_use: the oldest session any vdev claims. Written after
 * everything done on the rings of a session left: the host may reuse
 * their memory once it reads the new value.
 */
void ShmRemote::set_claim(u32 vdev, u32 host_gen)
{
	if (m_vdevs[vdev].claim == host_gen)
		return;
	m_vdevs[vdev].claim = host_gen;
	u32 oldest = 0;
	for (u32 v = 0; v < m_num_vdevs; v++) {
		u32 c = m_vdevs[v].claim;
		if (c && (!oldest || c < oldest))
			oldest = c;
	}
	keel::virt_mb();
	KEEL_TSAN_FENCE(__ATOMIC_RELEASE);
	(void)shm_write32(m_region, SHM_HDR_IN_USE, oldest);
}

Result<void> ShmRemote::build_queues(u32 vdev)
{
	Vdev &d = m_vdevs[vdev];
	drop_queues(vdev);
	/*
	 * Claim the session before reading its placement, then check that it
	 * is still the host's: a host starting a newer one either sees the
	 * claim (and waits until we leave) or we see its host_gen or its
	 * status reset here, before touching anything it may be rewriting.
	 */
	u32 gen = TRY(read_host_gen());
	if (gen == 0)
		return err(-EAGAIN);
	set_claim(vdev, gen);
	keel::virt_mb();
	KEEL_TSAN_FENCE(__ATOMIC_SEQ_CST);
	keel::ScopeGuard undo([this, vdev] { drop_queues(vdev); });
	auto same_session = [&]() -> Result<bool> {
		if (TRY(read_host_gen()) != gen)
			return false;
		keel::virt_rmb();
		return bool(status(vdev) & VIRTIO_CONFIG_S_DRIVER_OK);
	};
	if (!TRY(same_session()))
		return err(-EAGAIN);
	keel::virt_rmb();
	size_t ent = m_rsc_off + d.offset;
	TRY(m_region.invalidate(ent, sizeof(rproc::FwRscVdev) +
					     d.spec.num_of_vrings * sizeof(rproc::FwRscVdevVring)));
	u32 acked = TRY(shm_read32(m_region, m_rsc_off + rproc::vdev_field_gfeatures(d.offset)));
	/* Only what we offered: a feature the host acknowledges but we never offered is not used.
	 */
	d.gfeatures = acked & d.spec.dfeatures;
	if (acked & ~d.spec.dfeatures)
		pr_warn_ratelimited("%s: vdev%u: host acknowledged features 0x%x we never offered "
				    "(0x%x): ignored",
				    m_name, vdev, acked & ~d.spec.dfeatures, d.spec.dfeatures);
	d.host_gen = gen;
	/*
	 * The header and the table are ours: their end is what our builder
	 * returned at publish(), never the header's rsc_size, which the host
	 * can rewrite.
	 */
	size_t table_end = m_rsc_off + m_table_size;
	size_t start[rproc::RVDEV_NUM_VRINGS], end[rproc::RVDEV_NUM_VRINGS];
	for (u32 i = 0; i < d.spec.num_of_vrings; i++) {
		/* Our own num and align, never the table's copy: only da and notifyid are the
		 * host's. */
		const rproc::RscVring &spec = d.spec.vring[i];
		u32 da = TRY(
			shm_read32(m_region, m_rsc_off + rproc::vdev_vring_field_da(d.offset, i)));
		u32 nid = TRY(shm_read32(
			m_region, m_rsc_off + rproc::vdev_vring_field_notifyid(d.offset, i)));
		size_t off = TRY(rproc::rsc_table_check_vring(m_region, da, spec.num, spec.align,
							      SHM_CACHE_LINE));
		size_t bytes = TRY(ring_bytes(spec.num, spec.align));
		if (off < table_end) {
			pr_err_ratelimited("%s: vdev%u vring%u: host placed it at 0x%zx, over the "
					   "header or table",
					   m_name, vdev, i, off);
			return err(-EINVAL);
		}
		start[i] = off;
		end[i] = off + bytes;
		for (u32 k = 0; k < i; k++) {
			if (start[i] < end[k] && start[k] < end[i]) {
				pr_err_ratelimited(
					"%s: vdev%u vring%u: host placed it at 0x%zx, over vring%u",
					m_name, vdev, i, off, k);
				return err(-EINVAL);
			}
		}
		VringhConfig c;
		c.name = i == 0 ? "shm-vring0" : "shm-vring1";
		c.num = spec.num;
		c.align = spec.align;
		c.ring = TRY(m_region.sub(off, bytes));
		c.mem = m_region;
		/* Legacy device (the table has no VERSION_1 bit): the host's native order, ours
		 * too. */
		c.little_endian = keel::CPU_IS_LITTLE_ENDIAN;
		c.event_idx = d.gfeatures & (1u << VIRTIO_RING_F_EVENT_IDX);
		d.vrh[i] = TRY(Vringh::create(c, GFP_KERNEL));
		d.notifyid[i].store(nid);
	}
	/* What we read is that session's placement only if it is still the host's. */
	keel::virt_rmb();
	if (!TRY(same_session()))
		return err(-EAGAIN);
	undo.disarm();
	d.ready.store(true);
	return ok();
}

void ShmRemote::drop_queues(u32 vdev)
{
	if (vdev >= m_num_vdevs)
		return;
	Vdev &d = m_vdevs[vdev];
	d.ready.store(false);
	for (auto &v : d.vrh)
		v.reset();
	set_claim(vdev, 0);
}

Vringh *ShmRemote::vringh(u32 vdev, u32 vring) const
{
	if (vdev >= m_num_vdevs || vring >= rproc::RVDEV_NUM_VRINGS || !m_vdevs[vdev].ready.load())
		return nullptr;
	return m_vdevs[vdev].vrh[vring].get();
}

u32 ShmRemote::gfeatures(u32 vdev) const
{
	return vdev < m_num_vdevs ? m_vdevs[vdev].gfeatures : 0;
}

u32 ShmRemote::session_host_gen(u32 vdev) const
{
	return vdev < m_num_vdevs ? m_vdevs[vdev].host_gen : 0;
}

Result<u32> ShmRemote::read_host_gen() const
{
	TRY(m_region.invalidate(SHM_HDR_HOST_LINE, SHM_CACHE_LINE));
	return shm_read32(m_region, SHM_HDR_HOST_GEN);
}

bool ShmRemote::host_reset(u32 vdev) const
{
	if (vdev >= m_num_vdevs || !m_vdevs[vdev].ready.load())
		return true;
	if (!(status(vdev) & VIRTIO_CONFIG_S_DRIVER_OK))
		return true;
	Result<u32> gen = shm_read32(m_region, SHM_HDR_HOST_GEN);
	return gen.is_error() || gen.value() != m_vdevs[vdev].host_gen;
}

Result<void> ShmRemote::notify(u32 vdev, u32 vring)
{
	if (vdev >= m_num_vdevs || vring >= m_vdevs[vdev].spec.num_of_vrings ||
	    !m_vdevs[vdev].ready.load())
		return err(-ENODEV);
	return m_doorbell->ring(m_vdevs[vdev].notifyid[vring].load());
}

void ShmRemote::doorbell_handler(void *ctx, u32 notifyid)
{
	ShmRemote *r = static_cast<ShmRemote *>(ctx);
	r->m_wq.wake_up();
	if (!r->m_kick)
		return;
	bool matched = false;
	for (u32 v = 0; v < r->m_num_vdevs; v++) {
		Vdev &d = r->m_vdevs[v];
		if (!d.ready.load())
			continue;
		for (u32 i = 0; i < d.spec.num_of_vrings; i++) {
			if (notifyid == keel::DOORBELL_ANY || notifyid == d.notifyid[i].load()) {
				matched = true;
				r->m_kick(r->m_kick_ctx, v, i);
			}
		}
	}
	if (!matched)
		r->m_kick(r->m_kick_ctx, keel::DOORBELL_ANY, keel::DOORBELL_ANY);
}

} // namespace virtio
