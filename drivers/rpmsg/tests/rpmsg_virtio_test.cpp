// SPDX-License-Identifier: GPL-2.0
/*
 * Host role (virtio_rpmsg_bus) and remote role (RpmsgRemote) in one
 * address space over the shared-memory transport and a deferred loopback
 * doorbell (rpmsg_fixture.h): bring-up and announcement, echoes of every
 * payload size, zero copy both ways, configured buffer sizes, no
 * allocation on the data path across 10^5 messages, a host restart (a new
 * session, announced again), and a crash that fails senders at once.
 */
#include <keel/log.h>
#include <keel/test.h>

#include "rpmsg_fixture.h"

using namespace keel;
using namespace keel::test;
using namespace rpmsg;
using namespace rpmsg::test;

namespace {

constexpr const char *SERVICE = "rpmsg-test-echo";

/* --- remote side: echo, by copy or zero copy --- */

constinit Atomic<bool> s_echo_zero_copy{ false };
constinit Atomic<u64> s_echo_dropped{ 0 };

struct TestEcho : NonMovable {
	static Result<UniquePtr<TestEcho>> probe(RpmsgDevice &)
	{
		return make_unique<TestEcho>(GFP_KERNEL);
	}
	Result<void> on_message(RpmsgDevice &rpdev, Span<const u8> data, u32 src)
	{
		RpmsgEndpoint &ept = *rpdev.ept();
		Result<void> r = ok();
		if (s_echo_zero_copy.load()) {
			auto b = get_tx_payload_buffer(ept, 0);
			if (b.is_ok()) {
				RpmsgTxBuf buf = b.release_value();
				memcpy(buf.payload.data(), data.data(), data.size());
				r = sendto_nocopy(ept, buf, u32(data.size()), src);
			} else {
				r = b.error();
			}
		} else {
			r = trysendto(ept, data, src);
		}
		if (r.is_error())
			s_echo_dropped.fetch_add(1);
		return r;
	}
};
constinit RpmsgDriver s_test_echo{ driver_for<TestEcho>, "rpmsg_test_echo" };

/* --- host side: a client that counts and checks what comes back --- */

struct TestClient;
constinit Atomic<TestClient *> s_client{ nullptr };

struct TestClient : NonMovable {
	static constexpr RpmsgDeviceId id_table[] = { { "rpmsg-test-echo" }, {} };
	WaitQueue wq{ "rpmsg_test_client", KEEL_LOCK_KEY() };
	Atomic<u64> received{ 0 };
	Atomic<u64> bad{ 0 };
	/* The next expected message: its sequence number and size. */
	Atomic<u32> expect_seq{ 0 };
	u32 (*size_of)(u32 seq) = nullptr;
	bool hold = false;
	/* Time each callback takes (a slow consumer), busy-waiting: callbacks cannot sleep. */
	s64 delay_ns = 0;
	Atomic<u32> held{ 0 };
	RpmsgRxToken tokens[8];

	static Result<UniquePtr<TestClient>> probe(RpmsgDevice &)
	{
		auto c = TRY(make_unique<TestClient>(GFP_KERNEL));
		s_client.store(c.get());
		return c;
	}
	void remove(RpmsgDevice &) { s_client.store(nullptr); }

	/* Payload of message @seq: its sequence number, then a pattern. */
	static void fill(u8 *p, u32 len, u32 seq)
	{
		for (u32 i = 0; i < len; i++)
			p[i] = u8(seq * 7 + i);
		if (len >= 4)
			memcpy(p, &seq, 4);
	}
	static bool check(const u8 *p, u32 len, u32 seq)
	{
		u32 s = seq;
		if (len >= 4)
			memcpy(&s, p, 4);
		if (s != seq)
			return false;
		for (u32 i = 4; i < len; i++)
			if (p[i] != u8(seq * 7 + i))
				return false;
		return true;
	}

	Result<void> on_message(RpmsgDevice &rpdev, Span<const u8> data, u32)
	{
		u32 seq = expect_seq.load();
		u32 want = size_of ? size_of(seq) : u32(data.size());
		if (data.size() != want || !check(data.data(), u32(data.size()), seq))
			bad.fetch_add(1);
		expect_seq.store(seq + 1);
		for (s64 until = ktime_get_ns() + delay_ns; delay_ns && ktime_get_ns() < until;)
			cpu_relax();
		if (hold && held.load() < ARRAY_SIZE(tokens)) {
			auto tok = hold_rx_buffer(*rpdev.ept());
			if (tok.is_ok())
				tokens[held.fetch_add(1)] = tok.value();
		}
		received.fetch_add(1);
		wq.wake_up();
		return ok();
	}

	bool wait_received(u64 n, s64 timeout_ns = ms_to_ns(5000))
	{
		return wq.wait_event_timeout([&] { return received.load() >= n; }, timeout_ns) > 0;
	}
};
constinit RpmsgDriver s_test_client{ driver_for<TestClient>, "rpmsg_test_client" };

PairConfig echo_config()
{
	PairConfig c;
	c.services[0] = { SERVICE, "rpmsg_test_echo" };
	c.drivers[0] = &s_test_echo;
	c.drivers[1] = &s_test_client;
	return c;
}

struct Session {
	RpmsgPair *pair = nullptr;
	RefPtr<RpmsgDevice> ch;
	TestClient *client = nullptr;
	/* Room for one message (off the stack: kernel stacks are small). */
	u8 *buf = nullptr;
	static constexpr u32 BUF = 2048;
};

Session bring_up(Test &t, const PairConfig &cfg)
{
	s_echo_zero_copy.store(false);
	s_echo_dropped.store(0);
	s_client.store(nullptr);
	Session s;
	s.buf = static_cast<u8 *>(t.alloc(Session::BUF));
	if (!s.buf) {
		EXPECT_FAIL(t, "no memory for the message buffer");
		return s;
	}
	s.pair = make_pair(t, cfg);
	if (!s.pair)
		return s;
	s.ch = s.pair->host_channel(SERVICE);
	if (!s.ch) {
		EXPECT_FAIL(t, "the host never got a bound %s channel", SERVICE);
		return s;
	}
	s.client = s_client.load();
	if (!s.client)
		EXPECT_FAIL(t, "the client driver did not probe");
	return s;
}

/* Sends message @seq of @len bytes from the host's channel. */
Result<void> host_send(Session &s, u32 seq, u32 len)
{
	if (len > Session::BUF)
		return err(-EINVAL);
	TestClient::fill(s.buf, len, seq);
	return send(*s.ch->ept(), Span<const u8>(s.buf, len));
}

void announce_creates_the_host_channel_and_binds_by_name(Test &t)
{
	Session s = bring_up(t, echo_config());
	ASSERT_NOT_NULL(t, s.client);
	RpmsgLink *hl = s.pair->host_link();
	ASSERT_NOT_NULL(t, hl);
	EXPECT_EQ(t, s.pair->remote->sessions(), 1u);
	EXPECT_TRUE(t, hl->peer_ns());
	/* Counted once the name service's work returns, which may be after the driver bound. */
	EXPECT_TRUE(t, wait_for([&] { return hl->stats().ns_created.load() == 1; }));
	EXPECT_EQ(t, hl->mtu(), 496u);
	/* The channel's remote address is the service's on the remote. */
	auto svc = s.pair->remote->link().find_channel(SERVICE, RPMSG_ADDR_ANY);
	ASSERT_TRUE(t, svc);
	EXPECT_EQ(t, s.ch->dst(), svc->src());
	EXPECT_TRUE(t, svc->is_bound());
}

u32 size_by_seq(u32 seq)
{
	return seq % 496 + 1;
}

void echo_every_payload_size_in_order(Test &t)
{
	Session s = bring_up(t, echo_config());
	ASSERT_NOT_NULL(t, s.client);
	s.client->size_of = &size_by_seq;
	/* Windows of 8 in flight, sizes 1..MTU, twice over. */
	constexpr u32 N = 2 * 496;
	for (u32 seq = 0; seq < N; seq++) {
		ASSERT_OK(t, host_send(s, seq, size_by_seq(seq)));
		if (seq % 8 == 7)
			ASSERT_TRUE(t, s.client->wait_received(seq + 1));
	}
	ASSERT_TRUE(t, s.client->wait_received(N));
	EXPECT_EQ(t, s.client->bad.load(), 0u);
	EXPECT_EQ(t, s_echo_dropped.load(), 0u);
	EXPECT_EQ(t, s.pair->host_link()->stats().rx_bad.load(), 0u);
}

void zero_copy_both_ways(Test &t)
{
	Session s = bring_up(t, echo_config());
	ASSERT_NOT_NULL(t, s.client);
	s_echo_zero_copy.store(true);
	s.client->hold = true;
	for (u32 seq = 0; seq < 8; seq++) {
		auto b = get_tx_payload_buffer(*s.ch->ept(), ms_to_ns(1000));
		ASSERT_OK(t, b);
		RpmsgTxBuf buf = b.release_value();
		TestClient::fill(buf.payload.data(), 100, seq);
		ASSERT_OK(t, send_nocopy(*s.ch->ept(), buf, 100));
	}
	ASSERT_TRUE(t, s.client->wait_received(8));
	EXPECT_EQ(t, s.client->bad.load(), 0u);
	EXPECT_EQ(t, s_echo_dropped.load(), 0u);
	/* The host held all eight rx buffers past the callbacks; they come back on release. */
	RpmsgLink *hl = s.pair->host_link();
	EXPECT_EQ(t, hl->nr_client_held(), 8u);
	for (u32 i = 0; i < 8; i++)
		EXPECT_OK(t, release_rx_buffer(*s.ch->ept(), s.client->tokens[i]));
	EXPECT_EQ(t, hl->nr_client_held(), 0u);
	/* And the link goes on. */
	s.client->hold = false;
	ASSERT_OK(t, host_send(s, 8, 100));
	ASSERT_TRUE(t, s.client->wait_received(9));
	EXPECT_EQ(t, s.client->bad.load(), 0u);
}

/*
 * Zero-copy batches over the real rings, each way: the host's in batches
 * of up to 8 (the echo sends each back), then one batch of 8 from the
 * remote's endpoint; all arrive once, in order, intact.
 */
void zero_copy_batches_both_ways(Test &t)
{
	Session s = bring_up(t, echo_config());
	ASSERT_NOT_NULL(t, s.client);
	constexpr u32 N = 64;
	RpmsgEndpoint &ept = *s.ch->ept();
	RpmsgTxBuf bufs[8];
	u32 lens[8];
	/* Batches allocate nothing either (the spans are the caller's). */
	u64 allocs = alloc_calls();
	for (u32 seq = 0; seq < N;) {
		auto n = get_tx_payload_buffers(ept, Span<RpmsgTxBuf>(bufs, min(8u, N - seq)),
						ms_to_ns(1000));
		ASSERT_OK(t, n);
		for (u32 k = 0; k < n.value(); k++) {
			lens[k] = 1 + (seq + k) * 7 % 496;
			TestClient::fill(bufs[k].payload.data(), lens[k], seq + k);
		}
		ASSERT_OK(t, send_nocopy_batch(ept, Span<RpmsgTxBuf>(bufs, n.value()),
					       Span<const u32>(lens, n.value())));
		seq += n.value();
		/* The echo replies with trysend: never more in flight than it has buffers. */
		ASSERT_TRUE(t, s.client->wait_received(seq));
	}
	EXPECT_EQ(t, alloc_calls() - allocs, 0u);
	EXPECT_EQ(t, s.client->bad.load(), 0u);
	EXPECT_EQ(t, s_echo_dropped.load(), 0u);
	auto svc = s.pair->remote->link().find_channel(SERVICE, RPMSG_ADDR_ANY);
	ASSERT_TRUE(t, svc);
	RpmsgEndpoint &rept = *svc->ept();
	auto n = get_tx_payload_buffers(rept, Span<RpmsgTxBuf>(bufs), ms_to_ns(1000));
	ASSERT_OK(t, n);
	ASSERT_EQ(t, n.value(), 8u);
	for (u32 k = 0; k < 8; k++) {
		lens[k] = 100 + k;
		TestClient::fill(bufs[k].payload.data(), lens[k], N + k);
	}
	ASSERT_OK(t, sendto_nocopy_batch(rept, Span<RpmsgTxBuf>(bufs), Span<const u32>(lens),
					 s.ch->src()));
	ASSERT_TRUE(t, s.client->wait_received(N + 8));
	EXPECT_EQ(t, s.client->bad.load(), 0u);
	EXPECT_EQ(t, s.pair->host_link()->stats().rx_bad.load(), 0u);
	/*
	 * The transport's own checks, one buffer and a batch: a buffer sent
	 * already (its copy kept by a careless client) is refused with a log
	 * line, the rest of its batch comes back, and the link goes on.
	 */
	auto one = get_tx_payload_buffers(ept, Span<RpmsgTxBuf>(bufs, 2), ms_to_ns(1000));
	ASSERT_OK(t, one);
	ASSERT_EQ(t, one.value(), 2u);
	RpmsgTxBuf stale = bufs[0];
	lens[0] = lens[1] = 8;
	TestClient::fill(bufs[0].payload.data(), 8, N + 8);
	ASSERT_OK(t, send_nocopy(ept, bufs[0], 8));
	ASSERT_TRUE(t, s.client->wait_received(N + 9));
	u64 seq = log_seq();
	log_set_echo(false);
	EXPECT_ERR(t, send_nocopy(ept, stale, 8), -EINVAL);
	stale = RpmsgTxBuf{ bufs[1].payload, bufs[1].cookie };
	RpmsgTxBuf pair[2] = { bufs[1], RpmsgTxBuf{ bufs[1].payload, bufs[1].cookie } };
	EXPECT_ERR(t, send_nocopy_batch(ept, Span<RpmsgTxBuf>(pair), Span<const u32>(lens, 2)),
		   -EINVAL);
	/* bufs[1] went back with the refused batch: a copy of it is refused too. */
	EXPECT_ERR(t, release_tx_buffer(ept, stale), -EINVAL);
	log_set_echo(true);
	EXPECT_TRUE(t, log_contains_since(seq, "zero-copy send refused: tx buffer"));
	EXPECT_TRUE(t, log_contains_since(seq, "zero-copy release refused: tx buffer"));
	ASSERT_OK(t, host_send(s, N + 9, 40));
	ASSERT_TRUE(t, s.client->wait_received(N + 10));
	EXPECT_EQ(t, s.client->bad.load(), 0u);
}

void configured_buffer_sizes_are_negotiated(Test &t)
{
	PairConfig cfg = echo_config();
	cfg.h2r_buf_size = 1024;
	cfg.r2h_buf_size = 2048;
	cfg.h2r_num = 16;
	cfg.r2h_num = 8;
	cfg.region_size = 512 * 1024;
	Session s = bring_up(t, cfg);
	ASSERT_NOT_NULL(t, s.client);
	RpmsgLink *hl = s.pair->host_link();
	EXPECT_EQ(t, hl->mtu(), 1008u);
	EXPECT_EQ(t, hl->rx_buf_size(), 2048u);
	EXPECT_EQ(t, s.pair->remote->link().mtu(), 2032u);
	EXPECT_EQ(t, s.pair->remote->link().rx_buf_size(), 1024u);
	auto size = [](u32 seq) -> u32 { return seq % 2 ? 1008 : 1; };
	s.client->size_of = size;
	for (u32 seq = 0; seq < 64; seq++) {
		ASSERT_OK(t, host_send(s, seq, size(seq)));
		ASSERT_TRUE(t, s.client->wait_received(seq + 1));
	}
	EXPECT_EQ(t, s.client->bad.load(), 0u);
	log_set_echo(false);
	u8 big[1009] = {};
	EXPECT_ERR(t, send(*s.ch->ept(), Span<const u8>(big, sizeof(big))), -EMSGSIZE);
	log_set_echo(true);
}

/* Records the lengths of the ranges a side cleans and invalidates. */
struct SyncLog {
	static constexpr u32 MAX = 4096;
	/* Here, not on the case's stack: the pair (and its host) outlive the case body. */
	const ShmCacheOps ops{ &SyncLog::clean, &SyncLog::invalidate, this };
	Atomic<u32> n_clean{ 0 }, n_inval{ 0 };
	/*
	 * Written from either side's context while the case reads them: the
	 * entries the case counts were written before their message crossed
	 * the ring (which orders them); others may be in flight.
	 */
	Atomic<u32> clean_len[MAX];
	Atomic<u32> inval_len[MAX];
	static void clean(void *ctx, const void *, size_t len)
	{
		SyncLog *l = static_cast<SyncLog *>(ctx);
		u32 i = l->n_clean.fetch_add(1);
		if (i < MAX)
			l->clean_len[i].store(u32(len), MemoryOrder::Relaxed);
	}
	static void invalidate(void *ctx, const void *, size_t len)
	{
		SyncLog *l = static_cast<SyncLog *>(ctx);
		u32 i = l->n_inval.fetch_add(1);
		if (i < MAX)
			l->inval_len[i].store(u32(len), MemoryOrder::Relaxed);
	}
	static u32 count(const Atomic<u32> *lens, u32 n, u32 len)
	{
		u32 c = 0;
		for (u32 i = 0; i < n && i < MAX; i++)
			c += lens[i].load(MemoryOrder::Relaxed) == len;
		return c;
	}
};

/*
 * On a region that needs maintenance, each side hands each message over as
 * the DMA API would: the buffer (header and payload) is cleaned before the
 * other side may read it, and a received buffer is invalidated before its
 * header is read. A payload of 77 bytes makes 93-byte buffer ranges, a
 * length no ring structure has.
 */
void buffers_are_synced_at_each_transfer(Test &t)
{
	SyncLog *log = static_cast<SyncLog *>(t.alloc(2 * sizeof(SyncLog)));
	ASSERT_NOT_NULL(t, log);
	SyncLog *rlog = log + 1;
	new (log) SyncLog;
	new (rlog) SyncLog;
	PairConfig cfg = echo_config();
	cfg.host_cache = &log->ops;
	cfg.remote_cache = &rlog->ops;
	Session s = bring_up(t, cfg);
	ASSERT_NOT_NULL(t, s.client);
	constexpr u32 N = 32, LEN = 77;
	for (u32 seq = 0; seq < N; seq++) {
		ASSERT_OK(t, host_send(s, seq, LEN));
		ASSERT_TRUE(t, s.client->wait_received(seq + 1));
	}
	EXPECT_EQ(t, s.client->bad.load(), 0u);
	u32 nc = log->n_clean.load(), ni = log->n_inval.load();
	ASSERT_LT(t, nc, SyncLog::MAX);
	ASSERT_LT(t, ni, SyncLog::MAX);
	EXPECT_EQ(t, SyncLog::count(log->clean_len, nc, RPMSG_HDR_SIZE + LEN), N);
	EXPECT_EQ(t, SyncLog::count(log->inval_len, ni, RPMSG_HDR_SIZE + LEN), N);
	/* The remote: each request taken back, each echo handed over. */
	u32 rc = rlog->n_clean.load(), ri = rlog->n_inval.load();
	ASSERT_LT(t, rc, SyncLog::MAX);
	ASSERT_LT(t, ri, SyncLog::MAX);
	EXPECT_EQ(t, SyncLog::count(rlog->inval_len, ri, RPMSG_HDR_SIZE + LEN), N);
	EXPECT_EQ(t, SyncLog::count(rlog->clean_len, rc, RPMSG_HDR_SIZE + LEN), N);
}

/*
 * No allocation on the send and receive paths: 10^5 messages each way
 * (hosted: a fraction of a second), or as many as fit in a 30 s budget on
 * a slow kernel (arm64 emulated with KASAN runs ~100 messages a second): a
 * bound on the work, not an assertion on time. The count is printed.
 */
void no_allocation_on_the_message_path(Test &t)
{
	Session s = bring_up(t, echo_config());
	ASSERT_NOT_NULL(t, s.client);
	auto size = [](u32 seq) -> u32 { return seq % 64 + 4; };
	s.client->size_of = size;
	constexpr u32 WINDOW = 16;
	/* Warm up: every buffer and queue slot used once. */
	u32 seq = 0;
	for (; seq < 512; seq++) {
		ASSERT_OK(t, host_send(s, seq, size(seq)));
		if (seq % WINDOW == WINDOW - 1)
			ASSERT_TRUE(t, s.client->wait_received(seq + 1));
	}
	ASSERT_TRUE(t, s.client->wait_received(seq));
	constexpr u32 N = 100000;
	const s64 budget_end = ktime_get_ns() + ms_to_ns(30000);
	u64 allocs = alloc_calls();
	u32 first = seq;
	for (u32 end = seq + N; seq < end; seq++) {
		/* The budget is checked once per 1024 messages. */
		if ((seq - first) % 1024 == 1023 && ktime_get_ns() > budget_end)
			break;
		ASSERT_OK(t, host_send(s, seq, size(seq)));
		if (seq % WINDOW == WINDOW - 1)
			ASSERT_TRUE(t, s.client->wait_received(seq + 1));
	}
	ASSERT_TRUE(t, s.client->wait_received(seq));
	u64 used = alloc_calls() - allocs;
	EXPECT_EQ(t, used, 0u);
	EXPECT_GE(t, seq - first, 1023u);
	EXPECT_EQ(t, s.client->bad.load(), 0u);
	EXPECT_EQ(t, s_echo_dropped.load(), 0u);
	t.info("%u messages each way, %llu allocations", seq - first, (unsigned long long)used);
}

void host_restart_starts_a_new_announced_session(Test &t)
{
	Session s = bring_up(t, echo_config());
	ASSERT_NOT_NULL(t, s.client);
	ASSERT_OK(t, host_send(s, 0, 10));
	ASSERT_TRUE(t, s.client->wait_received(1));
	s.ch = nullptr;
	s.pair->host->detach();
	EXPECT_NULL(t, s_client.load());
	/* The remote sees the reset and ends its session. */
	EXPECT_TRUE(t, wait_for([&] { return !s.pair->remote->link_up(); }));
	ASSERT_OK(t, s.pair->attach());
	EXPECT_TRUE(t, wait_for([&] { return s.pair->remote->sessions() == 2; }));
	/* Announced again: a new channel, the driver binds again, messages flow. */
	s.ch = s.pair->host_channel(SERVICE);
	ASSERT_TRUE(t, s.ch);
	TestClient *c = s_client.load();
	ASSERT_NOT_NULL(t, c);
	s.client = c;
	ASSERT_OK(t, host_send(s, 0, 10));
	ASSERT_TRUE(t, c->wait_received(1));
	EXPECT_EQ(t, c->bad.load(), 0u);
}

struct RemoteBurst {
	RpmsgEndpoint *ept;
	u32 dst;
	u32 n;
	int err = 0;
};

void remote_burst_longer_than_an_rx_pass_is_all_received(Test &t)
{
	Session s = bring_up(t, echo_config());
	ASSERT_NOT_NULL(t, s.client);
	auto svc = s.pair->remote->link().find_channel(SERVICE, RPMSG_ADDR_ANY);
	ASSERT_TRUE(t, svc);
	/*
	 * The remote sends far more than the host's 64 rx buffers while the
	 * host re-posts them: one interrupt's pass runs out of budget with
	 * buffers left, which no further interrupt announces.
	 */
	auto size = [](u32 seq) -> u32 { return seq % 32 + 4; };
	s.client->size_of = size;
	s.client->delay_ns = us_to_ns(20);
	RemoteBurst b{ svc->ept(), s.ch->src(), 2000 };
	for (u32 seq = 0; seq < b.n && !b.err; seq++) {
		u8 buf[64];
		TestClient::fill(buf, size(seq), seq);
		b.err = result_errno(sendto(*b.ept, Span<const u8>(buf, size(seq)), b.dst));
	}
	EXPECT_EQ(t, b.err, 0);
	EXPECT_TRUE(t, s.client->wait_received(b.n));
	EXPECT_EQ(t, s.client->bad.load(), 0u);
}

/* Remote side: keeps every buffer it receives until the test releases them. */
struct Holder;
constinit Atomic<Holder *> s_holder{ nullptr };
struct Holder : NonMovable {
	static constexpr u32 MAX = 256;
	RpmsgRxToken tokens[MAX];
	Atomic<u32> n{ 0 };
	bool keep = true;
	static Result<UniquePtr<Holder>> probe(RpmsgDevice &)
	{
		auto h = TRY(make_unique<Holder>(GFP_KERNEL));
		s_holder.store(h.get());
		return h;
	}
	void remove(RpmsgDevice &) { s_holder.store(nullptr); }
	Result<void> on_message(RpmsgDevice &rpdev, Span<const u8>, u32)
	{
		u32 i = n.load();
		if (keep && i < MAX) {
			auto tok = hold_rx_buffer(*rpdev.ept());
			if (tok.is_ok())
				tokens[i] = tok.value();
		}
		n.store(i + 1);
		return ok();
	}
};
constinit RpmsgDriver s_holder_drv{ driver_for<Holder>, "rpmsg_test_holder" };

void remote_holding_every_buffer_resumes_after_release(Test &t)
{
	PairConfig cfg = echo_config();
	cfg.services[0] = { SERVICE, "rpmsg_test_holder" };
	cfg.drivers[0] = &s_holder_drv;
	Session s = bring_up(t, cfg);
	ASSERT_NOT_NULL(t, s.client);
	Holder *h = s_holder.load();
	ASSERT_NOT_NULL(t, h);
	/* The remote holds all 64 of the host's tx buffers. */
	u32 sent = 0;
	while (trysend(*s.ch->ept(), bytes_of("held")).is_ok())
		sent++;
	EXPECT_EQ(t, sent, 64u);
	ASSERT_TRUE(t, wait_for([&] { return h->n.load() == 64; }));
	auto svc = s.pair->remote->link().find_channel(SERVICE, RPMSG_ADDR_ANY);
	ASSERT_TRUE(t, svc);
	h->keep = false;
	for (u32 i = 0; i < 64; i++)
		ASSERT_OK(t, release_rx_buffer(*svc->ept(), h->tokens[i]));
	/* Everything sent from now on reaches it. */
	for (u32 i = 0; i < 64; i++)
		ASSERT_OK(t, send(*s.ch->ept(), bytes_of("after")));
	EXPECT_TRUE(t, wait_for([&] { return h->n.load() == 128; }));
}

struct BlockedSend {
	RpmsgEndpoint *ept;
	int err = 1;
};

void crash_fails_senders_at_once(Test &t)
{
	PairConfig cfg = echo_config();
	Session s = bring_up(t, cfg);
	ASSERT_NOT_NULL(t, s.client);
	/* The remote stops serving: host tx buffers are not returned any more. */
	s.pair->remote->stop();
	u32 sent = 0;
	while (trysend(*s.ch->ept(), bytes_of("fill")).is_ok())
		sent++;
	EXPECT_GT(t, sent, 0u);
	BlockedSend b{ s.ch->ept() };
	Runner r;
	ASSERT_OK(t, r.start(
			     [](void *p) {
				     auto *bs = static_cast<BlockedSend *>(p);
				     bs->err = result_errno(send(*bs->ept, bytes_of("blocked")));
			     },
			     &b));
	msleep(20);
	EXPECT_FALSE(t, r.finished());
	/* The peer goes away: the blocked sender fails long before the 15 s timeout. */
	log_set_echo(false);
	s.pair->link->cut();
	EXPECT_TRUE(t, r.wait(ms_to_ns(2000)));
	log_set_echo(true);
	EXPECT_EQ(t, b.err, -EPIPE);
	/* The transport breaks the queues first, then reports the crash. */
	EXPECT_TRUE(t, wait_for([&] { return s.pair->crashes.load() == 1; }));
	EXPECT_ERR(t, trysend(*s.ch->ept(), bytes_of("x")), -EPIPE);
	/* The link was told (not only the ring): poll() says hang-up, senders fail first thing. */
	RpmsgLink *hl = s.pair->host_link();
	ASSERT_NOT_NULL(t, hl);
	EXPECT_TRUE(t, hl->peer_gone());
	EXPECT_EQ(t, poll(*s.ch->ept()), RPMSG_POLLHUP | RPMSG_POLLERR);
	EXPECT_ERR(t, get_tx_payload_buffer(*s.ch->ept(), 0), -EPIPE);
}

const TestCase rpmsg_virtio_cases[] = {
	KEEL_CASE(announce_creates_the_host_channel_and_binds_by_name),
	KEEL_CASE(echo_every_payload_size_in_order),
	KEEL_CASE(zero_copy_both_ways),
	KEEL_CASE(zero_copy_batches_both_ways),
	KEEL_CASE(configured_buffer_sizes_are_negotiated),
	KEEL_CASE(buffers_are_synced_at_each_transfer),
	KEEL_CASE(no_allocation_on_the_message_path),
	KEEL_CASE(remote_burst_longer_than_an_rx_pass_is_all_received),
	KEEL_CASE(remote_holding_every_buffer_resumes_after_release),
	KEEL_CASE(host_restart_starts_a_new_announced_session),
	KEEL_CASE(crash_fails_senders_at_once),
	{},
};

const TestSuite rpmsg_virtio_suite = { .name = "rpmsg_virtio", .cases = rpmsg_virtio_cases };

} // namespace

KEEL_TEST_SUITE(rpmsg_virtio_suite);
