/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The simulator's views: they print what the engine reports and nothing
 * else (engine/engine.h, View).
 *
 *  - TtyView: a live screen on a terminal, redrawn in place with ANSI
 *    sequences (no curses): the remote's state, runtime PM, per-channel
 *    counters and rates, the latest events. Then the report.
 *  - PlainView: lines, for logs and pipes: every event as it happens, a
 *    status line each second, then the report.
 *  - JsonView: the same events, a sample of the counters at every tick,
 *    the recovery records, the checks and the summary, as JSON lines
 *    (one object per line) for plotting.
 *
 * The report (recovery timelines and the summary) is text shared by the
 * first two (print_report()).
 */
#ifndef TOOLS_SIM_VIEWS_VIEWS_H
#define TOOLS_SIM_VIEWS_VIEWS_H

#include "../engine/engine.h"

#include <stdio.h>

namespace sim {

/*
 * print_report() - the recovery timelines and the summary, for people
 * @f: where to
 * @r: the report
 * @color: with ANSI colours (a terminal)
 */
void print_report(FILE *f, const Report &r, bool color);

/* "12,345": @v with thousands separators, into @buf (at least 32 bytes). */
const char *fmt_count(char *buf, u64 v);

class TtyView final : public View {
public:
	/* @out: the terminal's fd. */
	explicit TtyView(int out) : m_out(out) {}
	~TtyView() = default;
	void begin(const SimConfig &cfg, const Snapshot &s) override;
	void event(const SimEvent &ev, const Snapshot &s) override;
	void tick(const Snapshot &s) override;
	void end(const Report &r) override;
	/* Put the terminal back (cursor shown) after a fatal signal. Async-signal-safe. */
	static void restore_terminal(int fd);

private:
	static constexpr u32 MAX_LINES = 64;
	static constexpr u32 RATE_SAMPLES = 10;
	void draw(const Snapshot &s);

	int m_out;
	const SimConfig *m_cfg = nullptr;
	bool m_began = false;
	char m_lines[MAX_LINES][160] = {};
	u32 m_nlines = 0;
	u32 m_next = 0;
	/* Received counts at the last RATE_SAMPLES ticks, per channel, for the rates. */
	u64 m_hist[RATE_SAMPLES][NR_SERVICES] = {};
	s64 m_hist_t[RATE_SAMPLES] = {};
	u32 m_hist_n = 0;
};

class PlainView final : public View {
public:
	explicit PlainView(FILE *out) : m_out(out) {}
	~PlainView() = default;
	void begin(const SimConfig &cfg, const Snapshot &s) override;
	void event(const SimEvent &ev, const Snapshot &s) override;
	void tick(const Snapshot &s) override;
	void end(const Report &r) override;

private:
	FILE *m_out;
	s64 m_next_status = 0;
};

class JsonView final : public View {
public:
	explicit JsonView(FILE *out) : m_out(out) {}
	~JsonView() = default;
	void begin(const SimConfig &cfg, const Snapshot &s) override;
	void event(const SimEvent &ev, const Snapshot &s) override;
	void tick(const Snapshot &s) override;
	void end(const Report &r) override;

private:
	void str(const char *key, const char *v, bool comma = true);
	FILE *m_out;
	s64 m_t0 = 0;
};

} // namespace sim

#endif
