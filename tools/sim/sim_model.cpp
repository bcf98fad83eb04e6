// SPDX-License-Identifier: GPL-2.0
/*
 * Names and one-line descriptions of the simulator's model (sim_model.h):
 * the one place where an event becomes words, for every view.
 */
#include <keel/string.h>

#include "sim_model.h"

namespace sim {

const char *fault_name(FaultKind kind)
{
	switch (kind) {
	case FaultKind::Kill:
		return "kill";
	case FaultKind::Panic:
		return "panic";
	case FaultKind::Hang:
		return "hang";
	case FaultKind::HostRestart:
		return "host-restart";
	}
	return "?";
}

const char *fault_text(FaultKind kind)
{
	switch (kind) {
	case FaultKind::Kill:
		return "firmware killed (SIGKILL)";
	case FaultKind::Panic:
		return "firmware panics (its own fatal-error report)";
	case FaultKind::Hang:
		return "firmware hangs (no heartbeat, no service)";
	case FaultKind::HostRestart:
		return "host restarts, the remote lives";
	}
	return "?";
}

const char *ev_name(EvType type)
{
	switch (type) {
	case EvType::Phase:
		return "phase";
	case EvType::Inject:
		return "inject";
	case EvType::Rproc:
		return "rproc";
	case EvType::ChannelAdded:
		return "channel_added";
	case EvType::ChannelRemoved:
		return "channel_removed";
	case EvType::DriverProbed:
		return "driver_probed";
	case EvType::DriverRemoved:
		return "driver_removed";
	case EvType::SendFailed:
		return "send_failed";
	case EvType::ConsoleLog:
		return "console_log";
	case EvType::Pm:
		return "pm";
	case EvType::Check:
		return "check_failed";
	}
	return "?";
}

const char *channel_name(u8 ch)
{
	static const char *const names[NR_SERVICES] = { ECHO_SERVICE, SENSOR_SERVICE,
							CONSOLE_SERVICE };
	return ch < NR_SERVICES ? names[ch] : "-";
}

const char *errno_name(int e)
{
	switch (e) {
	case -EPIPE:
		return "-EPIPE";
	case -ESHUTDOWN:
		return "-ESHUTDOWN";
	case -ENOTCONN:
		return "-ENOTCONN";
	case -ENODEV:
		return "-ENODEV";
	case -ETIMEDOUT:
		return "-ETIMEDOUT";
	case -ENOMEM:
		return "-ENOMEM";
	case -EINVAL:
		return "-EINVAL";
	case -EIO:
		return "-EIO";
	case -EBUSY:
		return "-EBUSY";
	case -ERESTARTSYS:
		return "-ERESTARTSYS";
	}
	return "error";
}

namespace {

void describe_rproc(const SimEvent &ev, char *buf, size_t size)
{
	const rproc::RprocEvent &rp = ev.rp;
	switch (rp.type) {
	case rproc::RprocEventType::StateChanged:
		keel::snprintf(buf, size, "remote state: %s", rproc::state_name(rp.state));
		return;
	case rproc::RprocEventType::CrashReported:
		keel::snprintf(buf, size, "crash detected: %s%s%s",
			       rproc::crash_reason_name(rp.reason), ev.text[0] ? ": " : "",
			       ev.text);
		return;
	case rproc::RprocEventType::DevicesRemoved:
		keel::snprintf(buf, size, "devices removed (client drivers' remove ran)");
		return;
	case rproc::RprocEventType::RemoteStopped:
		keel::snprintf(buf, size, "remote stopped");
		return;
	case rproc::RprocEventType::RegionReset:
		keel::snprintf(buf, size, "shared region reset");
		return;
	case rproc::RprocEventType::RemoteStarted:
		keel::snprintf(buf, size, "remote started");
		return;
	case rproc::RprocEventType::DevicesAdded:
		keel::snprintf(buf, size, "devices added: services are announced");
		return;
	case rproc::RprocEventType::RecoveryDone:
		keel::snprintf(buf, size, "recovery %llu done in %.1f ms",
			       (unsigned long long)rp.recovery, double(rp.duration_ns) / 1e6);
		return;
	case rproc::RprocEventType::RecoveryFailed:
		keel::snprintf(buf, size, "recovery attempt failed: %s (%d)", errno_name(rp.error),
			       rp.error);
		return;
	}
	keel::snprintf(buf, size, "remoteproc event %u", unsigned(rp.type));
}

} // namespace

void describe(const SimEvent &ev, char *buf, size_t size)
{
	const char *ch = channel_name(ev.channel);
	switch (ev.type) {
	case EvType::Phase:
	case EvType::Pm:
		keel::snprintf(buf, size, "%s", ev.text);
		return;
	case EvType::Inject:
		keel::snprintf(buf, size, "FAULT: %s", ev.text);
		return;
	case EvType::Rproc:
		describe_rproc(ev, buf, size);
		return;
	case EvType::ChannelAdded:
		keel::snprintf(buf, size, "%s: service announced, channel created", ev.text);
		return;
	case EvType::ChannelRemoved:
		keel::snprintf(buf, size, "%s: channel removed", ev.text);
		return;
	case EvType::DriverProbed:
		keel::snprintf(buf, size, "%s: client driver probed", ch);
		return;
	case EvType::DriverRemoved:
		if (ev.value)
			keel::snprintf(buf, size, "%s: client driver removed (%lld in flight lost)",
				       ch, (long long)ev.value);
		else
			keel::snprintf(buf, size, "%s: client driver removed", ch);
		return;
	case EvType::SendFailed:
		if (ev.value >= 0)
			keel::snprintf(buf, size,
				       "%s: a send failed fast with %s, %.3f ms after the crash's "
				       "detection (%s)",
				       ch, errno_name(ev.err), double(ev.value) / 1e6, ev.text);
		else
			keel::snprintf(buf, size, "%s: a send failed with %s (%s)", ch,
				       errno_name(ev.err), ev.text);
		return;
	case EvType::ConsoleLog:
		keel::snprintf(buf, size, "remote console: %s", ev.text);
		return;
	case EvType::Check:
		keel::snprintf(buf, size, "CHECK FAILED: %s", ev.text);
		return;
	}
	keel::snprintf(buf, size, "event %u", unsigned(ev.type));
}

} // namespace sim
