// SPDX-License-Identifier: GPL-2.0
/*
 * The plain view (see views.h): one line per event, a status line each
 * second, then the report. For pipes, logs and CI.
 */
#include "views.h"

namespace sim {

namespace {

constexpr s64 STATUS_NS = keel::NSEC_PER_SEC;

class PlainView final : public View {
public:
	explicit PlainView(FILE *out) : m_out(out) {}

	void begin(const SimConfig &cfg, const Snapshot &s) override
	{
		fprintf(m_out,
			"keel-sim: %u crashes, %u host restarts, ~%.0f s; echo %u msg/s by %u "
			"senders, sensor %u Hz, console every %u ms; watchdog %u ms, autosuspend "
			"%d ms\n",
			cfg.crashes, cfg.host_restarts, double(cfg.duration_ns) / 1e9,
			cfg.echo_rate, cfg.senders, cfg.sensor_hz, cfg.console_ms, cfg.watchdog_ms,
			cfg.autosuspend_ms);
		m_next_status = s.now_ns + STATUS_NS;
		fflush(m_out);
	}

	void event(const SimEvent &ev, const Snapshot &s) override
	{
		char text[128];
		describe(ev, text, sizeof(text));
		fprintf(m_out, "[%8.3f] %s\n", double(ev.t_ns - s.t0_ns) / 1e9, text);
		fflush(m_out);
	}

	void tick(const Snapshot &s) override
	{
		if (s.now_ns < m_next_status)
			return;
		m_next_status += STATUS_NS;
		if (m_next_status < s.now_ns)
			m_next_status = s.now_ns + STATUS_NS;
		fprintf(m_out, "[%8.3f] status: remote %s pid %d, pm %s, recoveries %llu |",
			double(s.now_ns - s.t0_ns) / 1e9, rproc::state_name(s.state), s.pid,
			s.pm == keel::RpmStatus::Suspended ? "suspended" : "active",
			(unsigned long long)s.rstats.recoveries);
		for (u8 i = 0; i < NR_SERVICES; i++) {
			const ChannelSnap &c = s.ch[i];
			fprintf(m_out, " %s %s %llu/%llu", channel_name(i), c.bound ? "up" : "down",
				(unsigned long long)c.sent, (unsigned long long)c.received);
		}
		fprintf(m_out, "\n");
		fflush(m_out);
	}

	void end(const Report &r) override { print_report(m_out, r, false); }

private:
	FILE *m_out;
	s64 m_next_status = 0;
};

} // namespace

Result<keel::UniquePtr<View>> plain_view_create(FILE *out)
{
	return TRY(keel::make_unique<PlainView>(GFP_KERNEL, out));
}

} // namespace sim
