/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The transport of the rpmsg two-process test, in one place: shmlink (an
 * ivshmem-protocol server, a memfd region, eventfd doorbells), the host
 * role (ShmHost; the virtio bus binds virtio_rpmsg_bus) and the remote
 * role (RpmsgRemote). Hosted only.
 */
#ifndef TOOLS_TESTING_RPMSG_E2E_LINK_H
#define TOOLS_TESTING_RPMSG_E2E_LINK_H

#include <keel/log.h>
#include <keel/time.h>
#include <rpmsg/rpmsg_link.h>
#include <virtio/virtio_shm.h>

#include "../../../os/posix/shmlink/shmlink.h"

#include <unistd.h>

namespace e2e {

using keel::Result;

inline constexpr u32 VECTORS = 3;	  /* vring 0, vring 1, ANY */
inline constexpr size_t REGION = 1 << 20; /* a power of two, as QEMU wants */
inline constexpr u32 VRING_NUM = 256;	  /* Linux's 256 buffers each way */

/* The host: the broker (owned here), its client, and the ShmHost on the region. */
struct Host {
	shmlink::Server *server = nullptr;
	shmlink::Client *client = nullptr;
	keel::UniquePtr<virtio::ShmHost> shm;
	keel::Atomic<u32> crashes{ 0 };

	Result<void> start(const char *sock)
	{
		server = TRY(shmlink::Server::create(sock, REGION, VECTORS));
		return server->start();
	}
	/* After the remote process connected: attach (virtio_rpmsg_bus probes). */
	Result<void> attach(const char *sock, s64 timeout_ns)
	{
		client = TRY(shmlink::Client::connect(sock, VECTORS, timeout_ns));
		TRY(client->wait_peer(timeout_ns));
		/* Clients that wait for the remote sleep on the transport's doorbell by default. */
		rpmsg::virtio_rpmsg_set_config(rpmsg::VirtioRpmsgHostConfig());
		virtio::ShmHostConfig hc;
		hc.name = "e2e-host";
		hc.region = keel::ShmRegion(client->mem(), client->mem_size(), 0);
		hc.doorbell = client;
		hc.crashed = [](void *ctx) { static_cast<Host *>(ctx)->crashes.fetch_add(1); };
		hc.crashed_ctx = this;
		shm = TRY(virtio::ShmHost::create(hc, GFP_KERNEL));
		return shm->attach(timeout_ns);
	}
	void stop()
	{
		shm.reset();
		rpmsg::virtio_rpmsg_set_config(rpmsg::VirtioRpmsgHostConfig());
		delete client;
		client = nullptr;
		if (server) {
			server->stop();
			delete server;
			server = nullptr;
		}
	}
	virtio::VirtioDevice *vdev() const { return shm ? shm->vdev(0) : nullptr; }
};

/* The remote: its client and the RpmsgRemote; host_gone once the host left. */
struct Remote {
	shmlink::Client *client = nullptr;
	keel::UniquePtr<rpmsg::RpmsgRemote> rp;
	keel::Atomic<bool> host_gone{ false };

	Result<void> start(const char *sock, s64 timeout_ns)
	{
		client = TRY(shmlink::Client::connect(sock, VECTORS, timeout_ns));
		TRY(client->wait_peer(timeout_ns));
		rpmsg::RpmsgRemoteConfig rc;
		rc.name = "e2e-remote";
		rc.region = keel::ShmRegion(client->mem(), client->mem_size(), 0);
		rc.doorbell = client;
		rc.vring_num = VRING_NUM;
		/* The remote role owns the doorbell's peer-down: it tells us. */
		rc.host_gone = [](void *ctx) { static_cast<Remote *>(ctx)->host_gone.store(true); };
		rc.host_gone_ctx = this;
		rp = TRY(rpmsg::RpmsgRemote::create(rc, GFP_KERNEL));
		return keel::ok();
	}
	void stop()
	{
		rp.reset();
		delete client;
		client = nullptr;
	}
};

} // namespace e2e

#endif
