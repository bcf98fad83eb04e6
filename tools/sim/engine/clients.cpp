// SPDX-License-Identifier: GPL-2.0
/*
 * The simulator's client drivers (see clients.h).
 */
#include <keel/log.h>
#include <keel/string.h>
#include <keel/thread.h>
#include <keel/time.h>
#include <keel/wait.h>

#include "clients.h"

#include <stdio.h>

namespace sim {

using keel::Guard;
using keel::MemoryOrder;
using keel::Result;
using keel::UniquePtr;
using rpmsg::RpmsgDevice;
using rpmsg::RpmsgEndpoint;

constinit keel::Atomic<ClientEnv *> g_client_env{ nullptr };

namespace {

constexpr u8 ECHO = 0;
constexpr u8 SENSOR = 1;
constexpr u8 CONSOLE = 2;
/* The longest a producer sleeps before it looks at its stop flag again. */
constexpr s64 POLL_NS = 20 * keel::NSEC_PER_MSEC;
constexpr u32 MAX_SENDERS = 16;

ClientEnv &env()
{
	return *g_client_env.load();
}

/*
 * A failed send, accounted: either the remote being gone (counted fast,
 * with how long the send took after the crash's detection) or a failure
 * of the run. Return: that time in ns, or -1 when it was not the remote.
 */
s64 account_failure(ChannelStats &st, int e, s64 t_call, s64 t_ret)
{
	if (!remote_gone_error(e)) {
		st.failed_other.fetch_add(1);
		return -1;
	}
	st.failed_fast.fetch_add(1);
	s64 crash = env().last_crash_ns();
	if (crash <= 0)
		return -1;
	if (t_call < crash)
		st.blocked.fetch_add(1);
	s64 unblock = t_ret - (t_call > crash ? t_call : crash);
	if (unblock < 0)
		unblock = 0;
	st.note_max(st.worst_unblock_ns, unblock);
	return unblock;
}

/*
 * A command of channel @ch's client thread: counted as sent, or its
 * failure accounted. Context: may sleep (waits for a buffer).
 */
Result<void> send_counted(u8 ch, rpmsg::RpmsgEndpoint &ept, keel::Span<const u8> data)
{
	ChannelStats &st = env().stats(ch);
	s64 t_call = keel::ktime_get_ns();
	Result<void> r = rpmsg::send(ept, data);
	if (r.is_error())
		(void)account_failure(st, r.error().to_errno(), t_call, keel::ktime_get_ns());
	else
		st.sent.fetch_add(1);
	return r;
}

/* Every probe that succeeded is matched by one remove: counted here, and told. */
void note_probe(u8 ch)
{
	ChannelStats &st = env().stats(ch);
	st.probes.fetch_add(1);
	st.bound.store(1);
	env().emit(EvType::DriverProbed, ch);
}

void note_remove(u8 ch, s64 lost = 0)
{
	ChannelStats &st = env().stats(ch);
	st.removes.fetch_add(1);
	st.bound.store(0);
	env().emit(EvType::DriverRemoved, ch, 0, lost);
}

} // namespace

/* --- ChannelStats, ClientEnv --- */

void ChannelStats::note_max(keel::Atomic<s64> &m, s64 v)
{
	s64 cur = m.load(MemoryOrder::Relaxed);
	while (v > cur && !m.compare_exchange(cur, v, MemoryOrder::Relaxed)) {
	}
}

void ChannelStats::set_last(const char *text)
{
	Guard g{ m_lock };
	(void)keel::strscpy(m_last, text, sizeof(m_last));
}

void ChannelStats::snap(ChannelSnap *o) const
{
#define COPY(type, name) o->name = name.load();
	o->bound = bound.load() != 0;
	SIM_CHANNEL_COUNTERS(COPY)
#undef COPY
	u64 n = latency_n.load();
	o->latency_avg_ns = n ? s64(latency_sum_ns.load() / n) : 0;
	Guard g{ m_lock };
	memcpy(o->last, m_last, sizeof(o->last));
}

void ClientEnv::emit(EvType type, u8 ch, int err, s64 value, const char *text)
{
	SimEvent ev;
	ev.t_ns = keel::ktime_get_ns();
	ev.type = type;
	ev.channel = ch;
	ev.err = err;
	ev.value = value;
	if (text)
		(void)keel::strscpy(ev.text, text, sizeof(ev.text));
	m_events.push(ev);
}

u64 ClientEnv::crashes() const
{
	rproc::Rproc *rp = m_rproc.load();
	return rp ? rp->stats().crashes : 0;
}

s64 ClientEnv::last_crash_ns() const
{
	rproc::Rproc *rp = m_rproc.load();
	return rp ? rp->stats().last_crash_ns : 0;
}

/* --- sim-echo --- */

class EchoClient : keel::NonMovable {
public:
	static constexpr rpmsg::RpmsgDeviceId id_table[] = { { "sim-echo" }, {} };
	static Result<UniquePtr<EchoClient>> probe(RpmsgDevice &rpdev);
	void remove(RpmsgDevice &rpdev);

	explicit EchoClient(RpmsgDevice &rpdev) : m_rpdev(rpdev) {}

private:
	struct Sender : keel::NonMovable {
		EchoClient *owner = nullptr;
		u32 id = 0;
		keel::RefPtr<RpmsgEndpoint> ept;
		keel::Thread *thread = nullptr;
		/* Sent: the next sequence number; received: the next one expected back. */
		keel::Atomic<u32> sent{ 0 };
		keel::Atomic<u32> received{ 0 };
		keel::Atomic<bool> waiting{ false };
		keel::WaitQueue wq{ "sim_echo_sender", KEEL_LOCK_KEY() };
	};
	static Result<void> rx(RpmsgEndpoint &ept, keel::Span<const u8> data, u32 src, void *priv);
	static int sender_main(void *arg);
	u64 teardown();
	void run(Sender &s);
	bool wait_for(Sender &s, s64 timeout_ns, bool (*cond)(Sender &s));

	RpmsgDevice &m_rpdev;
	u32 m_size = 0;
	u32 m_nsenders = 0;
	u64 m_crashes_at_probe = 0;
	keel::Atomic<bool> m_reported{ false };
	Sender m_senders[MAX_SENDERS];
};

Result<UniquePtr<EchoClient>> EchoClient::probe(RpmsgDevice &rpdev)
{
	const SimConfig &cfg = env().cfg();
	auto c = TRY(keel::make_unique<EchoClient>(GFP_KERNEL, rpdev));
	u32 mtu = TRY(rpmsg::get_mtu(*rpdev.ept()));
	c->m_size = keel::min(keel::max(cfg.echo_size, u32(sizeof(EchoHdr))), mtu);
	c->m_nsenders = keel::clamp(cfg.senders, 1u, MAX_SENDERS);
	c->m_crashes_at_probe = env().crashes();
	/* Endpoints first, threads after: a failure leaves no thread to stop. */
	for (u32 i = 0; i < c->m_nsenders; i++) {
		Sender &s = c->m_senders[i];
		s.owner = c.get();
		s.id = i;
		rpmsg::RpmsgChannelInfo ci = {};
		ci.src = rpmsg::RPMSG_ADDR_ANY;
		ci.dst = rpdev.dst();
		auto e = rpmsg::create_ept(rpdev, &EchoClient::rx, &s, ci);
		if (e.is_error()) {
			(void)c->teardown();
			return e.error();
		}
		s.ept = e.release_value();
	}
	for (u32 i = 0; i < c->m_nsenders; i++) {
		auto t = keel::Thread::run(&EchoClient::sender_main, &c->m_senders[i], "sim-echo");
		if (t.is_error()) {
			(void)c->teardown();
			return t.error();
		}
		c->m_senders[i].thread = t.value();
	}
	note_probe(ECHO);
	return c;
}

/* Atomic context: the echo of the sender's next message, checked. */
Result<void> EchoClient::rx(RpmsgEndpoint &, keel::Span<const u8> data, u32, void *priv)
{
	Sender &s = *static_cast<Sender *>(priv);
	ChannelStats &st = env().stats(ECHO);
	EchoInfo info;
	u32 want = s.received.load(MemoryOrder::Relaxed);
	if (echo_parse(data, s.owner->m_size, &info) < 0 || info.sender != s.id ||
	    info.seq != want) {
		st.bad.fetch_add(1);
		pr_warn_ratelimited("sim-echo: sender %u: bad echo (%zu bytes), expected #%u", s.id,
				    data.size(), want);
	} else {
		st.received.fetch_add(1, MemoryOrder::Relaxed);
	}
	st.inflight.fetch_sub(1);
	s.received.store(want + 1);
	if (s.waiting.load())
		s.wq.wake_up();
	return keel::ok();
}

int EchoClient::sender_main(void *arg)
{
	Sender &s = *static_cast<Sender *>(arg);
	s.owner->run(s);
	return 0;
}

/* Sleep up to @timeout_ns or until @cond holds (the rx callback wakes us); false on stop. */
bool EchoClient::wait_for(Sender &s, s64 timeout_ns, bool (*cond)(Sender &s))
{
	s.waiting.store(true);
	(void)s.wq.wait_event_timeout([&] { return cond(s) || keel::Thread::should_stop(); },
				      timeout_ns);
	s.waiting.store(false);
	return !keel::Thread::should_stop();
}

void EchoClient::run(Sender &s)
{
	ClientEnv &e = env();
	ChannelStats &st = e.stats(ECHO);
	const SimConfig &cfg = e.cfg();
	u8 buf[rpmsg::RPMSG_BUF_SIZE * 8];
	/* Pacing: this sender's share of the rate, counted from when traffic (re)started. */
	s64 start = 0;
	u64 paced = 0;
	bool failed = false;
	while (!keel::Thread::should_stop()) {
		if (failed || !e.traffic()) {
			/* After a failure the channel is going away: wait for remove. */
			start = 0;
			(void)wait_for(s, POLL_NS, [](Sender &) { return false; });
			continue;
		}
		s64 now = keel::ktime_get_ns();
		if (!start) {
			start = now;
			paced = 0;
		}
		if (cfg.echo_rate) {
			u64 allowed =
				u64(now - start) * cfg.echo_rate / m_nsenders / keel::NSEC_PER_SEC;
			if (paced >= allowed) {
				(void)wait_for(s, keel::NSEC_PER_MSEC,
					       [](Sender &) { return false; });
				continue;
			}
		}
		if (s.sent.load() - s.received.load() >= cfg.window) {
			(void)wait_for(s, POLL_NS, [](Sender &x) {
				return x.sent.load() - x.received.load() < env().cfg().window;
			});
			continue;
		}
		u32 seq = s.sent.load();
		u32 len = echo_size(s.id, seq, m_size);
		if (len > sizeof(buf))
			return;
		echo_fill(keel::Span<u8>(buf, len), s.id, seq);
		/* Counted before it can be answered, so that a drained link reads 0. */
		st.inflight.fetch_add(1);
		s64 t_call = keel::ktime_get_ns();
		Result<void> r =
			rpmsg::sendto(*s.ept, keel::Span<const u8>(buf, len), m_rpdev.dst());
		s64 t_ret = keel::ktime_get_ns();
		if (r.is_error()) {
			st.inflight.fetch_sub(1);
			int err = r.error().to_errno();
			s64 unblock = account_failure(st, err, t_call, t_ret);
			failed = true;
			if (!m_reported.exchange(true)) {
				char text[48];
				keel::snprintf(text, sizeof(text), "in send() %.3f ms",
					       double(t_ret - t_call) / 1e6);
				e.emit(EvType::SendFailed, ECHO, err, unblock, text);
			}
			continue;
		}
		s.sent.store(seq + 1);
		paced++;
		st.sent.fetch_add(1, MemoryOrder::Relaxed);
	}
}

/* Stop the senders, destroy their endpoints. Return: echoes still awaited. */
u64 EchoClient::teardown()
{
	/* The core set the channel unbinding: a sender in a send returns now. */
	for (u32 i = 0; i < m_nsenders; i++)
		if (m_senders[i].thread)
			(void)m_senders[i].thread->stop();
	u64 lost = 0;
	for (u32 i = 0; i < m_nsenders; i++) {
		Sender &s = m_senders[i];
		if (!s.ept)
			continue;
		rpmsg::destroy_ept(*s.ept);
		s.ept = nullptr;
		lost += s.sent.load() - s.received.load();
	}
	return lost;
}

void EchoClient::remove(RpmsgDevice &)
{
	ChannelStats &st = env().stats(ECHO);
	u64 lost = teardown();
	st.inflight.fetch_sub(s64(lost));
	/* In flight when the remote went: lost with it. Without a crash: a failure. */
	if (env().crashes() != m_crashes_at_probe)
		st.lost_in_crash.fetch_add(lost);
	else
		st.bad.fetch_add(lost);
	note_remove(ECHO, s64(lost));
}

module_rpmsg_driver(EchoClient, "sim_echo_client");

/* --- clients with a thread --- */

/*
 * What the sensor and console clients share: the driver of channel
 * Client::CHANNEL (Client adds its id_table and on_message()), with a
 * thread of its own from probe to remove, named after the channel, that
 * runs Client::run() and sleeps on m_wq between its commands. Probe and
 * remove are counted here; Client hides the hooks below that it needs.
 */
template <typename Client> class ThreadClient : keel::NonMovable {
public:
	explicit ThreadClient(RpmsgDevice &rpdev) : m_rpdev(rpdev) {}

	/* The driver's probe: the client, its thread running. Context: may sleep. */
	static Result<UniquePtr<Client>> probe(RpmsgDevice &rpdev)
	{
		auto c = TRY(keel::make_unique<Client>(GFP_KERNEL, rpdev));
		c->m_thread = TRY(
			keel::Thread::run(&thread_main, c.get(), channel_name(Client::CHANNEL)));
		c->started();
		note_probe(Client::CHANNEL);
		return c;
	}

	/* The driver's remove: the thread stopped. Context: may sleep. */
	void remove(RpmsgDevice &)
	{
		Client &c = *static_cast<Client *>(this);
		c.stopping();
		(void)m_thread->stop();
		note_remove(Client::CHANNEL, c.stopped());
	}

protected:
	/* Hooks: once the thread runs; before it is stopped; once it stopped. */
	void started() {}
	void stopping() {}
	/* Return: the commands in flight that the remote took down with it. */
	s64 stopped() { return 0; }

	/* Sleep up to @timeout_ns, or until the thread is told to stop. */
	void idle(s64 timeout_ns)
	{
		(void)m_wq.wait_event_timeout([] { return keel::Thread::should_stop(); },
					      timeout_ns);
	}

	RpmsgDevice &m_rpdev;
	keel::Thread *m_thread = nullptr;
	keel::WaitQueue m_wq{ "sim_client_thread", KEEL_LOCK_KEY() };

private:
	static int thread_main(void *arg)
	{
		static_cast<Client *>(arg)->run();
		return 0;
	}
};

/* --- sim-sensor --- */

class SensorClient : public ThreadClient<SensorClient> {
public:
	static constexpr u8 CHANNEL = SENSOR;
	static constexpr rpmsg::RpmsgDeviceId id_table[] = { { "sim-sensor" }, {} };
	Result<void> on_message(RpmsgDevice &rpdev, keel::Span<const u8> data, u32 src);

	using ThreadClient::ThreadClient;

private:
	friend ThreadClient;
	void run();
	s64 stopped();
	bool command(u32 op, u32 arg);

	/* The receive callback's own (callbacks of one endpoint never overlap). */
	u32 m_stream = 0;
	u32 m_expect = 0;
};

Result<void> SensorClient::on_message(RpmsgDevice &, keel::Span<const u8> data, u32)
{
	ChannelStats &st = env().stats(SENSOR);
	SensorInfo m;
	if (sensor_parse(data, &m) < 0) {
		st.bad.fetch_add(1);
		pr_warn_ratelimited("sim-sensor: bad message (%zu bytes)", data.size());
		return keel::err(-EINVAL);
	}
	if (m.type == SENSOR_ACK) {
		if (m.seq == SENSOR_START) {
			m_stream = m.stream;
			m_expect = 0;
		}
		st.received.fetch_add(1);
		return keel::ok();
	}
	if (m.stream != m_stream) {
		/* A sample of a stream that ended (sent before our STOP arrived). */
		st.stale.fetch_add(1);
		return keel::ok();
	}
	if (m.seq != m_expect) {
		st.bad.fetch_add(1);
		pr_warn_ratelimited("sim-sensor: sample #%u, expected #%u", m.seq, m_expect);
	} else {
		st.received.fetch_add(1, MemoryOrder::Relaxed);
	}
	m_expect = m.seq + 1;
	s64 age = keel::ktime_get_ns() - s64(m.t_ns);
	if (age >= 0) {
		st.note_max(st.latency_max_ns, age);
		st.latency_sum_ns.fetch_add(u64(age), MemoryOrder::Relaxed);
		st.latency_n.fetch_add(1, MemoryOrder::Relaxed);
	}
	return keel::ok();
}

/* Process context. Return: sent; a failure is accounted. */
bool SensorClient::command(u32 op, u32 arg)
{
	SensorCmd c = { keel::cpu_to_le32(op), keel::cpu_to_le32(arg) };
	return send_counted(SENSOR, *m_rpdev.ept(),
			    keel::Span<const u8>(reinterpret_cast<const u8 *>(&c), sizeof(c)))
		.is_ok();
}

/*
 * Start the stream while traffic is on, stop it while paused, and change
 * its rate now and then (between the configured rate and half of it).
 */
void SensorClient::run()
{
	const SimConfig &cfg = env().cfg();
	constexpr s64 RATE_PERIOD_NS = 2 * keel::NSEC_PER_SEC;
	bool streaming = false;
	bool failed = false;
	bool half = false;
	s64 next_rate = 0;
	while (!keel::Thread::should_stop()) {
		if (!failed) {
			bool want = env().traffic();
			s64 now = keel::ktime_get_ns();
			if (want && !streaming) {
				failed = !command(SENSOR_START, cfg.sensor_hz);
				streaming = !failed;
				half = false;
				next_rate = now + RATE_PERIOD_NS;
			} else if (!want && streaming) {
				failed = !command(SENSOR_STOP, 0);
				streaming = false;
			} else if (streaming && now >= next_rate && cfg.sensor_hz >= 2) {
				half = !half;
				failed = !command(SENSOR_RATE,
						  half ? cfg.sensor_hz / 2 : cfg.sensor_hz);
				next_rate = now + RATE_PERIOD_NS;
			}
		}
		idle(POLL_NS);
	}
}

s64 SensorClient::stopped()
{
	/* Good manners on a live link; on a dead one it fails at once, which is fine. */
	SensorCmd c = { keel::cpu_to_le32(SENSOR_STOP), keel::cpu_to_le32(0) };
	(void)rpmsg::trysend(*m_rpdev.ept(),
			     keel::Span<const u8>(reinterpret_cast<const u8 *>(&c), sizeof(c)));
	return 0;
}

module_rpmsg_driver(SensorClient, "sim_sensor_client");

/* --- sim-console --- */

class ConsoleClient : public ThreadClient<ConsoleClient> {
public:
	static constexpr u8 CHANNEL = CONSOLE;
	static constexpr rpmsg::RpmsgDeviceId id_table[] = { { "sim-console" }, {} };
	Result<void> on_message(RpmsgDevice &rpdev, keel::Span<const u8> data, u32 src);

	explicit ConsoleClient(RpmsgDevice &rpdev)
	    : ThreadClient(rpdev), m_crashes_at_probe(env().crashes())
	{
	}
	/* Send @line as command @id. Context: may sleep. */
	Result<void> send_line(u32 id, const char *line);
	keel::Atomic<u32> m_next_id{ 0 };

private:
	friend ThreadClient;
	void run();
	void started();
	void stopping();
	s64 stopped();

	const u64 m_crashes_at_probe;
	keel::Atomic<u32> m_answered{ 0 };
	/* Commands of the thread sent and not answered (at most one). */
	keel::Atomic<u32> m_waiting{ 0 };
};

/* Commands from the engine (ClientEnv::console_command()) come through here from now. */
void ConsoleClient::started()
{
	ClientEnv &e = env();
	Guard g{ e.m_console_lock };
	e.m_console = this;
}

Result<void> ConsoleClient::send_line(u32 id, const char *line)
{
	u8 buf[sizeof(ConsoleHdr) + CONSOLE_TEXT_MAX];
	u32 len = console_msg(buf, CONSOLE_CMD, id, line);
	return send_counted(CONSOLE, *m_rpdev.ept(), keel::Span<const u8>(buf, len));
}

Result<void> ConsoleClient::on_message(RpmsgDevice &, keel::Span<const u8> data, u32)
{
	ClientEnv &e = env();
	ChannelStats &st = e.stats(CONSOLE);
	u32 kind, id;
	char text[CONSOLE_TEXT_MAX + 1];
	if (console_parse(data, &kind, &id, text) < 0 || kind == CONSOLE_CMD) {
		st.bad.fetch_add(1);
		pr_warn_ratelimited("sim-console: bad message (%zu bytes)", data.size());
		return keel::err(-EINVAL);
	}
	st.set_last(text);
	if (kind == CONSOLE_LOG) {
		st.received.fetch_add(1);
		e.emit(EvType::ConsoleLog, CONSOLE, 0, 0, text);
		return keel::ok();
	}
	int pid;
	unsigned int session;
	if (sscanf(text, "pid %d up %*s s session %u", &pid, &session) == 2) {
		e.m_pid.store(pid);
		e.m_session.store(session);
		e.m_uptime_ns.store(keel::ktime_get_ns());
	}
	/* Answers come in order: anything but the next one is a failure. */
	u32 want = m_answered.load() + 1;
	if (id == want) {
		st.received.fetch_add(1);
		m_answered.store(id);
	} else {
		st.bad.fetch_add(1);
		pr_warn_ratelimited("sim-console: answer %u, expected %u", id, want);
		if (id > want)
			m_answered.store(id);
	}
	m_wq.wake_up();
	return keel::ok();
}

/* A command every console_ms while traffic is on; each answer awaited (1 s at most). */
void ConsoleClient::run()
{
	static const char *const s_cmds[] = { "uptime", "stats", "version", "uptime", "help" };
	ClientEnv &e = env();
	ChannelStats &st = e.stats(CONSOLE);
	const s64 period = keel::ms_to_ns(e.cfg().console_ms);
	u32 n = 0;
	bool failed = false;
	while (!keel::Thread::should_stop()) {
		if (failed || !e.traffic()) {
			idle(POLL_NS);
			continue;
		}
		u32 id = m_next_id.add_return(1);
		if (send_line(id, s_cmds[n++ % (sizeof(s_cmds) / sizeof(s_cmds[0]))]).is_error()) {
			failed = true;
			continue;
		}
		m_waiting.store(1);
		s64 w = m_wq.wait_event_timeout(
			[&] { return m_answered.load() >= id || keel::Thread::should_stop(); },
			keel::NSEC_PER_SEC);
		if (m_answered.load() >= id)
			m_waiting.store(0);
		if (w == 0 && e.crashes() == m_crashes_at_probe && !keel::Thread::should_stop()) {
			/* Unanswered on a live remote: a failure (not a late answer). */
			st.bad.fetch_add(1);
			pr_warn("sim-console: command %u unanswered", id);
		}
		idle(period);
	}
}

void ConsoleClient::stopping()
{
	ClientEnv &e = env();
	Guard g{ e.m_console_lock };
	e.m_console = nullptr;
}

s64 ConsoleClient::stopped()
{
	ClientEnv &e = env();
	/* A command the remote took down with it. */
	u32 lost = m_waiting.load();
	if (lost && e.crashes() != m_crashes_at_probe)
		e.stats(CONSOLE).lost_in_crash.fetch_add(lost);
	return lost;
}

module_rpmsg_driver(ConsoleClient, "sim_console_client");

Result<void> ClientEnv::console_command(const char *line)
{
	Guard g{ m_console_lock };
	if (!m_console)
		return keel::err(-ENODEV);
	return m_console->send_line(m_console->m_next_id.add_return(1), line);
}

/* --- registration --- */

namespace {
rpmsg::RpmsgDriver *const s_drivers[NR_SERVICES] = {
	&EchoClient_rpmsg_driver,
	&SensorClient_rpmsg_driver,
	&ConsoleClient_rpmsg_driver,
};
} // namespace

Result<void> register_clients()
{
	for (u32 i = 0; i < NR_SERVICES; i++) {
		Result<void> r = rpmsg::register_rpmsg_driver(*s_drivers[i]);
		if (r.is_error()) {
			while (i)
				rpmsg::unregister_rpmsg_driver(*s_drivers[--i]);
			return r;
		}
	}
	return keel::ok();
}

void unregister_clients()
{
	for (u32 i = NR_SERVICES; i;)
		rpmsg::unregister_rpmsg_driver(*s_drivers[--i]);
}

} // namespace sim
