// SPDX-License-Identifier: GPL-2.0
/*
 * 1000 crash/recover cycles under concurrent send load, over the loopback
 * platform. The host's client driver runs sender threads from its probe
 * to its remove (what a real client with blocked writers looks like);
 * each cycle checks that traffic works, lets the senders fill the link
 * (every fourth cycle with the remote no longer taking messages, so that
 * they block), injects a crash (the four reasons in turn), and measures
 * how long after the crash's detection each sender that was inside a
 * send got its error back. At the end: every sender failed with -EPIPE
 * and nothing else, every probe has exactly one remove, the counters are
 * exact, and the worst unblock time is printed (not asserted: a slow
 * machine may take its time; the bound is checked with a wide margin).
 * Cycles stop at 1000 or when a time budget is spent (a TCG-emulated
 * kernel gets through fewer; the count is printed).
 */
#include <keel/log.h>
#include <keel/test.h>
#include <keel/thread.h>

#include "rproc_test_drivers.h"

using namespace keel;
using namespace keel::test;
using namespace rproc;
using namespace rproc::test;
using rpmsg::test::wait_for;

namespace {

constexpr u32 CYCLES = 1000;
/*
 * Cycles start until CYCLES are done or this budget is spent, whichever
 * comes first: hosted runs do all of them in seconds (even under
 * sanitizers); a TCG-emulated kernel does what fits, and says how many.
 */
constexpr s64 BUDGET_MS = 60000;
constexpr u32 SENDERS = 2;
const s64 TIMEOUT = ms_to_ns(10000);

/* What the load's senders report (per run; reset by the case). */
struct Load {
	Atomic<u64> sent{ 0 };
	Atomic<u64> epipe{ 0 };
	Atomic<u64> other_errors{ 0 };
	Atomic<int> last_other{ 0 };
	/* Senders that were inside a send when the crash was detected: worst return delay. */
	Atomic<s64> crash_ns{ 0 };
	Atomic<s64> worst_ns{ 0 };
	Atomic<u64> measured{ 0 };
	Atomic<u64> late{ 0 };
	/* The senders stop sending (before a clean shutdown: echoes still under way would be dropped). */
	Atomic<bool> pause{ false };
};
constinit Atomic<Load *> s_load{ nullptr };
constinit ClientPtr s_client;
constinit EchoCounters s_echo;

struct Sender {
	RpmsgDevice *rpdev = nullptr;
	RpmsgEndpoint *ept = nullptr;
	Thread *thread = nullptr;
	/* When the send in progress began (0: none). */
	Atomic<s64> since{ 0 };
	s64 err_at = 0;
	s64 began = 0;
	int err = 0;

	static int main(void *arg)
	{
		Sender *s = static_cast<Sender *>(arg);
		Load *load = s_load.load();
		TestMsg m = { MSG_SEQ, 0, {} };
		/*
		 * From when the channel receives: echoes of messages sent while
		 * the probe runs would be held, and beyond the hold limit dropped.
		 */
		RpmsgLink *link = rpmsg::RpmsgCore::link_of(*s->rpdev);
		while (!Thread::should_stop() && !link->channel_active(*s->rpdev))
			msleep(1);
		while (!Thread::should_stop()) {
			if (load->pause.load()) {
				msleep(1);
				continue;
			}
			s64 t0 = ktime_get_ns();
			s->since.store(t0);
			Result<void> r = rpmsg::send(*s->ept, msg_bytes(m));
			s->since.store(0);
			if (r.is_ok()) {
				load->sent.fetch_add(1, MemoryOrder::Relaxed);
				/* Hard, but leave the recovery and the test some CPU on small machines. */
				if (++m.n % 64 == 0)
					msleep(1);
				continue;
			}
			/* The link is dead: report once, then wait for the driver's remove. */
			s->err_at = ktime_get_ns();
			s->began = t0;
			s->err = r.error().to_errno();
			if (s->err == -EPIPE) {
				load->epipe.fetch_add(1);
			} else {
				load->other_errors.fetch_add(1);
				load->last_other.store(s->err);
			}
			break;
		}
		while (!Thread::should_stop())
			msleep(1);
		return 0;
	}
};

struct LoadClient;
/* The bound client (its senders), from its probe to its remove. */
constinit Atomic<LoadClient *> s_load_client{ nullptr };

/* The host's client: senders from probe to remove. */
struct LoadClient : ClientBase<&s_client> {
	static constexpr rpmsg::RpmsgDeviceId id_table[] = { { "rproc-stress-echo" }, {} };
	Sender senders[SENDERS];

	static Result<UniquePtr<LoadClient>> probe(RpmsgDevice &rpdev)
	{
		auto c = TRY(make_unique<LoadClient>(GFP_KERNEL));
		for (Sender &s : c->senders) {
			s.rpdev = &rpdev;
			s.ept = rpdev.ept();
			s.thread = TRY(Thread::run(&Sender::main, &s, "rproc-load"));
		}
		TRY(common_probe(rpdev));
		s_load_client.store(c.get());
		return c;
	}
	~LoadClient()
	{
		/* A failed probe: stop what started. */
		for (Sender &s : senders)
			if (s.thread)
				(void)s.thread->stop();
	}
	/* What a client must do on remove: stop its senders (they have their error by now). */
	void remove(RpmsgDevice &rpdev)
	{
		s_load_client.store(nullptr);
		Load *load = s_load.load();
		s64 crash = load->crash_ns.load();
		for (Sender &s : senders) {
			(void)keel::exchange(s.thread, nullptr)->stop();
			/* Inside a send when the crash was detected: how long until it returned. */
			if (crash && s.err && s.began <= crash) {
				s64 d = s.err_at - crash;
				load->measured.fetch_add(1);
				if (d > load->worst_ns.load())
					load->worst_ns.store(d);
				if (d > ms_to_ns(100))
					load->late.fetch_add(1);
			}
		}
		common_remove(rpdev);
	}
	Result<void> on_message(RpmsgDevice &, Span<const u8> data, u32)
	{
		return common_message(data);
	}
};

/* Is a sender of the bound client inside one send for @for_ns already? */
bool a_sender_blocked(s64 for_ns)
{
	LoadClient *c = s_load_client.load();
	if (!c)
		return false;
	s64 now = ktime_get_ns();
	for (Sender &s : c->senders) {
		s64 began = s.since.load();
		if (began && now - began >= for_ns)
			return true;
	}
	return false;
}
constinit RpmsgDriver s_client_drv{ rpmsg::driver_for<LoadClient>, "rproc_stress_client" };

constinit RpmsgDriver s_echo_drv{ rpmsg::driver_for<EchoDriver<&s_echo>>, "rproc_stress_echo" };

/* Observers record the crash's detection time for the senders' measurement. */
struct CrashClock {
	NotifierBlock nb;
	static int call(NotifierBlock &, unsigned long action, void *data)
	{
		if (action == u32(RprocEventType::CrashReported))
			s_load.load()->crash_ns.store(
				static_cast<const RprocEvent *>(data)->time_ns);
		return NOTIFY_OK;
	}
};

void thousand_crash_recover_cycles_under_load(Test &t)
{
	Load *load = new (GFP_KERNEL) Load;
	ClientState *cs = new (GFP_KERNEL) ClientState;
	CrashClock *clock = new (GFP_KERNEL) CrashClock;
	if (!load || !cs || !clock) {
		delete load;
		delete cs;
		delete clock;
		EXPECT_FAIL(t, "no memory");
		return;
	}
	s_load.store(load);
	s_client.store(cs);
	struct Owned {
		Load *load;
		ClientState *cs;
		CrashClock *clock;
	};
	static Owned owned;
	owned = { load, cs, clock };
	ASSERT_OK(t, t.add_cleanup(
			     [](void *) {
				     s_client.store(nullptr);
				     s_load.store(nullptr);
				     delete owned.load;
				     delete owned.cs;
				     delete owned.clock;
			     },
			     nullptr));
	clock->nb.notifier_call = &CrashClock::call;

	LoopbackConfig cfg = echo_config("rproc-stress-echo", s_echo_drv, s_client_drv);
	LoopbackRemote *lr = make_loopback(t, cfg);
	ASSERT_NOT_NULL(t, lr);
	ASSERT_OK(t, lr->rproc->register_observer(clock->nb));
	ASSERT_OK(t, t.add_cleanup(
			     [](void *p) {
				     auto *l = static_cast<LoopbackRemote *>(p);
				     if (l->rproc)
					     (void)l->rproc->unregister_observer(owned.clock->nb);
			     },
			     lr));

	static constexpr CrashReason reasons[] = { CrashReason::PeerGone, CrashReason::Watchdog,
						   CrashReason::FatalError, CrashReason::Message };
	u64 by_reason[RPROC_NR_CRASH_REASONS] = {};
	s64 start = ktime_get_ns();
	s64 end = start + ms_to_ns(BUDGET_MS);
	u32 cycles = 0;
	log_set_echo(false);
	for (u32 i = 0; i < CYCLES && ktime_get_ns() < end; i++) {
		RpmsgDevice *ch = wait_client(cs, lr, TIMEOUT);
		/* Recoveries are counted just before the state says Running. */
		if (!ch || !lr->rproc->wait_for_state(RprocState::Running, TIMEOUT)) {
			log_set_echo(true);
			EXPECT_FAIL(t, "cycle %u: not recovered (state %s)", i,
				    state_name(lr->rproc->state()));
			break;
		}
		/* Traffic works again. */
		s64 ping_start = ktime_get_ns();
		if (!ping(cs, *ch, i + 1, TIMEOUT)) {
			log_set_echo(true);
			RpmsgLink *hl = lr->host_link();
			EXPECT_FAIL(
				t,
				"cycle %u: no echo after %lld ms: %u sends, last %d, last ping %u, "
				"state %s, host tx %llu rx %llu no-recipient %llu irq passes %llu, "
				"remote up %d asleep %d rx %llu, echoed %llu dropped %llu",
				i, (long long)((ktime_get_ns() - ping_start) / 1000000),
				cs->ping_sends.load(), cs->ping_err.load(), cs->last_ping.load(),
				state_name(lr->rproc->state()),
				hl ? (unsigned long long)hl->stats().tx_sent.load() : 0ull,
				hl ? (unsigned long long)hl->stats().rx_delivered.load() : 0ull,
				hl ? (unsigned long long)hl->stats().rx_no_recipient.load() : 0ull,
				hl ? (unsigned long long)hl->stats().rx_irq_passes.load() : 0ull,
				lr->remote && lr->remote->link_up(),
				lr->remote && lr->remote->asleep(),
				lr->remote ? (unsigned long long)lr->remote->link()
						     .stats()
						     .rx_delivered.load()
					   : 0ull,
				(unsigned long long)s_echo.echoed.load(),
				(unsigned long long)s_echo.dropped.load());
			break;
		}
		if (i % 4 == 3) {
			/* The remote stops taking messages: the senders fill the link and block. */
			{
				keel::Guard g{ lr->fw_lock };
				for (u32 tries = 0; tries < 100 && lr->remote; tries++) {
					if (lr->remote->suspend().is_ok())
						break;
					msleep(1);
				}
			}
			/*
			 * Crash only once a sender is blocked (in one send for 2 ms),
			 * however slow the machine: each such cycle measures one.
			 */
			(void)wait_for([] { return a_sender_blocked(ms_to_ns(2)); },
				       ms_to_ns(2000));
		}
		msleep(1);
		CrashReason why = reasons[i % 4];
		by_reason[u32(why)]++;
		switch (why) {
		case CrashReason::PeerGone:
			lr->cut();
			break;
		case CrashReason::Watchdog:
			lr->watchdog();
			break;
		case CrashReason::FatalError:
			lr->fatal("injected");
			break;
		case CrashReason::Message:
			lr->rproc->report_crash(CrashReason::Message, "bye");
			break;
		}
		if (!wait_for([&] { return lr->rproc->stats().recoveries == i + 1; }, TIMEOUT)) {
			log_set_echo(true);
			EXPECT_FAIL(t, "cycle %u: recovery did not complete", i);
			break;
		}
		cycles = i + 1;
	}
	log_set_echo(true);
	s64 took = ktime_get_ns() - start;
	RpmsgDevice *ch = wait_client(cs, lr, TIMEOUT);
	ASSERT_NOT_NULL(t, ch);
	EXPECT_TRUE(t, ping(cs, *ch, CYCLES + 1, TIMEOUT));

	RprocStats st = lr->rproc->stats();
	t.info("%u crash/recover cycles in %lld ms under load (%u senders, %llu messages sent): "
	       "worst blocked-sender unblock %lld us after detection (%llu measured), recovery "
	       "last %lld us, longest %lld us",
	       cycles, (long long)ns_to_ms(took), SENDERS, (unsigned long long)load->sent.load(),
	       (long long)(load->worst_ns.load() / 1000), (unsigned long long)load->measured.load(),
	       (long long)(st.last_recovery_ns / 1000), (long long)(st.max_recovery_ns / 1000));
	/* However many fitted the budget: enough to mean something. */
	EXPECT_GE(t, cycles, 20u);
	/* Counters: exact. */
	EXPECT_EQ(t, st.crashes, u64(cycles));
	EXPECT_EQ(t, st.recoveries, u64(cycles));
	EXPECT_EQ(t, st.recovery_failures, 0u);
	EXPECT_EQ(t, st.boots, u64(cycles) + 1);
	for (u32 r = 0; r < RPROC_NR_CRASH_REASONS; r++)
		EXPECT_EQ(t, st.crashes_by_reason[r], by_reason[r]);
	EXPECT_EQ(t, lr->starts.load(), cycles + 1);
	EXPECT_EQ(t, lr->stops.load(), cycles);
	/* Every probe has its remove (the current one is still bound). */
	EXPECT_EQ(t, cs->probes.load(), cycles + 1);
	EXPECT_EQ(t, cs->removes.load(), cycles);
	/* Every sender that failed, failed with -EPIPE, at once. */
	EXPECT_EQ(t, load->other_errors.load(), 0u);
	EXPECT_EQ(t, load->last_other.load(), 0);
	EXPECT_GE(t, load->epipe.load(), load->measured.load());
	EXPECT_GT(t, load->measured.load(), u64(cycles / 4));
	/* The bound is 100 ms; a loaded machine gets ten times that before this fails. */
	EXPECT_LT(t, load->worst_ns.load(), ms_to_ns(1000));
	if (load->late.load())
		t.info("%llu senders returned later than 100 ms",
		       (unsigned long long)load->late.load());
	/* And at the end, the last client's remove too (once the last echoes are in). */
	load->pause.store(true);
	msleep(50);
	lr->rproc->shutdown();
	EXPECT_EQ(t, cs->probes.load(), cs->removes.load());
}

const TestCase remoteproc_stress_cases[] = {
	KEEL_CASE(thousand_crash_recover_cycles_under_load),
	{},
};

const TestSuite remoteproc_stress_suite = { .name = "remoteproc_stress",
					    .cases = remoteproc_stress_cases };

} // namespace

KEEL_TEST_SUITE(remoteproc_stress_suite);
