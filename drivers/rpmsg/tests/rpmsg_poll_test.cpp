// SPDX-License-Identifier: GPL-2.0
/*
 * Delivery modes (rpmsg_poll.cpp, Documentation/rpmsg.rst): host and
 * remote in one address space over the loopback doorbell
 * (rpmsg_fixture.h). Polling mode in both roles (the links' polling
 * threads deliver, the doorbell never runs a pass); a client's busy-poll
 * section (the remote's notifications off while it is open, the budget
 * of poll_rx() honoured, what raced in delivered when it closes, no
 * deadlock when a callback polls its own link); the adaptive spin's
 * policy, and a spin that misses falling back to sleep; no message lost,
 * duplicated or reordered while a client switches between polling,
 * spinning and sleeping under a stream; and no allocation across 10^5
 * messages each way in every mode.
 */
#include <keel/log.h>
#include <keel/test.h>
#include <rpmsg/rpmsg_poll.h>

#include "rpmsg_fixture.h"

using namespace keel;
using namespace keel::test;
using namespace rpmsg;
using namespace rpmsg::test;

namespace {

constexpr const char *SERVICE = "rpmsg-poll-echo";

/* --- remote side: echo from the callback --- */

constinit Atomic<u64> s_echo_dropped{ 0 };

struct PollEcho : NonMovable {
	static Result<UniquePtr<PollEcho>> probe(RpmsgDevice &)
	{
		return make_unique<PollEcho>(GFP_KERNEL);
	}
	Result<void> on_message(RpmsgDevice &rpdev, Span<const u8> data, u32 src)
	{
		/* "n": no echo (the host polls what the test sends it). */
		if (data.size() && data[0] == 'n')
			return ok();
		Result<void> r = trysendto(*rpdev.ept(), data, src);
		if (r.is_error())
			s_echo_dropped.fetch_add(1);
		return r;
	}
};
constinit RpmsgDriver s_poll_echo{ driver_for<PollEcho>, "rpmsg_poll_test_echo" };

/* --- host side: a client that counts, checks order, and may poll from its callback --- */

struct PollClient;
constinit Atomic<PollClient *> s_client{ nullptr };

struct PollClient : NonMovable {
	static constexpr RpmsgDeviceId id_table[] = { { "rpmsg-poll-echo" }, {} };
	RpmsgDevice *rpdev = nullptr;
	WaitQueue wq{ "rpmsg_poll_client", KEEL_LOCK_KEY() };
	Atomic<u64> received{ 0 };
	Atomic<u64> bad{ 0 };
	Atomic<u32> expect_seq{ 0 };
	Atomic<bool> was_atomic{ true };
	/* poll_rx() of its own link from the callback: what it returned. */
	bool poll_in_cb = false;
	Atomic<u32> polled_in_cb{ 0 };

	static Result<UniquePtr<PollClient>> probe(RpmsgDevice &rpdev)
	{
		auto c = TRY(make_unique<PollClient>(GFP_KERNEL));
		c->rpdev = &rpdev;
		s_client.store(c.get());
		return c;
	}
	void remove(RpmsgDevice &) { s_client.store(nullptr); }
	Result<void> on_message(RpmsgDevice &rd, Span<const u8> data, u32)
	{
		u32 seq = expect_seq.load();
		u32 got = ~0u;
		if (data.size() >= 8)
			memcpy(&got, data.data() + 4, 4);
		if (got != seq)
			bad.fetch_add(1);
		expect_seq.store(seq + 1);
		if (!keel_port_in_atomic())
			was_atomic.store(false);
		if (poll_in_cb)
			polled_in_cb.fetch_add(poll_rx(*rd.ept(), 8));
		received.fetch_add(1);
		wq.wake_up();
		return ok();
	}
};
constinit RpmsgDriver s_poll_client{ driver_for<PollClient>, "rpmsg_poll_test_client" };

struct Session {
	RpmsgPair *pair = nullptr;
	RefPtr<RpmsgDevice> ch;	 /* the host's channel */
	RefPtr<RpmsgDevice> svc; /* the remote's service */
	PollClient *client = nullptr;
	RpmsgLink *hl = nullptr;
	RpmsgLink *rl = nullptr;
};

PairConfig poll_config(RpmsgDelivery host, RpmsgDelivery remote)
{
	PairConfig c;
	c.services[0] = { SERVICE, "rpmsg_poll_test_echo" };
	c.drivers[0] = &s_poll_echo;
	c.drivers[1] = &s_poll_client;
	c.host_link.delivery = host;
	c.remote_link.delivery = remote;
	return c;
}

Session bring_up(Test &t, const PairConfig &cfg)
{
	s_echo_dropped.store(0);
	s_client.store(nullptr);
	Session s;
	s.pair = make_pair(t, cfg);
	if (!s.pair)
		return s;
	s.ch = s.pair->host_channel(SERVICE);
	if (!s.ch) {
		EXPECT_FAIL(t, "the host never got a bound %s channel", SERVICE);
		return s;
	}
	s.client = s_client.load();
	s.hl = s.pair->host_link();
	s.rl = &s.pair->remote->link();
	s.svc = s.rl->find_channel(SERVICE, RPMSG_ADDR_ANY);
	if (!s.client || !s.svc)
		EXPECT_FAIL(t, "the client did not probe, or the service is gone");
	return s;
}

/* Message @seq: an op byte, then the sequence number at offset 4. */
Result<void> send_seq(RpmsgEndpoint &ept, u32 seq, u8 op = 'e', u32 dst = RPMSG_ADDR_ANY)
{
	u8 buf[16] = { op };
	memcpy(buf + 4, &seq, 4);
	Span<const u8> m(buf, sizeof(buf));
	return dst == RPMSG_ADDR_ANY ? send(ept, m) : sendto(ept, m, dst);
}

/* The remote sends @n messages to the host's channel (no echo asked). */
Result<void> remote_sends(Session &s, u32 first, u32 n)
{
	for (u32 i = 0; i < n; i++)
		TRY(send_seq(*s.svc->ept(), first + i, 'n', s.ch->src()));
	return ok();
}

bool wait_received(Session &s, u64 n)
{
	return wait_event_spin(
		       *s.ch->ept(), s.client->wq, [&] { return s.client->received.load() >= n; },
		       ms_to_ns(5000)) > 0;
}

/* --- polling mode --- */

struct ModeParams {
	RpmsgDelivery host, remote;
	const char *name;
};
const ModeParams mode_params[] = {
	{ RpmsgDelivery::Polling, RpmsgDelivery::Polling, "both polling" },
	{ RpmsgDelivery::Polling, RpmsgDelivery::Doorbell, "host polling" },
	{ RpmsgDelivery::Doorbell, RpmsgDelivery::Polling, "remote polling" },
};
void describe_mode(const ModeParams &p, char *desc)
{
	keel::snprintf(desc, KEEL_TEST_DESC_LEN, "%s", p.name);
}
KEEL_PARAMS(mode_gen, mode_params, describe_mode)

void polling_mode_delivers_without_doorbell_passes(Test &t)
{
	const ModeParams &m = t.param<ModeParams>();
	Session s = bring_up(t, poll_config(m.host, m.remote));
	ASSERT_NOT_NULL(t, s.client);
	u64 host_irq = s.hl->stats().rx_irq_passes.load();
	u64 remote_irq = s.rl->stats().rx_irq_passes.load();
	constexpr u32 N = 2000;
	for (u32 seq = 0; seq < N; seq++) {
		ASSERT_OK(t, send_seq(*s.ch->ept(), seq));
		if (seq % 16 == 15)
			ASSERT_TRUE(t, wait_received(s, seq + 1));
	}
	ASSERT_TRUE(t, wait_received(s, N));
	EXPECT_EQ(t, s.client->bad.load(), 0u);
	EXPECT_EQ(t, s_echo_dropped.load(), 0u);
	EXPECT_TRUE(t, s.client->was_atomic.load());
	/* A polling link's messages are delivered by polls, never by a doorbell pass. */
	if (m.host == RpmsgDelivery::Polling) {
		EXPECT_EQ(t, s.hl->stats().rx_irq_passes.load(), host_irq);
		EXPECT_GT(t, s.hl->stats().rx_polls.load(), 0u);
	}
	if (m.remote == RpmsgDelivery::Polling) {
		EXPECT_EQ(t, s.rl->stats().rx_irq_passes.load(), remote_irq);
		EXPECT_GT(t, s.rl->stats().rx_polls.load(), 0u);
	}
}

/* A polling thread that never sleeps (a dedicated core) still stops and lets the link go. */
void polling_thread_that_never_sleeps_stops(Test &t)
{
	PairConfig cfg = poll_config(RpmsgDelivery::Polling, RpmsgDelivery::Polling);
	cfg.host_link.busy_poll_idle_ns = -1;
	cfg.remote_link.busy_poll_idle_ns = -1;
	Session s = bring_up(t, cfg);
	ASSERT_NOT_NULL(t, s.client);
	for (u32 seq = 0; seq < 100; seq++) {
		ASSERT_OK(t, send_seq(*s.ch->ept(), seq));
		ASSERT_TRUE(t, wait_received(s, seq + 1));
	}
	EXPECT_EQ(t, s.client->bad.load(), 0u);
	/* The pair's teardown stops both threads (the case fails on a hang). */
}

/* --- busy-poll sections --- */

void busy_poll_section_silences_the_doorbell(Test &t)
{
	Session s = bring_up(t, poll_config(RpmsgDelivery::Doorbell, RpmsgDelivery::Doorbell));
	ASSERT_NOT_NULL(t, s.client);
	RpmsgEndpoint &ept = *s.ch->ept();
	busy_poll_begin(ept);
	u64 irq = s.hl->stats().rx_irq_passes.load();
	u64 rings = s.pair->link->a().delivered();
	/* Sent with the host's notifications off: they wait in the ring. */
	ASSERT_OK(t, remote_sends(s, 0, 10));
	s.pair->link->flush();
	EXPECT_EQ(t, s.client->received.load(), 0u);
	EXPECT_EQ(t, s.pair->link->a().delivered(), rings);
	/* poll_rx() honours its budget. */
	EXPECT_EQ(t, poll_rx(ept, 3), 3u);
	EXPECT_EQ(t, s.client->received.load(), 3u);
	EXPECT_EQ(t, poll_rx(ept, 3), 3u);
	EXPECT_EQ(t, poll_rx(ept, 3), 3u);
	EXPECT_EQ(t, poll_rx(ept, 3), 1u);
	EXPECT_EQ(t, poll_rx(ept, 3), 0u);
	EXPECT_EQ(t, s.client->received.load(), 10u);
	EXPECT_EQ(t, s.hl->stats().rx_irq_passes.load(), irq);
	busy_poll_end(ept);
	/* Re-armed: the doorbell delivers again. */
	ASSERT_OK(t, remote_sends(s, 10, 1));
	EXPECT_TRUE(t, wait_for([&] { return s.client->received.load() == 11; }));
	EXPECT_GT(t, s.hl->stats().rx_irq_passes.load(), irq);
	EXPECT_EQ(t, s.client->bad.load(), 0u);
}

void busy_poll_end_delivers_what_raced_in(Test &t)
{
	Session s = bring_up(t, poll_config(RpmsgDelivery::Doorbell, RpmsgDelivery::Doorbell));
	ASSERT_NOT_NULL(t, s.client);
	RpmsgEndpoint &ept = *s.ch->ept();
	busy_poll_begin(ept);
	ASSERT_OK(t, remote_sends(s, 0, 5));
	s.pair->link->flush();
	EXPECT_EQ(t, s.client->received.load(), 0u);
	/* Nobody polled them: the section's end does, in this thread, before it returns. */
	busy_poll_end(ept);
	EXPECT_EQ(t, s.client->received.load(), 5u);
	EXPECT_EQ(t, s.client->bad.load(), 0u);
}

void sections_nest_and_the_last_one_rearms(Test &t)
{
	Session s = bring_up(t, poll_config(RpmsgDelivery::Doorbell, RpmsgDelivery::Doorbell));
	ASSERT_NOT_NULL(t, s.client);
	RpmsgEndpoint &ept = *s.ch->ept();
	busy_poll_begin(ept);
	busy_poll_begin(ept);
	busy_poll_end(ept);
	/* One section still open: still silent. */
	u64 rings = s.pair->link->a().delivered();
	ASSERT_OK(t, remote_sends(s, 0, 2));
	s.pair->link->flush();
	EXPECT_EQ(t, s.pair->link->a().delivered(), rings);
	EXPECT_EQ(t, s.client->received.load(), 0u);
	busy_poll_end(ept);
	EXPECT_EQ(t, s.client->received.load(), 2u);
	ASSERT_OK(t, remote_sends(s, 2, 1));
	EXPECT_TRUE(t, wait_for([&] { return s.client->received.load() == 3; }));
}

void poll_from_a_callback_of_the_same_link_returns_zero(Test &t)
{
	Session s = bring_up(t, poll_config(RpmsgDelivery::Doorbell, RpmsgDelivery::Doorbell));
	ASSERT_NOT_NULL(t, s.client);
	s.client->poll_in_cb = true;
	ASSERT_OK(t, remote_sends(s, 0, 4));
	EXPECT_TRUE(t, wait_for([&] { return s.client->received.load() == 4; }));
	/* The pass holds the link's rx lock: a poll from inside it has nothing to do. */
	EXPECT_EQ(t, s.client->polled_in_cb.load(), 0u);
	EXPECT_EQ(t, s.client->bad.load(), 0u);
}

/* --- the adaptive spin --- */

void adaptive_spin_follows_the_latency_within_its_cap(Test &t)
{
	const s64 cap = 50 * NSEC_PER_USEC;
	RpmsgSpin sp;
	EXPECT_EQ(t, sp.budget(cap), 0);
	/* Missed, within the cap: grow to cover it (5/4 of it). */
	sp.update(8 * NSEC_PER_USEC, false, cap);
	EXPECT_EQ(t, sp.budget(cap), 10 * NSEC_PER_USEC);
	/* Caught: no change. */
	sp.update(2 * NSEC_PER_USEC, true, cap);
	EXPECT_EQ(t, sp.budget(cap), 10 * NSEC_PER_USEC);
	/* Missed again just above it: at least double. */
	sp.update(11 * NSEC_PER_USEC, false, cap);
	EXPECT_EQ(t, sp.budget(cap), 20 * NSEC_PER_USEC);
	/* Never beyond the cap. */
	sp.update(45 * NSEC_PER_USEC, false, cap);
	EXPECT_EQ(t, sp.budget(cap), cap);
	EXPECT_EQ(t, sp.budget(10 * NSEC_PER_USEC), 10 * NSEC_PER_USEC);
	/* Longer than the cap: spinning cannot pay; halve down to nothing. */
	u32 halvings = 0;
	while (sp.budget(cap) && halvings < 64) {
		sp.update(cap + 1, false, cap);
		halvings++;
	}
	EXPECT_EQ(t, sp.budget(cap), 0);
	EXPECT_LE(t, halvings, 7u);
	/* A tiny latency still starts at the floor. */
	sp.update(1, false, cap);
	EXPECT_EQ(t, sp.budget(cap), RpmsgSpin::SPIN_MIN_NS);
	/* A cap of 0 turns it off. */
	EXPECT_EQ(t, sp.budget(0), 0);
}

/*
 * A spin cut short because the scheduler wanted the CPU (oversubscribed
 * CPUs: the spin takes time from whoever would answer it) drops the
 * budget to 0 and keeps it there for QUIET_WAITS waits, however short
 * they were, then lets it grow again (a probe).
 */
void adaptive_spin_backs_off_when_the_cpu_is_wanted(Test &t)
{
	const s64 cap = 50 * NSEC_PER_USEC;
	RpmsgSpin sp;
	sp.update(8 * NSEC_PER_USEC, false, cap);
	EXPECT_EQ(t, sp.budget(cap), 10 * NSEC_PER_USEC);
	sp.backoff();
	EXPECT_EQ(t, sp.budget(cap), 0);
	for (u32 i = 0; i < RpmsgSpin::QUIET_WAITS; i++)
		sp.update(2 * NSEC_PER_USEC, false, cap);
	EXPECT_EQ(t, sp.budget(cap), 0);
	/* Quiet time over: a short wait grows it again. */
	sp.update(8 * NSEC_PER_USEC, false, cap);
	EXPECT_EQ(t, sp.budget(cap), 10 * NSEC_PER_USEC);
}

/* --- spin-then-sleep --- */

struct LateSend {
	Session *s;
	Atomic<bool> go{ false };
	Atomic<int> err{ 0 };
};

/*
 * A client's wait spins for the adaptive budget, then sleeps: a message
 * that comes long after the budget still wakes it (the doorbell was
 * re-armed when the spin's section closed), and the wait counts as a miss
 * that shrinks the budget. The budget is seeded (no timing needed to grow
 * it) and the message is sent 100 ms after the wait starts, far beyond
 * the 1 ms cap.
 */
void spin_then_sleep_falls_back_to_sleep(Test &t)
{
	const s64 cap = NSEC_PER_MSEC;
	PairConfig cfg = poll_config(RpmsgDelivery::Doorbell, RpmsgDelivery::Doorbell);
	cfg.host_link.spin_max_ns = cap;
	Session s = bring_up(t, cfg);
	ASSERT_NOT_NULL(t, s.client);
	s.hl->wait_spin().update(cap / 2, false, cap);
	s64 budget = s.hl->wait_spin().budget(cap);
	ASSERT_GT(t, budget, 0);
	LateSend ls{ &s };
	Runner r;
	ASSERT_OK(t, r.start(
			     [](void *p) {
				     LateSend *l = static_cast<LateSend *>(p);
				     while (!l->go.load() && !Thread::should_stop())
					     msleep(1);
				     msleep(100);
				     l->err.store(remote_sends(*l->s, 0, 1).is_error() ? -EIO : 0);
			     },
			     &ls));
	u64 hits = s.hl->stats().wait_spin_hits.load();
	u64 misses = s.hl->stats().wait_spin_misses.load();
	u64 irq = s.hl->stats().rx_irq_passes.load();
	ls.go.store(true);
	EXPECT_TRUE(t, wait_received(s, 1));
	EXPECT_TRUE(t, r.wait(ms_to_ns(5000)));
	EXPECT_EQ(t, ls.err.load(), 0);
	EXPECT_EQ(t, s.client->received.load(), 1u);
	/* It spun, missed, slept; the doorbell's pass delivered and woke it. */
	EXPECT_EQ(t, s.hl->stats().wait_spin_hits.load(), hits);
	EXPECT_EQ(t, s.hl->stats().wait_spin_misses.load(), misses + 1);
	EXPECT_GT(t, s.hl->stats().rx_irq_passes.load(), irq);
	/* Later than the cap: spinning could not have paid, the budget shrinks. */
	EXPECT_LT(t, s.hl->wait_spin().budget(cap), budget);
	EXPECT_EQ(t, s.client->bad.load(), 0u);
}

/* --- switching between modes under a stream --- */

struct Stream {
	Session *s;
	u32 n;
	Atomic<u32> sent{ 0 };
	Atomic<int> err{ 0 };
};

struct SwitchParams {
	RpmsgDelivery host;
	const char *name;
};
const SwitchParams switch_params[] = {
	{ RpmsgDelivery::Doorbell, "doorbell link" },
	{ RpmsgDelivery::Polling, "polling link" },
};
void describe_switch(const SwitchParams &p, char *desc)
{
	keel::snprintf(desc, KEEL_TEST_DESC_LEN, "%s", p.name);
}
KEEL_PARAMS(switch_gen, switch_params, describe_switch)

/*
 * The remote streams messages (blocking sends, so it runs into full rings)
 * while the host's client switches, every few dozen messages, between the
 * ways a message can reach it: its own busy-poll section with small poll
 * budgets, a spin-then-sleep wait, and a plain sleep on the doorbell (or,
 * on a polling link, its polling thread, which then shares the ring with
 * the client's sections). Every message arrives once, in order (the
 * client checks each sequence number).
 */
void switching_modes_loses_and_reorders_nothing(Test &t)
{
	const SwitchParams &m = t.param<SwitchParams>();
	PairConfig cfg = poll_config(m.host, RpmsgDelivery::Doorbell);
	cfg.host_link.busy_poll_idle_ns = 20 * NSEC_PER_USEC;
	Session s = bring_up(t, cfg);
	ASSERT_NOT_NULL(t, s.client);
	RpmsgEndpoint &ept = *s.ch->ept();
	constexpr u32 N = 6000, STEP = 37;
	Stream st{ &s, N };
	Runner r;
	ASSERT_OK(t, r.start(
			     [](void *p) {
				     Stream *x = static_cast<Stream *>(p);
				     for (u32 i = 0; i < x->n && !Thread::should_stop(); i++) {
					     if (remote_sends(*x->s, i, 1).is_error()) {
						     x->err.store(-EIO);
						     return;
					     }
					     x->sent.store(i + 1);
				     }
			     },
			     &st));
	bool ok = true;
	for (u32 round = 0; ok && s.client->received.load() < N; round++) {
		u64 want = keel::min(u64(s.client->received.load()) + STEP, u64(N));
		auto got = [&] { return s.client->received.load() >= want; };
		switch (round % 3) {
		case 0: { /* the client's own section, a few messages per poll */
			busy_poll_begin(ept);
			s64 deadline = ktime_get_ns() + ms_to_ns(5000);
			for (u32 i = 0; !got(); i++) {
				if (!poll_rx(ept, 1 + round % 5))
					cpu_relax();
				if ((i & 255) == 0 && ktime_get_ns() > deadline)
					break;
			}
			busy_poll_end(ept);
			ok = got();
			break;
		}
		case 1: /* spin, then sleep */
			ok = wait_event_spin(ept, s.client->wq, got, ms_to_ns(5000)) > 0;
			break;
		default: /* sleep: the doorbell's pass (or the polling thread) delivers */
			ok = s.client->wq.wait_event_timeout(got, ms_to_ns(5000)) > 0;
			break;
		}
		if (st.err.load())
			break;
	}
	EXPECT_TRUE(t, r.wait(ms_to_ns(5000)));
	EXPECT_EQ(t, st.err.load(), 0);
	EXPECT_EQ(t, st.sent.load(), N);
	EXPECT_TRUE(t, ok);
	/* Nothing more arrives later (no duplicate), nothing was dropped or refused. */
	EXPECT_TRUE(t, wait_for([&] { return s.client->received.load() >= N; }));
	EXPECT_EQ(t, s.client->received.load(), u64(N));
	EXPECT_EQ(t, s.client->bad.load(), 0u);
	EXPECT_EQ(t, s.hl->stats().rx_cb_errors.load(), 0u);
	EXPECT_EQ(t, s.hl->stats().rx_hold_dropped.load(), 0u);
}

/* --- no allocation on the data path, in every mode --- */

struct AllocParams {
	RpmsgDelivery host, remote;
	bool busy_poll; /* the host's client polls for its replies in a section */
	const char *name;
};
const AllocParams alloc_params[] = {
	{ RpmsgDelivery::Doorbell, RpmsgDelivery::Doorbell, false, "doorbell, spin-then-sleep" },
	{ RpmsgDelivery::Doorbell, RpmsgDelivery::Doorbell, true, "doorbell, client busy-polls" },
	{ RpmsgDelivery::Polling, RpmsgDelivery::Polling, false, "polling threads" },
};
void describe_alloc(const AllocParams &p, char *desc)
{
	keel::snprintf(desc, KEEL_TEST_DESC_LEN, "%s", p.name);
}
KEEL_PARAMS(alloc_gen, alloc_params, describe_alloc)

/*
 * 10^5 messages each way: the host's send and receive paths, the remote's
 * receive and send paths (its echo), the delivery machinery of the mode
 * (passes, spins, polling threads, sections): not one allocation. Bounded
 * by a work budget, as rpmsg_virtio's case (emulated kernels with KASAN
 * on a loaded machine get through fewer in KUnit's time): 10^5 messages,
 * or as many as fit in 30 s, checked once per 1024; the count is printed.
 */
void no_allocation_on_the_message_path_in_every_mode(Test &t)
{
	const AllocParams &m = t.param<AllocParams>();
	PairConfig cfg = poll_config(m.host, m.remote);
	/*
	 * The polling threads go to sleep soon after each window (the test's
	 * own thread needs a CPU too: KUnit runs on two emulated ones); while
	 * the window flows they poll, and sleeping and waking is exercised.
	 */
	cfg.host_link.busy_poll_idle_ns = 20 * NSEC_PER_USEC;
	cfg.remote_link.busy_poll_idle_ns = 20 * NSEC_PER_USEC;
	Session s = bring_up(t, cfg);
	ASSERT_NOT_NULL(t, s.client);
	RpmsgEndpoint &ept = *s.ch->ept();
	constexpr u32 WINDOW = 16;
	auto wait = [&](u64 n) {
		if (!m.busy_poll)
			return wait_received(s, n);
		s64 deadline = ktime_get_ns() + ms_to_ns(5000);
		for (u32 i = 0; s.client->received.load() < n; i++) {
			if (!poll_rx(ept, WINDOW))
				cpu_relax();
			if ((i & 255) == 0 && ktime_get_ns() > deadline)
				return false;
		}
		return true;
	};
	/* Sends [from, to) unless the budget ends first (checked once per 1024): the end. */
	auto run = [&](u32 from, u32 to, s64 budget_end) -> u32 {
		u32 seq = from;
		for (; seq < to; seq++) {
			if ((seq - from) % 1024 == 1023 && ktime_get_ns() > budget_end)
				break;
			if (send_seq(ept, seq).is_error())
				return 0;
			if (seq % WINDOW == WINDOW - 1 && !wait(seq + 1))
				return 0;
		}
		return wait(seq) ? seq : 0;
	};
	if (m.busy_poll)
		busy_poll_begin(ept);
	/* Warm-up: every buffer, slot and thread used once. */
	bool ok = run(0, 512, KEEL_S64_MAX) == 512;
	constexpr u32 N = 100000;
	u64 allocs = alloc_calls();
	u32 end = ok ? run(512, 512 + N, ktime_get_ns() + ms_to_ns(30000)) : 0;
	u64 used = alloc_calls() - allocs;
	if (m.busy_poll)
		busy_poll_end(ept);
	ASSERT_TRUE(t, ok);
	ASSERT_GE(t, end, 512u + 1023u);
	EXPECT_EQ(t, used, 0u);
	EXPECT_EQ(t, s.client->bad.load(), 0u);
	EXPECT_EQ(t, s_echo_dropped.load(), 0u);
	t.info("%s: %u messages each way, %llu allocations", m.name, end - 512,
	       (unsigned long long)used);
}

const TestCase rpmsg_poll_cases[] = {
	KEEL_PARAM_CASE(polling_mode_delivers_without_doorbell_passes, mode_gen),
	KEEL_CASE(polling_thread_that_never_sleeps_stops),
	KEEL_CASE(busy_poll_section_silences_the_doorbell),
	KEEL_CASE(busy_poll_end_delivers_what_raced_in),
	KEEL_CASE(sections_nest_and_the_last_one_rearms),
	KEEL_CASE(poll_from_a_callback_of_the_same_link_returns_zero),
	KEEL_CASE(adaptive_spin_follows_the_latency_within_its_cap),
	KEEL_CASE(adaptive_spin_backs_off_when_the_cpu_is_wanted),
	KEEL_CASE(spin_then_sleep_falls_back_to_sleep),
	KEEL_PARAM_CASE(switching_modes_loses_and_reorders_nothing, switch_gen),
	KEEL_PARAM_CASE(no_allocation_on_the_message_path_in_every_mode, alloc_gen),
	{},
};

const TestSuite rpmsg_poll_suite = { .name = "rpmsg_poll", .cases = rpmsg_poll_cases };

} // namespace

KEEL_TEST_SUITE(rpmsg_poll_suite);
