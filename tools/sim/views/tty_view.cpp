// SPDX-License-Identifier: GPL-2.0
/*
 * The live view on a terminal (see views.h): the whole screen is built
 * into one buffer and written at once (cursor home, each line cleared to
 * its end, the rest of the screen cleared), so that it updates in place
 * without flicker; the cursor is hidden while it runs. Sized to the
 * terminal at every frame.
 */
#include <keel/string.h>

#include "views.h"

#include <stdarg.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace sim {

namespace {

constexpr const char *BOLD = "\033[1m";
constexpr const char *DIM = "\033[2m";
constexpr const char *RED = "\033[31m";
constexpr const char *GREEN = "\033[32m";
constexpr const char *YELLOW = "\033[33m";
constexpr const char *BLUE = "\033[34m";
constexpr const char *MAGENTA = "\033[35m";
constexpr const char *CYAN = "\033[36m";
constexpr const char *REVERSE = "\033[7m";
constexpr const char *OFF = "\033[0m";

/*
 * The frame being built. Lines are cut at the terminal's width (colour
 * sequences do not count, UTF-8 continuation bytes do not either) and the
 * frame at its height, so that a small terminal never scrolls.
 */
struct Frame {
	char buf[32768];
	size_t len = 0;
	size_t line_start = 0;
	u32 rows = 0;
	u32 width = 80;
	u32 height = 24;

	void add(const char *fmt, ...) __printf(2, 3)
	{
		if (rows >= height)
			return;
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(buf + len, sizeof(buf) - len, fmt, ap);
		va_end(ap);
		if (n > 0)
			len = len + size_t(n) < sizeof(buf) ? len + size_t(n) : sizeof(buf) - 1;
	}
	/*
	 * Where the current line's visible character number @n (from 0)
	 * starts, or len when it has fewer; @cols (if given) gets how many
	 * come before.
	 * Escape sequences take no column, nor do UTF-8 continuation bytes.
	 */
	size_t visible(u32 n, u32 *cols = nullptr) const
	{
		u32 k = 0;
		for (size_t i = line_start; i < len; i++) {
			if (buf[i] == '\033') {
				while (i < len &&
				       !(buf[i] >= '@' && buf[i] <= '~' && buf[i] != '['))
					i++;
				continue;
			}
			if ((u8(buf[i]) & 0xc0) != 0x80 && k++ == n) {
				if (cols)
					*cols = n;
				return i;
			}
		}
		if (cols)
			*cols = k;
		return len;
	}
	/* Visible columns of the current line so far. */
	u32 columns() const
	{
		u32 cols;
		(void)visible(KEEL_U32_MAX, &cols);
		return cols;
	}
	/* End the line: cut it at the width, clear what an older frame left to its right. */
	void eol()
	{
		if (rows >= height)
			return;
		len = visible(width);
		add("%s\033[K%s", OFF, rows + 1 < height ? "\r\n" : "");
		rows++;
		line_start = len;
	}
	/* Append @s even to a full frame (the final clear). */
	void raw(const char *s)
	{
		size_t n = strlen(s);
		if (len + n < sizeof(buf)) {
			memcpy(buf + len, s, n);
			len += n;
		}
	}
};

const char *state_color(rproc::RprocState st)
{
	switch (st) {
	case rproc::RprocState::Running:
	case rproc::RprocState::Attached:
		return GREEN;
	case rproc::RprocState::Crashed:
		return RED;
	case rproc::RprocState::Recovering:
	case rproc::RprocState::Booting:
		return YELLOW;
	case rproc::RprocState::Suspended:
		return BLUE;
	case rproc::RprocState::Detached:
		return MAGENTA;
	default:
		return DIM;
	}
}

const char *pm_name(keel::RpmStatus s)
{
	switch (s) {
	case keel::RpmStatus::Active:
		return "active";
	case keel::RpmStatus::Resuming:
		return "resuming";
	case keel::RpmStatus::Suspended:
		return "suspended";
	case keel::RpmStatus::Suspending:
		return "suspending";
	}
	return "?";
}

const char *event_color(const SimEvent &ev)
{
	switch (ev.type) {
	case EvType::Inject:
	case EvType::Check:
		return RED;
	case EvType::Rproc:
		if (ev.rp.type == rproc::RprocEventType::CrashReported ||
		    ev.rp.type == rproc::RprocEventType::RecoveryFailed)
			return RED;
		if (ev.rp.type == rproc::RprocEventType::RecoveryDone)
			return GREEN;
		return YELLOW;
	case EvType::Phase:
		return CYAN;
	case EvType::ConsoleLog:
		return MAGENTA;
	case EvType::SendFailed:
		return YELLOW;
	default:
		return "";
	}
}

void rule(Frame &f, u32 width)
{
	f.add("%s", DIM);
	for (u32 i = 0; i < width; i++)
		f.add("\u2500");
	f.add("%s", OFF);
	f.eol();
}

class TtyView final : public View {
public:
	/* @out: the terminal's fd. */
	explicit TtyView(int out) : m_out(out) {}
	void begin(const SimConfig &cfg, const Snapshot &s) override;
	void event(const SimEvent &ev, const Snapshot &s) override;
	void tick(const Snapshot &s) override;
	void end(const Report &r) override;

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

void TtyView::begin(const SimConfig &cfg, const Snapshot &s)
{
	m_cfg = &cfg;
	m_began = true;
	/* Hide the cursor, clear the screen. */
	static const char seq[] = "\033[?25l\033[2J\033[H";
	(void)!write(m_out, seq, sizeof(seq) - 1);
	draw(s);
}

void TtyView::event(const SimEvent &ev, const Snapshot &s)
{
	char text[128];
	describe(ev, text, sizeof(text));
	snprintf(m_lines[m_next], sizeof(m_lines[0]), "%9.3f  %s%s%s",
		 double(ev.t_ns - s.t0_ns) / 1e9, event_color(ev), text, OFF);
	m_next = (m_next + 1) % MAX_LINES;
	if (m_nlines < MAX_LINES)
		m_nlines++;
}

void TtyView::tick(const Snapshot &s)
{
	u32 slot = m_hist_n % RATE_SAMPLES;
	for (u8 i = 0; i < NR_SERVICES; i++)
		m_hist[slot][i] = s.ch[i].received;
	m_hist_t[slot] = s.now_ns;
	m_hist_n++;
	draw(s);
}

void TtyView::draw(const Snapshot &s)
{
	struct winsize ws = {};
	u32 cols = 100, rows = 40;
	if (ioctl(m_out, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row) {
		cols = ws.ws_col;
		rows = ws.ws_row;
	}
	u32 width = keel::min(cols, 120u) - 1;
	static Frame f;
	f.len = 0;
	f.rows = 0;
	f.width = cols - 1;
	f.height = rows;
	f.raw("\033[H");
	f.line_start = f.len;

	double t = double(s.now_ns - s.t0_ns) / 1e9;
	double total = double(m_cfg->duration_ns) / 1e9;
	char clock[48];
	int clock_len = snprintf(clock, sizeof(clock), "%.1f s of ~%.0f s", t, total);
	f.add("%s keel-sim %s host + remote firmware over shared memory", REVERSE, OFF);
	u32 used = f.columns();
	f.add("%*s%s", int(width > used + u32(clock_len) ? width - used - u32(clock_len) : 1), "",
	      clock);
	f.eol();
	rule(f, width);

	const rproc::RprocStats &rs = s.rstats;
	f.add(" %sremote%s  %s%s %-10s %s  pid %-7d  boots %llu  recoveries %llu (last %.1f ms, "
	      "worst %.1f ms)",
	      BOLD, OFF, REVERSE, state_color(s.state), rproc::state_name(s.state), OFF, s.pid,
	      (unsigned long long)rs.boots, (unsigned long long)rs.recoveries,
	      double(rs.last_recovery_ns) / 1e6, double(rs.max_recovery_ns) / 1e6);
	f.eol();
	f.add("          crashes %llu:", (unsigned long long)rs.crashes);
	for (u32 i = 0; i < rproc::RPROC_NR_CRASH_REASONS; i++)
		f.add("%s %s %llu", i ? "," : "", rproc::crash_reason_name(rproc::CrashReason(i)),
		      (unsigned long long)rs.crashes_by_reason[i]);
	f.eol();
	f.add("          runtime PM %s%s%s, usage %d: suspends %llu, resumes %llu, vetoed %llu",
	      s.pm == keel::RpmStatus::Suspended ? BLUE : "",
	      s.pm_enabled ? pm_name(s.pm) : "disabled", OFF, s.pm_usage,
	      (unsigned long long)rs.suspends, (unsigned long long)rs.resumes,
	      (unsigned long long)rs.suspend_vetoes);
	f.eol();
	f.add(" %sphase%s   %s%s%s", BOLD, OFF, CYAN, s.phase, OFF);
	f.add("%s  (fault %u of %u, traffic %s)%s", DIM, s.faults_done, s.faults_total,
	      s.traffic ? "on" : "paused", OFF);
	f.eol();
	rule(f, width);

	f.add(" %s%-11s %-5s %10s %10s %7s %9s %6s %4s %8s%s", BOLD, "channel", "", "sent",
	      "received", "recv/s", "fast-fail", "lost", "bad", "probe/rm", OFF);
	f.eol();
	u32 n = keel::min(m_hist_n, RATE_SAMPLES);
	u32 newest = (m_hist_n + RATE_SAMPLES - 1) % RATE_SAMPLES;
	u32 oldest = (m_hist_n + RATE_SAMPLES - n) % RATE_SAMPLES;
	for (u8 i = 0; i < NR_SERVICES; i++) {
		const ChannelSnap &c = s.ch[i];
		char a[32], b[32], r[32];
		double rate = 0;
		if (n > 1 && m_hist_t[newest] > m_hist_t[oldest])
			rate = double(m_hist[newest][i] - m_hist[oldest][i]) * 1e9 /
			       double(m_hist_t[newest] - m_hist_t[oldest]);
		f.add(" %-11s %s%-5s%s %10s %10s %7s %9llu %6llu %s%4llu%s %3llu/%-3llu",
		      channel_name(i), c.bound ? GREEN : RED, c.bound ? "bound" : "gone", OFF,
		      fmt_count(a, c.sent), fmt_count(b, c.received), fmt_count(r, u64(rate)),
		      (unsigned long long)c.failed_fast, (unsigned long long)c.lost_in_crash,
		      c.bad || c.failed_other ? RED : "",
		      (unsigned long long)(c.bad + c.failed_other), OFF,
		      (unsigned long long)c.probes, (unsigned long long)c.removes);
		f.eol();
	}
	const ChannelSnap &sensor = s.ch[1];
	s64 unblock = 0;
	for (u8 i = 0; i < NR_SERVICES; i++)
		unblock = keel::max(unblock, s.ch[i].worst_unblock_ns);
	f.add("%s   sensor sample age %.2f ms avg, %.2f ms max; stale %llu.  worst send unblock "
	      "%.3f ms%s",
	      DIM, double(sensor.latency_avg_ns) / 1e6, double(sensor.latency_max_ns) / 1e6,
	      (unsigned long long)sensor.stale, double(unblock) / 1e6, OFF);
	const ChannelSnap &console = s.ch[2];
	f.eol();
	f.add("%s   console> %s%s", DIM, console.last, OFF);
	f.eol();
	rule(f, width);

	f.add(" %sevents%s", BOLD, OFF);
	f.eol();
	u32 room = rows > f.rows ? rows - f.rows : 0;
	u32 show = keel::min(room, m_nlines);
	for (u32 i = 0; i < show; i++) {
		u32 idx = (m_next + MAX_LINES - show + i) % MAX_LINES;
		f.add(" %s", m_lines[idx]);
		f.eol();
	}
	f.raw("\033[J");
	(void)!write(m_out, f.buf, f.len);
}

void TtyView::end(const Report &r)
{
	if (m_began) {
		draw(r.last);
		tty_restore_terminal(m_out);
	}
	FILE *f = fdopen(dup(m_out), "w");
	if (!f)
		return;
	print_report(f, r, true);
	fclose(f);
}

} // namespace

Result<keel::UniquePtr<View>> tty_view_create(int out)
{
	return TRY(keel::make_unique<TtyView>(GFP_KERNEL, out));
}

void tty_restore_terminal(int fd)
{
	static const char seq[] = "\033[0m\033[?25h\r\n";
	(void)!write(fd, seq, sizeof(seq) - 1);
}

} // namespace sim
