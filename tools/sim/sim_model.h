/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the simulator's engine tells its views: the run's configuration,
 * events as they happen, snapshots of the counters, and the report at the
 * end (recovery timelines, totals, checks). Plain data: the engine
 * (engine/) fills it, the views (views/) print it, and neither knows how
 * the other works.
 *
 * Times are ktime_get_ns() values (CLOCK_MONOTONIC, the same clock in the
 * host and the firmware process); views print them relative to
 * Snapshot.t0_ns, the start of the run.
 */
#ifndef TOOLS_SIM_SIM_MODEL_H
#define TOOLS_SIM_SIM_MODEL_H

#include <keel/device.h>
#include <keel/types.h>
#include <remoteproc/remoteproc.h>

#include "sim_proto.h"

namespace sim {

using keel::Result;

/*
 * What the simulator does to the remote (or to the host): X(enumerator,
 * its fault_name(), its fault_text()).
 */
#define SIM_FAULT_KINDS(X)                                                                         \
	/* SIGKILL the firmware process: the host sees it gone (pidfd) */                          \
	X(Kill, "kill", "firmware killed (SIGKILL)")                                               \
	/* "panic" on the remote's console: it reports a fatal error */                            \
	X(Panic, "panic", "firmware panics (its own fatal-error report)")                          \
	/* the firmware stops serving and beating: the watchdog fires */                           \
	X(Hang, "hang", "firmware hangs (no heartbeat, no service)")                               \
	/* the host's rpmsg stack detaches and reloads; the remote lives */                        \
	X(HostRestart, "host-restart", "host restarts, the remote lives")

#define SIM_ENUMERATOR(e, ...) e,
#define SIM_PLUS_ONE(...) +1
enum class FaultKind : u8 { SIM_FAULT_KINDS(SIM_ENUMERATOR) };
inline constexpr u32 NR_FAULT_KINDS = 0 SIM_FAULT_KINDS(SIM_PLUS_ONE);
/* "kill", "panic", "hang", "host-restart". */
const char *fault_name(FaultKind kind);
/* A line for people: "firmware killed (SIGKILL)". */
const char *fault_text(FaultKind kind);

/**
 * struct SimConfig - one run
 * @firmware: the firmware executable
 * @crashes: remote crashes to cause (kinds in turn: kill, panic, hang)
 * @host_restarts: host restarts with the remote alive (after half the crashes)
 * @duration_ns: the run's length; faults are spread over it
 * @echo_rate: echo messages per second, all senders together (0: as fast
 *	as the link goes)
 * @senders: echo senders (threads, each with an endpoint of its own)
 * @echo_size: largest echo payload (bytes; clamped to the MTU)
 * @window: echoes a sender may wait for at once
 * @sensor_hz: the sensor's sample rate
 * @console_ms: the console client sends a command this often
 * @heartbeat_ms: the firmware's heartbeat period
 * @watchdog_ms: a missed heartbeat for this long is a watchdog crash
 * @autosuspend_ms: runtime PM: the idle remote sleeps after this (< 0: off)
 * @idle_ms: an idle phase this long (traffic paused, the remote may sleep;
 *	0: none)
 * @settle_timeout_ns: how long a recovery (or a host restart) may take
 *	before the run counts it failed
 */
struct SimConfig {
	const char *firmware = nullptr;
	u32 crashes = 3;
	u32 host_restarts = 1;
	s64 duration_ns = 12 * keel::NSEC_PER_SEC;
	u32 echo_rate = 4000;
	u32 senders = 4;
	u32 echo_size = 256;
	u32 window = 128;
	u32 sensor_hz = 1000;
	u32 console_ms = 100;
	u32 heartbeat_ms = 20;
	u32 watchdog_ms = 500;
	int autosuspend_ms = 250;
	u32 idle_ms = 1200;
	s64 settle_timeout_ns = 10 * keel::NSEC_PER_SEC;
};

/* --- events --- */

/* What happened: X(enumerator, its ev_name()). */
#define SIM_EV_TYPES(X)                                                                            \
	/* the run's script moved on (@text) */                                                    \
	X(Phase, "phase")                                                                          \
	/* a fault was caused (@fault, @text) */                                                   \
	X(Inject, "inject")                                                                        \
	/* the remoteproc core's observer (@rp) */                                                 \
	X(Rproc, "rproc")                                                                          \
	/* a service was announced: its channel device exists */                                   \
	X(ChannelAdded, "channel_added")                                                           \
	/* its channel device went */                                                              \
	X(ChannelRemoved, "channel_removed")                                                       \
	/* a client driver bound to the channel */                                                 \
	X(DriverProbed, "driver_probed")                                                           \
	/* its remove ran (@value: messages it lost in flight) */                                  \
	X(DriverRemoved, "driver_removed")                                                         \
	/* the first failed send of a sender after a crash (@err, @value: unblock ns) */           \
	X(SendFailed, "send_failed")                                                               \
	/* a line the remote printed on its console (@text) */                                     \
	X(ConsoleLog, "console_log")                                                               \
	/* the remote's runtime-PM state changed (@text: "suspended") */                           \
	X(Pm, "pm")                                                                                \
	/* a check of the run failed (@text) */                                                    \
	X(Check, "check_failed")

enum class EvType : u8 { SIM_EV_TYPES(SIM_ENUMERATOR) };
inline constexpr u32 NR_EV_TYPES = 0 SIM_EV_TYPES(SIM_PLUS_ONE);
const char *ev_name(EvType type);

/* No service (an event about the remote, not a channel). */
inline constexpr u8 NO_CHANNEL = 0xff;

struct SimEvent {
	s64 t_ns = 0;
	EvType type = EvType::Phase;
	u8 channel = NO_CHANNEL;
	FaultKind fault = FaultKind::Kill;
	/* EvType::Rproc: the core's event (its message is copied into @text). */
	rproc::RprocEvent rp = {};
	int err = 0;
	s64 value = 0;
	char text[96] = {};
};

/* "-EPIPE" for -EPIPE, and the other errors a run meets; "error" for the rest. */
const char *errno_name(int e);
/* The service's channel name of index @ch, or "-". */
const char *channel_name(u8 ch);
/*
 * describe() - one line for people: "crash reported: watchdog",
 * "sim-echo: driver probed"
 * @ev: the event
 * @buf: filled, NUL-terminated
 * @size: its size
 */
void describe(const SimEvent &ev, char *buf, size_t size);

/* --- snapshots --- */

/*
 * The counters of a service's channel that a snapshot copies as they are
 * (the client drivers keep them live in ChannelStats): X(type, name).
 */
#define SIM_CHANNEL_COUNTERS(X)                                                                    \
	X(u64, probes)                                                                             \
	X(u64, removes)                                                                            \
	/* messages the host sent (echo: payloads; sensor, console: commands) */                   \
	X(u64, sent)                                                                               \
	/* messages checked good on arrival */                                                     \
	X(u64, received)                                                                           \
	/* sends that failed because the remote was gone (-EPIPE and kin) */                       \
	X(u64, failed_fast)                                                                        \
	/* sends that failed otherwise (a timeout): a failure of the run */                        \
	X(u64, failed_other)                                                                       \
	/* messages out of order, lost within a session, or corrupt */                             \
	X(u64, bad)                                                                                \
	/* sent, never answered: in flight when the remote went */                                 \
	X(u64, lost_in_crash)                                                                      \
	/* sensor: samples of a stream that had ended */                                           \
	X(u64, stale)                                                                              \
	/* sends in progress when a crash was detected */                                          \
	X(u64, blocked)                                                                            \
	/* the longest a failing send took after the crash's detection */                          \
	X(s64, worst_unblock_ns)                                                                   \
	/* sensor: sample age on arrival, worst */                                                 \
	X(s64, latency_max_ns)

#define SIM_COUNTER_FIELD(type, name) type name;

/* Counters of one service's channel, summed over every probe. */
struct ChannelSnap {
	bool bound;
	SIM_CHANNEL_COUNTERS(SIM_COUNTER_FIELD)
	s64 latency_avg_ns;
	char last[80]; /* console: the last reply or log line */
};

struct Snapshot {
	s64 t0_ns;
	s64 now_ns;
	rproc::RprocState state;
	rproc::RprocStats rstats;
	int pid; /* the firmware process, 0 when none */
	keel::RpmStatus pm;
	int pm_usage;
	bool pm_enabled;
	bool traffic;
	u32 faults_done;
	u32 faults_total;
	char phase[64];
	ChannelSnap ch[NR_SERVICES];
};

/* --- the report --- */

/*
 * One fault and what followed: each step's time (0: it did not happen).
 * For a crash: the remoteproc core's events and the channels'; for a host
 * restart: the detach, the reload and the re-attach.
 */
struct RecoveryRecord {
	u32 index;
	FaultKind kind;
	rproc::CrashReason reason;
	s64 t_inject;
	s64 t_detected;	 /* CrashReported (crash), or the detach started (host restart) */
	s64 t_removed;	 /* DevicesRemoved: every client driver's remove has run */
	s64 t_stopped;	 /* RemoteStopped */
	s64 t_reset;	 /* RegionReset */
	s64 t_host_down; /* host restart: the host's rpmsg stack unloaded */
	s64 t_host_up;	 /* host restart: loaded again */
	s64 t_started;	 /* RemoteStarted (a restart, or the adoption of the live remote) */
	s64 t_added;	 /* DevicesAdded */
	s64 t_announced; /* the last service announced again */
	s64 t_probed;	 /* the last client driver probed again */
	s64 t_done;	 /* RecoveryDone (crash) or t_probed (host restart) */
	s64 core_ns;	 /* the core's own measure (RecoveryDone.duration_ns) */
	u32 announced;
	u32 probed;
	u32 failed_attempts; /* RecoveryFailed events */
	u32 extra_crashes;   /* crashes reported again while it recovered */
	u32 blocked_senders; /* senders in a send when the crash was detected */
	s64 worst_unblock_ns;
	bool traffic_after; /* every channel carried messages after it */
	bool ok;
	/* Host restart: the remote lived through it (same pid, a new session). */
	int pid_before;
	int pid_after;
	u32 session_before;
	u32 session_after;

	/* The timeline's zero: the detection, or the fault when it went unseen. */
	s64 t_ref() const { return t_detected ? t_detected : t_inject; }
};

struct Check {
	const char *name;
	bool ok;
	char detail[120];
};

inline constexpr u32 MAX_FAULTS = 64;
inline constexpr u32 MAX_CHECKS = 24;

struct Report {
	s64 t0_ns;
	s64 t_end_ns;
	u32 nr_records;
	RecoveryRecord records[MAX_FAULTS];
	Snapshot last; /* the counters after the traffic stopped */
	u64 sent;
	u64 received;
	u64 failed_fast;
	u64 failed_other;
	u64 bad;
	u64 lost_in_crash;
	s64 worst_unblock_ns;
	u64 probes;	/* client driver probes, all channels, after teardown */
	u64 removes;	/* ... and removes: equal when every probe was undone */
	u32 crashes;	/* crashes caused */
	u32 recoveries; /* of them, recovered (every channel back) */
	u32 host_restarts;
	u32 reattached;
	long live_allocs; /* framework allocations left after teardown (-1: not counted) */
	u64 warnings;	  /* framework warnings (WARN_ON, context errors) */
	u64 events_dropped;
	int fw_exit_status; /* of the last firmware process (waitpid status) */
	u32 nr_checks;
	Check checks[MAX_CHECKS];
	bool pass;
};

} // namespace sim

#endif
