/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host and remote rpmsg in one address space: the one place where the
 * rpmsg tests set up a transport. A region of memory, a deferred loopback
 * doorbell (deliveries in interrupt context), the host role (ShmHost, the
 * virtio bus, virtio_rpmsg_bus bound to the device) and the remote role
 * (RpmsgRemote over ShmRemote) with its services.
 *
 *	RpmsgPair *p = make_pair(t, cfg);       // both up, services announced
 *	p->host_link(), p->remote->link(), p->region, p->host ...
 *
 * Framework headers only: compiled hosted and into the KUnit module.
 */
#ifndef RPMSG_TESTS_RPMSG_FIXTURE_H
#define RPMSG_TESTS_RPMSG_FIXTURE_H

#include <keel/doorbell.h>
#include <keel/log.h>
#include <keel/loopback_link.h>
#include <keel/test.h>
#include <rpmsg/rpmsg_link.h>
#include <virtio/virtio_shm.h>

#include "../rpmsg_internal.h"
#include "rpmsg_test_util.h"

namespace rpmsg::test {

struct PairConfig {
	/* Vring size of both vrings; buffers each way follow (at most 256 by default). */
	u32 vring_num = 64;
	size_t region_size = 256 * 1024;
	/* Remote side; non-default sizes make the remote offer VIRTIO_RPMSG_F_BUFSZ. */
	u32 h2r_buf_size = RPMSG_BUF_SIZE;
	u32 r2h_buf_size = RPMSG_BUF_SIZE;
	u32 h2r_num = MAX_RPMSG_NUM_BUFS / 2;
	u32 r2h_num = MAX_RPMSG_NUM_BUFS / 2;
	RpmsgLinkConfig host_link;
	RpmsgLinkConfig remote_link;
	/* Services of the remote: name and driver, registered before start. */
	struct Service {
		const char *name;
		const char *driver;
	};
	Service services[4] = {};
	/* Drivers to register for the test (both sides share the bus). */
	RpmsgDriver *drivers[4] = {};
	/* How each side maintains the region (nullptr: the port's hooks). */
	const keel::ShmCacheOps *host_cache = nullptr;
	const keel::ShmCacheOps *remote_cache = nullptr;
};

class RpmsgPair : keel::NonMovable {
public:
	u8 *mem = nullptr;
	keel::ShmRegion region;
	keel::LoopbackLink *link = nullptr;
	keel::UniquePtr<virtio::ShmHost> host;
	keel::UniquePtr<RpmsgRemote> remote;
	PairConfig cfg;
	bool inited = false;
	u32 nr_drivers = 0;
	keel::Atomic<u32> crashes{ 0 };

	virtio::VirtioDevice *vdev() const { return host ? host->vdev(0) : nullptr; }
	/* The host role's link (null until the device is bound). */
	RpmsgLink *host_link() const { return vdev() ? virtio_rpmsg_link(*vdev()) : nullptr; }

	/* attach() - the host finds the remote's table and binds virtio_rpmsg_bus. */
	Result<void> attach() { return host->attach(keel::ms_to_ns(5000)); }

	~RpmsgPair()
	{
		host.reset();
		remote.reset();
		if (link) {
			link->shutdown();
			delete link;
		}
		keel::kfree(mem);
		for (u32 i = nr_drivers; i-- > 0;)
			unregister_rpmsg_driver(*cfg.drivers[i]);
		if (inited) {
			virtio_rpmsg_exit();
			virtio::virtio_exit();
			/* Back to the defaults for the next user. */
			virtio_rpmsg_set_config(VirtioRpmsgHostConfig());
		}
	}

	Result<void> setup(const PairConfig &c)
	{
		cfg = c;
		TRY(virtio::virtio_init());
		Result<void> r = virtio_rpmsg_init();
		if (r.is_error()) {
			virtio::virtio_exit();
			return r;
		}
		inited = true;
		VirtioRpmsgHostConfig hc;
		hc.link = c.host_link;
		virtio_rpmsg_set_config(hc);
		for (RpmsgDriver *d : c.drivers) {
			if (!d)
				break;
			TRY(register_rpmsg_driver(*d));
			nr_drivers++;
		}
		mem = static_cast<u8 *>(keel::kzalloc(c.region_size, GFP_KERNEL));
		link = new (GFP_KERNEL) keel::LoopbackLink(keel::LoopbackLink::Mode::Deferred);
		if (!mem || !link)
			return keel::err(-ENOMEM);
		region = keel::ShmRegion(mem, c.region_size, 0);

		virtio::ShmHostConfig hcfg;
		hcfg.name = "rpmsg-test-host";
		hcfg.region = region.with_cache_ops(c.host_cache);
		hcfg.doorbell = &link->a();
		hcfg.crashed = [](void *ctx) {
			static_cast<RpmsgPair *>(ctx)->crashes.fetch_add(1);
		};
		hcfg.crashed_ctx = this;
		host = TRY(virtio::ShmHost::create(hcfg, GFP_KERNEL));

		RpmsgRemoteConfig rc;
		rc.name = "rpmsg-test-remote";
		rc.region = region.with_cache_ops(c.remote_cache);
		rc.doorbell = &link->b();
		rc.vring_num = c.vring_num;
		rc.h2r_buf_size = c.h2r_buf_size;
		rc.r2h_buf_size = c.r2h_buf_size;
		rc.h2r_num = c.h2r_num;
		rc.r2h_num = c.r2h_num;
		rc.link = c.remote_link;
		remote = TRY(RpmsgRemote::create(rc, GFP_KERNEL));
		for (const auto &s : c.services) {
			if (!s.name)
				break;
			TRY(remote->add_service(s.name, s.driver));
		}
		TRY(remote->start());
		TRY(attach());
		if (!remote->wait_link_up(keel::ms_to_ns(5000)))
			return keel::err(-ETIMEDOUT);
		return keel::ok();
	}

	/*
	 * Waits until the host has a channel @name whose driver's probe has
	 * returned (bound and receiving); returns it (a reference) or null.
	 */
	keel::RefPtr<RpmsgDevice> host_channel(const char *name,
					       s64 timeout_ns = keel::ms_to_ns(5000))
	{
		keel::RefPtr<RpmsgDevice> ch;
		bool ready = wait_for(
			[&] {
				RpmsgLink *l = host_link();
				ch = l ? l->find_channel(name, RPMSG_ADDR_ANY) : nullptr;
				return ch && l->channel_active(*ch);
			},
			timeout_ns);
		return ready ? ch : nullptr;
	}
};

/* A pair for @t, torn down when the case ends; null (and the case failed) on error. */
inline RpmsgPair *make_pair(keel::test::Test &t, const PairConfig &cfg)
{
	return setup_for_case<RpmsgPair>(t, "the rpmsg pair", cfg);
}

} // namespace rpmsg::test

#endif
