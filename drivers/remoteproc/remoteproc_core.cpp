// SPDX-License-Identifier: GPL-2.0
/*
 * The remote processor core (Linux drivers/remoteproc/remoteproc_core.c):
 * boot, shutdown, detach and attach, crash reports and recovery, over the
 * shared-memory virtio transport. The rules are in
 * include/remoteproc/remoteproc.h, the sequence in
 * Documentation/remoteproc.rst. Runtime PM is remoteproc_pm.cpp, trace
 * buffers remoteproc_trace.cpp; remoteproc_internal.h holds what they share.
 */
#include <keel/log.h>
#include <keel/pm_runtime.h>
#include <keel/string.h>
#include <virtio/virtio_shm.h>

#include "remoteproc_internal.h"

namespace rproc {

using keel::Guard;

namespace {

constinit keel::Atomic<u32> s_bus_users;
constinit keel::Atomic<u32> s_next_index;

} // namespace

/* --- names --- */

const char *state_name(RprocState state)
{
	static constexpr const char *names[RPROC_NR_STATES] = {
		"offline",    "booting",  "running",  "suspended", "crashed",
		"recovering", "attached", "detached", "deleted",
	};
	u32 i = u32(state);
	return i < RPROC_NR_STATES ? names[i] : "invalid";
}

const char *crash_reason_name(CrashReason reason)
{
	static constexpr const char *names[RPROC_NR_CRASH_REASONS] = {
		"watchdog",
		"fatal error",
		"peer gone",
		"crash message",
	};
	u32 i = u32(reason);
	return i < RPROC_NR_CRASH_REASONS ? names[i] : "invalid";
}

const char *event_name(RprocEventType type)
{
	static constexpr const char *names[] = {
		"state",	  "crash detected", "devices removed",
		"remote stopped", "region reset",   "remote started",
		"devices added",  "recovered",	    "recovery failed",
	};
	u32 i = u32(type);
	return i < sizeof(names) / sizeof(names[0]) ? names[i] : "invalid";
}

/* --- the internal doorbell: what the transport rings and is rung through --- */

Result<void> Rproc::Core::Bell::ring_op(keel::Doorbell &db, u32 notifyid)
{
	Core *c = container_of(static_cast<Bell *>(&db), &Core::bell);
	const RprocConfig &cfg = c->rp->m_cfg;
	if (cfg.ops->kick)
		return cfg.ops->kick(*c->rp, notifyid);
	return cfg.doorbell->ring(notifyid);
}

bool Rproc::Core::Bell::peer_alive_op(const keel::Doorbell &db)
{
	/* SAFETY: the only Bell is Core::bell; peer_alive() does not modify it. */
	Core *c = container_of(const_cast<Bell *>(static_cast<const Bell *>(&db)), &Core::bell);
	const RprocConfig &cfg = c->rp->m_cfg;
	return cfg.doorbell ? cfg.doorbell->peer_alive() : true;
}

constinit const keel::DoorbellOps Rproc::Core::Bell::s_ops = {
	.ring = &Rproc::Core::Bell::ring_op,
	.peer_alive = &Rproc::Core::Bell::peer_alive_op,
};

/* The platform's doorbell (RprocConfig.doorbell): its interrupts and its peer-down. */
void Rproc::Core::platform_irq(void *ctx, u32 notifyid)
{
	static_cast<Rproc *>(ctx)->vq_interrupt(notifyid);
}

void Rproc::Core::platform_down(void *ctx)
{
	static_cast<Rproc *>(ctx)->report_crash(CrashReason::PeerGone, "link: peer gone");
}

/* --- the bus: gives the Rproc device its runtime-PM callbacks --- */

namespace {
constexpr keel::DevPmOps rproc_pm_ops = {
	.runtime_suspend = &Rproc::Core::runtime_suspend,
	.runtime_resume = &Rproc::Core::runtime_resume,
	.runtime_idle = nullptr,
};
constexpr keel::BusType rproc_bus_type = {
	.name = "remoteproc",
	.match = nullptr,
	.probe = nullptr,
	.remove = nullptr,
	.pm = &rproc_pm_ops,
	.need_parent_lock = false,
};
} // namespace

constinit keel::Bus rproc_bus{ rproc_bus_type };

static Result<void> bus_get()
{
	if (s_bus_users.fetch_add(1) == 0) {
		Result<void> r = keel::bus_register(rproc_bus);
		if (r.is_error()) {
			s_bus_users.fetch_sub(1);
			pr_err("remoteproc: registering the bus failed: %d", r.error().to_errno());
			return r;
		}
	}
	return keel::ok();
}

static void bus_put()
{
	if (s_bus_users.sub_return(1) == 0)
		keel::bus_unregister(rproc_bus);
}

/* --- creation and removal --- */

Rproc::Rproc(const RprocConfig &cfg) : m_cfg(cfg), m_recovery(cfg.recovery) {}

Rproc::~Rproc() = default;

Result<keel::RefPtr<Rproc>> Rproc::create(const RprocConfig &cfg, keel::Gfp gfp)
{
	const RprocOps *ops = cfg.ops;
	if (!ops || !ops->stop || (!ops->start && !ops->attach) || (!ops->kick && !cfg.doorbell) ||
	    !cfg.region.valid()) {
		pr_err("%s: a remote processor needs ops (start or attach, stop), a kick or a "
		       "doorbell, and a region",
		       cfg.name);
		return keel::err(-EINVAL);
	}
	TRY(bus_get());
	Rproc *rp = new (gfp) Rproc(cfg);
	if (!rp) {
		bus_put();
		return keel::err(-ENOMEM);
	}
	/* From here on only put() frees it (release() drops the bus). */
	(void)keel::device_initialize(*rp, keel::device_release_fn<Rproc>());
	keel::RefPtr<Rproc> ref = keel::RefPtr<Rproc>::adopt(rp);
	rp->set_parent(cfg.parent);
	rp->set_bus(rproc_bus);
	TRY(rp->set_name("remoteproc%u", s_next_index.fetch_add(1)));
	rp->m_core = new (gfp) Core(rp);
	if (!rp->m_core)
		return keel::err(-ENOMEM);
	{
		Guard g{ rp->m_core->state_lock };
		rp->m_core->state = cfg.detached ? RprocState::Detached : RprocState::Offline;
	}

	virtio::ShmHostConfig hc;
	hc.name = cfg.name;
	hc.region = cfg.region;
	hc.doorbell = &rp->m_core->bell;
	/* Crashes come to us (report_crash()), never from the internal doorbell. */
	hc.parent = rp;
	rp->m_shm = TRY(virtio::ShmHost::create(hc, gfp)).leak();

	if (cfg.doorbell) {
		cfg.doorbell->set_handler(&Core::platform_irq, rp);
		cfg.doorbell->set_peer_down(&Core::platform_down, rp);
		cfg.doorbell->enable();
		rp->m_core->bell_wired = true;
	}
	if (cfg.autosuspend_delay_ms >= 0) {
		keel::pm_runtime_set_autosuspend_delay(*rp, cfg.autosuspend_delay_ms);
		keel::pm_runtime_use_autosuspend(*rp);
	}
	return ref;
}

/* The platform's doorbell stops calling us; the transport goes (no device left). */
void Rproc::Core::release_transport()
{
	const RprocConfig &cfg = rp->m_cfg;
	if (cfg.doorbell && bell_wired) {
		cfg.doorbell->disable();
		cfg.doorbell->set_handler(nullptr, nullptr);
		cfg.doorbell->set_peer_down(nullptr, nullptr);
		bell_wired = false;
	}
	break_irq.sync();
	delete keel::exchange(rp->m_shm, nullptr);
}

void Rproc::release()
{
	if (m_core) {
		m_core->release_transport();
		m_core->free_traces();
		delete m_core;
	}
	delete this;
	bus_put();
}

Result<void> Rproc::add()
{
	might_sleep();
	{
		Guard g{ m_core->state_lock };
		if (m_core->added)
			return keel::err(-EBUSY);
		m_core->added = true;
	}
	Result<void> r = keel::device_add(*this);
	if (r.is_error()) {
		Guard g{ m_core->state_lock };
		m_core->added = false;
		return r;
	}
	dev_info(this, "%s: remote processor added (%s)", m_cfg.name,
		 state_name(m_core->state_snapshot()));
	return keel::ok();
}

void Rproc::del()
{
	might_sleep();
	Core *c = m_core;
	{
		/* No crash report queues work from now on. */
		Guard g{ c->state_lock };
		if (c->deleting)
			return;
		c->deleting = true;
	}
	c->crash_work.cancel_sync();
	c->pm_retry.cancel_sync();
	{
		Guard m{ c->lock };
		RprocState s = c->state_snapshot();
		if (s == RprocState::Attached)
			(void)c->detach_locked();
		else if (s != RprocState::Offline && s != RprocState::Detached)
			c->shutdown_locked();
		c->set_state(RprocState::Deleted);
	}
	c->release_transport();
	bool added;
	{
		Guard g{ c->state_lock };
		added = c->added;
	}
	if (added)
		keel::device_del(*this);
}

/* --- state --- */

RprocState Rproc::Core::state_snapshot()
{
	Guard g{ state_lock };
	return state;
}

RprocState Rproc::state() const
{
	return m_core->state_snapshot();
}

void Rproc::Core::set_state(RprocState s)
{
	{
		Guard g{ state_lock };
		state = s;
	}
	state_wq.wake_up();
	notify(RprocEventType::StateChanged, s);
}

bool Rproc::wait_for_state(RprocState want, s64 timeout_ns)
{
	return m_core->state_wq.wait_event_timeout([&] { return m_core->state_snapshot() == want; },
						   timeout_ns) > 0;
}

RprocStats Rproc::stats() const
{
	Guard g{ m_core->state_lock };
	return m_core->stats;
}

size_t Rproc::last_crash_message(keel::Span<char> buf) const
{
	if (buf.size() == 0)
		return 0;
	Guard g{ m_core->state_lock };
	(void)keel::strscpy(buf.data(), m_core->crash_msg, buf.size());
	return strlen(buf.data());
}

void Rproc::set_recovery(bool enabled)
{
	m_recovery.store(enabled);
	/* Enabled while a crash waits for it: recover now. */
	if (enabled && state() == RprocState::Crashed)
		(void)m_core->crash_work.schedule();
}

u32 Rproc::num_vdevs() const
{
	return m_shm ? m_shm->num_vdevs() : 0;
}

virtio::VirtioDevice *Rproc::vdev(u32 i) const
{
	return m_shm ? m_shm->vdev(i) : nullptr;
}

/* --- observers --- */

Result<void> Rproc::register_observer(keel::NotifierBlock &nb)
{
	return m_core->observers.register_notifier(nb);
}

Result<void> Rproc::unregister_observer(keel::NotifierBlock &nb)
{
	return m_core->observers.unregister_notifier(nb);
}

void Rproc::Core::notify(RprocEventType type, RprocState s, int error, s64 duration_ns)
{
	RprocEvent ev = {};
	ev.type = type;
	ev.state = s;
	ev.error = error;
	ev.time_ns = keel::ktime_get_ns();
	ev.duration_ns = duration_ns;
	ev.message = "";
	{
		Guard g{ state_lock };
		ev.reason = crash_reason;
		ev.recovery = recovering ? stats.recoveries + 1 : 0;
	}
	(void)observers.call_chain(u32(type), &ev);
}

/* --- crash reports --- */

void Rproc::report_crash(CrashReason reason, const char *msg)
{
	Core *c = m_core;
	s64 now = keel::ktime_get_ns();
	bool queue = false;
	{
		Guard g{ c->state_lock };
		if (c->stopping) {
			/* Being shut down: the platform's detectors see it go. */
			c->stats.crash_reports_ignored++;
			return;
		}
		switch (c->state) {
		case RprocState::Running:
		case RprocState::Attached:
		case RprocState::Suspended:
			c->state = RprocState::Crashed;
			queue = !c->deleting;
			break;
		case RprocState::Booting:
			/*
			 * The restart (or boot) under way sees it and starts over.
			 * Reports about the previous remote cannot come any more:
			 * the platform's stop() quiesced its detectors.
			 */
			if (c->crash_pending) {
				c->stats.crash_reports_ignored++;
				return;
			}
			c->crash_pending = true;
			break;
		default:
			/* Being handled already, or not running: a second detector's report. */
			c->stats.crash_reports_ignored++;
			return;
		}
		c->stats.crashes++;
		if (u32(reason) < RPROC_NR_CRASH_REASONS)
			c->stats.crashes_by_reason[u32(reason)]++;
		c->stats.last_crash_ns = now;
		c->crash_reason = reason;
		c->crash_ns = now;
		c->crash_notified = false;
		(void)keel::strscpy(c->crash_msg, msg ? msg : "", sizeof(c->crash_msg));
	}
	/*
	 * Fail the remote's senders now. From a context that may hold the
	 * transport's interrupt lock (a callback of this remote reporting it),
	 * breaking the queues here would take that lock again: hand it to an
	 * interrupt work, which runs at once on another context.
	 */
	if (keel_port_in_atomic())
		(void)c->break_irq.queue();
	else
		c->break_transport();
	c->state_wq.wake_up();
	dev_err_ratelimited(this, "%s: crashed: %s%s%s", m_cfg.name, crash_reason_name(reason),
			    msg && msg[0] ? ": " : "", msg ? msg : "");
	if (queue)
		(void)c->crash_work.schedule();
}

void Rproc::Core::break_transport()
{
	if (virtio::ShmHost *shm = rp->m_shm)
		shm->mark_crashed();
}

void Rproc::Core::break_irq_fn(keel::IrqWork &w)
{
	container_of(&w, &Core::break_irq)->break_transport();
}

void Rproc::vq_interrupt(u32 notifyid)
{
	Core *c = m_core;
	/*
	 * A ring that says "look at everything" may be a remote that booted
	 * again behind our back (it rings after each publish): its old rings
	 * are stale, which is a crash.
	 */
	if (notifyid == keel::DOORBELL_ANY && c->watching_restart()) {
		if (m_shm->remote_restarted())
			report_crash(CrashReason::PeerGone, "the remote restarted");
	}
	c->bell.deliver(notifyid);
}

bool Rproc::Core::watching_restart()
{
	Guard g{ state_lock };
	return state == RprocState::Running || state == RprocState::Attached ||
	       state == RprocState::Suspended;
}

/* --- boot, shutdown, detach --- */

/*
 * Start (or adopt) the remote and attach the transport. On error the
 * devices are gone again; stopping the remote is the caller's. Returns
 * -EPIPE when the remote crashed meanwhile.
 */
Result<void> Rproc::Core::start_locked(bool adopt)
{
	const RprocOps *ops = rp->m_cfg.ops;
	virtio::ShmHost *shm = rp->m_shm;
	{
		Guard g{ state_lock };
		crash_pending = false;
	}
	set_state(RprocState::Booting);
	Result<void> r = keel::ok();
	if (adopt) {
		if (ops->attach)
			r = ops->attach(*rp);
	} else {
		if (ops->load)
			r = ops->load(*rp);
		if (r.is_ok())
			r = ops->start(*rp);
	}
	if (r.is_error()) {
		dev_err(rp, "%s: %s failed: %d", rp->m_cfg.name, adopt ? "attach" : "start",
			r.error().to_errno());
		return r;
	}
	notify(RprocEventType::RemoteStarted, RprocState::Booting);
	r = shm->attach(rp->m_cfg.boot_timeout_ns);
	if (r.is_ok()) {
		setup_traces();
		notify(RprocEventType::DevicesAdded, RprocState::Booting);
	}
	bool crashed;
	{
		Guard g{ state_lock };
		crashed = crash_pending;
	}
	if (r.is_ok() && !crashed)
		return keel::ok();
	if (r.is_error())
		dev_err(rp, "%s: no usable resource table: %d", rp->m_cfg.name,
			r.error().to_errno());
	remove_devices();
	return crashed ? keel::err(-EPIPE) : r;
}

/* The transport's part of a teardown: every virtio device goes (drivers' remove runs). */
void Rproc::Core::remove_devices()
{
	virtio::ShmHost *shm = rp->m_shm;
	if (!shm->attached())
		return;
	/* Senders that slipped in between the crash and now fail at once too. */
	if (shm->crashed())
		break_transport();
	shm->detach();
	rp->m_nr_traces.store(0);
	notify(RprocEventType::DevicesRemoved, state_snapshot());
}

/* Stop the remote and wipe the region: nothing of this session survives. */
void Rproc::Core::stop_remote()
{
	virtio::ShmHost *shm = rp->m_shm;
	Result<void> r = rp->m_cfg.ops->stop(*rp);
	if (r.is_error())
		dev_warn(rp, "%s: stop failed: %d", rp->m_cfg.name, r.error().to_errno());
	notify(RprocEventType::RemoteStopped, state_snapshot());
	/* The interrupt work may still be breaking the old session's queues: let it finish. */
	break_irq.sync();
	if (shm->reset_region().is_error())
		dev_warn(rp, "%s: region reset refused", rp->m_cfg.name);
	shm->clear_crashed();
	notify(RprocEventType::RegionReset, state_snapshot());
}

Result<void> Rproc::Core::boot_locked()
{
	RprocState s = state_snapshot();
	if (s == RprocState::Running || s == RprocState::Attached || s == RprocState::Suspended)
		return keel::ok();
	if (s == RprocState::Deleted)
		return keel::err(-ENODEV);
	if (s == RprocState::Crashed || s == RprocState::Recovering)
		return recover_locked(false);
	bool adopt = s == RprocState::Detached;
	Result<void> r = start_locked(adopt);
	if (r.is_ok()) {
		running(adopt);
		return r;
	}
	int e = r.error().to_errno();
	if (e == -EPIPE && rp->recovery_enabled()) {
		set_state(RprocState::Crashed);
		return recover_locked(false);
	}
	/* An adopted remote that merely failed to attach keeps running without us. */
	if (!adopt || e == -EPIPE)
		stop_remote();
	set_state(adopt && e != -EPIPE ? RprocState::Detached : RprocState::Offline);
	return r;
}

/*
 * The remote runs (again): counted, runtime PM armed. A crash reported
 * since start_locked() looked (a driver's probe or the name service found
 * it dead) is handled as any crash of a running remote.
 */
void Rproc::Core::running(bool adopted)
{
	RprocState s = adopted ? RprocState::Attached : RprocState::Running;
	bool crashed;
	{
		Guard g{ state_lock };
		stats.boots++;
		started_by_us = !adopted;
		failed_attempts = 0;
		crashed = crash_pending;
		crash_pending = false;
		state = crashed ? RprocState::Crashed : s;
		if (crashed && !deleting)
			(void)crash_work.schedule();
	}
	state_wq.wake_up();
	notify(RprocEventType::StateChanged, crashed ? RprocState::Crashed : s);
	if (!crashed)
		pm_start();
}

Result<void> Rproc::boot()
{
	might_sleep();
	Guard m{ m_core->lock };
	return m_core->boot_locked();
}

void Rproc::Core::shutdown_locked()
{
	{
		Guard g{ state_lock };
		stopping = true;
	}
	pm_stop();
	remove_devices();
	RprocState s = state_snapshot();
	if (s != RprocState::Offline && s != RprocState::Detached)
		stop_remote();
	{
		Guard g{ state_lock };
		stopping = false;
	}
	set_state(RprocState::Offline);
}

void Rproc::shutdown()
{
	might_sleep();
	Guard m{ m_core->lock };
	RprocState s = m_core->state_snapshot();
	if (s == RprocState::Offline || s == RprocState::Deleted)
		return;
	m_core->shutdown_locked();
}

Result<void> Rproc::Core::detach_locked()
{
	RprocState s = state_snapshot();
	if (s != RprocState::Running && s != RprocState::Attached && s != RprocState::Suspended)
		return keel::err(-EINVAL);
	/* Awake before we go: the remote ends its session and waits for the next host. */
	pm_stop();
	/* The transport resets each device's status: the remote sees the host leave. */
	remove_devices();
	const RprocOps *ops = rp->m_cfg.ops;
	Result<void> r = ops->detach ? ops->detach(*rp) : keel::ok();
	set_state(RprocState::Detached);
	return r;
}

Result<void> Rproc::detach()
{
	might_sleep();
	Guard m{ m_core->lock };
	return m_core->detach_locked();
}

/* --- recovery --- */

/*
 * The recovery sequence (Documentation/remoteproc.rst): the devices go
 * (drivers' remove), the remote is stopped, the region wiped, the remote
 * started again and the transport attached; a crash during the restart
 * starts it over. Called with the lifecycle lock held, state Crashed (or a
 * running remote when @manual).
 */
Result<void> Rproc::Core::recover_locked(bool manual)
{
	{
		Guard g{ state_lock };
		recovering = true;
		if (manual)
			stats.manual_recoveries++;
	}
	keel::ScopeGuard done([this] {
		Guard g{ state_lock };
		recovering = false;
	});
	for (;;) {
		report_crash_event();
		set_state(RprocState::Recovering);
		pm_stop();
		snapshot_traces();
		remove_devices();
		stop_remote();
		Result<void> r = start_locked(false);
		if (r.is_ok()) {
			s64 took;
			{
				Guard g{ state_lock };
				took = keel::ktime_get_ns() - crash_ns;
				stats.recoveries++;
				stats.last_recovery_ns = took;
				if (took > stats.max_recovery_ns)
					stats.max_recovery_ns = took;
			}
			notify(RprocEventType::RecoveryDone, RprocState::Booting, 0, took);
			running(false);
			return keel::ok();
		}
		int e = r.error().to_errno();
		if (e == -EPIPE) {
			/* It crashed again while restarting: counted as a crash, go again. */
			set_state(RprocState::Crashed);
			continue;
		}
		u32 attempts;
		{
			Guard g{ state_lock };
			stats.recovery_failures++;
			attempts = ++failed_attempts;
		}
		notify(RprocEventType::RecoveryFailed, RprocState::Booting, e);
		if (attempts >= rp->m_cfg.max_recovery_attempts) {
			dev_err(rp, "%s: recovery failed %u times (%d): giving up", rp->m_cfg.name,
				attempts, e);
			stop_remote();
			set_state(RprocState::Offline);
			return r;
		}
		/* Back off a little before the next attempt (a remote failing at boot). */
		keel::msleep(10u << (attempts < 6 ? attempts : 6));
	}
}

/* Observers hear of the crash (once) from process context, with its detection time. */
void Rproc::Core::report_crash_event()
{
	RprocEvent ev = {};
	char msg[sizeof(crash_msg)];
	{
		Guard g{ state_lock };
		if (crash_notified)
			return;
		crash_notified = true;
		ev.reason = crash_reason;
		ev.time_ns = crash_ns;
		ev.recovery = stats.recoveries + 1;
		memcpy(msg, crash_msg, sizeof(msg));
	}
	ev.type = RprocEventType::CrashReported;
	ev.state = RprocState::Crashed;
	ev.message = msg;
	(void)observers.call_chain(u32(ev.type), &ev);
}

void Rproc::Core::crash_work_fn(keel::Work &w)
{
	Core *c = container_of(&w, &Core::crash_work);
	Guard m{ c->lock };
	if (c->state_snapshot() != RprocState::Crashed)
		return;
	if (!c->rp->recovery_enabled()) {
		c->report_crash_event();
		dev_warn(c->rp, "%s: crashed, recovery disabled: waiting for a trigger",
			 c->rp->m_cfg.name);
		return;
	}
	(void)c->recover_locked(false);
}

Result<void> Rproc::trigger_recovery()
{
	might_sleep();
	Core *c = m_core;
	Guard m{ c->lock };
	{
		Guard g{ c->state_lock };
		switch (c->state) {
		case RprocState::Crashed:
			break;
		case RprocState::Running:
		case RprocState::Attached:
		case RprocState::Suspended:
			/* The whole sequence, as for a crash; not counted as one. */
			c->state = RprocState::Crashed;
			c->crash_ns = keel::ktime_get_ns();
			c->crash_notified = true;
			(void)keel::strscpy(c->crash_msg, "recovery triggered",
					    sizeof(c->crash_msg));
			break;
		default:
			return keel::err(-EINVAL);
		}
	}
	c->break_transport();
	return c->recover_locked(true);
}

} // namespace rproc
