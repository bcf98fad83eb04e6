/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The simulator's views: they print what the engine reports and nothing
 * else (engine/engine.h, View).
 *
 *  - tty: a live screen on a terminal, redrawn in place with ANSI
 *    sequences (no curses): the remote's state, runtime PM, per-channel
 *    counters and rates, the latest events. Then the report.
 *  - plain: lines, for logs and pipes: every event as it happens, a
 *    status line each second, then the report.
 *  - JSON: the same events, a sample of the counters at every tick,
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

/*
 * tty_view_create(), plain_view_create(), json_view_create() - make a view
 * @out: where it prints (for the tty view, the terminal's fd)
 *
 * Each view's class is private to its file; the caller owns the view and
 * lends it to Engine::create().
 * Context: may sleep. Return: the view, or -ENOMEM.
 */
Result<keel::UniquePtr<View>> tty_view_create(int out);
Result<keel::UniquePtr<View>> plain_view_create(FILE *out);
Result<keel::UniquePtr<View>> json_view_create(FILE *out);

/* Put the terminal back (cursor shown) after a fatal signal. Async-signal-safe. */
void tty_restore_terminal(int fd);

} // namespace sim

#endif
