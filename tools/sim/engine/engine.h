/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The simulator's engine: the host of one hosted remote processor (the
 * firmware process, os/posix/remoteproc), the client drivers of its
 * services (clients.h), and the run's script: boot, traffic, the faults
 * (remote crashes of each kind, a host restart with the remote alive), an
 * idle phase for runtime PM, teardown. It collects what happens (the
 * remoteproc core's observer events, the rpmsg bus's channels, the
 * drivers' probes and removes) into events, snapshots and per-fault
 * recovery records, checks the run, and hands all of it to its views,
 * which only print.
 *
 * Hosted only. One Engine per process (client drivers are global objects).
 */
#ifndef TOOLS_SIM_ENGINE_ENGINE_H
#define TOOLS_SIM_ENGINE_ENGINE_H

#include <keel/alloc.h>
#include <keel/notifier.h>

#include "../sim_model.h"
#include "clients.h"
#include "event_queue.h"
#include "recovery.h"

namespace rproc::hosted {
class HostedRproc;
}

namespace sim {

/*
 * View - what the engine prints through. Every call comes from the
 * engine's thread, in order: begin(), then events and ticks, then end().
 */
class View {
public:
	virtual void begin(const SimConfig &cfg, const Snapshot &s) = 0;
	virtual void event(const SimEvent &ev, const Snapshot &s) = 0;
	virtual void tick(const Snapshot &s) = 0;
	virtual void end(const Report &r) = 0;
	virtual ~View() = default;
};

class Engine : keel::NonMovable {
public:
	/* Context: may sleep. Return: the engine, -EINVAL without a firmware, -ENOMEM. */
	static Result<keel::UniquePtr<Engine>> create(const SimConfig &cfg, View *const *views,
						      u32 nviews);
	~Engine();

	/**
	 * Engine::run() - set up, play the script, tear down, check, report
	 *
	 * Context: may sleep (the caller's thread is the engine's).
	 * Return: 0 when every check passed (every recovery and re-attach
	 * worked, traffic flowed after each, nothing leaked), 1 otherwise,
	 * 2 when the set-up failed.
	 */
	int run();
	/* End the run early (the script stops, teardown and report follow). Async-signal-safe. */
	static void request_stop();

	Engine(const SimConfig &cfg, View *const *views, u32 nviews);

private:
	Result<void> setup();
	void teardown();
	void play();
	void inject(FaultKind kind);
	bool host_restart(RecoveryRecord &r);
	void idle_phase();
	bool run_for(s64 ns);
	bool wait_until(s64 timeout_ns, bool (*cond)(Engine &e));
	void pump();
	bool settled(const RecoveryRecord &r);
	bool drain(s64 timeout_ns);
	void set_phase(bool quiet, const char *fmt, ...) __printf(3, 4);
	void emit(EvType type, const char *text, FaultKind fault = FaultKind::Kill);
	void snapshot(Snapshot *s);
	void check(const char *name, bool ok, const char *fmt, ...) __printf(4, 5);
	void finish();
	static int on_rproc(keel::NotifierBlock &nb, unsigned long action, void *data);
	static int on_bus(keel::NotifierBlock &nb, unsigned long action, void *data);

	SimConfig m_cfg;
	View *m_views[4];
	u32 m_nviews;
	EventQueue m_events;
	ClientEnv m_env;
	keel::UniquePtr<rproc::hosted::HostedRproc> m_hosted;
	keel::NotifierBlock m_rproc_nb{ .notifier_call = &Engine::on_rproc };
	keel::NotifierBlock m_bus_nb{ .notifier_call = &Engine::on_bus };
	bool m_rpmsg_up = false;
	bool m_vrpmsg_up = false;
	bool m_virtio_up = false;
	bool m_clients_up = false;
	bool m_bus_nb_up = false;
	bool m_observer_up = false;
	long m_live_at_start = -1;
	u64 m_warns_at_start = 0;
	s64 m_last_tick = 0;
	FaultKind m_plan[MAX_FAULTS];
	u32 m_nplan = 0;
	u32 m_pm_suspended = 0;
	char m_phase[sizeof(Snapshot::phase)] = {};
	Snapshot m_snap;
	Report m_report;
	RecoveryTracker m_tracker{ m_report };
};

} // namespace sim

#endif
