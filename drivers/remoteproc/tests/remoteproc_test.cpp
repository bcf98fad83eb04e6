// SPDX-License-Identifier: GPL-2.0
/*
 * The remote processor lifecycle over the loopback platform
 * (rproc_loopback.h), both roles in one address space: boot and
 * announcement; every kind of crash fails blocked senders at once with
 * -EPIPE; recovery removes the devices in the documented order and
 * re-probes; disabled recovery waits for a trigger; crashes during probe,
 * during an announcement, during recovery, with zero-copy buffers held;
 * failed restarts give up; a host that detaches, reloads or restarts
 * while the remote lives; a remote that reboots behind the host's back;
 * several virtio devices; trace buffers and their crash copy.
 */
#include <keel/log.h>
#include <keel/test.h>

#include "rproc_test_drivers.h"

using namespace keel;
using namespace keel::test;
using namespace rproc;
using namespace rproc::test;
using rpmsg::test::Runner;
using rpmsg::test::wait_for;

namespace {

constexpr const char *SERVICE = "rproc-test-echo";
const s64 TIMEOUT = ms_to_ns(5000);

constinit ClientPtr s_client;
constinit EchoCounters s_echo;
constexpr rpmsg::RpmsgDeviceId s_ids[] = { { "rproc-test-echo" }, {} };

constinit RpmsgDriver s_client_drv{ rpmsg::driver_for<ClientDriver<&s_client, s_ids>>,
				    "rproc_test_client" };
constinit RpmsgDriver s_echo_drv{ rpmsg::driver_for<EchoDriver<&s_echo>>, "rproc_test_echo" };

/* Per case: the client's state, freed when the case ends. */
ClientState *client_state(Test &t)
{
	return rproc::test::client_state<&s_client, &s_echo>(t);
}

LoopbackConfig echo_config()
{
	return rproc::test::echo_config(SERVICE, s_echo_drv, s_client_drv);
}

struct Case {
	ClientState *cs = nullptr;
	LoopbackRemote *lr = nullptr;
	RpmsgDevice *ch = nullptr;
};

/* The client state (first: the cleanup that frees it runs last), the remote, the bound channel. */
Case bring_up(Test &t, const LoopbackConfig &cfg, bool detached = false)
{
	Case c;
	c.cs = client_state(t);
	if (!c.cs)
		return c;
	c.lr = make_loopback(t, cfg, detached);
	if (!c.lr || !cfg.boot)
		return c;
	c.ch = wait_client(c.cs, c.lr);
	if (!c.ch)
		EXPECT_FAIL(t, "the client never bound to %s", SERVICE);
	return c;
}

/*
 * Waits until @crashes crashes were handled: the remote runs again and the
 * client is bound. A crash during a recovery's restart makes that recovery
 * start over (one recovery, two crashes), so recoveries are not awaited.
 */
RpmsgDevice *recovered(Case &c, u64 crashes, s64 timeout_ns = TIMEOUT)
{
	RpmsgDevice *ch = nullptr;
	if (wait_for(
		    [&] {
			    return c.lr->rproc->stats().crashes >= crashes &&
				   c.lr->rproc->state() == RprocState::Running;
		    },
		    timeout_ns))
		ch = wait_client(c.cs, c.lr, timeout_ns);
	if (!ch) {
		RprocStats st = c.lr->rproc->stats();
		log_set_echo(true);
		pr_err("not recovered: state %s, crashes %llu, recoveries %llu, failures %llu, "
		       "probes %u, removes %u",
		       state_name(c.lr->rproc->state()), (unsigned long long)st.crashes,
		       (unsigned long long)st.recoveries, (unsigned long long)st.recovery_failures,
		       c.cs->probes.load(), c.cs->removes.load());
	}
	return ch;
}

/* ping() with a diagnosis when it fails. */
bool ping_ok(Case &c, RpmsgDevice &ch, u32 n)
{
	if (ping(c.cs, ch, n))
		return true;
	RpmsgLink *hl = c.lr->host_link();
	log_set_echo(true);
	pr_err("ping %u lost: state %s, remote up %d asleep %d, echoed %llu dropped %llu, "
	       "last ping %u, host tx %llu rx %llu no-recipient %llu held %llu, remote rx %llu "
	       "no-recipient %llu held %llu peer-gone %d",
	       n, state_name(c.lr->rproc->state()), c.lr->remote && c.lr->remote->link_up(),
	       c.lr->remote && c.lr->remote->asleep(), (unsigned long long)s_echo.echoed.load(),
	       (unsigned long long)s_echo.dropped.load(), c.cs->last_ping.load(),
	       hl ? (unsigned long long)hl->stats().tx_sent.load() : 0ull,
	       hl ? (unsigned long long)hl->stats().rx_delivered.load() : 0ull,
	       hl ? (unsigned long long)hl->stats().rx_no_recipient.load() : 0ull,
	       hl ? (unsigned long long)hl->stats().rx_held.load() : 0ull,
	       c.lr->remote ? (unsigned long long)c.lr->remote->link().stats().rx_delivered.load()
			    : 0ull,
	       c.lr->remote
		       ? (unsigned long long)c.lr->remote->link().stats().rx_no_recipient.load()
		       : 0ull,
	       c.lr->remote ? (unsigned long long)c.lr->remote->link().stats().rx_held.load()
			    : 0ull,
	       c.lr->remote ? int(c.lr->remote->link().peer_gone()) : -1);
	return false;
}

/* --- boot --- */

void boot_announces_and_binds_the_client(Test &t)
{
	Case c = bring_up(t, echo_config());
	ASSERT_NOT_NULL(t, c.ch);
	EXPECT_EQ(t, c.lr->rproc->state(), RprocState::Running);
	EXPECT_EQ(t, c.lr->rproc->num_vdevs(), 1u);
	EXPECT_TRUE(t, ping_ok(c, *c.ch, 1));
	RprocStats st = c.lr->rproc->stats();
	EXPECT_EQ(t, st.boots, 1u);
	EXPECT_EQ(t, st.crashes, 0u);
	EXPECT_EQ(t, c.lr->starts.load(), 1u);
	EXPECT_STREQ(t, state_name(RprocState::Recovering), "recovering");
	EXPECT_STREQ(t, crash_reason_name(CrashReason::Watchdog), "watchdog");
}

void shutdown_removes_devices_and_stops(Test &t)
{
	Case c = bring_up(t, echo_config());
	ASSERT_NOT_NULL(t, c.ch);
	c.lr->rproc->shutdown();
	EXPECT_EQ(t, c.lr->rproc->state(), RprocState::Offline);
	EXPECT_EQ(t, c.cs->removes.load(), 1u);
	EXPECT_EQ(t, c.lr->stops.load(), 1u);
	EXPECT_NULL(t, c.lr->rproc->vdev(0));
	/* And up again. */
	ASSERT_OK(t, c.lr->rproc->boot());
	RpmsgDevice *ch = wait_client(c.cs, c.lr);
	ASSERT_NOT_NULL(t, ch);
	EXPECT_TRUE(t, ping_ok(c, *ch, 2));
	EXPECT_EQ(t, c.cs->probes.load(), 2u);
}

/* --- crashes fail blocked senders at once --- */

struct Blocked {
	RpmsgEndpoint *ept;
	Atomic<u32> sent{ 0 };
	int err = 0;
	s64 returned_at = 0;
};

void send_until_error(void *p)
{
	Blocked *b = static_cast<Blocked *>(p);
	TestMsg m = { MSG_SEQ, 0, {} };
	for (;;) {
		Result<void> r = rpmsg::send(*b->ept, msg_bytes(m));
		if (r.is_error()) {
			b->returned_at = ktime_get_ns();
			b->err = r.error().to_errno();
			return;
		}
		b->sent.fetch_add(1);
	}
}

enum class Inject { Cut, Watchdog, Fatal, Message };

void inject(LoopbackRemote *lr, Inject how)
{
	switch (how) {
	case Inject::Cut:
		lr->cut();
		break;
	case Inject::Watchdog:
		lr->watchdog();
		break;
	case Inject::Fatal:
		lr->fatal("injected fatal error");
		break;
	case Inject::Message:
		lr->rproc->report_crash(CrashReason::Message, "remote says: bye");
		break;
	}
}

struct InjectParam {
	Inject how;
	CrashReason reason;
	const char *name;
};
const InjectParam s_injects[] = {
	{ Inject::Cut, CrashReason::PeerGone, "link_cut" },
	{ Inject::Watchdog, CrashReason::Watchdog, "watchdog" },
	{ Inject::Fatal, CrashReason::FatalError, "fatal_error" },
	{ Inject::Message, CrashReason::Message, "crash_message" },
};
void describe_inject(const InjectParam &p, char *desc)
{
	(void)strscpy(desc, p.name, KEEL_TEST_DESC_LEN);
}
KEEL_PARAMS(inject_params, s_injects, describe_inject);

void crash_fails_blocked_senders_at_once(Test &t)
{
	const InjectParam &p = t.param<InjectParam>();
	LoopbackConfig cfg = echo_config();
	cfg.recovery = false;
	Case c = bring_up(t, cfg);
	ASSERT_NOT_NULL(t, c.ch);
	/* The remote stops taking messages: the host's tx buffers run out, senders block. */
	ASSERT_TRUE(t, wait_for([&] { return c.lr->remote->suspend().is_ok(); }));
	Blocked b{ c.ch->ept() };
	Runner r;
	ASSERT_OK(t, r.start(&send_until_error, &b));
	ASSERT_TRUE(t, wait_for([&] { return b.sent.load() == 64; }));
	msleep(20);
	EXPECT_FALSE(t, r.finished());
	log_set_echo(false);
	inject(c.lr, p.how);
	EXPECT_TRUE(t, r.wait(ms_to_ns(2000)));
	log_set_echo(true);
	EXPECT_EQ(t, b.err, -EPIPE);
	RprocStats st = c.lr->rproc->stats();
	s64 took = b.returned_at - st.last_crash_ns;
	t.info("blocked sender returned %lld us after the crash was detected",
	       (long long)(took / 1000));
	EXPECT_EQ(t, st.crashes, 1u);
	EXPECT_EQ(t, st.crashes_by_reason[u32(p.reason)], 1u);
	EXPECT_EQ(t, c.lr->rproc->state(), RprocState::Crashed);
	/* Later sends fail at once too, and poll says hang-up. */
	TestMsg m = { MSG_SEQ, 1, {} };
	EXPECT_ERR(t, rpmsg::send(*c.ch->ept(), msg_bytes(m)), -EPIPE);
	EXPECT_ERR(t, rpmsg::trysend(*c.ch->ept(), msg_bytes(m)), -EPIPE);
	EXPECT_EQ(t, rpmsg::poll(*c.ch->ept()), rpmsg::RPMSG_POLLHUP | rpmsg::RPMSG_POLLERR);
	if (p.how == Inject::Message) {
		char msg[64];
		EXPECT_GT(t, c.lr->rproc->last_crash_message(Span<char>(msg, sizeof(msg))), 0u);
		EXPECT_STREQ(t, msg, "remote says: bye");
	}
	/* Recovery is off: the devices stay until someone triggers it. */
	EXPECT_EQ(t, c.cs->removes.load(), 0u);
}

/* --- recovery and its order --- */

/* What an observer saw: event types in order, with the client's removes at each. */
struct Trail {
	NotifierBlock nb;
	ClientState *cs = nullptr;
	static constexpr u32 MAX = 64;
	Atomic<u32> n{ 0 };
	RprocEventType type[MAX];
	RprocState state[MAX];
	u32 removes[MAX];
	u32 probes[MAX];
	s64 crash_time = 0;
	CrashReason reason = CrashReason::PeerGone;
	s64 done_duration = 0;

	static int call(NotifierBlock &nb, unsigned long, void *data)
	{
		Trail *tr = container_of(&nb, &Trail::nb);
		const RprocEvent *ev = static_cast<const RprocEvent *>(data);
		u32 i = tr->n.load();
		if (i < MAX) {
			tr->type[i] = ev->type;
			tr->state[i] = ev->state;
			tr->removes[i] = tr->cs->removes.load();
			tr->probes[i] = tr->cs->probes.load();
			tr->n.store(i + 1);
		}
		if (ev->type == RprocEventType::CrashReported) {
			tr->crash_time = ev->time_ns;
			tr->reason = ev->reason;
		}
		if (ev->type == RprocEventType::RecoveryDone)
			tr->done_duration = ev->duration_ns;
		return NOTIFY_OK;
	}
	/* The index of the first @type at or after @from, or MAX. */
	u32 find(RprocEventType ty, u32 from = 0) const
	{
		for (u32 i = from; i < n.load(); i++)
			if (type[i] == ty)
				return i;
		return MAX;
	}
};

void recovery_removes_then_reprobes_in_order(Test &t)
{
	Case c = bring_up(t, echo_config());
	ASSERT_NOT_NULL(t, c.ch);
	Trail *tr = static_cast<Trail *>(t.alloc(sizeof(Trail)));
	ASSERT_NOT_NULL(t, tr);
	new (tr) Trail;
	tr->nb.notifier_call = &Trail::call;
	tr->cs = c.cs;
	ASSERT_OK(t, c.lr->rproc->register_observer(tr->nb));
	log_set_echo(false);
	c.lr->cut();
	RpmsgDevice *ch = recovered(c, 1);
	log_set_echo(true);
	ASSERT_NOT_NULL(t, ch);
	EXPECT_TRUE(t, ping_ok(c, *ch, 7));
	EXPECT_OK(t, c.lr->rproc->unregister_observer(tr->nb));

	/* The documented sequence, each step after the one before. */
	u32 crash = tr->find(RprocEventType::CrashReported);
	u32 recovering = crash;
	while (recovering < tr->n.load() &&
	       !(tr->type[recovering] == RprocEventType::StateChanged &&
		 tr->state[recovering] == RprocState::Recovering))
		recovering++;
	u32 removed = tr->find(RprocEventType::DevicesRemoved);
	u32 stopped = tr->find(RprocEventType::RemoteStopped);
	u32 reset = tr->find(RprocEventType::RegionReset);
	u32 started = tr->find(RprocEventType::RemoteStarted);
	u32 added = tr->find(RprocEventType::DevicesAdded);
	u32 done = tr->find(RprocEventType::RecoveryDone);
	EXPECT_LT(t, crash, recovering);
	EXPECT_LT(t, recovering, removed);
	EXPECT_LT(t, removed, stopped);
	EXPECT_LT(t, stopped, reset);
	EXPECT_LT(t, reset, started);
	EXPECT_LT(t, started, added);
	EXPECT_LT(t, added, done);
	ASSERT_LT(t, done, Trail::MAX);
	/* The client's remove ran before the devices were reported gone, and not before. */
	EXPECT_EQ(t, tr->removes[recovering], 0u);
	EXPECT_EQ(t, tr->removes[removed], 1u);
	EXPECT_EQ(t, tr->probes[reset], 1u);
	EXPECT_EQ(t, tr->reason, CrashReason::PeerGone);
	EXPECT_GT(t, tr->done_duration, 0);
	/* Counters: exact. */
	RprocStats st = c.lr->rproc->stats();
	EXPECT_EQ(t, st.crashes, 1u);
	EXPECT_EQ(t, st.recoveries, 1u);
	EXPECT_EQ(t, st.boots, 2u);
	EXPECT_EQ(t, st.recovery_failures, 0u);
	EXPECT_EQ(t, c.cs->probes.load(), 2u);
	EXPECT_EQ(t, c.cs->removes.load(), 1u);
	EXPECT_EQ(t, c.lr->starts.load(), 2u);
	EXPECT_EQ(t, c.lr->stops.load(), 1u);
	EXPECT_EQ(t, c.lr->rproc->state(), RprocState::Running);
	t.info("recovery took %lld us from detection to devices added",
	       (long long)(st.last_recovery_ns / 1000));
}

void disabled_recovery_waits_for_a_trigger(Test &t)
{
	LoopbackConfig cfg = echo_config();
	cfg.recovery = false;
	Case c = bring_up(t, cfg);
	ASSERT_NOT_NULL(t, c.ch);
	log_set_echo(false);
	c.lr->watchdog();
	/* Nothing happens on its own. */
	msleep(50);
	EXPECT_EQ(t, c.lr->rproc->state(), RprocState::Crashed);
	EXPECT_EQ(t, c.cs->removes.load(), 0u);
	EXPECT_EQ(t, c.lr->rproc->stats().recoveries, 0u);
	/* By hand. */
	EXPECT_OK(t, c.lr->rproc->trigger_recovery());
	log_set_echo(true);
	RpmsgDevice *ch = wait_client(c.cs, c.lr);
	ASSERT_NOT_NULL(t, ch);
	EXPECT_TRUE(t, ping_ok(c, *ch, 3));
	RprocStats st = c.lr->rproc->stats();
	EXPECT_EQ(t, st.recoveries, 1u);
	EXPECT_EQ(t, st.manual_recoveries, 1u);
	EXPECT_EQ(t, st.crashes, 1u);
	/* Turned back on: the next crash recovers by itself. */
	c.lr->rproc->set_recovery(true);
	log_set_echo(false);
	c.lr->cut();
	ch = recovered(c, 2);
	log_set_echo(true);
	ASSERT_NOT_NULL(t, ch);
	EXPECT_TRUE(t, ping_ok(c, *ch, 4));
}

void manual_trigger_restarts_a_running_remote(Test &t)
{
	Case c = bring_up(t, echo_config());
	ASSERT_NOT_NULL(t, c.ch);
	EXPECT_OK(t, c.lr->rproc->trigger_recovery());
	RpmsgDevice *ch = wait_client(c.cs, c.lr);
	ASSERT_NOT_NULL(t, ch);
	EXPECT_TRUE(t, ping_ok(c, *ch, 5));
	RprocStats st = c.lr->rproc->stats();
	EXPECT_EQ(t, st.crashes, 0u);
	EXPECT_EQ(t, st.recoveries, 1u);
	EXPECT_EQ(t, st.manual_recoveries, 1u);
	EXPECT_EQ(t, c.lr->starts.load(), 2u);
	/* Nothing to recover when it is not running. */
	c.lr->rproc->shutdown();
	EXPECT_ERR(t, c.lr->rproc->trigger_recovery(), -EINVAL);
}

/* --- crashes at awkward moments --- */

void crash_during_probe(Test &t)
{
	Case c = bring_up(t, echo_config());
	ASSERT_NOT_NULL(t, c.ch);
	/* The next probe takes its time: crash the remote while it runs. */
	c.cs->block_probe.store(true);
	log_set_echo(false);
	c.lr->cut();
	ASSERT_TRUE(t, wait_for([&] { return c.cs->in_probe.load(); }));
	/* The re-probe after the first recovery is blocked: crash again. */
	c.lr->cut();
	c.cs->block_probe.store(false);
	c.cs->probe_release.complete_all();
	/* The probe's send failed at once (the remote is gone), nothing hung. */
	RpmsgDevice *ch = recovered(c, 2, ms_to_ns(10000));
	log_set_echo(true);
	ASSERT_NOT_NULL(t, ch);
	EXPECT_EQ(t, c.cs->probe_send_err.load(), -EPIPE);
	EXPECT_TRUE(t, ping_ok(c, *ch, 6));
	RprocStats st = c.lr->rproc->stats();
	EXPECT_EQ(t, st.crashes, 2u);
	/* Two, or one started over (the second crash hit its restart). */
	EXPECT_GE(t, st.recoveries, 1u);
	EXPECT_LE(t, st.recoveries, 2u);
	/* Every probe that returned has its remove (the last one is still bound). */
	EXPECT_EQ(t, c.cs->probes.load(), c.cs->removes.load() + 1);
}

void crash_during_announcement(Test &t)
{
	Case c = bring_up(t, echo_config());
	ASSERT_NOT_NULL(t, c.ch);
	/* The client's probe (the host handling the announcement) reports the remote dead. */
	c.cs->crash_in_probe.store(c.lr);
	log_set_echo(false);
	c.lr->cut();
	RpmsgDevice *ch = recovered(c, 2, ms_to_ns(10000));
	log_set_echo(true);
	ASSERT_NOT_NULL(t, ch);
	EXPECT_TRUE(t, ping_ok(c, *ch, 8));
	RprocStats st = c.lr->rproc->stats();
	EXPECT_EQ(t, st.crashes, 2u);
	EXPECT_EQ(t, st.crashes_by_reason[u32(CrashReason::FatalError)], 1u);
	EXPECT_GE(t, st.recoveries, 1u);
	EXPECT_LE(t, st.recoveries, 2u);
	EXPECT_EQ(t, c.cs->probes.load(), c.cs->removes.load() + 1);
}

void crash_during_recovery_starts_over(Test &t)
{
	Case c = bring_up(t, echo_config());
	ASSERT_NOT_NULL(t, c.ch);
	/* The restarted remote dies right away, twice: a crash during recovery. */
	c.lr->crash_after_start.store(2);
	log_set_echo(false);
	c.lr->watchdog();
	RpmsgDevice *ch = recovered(c, 3, ms_to_ns(10000));
	ASSERT_NOT_NULL(t, ch);
	c.lr->crash_after_start.store(0);
	log_set_echo(true);
	EXPECT_TRUE(t, ping_ok(c, *ch, 9));
	RprocStats st = c.lr->rproc->stats();
	EXPECT_EQ(t, st.crashes, 3u);
	EXPECT_EQ(t, st.recoveries, 1u);
	EXPECT_EQ(t, st.recovery_failures, 0u);
	EXPECT_EQ(t, c.lr->starts.load(), 4u);
	EXPECT_EQ(t, c.cs->probes.load(), c.cs->removes.load() + 1);
}

void failed_restarts_give_up_then_boot_works(Test &t)
{
	LoopbackConfig cfg = echo_config();
	cfg.max_recovery_attempts = 3;
	Case c = bring_up(t, cfg);
	ASSERT_NOT_NULL(t, c.ch);
	c.lr->fail_starts.store(100);
	log_set_echo(false);
	c.lr->fatal("gone for good");
	ASSERT_TRUE(t, c.lr->rproc->wait_for_state(RprocState::Offline, ms_to_ns(10000)));
	log_set_echo(true);
	RprocStats st = c.lr->rproc->stats();
	EXPECT_EQ(t, st.recovery_failures, 3u);
	EXPECT_EQ(t, st.recoveries, 0u);
	EXPECT_EQ(t, c.cs->removes.load(), 1u);
	/* Firmware fixed: boot by hand. */
	c.lr->fail_starts.store(0);
	ASSERT_OK(t, c.lr->rproc->boot());
	RpmsgDevice *ch = wait_client(c.cs, c.lr);
	ASSERT_NOT_NULL(t, ch);
	EXPECT_TRUE(t, ping_ok(c, *ch, 10));
}

/* A client holding zero-copy buffers across the crash, released in its remove. */
constinit ClientPtr s_zc_state;
struct ZcClient;
constinit Atomic<ZcClient *> s_zc{ nullptr };
struct ZcClient : ClientBase<&s_zc_state> {
	static constexpr rpmsg::RpmsgDeviceId id_table[] = { { "rproc-test-zc" }, {} };
	rpmsg::RpmsgTxBuf tx;
	bool have_tx = false;
	rpmsg::RpmsgRxToken rx;
	Atomic<bool> have_rx{ false };
	int tx_release_err = 1;
	int rx_release_err = 1;

	static Result<UniquePtr<ZcClient>> probe(RpmsgDevice &rpdev)
	{
		auto z = TRY(make_unique<ZcClient>(GFP_KERNEL));
		/* Published before common_probe() says the client is there. */
		s_zc.store(z.get());
		Result<void> r = common_probe(rpdev);
		if (r.is_error()) {
			s_zc.store(nullptr);
			return r.error();
		}
		return z;
	}
	Result<void> on_message(RpmsgDevice &rpdev, Span<const u8> data, u32)
	{
		if (!have_rx.load()) {
			auto tok = rpmsg::hold_rx_buffer(*rpdev.ept());
			if (tok.is_ok()) {
				rx = tok.value();
				have_rx.store(true);
			}
		}
		return common_message(data);
	}
	void remove(RpmsgDevice &rpdev)
	{
		/* What a driver must do: give back what it holds (the link still runs). */
		if (have_tx)
			tx_release_err = result_errno(rpmsg::release_tx_buffer(*rpdev.ept(), tx));
		if (have_rx.load())
			rx_release_err = result_errno(rpmsg::release_rx_buffer(*rpdev.ept(), rx));
		s_zc_results[0] = tx_release_err;
		s_zc_results[1] = rx_release_err;
		s_zc.store(nullptr);
		common_remove(rpdev);
	}
	static inline constinit int s_zc_results[2] = { 1, 1 };
};
constinit RpmsgDriver s_zc_drv{ rpmsg::driver_for<ZcClient>, "rproc_test_zc" };

void crash_with_zero_copy_buffers_held(Test &t)
{
	LoopbackConfig cfg;
	cfg.services[0] = { "rproc-test-zc", "rproc_test_echo" };
	cfg.drivers[0] = &s_echo_drv;
	cfg.drivers[1] = &s_zc_drv;
	ClientState *cs = client_state(t);
	ASSERT_NOT_NULL(t, cs);
	s_zc_state.store(cs);
	/* Runs after the remote's teardown (cleanups run last added first). */
	ASSERT_OK(t, t.add_cleanup([](void *) { s_zc_state.store(nullptr); }, nullptr));
	LoopbackRemote *lr = make_loopback(t, cfg);
	ASSERT_NOT_NULL(t, lr);
	RpmsgDevice *ch = wait_client(cs, lr);
	ASSERT_NOT_NULL(t, ch);
	ZcClient *z = s_zc.load();
	ASSERT_NOT_NULL(t, z);
	/* An rx buffer held past its callback... */
	ASSERT_TRUE(t, ping(cs, *ch, 1));
	ASSERT_TRUE(t, z->have_rx.load());
	RpmsgLink *hl = lr->host_link();
	ASSERT_NOT_NULL(t, hl);
	EXPECT_EQ(t, hl->nr_client_held(), 1u);
	/* ... and a tx buffer borrowed, when the remote dies. */
	auto b = rpmsg::get_tx_payload_buffer(*ch->ept(), TIMEOUT);
	ASSERT_OK(t, b);
	z->tx = b.release_value();
	z->have_tx = true;
	log_set_echo(false);
	lr->cut();
	ASSERT_TRUE(t, wait_for([&] {
			    return lr->rproc->state() == RprocState::Crashed ||
				   lr->rproc->stats().recoveries > 0;
		    }));
	/* The borrowed buffer cannot go out any more (if the client still tries). */
	EXPECT_TRUE(t, wait_for([&] { return lr->rproc->stats().recoveries == 1; }));
	log_set_echo(true);
	/* Its remove gave both back while the link still ran. */
	EXPECT_EQ(t, ZcClient::s_zc_results[0], 0);
	EXPECT_EQ(t, ZcClient::s_zc_results[1], 0);
	ch = wait_client(cs, lr);
	ASSERT_NOT_NULL(t, ch);
	hl = lr->host_link();
	ASSERT_NOT_NULL(t, hl);
	EXPECT_EQ(t, hl->nr_client_held(), 0u);
	/* The new session works, zero copy included. */
	z = s_zc.load();
	ASSERT_NOT_NULL(t, z);
	auto b2 = rpmsg::get_tx_payload_buffer(*ch->ept(), TIMEOUT);
	ASSERT_OK(t, b2);
	rpmsg::RpmsgTxBuf buf = b2.release_value();
	TestMsg m = { MSG_PING, 2, {} };
	memcpy(buf.payload.data(), &m, sizeof(m));
	ASSERT_OK(t, rpmsg::send_nocopy(*ch->ept(), buf, sizeof(m)));
	EXPECT_TRUE(t, cs->wq.wait_event_timeout([&] { return cs->last_ping.load() == 2; },
						 TIMEOUT) > 0);
}

void sending_a_held_buffer_after_the_crash_fails(Test &t)
{
	LoopbackConfig cfg = echo_config();
	cfg.recovery = false;
	Case c = bring_up(t, cfg);
	ASSERT_NOT_NULL(t, c.ch);
	auto b = rpmsg::get_tx_payload_buffer(*c.ch->ept(), TIMEOUT);
	ASSERT_OK(t, b);
	rpmsg::RpmsgTxBuf buf = b.release_value();
	log_set_echo(false);
	c.lr->cut();
	log_set_echo(true);
	TestMsg m = { MSG_PING, 1, {} };
	memcpy(buf.payload.data(), &m, sizeof(m));
	EXPECT_ERR(t, rpmsg::send_nocopy(*c.ch->ept(), buf, sizeof(m)), -EPIPE);
	/* The buffer went back to the link (the send consumed it either way). */
	EXPECT_NULL(t, buf.payload.data());
	EXPECT_OK(t, c.lr->rproc->trigger_recovery());
	RpmsgDevice *ch = wait_client(c.cs, c.lr);
	ASSERT_NOT_NULL(t, ch);
	EXPECT_TRUE(t, ping_ok(c, *ch, 2));
}

/* --- the host goes and comes back while the remote lives --- */

void host_detach_and_attach_with_the_remote_alive(Test &t)
{
	Case c = bring_up(t, echo_config());
	ASSERT_NOT_NULL(t, c.ch);
	ASSERT_TRUE(t, ping_ok(c, *c.ch, 1));
	u32 sessions = c.lr->remote->sessions();
	ASSERT_OK(t, c.lr->rproc->detach());
	EXPECT_EQ(t, c.lr->rproc->state(), RprocState::Detached);
	EXPECT_EQ(t, c.cs->removes.load(), 1u);
	/* The remote ends its session by itself and waits for a host. */
	EXPECT_TRUE(t, wait_for([&] { return !c.lr->remote->link_up(); }));
	ASSERT_OK(t, c.lr->rproc->boot());
	EXPECT_EQ(t, c.lr->rproc->state(), RprocState::Attached);
	RpmsgDevice *ch = wait_client(c.cs, c.lr);
	ASSERT_NOT_NULL(t, ch);
	EXPECT_TRUE(t, ping_ok(c, *ch, 2));
	/* The same remote, never restarted: a new session of it. */
	EXPECT_EQ(t, c.lr->starts.load(), 1u);
	EXPECT_EQ(t, c.lr->remote->sessions(), sessions + 1);
	/* A crash of an adopted remote recovers by restarting it. */
	log_set_echo(false);
	c.lr->cut();
	ch = recovered(c, 1);
	log_set_echo(true);
	ASSERT_NOT_NULL(t, ch);
	EXPECT_TRUE(t, ping_ok(c, *ch, 3));
	EXPECT_EQ(t, c.lr->starts.load(), 2u);
}

/*
 * The host resets and attaches again at once, without waiting for the
 * remote to notice: its attach waits until the remote has ended the old
 * session (transport: "Leaving a host session"), and each new session
 * works.
 */
void host_reattach_at_once_waits_for_the_remote(Test &t)
{
	Case c = bring_up(t, echo_config());
	ASSERT_NOT_NULL(t, c.ch);
	u32 sessions = c.lr->remote->sessions();
	for (u32 i = 1; i <= 5; i++) {
		ASSERT_OK(t, c.lr->rproc->detach());
		ASSERT_OK(t, c.lr->rproc->boot());
		EXPECT_EQ(t, c.lr->rproc->state(), RprocState::Attached);
		RpmsgDevice *ch = wait_client(c.cs, c.lr);
		ASSERT_NOT_NULL(t, ch);
		EXPECT_TRUE(t, ping_ok(c, *ch, i));
		EXPECT_EQ(t, c.lr->remote->sessions(), sessions + i);
	}
	EXPECT_EQ(t, c.lr->starts.load(), 1u);
	EXPECT_EQ(t, c.cs->removes.load(), 5u);
}

void host_reload_adopts_the_running_remote(Test &t)
{
	Case c = bring_up(t, echo_config());
	ASSERT_NOT_NULL(t, c.ch);
	ASSERT_OK(t, c.lr->rproc->detach());
	/* The host's platform driver is unloaded and loaded again (a new Rproc). */
	c.lr->rproc->del();
	c.lr->rproc = nullptr;
	EXPECT_TRUE(t, wait_for([&] { return !c.lr->remote->link_up(); }));
	ASSERT_OK(t, c.lr->create_rproc(true));
	EXPECT_EQ(t, c.lr->rproc->state(), RprocState::Detached);
	ASSERT_OK(t, c.lr->rproc->boot());
	RpmsgDevice *ch = wait_client(c.cs, c.lr);
	ASSERT_NOT_NULL(t, ch);
	EXPECT_TRUE(t, ping_ok(c, *ch, 1));
	EXPECT_EQ(t, c.lr->starts.load(), 1u);
	EXPECT_EQ(t, c.lr->remote->sessions(), 2u);
}

void host_reset_without_goodbye_is_not_replayed(Test &t)
{
	Case c = bring_up(t, echo_config());
	ASSERT_NOT_NULL(t, c.ch);
	/* The host "dies" (the link drops: the remote sees it gone) with messages in flight. */
	ASSERT_TRUE(t, wait_for([&] { return c.lr->remote->suspend().is_ok(); }));
	for (u32 i = 0; i < 8; i++) {
		TestMsg m = { MSG_SEQ, 100 + i, {} };
		ASSERT_OK(t, rpmsg::trysend(*c.ch->ept(), msg_bytes(m)));
	}
	c.lr->remote->resume();
	u32 sessions = c.lr->remote->sessions();
	log_set_echo(false);
	c.lr->rproc->set_recovery(false);
	c.lr->cut();
	/* The remote tears its side down at once, with no manual step. */
	EXPECT_TRUE(t, wait_for([&] { return !c.lr->remote->link_up(); }));
	/*
	 * The dead host's DRIVER_OK is still in the table: the remote must
	 * not start a session on its rings (it polls every 20 ms).
	 */
	msleep(100);
	log_set_echo(true);
	EXPECT_EQ(t, c.lr->remote->sessions(), sessions);
	EXPECT_FALSE(t, c.lr->remote->link_up());
}

/* --- a remote that reboots behind the host's back --- */

void remote_rebooting_by_itself_is_a_crash(Test &t)
{
	Case c = bring_up(t, echo_config());
	ASSERT_NOT_NULL(t, c.ch);
	/* The firmware restarts on its own: it publishes a new table over the old session. */
	log_set_echo(false);
	ASSERT_OK(t, c.lr->reboot());
	/* The host sees a new remote session it did not start: stale rings, a crash. */
	RpmsgDevice *ch = recovered(c, 1);
	log_set_echo(true);
	ASSERT_NOT_NULL(t, ch);
	EXPECT_EQ(t, c.lr->rproc->stats().crashes_by_reason[u32(CrashReason::PeerGone)], 1u);
	EXPECT_TRUE(t, ping_ok(c, *ch, 1));
}

/* --- several virtio devices, trace buffers --- */

constexpr u32 TEST_VIRTIO_ID = 0x7e57;
constinit Atomic<u32> s_vd_probes{ 0 };
constinit Atomic<u32> s_vd_removes{ 0 };
struct VdevCounter : NonMovable {
	static constexpr virtio::VirtioDeviceId id_table[] = {
		{ TEST_VIRTIO_ID, virtio::VIRTIO_DEV_ANY_ID }, {}
	};
	static Result<UniquePtr<VdevCounter>> probe(virtio::VirtioDevice &)
	{
		s_vd_probes.fetch_add(1);
		return make_unique<VdevCounter>(GFP_KERNEL);
	}
	void remove(virtio::VirtioDevice &) { s_vd_removes.fetch_add(1); }
};
constinit virtio::VirtioDriver s_vd_drv{ virtio::driver_for<VdevCounter>, "rproc_test_vdev" };

/* A raw remote: a table with two vdevs and a trace buffer, no rpmsg. */
struct RawRemote : NonMovable {
	u8 *mem = nullptr;
	ShmRegion region;
	LoopbackLink *link = nullptr;
	UniquePtr<virtio::ShmRemote> shm;
	RefPtr<Rproc> rproc;
	Atomic<u32> starts{ 0 };
	static constexpr u32 TRACE_OFF = 0x1000;
	static constexpr u32 TRACE_LEN = 256;

	static RawRemote &of(Rproc &rp) { return *rp.priv<RawRemote>(); }
	static Result<void> start(Rproc &rp)
	{
		RawRemote &r = of(rp);
		r.link->reconnect();
		virtio::ShmRemoteConfig c;
		c.name = "raw-remote";
		c.region = r.region;
		c.doorbell = &r.link->b();
		c.num_vdevs = 2;
		for (u32 v = 0; v < 2; v++) {
			c.vdevs[v].id = TEST_VIRTIO_ID;
			c.vdevs[v].num_of_vrings = 2;
			c.vdevs[v].vring[0] = { FW_RSC_ADDR_ANY, 4096, 16, 0, 0 };
			c.vdevs[v].vring[1] = { FW_RSC_ADDR_ANY, 4096, 16, 0, 0 };
		}
		c.num_traces = 1;
		c.traces[0] = { TRACE_OFF, TRACE_LEN, "trace0" };
		r.shm = TRY(virtio::ShmRemote::create(c, GFP_KERNEL));
		TRY(r.shm->publish());
		u32 n = r.starts.fetch_add(1) + 1;
		/* The remote's log. */
		char line[64];
		(void)keel::snprintf(line, sizeof(line), "boot %u: hello from the remote", n);
		memcpy(r.mem + TRACE_OFF, line, strlen(line) + 1);
		return keel::ok();
	}
	static Result<void> stop(Rproc &rp)
	{
		of(rp).shm.reset();
		return keel::ok();
	}
	static constexpr RprocOps s_ops = { .load = nullptr,
					    .start = &start,
					    .stop = &stop,
					    .attach = nullptr,
					    .detach = nullptr,
					    .kick = nullptr,
					    .suspend = nullptr,
					    .resume = nullptr };
	~RawRemote()
	{
		if (rproc)
			rproc->del();
		rproc = nullptr;
		shm.reset();
		if (link) {
			link->shutdown();
			delete link;
		}
		kfree(mem);
		virtio::unregister_virtio_driver(s_vd_drv);
		virtio::virtio_exit();
	}
};

void two_vdevs_and_a_trace_buffer(Test &t)
{
	s_vd_probes.store(0);
	s_vd_removes.store(0);
	ASSERT_OK(t, virtio::virtio_init());
	if (virtio::register_virtio_driver(s_vd_drv).is_error()) {
		virtio::virtio_exit();
		EXPECT_FAIL(t, "registering the vdev driver failed");
		return;
	}
	RawRemote *r = new (GFP_KERNEL) RawRemote;
	ASSERT_NOT_NULL(t, r);
	ASSERT_OK(t, t.add_cleanup([](void *p) { delete static_cast<RawRemote *>(p); }, r));
	r->mem = static_cast<u8 *>(kzalloc(128 * 1024, GFP_KERNEL));
	r->link = new (GFP_KERNEL) LoopbackLink(LoopbackLink::Mode::Deferred);
	ASSERT_TRUE(t, r->mem && r->link);
	r->region = ShmRegion(r->mem, 128 * 1024, 0);
	RprocConfig rc;
	rc.name = "raw";
	rc.ops = &RawRemote::s_ops;
	rc.priv = r;
	rc.region = r->region;
	rc.doorbell = &r->link->a();
	auto rp = Rproc::create(rc, GFP_KERNEL);
	ASSERT_OK(t, rp);
	r->rproc = rp.release_value();
	ASSERT_OK(t, r->rproc->add());
	ASSERT_OK(t, r->rproc->boot());
	/* One virtio device per vdev entry. */
	EXPECT_EQ(t, r->rproc->num_vdevs(), 2u);
	EXPECT_EQ(t, s_vd_probes.load(), 2u);
	EXPECT_EQ(t, r->rproc->num_traces(), 1u);
	char buf[128];
	auto n = r->rproc->read_trace(0, Span<char>(buf, sizeof(buf)));
	ASSERT_OK(t, n);
	EXPECT_STREQ(t, buf, "boot 1: hello from the remote");
	EXPECT_ERR(t, r->rproc->read_trace(0, Span<char>(buf, sizeof(buf)), true), -ENOENT);
	EXPECT_ERR(t, r->rproc->read_trace(1, Span<char>(buf, sizeof(buf))), -ENOENT);
	/* The remote leaves its last words, then dies. */
	const char *last = "panic: out of cheese";
	memcpy(r->mem + RawRemote::TRACE_OFF, last, strlen(last) + 1);
	log_set_echo(false);
	r->rproc->report_crash(CrashReason::FatalError, "cheese");
	ASSERT_TRUE(t, wait_for([&] { return r->rproc->stats().recoveries == 1; }));
	log_set_echo(true);
	/* Both devices went and came back. */
	EXPECT_EQ(t, s_vd_removes.load(), 2u);
	EXPECT_EQ(t, s_vd_probes.load(), 4u);
	/* The crash copy survived the region reset; the live buffer is the new boot's. */
	ASSERT_OK(t, r->rproc->read_trace(0, Span<char>(buf, sizeof(buf)), true));
	EXPECT_STREQ(t, buf, last);
	ASSERT_OK(t, r->rproc->read_trace(0, Span<char>(buf, sizeof(buf))));
	EXPECT_STREQ(t, buf, "boot 2: hello from the remote");
	/* A short reader gets a NUL-terminated prefix. */
	auto short_n = r->rproc->read_trace(0, Span<char>(buf, 5));
	ASSERT_OK(t, short_n);
	EXPECT_EQ(t, short_n.value(), 4u);
	EXPECT_STREQ(t, buf, "boot");
}

void create_refuses_incomplete_platforms(Test &t)
{
	u8 mem[64];
	RprocConfig rc;
	rc.name = "bad";
	log_set_echo(false);
	EXPECT_ERR(t, Rproc::create(rc, GFP_KERNEL), -EINVAL);
	static constexpr RprocOps no_stop = { .load = nullptr,
					      .start = &RawRemote::start,
					      .stop = nullptr,
					      .attach = nullptr,
					      .detach = nullptr,
					      .kick = nullptr,
					      .suspend = nullptr,
					      .resume = nullptr };
	rc.ops = &no_stop;
	rc.region = ShmRegion(mem, sizeof(mem), 0);
	EXPECT_ERR(t, Rproc::create(rc, GFP_KERNEL), -EINVAL);
	/* Neither a kick nor a doorbell. */
	static constexpr RprocOps no_kick = { .load = nullptr,
					      .start = &RawRemote::start,
					      .stop = &RawRemote::stop,
					      .attach = nullptr,
					      .detach = nullptr,
					      .kick = nullptr,
					      .suspend = nullptr,
					      .resume = nullptr };
	rc.ops = &no_kick;
	EXPECT_ERR(t, Rproc::create(rc, GFP_KERNEL), -EINVAL);
	log_set_echo(true);
}

const TestCase remoteproc_cases[] = {
	KEEL_CASE(boot_announces_and_binds_the_client),
	KEEL_CASE(shutdown_removes_devices_and_stops),
	KEEL_PARAM_CASE(crash_fails_blocked_senders_at_once, inject_params),
	KEEL_CASE(recovery_removes_then_reprobes_in_order),
	KEEL_CASE(disabled_recovery_waits_for_a_trigger),
	KEEL_CASE(manual_trigger_restarts_a_running_remote),
	KEEL_CASE(crash_during_probe),
	KEEL_CASE(crash_during_announcement),
	KEEL_CASE(crash_during_recovery_starts_over),
	KEEL_CASE(failed_restarts_give_up_then_boot_works),
	KEEL_CASE(crash_with_zero_copy_buffers_held),
	KEEL_CASE(sending_a_held_buffer_after_the_crash_fails),
	KEEL_CASE(host_detach_and_attach_with_the_remote_alive),
	KEEL_CASE(host_reattach_at_once_waits_for_the_remote),
	KEEL_CASE(host_reload_adopts_the_running_remote),
	KEEL_CASE(host_reset_without_goodbye_is_not_replayed),
	KEEL_CASE(remote_rebooting_by_itself_is_a_crash),
	KEEL_CASE(two_vdevs_and_a_trace_buffer),
	KEEL_CASE(create_refuses_incomplete_platforms),
	{},
};

const TestSuite remoteproc_suite = { .name = "remoteproc", .cases = remoteproc_cases };

} // namespace

KEEL_TEST_SUITE(remoteproc_suite);
