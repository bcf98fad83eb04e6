/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Setting up rpmsg links: the platform side, not the client API (that is
 * <rpmsg/rpmsg.h>). Two roles, one endpoint API:
 *
 *  - the host role: the virtio driver of rpmsg devices (VIRTIO_ID_RPMSG),
 *    as Linux's virtio_rpmsg_bus. virtio_rpmsg_init() registers it; every
 *    virtio rpmsg device a transport registers then gets a link.
 *  - the remote role: the virtio device side, what firmware does, over the
 *    shared-memory transport (virtio::ShmRemote): RpmsgRemote publishes
 *    the resource table, waits for the host's DRIVER_OK, announces its
 *    services and serves them, session after session.
 *
 * Buffer sizes and counts (Documentation/rpmsg.rst, "Configuration"): the
 * host allocates every buffer, so its sizes are the law. Both ends are
 * configured with the same numbers (the defaults are Linux's: 512-byte
 * buffers, up to 256 each way), or the remote offers VIRTIO_RPMSG_F_BUFSZ
 * and publishes its numbers in the vdev's config space, which a keel host
 * then uses (a Linux host ignores the bit: defaults on both ends).
 */
#ifndef RPMSG_RPMSG_LINK_H
#define RPMSG_RPMSG_LINK_H

#include <keel/alloc.h>
#include <keel/doorbell.h>
#include <keel/shm.h>
#include <rpmsg/rpmsg.h>
#include <rpmsg/virtio_rpmsg.h>

namespace rpmsg {

/* Held-message limit meaning "hold nothing" (RpmsgLinkConfig.hold_max). */
inline constexpr u32 RPMSG_HOLD_NONE = 0xffffffffu;

/**
 * enum RpmsgDelivery - who runs a link's receive passes
 * @Doorbell: the remote's doorbell runs them, in its interrupt context;
 *	where that context is a thread of its own it spins briefly (the
 *	adaptive spin) before it sleeps again.
 * @Polling: a thread of the link's own polls the ring with notifications
 *	off; idle for busy_poll_idle_ns, it re-enables them and sleeps until
 *	the doorbell wakes it (never, when negative: a dedicated core).
 *
 * Either way a pass is NAPI's poll: the remote's notifications are off
 * while it runs and re-enabled, with a re-check, only when it found the
 * ring empty; callbacks keep their contract. In both modes clients may
 * poll the link themselves (<rpmsg/rpmsg_poll.h>). Documentation/rpmsg.rst,
 * "Delivery modes", has the whole story.
 */
enum class RpmsgDelivery : u8 { Doorbell, Polling };

/* Default cap of the adaptive spin: well below a scheduler tick, about one wake-up. */
inline constexpr s64 RPMSG_SPIN_MAX_NS = 50 * keel::NSEC_PER_USEC;
/* Default time the polling thread polls an idle ring before it sleeps. */
inline constexpr s64 RPMSG_BUSY_POLL_IDLE_NS = keel::NSEC_PER_MSEC;
/* Default messages per poll call of the polling thread. */
inline constexpr u32 RPMSG_POLL_BUDGET = 64;

/**
 * struct RpmsgLinkConfig - tunables of a link, either role
 * @send_timeout_ns: how long blocking sends wait for a tx buffer.
 * @hold_max: messages held, link-wide, for channels whose driver is not
 *	bound (yet); 0: an eighth of the rx buffers (at least one);
 *	RPMSG_HOLD_NONE: none (such messages are counted and dropped).
 * @hold_timeout_ns: a held message not delivered by then is dropped
 *	(counted, logged).
 * @client_hold_max: rx buffers clients may hold at once with
 *	hold_rx_buffer(); 0: all of them.
 * @max_channels: channels the link creates at most; announcements
 *	beyond it are refused (-ENOSPC, logged).
 * @delivery: who runs the receive passes (RpmsgDelivery).
 * @spin_max_ns: cap of the adaptive spin of a context about to sleep for
 *	the remote (a receive context between passes, a sender waiting for a
 *	tx buffer, a client in rpmsg::wait_event_spin()); 0: never spin.
 * @busy_poll_idle_ns: polling mode: how long the polling thread polls an
 *	idle ring before it sleeps; negative: it never sleeps.
 * @poll_budget: polling mode: messages per poll of the polling thread.
 * @wait_doorbell: the doorbell that interrupts this end, when its backend
 *	offers direct waits (Doorbell::wait_begin(); the hosted shmlink
 *	client does): a client sleeping in rpmsg::wait_event_spin() then
 *	sleeps on the doorbell and runs the receive pass itself when the
 *	remote rings, instead of being woken by the doorbell's interrupt
 *	context (one wake-up fewer per round trip). nullptr: the
 *	transport's (the host role: VirtioDevice::doorbell(); the remote
 *	role: RpmsgRemoteConfig.doorbell); with a backend without direct
 *	waits, clients sleep on their queue. Must outlive the link.
 */
struct RpmsgLinkConfig {
	s64 send_timeout_ns = RPMSG_SEND_TIMEOUT_NS;
	u32 hold_max = 0;
	s64 hold_timeout_ns = keel::NSEC_PER_SEC;
	u32 client_hold_max = 0;
	u32 max_channels = 64;
	RpmsgDelivery delivery = RpmsgDelivery::Doorbell;
	s64 spin_max_ns = RPMSG_SPIN_MAX_NS;
	s64 busy_poll_idle_ns = RPMSG_BUSY_POLL_IDLE_NS;
	u32 poll_budget = RPMSG_POLL_BUDGET;
	keel::Doorbell *wait_doorbell = nullptr;
};

/* --- host role --- */

/**
 * struct VirtioRpmsgHostConfig - the host role's numbers
 * @h2r_buf_size: bytes per buffer (header included), host to remote (the
 *	host's tx)
 * @r2h_buf_size: bytes per buffer, remote to host (the host's rx)
 * @h2r_num: host-to-remote buffers at most; fewer when a vring is smaller
 *	(one buffer per vring entry, as Linux)
 * @r2h_num: remote-to-host buffers at most, likewise
 * @link: the link's tunables.
 *
 * With VIRTIO_RPMSG_F_BUFSZ negotiated, the sizes and counts come from
 * the device's config space instead.
 */
struct VirtioRpmsgHostConfig {
	u32 h2r_buf_size = RPMSG_BUF_SIZE;
	u32 r2h_buf_size = RPMSG_BUF_SIZE;
	u32 h2r_num = MAX_RPMSG_NUM_BUFS / 2;
	u32 r2h_num = MAX_RPMSG_NUM_BUFS / 2;
	RpmsgLinkConfig link;
};

/**
 * virtio_rpmsg_init() - register the rpmsg bus and the virtio rpmsg driver.
 *
 * Needs the virtio bus (virtio::virtio_init()). Counted like rpmsg_init().
 * Context: may sleep.
 * Return: 0, or the error of a registration.
 */
Result<void> virtio_rpmsg_init();
/**
 * virtio_rpmsg_exit() - undo one virtio_rpmsg_init().
 *
 * Context: may sleep.
 */
void virtio_rpmsg_exit();
/**
 * virtio_rpmsg_set_config() - the numbers for devices probed from now on.
 * @cfg: the configuration (copied)
 *
 * Context: process; before the devices it applies to probe.
 */
void virtio_rpmsg_set_config(const VirtioRpmsgHostConfig &cfg)
	KEEL_EXPORT_AS(keel_virtio_rpmsg_set_config);

/* --- remote role --- */

/**
 * struct RpmsgRemoteConfig - the remote role over a shared region
 * @name: for logs and the link's device name.
 * @region: the shared region (the whole of it; the remote writes the
 *	header and the resource table at its start).
 * @doorbell: the doorbell to the host.
 * @vring_num: entries of each of the two vrings, a power of two
 * @vring_align: their alignment: at least the transport's cache line,
 *	SHM_CACHE_LINE; 4096 as in most firmware tables
 * @h2r_buf_size: as the host's; when any of the four numbers differs from
 *	Linux's defaults, VIRTIO_RPMSG_F_BUFSZ is offered and the numbers
 *	published in config space
 * @r2h_buf_size: as the host's
 * @h2r_num: as the host's
 * @r2h_num: as the host's
 * @name_service: offer VIRTIO_RPMSG_F_NS (announce services).
 * @link: the link's tunables.
 * @parent: parent of the link's device (may be null).
 * @host_gone: called when the doorbell reports the host gone (its process
 *	died, the link was cut), after the session was failed (senders get
 *	-EPIPE) and the session thread woken; may be null. The remote role
 *	owns the doorbell's peer-down callback: this is how others hear of it.
 *	Context: the doorbell's (atomic).
 * @host_gone_ctx: its argument.
 */
struct RpmsgRemoteConfig {
	const char *name = "rpmsg-remote";
	keel::ShmRegion region;
	keel::Doorbell *doorbell = nullptr;
	u32 vring_num = MAX_RPMSG_NUM_BUFS / 2;
	u32 vring_align = 4096;
	u32 h2r_buf_size = RPMSG_BUF_SIZE;
	u32 r2h_buf_size = RPMSG_BUF_SIZE;
	u32 h2r_num = MAX_RPMSG_NUM_BUFS / 2;
	u32 r2h_num = MAX_RPMSG_NUM_BUFS / 2;
	bool name_service = true;
	RpmsgLinkConfig link;
	keel::Device *parent = nullptr;
	void (*host_gone)(void *ctx) = nullptr;
	void *host_gone_ctx = nullptr;
};

/**
 * class RpmsgRemote - the remote role: one virtio rpmsg device over one region
 *
 * Services are local channels (rpmsg devices on the rpmsg bus, children of
 * the link's device) bound to a named driver; they live across host
 * sessions and are announced at the start of each. A session starts at
 * the host's DRIVER_OK and ends when the host resets the device (or
 * re-attaches); channels the host announced, messages in flight and held
 * buffers end with it. Sends while no session runs fail with -ENOTCONN.
 * A host that goes away (the doorbell's peer-down) ends the session at
 * once, and the next one needs a new host session (a new host_gen): the
 * old host's rings are never used again.
 *
 * Sleep (runtime PM, asked by the host's platform): suspend() stops
 * serving, or refuses while there is work (messages from the host not
 * taken, buffers held, a send in progress); kicks that arrive meanwhile
 * are served at resume(), in order. Senders of the remote find no buffer
 * while it sleeps (they wait, or trysend fails with -ENOMEM).
 *
 * Context: everything may sleep.
 */
class RpmsgRemote : keel::NonMovable {
public:
	/**
	 * create() - a remote role; nothing is published before start().
	 * @cfg: the configuration (copied)
	 * @gfp: allocation context
	 *
	 * Needs the rpmsg bus (rpmsg_init()).
	 * Context: may sleep.
	 * Return: the remote; -EINVAL for a bad configuration; -ENOMEM.
	 */
	static Result<keel::UniquePtr<RpmsgRemote>> create(const RpmsgRemoteConfig &cfg,
							   keel::Gfp gfp)
		KEEL_EXPORT_AS(keel_rpmsg_remote_create);
	/* Stops (see stop()) and removes every service. */
	~RpmsgRemote();

	/**
	 * start() - publish the resource table and serve host sessions.
	 *
	 * Context: may sleep.
	 * Return: 0, or the error of publishing or of starting the thread.
	 */
	Result<void> start();
	/**
	 * stop() - end the session, stop serving; services stay registered.
	 *
	 * Context: may sleep.
	 */
	void stop();
	/**
	 * add_service() - a local channel @name bound to the driver @driver.
	 * @name: the service (channel) name announced to the host
	 * @driver: the driver to bind (driver_override), by its name
	 * @addr: the local address, or RPMSG_ADDR_ANY for a dynamic one
	 *
	 * Context: may sleep.
	 * Return: the channel; the errors of create_channel().
	 */
	Result<keel::RefPtr<RpmsgDevice>> add_service(const char *name, const char *driver,
						      u32 addr = RPMSG_ADDR_ANY);
	/**
	 * remove_service() - remove the service @name (announced destroyed).
	 * @name: the service
	 *
	 * Context: may sleep.
	 * Return: 0, -ENOENT.
	 */
	Result<void> remove_service(const char *name);
	/**
	 * link_up() - is a host session running?
	 *
	 * Context: any.
	 * Return: true between the host's DRIVER_OK and its reset.
	 */
	bool link_up() const;
	/**
	 * wait_link_up() - wait for a session.
	 * @timeout_ns: how long
	 *
	 * Context: may sleep.
	 * Return: true when a session runs.
	 */
	bool wait_link_up(s64 timeout_ns);
	/**
	 * sessions() - host sessions started so far
	 *
	 * Context: any.
	 * Return: the count.
	 */
	u32 sessions() const;
	/**
	 * suspend() - go to sleep: stop serving the host
	 *
	 * Context: process (takes the link's rx lock).
	 * Return: 0 (also without a session: nothing to serve); -EBUSY when
	 * the host's messages wait untaken, buffers are held or a send is in
	 * progress (try again later).
	 */
	Result<void> suspend();
	/**
	 * resume() - serve again: what arrived while asleep first
	 *
	 * Context: process.
	 */
	void resume();
	/**
	 * asleep() - is the remote asleep?
	 *
	 * Context: any.
	 * Return: true after a suspend() that succeeded, until resume().
	 */
	bool asleep() const;
	/**
	 * device() - the link's device, parent of the services
	 *
	 * Context: any.
	 * Return: the device.
	 */
	keel::Device &device();
	/**
	 * link() - the link, for tests and the bench
	 *
	 * Context: any.
	 * Return: the link.
	 */
	RpmsgLink &link();

	/* The role's state, defined in rpmsg_remote.cpp only. */
	struct Impl;

private:
	explicit RpmsgRemote(Impl *impl) : m_impl(impl) {}
	Impl *m_impl;
};

} // namespace rpmsg

#endif
