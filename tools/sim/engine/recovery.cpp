// SPDX-License-Identifier: GPL-2.0
/*
 * The recovery records (see recovery.h).
 */
#include <keel/string.h>

#include "recovery.h"

namespace sim {

using rproc::RprocEventType;

RecoveryRecord *RecoveryTracker::begin(FaultKind kind, s64 t_ns)
{
	if (m_report.nr_records == MAX_FAULTS)
		return nullptr;
	RecoveryRecord *r = &m_report.records[m_report.nr_records++];
	memset(r, 0, sizeof(*r));
	r->index = m_report.nr_records;
	r->kind = kind;
	r->t_inject = t_ns;
	m_cur = r;
	return r;
}

namespace {

void first(s64 &field, s64 t)
{
	if (!field || t < field)
		field = t;
}

void last(s64 &field, s64 t)
{
	if (t > field)
		field = t;
}

/*
 * The steps the core's events mark: the first time each happened, or for
 * a restart that failed and was retried, the last (the attempt that counts).
 */
constexpr struct {
	RprocEventType type;
	s64 RecoveryRecord::*t;
	bool last;
} STEPS[] = {
	{ RprocEventType::DevicesRemoved, &RecoveryRecord::t_removed, false },
	{ RprocEventType::RemoteStopped, &RecoveryRecord::t_stopped, false },
	{ RprocEventType::RegionReset, &RecoveryRecord::t_reset, false },
	{ RprocEventType::RemoteStarted, &RecoveryRecord::t_started, true },
	{ RprocEventType::DevicesAdded, &RecoveryRecord::t_added, true },
};

void track_rproc(RecoveryRecord &r, const SimEvent &ev)
{
	switch (ev.rp.type) {
	case RprocEventType::CrashReported:
		if (r.t_detected) {
			r.extra_crashes++;
		} else {
			r.t_detected = ev.t_ns;
			r.reason = ev.rp.reason;
		}
		break;
	case RprocEventType::RecoveryDone:
		r.t_done = ev.t_ns;
		r.core_ns = ev.rp.duration_ns;
		break;
	case RprocEventType::RecoveryFailed:
		r.failed_attempts++;
		break;
	default:
		for (const auto &st : STEPS) {
			if (st.type != ev.rp.type)
				continue;
			if (st.last)
				last(r.*st.t, ev.t_ns);
			else
				first(r.*st.t, ev.t_ns);
		}
		break;
	}
}

} // namespace

void RecoveryTracker::track(const SimEvent &ev)
{
	bool crash = ev.type == EvType::Rproc && ev.rp.type == RprocEventType::CrashReported;
	if (crash && (!m_cur || m_cur->kind == FaultKind::HostRestart)) {
		m_unplanned++;
		if (!begin(FaultKind::Kill, ev.t_ns))
			return;
	}
	RecoveryRecord *r = m_cur;
	if (!r)
		return;
	switch (ev.type) {
	case EvType::Rproc:
		track_rproc(*r, ev);
		break;
	case EvType::ChannelAdded:
		if (ev.channel != NO_CHANNEL && ev.t_ns > r->t_inject) {
			r->announced++;
			last(r->t_announced, ev.t_ns);
		}
		break;
	case EvType::DriverProbed:
		if (ev.t_ns > r->t_inject) {
			r->probed++;
			last(r->t_probed, ev.t_ns);
		}
		break;
	default:
		break;
	}
}

} // namespace sim
