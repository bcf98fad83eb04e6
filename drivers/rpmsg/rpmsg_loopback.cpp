// SPDX-License-Identifier: GPL-2.0
/*
 * A remote processor in the same kernel (see <rpmsg/rpmsg_loopback.h>):
 * the one place that wires the host transport, the remote role and the
 * loopback doorbells together over one region.
 */
#include <keel/log.h>
#include <keel/string.h>
#include <rpmsg/rpmsg_loopback.h>
#include <virtio/virtio_shm.h>

#include "rpmsg_internal.h"

namespace rpmsg {

using keel::err;
using keel::ok;

namespace {
/* The transport places vrings on pages and the table in the first page. */
constexpr size_t PAGE = 4096;
constexpr u32 VRING_ALIGN = 4096;
} // namespace

Result<size_t> rpmsg_loopback_region_size(const RpmsgLoopbackConfig &cfg)
{
	u32 num = cfg.vring_num;
	size_t ring =
		TRY(virtio::VringLayout::compute(num, VRING_ALIGN, virtio::SHM_CACHE_LINE)).size;
	size_t bufs = size_t(keel::min(num, cfg.h2r_num)) * cfg.h2r_buf_size +
		      size_t(keel::min(num, cfg.r2h_num)) * cfg.r2h_buf_size;
	/* Header and table, two rings, the buffers, and a page for the allocator's rounding. */
	return PAGE + 2 * keel::align_up(ring, PAGE) + keel::align_up(bufs, PAGE) + PAGE;
}

Result<keel::UniquePtr<RpmsgLoopback>> RpmsgLoopback::create(const RpmsgLoopbackConfig &cfg,
							     keel::Gfp gfp)
{
	RpmsgLoopback *raw = new (gfp) RpmsgLoopback(cfg);
	if (!raw)
		return err(-ENOMEM);
	keel::UniquePtr<RpmsgLoopback> lb(raw);
	TRY(lb->init(cfg, gfp));
	return lb;
}

Result<void> RpmsgLoopback::init(const RpmsgLoopbackConfig &cfg, keel::Gfp gfp)
{
	if (!cfg.name || cfg.start_timeout_ns <= 0) {
		pr_err("rpmsg loopback: bad configuration");
		return err(-EINVAL);
	}
	m_timeout_ns = cfg.start_timeout_ns;
	TRY(virtio::virtio_init());
	Result<void> r = virtio_rpmsg_init();
	if (r.is_error()) {
		virtio::virtio_exit();
		return r;
	}
	m_registered = true;

	m_region = cfg.region;
	if (!m_region.valid()) {
		size_t size = cfg.region_size;
		if (!size) {
			Result<size_t> need = rpmsg_loopback_region_size(cfg);
			if (need.is_error()) {
				pr_err("%s: bad vring size %u", m_name, cfg.vring_num);
				return need.error();
			}
			size = need.value();
		}
		m_dma = TRY(keel::DmaBuffer::alloc_coherent(cfg.dma_dev, size, gfp));
		/*
		 * The remote's address map is the region, from device address
		 * 0: the resource table's addresses are 32 bits, which a DMA
		 * address need not fit, and this remote reaches the memory
		 * through the CPU's mapping anyway.
		 */
		m_region = keel::ShmRegion(m_dma.cpu_addr(), m_dma.size(), 0);
	}
	m_doorbells = TRY(keel::make_unique<keel::LoopbackLink>(gfp));

	(void)keel::snprintf(m_host_name, sizeof(m_host_name), "%s-host", m_name);
	virtio::ShmHostConfig hc;
	hc.name = m_host_name;
	hc.region = m_region;
	hc.doorbell = &m_doorbells->a();
	hc.crashed = cfg.crashed;
	hc.crashed_ctx = cfg.crashed_ctx;
	hc.parent = cfg.parent;
	m_host = TRY(virtio::ShmHost::create(hc, gfp));

	RpmsgRemoteConfig rc;
	rc.name = m_name;
	rc.region = m_region;
	rc.doorbell = &m_doorbells->b();
	rc.vring_num = cfg.vring_num;
	rc.vring_align = VRING_ALIGN;
	rc.h2r_buf_size = cfg.h2r_buf_size;
	rc.r2h_buf_size = cfg.r2h_buf_size;
	rc.h2r_num = cfg.h2r_num;
	rc.r2h_num = cfg.r2h_num;
	rc.link = cfg.remote_link;
	rc.parent = cfg.parent;
	m_remote = TRY(RpmsgRemote::create(rc, gfp));
	return ok();
}

RpmsgLoopback::~RpmsgLoopback()
{
	stop();
	/* The services go (their drivers' remove runs), then the transport's doorbell. */
	m_remote.reset();
	m_host.reset();
	/* No delivery runs after this (the doorbells' handlers are gone already). */
	if (m_doorbells)
		m_doorbells->shutdown();
	m_doorbells.reset();
	m_dma.free();
	if (m_registered) {
		virtio_rpmsg_exit();
		virtio::virtio_exit();
	}
}

Result<keel::RefPtr<RpmsgDevice>> RpmsgLoopback::add_service(const char *name, const char *driver,
							     u32 addr)
{
	return m_remote->add_service(name, driver, addr);
}

namespace {
/* One "name[:driver]" entry of a service list, copied out and checked. */
struct ServiceEntry {
	char name[RPMSG_NAME_SIZE];
	char driver[RPMSG_NAME_SIZE];
};

/* Parses the entry at @p (up to a comma or the end); returns where the next one starts. */
Result<const char *> parse_service(const char *p, const char *def_driver, ServiceEntry *e)
{
	size_t len = 0;
	while (p[len] && p[len] != ',')
		len++;
	size_t name_len = 0;
	while (name_len < len && p[name_len] != ':')
		name_len++;
	const char *drv = name_len < len ? p + name_len + 1 : def_driver;
	size_t drv_len = name_len < len ? len - name_len - 1 : strlen(def_driver);
	if (!name_len || name_len >= RPMSG_NAME_SIZE || !drv_len || drv_len >= RPMSG_NAME_SIZE)
		return err(-EINVAL);
	memcpy(e->name, p, name_len);
	e->name[name_len] = 0;
	memcpy(e->driver, drv, drv_len);
	e->driver[drv_len] = 0;
	return p[len] ? p + len + 1 : p + len;
}
} // namespace

Result<u32> RpmsgLoopback::add_services(const char *list, const char *driver)
{
	ServiceEntry e;
	if (!list || !*list || !driver) {
		pr_err("%s: no services", m_name);
		return err(-EINVAL);
	}
	for (const char *p = list; *p;) {
		Result<const char *> next = parse_service(p, driver, &e);
		if (next.is_error()) {
			pr_err("%s: bad service entry at \"%s\" (want name[:driver], each 1..%u "
			       "characters)",
			       m_name, p, RPMSG_NAME_SIZE - 1);
			return next.error();
		}
		p = next.value();
	}
	u32 n = 0;
	for (const char *p = list; *p; n++) {
		p = parse_service(p, driver, &e).value();
		Result<keel::RefPtr<RpmsgDevice>> r = add_service(e.name, e.driver);
		if (r.is_error()) {
			pr_err("%s: service %s (%s): %d", m_name, e.name, e.driver,
			       r.error().to_errno());
			return r.error();
		}
	}
	return n;
}

Result<void> RpmsgLoopback::remove_service(const char *name)
{
	return m_remote->remove_service(name);
}

Result<void> RpmsgLoopback::start()
{
	if (m_started)
		return err(-EBUSY);
	/* A new remote behind the doorbells, if cut() killed the last one. */
	m_doorbells->reconnect();
	TRY(m_remote->start());
	Result<void> r = m_host->attach(m_timeout_ns);
	if (r.is_ok() && !m_remote->wait_link_up(m_timeout_ns))
		r = err(-ETIMEDOUT);
	if (r.is_error()) {
		pr_err("%s: the host did not come up: %d", m_name, r.error().to_errno());
		m_host->detach();
		m_remote->stop();
		return r;
	}
	m_started = true;
	return ok();
}

/* The session's traffic, as each side counted it, logged when it ends. */
void RpmsgLoopback::log_counts()
{
	RpmsgLink *h = host_link();
	RpmsgLinkStats &r = m_remote->link().stats();
	auto dropped = [](RpmsgLinkStats &s) {
		return s.rx_bad.load() + s.rx_no_recipient.load() + s.rx_hold_dropped.load() +
		       s.rx_cb_errors.load() + s.ns_bad.load() + s.ns_dropped.load();
	};
	u64 h_rx = h ? h->stats().rx_delivered.load() : 0, h_tx = h ? h->stats().tx_sent.load() : 0;
	u64 h_drop = h ? dropped(h->stats()) : 0;
	u64 r_rx = r.rx_delivered.load() - m_remote_rx, r_tx = r.tx_sent.load() - m_remote_tx;
	u64 r_drop = dropped(r) - m_remote_dropped;
	pr_info("%s: session %u: host received %llu, sent %llu, dropped %llu; remote received "
		"%llu, sent %llu, dropped %llu",
		m_name, m_remote->sessions(), (unsigned long long)h_rx, (unsigned long long)h_tx,
		(unsigned long long)h_drop, (unsigned long long)r_rx, (unsigned long long)r_tx,
		(unsigned long long)r_drop);
	/* The remote's link lives on: the next session counts from here. */
	m_remote_rx += r_rx;
	m_remote_tx += r_tx;
	m_remote_dropped += r_drop;
}

void RpmsgLoopback::stop()
{
	if (!m_started)
		return;
	log_counts();
	/* The host goes first, as when a remoteproc is stopped: its channels are removed. */
	m_host->detach();
	m_remote->stop();
	m_started = false;
}

void RpmsgLoopback::cut()
{
	m_doorbells->cut();
}

RpmsgLink *RpmsgLoopback::host_link() const
{
	virtio::VirtioDevice *vdev = m_started ? m_host->vdev(0) : nullptr;
	return vdev ? virtio_rpmsg_link(*vdev) : nullptr;
}

} // namespace rpmsg
