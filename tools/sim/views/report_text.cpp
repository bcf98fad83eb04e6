// SPDX-License-Identifier: GPL-2.0
/*
 * The report as text: one timeline per fault, then the summary and the
 * checks. Shared by the terminal and the plain view.
 */
#include <keel/string.h>

#include "views.h"

namespace sim {

namespace {

struct Colors {
	const char *bold, *dim, *red, *green, *yellow, *off;
};
constexpr Colors COLOR = { "\033[1m", "\033[2m", "\033[31m", "\033[32m", "\033[33m", "\033[0m" };
constexpr Colors MONO = { "", "", "", "", "", "" };

double secs(const Report &r, s64 t)
{
	return double(t - r.t0_ns) / 1e9;
}

/* One step of a timeline: run time, time since the reference, what. */
void step(FILE *f, const Colors &c, const Report &rep, s64 ref, s64 t, const char *what)
{
	if (!t)
		return;
	fprintf(f, "    %8.3f s %s%+10.3f ms%s  %s\n", secs(rep, t), c.dim, double(t - ref) / 1e6,
		c.off, what);
}

/* The last steps of every timeline: the services back, their drivers bound again. */
void step_back(FILE *f, const Colors &c, const Report &rep, const RecoveryRecord &r)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "services re-announced (%u)", r.announced);
	step(f, c, rep, r.t_ref(), r.t_announced, buf);
	snprintf(buf, sizeof(buf), "client drivers re-probed (%u)", r.probed);
	step(f, c, rep, r.t_ref(), r.t_probed, buf);
}

void print_crash(FILE *f, const Colors &c, const Report &rep, const RecoveryRecord &r)
{
	char buf[128];
	s64 ref = r.t_ref();
	step(f, c, rep, ref, r.t_inject, "fault caused");
	snprintf(buf, sizeof(buf), "crash detected (%s)%s", rproc::crash_reason_name(r.reason),
		 r.extra_crashes ? ", reported again meanwhile" : "");
	step(f, c, rep, ref, r.t_detected, buf);
	step(f, c, rep, ref, r.t_removed, "devices removed (client drivers' remove ran)");
	step(f, c, rep, ref, r.t_stopped, "remote stopped");
	step(f, c, rep, ref, r.t_reset, "shared region reset");
	step(f, c, rep, ref, r.t_started, "remote restarted");
	step_back(f, c, rep, r);
	if (r.t_done)
		fprintf(f, "    %s%28s recovery %.1f ms by the core's clock%s%s\n", c.dim, "",
			double(r.core_ns) / 1e6,
			r.failed_attempts ? " (after failed attempts)" : "", c.off);
	if (r.blocked_senders)
		fprintf(f,
			"    %s%28s %u sends were blocked at the crash; worst unblock %.3f ms%s\n",
			c.dim, "", r.blocked_senders, double(r.worst_unblock_ns) / 1e6, c.off);
}

void print_restart(FILE *f, const Colors &c, const Report &rep, const RecoveryRecord &r)
{
	s64 ref = r.t_ref();
	step(f, c, rep, ref, r.t_detected, "host detaches (drivers removed, the remote told)");
	step(f, c, rep, ref, r.t_removed, "devices removed");
	step(f, c, rep, ref, r.t_host_down, "host's rpmsg stack unloaded; the remote runs on");
	step(f, c, rep, ref, r.t_host_up, "host's rpmsg stack loaded again");
	step(f, c, rep, ref, r.t_started, "remote adopted (not restarted)");
	step_back(f, c, rep, r);
	fprintf(f, "    %s%28s the remote: pid %d -> %d, host session %u -> %u%s\n", c.dim, "",
		r.pid_before, r.pid_after, r.session_before, r.session_after, c.off);
}

} // namespace

const char *fmt_count(char *buf, u64 v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	int o = 0;
	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = 0;
	return buf;
}

void print_report(FILE *f, const Report &r, bool color)
{
	const Colors &c = color ? COLOR : MONO;
	char a[32], b[32], d[32], e[32];

	if (r.nr_records)
		fprintf(f, "\n%sRecovery timeline%s\n", c.bold, c.off);
	for (u32 i = 0; i < r.nr_records; i++) {
		const RecoveryRecord &rec = r.records[i];
		bool restart = rec.kind == FaultKind::HostRestart;
		fprintf(f, "  %s#%u %s%s: %s  %s%s%s\n", c.bold, rec.index, fault_name(rec.kind),
			c.off, fault_text(rec.kind), rec.ok ? c.green : c.red,
			rec.ok ? (restart ? "re-attached" : "recovered") : "FAILED", c.off);
		if (restart)
			print_restart(f, c, r, rec);
		else
			print_crash(f, c, r, rec);
	}

	const Snapshot &L = r.last;
	fprintf(f, "\n%sSummary%s\n", c.bold, c.off);
	fprintf(f, "  run          %.1f s, %u crashes, %u host restarts\n",
		double(r.t_end_ns - r.t0_ns) / 1e9, r.crashes, r.host_restarts);
	fprintf(f, "  recoveries   %u/%u crashes recovered, %u/%u host restarts re-attached\n",
		r.recoveries, r.crashes, r.reattached, r.host_restarts);
	fprintf(f, "  messages     sent %s (host to remote), received %s (remote to host)\n",
		fmt_count(a, r.sent), fmt_count(b, r.received));
	fprintf(f,
		"               failed fast %s, lost in flight with a crashed remote %s, bad "
		"%llu\n",
		fmt_count(d, r.failed_fast), fmt_count(e, r.lost_in_crash),
		(unsigned long long)r.bad);
	fprintf(f, "  senders      worst unblock after a crash %.3f ms",
		double(r.worst_unblock_ns) / 1e6);
	u64 blocked = 0;
	for (u8 i = 0; i < NR_SERVICES; i++)
		blocked += L.ch[i].blocked;
	fprintf(f, " (%llu sends were blocked when it was detected)\n",
		(unsigned long long)blocked);
	for (u8 i = 0; i < NR_SERVICES; i++) {
		const ChannelSnap &ch = L.ch[i];
		fprintf(f, "  %-12s sent %s, received %s, failed fast %llu, probes %llu\n",
			channel_name(i), fmt_count(a, ch.sent), fmt_count(b, ch.received),
			(unsigned long long)ch.failed_fast, (unsigned long long)ch.probes);
	}
	fprintf(f, "  remoteproc   %llu boots, %llu crashes, %llu recoveries, worst %.1f ms\n",
		(unsigned long long)L.rstats.boots, (unsigned long long)L.rstats.crashes,
		(unsigned long long)L.rstats.recoveries, double(L.rstats.max_recovery_ns) / 1e6);
	fprintf(f, "  runtime PM   %llu suspends, %llu resumes, %llu vetoed\n",
		(unsigned long long)L.rstats.suspends, (unsigned long long)L.rstats.resumes,
		(unsigned long long)L.rstats.suspend_vetoes);
	if (r.live_allocs == 0)
		fprintf(f,
			"  leaks        none: framework allocations back to their count at the "
			"start; %llu probes, %llu removes\n",
			(unsigned long long)r.probes, (unsigned long long)r.removes);
	else if (r.live_allocs < 0)
		fprintf(f,
			"  leaks        allocations not counted in this build; %llu probes, %llu "
			"removes\n",
			(unsigned long long)r.probes, (unsigned long long)r.removes);
	else
		fprintf(f, "  leaks        %s%ld framework allocations left%s\n", c.red,
			r.live_allocs, c.off);
	u32 passed = 0;
	for (u32 i = 0; i < r.nr_checks; i++)
		passed += r.checks[i].ok;
	fprintf(f, "  checks       %u/%u passed\n", passed, r.nr_checks);
	for (u32 i = 0; i < r.nr_checks; i++)
		if (!r.checks[i].ok)
			fprintf(f, "    %sFAILED%s %s: %s\n", c.red, c.off, r.checks[i].name,
				r.checks[i].detail);
	fprintf(f, "  result       %s%s%s\n", r.pass ? c.green : c.red,
		r.pass ? "PASS: every recovery worked" : "FAIL", c.off);
	fflush(f);
}

} // namespace sim
