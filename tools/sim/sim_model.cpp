// SPDX-License-Identifier: GPL-2.0
/*
 * Names and one-line descriptions of the simulator's model (sim_model.h):
 * the one place where an event becomes words, for every view.
 */
#include <keel/string.h>

#include "sim_model.h"

namespace sim {

#define SIM_SECOND(e, second, ...) second,
#define SIM_THIRD(e, second, third) third,

const char *fault_name(FaultKind kind)
{
	static const char *const names[] = { SIM_FAULT_KINDS(SIM_SECOND) };
	return u32(kind) < NR_FAULT_KINDS ? names[u32(kind)] : "?";
}

const char *fault_text(FaultKind kind)
{
	static const char *const texts[] = { SIM_FAULT_KINDS(SIM_THIRD) };
	return u32(kind) < NR_FAULT_KINDS ? texts[u32(kind)] : "?";
}

const char *ev_name(EvType type)
{
	static const char *const names[] = { SIM_EV_TYPES(SIM_SECOND) };
	return u32(type) < NR_EV_TYPES ? names[u32(type)] : "?";
}

const char *channel_name(u8 ch)
{
	static const char *const names[NR_SERVICES] = { ECHO_SERVICE, SENSOR_SERVICE,
							CONSOLE_SERVICE };
	return ch < NR_SERVICES ? names[ch] : "-";
}

namespace {

struct ErrnoName {
	int err;
	const char *name;
};
#define ERRNO_NAME(e) ErrnoName({ -e, "-" #e })

} // namespace

const char *errno_name(int e)
{
	static const ErrnoName names[] = {
		ERRNO_NAME(EPIPE),	 ERRNO_NAME(ESHUTDOWN), ERRNO_NAME(ENOTCONN),
		ERRNO_NAME(ENODEV),	 ERRNO_NAME(ETIMEDOUT), ERRNO_NAME(ENOMEM),
		ERRNO_NAME(EINVAL),	 ERRNO_NAME(EIO),	ERRNO_NAME(EBUSY),
		ERRNO_NAME(ERESTARTSYS),
	};
	for (const auto &n : names)
		if (n.err == e)
			return n.name;
	return "error";
}

namespace {

template <typename E> struct FixedLine {
	E type;
	const char *text;
};

/* The remoteproc core's events that carry nothing but their type. */
constexpr FixedLine<rproc::RprocEventType> RPROC_LINES[] = {
	{ rproc::RprocEventType::DevicesRemoved, "devices removed (client drivers' remove ran)" },
	{ rproc::RprocEventType::RemoteStopped, "remote stopped" },
	{ rproc::RprocEventType::RegionReset, "shared region reset" },
	{ rproc::RprocEventType::RemoteStarted, "remote started" },
	{ rproc::RprocEventType::DevicesAdded, "devices added: services are announced" },
};

/* The events told by their text after a fixed lead-in. */
constexpr FixedLine<EvType> TEXT_LEADS[] = {
	{ EvType::Phase, "" },
	{ EvType::Pm, "" },
	{ EvType::Inject, "FAULT: " },
	{ EvType::ConsoleLog, "remote console: " },
	{ EvType::Check, "CHECK FAILED: " },
};

/* The entry of @table for @type, or nullptr. */
template <typename E, size_t N> const char *fixed_line(const FixedLine<E> (&table)[N], E type)
{
	for (const FixedLine<E> &l : table)
		if (l.type == type)
			return l.text;
	return nullptr;
}

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
	case rproc::RprocEventType::RecoveryDone:
		keel::snprintf(buf, size, "recovery %llu done in %.1f ms",
			       (unsigned long long)rp.recovery, double(rp.duration_ns) / 1e6);
		return;
	case rproc::RprocEventType::RecoveryFailed:
		keel::snprintf(buf, size, "recovery attempt failed: %s (%d)", errno_name(rp.error),
			       rp.error);
		return;
	default:
		break;
	}
	if (const char *text = fixed_line(RPROC_LINES, rp.type))
		keel::snprintf(buf, size, "%s", text);
	else
		keel::snprintf(buf, size, "remoteproc event %u", unsigned(rp.type));
}

} // namespace

void describe(const SimEvent &ev, char *buf, size_t size)
{
	const char *ch = channel_name(ev.channel);
	switch (ev.type) {
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
	default:
		break;
	}
	if (const char *lead = fixed_line(TEXT_LEADS, ev.type))
		keel::snprintf(buf, size, "%s%s", lead, ev.text);
	else
		keel::snprintf(buf, size, "event %u", unsigned(ev.type));
}

} // namespace sim
