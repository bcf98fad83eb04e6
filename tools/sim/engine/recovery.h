/* SPDX-License-Identifier: GPL-2.0 */
/*
 * RecoveryTracker - turns the run's events into one RecoveryRecord per
 * fault: when the crash was detected, the devices removed, the remote
 * stopped, the region reset, the remote restarted, the devices added, the
 * services announced again and the drivers probed again.
 *
 * Events come from several contexts (the remoteproc observer, the bus
 * notifier, the drivers), so they may reach the tracker slightly out of
 * order: steps are taken by time, not by arrival. Announcements and
 * probes count for the current fault when they happened after it was
 * caused. A crash reported while no fault is being recovered from (or
 * during a host restart) is one the run did not cause: it gets a record
 * of its own and is counted as unplanned.
 *
 * Single-threaded: the engine's thread feeds it.
 */
#ifndef TOOLS_SIM_ENGINE_RECOVERY_H
#define TOOLS_SIM_ENGINE_RECOVERY_H

#include "../sim_model.h"

namespace sim {

class RecoveryTracker {
public:
	/* Records go to @report (records, nr_records). */
	explicit RecoveryTracker(Report &report) : m_report(report) {}

	/* A fault of @kind caused at @t_ns: its record, or null when MAX_FAULTS are used. */
	RecoveryRecord *begin(FaultKind kind, s64 t_ns);
	/* The current fault is over: events go to no record until the next. */
	void end() { m_cur = nullptr; }
	/* The record of the fault being recovered from, or null. */
	RecoveryRecord *current() const { return m_cur; }
	/* Take @ev into the current record. */
	void track(const SimEvent &ev);
	/* Crashes the run did not cause. */
	u32 unplanned() const { return m_unplanned; }

private:
	Report &m_report;
	RecoveryRecord *m_cur = nullptr;
	u32 m_unplanned = 0;
};

} // namespace sim

#endif
