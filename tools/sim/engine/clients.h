/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host's client drivers of the simulator: one rpmsg driver per service
 * of the firmware, bound by the channel name the remote announces, each
 * driving traffic of its own kind and checking every message it gets back.
 *
 *	sim-echo     EchoClient: senders (a thread and an endpoint each) send
 *	             numbered payloads, each echo is checked in order
 *	sim-sensor   SensorClient: starts the stream, changes its rate, checks
 *	             every sample's number and value
 *	sim-console  ConsoleClient: sends commands, waits for each answer
 *
 * They are ordinary client drivers, and show what one must do on remove
 * (Documentation/remoteproc.rst): stop its producers (a sender blocked in
 * a send on a crashed remote is back with -EPIPE at once), destroy the
 * endpoints it created, and account for what was in flight. Counters go
 * to ChannelStats, which outlive the drivers (a channel is probed again
 * after each recovery); events go to the engine's queue.
 *
 * The engine and the drivers meet in ClientEnv (one per run, reached
 * through a global because drivers are constinit objects).
 */
#ifndef TOOLS_SIM_ENGINE_CLIENTS_H
#define TOOLS_SIM_ENGINE_CLIENTS_H

#include <keel/atomic.h>
#include <keel/spinlock.h>
#include <rpmsg/rpmsg.h>
#include <rpmsg/virtio_rpmsg.h>

#include "../sim_model.h"
#include "event_queue.h"

namespace sim {

#define SIM_LIVE_COUNTER(type, name) keel::Atomic<type> name{ 0 };

/* Counters of one service's channel; updated from any context. */
struct ChannelStats : keel::NonMovable {
	keel::Atomic<u32> bound{ 0 };
	/* Those of ChannelSnap (sim_model.h). */
	SIM_CHANNEL_COUNTERS(SIM_LIVE_COUNTER)
	/* Sent and not answered yet (echo), for draining before a planned stop. */
	keel::Atomic<s64> inflight{ 0 };
	keel::Atomic<u64> latency_sum_ns{ 0 };
	keel::Atomic<u64> latency_n{ 0 };

	void note_max(keel::Atomic<s64> &m, s64 v);
	void set_last(const char *text);
	void snap(ChannelSnap *out) const;

private:
	mutable keel::SpinLock m_lock{ "sim_channel_stats", KEEL_LOCK_KEY() };
	char m_last[sizeof(ChannelSnap::last)] GUARDED_BY(m_lock) = {};
};

class ConsoleClient;

/*
 * ClientEnv - what the client drivers share with the engine: the load,
 * the traffic switch, the counters, the event queue and the remote's
 * crash clock.
 */
class ClientEnv : keel::NonMovable {
public:
	ClientEnv(const SimConfig &cfg, EventQueue &events) : m_cfg(cfg), m_events(events) {}

	const SimConfig &cfg() const { return m_cfg; }
	ChannelStats &stats(u8 ch) { return m_stats[ch]; }
	/* Context: any. */
	void emit(EvType type, u8 ch, int err = 0, s64 value = 0, const char *text = nullptr);

	/* Traffic on or paused (the drivers' producers follow). Context: any. */
	bool traffic() const { return m_traffic.load(); }
	void set_traffic(bool on) { m_traffic.store(on); }

	/* The remote processor whose crashes the drivers account for. */
	void set_rproc(rproc::Rproc *rp) { m_rproc.store(rp); }
	/* Crashes so far, and when the last was detected (0: none). Context: any. */
	u64 crashes() const;
	s64 last_crash_ns() const;

	/*
	 * console_command() - send a command line through the bound console client
	 * Context: may sleep. Return: 0; -ENODEV when no console is bound;
	 * the send's error.
	 */
	Result<void> console_command(const char *line);
	/* The firmware's pid and host session, from the last "uptime" answer (0: none). */
	int remote_pid() const { return m_pid.load(); }
	u32 remote_session() const { return m_session.load(); }
	/* When that answer arrived. */
	s64 uptime_ns() const { return m_uptime_ns.load(); }

private:
	friend class ConsoleClient;
	const SimConfig &m_cfg;
	EventQueue &m_events;
	ChannelStats m_stats[NR_SERVICES];
	keel::Atomic<bool> m_traffic{ false };
	keel::Atomic<rproc::Rproc *> m_rproc{ nullptr };
	keel::Mutex m_console_lock{ "sim_console_client", KEEL_LOCK_KEY() };
	ConsoleClient *m_console GUARDED_BY(m_console_lock) = nullptr;
	keel::Atomic<int> m_pid{ 0 };
	keel::Atomic<u32> m_session{ 0 };
	keel::Atomic<s64> m_uptime_ns{ 0 };
};

/* The run's environment; set by the engine while its drivers are registered. */
extern keel::Atomic<ClientEnv *> g_client_env;

/*
 * register_clients() - register the three client drivers (they bind to the
 * channels present and to every one announced later)
 * Context: may sleep. Return: 0, or the first error (none left registered).
 */
Result<void> register_clients();
/* Unregister them: every bound driver's remove runs. Context: may sleep. */
void unregister_clients();

/* Sends that fail because the remote is gone, not because of the sender. */
constexpr bool remote_gone_error(int e)
{
	return e == -EPIPE || e == -ESHUTDOWN || e == -ENOTCONN || e == -ENODEV;
}

} // namespace sim

#endif
