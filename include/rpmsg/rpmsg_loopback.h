/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A virtual remote processor in the same kernel: both roles of an rpmsg
 * link, wired to each other as two processors would be.
 *
 *	shared region (coherent DMA memory) + keel::LoopbackLink (doorbells)
 *	host role:   virtio::ShmHost -> virtio device 7 -> virtio_rpmsg_bus
 *	remote role: rpmsg::RpmsgRemote over virtio::ShmRemote, with services
 *
 * The host side is exactly what a real remote processor gets: the
 * transport finds the remote's resource table in the region, registers a
 * virtio rpmsg device, the rpmsg bus probes it and the remote's
 * announcements become channels that client drivers (their own modules)
 * bind to by name. The remote side is the firmware's role, run by the
 * same kernel; its services are local channels bound to drivers by name
 * (driver_override), e.g. the echo service of samples/rpmsg.
 *
 *	RpmsgLoopbackConfig cfg;                  // Linux's defaults
 *	auto lb = TRY(RpmsgLoopback::create(cfg, GFP_KERNEL));
 *	TRY(lb->add_service("rpmsg-client-sample", "rpmsg_echo"));
 *	TRY(lb->start());                         // host attached, link up
 *	...
 *	lb.reset();                               // everything torn down
 *
 * Used by samples/rpmsg's rpmsg_loopback module, and meant for anything
 * that wants a remote without hardware (a remoteproc driver of an
 * in-kernel remote, tests). Documentation/rpmsg.rst, "A remote in the
 * same kernel".
 */
#ifndef RPMSG_RPMSG_LOOPBACK_H
#define RPMSG_RPMSG_LOOPBACK_H

#include <keel/alloc.h>
#include <keel/dma.h>
#include <keel/loopback_link.h>
#include <keel/shm.h>
#include <rpmsg/rpmsg_link.h>
#include <virtio/virtio_shm.h>

namespace rpmsg {

/**
 * struct RpmsgLoopbackConfig - a remote in the same kernel
 * @name: for logs and device names (the remote's link device is @name,
 *	the transport logs as @name-host).
 * @region: the shared memory to use (page aligned, two pages or more, its
 *	device addresses within 32 bits: the resource table's fields); when
 *	not valid(), @region_size bytes of coherent DMA memory are allocated
 *	from @dma_dev and the remote sees them at device address 0.
 * @region_size: bytes to allocate; 0: what the vrings and buffers need
 *	(rpmsg_loopback_region_size()).
 * @dma_dev: the port's device to allocate from (Linux: a struct device
 *	with a DMA mask); null: the port's default DMA device.
 * @vring_num: entries of each vring (a power of two, at most 4096).
 * @h2r_buf_size: bytes per host-to-remote buffer, header included (the
 *	remote's buffer numbers are RpmsgRemoteConfig's; other than Linux's
 *	defaults, the remote offers VIRTIO_RPMSG_F_BUFSZ and the host adopts
 *	them).
 * @r2h_buf_size: bytes per remote-to-host buffer, header included.
 * @h2r_num: host-to-remote buffers.
 * @r2h_num: remote-to-host buffers.
 * @remote_link: the remote role's link tunables (the host role's are
 *	virtio_rpmsg_set_config()'s, shared by every host link).
 * @parent: parent of the virtio device and of the remote's link device
 *	(may be null).
 * @start_timeout_ns: how long start() waits for each step.
 * @crashed: called (atomic context) when the link is cut (cut()), after
 *	the host's queues are broken; may be null.
 * @crashed_ctx: passed to @crashed.
 */
struct RpmsgLoopbackConfig {
	const char *name = "rpmsg-loopback";
	keel::ShmRegion region;
	size_t region_size = 0;
	void *dma_dev = nullptr;
	u32 vring_num = MAX_RPMSG_NUM_BUFS / 2;
	u32 h2r_buf_size = RPMSG_BUF_SIZE;
	u32 r2h_buf_size = RPMSG_BUF_SIZE;
	u32 h2r_num = MAX_RPMSG_NUM_BUFS / 2;
	u32 r2h_num = MAX_RPMSG_NUM_BUFS / 2;
	RpmsgLinkConfig remote_link;
	keel::Device *parent = nullptr;
	s64 start_timeout_ns = 5 * keel::NSEC_PER_SEC;
	void (*crashed)(void *ctx) = nullptr;
	void *crashed_ctx = nullptr;
};

/**
 * rpmsg_loopback_region_size() - the shared memory @cfg needs
 * @cfg: the configuration (its vring and buffer numbers)
 *
 * The header and resource table page, two vrings (each page aligned, as
 * the transport places them) and every buffer both ways, page rounded.
 *
 * Context: any.
 * Return: bytes, or -EINVAL when @cfg.vring_num is not a valid ring size.
 */
Result<size_t> rpmsg_loopback_region_size(const RpmsgLoopbackConfig &cfg)
	KEEL_EXPORT_AS(keel_rpmsg_loopback_region_size);

/**
 * class RpmsgLoopback - a remote processor in the same kernel
 *
 * Owns the region (when it allocated it), the doorbells, the host
 * transport and the remote role. Registers the virtio bus and the virtio
 * rpmsg driver (counted) for as long as it lives.
 *
 * Teardown in any order with the drivers involved: a client driver or a
 * service driver may be unregistered before or after the loopback is
 * destroyed (their remove() runs when their channel goes).
 *
 * Context: everything may sleep; not from an rpmsg callback. The caller
 * serialises the calls on one loopback (as a remoteproc's start and stop).
 */
class RpmsgLoopback : keel::NonMovable {
public:
	/**
	 * create() - set up both roles; nothing is published before start().
	 * @cfg: the configuration (copied; @cfg.name must outlive the object)
	 * @gfp: allocation context
	 *
	 * Context: may sleep.
	 * Return: the loopback; -EINVAL for a bad configuration; -ENOMEM.
	 */
	static Result<keel::UniquePtr<RpmsgLoopback>> create(const RpmsgLoopbackConfig &cfg,
							     keel::Gfp gfp)
		KEEL_EXPORT_AS(keel_rpmsg_loopback_create);
	/* stop(), then the remote's services go (their drivers' remove runs), then the rest. */
	~RpmsgLoopback();

	/**
	 * add_service() - a service of the remote, announced to the host
	 * @name: the service (channel) name
	 * @driver: the driver serving it, by name (e.g. "rpmsg_echo"); it is
	 *	announced once that driver is bound, whenever it registers
	 * @addr: the remote's address for it, or RPMSG_ADDR_ANY
	 *
	 * Context: may sleep.
	 * Return: the service's channel (remote side); -EEXIST, -EINVAL,
	 * -ENOMEM.
	 */
	Result<keel::RefPtr<RpmsgDevice>> add_service(const char *name, const char *driver,
						      u32 addr = RPMSG_ADDR_ANY)
		KEEL_EXPORT_AS(keel_rpmsg_loopback_add_service);
	/**
	 * add_services() - add_service() for each entry of a list
	 * @list: "name[:driver]" entries separated by commas (a module
	 *	parameter's form), e.g. "rpmsg-client-sample,my-svc:my_driver"
	 * @driver: the driver of the entries that name none
	 *
	 * The whole list is checked before anything is added.
	 *
	 * Context: may sleep.
	 * Return: the number of services added; -EINVAL for an empty list,
	 * an empty entry, a name of RPMSG_NAME_SIZE bytes or more (logged);
	 * the errors of add_service() (the services added before stay).
	 */
	Result<u32> add_services(const char *list, const char *driver)
		KEEL_EXPORT_AS(keel_rpmsg_loopback_add_services);
	/**
	 * remove_service() - withdraw a service (announced destroyed).
	 * @name: the service
	 *
	 * Context: may sleep.
	 * Return: 0, -ENOENT.
	 */
	Result<void> remove_service(const char *name)
		KEEL_EXPORT_AS(keel_rpmsg_loopback_remove_service);
	/**
	 * start() - boot the remote and attach the host: the remote publishes
	 * its table, the host registers the virtio rpmsg device (the rpmsg bus
	 * probes it), the session starts and bound services are announced.
	 *
	 * After cut() and stop(), start() is the recovery of a crashed remote
	 * (remoteproc's): the link delivers again and a new session starts,
	 * with new host channels.
	 *
	 * Context: may sleep.
	 * Return: 0; -EBUSY when started; -ETIMEDOUT when a step took longer
	 * than start_timeout_ns; the errors of the transport and the remote.
	 * On error nothing stays started.
	 */
	Result<void> start();
	/**
	 * stop() - detach the host (the virtio device goes: host channels are
	 * removed and their drivers' remove runs) and stop the remote; its
	 * services stay, for the next start(). Nothing when not started.
	 * Logs the session's counts: messages received, sent and dropped by
	 * each side ("<name>: session N: host received ...").
	 *
	 * Context: may sleep.
	 */
	void stop();
	/**
	 * cut() - the remote "crashes": both ends are told the peer is gone,
	 * the host's queues break, blocked senders fail with -EPIPE. Only
	 * stop() (or destruction) follows; start() after it recovers.
	 *
	 * Context: process.
	 */
	void cut();

	/**
	 * started() - is the remote running?
	 *
	 * Context: any; the caller serialises it with start() and stop().
	 * Return: true between a successful start() and stop().
	 */
	bool started() const { return m_started; }
	/**
	 * host_link() - the host role's rpmsg link
	 *
	 * Context: any; the caller serialises it with start() and stop().
	 * Return: the link, or nullptr unless started and the virtio rpmsg device is bound.
	 */
	RpmsgLink *host_link() const;
	/**
	 * remote() - the remote role
	 *
	 * Context: any.
	 * Return: the remote, for the loopback's lifetime.
	 */
	RpmsgRemote &remote() const { return *m_remote; }
	/**
	 * host() - the host role's shared-memory transport
	 *
	 * Context: any.
	 * Return: the transport, for the loopback's lifetime.
	 */
	virtio::ShmHost &host() const { return *m_host; }
	/**
	 * doorbells() - the two doorbells between the roles
	 *
	 * Context: any.
	 * Return: the doorbell pair, for the loopback's lifetime.
	 */
	keel::LoopbackLink &doorbells() const { return *m_doorbells; }
	/**
	 * region() - the shared memory
	 *
	 * Context: any.
	 * Return: the region (allocated or the configuration's).
	 */
	const keel::ShmRegion &region() const { return m_region; }
	/**
	 * name() - the configuration's name
	 *
	 * Context: any.
	 * Return: the name, as given to create().
	 */
	const char *name() const { return m_name; }

private:
	explicit RpmsgLoopback(const RpmsgLoopbackConfig &cfg) : m_name(cfg.name) {}
	Result<void> init(const RpmsgLoopbackConfig &cfg, keel::Gfp gfp)
		KEEL_EXPORT_AS(keel_rpmsg_loopback_init);
	void log_counts();

	const char *m_name;
	char m_host_name[40] = {};
	bool m_registered = false;
	bool m_started = false;
	keel::DmaBuffer m_dma;
	keel::ShmRegion m_region;
	keel::UniquePtr<keel::LoopbackLink> m_doorbells;
	keel::UniquePtr<virtio::ShmHost> m_host;
	keel::UniquePtr<RpmsgRemote> m_remote;
	s64 m_timeout_ns = 0;
	/* The remote link's counters at the end of the last session. */
	u64 m_remote_rx = 0, m_remote_tx = 0, m_remote_dropped = 0;
};

} // namespace rpmsg

#endif
