/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The remote processor core (Linux include/linux/remoteproc.h,
 * drivers/remoteproc/remoteproc_core.c): the lifecycle of one remote
 * processor, its crash reports and its recovery, over the shared-memory
 * virtio transport (<virtio/virtio_shm.h>).
 *
 * A platform driver knows how to start and stop the remote, where the
 * shared region is and how to ring the remote; it fills an RprocOps table
 * and an RprocConfig, creates an Rproc and adds it:
 *
 *	static constexpr RprocOps my_ops = {
 *		.start = &my_start,
 *		.stop = &my_stop,
 *	};
 *	RprocConfig cfg;
 *	cfg.name = "dsp";
 *	cfg.ops = &my_ops;
 *	cfg.priv = my_data;
 *	cfg.region = ShmRegion(mem, size, da);
 *	cfg.doorbell = &my_mailbox;      // or ops.kick + vq_interrupt()
 *	RefPtr<Rproc> rproc = TRY(Rproc::create(cfg, GFP_KERNEL));
 *	TRY(rproc->add());
 *	TRY(rproc->boot());
 *
 * Boot: load, start, then the remote publishes its resource table in the
 * region; the core attaches the transport, which registers one virtio
 * device per vdev entry (children of the Rproc device); the virtio rpmsg
 * driver binds to each rpmsg vdev, the remote announces its services and
 * client drivers probe.
 *
 * Crash: the platform (or the doorbell backend) reports it with a reason,
 * from any context. At once, before anything can sleep, every virtqueue of
 * the remote is broken and every rpmsg link on it told: blocked senders
 * return -EPIPE, later sends fail with -EPIPE, poll() reports
 * POLLHUP | POLLERR. Then, unless recovery is disabled, the recovery work
 * removes the virtio devices (client drivers' remove runs), stops the
 * remote, resets the region, starts it again and attaches: services are
 * announced again and drivers re-probe. Documentation/remoteproc.rst has
 * the sequence, the states, and what a client driver does on remove.
 *
 * States (RprocState):
 *
 *	Offline --boot()--> Booting --attached--> Running <--> Suspended
 *	   ^                                        |  (runtime PM)
 *	   |  shutdown()                  crash     v
 *	   +------------------------------------ Crashed --work--> Recovering
 *	                                            ^                  |
 *	      Detached --boot()--> Attached         +--- crash --- Booting
 *
 * Attached is Running for a remote the host adopted instead of starting
 * (the platform said it runs: RprocConfig.detached); detach() leaves the
 * remote running without the host (Detached), boot() adopts it again.
 *
 * Locking: m_lock (a mutex) serialises the lifecycle (boot, shutdown,
 * detach, the recovery work); m_state_lock (a spinlock, taken from crash
 * reports in any context) guards the state, the crash record and the
 * counters. Lock order: m_lock -> the virtio bus and driver core locks ->
 * m_state_lock. Runtime PM callbacks never take m_lock.
 */
#ifndef REMOTEPROC_REMOTEPROC_H
#define REMOTEPROC_REMOTEPROC_H

#include <keel/alloc.h>
#include <keel/atomic.h>
#include <keel/device.h>
#include <keel/doorbell.h>
#include <keel/error.h>
#include <keel/notifier.h>
#include <keel/refcount.h>
#include <keel/shm.h>
#include <keel/span.h>
#include <keel/spinlock.h>
#include <keel/time.h>
#include <keel/wait.h>
#include <keel/workqueue.h>

namespace virtio {
class ShmHost;
class VirtioDevice;
} // namespace virtio

namespace rproc {

using keel::Result;
using keel::size_t;

class Rproc;

/**
 * enum RprocState - where a remote processor is in its lifecycle
 * @Offline: not running (initial state, after shutdown(), after recovery
 *	gave up)
 * @Booting: being loaded, started (or adopted) and attached; also the
 *	restart half of a recovery
 * @Running: started by the host, transport attached
 * @Suspended: runtime-suspended: asleep, its virtio devices stay; the next
 *	send resumes it
 * @Crashed: a crash was reported; the recovery work is queued, or
 *	recovery is disabled and the remote waits for trigger_recovery()
 * @Recovering: the teardown half of a recovery (devices removed, remote
 *	stopped, region reset)
 * @Attached: running, adopted rather than started by the host
 * @Detached: running without the host (after detach(), or found running)
 * @Deleted: being removed (del())
 */
enum class RprocState : u8 {
	Offline,
	Booting,
	Running,
	Suspended,
	Crashed,
	Recovering,
	Attached,
	Detached,
	Deleted,
};
inline constexpr u32 RPROC_NR_STATES = 9;

/**
 * enum CrashReason - why a remote is declared crashed (Linux enum rproc_crash_type)
 * @Watchdog: the remote stopped proving it is alive (missed heartbeat, a
 *	watchdog interrupt)
 * @FatalError: the platform saw a fatal error of the remote (an error
 *	interrupt, or the remote reported its own fatal error)
 * @PeerGone: the remote went away (process exit or kill, link hang-up,
 *	the doorbell backend's peer-down, a remote that restarted by itself)
 * @Message: the remote sent an explicit crash message (text in the report)
 */
enum class CrashReason : u8 {
	Watchdog,
	FatalError,
	PeerGone,
	Message,
};
inline constexpr u32 RPROC_NR_CRASH_REASONS = 4;

/**
 * state_name() - a state's name for logs and live views ("running")
 * @state: the state
 *
 * Context: any.
 * Return: a static string ("?" for a value out of range).
 */
const char *state_name(RprocState state);
/**
 * crash_reason_name() - a crash reason's name for logs ("watchdog")
 * @reason: the reason
 *
 * Context: any.
 * Return: a static string ("?" for a value out of range).
 */
const char *crash_reason_name(CrashReason reason);

/**
 * struct RprocOps - what a platform driver does for the core (Linux struct rproc_ops)
 * @load: optional; make the firmware (RprocConfig.firmware) ready to start.
 * @start: power the remote up and let it run; it then publishes its
 *	resource table in the region (the core waits for it, boot_timeout_ns).
 *	Required unless the remote is only ever attached.
 * @stop: halt the remote; when it returns the remote no longer touches the
 *	region (the core resets it next) and no detector of the platform will
 *	report anything about it any more (a report during the next boot is
 *	about the new remote). Called after a crash and after a failed
 *	@start too, where the remote may be dead already: it then only reaps.
 * @attach: optional; adopt a remote that runs already (Detached). The
 *	remote's table is in the region already.
 * @detach: optional; let the remote run on without the host.
 * @kick: ring the remote with a notify id (a vring's notifyid, or
 *	DOORBELL_ANY). Required unless RprocConfig.doorbell is set.
 *	Context: any (must not sleep).
 * @suspend: optional; put the remote to sleep (runtime PM). Return
 *	-EBUSY when the remote still has work (messages it has not taken):
 *	the core retries after the autosuspend delay.
 * @resume: optional; wake the remote up; it serves again when this
 *	returns (messages queued while it slept are then taken, in order).
 *
 * Every op but @kick runs in process context and may sleep; the core
 * calls them serialised (never two at once for one Rproc, except @kick).
 * An op that finds the remote dead reports a crash and returns an error.
 */
struct RprocOps {
	Result<void> (*load)(Rproc &rproc);
	Result<void> (*start)(Rproc &rproc);
	Result<void> (*stop)(Rproc &rproc);
	Result<void> (*attach)(Rproc &rproc);
	Result<void> (*detach)(Rproc &rproc);
	Result<void> (*kick)(Rproc &rproc, u32 notifyid);
	Result<void> (*suspend)(Rproc &rproc);
	Result<void> (*resume)(Rproc &rproc);
};

/**
 * struct RprocConfig - a remote processor as the platform describes it
 * @name: for logs and events (the device is named "remoteproc<N>")
 * @ops: the platform's operations (see RprocOps)
 * @priv: the platform's data (Rproc::priv<T>())
 * @firmware: the firmware image's name, for @ops.load / @ops.start
 * @region: the memory shared with the remote (header, resource table,
 *	vrings, buffers: Documentation/shm-transport.rst)
 * @doorbell: the line to the remote, when the platform has a keel
 *	Doorbell backend: kicks go out through it, its interrupts reach the
 *	vrings, and its peer-down is a crash (CrashReason::PeerGone). Without
 *	it, the platform provides @ops.kick and calls Rproc::vq_interrupt().
 * @parent: parent of the Rproc device (the platform device); may be null
 * @detached: the remote runs already (started by a boot loader or a
 *	previous host): the Rproc starts Detached and boot() attaches
 * @recovery: recover automatically after a crash (Linux's
 *	recovery_disabled inverted); set_recovery() changes it
 * @autosuspend_delay_ms: runtime PM: idle this long, the remote is put to
 *	sleep (@ops.suspend); negative: never (runtime PM stays off)
 * @boot_timeout_ns: how long a start may take to publish the resource table
 * @max_recovery_attempts: consecutive failed restarts before the core gives
 *	up (the remote goes Offline, RprocEventType::RecoveryFailed)
 */
struct RprocConfig {
	const char *name = "remoteproc";
	const RprocOps *ops = nullptr;
	void *priv = nullptr;
	const char *firmware = nullptr;
	keel::ShmRegion region;
	keel::Doorbell *doorbell = nullptr;
	keel::Device *parent = nullptr;
	bool detached = false;
	bool recovery = true;
	int autosuspend_delay_ms = -1;
	s64 boot_timeout_ns = 5 * keel::NSEC_PER_SEC;
	u32 max_recovery_attempts = 5;
};

/**
 * struct RprocStats - counters of one remote processor (a snapshot)
 * @boots: starts and attaches that reached Running/Attached, recoveries included
 * @crashes: crash reports accepted (one per crash: duplicates are ignored)
 * @crashes_by_reason: @crashes by CrashReason
 * @crash_reports_ignored: reports of a crash already being handled, or of
 *	a remote that was not running (duplicates from several detectors)
 * @recoveries: recoveries completed (the remote runs again)
 * @recovery_failures: restart attempts that failed (retried, or given up)
 * @manual_recoveries: trigger_recovery() calls that ran a recovery
 * @suspends: runtime suspends that put the remote to sleep
 * @resumes: runtime resumes that woke it
 * @suspend_vetoes: suspends the remote refused (it had work), retried later
 * @last_crash_ns: when the last crash was detected (ktime_get_ns())
 * @last_recovery_ns: the last recovery's duration, from crash detection to
 *	the devices being added again
 * @max_recovery_ns: the longest recovery so far
 */
struct RprocStats {
	u64 boots;
	u64 crashes;
	u64 crashes_by_reason[RPROC_NR_CRASH_REASONS];
	u64 crash_reports_ignored;
	u64 recoveries;
	u64 recovery_failures;
	u64 manual_recoveries;
	u64 suspends;
	u64 resumes;
	u64 suspend_vetoes;
	s64 last_crash_ns;
	s64 last_recovery_ns;
	s64 max_recovery_ns;
};

/**
 * enum RprocEventType - what an observer is told (the notifier's action)
 * @StateChanged: the state changed (RprocEvent.state is the new one)
 * @CrashReported: a crash was detected (reason, time of detection, the
 *	remote's message if any); the devices are broken already
 * @DevicesRemoved: recovery, shutdown or detach removed every virtio
 *	device (client drivers' remove has run)
 * @RemoteStopped: the remote was stopped (@ops.stop returned)
 * @RegionReset: the shared region was wiped
 * @RemoteStarted: the remote was started (or adopted) again
 * @DevicesAdded: the transport attached; virtio devices are registered and
 *	bound, services are announced from here on
 * @RecoveryDone: a recovery completed (RprocEvent.duration_ns is how long
 *	it took from the crash's detection)
 * @RecoveryFailed: a restart attempt failed (RprocEvent.error); retried
 *	unless max_recovery_attempts is reached (then the state is Offline)
 */
enum class RprocEventType : u8 {
	StateChanged,
	CrashReported,
	DevicesRemoved,
	RemoteStopped,
	RegionReset,
	RemoteStarted,
	DevicesAdded,
	RecoveryDone,
	RecoveryFailed,
};
/**
 * event_name() - an event's name for logs and timelines ("crash detected")
 * @type: the event
 *
 * Context: any.
 * Return: a static string ("?" for a value out of range).
 */
const char *event_name(RprocEventType type);

/**
 * struct RprocEvent - the data of one notification
 * @type: what happened (also the notifier's action)
 * @state: the state after it
 * @reason: CrashReported (and the recovery events that follow it): why
 * @error: RecoveryFailed: the error; else 0
 * @time_ns: when it happened (ktime_get_ns(); a crash: when it was detected)
 * @duration_ns: RecoveryDone: from the crash's detection to DevicesAdded
 * @recovery: the recovery this event belongs to (stats().recoveries + 1
 *	while one runs), 0 outside recovery
 * @message: CrashReported: the remote's message, or "" (valid during the call)
 */
struct RprocEvent {
	RprocEventType type;
	RprocState state;
	CrashReason reason;
	int error;
	s64 time_ns;
	s64 duration_ns;
	u64 recovery;
	const char *message;
};

/**
 * class Rproc - one remote processor (Linux struct rproc), a keel::Device named
 * "remoteproc<N>": the parent of its virtio devices and the runtime-PM
 * device of the remote (<keel/pm_runtime.h> works on it).
 *
 * Lifetime: create() returns the creator's reference; add() registers the
 * device, del() shuts the remote down (or detaches it) and unregisters it;
 * then the creator drops its reference. Never delete it.
 *
 * Invariants: m_state changes only under m_state_lock; a virtio device of
 * the remote exists only while the state is Booting (after the attach),
 * Running, Suspended, Attached or Crashed; the region is reset only while
 * the remote is stopped and no device exists.
 */
class Rproc : public keel::Device {
public:
	/**
	 * Rproc::create() - a remote processor, Offline (Detached with @cfg.detached)
	 * @cfg: the platform's description (copied; @cfg.ops and @cfg.doorbell
	 *	must outlive the Rproc)
	 * @gfp: allocation context
	 *
	 * Context: may sleep.
	 * Return: the Rproc (the caller's reference); -EINVAL without ops,
	 * without @ops.start/@ops.attach, without a kick, with a region the
	 * transport cannot use; -ENOMEM.
	 */
	static Result<keel::RefPtr<Rproc>> create(const RprocConfig &cfg, keel::Gfp gfp)
		KEEL_EXPORT_AS(keel_rproc_create);

	/**
	 * Rproc::add() - register the remote processor's device (Linux rproc_add())
	 *
	 * Does not boot it: call boot().
	 * Context: may sleep.
	 * Return: 0, -EBUSY when added already, or the driver core's error.
	 */
	Result<void> add();
	/**
	 * Rproc::del() - remove the remote processor (Linux rproc_del())
	 *
	 * A started remote is shut down, an adopted one detached; pending
	 * recovery is cancelled. The caller then drops its reference.
	 * Context: may sleep.
	 */
	void del();

	/**
	 * Rproc::boot() - start the remote, or adopt it when Detached (Linux rproc_boot())
	 *
	 * Load, start (or attach), wait for the resource table, attach the
	 * transport (virtio devices registered, drivers bound). A remote that
	 * crashes meanwhile is recovered (or the call fails, when recovery is
	 * disabled).
	 * Context: may sleep.
	 * Return: 0 (also when it runs already); -ETIMEDOUT when no table
	 * appeared; -EINVAL for a bad table; the platform's error; -EPIPE when
	 * the remote crashed during boot and recovery is off; -ENODEV after del().
	 */
	Result<void> boot();
	/**
	 * Rproc::shutdown() - stop the remote (Linux rproc_shutdown())
	 *
	 * Virtio devices removed (client drivers' remove runs), the remote
	 * stopped, the region reset: Offline. An adopted remote is stopped
	 * too (use detach() to leave it running).
	 * Context: may sleep.
	 */
	void shutdown();
	/**
	 * Rproc::detach() - leave the remote running without the host (Linux rproc_detach())
	 *
	 * Virtio devices removed (their status reset, so the remote ends its
	 * session and waits for a host), @ops.detach called: Detached. boot()
	 * adopts it again.
	 * Context: may sleep.
	 * Without @ops.detach, detaching is the transport's part only.
	 * Return: 0; -EINVAL when the remote is not running; @ops.detach's error.
	 */
	Result<void> detach();

	/**
	 * Rproc::report_crash() - the remote crashed (Linux rproc_report_crash())
	 * @reason: why
	 * @msg: the remote's own words, or null (copied, truncated to 63 bytes)
	 *
	 * At once, in the caller's context: the state becomes Crashed, every
	 * virtqueue is broken and every rpmsg link on the remote fails its
	 * blocked and later senders with -EPIPE. Then the recovery work is
	 * queued (unless recovery is disabled). A report while a crash is being
	 * handled, or while the remote does not run, is counted as ignored; a
	 * report while the restart half of a recovery runs makes that
	 * recovery start over.
	 * Context: any (never sleeps).
	 */
	void report_crash(CrashReason reason, const char *msg = nullptr);
	/**
	 * Rproc::vq_interrupt() - the remote rang @notifyid (Linux rproc_vq_interrupt())
	 * @notifyid: the vring's notify id, or keel::DOORBELL_ANY
	 *
	 * For platforms without RprocConfig.doorbell (their mailbox interrupt).
	 * Context: atomic (interrupt).
	 */
	void vq_interrupt(u32 notifyid);

	/**
	 * Rproc::trigger_recovery() - recover now, by hand (Linux rproc_trigger_recovery())
	 *
	 * A Crashed remote is recovered even with recovery disabled; a running
	 * one goes through the whole sequence (its senders fail with -EPIPE
	 * first, as on a crash). Waits for the recovery to finish.
	 * Context: may sleep.
	 * Return: 0 when the remote runs again; -EINVAL when it is Offline or
	 * Detached; the error of the failed restart.
	 */
	Result<void> trigger_recovery();
	/**
	 * Rproc::set_recovery() - enable or disable automatic recovery
	 * @enabled: recover by itself after a crash (Linux debugfs "recovery")
	 *
	 * Context: any.
	 */
	void set_recovery(bool enabled);
	/**
	 * Rproc::recovery_enabled() - does a crash recover by itself?
	 *
	 * Context: any.
	 * Return: true when automatic recovery is on (the default).
	 */
	bool recovery_enabled() const { return m_recovery.load(); }

	/**
	 * Rproc::state() - the current state
	 *
	 * Context: any.
	 * Return: the state.
	 */
	RprocState state() const;
	/**
	 * Rproc::stats() - a snapshot of the counters
	 *
	 * Context: any.
	 * Return: the counters, taken together under the state lock.
	 */
	RprocStats stats() const;
	/**
	 * Rproc::wait_for_state() - wait until the remote is in @want
	 * @want: the state
	 * @timeout_ns: how long
	 *
	 * Context: may sleep.
	 * Return: true when it is in @want.
	 */
	bool wait_for_state(RprocState want, s64 timeout_ns);
	/**
	 * Rproc::last_crash_message() - the message of the last crash report
	 * @buf: filled with a NUL-terminated copy
	 *
	 * Context: any.
	 * Return: the message's length (0: none).
	 */
	size_t last_crash_message(keel::Span<char> buf) const;

	/**
	 * Rproc::register_observer() - be told of every RprocEvent
	 * @nb: called with (RprocEventType, const RprocEvent *), in process
	 *	context, in order; it may read state() and stats() but must not
	 *	call boot(), shutdown(), detach(), trigger_recovery() or del().
	 *
	 * Context: may sleep.
	 * Return: 0, -EEXIST when @nb is on a chain.
	 */
	Result<void> register_observer(keel::NotifierBlock &nb)
		KEEL_EXPORT_AS(keel_rproc_register_observer);
	/**
	 * Rproc::unregister_observer() - stop telling @nb
	 * @nb: a block given to register_observer()
	 *
	 * Context: may sleep.
	 * Return: 0, -ENOENT when @nb is not on the chain.
	 */
	Result<void> unregister_observer(keel::NotifierBlock &nb)
		KEEL_EXPORT_AS(keel_rproc_unregister_observer);

	/* --- trace buffers (RSC_TRACE entries of the resource table) --- */

	/**
	 * Rproc::num_traces() - trace buffers of the current table
	 *
	 * Context: any.
	 * Return: the count (0 when none or not attached).
	 */
	u32 num_traces() const { return m_nr_traces.load(); }
	/**
	 * Rproc::read_trace() - copy trace buffer @i as text
	 * @i: the trace entry's index (table order)
	 * @buf: filled with the text up to its first NUL (the remote writes
	 *	a NUL-terminated log), NUL-terminated
	 * @crash_dump: read the copy taken when the last crash was reported
	 *	(Linux's "trace0 (crash dump)"), which survives the region reset
	 *
	 * Context: may sleep.
	 * Return: the bytes copied (without the NUL); -ENOENT for no such
	 * buffer (or no crash dump).
	 */
	Result<size_t> read_trace(u32 i, keel::Span<char> buf, bool crash_dump = false);

	/* --- for platform drivers and tests --- */

	/**
	 * Rproc::rproc_name() - the name the platform gave (RprocConfig.name)
	 *
	 * Context: any.
	 * Return: the name.
	 */
	const char *rproc_name() const { return m_cfg.name; }
	/**
	 * Rproc::firmware() - the firmware the platform loads (RprocConfig.firmware)
	 *
	 * Context: any.
	 * Return: the name or path, or nullptr.
	 */
	const char *firmware() const { return m_cfg.firmware; }
	/**
	 * Rproc::region() - the shared region (RprocConfig.region)
	 *
	 * Context: any.
	 * Return: the region.
	 */
	const keel::ShmRegion &region() const { return m_cfg.region; }
	/**
	 * Rproc::priv() - the platform's data (RprocConfig.priv)
	 *
	 * Context: any.
	 * Return: the pointer, as a T.
	 */
	template <typename T> T *priv() const { return static_cast<T *>(m_cfg.priv); }
	/**
	 * Rproc::transport() - the transport the core attaches
	 *
	 * Context: any.
	 * Return: the transport (nullptr before create() finished).
	 */
	virtio::ShmHost *transport() const { return m_shm; }
	/**
	 * Rproc::num_vdevs() - virtio devices of the current session
	 *
	 * Context: any.
	 * Return: the count (0 when not attached).
	 */
	u32 num_vdevs() const;
	/**
	 * Rproc::vdev() - virtio device @i of the current session
	 * @i: its index (table order)
	 *
	 * Context: any; valid while the session runs.
	 * Return: the device, or nullptr out of range or when not attached.
	 */
	virtio::VirtioDevice *vdev(u32 i) const;

	/* The core's state, defined in remoteproc_core.cpp only. */
	struct Core;

private:
	friend struct Core;
	friend void keel::device_release_container<Rproc>(keel::Device &dev);
	explicit Rproc(const RprocConfig &cfg);
	~Rproc();
	void release();

	RprocConfig m_cfg;
	keel::Atomic<bool> m_recovery{ true };
	keel::Atomic<u32> m_nr_traces{ 0 };
	/* The transport over m_cfg.region, owned (created with the Rproc). */
	virtio::ShmHost *m_shm = nullptr;
	/* Everything else: lifecycle lock, state, counters, work items. */
	Core *m_core = nullptr;
};

} // namespace rproc

#endif
