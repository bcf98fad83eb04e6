// SPDX-License-Identifier: GPL-2.0
/*
 * The JSON-lines view (see views.h). One object per line, each with a
 * "type": "config" first, then "event" and "sample" records in time order
 * ("t": seconds since the start), then one "recovery" per fault, one
 * "check" per check and the "summary" last. Times inside a recovery are
 * milliseconds since its crash was detected (or its host restart began);
 * null when the step did not happen.
 */
#include "views.h"

namespace sim {

namespace {

void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = u8(*s);
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void ms_field(FILE *f, const char *key, s64 ref, s64 t)
{
	if (t)
		fprintf(f, ",\"%s\":%.3f", key, double(t - ref) / 1e6);
	else
		fprintf(f, ",\"%s\":null", key);
}

const char *b(bool v)
{
	return v ? "true" : "false";
}

class JsonView final : public View {
public:
	explicit JsonView(FILE *out) : m_out(out) {}
	void begin(const SimConfig &cfg, const Snapshot &s) override;
	void event(const SimEvent &ev, const Snapshot &s) override;
	void tick(const Snapshot &s) override;
	void end(const Report &r) override;

private:
	void str(const char *key, const char *v, bool comma = true);
	FILE *m_out;
	s64 m_t0 = 0;
};

void JsonView::str(const char *key, const char *v, bool comma)
{
	fprintf(m_out, "%s\"%s\":", comma ? "," : "", key);
	json_str(m_out, v);
}

void JsonView::begin(const SimConfig &cfg, const Snapshot &s)
{
	m_t0 = s.t0_ns;
	fprintf(m_out,
		"{\"type\":\"config\",\"crashes\":%u,\"host_restarts\":%u,\"duration_s\":%.3f,"
		"\"echo_rate\":%u,\"senders\":%u,\"echo_size\":%u,\"window\":%u,\"sensor_hz\":%u,"
		"\"console_ms\":%u,\"heartbeat_ms\":%u,\"watchdog_ms\":%u,\"autosuspend_ms\":%d,"
		"\"idle_ms\":%u}\n",
		cfg.crashes, cfg.host_restarts, double(cfg.duration_ns) / 1e9, cfg.echo_rate,
		cfg.senders, cfg.echo_size, cfg.window, cfg.sensor_hz, cfg.console_ms,
		cfg.heartbeat_ms, cfg.watchdog_ms, cfg.autosuspend_ms, cfg.idle_ms);
}

void JsonView::event(const SimEvent &ev, const Snapshot &)
{
	char text[128];
	describe(ev, text, sizeof(text));
	fprintf(m_out, "{\"t\":%.6f,\"type\":\"event\"", double(ev.t_ns - m_t0) / 1e9);
	str("event", ev_name(ev.type));
	if (ev.channel != NO_CHANNEL)
		str("channel", channel_name(ev.channel));
	if (ev.type == EvType::Inject)
		str("fault", fault_name(ev.fault));
	if (ev.type == EvType::Rproc) {
		str("rproc", rproc::event_name(ev.rp.type));
		str("state", rproc::state_name(ev.rp.state));
		if (ev.rp.type == rproc::RprocEventType::CrashReported)
			str("reason", rproc::crash_reason_name(ev.rp.reason));
		if (ev.rp.type == rproc::RprocEventType::RecoveryDone)
			fprintf(m_out, ",\"duration_ms\":%.3f", double(ev.rp.duration_ns) / 1e6);
		if (ev.rp.recovery)
			fprintf(m_out, ",\"recovery\":%llu", (unsigned long long)ev.rp.recovery);
	}
	if (ev.err)
		fprintf(m_out, ",\"err\":%d", ev.err);
	if (ev.type == EvType::SendFailed && ev.value >= 0)
		fprintf(m_out, ",\"unblock_ms\":%.3f", double(ev.value) / 1e6);
	if (ev.type == EvType::DriverRemoved)
		fprintf(m_out, ",\"lost\":%lld", (long long)ev.value);
	str("text", text);
	fprintf(m_out, "}\n");
}

void JsonView::tick(const Snapshot &s)
{
	const rproc::RprocStats &r = s.rstats;
	fprintf(m_out, "{\"t\":%.6f,\"type\":\"sample\"", double(s.now_ns - m_t0) / 1e9);
	str("state", rproc::state_name(s.state));
	str("pm", s.pm == keel::RpmStatus::Suspended ? "suspended" : "active");
	fprintf(m_out,
		",\"pm_usage\":%d,\"pid\":%d,\"traffic\":%s,\"boots\":%llu,\"crashes\":%llu,"
		"\"recoveries\":%llu,\"suspends\":%llu,\"resumes\":%llu,\"channels\":{",
		s.pm_usage, s.pid, b(s.traffic), (unsigned long long)r.boots,
		(unsigned long long)r.crashes, (unsigned long long)r.recoveries,
		(unsigned long long)r.suspends, (unsigned long long)r.resumes);
	for (u8 i = 0; i < NR_SERVICES; i++) {
		const ChannelSnap &c = s.ch[i];
		fprintf(m_out,
			"%s\"%s\":{\"bound\":%s,\"sent\":%llu,\"received\":%llu,\"failed_fast\":%"
			"llu,"
			"\"failed_other\":%llu,\"bad\":%llu,\"lost_in_crash\":%llu,\"probes\":%llu,"
			"\"removes\":%llu}",
			i ? "," : "", channel_name(i), b(c.bound), (unsigned long long)c.sent,
			(unsigned long long)c.received, (unsigned long long)c.failed_fast,
			(unsigned long long)c.failed_other, (unsigned long long)c.bad,
			(unsigned long long)c.lost_in_crash, (unsigned long long)c.probes,
			(unsigned long long)c.removes);
	}
	fprintf(m_out, "}}\n");
}

/* A recovery's steps in the order of its timeline: "inject_ms" for t_inject. */
struct Step {
	s64 RecoveryRecord::*t;
	const char *key;
};
#define STEP(name) Step({ &RecoveryRecord::t_##name, #name "_ms" })
constexpr Step STEPS[] = {
	STEP(inject), STEP(detected),  STEP(removed), STEP(stopped),
	STEP(reset),  STEP(host_down), STEP(host_up), STEP(started),
	STEP(added),  STEP(announced), STEP(probed),  STEP(done),
};
#undef STEP

void JsonView::end(const Report &R)
{
	for (u32 i = 0; i < R.nr_records; i++) {
		const RecoveryRecord &r = R.records[i];
		fprintf(m_out, "{\"type\":\"recovery\",\"index\":%u", r.index);
		str("kind", fault_name(r.kind));
		fprintf(m_out, ",\"ok\":%s,\"t\":%.6f", b(r.ok), double(r.t_inject - m_t0) / 1e9);
		if (r.kind != FaultKind::HostRestart)
			str("reason", rproc::crash_reason_name(r.reason));
		for (const auto &st : STEPS)
			ms_field(m_out, st.key, r.t_ref(), r.*st.t);
		fprintf(m_out,
			",\"core_ms\":%.3f,\"announced\":%u,\"probed\":%u,\"failed_attempts\":%u,"
			"\"extra_crashes\":%u,\"blocked_senders\":%u,\"worst_unblock_ms\":%.3f,"
			"\"traffic_after\":%s,\"pid_before\":%d,\"pid_after\":%d,"
			"\"session_before\":%u,\"session_after\":%u}\n",
			double(r.core_ns) / 1e6, r.announced, r.probed, r.failed_attempts,
			r.extra_crashes, r.blocked_senders, double(r.worst_unblock_ns) / 1e6,
			b(r.traffic_after), r.pid_before, r.pid_after, r.session_before,
			r.session_after);
	}
	for (u32 i = 0; i < R.nr_checks; i++) {
		fprintf(m_out, "{\"type\":\"check\"");
		str("name", R.checks[i].name);
		fprintf(m_out, ",\"ok\":%s", b(R.checks[i].ok));
		str("detail", R.checks[i].detail);
		fprintf(m_out, "}\n");
	}
	fprintf(m_out,
		"{\"type\":\"summary\",\"pass\":%s,\"duration_s\":%.3f,\"crashes\":%u,"
		"\"recoveries\":%u,\"host_restarts\":%u,\"reattached\":%u,\"sent\":%llu,"
		"\"received\":%llu,\"failed_fast\":%llu,\"failed_other\":%llu,\"bad\":%llu,"
		"\"lost_in_crash\":%llu,\"worst_unblock_ms\":%.3f,\"boots\":%llu,"
		"\"suspends\":%llu,\"resumes\":%llu,\"probes\":%llu,\"removes\":%llu,"
		"\"live_allocs\":%ld,\"warnings\":%llu,\"events_dropped\":%llu,"
		"\"fw_exit_status\":%d}\n",
		b(R.pass), double(R.t_end_ns - R.t0_ns) / 1e9, R.crashes, R.recoveries,
		R.host_restarts, R.reattached, (unsigned long long)R.sent,
		(unsigned long long)R.received, (unsigned long long)R.failed_fast,
		(unsigned long long)R.failed_other, (unsigned long long)R.bad,
		(unsigned long long)R.lost_in_crash, double(R.worst_unblock_ns) / 1e6,
		(unsigned long long)R.last.rstats.boots, (unsigned long long)R.last.rstats.suspends,
		(unsigned long long)R.last.rstats.resumes, (unsigned long long)R.probes,
		(unsigned long long)R.removes, R.live_allocs, (unsigned long long)R.warnings,
		(unsigned long long)R.events_dropped, R.fw_exit_status);
	fflush(m_out);
}

} // namespace

Result<keel::UniquePtr<View>> json_view_create(FILE *out)
{
	return TRY(keel::make_unique<JsonView>(GFP_KERNEL, out));
}

} // namespace sim
