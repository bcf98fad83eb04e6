// SPDX-License-Identifier: GPL-2.0
/*
 * Runtime PM of a remote processor over the loopback platform: the remote
 * sleeps after the autosuspend delay and the next send wakes it first;
 * 10^4 messages across repeated sleeps arrive complete and in order; a
 * remote with work refuses to sleep and is asked again; a channel held
 * open keeps it awake; a crash while it sleeps recovers.
 */
#include <keel/log.h>
#include <keel/pm_runtime.h>
#include <keel/test.h>

#include "rproc_test_drivers.h"

using namespace keel;
using namespace keel::test;
using namespace rproc;
using namespace rproc::test;
using rpmsg::test::wait_for;

namespace {

constexpr const char *SERVICE = "rproc-pm-echo";
const s64 TIMEOUT = ms_to_ns(5000);

constinit ClientPtr s_client;
constinit EchoCounters s_echo;
constexpr rpmsg::RpmsgDeviceId s_ids[] = { { "rproc-pm-echo" }, {} };

constinit RpmsgDriver s_client_drv{ rpmsg::driver_for<ClientDriver<&s_client, s_ids>>,
				    "rproc_pm_client" };
constinit RpmsgDriver s_echo_drv{ rpmsg::driver_for<EchoDriver<&s_echo>>, "rproc_pm_echo" };

struct Case {
	ClientState *cs = nullptr;
	LoopbackRemote *lr = nullptr;
	RpmsgDevice *ch = nullptr;
};

Case bring_up(Test &t, int delay_ms)
{
	Case c;
	c.cs = client_state<&s_client, &s_echo>(t);
	if (!c.cs)
		return c;
	LoopbackConfig cfg = echo_config(SERVICE, s_echo_drv, s_client_drv);
	cfg.autosuspend_delay_ms = delay_ms;
	c.lr = make_loopback(t, cfg);
	if (!c.lr)
		return c;
	c.ch = wait_client(c.cs, c.lr);
	if (!c.ch)
		EXPECT_FAIL(t, "the client never bound to %s", SERVICE);
	return c;
}

/* Asleep: the remote processor's state, and the PM core done with the transition. */
bool asleep(Case &c, s64 timeout_ns = TIMEOUT)
{
	return c.lr->rproc->wait_for_state(RprocState::Suspended, timeout_ns) &&
	       wait_for([&] { return pm_runtime_suspended(*c.lr->rproc); }, timeout_ns);
}

void suspends_when_idle_and_a_send_resumes_it(Test &t)
{
	Case c = bring_up(t, 20);
	ASSERT_NOT_NULL(t, c.ch);
	ASSERT_TRUE(t, ping(c.cs, *c.ch, 1));
	/* Idle past the delay: asleep, the remote told so, the PM status says it. */
	ASSERT_TRUE(t, asleep(c));
	EXPECT_TRUE(t, c.lr->remote->asleep());
	EXPECT_TRUE(t, pm_runtime_suspended(*c.lr->rproc));
	/* (A slow machine may have slept once before the first ping already.) */
	RprocStats st = c.lr->rproc->stats();
	EXPECT_GE(t, st.suspends, 1u);
	EXPECT_EQ(t, st.suspends, st.resumes + 1);
	EXPECT_EQ(t, u64(c.lr->suspends.load()), st.suspends);
	u64 suspends = st.suspends, resumes = st.resumes;
	/* A send wakes it before it goes out; the answer comes back. */
	EXPECT_TRUE(t, ping(c.cs, *c.ch, 2));
	st = c.lr->rproc->stats();
	EXPECT_EQ(t, st.resumes, resumes + 1);
	EXPECT_EQ(t, u64(c.lr->resumes.load()), st.resumes);
	/* And to sleep again. */
	ASSERT_TRUE(t, asleep(c));
	EXPECT_EQ(t, c.lr->rproc->stats().suspends, suspends + 1);
}

void ten_thousand_messages_in_order_across_sleeps(Test &t)
{
	Case c = bring_up(t, 2);
	ASSERT_NOT_NULL(t, c.ch);
	constexpr u32 N = 10000;
	constexpr u32 WINDOW = 16;
	/* Every this many messages, let the remote fall asleep first. */
	constexpr u32 BURST = 400;
	u32 sleeps = 0;
	for (u32 n = 0; n < N; n++) {
		if (n % BURST == 0 && n) {
			ASSERT_TRUE(t, asleep(c));
			sleeps++;
		}
		TestMsg m = { MSG_SEQ, n, {} };
		ASSERT_OK(t, rpmsg::send(*c.ch->ept(), msg_bytes(m)));
		if (n % WINDOW == WINDOW - 1 || n == N - 1) {
			u32 want = n + 1;
			bool got =
				c.cs->wq.wait_event_timeout(
					[&] { return c.cs->next_seq.load() >= want; }, TIMEOUT) > 0;
			if (!got) {
				RpmsgLink *hl = c.lr->host_link();
				t.info("stuck at %u: state %s pm %d asleep %d echoed %llu dropped "
				       "%llu "
				       "next %u remote rx %llu host tx %llu rx %llu",
				       n, state_name(c.lr->rproc->state()),
				       int(pm_runtime_status(*c.lr->rproc)), c.lr->remote->asleep(),
				       (unsigned long long)s_echo.echoed.load(),
				       (unsigned long long)s_echo.dropped.load(),
				       c.cs->next_seq.load(),
				       (unsigned long long)c.lr->remote->link()
					       .stats()
					       .rx_delivered.load(),
				       (unsigned long long)hl->stats().tx_sent.load(),
				       (unsigned long long)hl->stats().rx_delivered.load());
			}
			ASSERT_TRUE(t, got);
		}
	}
	EXPECT_EQ(t, c.cs->next_seq.load(), N);
	EXPECT_EQ(t, c.cs->out_of_order.load(), 0u);
	EXPECT_EQ(t, s_echo.dropped.load(), 0u);
	EXPECT_EQ(t, s_echo.echoed.load(), u64(N));
	RprocStats st = c.lr->rproc->stats();
	EXPECT_GE(t, st.suspends, u64(sleeps));
	EXPECT_GE(t, st.resumes, u64(sleeps));
	t.info("%u messages in order across %llu suspends and %llu resumes (%llu vetoed)", N,
	       (unsigned long long)st.suspends, (unsigned long long)st.resumes,
	       (unsigned long long)st.suspend_vetoes);
}

void a_busy_remote_refuses_then_sleeps(Test &t)
{
	Case c = bring_up(t, 5);
	ASSERT_NOT_NULL(t, c.ch);
	c.lr->refuse_suspend.store(true);
	/* Awake now (it may have slept already), then busy at each try. */
	ASSERT_TRUE(t, ping(c.cs, *c.ch, 7));
	u64 suspends = c.lr->rproc->stats().suspends;
	ASSERT_TRUE(t, wait_for([&] { return c.lr->rproc->stats().suspend_vetoes >= 3; }));
	EXPECT_EQ(t, c.lr->rproc->state(), RprocState::Running);
	/* Not asleep (a try may be under way: Suspending, then Active again). */
	EXPECT_FALSE(t, pm_runtime_suspended(*c.lr->rproc));
	EXPECT_EQ(t, c.lr->rproc->stats().suspends, suspends);
	/* The work is done: the next try succeeds. */
	c.lr->refuse_suspend.store(false);
	EXPECT_TRUE(t, asleep(c));
	EXPECT_TRUE(t, ping(c.cs, *c.ch, 1));
}

void an_open_channel_keeps_it_awake(Test &t)
{
	Case c = bring_up(t, 5);
	ASSERT_NOT_NULL(t, c.ch);
	ASSERT_TRUE(t, asleep(c));
	/* Held open: awake at once, and for as long as it is held. */
	ASSERT_OK(t, rpmsg::pm_get(*c.ch->ept()));
	EXPECT_EQ(t, c.lr->rproc->state(), RprocState::Running);
	msleep(50);
	EXPECT_EQ(t, c.lr->rproc->state(), RprocState::Running);
	u64 suspends = c.lr->rproc->stats().suspends;
	rpmsg::pm_put(*c.ch->ept());
	EXPECT_TRUE(t, asleep(c));
	EXPECT_EQ(t, c.lr->rproc->stats().suspends, suspends + 1);
}

void a_crash_while_asleep_recovers(Test &t)
{
	Case c = bring_up(t, 10);
	ASSERT_NOT_NULL(t, c.ch);
	ASSERT_TRUE(t, asleep(c));
	log_set_echo(false);
	c.lr->cut();
	ASSERT_TRUE(t, wait_for([&] { return c.lr->rproc->stats().recoveries == 1; }));
	log_set_echo(true);
	RpmsgDevice *ch = wait_client(c.cs, c.lr);
	ASSERT_NOT_NULL(t, ch);
	EXPECT_TRUE(t, ping(c.cs, *ch, 2));
	/* Runtime PM works for the new remote too. */
	EXPECT_TRUE(t, asleep(c));
	EXPECT_TRUE(t, ping(c.cs, *ch, 3));
	EXPECT_EQ(t, c.lr->rproc->stats().crashes, 1u);
}

void detach_wakes_the_remote_first(Test &t)
{
	Case c = bring_up(t, 5);
	ASSERT_NOT_NULL(t, c.ch);
	ASSERT_TRUE(t, asleep(c));
	ASSERT_OK(t, c.lr->rproc->detach());
	/* Awake without us: it serves the next host. */
	EXPECT_FALSE(t, c.lr->remote->asleep());
	/* Once it has ended the old session (else we would set up rings it still reads). */
	EXPECT_TRUE(t, wait_for([&] { return !c.lr->remote->link_up(); }));
	ASSERT_OK(t, c.lr->rproc->boot());
	RpmsgDevice *ch = wait_client(c.cs, c.lr);
	ASSERT_NOT_NULL(t, ch);
	EXPECT_TRUE(t, ping(c.cs, *ch, 4));
}

/*
 * A detach while a suspend is under way: the suspend finishes, then the
 * detach wakes the remote (it used to read the state before the suspend
 * had set it, skip the wake, and leave the remote asleep).
 */
void detach_during_a_suspend_wakes_the_remote(Test &t)
{
	Case c = bring_up(t, 5);
	ASSERT_NOT_NULL(t, c.ch);
	ASSERT_TRUE(t, asleep(c));
	c.lr->suspend_delay_ms.store(300);
	/* A send wakes it; idle again, the next suspend starts and takes 300 ms. */
	ASSERT_TRUE(t, ping(c.cs, *c.ch, 5));
	ASSERT_TRUE(t, wait_for([&] { return c.lr->in_suspend.load(); }));
	ASSERT_OK(t, c.lr->rproc->detach());
	EXPECT_FALSE(t, c.lr->in_suspend.load());
	EXPECT_FALSE(t, c.lr->remote->asleep());
	c.lr->suspend_delay_ms.store(0);
	EXPECT_TRUE(t, wait_for([&] { return !c.lr->remote->link_up(); }));
	ASSERT_OK(t, c.lr->rproc->boot());
	RpmsgDevice *ch = wait_client(c.cs, c.lr);
	ASSERT_NOT_NULL(t, ch);
	EXPECT_TRUE(t, ping(c.cs, *ch, 6));
}

const TestCase remoteproc_pm_cases[] = {
	KEEL_CASE(suspends_when_idle_and_a_send_resumes_it),
	KEEL_CASE(ten_thousand_messages_in_order_across_sleeps),
	KEEL_CASE(a_busy_remote_refuses_then_sleeps),
	KEEL_CASE(an_open_channel_keeps_it_awake),
	KEEL_CASE(a_crash_while_asleep_recovers),
	KEEL_CASE(detach_wakes_the_remote_first),
	KEEL_CASE(detach_during_a_suspend_wakes_the_remote),
	{},
};

const TestSuite remoteproc_pm_suite = { .name = "remoteproc_pm", .cases = remoteproc_pm_cases };

} // namespace

KEEL_TEST_SUITE(remoteproc_pm_suite);
