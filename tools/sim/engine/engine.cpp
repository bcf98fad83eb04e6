// SPDX-License-Identifier: GPL-2.0
/*
 * The simulator's engine (see engine.h).
 *
 * The script, from the engine's thread:
 *
 *	boot -> traffic -> fault 1 -> recovered -> traffic -> ... -> fault N
 *	     -> recovered -> traffic -> idle (the remote may sleep) -> traffic
 *	     -> drain -> shutdown -> checks
 *
 * Faults are spread so that the run lasts about the configured duration;
 * each is followed by a wait for the system to settle (the remote running,
 * every service announced again and its driver probed), bounded by
 * settle_timeout_ns. Between steps, and while it waits, the engine pumps
 * the event queue into the recovery records and the views, and ticks the
 * views with a snapshot every TICK_NS.
 */
#include <keel/log.h>
#include <keel/pm_runtime.h>
#include <keel/posix.h>
#include <keel/string.h>
#include <keel/time.h>
#include <rpmsg/rpmsg_link.h>
#include <virtio/virtio.h>

#include "engine.h"
#include "hosted_rproc.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

namespace sim {

using keel::Result;
using rproc::CrashReason;
using rproc::RprocEvent;
using rproc::RprocEventType;
using rproc::RprocState;
using rproc::hosted::HostedRproc;

namespace {

constexpr s64 TICK_NS = 100 * keel::NSEC_PER_MSEC;
constexpr s64 STEP_NS = 10 * keel::NSEC_PER_MSEC;
/* How long a planned stop waits for the echoes in flight. */
constexpr s64 DRAIN_NS = 3 * keel::NSEC_PER_SEC;
/* How long the host stays down in a host restart. */
constexpr s64 HOST_DOWN_NS = 300 * keel::NSEC_PER_MSEC;

constinit keel::Atomic<bool> s_stop{ false };

bool stopping()
{
	return s_stop.load(keel::MemoryOrder::Relaxed);
}

const FaultKind s_crash_kinds[] = { FaultKind::Kill, FaultKind::Panic, FaultKind::Hang };

} // namespace

void Engine::request_stop()
{
	s_stop.store(true, keel::MemoryOrder::Relaxed);
}

Engine::Engine(const SimConfig &cfg, View *const *views, u32 nviews)
    : m_cfg(cfg), m_nviews(nviews), m_env(m_cfg, m_events)
{
	for (u32 i = 0; i < nviews; i++)
		m_views[i] = views[i];
	memset(&m_snap, 0, sizeof(m_snap));
	memset(&m_report, 0, sizeof(m_report));
}

Engine::~Engine() = default;

Result<keel::UniquePtr<Engine>> Engine::create(const SimConfig &cfg, View *const *views, u32 nviews)
{
	if (!cfg.firmware || nviews > 4 || cfg.crashes + cfg.host_restarts > MAX_FAULTS)
		return keel::err(-EINVAL);
	return keel::make_unique<Engine>(GFP_KERNEL, cfg, views, nviews);
}

/* --- collecting --- */

int Engine::on_rproc(keel::NotifierBlock &nb, unsigned long, void *data)
{
	Engine *e = keel::container_of(&nb, &Engine::m_rproc_nb);
	const RprocEvent &rp = *static_cast<const RprocEvent *>(data);
	SimEvent ev;
	ev.t_ns = rp.time_ns;
	ev.type = EvType::Rproc;
	ev.rp = rp;
	ev.rp.message = nullptr;
	if (rp.message)
		(void)keel::strscpy(ev.text, rp.message, sizeof(ev.text));
	e->m_events.push(ev);
	return keel::NOTIFY_OK;
}

/* The rpmsg bus's channel devices: a service announced, or gone. */
int Engine::on_bus(keel::NotifierBlock &nb, unsigned long action, void *data)
{
	Engine *e = keel::container_of(&nb, &Engine::m_bus_nb);
	if (action != keel::BUS_NOTIFY_ADD_DEVICE && action != keel::BUS_NOTIFY_DEL_DEVICE)
		return keel::NOTIFY_DONE;
	/* SAFETY: every device on the rpmsg bus is an RpmsgDevice. */
	auto *rpdev = static_cast<rpmsg::RpmsgDevice *>(static_cast<keel::Device *>(data));
	u8 ch = NO_CHANNEL;
	for (u8 i = 0; i < NR_SERVICES; i++)
		if (keel::streq(rpdev->channel_name(), channel_name(i)))
			ch = i;
	e->m_env.emit(action == keel::BUS_NOTIFY_ADD_DEVICE ? EvType::ChannelAdded
							    : EvType::ChannelRemoved,
		      ch, 0, 0, rpdev->channel_name());
	return keel::NOTIFY_OK;
}

void Engine::pump()
{
	SimEvent ev;
	bool any = false;
	while (m_events.pop(&ev)) {
		if (!any) {
			snapshot(&m_snap);
			any = true;
		}
		m_tracker.track(ev);
		for (u32 i = 0; i < m_nviews; i++)
			m_views[i]->event(ev, m_snap);
	}
	s64 now = keel::ktime_get_ns();
	if (now - m_last_tick >= TICK_NS) {
		m_last_tick = now;
		snapshot(&m_snap);
		for (u32 i = 0; i < m_nviews; i++)
			m_views[i]->tick(m_snap);
	}
}

void Engine::snapshot(Snapshot *s)
{
	s->t0_ns = m_report.t0_ns;
	s->now_ns = keel::ktime_get_ns();
	s->traffic = m_env.traffic();
	memcpy(s->phase, m_phase, sizeof(s->phase));
	s->faults_total = m_nplan;
	u32 done = 0;
	for (u32 i = 0; i < m_report.nr_records; i++)
		done += m_report.records[i].t_inject != 0;
	s->faults_done = done;
	if (m_hosted) {
		rproc::Rproc &rp = m_hosted->rproc();
		s->state = rp.state();
		s->rstats = rp.stats();
		s->pid = int(m_hosted->pid());
		s->pm = keel::pm_runtime_status(rp);
		s->pm_usage = keel::pm_runtime_usage_count(rp);
		s->pm_enabled = keel::pm_runtime_enabled(rp);
	}
	for (u8 i = 0; i < NR_SERVICES; i++)
		m_env.stats(i).snap(&s->ch[i]);
}

void Engine::emit(EvType type, const char *text, FaultKind fault)
{
	SimEvent ev;
	ev.t_ns = keel::ktime_get_ns();
	ev.type = type;
	ev.fault = fault;
	(void)keel::strscpy(ev.text, text, sizeof(ev.text));
	m_events.push(ev);
}

/* What the script does now; told as an event unless @quiet (another event says it). */
void Engine::set_phase(bool quiet, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m_phase, sizeof(m_phase), fmt, ap);
	va_end(ap);
	if (!quiet)
		emit(EvType::Phase, m_phase);
	pump();
}

/* --- waiting --- */

/* Pump until @cond holds; false on timeout or a stop request. */
bool Engine::wait_until(s64 timeout_ns, bool (*cond)(Engine &e))
{
	s64 deadline = keel::ktime_get_ns() + timeout_ns;
	for (;;) {
		pump();
		if (cond(*this))
			return true;
		if (stopping() || keel::ktime_get_ns() >= deadline)
			return false;
		keel::msleep(u32(keel::ns_to_ms(STEP_NS)));
	}
}

bool Engine::run_for(s64 ns)
{
	return !wait_until(ns, [](Engine &) { return stopping(); });
}

bool Engine::drain(s64 timeout_ns)
{
	return wait_until(timeout_ns,
			  [](Engine &e) { return e.m_env.stats(0).inflight.load() <= 0; });
}

/* The fault is over: the remote runs and every service is back with its driver. */
bool Engine::settled(const RecoveryRecord &r)
{
	if (r.kind != FaultKind::HostRestart && !r.t_done)
		return false;
	RprocState st = m_hosted->rproc().state();
	if (st != RprocState::Running && st != RprocState::Attached && st != RprocState::Suspended)
		return false;
	for (u8 i = 0; i < NR_SERVICES; i++)
		if (!m_env.stats(i).bound.load())
			return false;
	return r.probed >= NR_SERVICES;
}

/* --- the script --- */

Result<void> Engine::setup()
{
	TRY(virtio::virtio_init());
	m_virtio_up = true;
	/* Our own reference to the rpmsg bus: it stays across a reload of the host's stack. */
	TRY(rpmsg::rpmsg_init());
	m_rpmsg_up = true;
	TRY(rpmsg::virtio_rpmsg_init());
	m_vrpmsg_up = true;
	TRY(keel::bus_register_notifier(rpmsg::rpmsg_bus, m_bus_nb));
	m_bus_nb_up = true;
	g_client_env.store(&m_env);
	TRY(register_clients());
	m_clients_up = true;

	rproc::hosted::HostedRprocConfig hc;
	hc.name = "sim-remote";
	hc.firmware = m_cfg.firmware;
	hc.heartbeat_ms = m_cfg.heartbeat_ms;
	hc.watchdog_ms = m_cfg.watchdog_ms;
	hc.rproc.name = "sim-remote";
	hc.rproc.autosuspend_delay_ms = m_cfg.autosuspend_ms;
	m_hosted = TRY(HostedRproc::create(hc));
	m_env.set_rproc(&m_hosted->rproc());
	TRY(m_hosted->rproc().register_observer(m_rproc_nb));
	m_observer_up = true;
	return keel::ok();
}

void Engine::inject(FaultKind kind)
{
	RecoveryRecord *rec = m_tracker.begin(kind, keel::ktime_get_ns());
	if (!rec)
		return;
	RecoveryRecord &r = *rec;
	u64 blocked = 0;
	for (u8 i = 0; i < NR_SERVICES; i++)
		blocked += m_env.stats(i).blocked.load();
	set_phase(true, "fault %u/%u: %s", r.index, m_nplan, fault_text(kind));
	emit(EvType::Inject, fault_text(kind), kind);
	Result<void> res = keel::ok();
	switch (kind) {
	case FaultKind::Kill:
		res = m_hosted->kill_remote(SIGKILL);
		break;
	case FaultKind::Panic:
		res = m_env.console_command("panic injected by keel-sim");
		if (res.is_error())
			res = m_hosted->inject(rproc::hosted::FW_INJECT_FATAL);
		break;
	case FaultKind::Hang:
		res = m_hosted->inject(rproc::hosted::FW_INJECT_HANG);
		break;
	case FaultKind::HostRestart:
		r.ok = host_restart(r);
		break;
	}
	if (res.is_error())
		check("inject", false, "fault %u (%s): %d", r.index, fault_name(kind),
		      res.error().to_errno());
	if (kind != FaultKind::HostRestart) {
		bool ok = wait_until(m_cfg.settle_timeout_ns, [](Engine &e) {
			return e.m_tracker.current() && e.settled(*e.m_tracker.current());
		});
		r.ok = ok && res.is_ok();
	}
	for (u8 i = 0; i < NR_SERVICES; i++) {
		blocked -= m_env.stats(i).blocked.load();
		if (m_env.stats(i).worst_unblock_ns.load() > r.worst_unblock_ns)
			r.worst_unblock_ns = m_env.stats(i).worst_unblock_ns.load();
	}
	r.blocked_senders = u32(-blocked);
	set_phase(false, r.ok ? "recovered from fault %u (%s)" : "fault %u (%s): NOT RECOVERED",
		  r.index, fault_name(kind));
	m_tracker.end();
}

/*
 * The host's rpmsg stack goes away and comes back while the remote keeps
 * running: detach (client drivers removed, the virtio status reset, so
 * that the remote ends its session), unload the drivers and the virtio
 * rpmsg driver, wait, load them again and adopt the running remote.
 */
bool Engine::host_restart(RecoveryRecord &r)
{
	rproc::Rproc &rp = m_hosted->rproc();
	r.pid_before = m_env.remote_pid();
	r.session_before = m_env.remote_session();
	m_env.set_traffic(false);
	(void)drain(DRAIN_NS);
	r.t_detected = keel::ktime_get_ns();
	Result<void> d = rp.detach();
	if (d.is_error()) {
		check("host restart", false, "detach: %d", d.error().to_errno());
		m_env.set_traffic(true);
		return false;
	}
	pump();
	unregister_clients();
	m_clients_up = false;
	rpmsg::virtio_rpmsg_exit();
	m_vrpmsg_up = false;
	r.t_host_down = keel::ktime_get_ns();
	emit(EvType::Phase, "host down: rpmsg stack unloaded, the remote runs on");
	(void)run_for(HOST_DOWN_NS);
	Result<void> up = rpmsg::virtio_rpmsg_init();
	if (up.is_ok()) {
		m_vrpmsg_up = true;
		up = register_clients();
		if (up.is_ok())
			m_clients_up = true;
	}
	r.t_host_up = keel::ktime_get_ns();
	emit(EvType::Phase, "host up: rpmsg stack loaded, adopting the remote");
	if (up.is_ok())
		up = rp.boot();
	m_env.set_traffic(true);
	if (up.is_error()) {
		check("host restart", false, "reload/adopt: %d", up.error().to_errno());
		return false;
	}
	bool ok = wait_until(m_cfg.settle_timeout_ns, [](Engine &e) {
		return e.m_tracker.current() && e.settled(*e.m_tracker.current());
	});
	r.t_done = r.t_probed;
	/* The remote's own word (its console's uptime): same process, a new session. */
	(void)wait_until(2 * keel::NSEC_PER_SEC, [](Engine &e) {
		RecoveryRecord *c = e.m_tracker.current();
		return !c || e.m_env.uptime_ns() > c->t_host_up;
	});
	r.pid_after = m_env.remote_pid();
	r.session_after = m_env.remote_session();
	return ok && r.pid_after == r.pid_before && r.pid_before != 0 &&
	       r.session_after > r.session_before;
}

/* Traffic pauses; with runtime PM the remote goes to sleep, and the next send wakes it. */
void Engine::idle_phase()
{
	rproc::Rproc &rp = m_hosted->rproc();
	u64 suspends = rp.stats().suspends;
	u64 resumes = rp.stats().resumes;
	set_phase(false, "idle: traffic paused%s",
		  m_cfg.autosuspend_ms >= 0 ? ", the remote may sleep" : "");
	m_env.set_traffic(false);
	(void)drain(DRAIN_NS);
	(void)run_for(keel::ms_to_ns(m_cfg.idle_ms));
	bool slept = rp.stats().suspends > suspends;
	set_phase(false, "traffic again%s", slept ? ": the first send wakes the remote" : "");
	m_env.set_traffic(true);
	if (m_cfg.autosuspend_ms < 0)
		return;
	m_pm_suspended = u32(rp.stats().suspends - suspends);
	bool woke = wait_until(2 * keel::NSEC_PER_SEC, [](Engine &e) {
		RprocState st = e.m_hosted->rproc().state();
		return st == RprocState::Running || st == RprocState::Attached;
	});
	check("runtime PM", slept && woke && rp.stats().resumes > resumes,
	      "idle %u ms: %llu suspends, %llu resumes", m_cfg.idle_ms,
	      (unsigned long long)(rp.stats().suspends - suspends),
	      (unsigned long long)(rp.stats().resumes - resumes));
}

void Engine::play()
{
	/* The plan: crashes in turn, the host restarts after half of them. */
	u32 restart_at = (m_cfg.crashes + 1) / 2;
	for (u32 i = 0, c = 0; i < m_cfg.crashes + m_cfg.host_restarts; i++) {
		bool restart = m_cfg.host_restarts && i >= restart_at &&
			       i < restart_at + m_cfg.host_restarts;
		m_plan[m_nplan++] = restart ? FaultKind::HostRestart : s_crash_kinds[c++ % 3];
	}
	u32 steps = m_nplan + 1 + (m_cfg.idle_ms ? 1 : 0);
	s64 gap = (m_cfg.duration_ns - keel::ms_to_ns(m_cfg.idle_ms)) / s64(steps);
	if (gap < 200 * keel::NSEC_PER_MSEC)
		gap = 200 * keel::NSEC_PER_MSEC;

	/* The firmware's name, not its path: the phase is one short line. */
	const char *fw = strrchr(m_cfg.firmware, '/');
	set_phase(false, "booting the remote (%s)", fw ? fw + 1 : m_cfg.firmware);
	Result<void> b = m_hosted->rproc().boot();
	if (b.is_error()) {
		check("boot", false, "the remote did not boot: %d", b.error().to_errno());
		return;
	}
	bool up = wait_until(m_cfg.settle_timeout_ns, [](Engine &e) {
		for (u8 i = 0; i < NR_SERVICES; i++)
			if (!e.m_env.stats(i).bound.load())
				return false;
		return true;
	});
	if (!up) {
		check("boot", false, "services not announced and bound in time");
		return;
	}
	set_phase(false, "traffic");
	m_env.set_traffic(true);
	if (!run_for(gap))
		return;
	for (u32 i = 0; i < m_nplan && !stopping(); i++) {
		RecoveryRecord &r = m_report.records[m_report.nr_records];
		u64 before[NR_SERVICES];
		inject(m_plan[i]);
		for (u8 c = 0; c < NR_SERVICES; c++)
			before[c] = m_env.stats(c).received.load();
		if (!run_for(gap))
			return;
		r.traffic_after = true;
		for (u8 c = 0; c < NR_SERVICES; c++)
			if (m_env.stats(c).received.load() == before[c])
				r.traffic_after = false;
	}
	if (m_cfg.idle_ms && !stopping()) {
		idle_phase();
		(void)run_for(gap);
	}
}

void Engine::teardown()
{
	m_env.set_traffic(false);
	set_phase(false, "stopping: draining the echoes in flight");
	(void)drain(DRAIN_NS);
	snapshot(&m_report.last);
	set_phase(false, "shutting the remote down");
	if (m_hosted) {
		m_hosted->rproc().shutdown();
		pump();
		m_report.fw_exit_status = m_hosted->stats().last_exit_status;
		if (m_observer_up)
			(void)m_hosted->rproc().unregister_observer(m_rproc_nb);
		m_env.set_rproc(nullptr);
		m_hosted.reset();
	}
	if (m_clients_up)
		unregister_clients();
	g_client_env.store(nullptr);
	if (m_bus_nb_up)
		(void)keel::bus_unregister_notifier(rpmsg::rpmsg_bus, m_bus_nb);
	if (m_vrpmsg_up)
		rpmsg::virtio_rpmsg_exit();
	if (m_rpmsg_up)
		rpmsg::rpmsg_exit();
	if (m_virtio_up)
		virtio::virtio_exit();
	/* The driver core's own state (a module's exit does the same). */
	keel::driver_core_exit();
	pump();
}

/* --- the report --- */

void Engine::check(const char *name, bool ok, const char *fmt, ...)
{
	if (!ok) {
		SimEvent ev;
		ev.t_ns = keel::ktime_get_ns();
		ev.type = EvType::Check;
		(void)keel::snprintf(ev.text, sizeof(ev.text), "%s failed", name);
		m_events.push(ev);
	}
	if (m_report.nr_checks == MAX_CHECKS)
		return;
	Check &c = m_report.checks[m_report.nr_checks++];
	c.name = name;
	c.ok = ok;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c.detail, sizeof(c.detail), fmt, ap);
	va_end(ap);
}

void Engine::finish()
{
	Report &R = m_report;
	const Snapshot &L = R.last;
	R.t_end_ns = keel::ktime_get_ns();
	for (u8 i = 0; i < NR_SERVICES; i++) {
		const ChannelSnap &c = L.ch[i];
		R.sent += c.sent;
		R.received += c.received;
		R.failed_fast += c.failed_fast;
		R.failed_other += c.failed_other;
		R.bad += c.bad;
		R.lost_in_crash += c.lost_in_crash;
		if (c.worst_unblock_ns > R.worst_unblock_ns)
			R.worst_unblock_ns = c.worst_unblock_ns;
	}
	u32 recovered = 0, flowed = 0, crashes = 0;
	for (u32 i = 0; i < R.nr_records; i++) {
		const RecoveryRecord &r = R.records[i];
		if (r.kind == FaultKind::HostRestart) {
			R.host_restarts++;
			R.reattached += r.ok;
		} else {
			crashes++;
			recovered += r.ok;
		}
		flowed += r.traffic_after;
	}
	R.crashes = crashes;
	R.recoveries = recovered;
	R.warnings = keel_posix_warn_count() - m_warns_at_start;
	R.events_dropped = m_events.dropped();
	long live = keel_posix_live_allocs();
	R.live_allocs = live < 0 || m_live_at_start < 0 ? -1 : live - m_live_at_start;

	check("run", !stopping() && R.nr_records == m_nplan + m_tracker.unplanned(),
	      stopping() ? "interrupted" : "%u of %u faults played",
	      R.nr_records - m_tracker.unplanned(), m_nplan);
	check("recoveries", recovered == crashes, "%u of %u crashes recovered", recovered, crashes);
	check("host restarts", R.reattached == R.host_restarts,
	      "%u of %u: the remote lived and re-attached", R.reattached, R.host_restarts);
	check("no unplanned crash", m_tracker.unplanned() == 0, "%u crashes the run did not cause",
	      m_tracker.unplanned());
	check("traffic after each fault", flowed == R.nr_records,
	      "%u of %u faults followed by traffic on every channel", flowed, R.nr_records);
	check("messages intact", R.bad == 0, "%llu out of order, corrupt or lost without a crash",
	      (unsigned long long)R.bad);
	check("failures fast", R.failed_other == 0, "%llu sends failed other than fast",
	      (unsigned long long)R.failed_other);
	bool matched = true;
	for (u8 i = 0; i < NR_SERVICES; i++) {
		u64 p = m_env.stats(i).probes.load(), r = m_env.stats(i).removes.load();
		R.probes += p;
		R.removes += r;
		matched &= p == r;
	}
	check("probe/remove", matched, "%llu probes, %llu removes", (unsigned long long)R.probes,
	      (unsigned long long)R.removes);
	check("leaks", R.live_allocs <= 0,
	      R.live_allocs < 0 ? "allocations not counted in this build"
				: "%ld framework allocations left after teardown",
	      R.live_allocs);
	check("warnings", R.warnings == 0, "%llu framework warnings",
	      (unsigned long long)R.warnings);
	check("firmware exit", R.fw_exit_status == 0, "last firmware exit status 0x%x",
	      R.fw_exit_status);
	R.pass = true;
	for (u32 i = 0; i < R.nr_checks; i++)
		R.pass &= R.checks[i].ok;
}

int Engine::run()
{
	m_live_at_start = keel_posix_live_allocs();
	m_warns_at_start = keel_posix_warn_count();
	m_report.t0_ns = keel::ktime_get_ns();
	snapshot(&m_snap);
	for (u32 i = 0; i < m_nviews; i++)
		m_views[i]->begin(m_cfg, m_snap);
	Result<void> s = setup();
	if (s.is_error())
		check("setup", false, "set-up failed: %d", s.error().to_errno());
	else
		play();
	teardown();
	finish();
	for (u32 i = 0; i < m_nviews; i++)
		m_views[i]->end(m_report);
	if (s.is_error())
		return 2;
	return m_report.pass ? 0 : 1;
}

} // namespace sim
