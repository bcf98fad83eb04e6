// SPDX-License-Identifier: GPL-2.0
/*
 * The firmware's sim-console service (see fw.h).
 */
#include <keel/log.h>
#include <keel/string.h>
#include <keel/time.h>
#include <rpmsg/rpmsg_link.h>

#include "../../../samples/rpmsg/rpmsg_echo.h"
#include "fw.h"

#include "hosted_rproc.h"
#include <unistd.h>

namespace sim::fw {

namespace {
constexpr s64 SEND_TIMEOUT_NS = 200 * keel::NSEC_PER_MSEC;

bool is_cmd(const char *line, const char *cmd, const char **rest)
{
	size_t n = strlen(cmd);
	if (strncmp(line, cmd, n) != 0 || (line[n] != 0 && line[n] != ' '))
		return false;
	*rest = line[n] == ' ' ? line + n + 1 : line + n;
	return true;
}
} // namespace

void ConsoleService::work_fn(keel::Work &w)
{
	keel::container_of(&w, &ConsoleService::m_work)->drain();
}

void ConsoleService::drain()
{
	ConsoleCmd c;
	while (m_cmds.pop(&c)) {
		g_ctx->console_cmds.fetch_add(1);
		execute(c);
	}
}

void ConsoleService::reply(u32 kind, u32 id, u32 dst, const char *text)
{
	u8 buf[sizeof(ConsoleHdr) + CONSOLE_TEXT_MAX];
	u32 len = console_msg(buf, kind, id, text);
	Result<void> r = rpmsg::sendto_timeout(*m_rpdev.ept(), keel::Span<const u8>(buf, len), dst,
					       SEND_TIMEOUT_NS);
	if (r.is_error())
		dev_warn_ratelimited(&m_rpdev, "console: reply %u to 0x%x failed: %d", id, dst,
				     r.error().to_errno());
}

void ConsoleService::execute(const ConsoleCmd &c)
{
	char out[CONSOLE_TEXT_MAX + 1];
	const char *arg;
	s64 up = keel::ktime_get_ns() - g_ctx->boot_ns;
	if (is_cmd(c.text, "help", &arg)) {
		keel::snprintf(out, sizeof(out), "commands: help version uptime stats panic <why>");
	} else if (is_cmd(c.text, "version", &arg)) {
		keel::snprintf(out, sizeof(out),
			       "keel-sim firmware: rpmsg remote, services %s %s %s", ECHO_SERVICE,
			       SENSOR_SERVICE, CONSOLE_SERVICE);
	} else if (is_cmd(c.text, "uptime", &arg)) {
		keel::snprintf(out, sizeof(out), "pid %d up %lld.%03lld s session %u",
			       int(getpid()), (long long)(up / keel::NSEC_PER_SEC),
			       (long long)(up % keel::NSEC_PER_SEC / keel::NSEC_PER_MSEC),
			       fw_sessions());
	} else if (is_cmd(c.text, "stats", &arg)) {
		auto *echo =
			g_ctx->echo ? g_ctx->echo->drvdata<rpmsg_sample::RpmsgEcho>() : nullptr;
		keel::snprintf(out, sizeof(out),
			       "echoed %llu, samples %llu in %llu streams, commands %llu, bad %llu",
			       (unsigned long long)(echo ? echo->echoed() : 0),
			       (unsigned long long)g_ctx->sensor_samples.load(),
			       (unsigned long long)g_ctx->sensor_streams.load(),
			       (unsigned long long)g_ctx->console_cmds.load(),
			       (unsigned long long)g_ctx->bad_msgs.load());
	} else if (is_cmd(c.text, "panic", &arg)) {
		keel::snprintf(out, sizeof(out), "panic: %s", *arg ? arg : "requested");
		reply(CONSOLE_LOG, 0, c.src, out);
		/* The remote's own crash report: the host recovers it (this does not return). */
		g_ctx->fw->report_fatal(out);
	} else {
		keel::snprintf(out, sizeof(out), "unknown command '%s' (try help)", c.text);
	}
	reply(CONSOLE_REPLY, c.id, c.src, out);
}

} // namespace sim::fw

using sim::fw::ConsoleService;
module_rpmsg_driver(ConsoleService, "sim_console");
