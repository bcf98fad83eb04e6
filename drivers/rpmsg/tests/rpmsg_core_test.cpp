// SPDX-License-Identifier: GPL-2.0
/*
 * The rpmsg core over a fake transport (rpmsg_test_link.h): endpoint
 * addresses and lifetime, dispatch and the validation of every received
 * header (a hostile remote), the send rules (timeouts, trysend, the
 * atomic-context rule, removal while a sender waits), zero copy both ways,
 * poll and MTU, and the messages held for a channel before its driver
 * binds.
 */
#include <keel/log.h>
#include <keel/test.h>

#include "rpmsg_test_link.h"
#include "rpmsg_test_util.h"

using namespace keel;
using namespace keel::test;
using namespace rpmsg;
using namespace rpmsg::test;

namespace {

/* What a callback saw. */
struct Rec {
	Atomic<u32> n{ 0 };
	u32 last_src = 0;
	u32 last_len = 0;
	u8 last[64] = {};
	u8 order[32] = {};
	u32 norder = 0;
	/* Behaviours. */
	bool hold = false;
	bool send_back = false;
	Atomic<bool> block{ false };
	Atomic<bool> entered{ false };
	Atomic<u32> seq{ 0 };
	u32 exit_seq = 0;
	bool was_atomic = false;
	int send_err = 0;
	RpmsgRxToken token;
	int hold_err = 0;
	const u8 *held_data = nullptr;
	Atomic<u32> *clock = nullptr;
	/* destroy_waits_for_a_running_callback: the thread destroying the endpoint. */
	Runner *destroyer = nullptr;
	bool destroyer_done_in_cb = false;
};

Result<void> rec_cb(RpmsgEndpoint &ept, Span<const u8> data, u32 src, void *priv)
{
	Rec *r = static_cast<Rec *>(priv);
	r->was_atomic = keel_port_in_atomic();
	r->last_src = src;
	r->last_len = u32(data.size());
	memcpy(r->last, data.data(), min<size_t>(data.size(), sizeof(r->last)));
	if (r->norder < sizeof(r->order) && data.size())
		r->order[r->norder++] = data[0];
	if (r->hold) {
		Result<RpmsgRxToken> t = hold_rx_buffer(ept);
		r->hold_err = result_errno(t);
		if (t.is_ok()) {
			r->token = t.value();
			r->held_data = data.data();
		}
	}
	if (r->send_back) {
		/* A blocking send from the callback: must not wait (the atomic-context rule). */
		Result<void> s = sendto(ept, data, src);
		r->send_err = result_errno(s);
	}
	r->entered.store(true);
	if (r->block.load()) {
		/*
		 * Spin (a callback cannot sleep) until the destroy has started,
		 * and a while longer: it must not return meanwhile. Bounded,
		 * since on one CPU nothing else runs while we spin; then the
		 * destroy only starts after us, which proves nothing and
		 * breaks nothing.
		 */
		s64 deadline = ktime_get_ns() + ms_to_ns(500);
		while (!ept.is_destroyed() && ktime_get_ns() < deadline)
			cpu_relax();
		for (s64 until = ktime_get_ns() + ms_to_ns(20); ktime_get_ns() < until;)
			cpu_relax();
		r->destroyer_done_in_cb = r->destroyer && r->destroyer->finished();
	}
	if (r->clock)
		r->exit_seq = r->clock->add_return(1);
	r->n.fetch_add(1);
	return ok();
}

RefPtr<RpmsgDevice> make_channel(Test &t, TestLink &l, const char *name, u32 src = RPMSG_ADDR_ANY,
				 u32 dst = 0x400, const char *driver_override = "none")
{
	RpmsgChannelInfo ci = {};
	strscpy(ci.name, name, sizeof(ci.name)).release_value();
	ci.src = src;
	ci.dst = dst;
	auto r = l.link.add_channel(ci, false, driver_override, false);
	EXPECT_OK(t, r);
	return r.is_ok() ? r.release_value() : nullptr;
}

RefPtr<RpmsgEndpoint> make_ept(Test &t, RpmsgDevice &ch, Rec *rec, u32 addr = RPMSG_ADDR_ANY)
{
	RpmsgChannelInfo ci = {};
	ci.src = addr;
	ci.dst = RPMSG_ADDR_ANY;
	auto r = create_ept(ch, &rec_cb, rec, ci);
	EXPECT_OK(t, r);
	return r.is_ok() ? r.release_value() : nullptr;
}

/* --- addresses --- */

void ept_dynamic_addresses_start_at_1024_lowest_free(Test &t)
{
	TestLink *l = make_test_link(t, false);
	ASSERT_NOT_NULL(t, l);
	/* The channel reserves the first dynamic address itself. */
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "addr-test");
	ASSERT_TRUE(t, ch);
	EXPECT_EQ(t, ch->src(), RPMSG_RESERVED_ADDRESSES);
	Rec rec;
	RefPtr<RpmsgEndpoint> a = make_ept(t, *ch, &rec), b = make_ept(t, *ch, &rec),
			      c = make_ept(t, *ch, &rec);
	ASSERT_TRUE(t, a && b && c);
	EXPECT_EQ(t, a->addr(), 1025u);
	EXPECT_EQ(t, b->addr(), 1026u);
	EXPECT_EQ(t, c->addr(), 1027u);
	destroy_ept(*b);
	RefPtr<RpmsgEndpoint> d = make_ept(t, *ch, &rec);
	ASSERT_TRUE(t, d);
	EXPECT_EQ(t, d->addr(), 1026u);
	destroy_ept(*a);
	destroy_ept(*c);
	destroy_ept(*d);
}

void ept_fixed_address_taken_is_ebusy(Test &t)
{
	TestLink *l = make_test_link(t, true);
	ASSERT_NOT_NULL(t, l);
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "fixed-test");
	ASSERT_TRUE(t, ch);
	Rec rec;
	RpmsgChannelInfo ci = {};
	ci.src = 0x200;
	auto a = create_ept(*ch, &rec_cb, &rec, ci);
	ASSERT_OK(t, a);
	EXPECT_EQ(t, a.value()->addr(), 0x200u);
	EXPECT_ERR(t, create_ept(*ch, &rec_cb, &rec, ci), -EBUSY);
	/* The name service owns 53. */
	ci.src = RPMSG_NS_ADDR;
	EXPECT_ERR(t, create_ept(*ch, &rec_cb, &rec, ci), -EBUSY);
	ci.src = RPMSG_ADDR_ANY;
	EXPECT_ERR(t, create_ept(*ch, nullptr, &rec, ci), -EINVAL);
	destroy_ept(*a.value());
}

void ept_1000_create_destroy_cycles_leak_nothing(Test &t)
{
	TestLink *l = make_test_link(t, false);
	ASSERT_NOT_NULL(t, l);
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "cycle-test");
	ASSERT_TRUE(t, ch);
	Rec rec;
	u32 base = l->link.nr_endpoints();
	RefPtr<RpmsgEndpoint> first = make_ept(t, *ch, &rec);
	ASSERT_TRUE(t, first);
	u32 addr = first->addr();
	destroy_ept(*first);
	first = nullptr;
	u64 allocs = alloc_calls();
	for (u32 i = 0; i < 1000; i++) {
		RefPtr<RpmsgEndpoint> e = make_ept(t, *ch, &rec);
		ASSERT_TRUE(t, e);
		/* The same (lowest) address every time: none leaked. */
		ASSERT_EQ(t, e->addr(), addr);
		ASSERT_EQ(t, l->link.nr_endpoints(), base + 1);
		ASSERT_OK(t, l->inject_str(0x400, addr, "x"));
		destroy_ept(*e);
		/* The last reference: freed here (ASan, kmemleak would see a leak). */
		ASSERT_EQ(t, e->ref_count(), 1u);
	}
	EXPECT_EQ(t, l->link.nr_endpoints(), base);
	EXPECT_EQ(t, rec.n.load(), 1000u);
	/* One allocation per endpoint, nothing more (the id table's nodes are reused). */
	EXPECT_EQ(t, alloc_calls() - allocs, 1000u);
}

/* --- dispatch and hostile headers --- */

void rx_delivers_by_destination_in_atomic_context(Test &t)
{
	TestLink *l = make_test_link(t, false);
	ASSERT_NOT_NULL(t, l);
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "rx-test");
	ASSERT_TRUE(t, ch);
	Rec r1, r2;
	RefPtr<RpmsgEndpoint> e1 = make_ept(t, *ch, &r1), e2 = make_ept(t, *ch, &r2);
	ASSERT_TRUE(t, e1 && e2);
	auto v = l->inject_str(0x401, e2->addr(), "hello");
	ASSERT_OK(t, v);
	EXPECT_TRUE(t, v.value() == RpmsgLink::RxVerdict::Recycle);
	EXPECT_EQ(t, r1.n.load(), 0u);
	EXPECT_EQ(t, r2.n.load(), 1u);
	EXPECT_EQ(t, r2.last_src, 0x401u);
	EXPECT_EQ(t, r2.last_len, 5u);
	EXPECT_MEMEQ(t, r2.last, "hello", 5);
	EXPECT_TRUE(t, r2.was_atomic);
	/* An empty payload is a message too. */
	ASSERT_OK(t, l->inject_msg(0x401, e1->addr(), Span<const u8>()));
	EXPECT_EQ(t, r1.n.load(), 1u);
	EXPECT_EQ(t, r1.last_len, 0u);
	EXPECT_EQ(t, l->rx_held(), 0u);
	destroy_ept(*e1);
	destroy_ept(*e2);
}

/*
 * Dispatch remembers the endpoint it last found: destroying it, and a new
 * endpoint at the same address, must be seen by the very next message.
 */
void rx_after_destroy_finds_the_address_anew(Test &t)
{
	TestLink *l = make_test_link(t, false);
	ASSERT_NOT_NULL(t, l);
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "rx-anew");
	ASSERT_TRUE(t, ch);
	Rec r1, r2, r3;
	RefPtr<RpmsgEndpoint> e1 = make_ept(t, *ch, &r1, 0x500), e2 = make_ept(t, *ch, &r2);
	ASSERT_TRUE(t, e1 && e2);
	/* Alternate destinations: each message goes to its own endpoint. */
	for (u32 i = 0; i < 4; i++) {
		ASSERT_OK(t, l->inject_str(0x401, i % 2 ? e2->addr() : 0x500, "x"));
		ASSERT_OK(t, l->inject_str(0x401, 0x500, "y"));
	}
	EXPECT_EQ(t, r1.n.load(), 6u);
	EXPECT_EQ(t, r2.n.load(), 2u);
	destroy_ept(*e1);
	e1 = nullptr;
	u64 lost = l->link.stats().rx_no_recipient.load();
	log_set_echo(false);
	auto v = l->inject_str(0x401, 0x500, "gone");
	log_set_echo(true);
	ASSERT_OK(t, v);
	EXPECT_TRUE(t, v.value() == RpmsgLink::RxVerdict::Recycle);
	EXPECT_EQ(t, l->link.stats().rx_no_recipient.load(), lost + 1);
	EXPECT_EQ(t, r1.n.load(), 6u);
	RefPtr<RpmsgEndpoint> e3 = make_ept(t, *ch, &r3, 0x500);
	ASSERT_TRUE(t, e3);
	ASSERT_OK(t, l->inject_str(0x401, 0x500, "new"));
	EXPECT_EQ(t, r1.n.load(), 6u);
	EXPECT_EQ(t, r3.n.load(), 1u);
	EXPECT_EQ(t, r3.last_len, 3u);
	destroy_ept(*e2);
	destroy_ept(*e3);
}

struct BadRx {
	const char *name;
	u32 used;	 /* used length reported */
	u32 hdr_len;	 /* len field */
	const char *log; /* expected log line (a substring) */
	int err;
};

const BadRx bad_rx_cases[] = {
	{ "short_buffer", 10, 0, "too short for a header", -EINVAL },
	{ "empty_buffer", 0, 0, "too short for a header", -EINVAL },
	{ "len_above_buffer", 512, 497, "above the buffer's 496 payload bytes", -EINVAL },
	{ "len_way_above_buffer", 512, 0xffff, "above the buffer's 496 payload bytes", -EINVAL },
	{ "len_above_used", 50, 100, "above the 34 payload bytes received", -EINVAL },
	{ "len_one_above_used", 16 + 20, 21, "above the 20 payload bytes received", -EINVAL },
	{ "unknown_destination", 20, 4, "no recipient", -ENXIO },
};

void describe_bad_rx(const BadRx &b, char *desc)
{
	snprintf(desc, KEEL_TEST_DESC_LEN, "%s", b.name);
}
KEEL_PARAMS(bad_rx_gen, bad_rx_cases, describe_bad_rx)

void rx_bad_header_is_dropped_logged_and_recycled(Test &t)
{
	const BadRx &b = t.param<BadRx>();
	TestLink *l = make_test_link(t, false);
	ASSERT_NOT_NULL(t, l);
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "bad-rx");
	ASSERT_TRUE(t, ch);
	Rec rec;
	RefPtr<RpmsgEndpoint> e = make_ept(t, *ch, &rec);
	ASSERT_TRUE(t, e);
	bool unknown = b.err == -ENXIO;
	/* Off the stack: kernel stacks are small (and KASAN pads frames). */
	u8 *img = static_cast<u8 *>(t.alloc(TestLink::MAX_BUF));
	ASSERT_NOT_NULL(t, img);
	memset(img, 0, TestLink::MAX_BUF);
	RpmsgHdr h = rpmsg_hdr_encode(l->link.little_endian(), 0x401, unknown ? 0x7777 : e->addr(),
				      u16(b.hdr_len));
	memcpy(img, &h, sizeof(h));
	u64 seq = log_seq();
	log_set_echo(false);
	auto v = l->inject(Span<const u8>(img, TestLink::MAX_BUF), b.used);
	log_set_echo(true);
	ASSERT_OK(t, v);
	EXPECT_TRUE(t, v.value() == RpmsgLink::RxVerdict::Recycle);
	EXPECT_TRUE(t, log_contains_since(seq, b.log));
	EXPECT_EQ(t, l->link.stats().rx_last_error.load(), b.err);
	EXPECT_EQ(t, rec.n.load(), 0u);
	/* The buffer went back, and the link keeps working. */
	EXPECT_EQ(t, l->rx_held(), 0u);
	ASSERT_OK(t, l->inject_str(0x401, e->addr(), "ok"));
	EXPECT_EQ(t, rec.n.load(), 1u);
	destroy_ept(*e);
}

void rx_big_endian_link_decodes_big_endian_headers(Test &t)
{
	/* A legacy big-endian peer (the byte order comes from the link). */
	TestLink *l =
		make_test_link(t, false, RpmsgLinkConfig(), RPMSG_BUF_SIZE, RPMSG_BUF_SIZE, false);
	ASSERT_NOT_NULL(t, l);
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "be-test");
	ASSERT_TRUE(t, ch);
	Rec rec;
	RefPtr<RpmsgEndpoint> e = make_ept(t, *ch, &rec);
	ASSERT_TRUE(t, e);
	/* Written byte by byte: src 0x401, dst e's address, reserved 0, len 3, flags 0, "abc". */
	u32 a = e->addr();
	/* clang-format off */
	const u8 img[] = {
		0, 0, 0x04, 0x01,			/* src */
		u8(a >> 24), u8(a >> 16), u8(a >> 8), u8(a), /* dst */
		0, 0, 0, 0,				/* reserved */
		0, 3,					/* len */
		0, 0,					/* flags */
		'a', 'b', 'c',
	};
	/* clang-format on */
	ASSERT_OK(t, l->inject(Span<const u8>(img, sizeof(img))));
	EXPECT_EQ(t, rec.n.load(), 1u);
	EXPECT_EQ(t, rec.last_src, 0x401u);
	EXPECT_EQ(t, rec.last_len, 3u);
	/* And it sends big endian. */
	ASSERT_OK(t, sendto(*e, bytes_of("xy"), 0x1234));
	const TestLink::Sent *s = l->last_sent();
	ASSERT_NOT_NULL(t, s);
	/* clang-format off */
	const u8 want[] = {
		u8(a >> 24), u8(a >> 16), u8(a >> 8), u8(a), /* src */
		0, 0, 0x12, 0x34,			/* dst */
		0, 0, 0, 0,				/* reserved */
		0, 2,					/* len */
		0, 0,					/* flags */
		'x', 'y',
	};
	/* clang-format on */
	EXPECT_MEMEQ(t, s->bytes, want, sizeof(want));
	destroy_ept(*e);
}

/* --- endpoint lifetime --- */

struct DestroyArgs {
	TestLink *l;
	RpmsgEndpoint *ept;
	Rec *rec;
	Atomic<u32> *clock;
	u32 return_seq = 0;
};

void destroy_waits_for_a_running_callback(Test &t)
{
	TestLink *l = make_test_link(t, false);
	ASSERT_NOT_NULL(t, l);
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "destroy-test");
	ASSERT_TRUE(t, ch);
	Atomic<u32> clock{ 0 };
	Rec rec;
	rec.clock = &clock;
	rec.block.store(true);
	RefPtr<RpmsgEndpoint> e = make_ept(t, *ch, &rec);
	ASSERT_TRUE(t, e);
	DestroyArgs args{ l, e.get(), &rec, &clock };
	Runner rx, destroyer;
	rec.destroyer = &destroyer;
	/* The destroyer waits for the callback to run, then destroys the endpoint under it. */
	ASSERT_OK(t, destroyer.start(
			     [](void *p) {
				     auto *a = static_cast<DestroyArgs *>(p);
				     (void)wait_for([&] { return a->rec->entered.load(); });
				     destroy_ept(*a->ept);
				     a->return_seq = a->clock->add_return(1);
			     },
			     &args));
	ASSERT_OK(t, rx.start(
			     [](void *p) {
				     auto *a = static_cast<DestroyArgs *>(p);
				     (void)a->l->inject_str(0x401, a->ept->addr(),
							    "in the callback");
			     },
			     &args));
	EXPECT_TRUE(t, rx.wait(ms_to_ns(5000)));
	EXPECT_TRUE(t, destroyer.wait(ms_to_ns(5000)));
	EXPECT_TRUE(t, rec.entered.load());
	/* destroy_ept() did not return while the callback ran, and returned after it left. */
	EXPECT_FALSE(t, rec.destroyer_done_in_cb);
	EXPECT_LT(t, rec.exit_seq, args.return_seq);
	EXPECT_TRUE(t, e->is_destroyed());
	/* No callback after destroy returned: the address has no recipient. */
	u64 seq = log_seq();
	log_set_echo(false);
	ASSERT_OK(t, l->inject_str(0x401, e->addr(), "too late"));
	log_set_echo(true);
	EXPECT_EQ(t, rec.n.load(), 1u);
	EXPECT_TRUE(t, log_contains_since(seq, "no recipient"));
	EXPECT_ERR(t, trysend(*e, bytes_of("x")), -ESHUTDOWN);
	EXPECT_ERR(t, get_mtu(*e), -ESHUTDOWN);
	/* A second destroy is a no-op. */
	destroy_ept(*e);
	EXPECT_EQ(t, e->ref_count(), 1u);
}

/* --- sending --- */

void send_writes_header_and_payload(Test &t)
{
	TestLink *l = make_test_link(t, false);
	ASSERT_NOT_NULL(t, l);
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "send-test", RPMSG_ADDR_ANY, 0x555);
	ASSERT_TRUE(t, ch);
	Rec rec;
	RefPtr<RpmsgEndpoint> e = make_ept(t, *ch, &rec);
	ASSERT_TRUE(t, e);
	ASSERT_OK(t, send(*e, bytes_of("abc")));
	const TestLink::Sent *s = l->last_sent();
	ASSERT_NOT_NULL(t, s);
	EXPECT_EQ(t, s->src, e->addr());
	/* send() goes to the channel's remote address. */
	EXPECT_EQ(t, s->dst, 0x555u);
	EXPECT_EQ(t, s->len, 3u);
	EXPECT_MEMEQ(t, s->bytes + 16, "abc", 3);
	ASSERT_OK(t, send_offchannel(*e, 0x77, 0x88, bytes_of("z")));
	s = l->last_sent();
	EXPECT_EQ(t, s->src, 0x77u);
	EXPECT_EQ(t, s->dst, 0x88u);
	destroy_ept(*e);
}

void send_rejects_any_address_and_oversize(Test &t)
{
	TestLink *l = make_test_link(t, false);
	ASSERT_NOT_NULL(t, l);
	/* The channel's remote address is unknown: send() has nowhere to go. */
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "size-test", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
	ASSERT_TRUE(t, ch);
	Rec rec;
	RefPtr<RpmsgEndpoint> e = make_ept(t, *ch, &rec);
	ASSERT_TRUE(t, e);
	log_set_echo(false);
	EXPECT_ERR(t, send(*e, bytes_of("x")), -EINVAL);
	EXPECT_ERR(t, sendto(*e, bytes_of("x"), RPMSG_ADDR_ANY), -EINVAL);
	EXPECT_ERR(t, send_offchannel(*e, RPMSG_ADDR_ANY, 0x10, bytes_of("x")), -EINVAL);
	u8 big[TestLink::MAX_BUF] = {};
	auto mtu = get_mtu(*e);
	ASSERT_OK(t, mtu);
	EXPECT_EQ(t, mtu.value(), 496u);
	EXPECT_ERR(t, sendto(*e, Span<const u8>(big, 497), 0x10), -EMSGSIZE);
	log_set_echo(true);
	EXPECT_OK(t, sendto(*e, Span<const u8>(big, 496), 0x10));
	EXPECT_EQ(t, l->last_sent()->len, 496u);
	destroy_ept(*e);
}

void trysend_without_buffer_is_enomem_at_once(Test &t)
{
	TestLink *l = make_test_link(t, false);
	ASSERT_NOT_NULL(t, l);
	l->auto_complete = false;
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "try-test");
	ASSERT_TRUE(t, ch);
	Rec rec;
	RefPtr<RpmsgEndpoint> e = make_ept(t, *ch, &rec);
	ASSERT_TRUE(t, e);
	for (u32 i = 0; i < TestLink::NTX; i++)
		ASSERT_OK(t, trysendto(*e, bytes_of("fill"), 0x10));
	EXPECT_ERR(t, trysendto(*e, bytes_of("x"), 0x10), -ENOMEM);
	EXPECT_ERR(t, trysend_offchannel(*e, 1, 2, bytes_of("x")), -ENOMEM);
	EXPECT_ERR(t, sendto_timeout(*e, bytes_of("x"), 0x10, 0), -ENOMEM);
	/* Nobody waited: tx-complete notifications were never asked for. */
	EXPECT_EQ(t, l->tx_wait_calls.load(), 0u);
	EXPECT_EQ(t, poll(*e), 0u);
	l->complete_tx();
	EXPECT_EQ(t, poll(*e), RPMSG_POLLOUT);
	EXPECT_OK(t, trysendto(*e, bytes_of("x"), 0x10));
	destroy_ept(*e);
}

void send_timeout_expires_and_disarms_notifications(Test &t)
{
	TestLink *l = make_test_link(t, false);
	ASSERT_NOT_NULL(t, l);
	l->auto_complete = false;
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "timeout-test");
	ASSERT_TRUE(t, ch);
	Rec rec;
	RefPtr<RpmsgEndpoint> e = make_ept(t, *ch, &rec);
	ASSERT_TRUE(t, e);
	for (u32 i = 0; i < TestLink::NTX; i++)
		ASSERT_OK(t, trysendto(*e, bytes_of("fill"), 0x10));
	log_set_echo(false);
	EXPECT_ERR(t, sendto_timeout(*e, bytes_of("x"), 0x10, ms_to_ns(30)), -ETIMEDOUT);
	log_set_echo(true);
	/* Enabled while waiting, disabled after. */
	EXPECT_EQ(t, l->tx_wait_calls.load(), 2u);
	EXPECT_EQ(t, l->sleepers.load(), 0u);
	destroy_ept(*e);
}

struct SendArgs {
	RpmsgEndpoint *ept;
	u32 dst;
	int err = 1;
};

void blocked_sender_resumes_when_a_buffer_returns(Test &t)
{
	TestLink *l = make_test_link(t, false);
	ASSERT_NOT_NULL(t, l);
	l->auto_complete = false;
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "block-test");
	ASSERT_TRUE(t, ch);
	Rec rec;
	RefPtr<RpmsgEndpoint> e = make_ept(t, *ch, &rec);
	ASSERT_TRUE(t, e);
	for (u32 i = 0; i < TestLink::NTX; i++)
		ASSERT_OK(t, trysendto(*e, bytes_of("fill"), 0x10));
	SendArgs a{ e.get(), 0x10 };
	Runner r;
	ASSERT_OK(t, r.start(
			     [](void *p) {
				     auto *s = static_cast<SendArgs *>(p);
				     s->err = result_errno(
					     sendto(*s->ept, bytes_of("waited"), s->dst));
			     },
			     &a));
	ASSERT_TRUE(t, wait_for([&] { return l->sleepers.load() == 1; }));
	EXPECT_FALSE(t, r.finished());
	l->complete_tx();
	ASSERT_TRUE(t, r.wait(ms_to_ns(5000)));
	EXPECT_EQ(t, a.err, 0);
	EXPECT_EQ(t, l->sleepers.load(), 0u);
	EXPECT_MEMEQ(t, l->last_sent()->bytes + 16, "waited", 6);
	destroy_ept(*e);
}

void destroy_wakes_a_blocked_sender(Test &t)
{
	TestLink *l = make_test_link(t, false);
	ASSERT_NOT_NULL(t, l);
	l->auto_complete = false;
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "wake-test");
	ASSERT_TRUE(t, ch);
	Rec rec;
	RefPtr<RpmsgEndpoint> e = make_ept(t, *ch, &rec);
	ASSERT_TRUE(t, e);
	for (u32 i = 0; i < TestLink::NTX; i++)
		ASSERT_OK(t, trysendto(*e, bytes_of("fill"), 0x10));
	SendArgs a{ e.get(), 0x10 };
	Runner r;
	ASSERT_OK(t,
		  r.start(
			  [](void *p) {
				  auto *s = static_cast<SendArgs *>(p);
				  s->err = result_errno(sendto(*s->ept, bytes_of("never"), s->dst));
			  },
			  &a));
	ASSERT_TRUE(t, wait_for([&] { return l->sleepers.load() == 1; }));
	/* Returns only once the sender has left the link. */
	destroy_ept(*e);
	EXPECT_TRUE(t, r.wait(ms_to_ns(5000)));
	EXPECT_EQ(t, a.err, -ESHUTDOWN);
}

void send_from_a_callback_never_waits(Test &t)
{
	TestLink *l = make_test_link(t, false);
	ASSERT_NOT_NULL(t, l);
	l->auto_complete = false;
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "cb-send-test");
	ASSERT_TRUE(t, ch);
	Rec rec;
	rec.send_back = true;
	RefPtr<RpmsgEndpoint> e = make_ept(t, *ch, &rec);
	ASSERT_TRUE(t, e);
	/* With a free buffer the answer goes out. */
	ASSERT_OK(t, l->inject_str(0x401, e->addr(), "ping"));
	EXPECT_EQ(t, rec.send_err, 0);
	EXPECT_EQ(t, l->last_sent()->dst, 0x401u);
	for (u32 i = 1; i < TestLink::NTX; i++)
		ASSERT_OK(t, trysendto(*e, bytes_of("fill"), 0x10));
	/* Both ways out of buffers: the callback's send fails at once, no sleep, no warning. */
	ASSERT_OK(t, l->inject_str(0x401, e->addr(), "ping"));
	EXPECT_EQ(t, rec.send_err, -ENOMEM);
	EXPECT_EQ(t, l->tx_wait_calls.load(), 0u);
	destroy_ept(*e);
}

void send_on_a_down_link_is_enotconn(Test &t)
{
	TestLink *l = make_test_link(t, false);
	ASSERT_NOT_NULL(t, l);
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "down-test");
	ASSERT_TRUE(t, ch);
	Rec rec;
	RefPtr<RpmsgEndpoint> e = make_ept(t, *ch, &rec);
	ASSERT_TRUE(t, e);
	l->link.set_up(false);
	/* Fails at once, not after the 15 s timeout. */
	EXPECT_ERR(t, sendto(*e, bytes_of("x"), 0x10), -ENOTCONN);
	EXPECT_EQ(t, poll(*e), RPMSG_POLLHUP | RPMSG_POLLERR);
	l->link.set_up(true);
	EXPECT_OK(t, sendto(*e, bytes_of("x"), 0x10));
	destroy_ept(*e);
}

/* --- zero copy --- */

void zero_copy_tx_fill_send_and_release(Test &t)
{
	TestLink *l = make_test_link(t, false);
	ASSERT_NOT_NULL(t, l);
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "zc-tx-test", RPMSG_ADDR_ANY, 0x99);
	ASSERT_TRUE(t, ch);
	Rec rec;
	RefPtr<RpmsgEndpoint> e = make_ept(t, *ch, &rec);
	ASSERT_TRUE(t, e);
	auto b = get_tx_payload_buffer(*e, 0);
	ASSERT_OK(t, b);
	RpmsgTxBuf buf = b.release_value();
	EXPECT_EQ(t, buf.payload.size(), size_t(496));
	memcpy(buf.payload.data(), "zero", 4);
	RpmsgTxBuf copy = buf;
	ASSERT_OK(t, send_nocopy(*e, buf, 4));
	EXPECT_NULL(t, buf.payload.data());
	const TestLink::Sent *s = l->last_sent();
	EXPECT_EQ(t, s->dst, 0x99u);
	EXPECT_EQ(t, s->len, 4u);
	EXPECT_MEMEQ(t, s->bytes + 16, "zero", 4);
	/* The same buffer twice: refused and logged, nothing written. */
	u64 seq = log_seq();
	log_set_echo(false);
	EXPECT_ERR(t, send_nocopy(*e, copy, 4), -EINVAL);
	log_set_echo(true);
	EXPECT_TRUE(t, log_contains_since(seq, "zero-copy send refused: tx buffer"));
	/* A borrowed buffer given back unsent is free again. */
	u32 free_before = l->tx_free();
	auto b2 = get_tx_payload_buffer(*e, 0);
	ASSERT_OK(t, b2);
	RpmsgTxBuf buf2 = b2.release_value();
	RpmsgTxBuf copy2 = buf2;
	EXPECT_EQ(t, l->tx_free(), free_before - 1);
	EXPECT_OK(t, release_tx_buffer(*e, buf2));
	EXPECT_EQ(t, l->tx_free(), free_before);
	EXPECT_ERR(t, release_tx_buffer(*e, buf2), -EINVAL);
	/* Released twice through a copy: refused and logged, the free count untouched. */
	seq = log_seq();
	log_set_echo(false);
	EXPECT_ERR(t, release_tx_buffer(*e, copy2), -EINVAL);
	log_set_echo(true);
	EXPECT_TRUE(t, log_contains_since(seq, "zero-copy release refused: tx buffer"));
	EXPECT_EQ(t, l->tx_free(), free_before);
	/* Too long for the buffer: refused, and the buffer is back. */
	auto b3 = get_tx_payload_buffer(*e, 0);
	ASSERT_OK(t, b3);
	RpmsgTxBuf buf3 = b3.release_value();
	log_set_echo(false);
	EXPECT_ERR(t, send_nocopy(*e, buf3, 497), -EINVAL);
	log_set_echo(true);
	EXPECT_EQ(t, l->tx_free(), free_before);
	destroy_ept(*e);
}

/*
 * A zero-copy batch: lent in one call, sent in one submission (one
 * notification of the remote), in order, each with its length.
 */
void zero_copy_tx_batch_is_one_submission_in_order(Test &t)
{
	TestLink *l = make_test_link(t, false);
	ASSERT_NOT_NULL(t, l);
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "zc-batch-test", RPMSG_ADDR_ANY, 0x99);
	ASSERT_TRUE(t, ch);
	Rec rec;
	RefPtr<RpmsgEndpoint> e = make_ept(t, *ch, &rec);
	ASSERT_TRUE(t, e);
	RpmsgTxBuf bufs[5];
	u32 lens[5];
	auto n = get_tx_payload_buffers(*e, Span<RpmsgTxBuf>(bufs), 0);
	ASSERT_OK(t, n);
	ASSERT_EQ(t, n.value(), 5u);
	EXPECT_EQ(t, l->tx_free(), TestLink::NTX - 5);
	for (u32 k = 0; k < 5; k++) {
		EXPECT_EQ(t, bufs[k].payload.size(), size_t(496));
		for (u32 j = 0; j < k; j++)
			EXPECT_NE(t, bufs[k].cookie, bufs[j].cookie);
		lens[k] = 10 + k;
		memset(bufs[k].payload.data(), int('a' + k), lens[k]);
	}
	u32 sent0 = l->nr_sent.load(), submits0 = l->nr_submits.load();
	ASSERT_OK(t, send_nocopy_batch(*e, Span<RpmsgTxBuf>(bufs), Span<const u32>(lens)));
	EXPECT_EQ(t, l->nr_submits.load(), submits0 + 1);
	ASSERT_EQ(t, l->nr_sent.load(), sent0 + 5);
	for (u32 k = 0; k < 5; k++) {
		EXPECT_NULL(t, bufs[k].payload.data());
		const TestLink::Sent *s = l->sent(sent0 + k);
		ASSERT_NOT_NULL(t, s);
		EXPECT_EQ(t, s->src, e->addr());
		EXPECT_EQ(t, s->dst, 0x99u);
		EXPECT_EQ(t, s->len, 10 + k);
		EXPECT_EQ(t, s->bytes[16], u8('a' + k));
		EXPECT_EQ(t, s->bytes[16 + 9 + k], u8('a' + k));
	}
	EXPECT_EQ(t, l->tx_free(), TestLink::NTX);
	/* More asked than are free: those free, at once; none free: -ENOMEM at once. */
	RpmsgTxBuf all[TestLink::NTX + 3];
	auto m = get_tx_payload_buffers(*e, Span<RpmsgTxBuf>(all), 0);
	ASSERT_OK(t, m);
	EXPECT_EQ(t, m.value(), TestLink::NTX);
	EXPECT_ERR(t, get_tx_payload_buffers(*e, Span<RpmsgTxBuf>(bufs), 0), -ENOMEM);
	EXPECT_ERR(t, get_tx_payload_buffers(*e, Span<RpmsgTxBuf>(), 0), -EINVAL);
	for (u32 k = 0; k < TestLink::NTX; k++)
		EXPECT_OK(t, release_tx_buffer(*e, all[k]));
	EXPECT_EQ(t, l->tx_free(), TestLink::NTX);
	destroy_ept(*e);
}

/* A batch with one bad buffer or length sends none, and every buffer lent goes back. */
void zero_copy_tx_batch_is_all_or_nothing(Test &t)
{
	TestLink *l = make_test_link(t, false);
	ASSERT_NOT_NULL(t, l);
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "zc-batch-bad", RPMSG_ADDR_ANY, 0x99);
	ASSERT_TRUE(t, ch);
	Rec rec;
	RefPtr<RpmsgEndpoint> e = make_ept(t, *ch, &rec);
	ASSERT_TRUE(t, e);
	u32 sent0 = l->nr_sent.load();
	auto take3 = [&](RpmsgTxBuf(&b)[3]) {
		auto n = get_tx_payload_buffers(*e, Span<RpmsgTxBuf>(b), 0);
		return n.is_ok() && n.value() == 3;
	};
	RpmsgTxBuf b[3];
	/* The second length is above its payload. */
	ASSERT_TRUE(t, take3(b));
	u32 bad_len[3] = { 4, 497, 4 };
	log_set_echo(false);
	u64 seq = log_seq();
	EXPECT_ERR(t, send_nocopy_batch(*e, Span<RpmsgTxBuf>(b), Span<const u32>(bad_len)),
		   -EINVAL);
	log_set_echo(true);
	EXPECT_TRUE(t, log_contains_since(seq, "invalid zero-copy send (buffer 1: 497 bytes)"));
	EXPECT_NULL(t, b[0].payload.data());
	EXPECT_EQ(t, l->tx_free(), TestLink::NTX);
	/* One buffer twice in the batch: the transport refuses it, the others go back. */
	ASSERT_TRUE(t, take3(b));
	RpmsgTxBuf twice[3] = { b[0], b[1], b[0] };
	u32 lens[3] = { 4, 4, 4 };
	seq = log_seq();
	log_set_echo(false);
	EXPECT_ERR(t, send_nocopy_batch(*e, Span<RpmsgTxBuf>(twice), Span<const u32>(lens)),
		   -EINVAL);
	log_set_echo(true);
	EXPECT_TRUE(t, log_contains_since(seq, "zero-copy send refused: tx buffer"));
	EXPECT_EQ(t, l->tx_free(), TestLink::NTX - 1);
	EXPECT_OK(t, release_tx_buffer(*e, b[2]));
	EXPECT_EQ(t, l->tx_free(), TestLink::NTX);
	/* Fewer lengths than buffers: nothing sent, all back. */
	ASSERT_TRUE(t, take3(b));
	log_set_echo(false);
	EXPECT_ERR(t, send_nocopy_batch(*e, Span<RpmsgTxBuf>(b), Span<const u32>(lens, 2)),
		   -EINVAL);
	log_set_echo(true);
	EXPECT_EQ(t, l->tx_free(), TestLink::NTX);
	EXPECT_EQ(t, l->nr_sent.load(), sent0);
	destroy_ept(*e);
}

void zero_copy_rx_hold_and_release(Test &t)
{
	RpmsgLinkConfig cfg;
	cfg.client_hold_max = 2;
	TestLink *l = make_test_link(t, false, cfg);
	ASSERT_NOT_NULL(t, l);
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "zc-rx-test");
	ASSERT_TRUE(t, ch);
	Rec rec;
	rec.hold = true;
	RefPtr<RpmsgEndpoint> e = make_ept(t, *ch, &rec);
	ASSERT_TRUE(t, e);
	auto v = l->inject_str(0x401, e->addr(), "kept");
	ASSERT_OK(t, v);
	EXPECT_TRUE(t, v.value() == RpmsgLink::RxVerdict::Keep);
	EXPECT_EQ(t, rec.hold_err, 0);
	RpmsgRxToken first = rec.token;
	EXPECT_EQ(t, l->rx_held(), 1u);
	/* Still valid after the callback. */
	EXPECT_MEMEQ(t, rec.held_data, "kept", 4);
	ASSERT_OK(t, l->inject_str(0x401, e->addr(), "two"));
	EXPECT_EQ(t, l->link.nr_client_held(), 2u);
	/* The link's limit: copy instead. */
	ASSERT_OK(t, l->inject_str(0x401, e->addr(), "three"));
	EXPECT_EQ(t, rec.hold_err, -ENOBUFS);
	EXPECT_EQ(t, l->rx_held(), 2u);
	/* Outside a callback there is nothing to hold. */
	EXPECT_ERR(t, hold_rx_buffer(*e), -EINVAL);
	u32 recycled = l->recycled.load();
	EXPECT_OK(t, release_rx_buffer(*e, first));
	EXPECT_EQ(t, l->recycled.load(), recycled + 1);
	EXPECT_ERR(t, release_rx_buffer(*e, first), -EINVAL);
	EXPECT_ERR(t, release_rx_buffer(*e, RpmsgRxToken{ 0xffff }), -EINVAL);
	EXPECT_EQ(t, l->rx_held(), 1u);
	/* Destroy gives back what the endpoint still holds. */
	destroy_ept(*e);
	EXPECT_EQ(t, l->rx_held(), 0u);
	EXPECT_EQ(t, l->link.nr_client_held(), 0u);
	EXPECT_ERR(t, release_rx_buffer(*e, rec.token), -EINVAL);
}

void mtu_follows_the_tx_buffer_size(Test &t)
{
	TestLink *l = make_test_link(t, false, RpmsgLinkConfig(), 1024, 1024);
	ASSERT_NOT_NULL(t, l);
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "mtu-test");
	ASSERT_TRUE(t, ch);
	Rec rec;
	RefPtr<RpmsgEndpoint> e = make_ept(t, *ch, &rec);
	ASSERT_TRUE(t, e);
	auto mtu = get_mtu(*e);
	ASSERT_OK(t, mtu);
	EXPECT_EQ(t, mtu.value(), 1008u);
	u8 big[1008] = {};
	big[1007] = 0x5a;
	EXPECT_OK(t, sendto(*e, Span<const u8>(big, sizeof(big)), 0x10));
	EXPECT_EQ(t, l->last_sent()->bytes[16 + 1007], 0x5a);
	destroy_ept(*e);
}

/* --- channels and their drivers --- */

struct BindDrv;
constinit Atomic<bool> s_in_probe{ false };
constinit Atomic<u32> s_probes{ 0 };
constinit Atomic<u32> s_removes{ 0 };
constinit Atomic<u32> s_early_msgs{ 0 };
constinit BindDrv *s_bound = nullptr;
/* The test thread blocked in send on the default endpoint, for the removal test. */
constinit bool s_leave_ept = false;

struct BindDrv : NonMovable {
	static constexpr RpmsgDeviceId id_table[] = { { "bind-test" }, {} };
	u8 order[16] = {};
	u32 n = 0;
	bool in_remove = false;
	Atomic<u32> after_remove{ 0 };

	static Result<UniquePtr<BindDrv>> probe(RpmsgDevice &rpdev)
	{
		s_in_probe.store(true);
		auto d = TRY(make_unique<BindDrv>(GFP_KERNEL));
		s_probes.fetch_add(1);
		if (s_leave_ept) {
			RpmsgChannelInfo ci = {};
			ci.src = RPMSG_ADDR_ANY;
			/* Left behind on purpose: the core reaps it at unbind. */
			(void)create_ept(rpdev, &rec_cb, nullptr, ci);
		}
		s_bound = d.get();
		s_in_probe.store(false);
		return d;
	}
	Result<void> on_message(RpmsgDevice &, Span<const u8> data, u32)
	{
		if (s_in_probe.load())
			s_early_msgs.fetch_add(1);
		if (in_remove)
			after_remove.fetch_add(1);
		if (n < sizeof(order) && data.size())
			order[n] = data[0];
		n++;
		return ok();
	}
	void remove(RpmsgDevice &)
	{
		in_remove = true;
		s_removes.fetch_add(1);
		s_bound = nullptr;
	}
};

constinit RpmsgDriver s_bind_drv{ driver_for<BindDrv>, "rpmsg_bind_test" };

void reset_bind_state()
{
	s_in_probe.store(false);
	s_probes.store(0);
	s_removes.store(0);
	s_early_msgs.store(0);
	s_bound = nullptr;
	s_leave_ept = false;
}

void driver_binds_by_name_and_override(Test &t)
{
	reset_bind_state();
	TestLink *l = make_test_link(t, false);
	ASSERT_NOT_NULL(t, l);
	ASSERT_OK(t, register_rpmsg_driver(s_bind_drv));
	RefPtr<RpmsgDevice> other =
		make_channel(t, *l, "other-name", RPMSG_ADDR_ANY, 0x400, nullptr);
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "bind-test", RPMSG_ADDR_ANY, 0x401, nullptr);
	/* The right name, but forced to another driver. */
	RefPtr<RpmsgDevice> forced =
		make_channel(t, *l, "bind-test", RPMSG_ADDR_ANY, 0x402, "someone-else");
	ASSERT_TRUE(t, other && ch && forced);
	EXPECT_FALSE(t, other->is_bound());
	EXPECT_TRUE(t, ch->is_bound());
	EXPECT_FALSE(t, forced->is_bound());
	EXPECT_EQ(t, s_probes.load(), 1u);
	/* Matching compares at most the 32 bytes of a name. */
	EXPECT_NOT_NULL(t, s_bind_drv.match("bind-test"));
	EXPECT_NULL(t, s_bind_drv.match("bind-tes"));
	EXPECT_NULL(t, s_bind_drv.match("bind-test-2"));
	unregister_rpmsg_driver(s_bind_drv);
	EXPECT_EQ(t, s_removes.load(), 1u);
}

void messages_before_bind_are_held_then_delivered_in_order(Test &t)
{
	reset_bind_state();
	RpmsgLinkConfig cfg;
	cfg.hold_max = 4;
	TestLink *l = make_test_link(t, false, cfg);
	ASSERT_NOT_NULL(t, l);
	/* Announced first: no driver yet. */
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "bind-test", RPMSG_ADDR_ANY, 0x401, nullptr);
	ASSERT_TRUE(t, ch);
	EXPECT_FALSE(t, ch->is_bound());
	const char *msgs[] = { "1st", "2nd", "3rd" };
	for (const char *m : msgs) {
		auto v = l->inject_str(0x401, ch->src(), m);
		ASSERT_OK(t, v);
		EXPECT_TRUE(t, v.value() == RpmsgLink::RxVerdict::Keep);
	}
	EXPECT_EQ(t, l->rx_held(), 3u);
	EXPECT_EQ(t, l->link.stats().rx_held.load(), 3u);
	/* A driver registered after the announcement binds and gets them, in order, after probe. */
	ASSERT_OK(t, register_rpmsg_driver(s_bind_drv));
	EXPECT_TRUE(t, ch->is_bound());
	ASSERT_NOT_NULL(t, s_bound);
	EXPECT_EQ(t, s_bound->n, 3u);
	EXPECT_EQ(t, s_early_msgs.load(), 0u);
	EXPECT_MEMEQ(t, s_bound->order, "123", 3);
	EXPECT_EQ(t, l->rx_held(), 0u);
	/* Then live ones. */
	ASSERT_OK(t, l->inject_str(0x401, ch->src(), "4th"));
	EXPECT_EQ(t, s_bound->order[3], '4');
	unregister_rpmsg_driver(s_bind_drv);
}

void hold_limit_drops_and_counts(Test &t)
{
	reset_bind_state();
	RpmsgLinkConfig cfg;
	cfg.hold_max = 2;
	TestLink *l = make_test_link(t, false, cfg);
	ASSERT_NOT_NULL(t, l);
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "bind-test", RPMSG_ADDR_ANY, 0x401, nullptr);
	ASSERT_TRUE(t, ch);
	ASSERT_OK(t, l->inject_str(0x401, ch->src(), "a"));
	ASSERT_OK(t, l->inject_str(0x401, ch->src(), "b"));
	u64 seq = log_seq();
	log_set_echo(false);
	auto v = l->inject_str(0x401, ch->src(), "c");
	log_set_echo(true);
	ASSERT_OK(t, v);
	EXPECT_TRUE(t, v.value() == RpmsgLink::RxVerdict::Recycle);
	EXPECT_TRUE(t, log_contains_since(seq, "no driver bound"));
	EXPECT_EQ(t, l->link.stats().rx_hold_dropped.load(), 1u);
	EXPECT_EQ(t, l->link.stats().rx_last_error.load(), -ENOBUFS);
	EXPECT_EQ(t, l->rx_held(), 2u);
	ASSERT_OK(t, register_rpmsg_driver(s_bind_drv));
	ASSERT_NOT_NULL(t, s_bound);
	EXPECT_EQ(t, s_bound->n, 2u);
	unregister_rpmsg_driver(s_bind_drv);
}

void held_messages_expire_when_no_driver_binds(Test &t)
{
	RpmsgLinkConfig cfg;
	/* Long enough to still hold the message at the check after the injection. */
	cfg.hold_timeout_ns = ms_to_ns(300);
	TestLink *l = make_test_link(t, false, cfg);
	ASSERT_NOT_NULL(t, l);
	RefPtr<RpmsgDevice> ch =
		make_channel(t, *l, "nobody-binds", RPMSG_ADDR_ANY, 0x401, nullptr);
	ASSERT_TRUE(t, ch);
	u64 seq = log_seq();
	log_set_echo(false);
	ASSERT_OK(t, l->inject_str(0x401, ch->src(), "lost"));
	EXPECT_EQ(t, l->rx_held(), 1u);
	EXPECT_TRUE(t, wait_for([&] { return l->rx_held() == 0; }));
	log_set_echo(true);
	EXPECT_EQ(t, l->link.stats().rx_hold_dropped.load(), 1u);
	EXPECT_EQ(t, l->link.stats().rx_last_error.load(), -ETIMEDOUT);
	EXPECT_TRUE(t, log_contains_since(seq, "no driver bound within"));
}

void removing_a_channel_drops_its_held_messages(Test &t)
{
	TestLink *l = make_test_link(t, false);
	ASSERT_NOT_NULL(t, l);
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "gone-test", RPMSG_ADDR_ANY, 0x401, nullptr);
	ASSERT_TRUE(t, ch);
	ASSERT_OK(t, l->inject_str(0x401, ch->src(), "x"));
	EXPECT_EQ(t, l->rx_held(), 1u);
	EXPECT_OK(t, l->link.remove_channel("gone-test", RPMSG_ADDR_ANY, 0x401));
	EXPECT_EQ(t, l->rx_held(), 0u);
	EXPECT_EQ(t, l->link.stats().rx_hold_dropped.load(), 1u);
	EXPECT_EQ(t, l->link.nr_channels(), 0u);
	EXPECT_ERR(t, l->link.remove_channel("gone-test", RPMSG_ADDR_ANY, 0x401), -ENOENT);
}

void unbind_stops_callbacks_before_remove_and_holds_again(Test &t)
{
	reset_bind_state();
	TestLink *l = make_test_link(t, false);
	ASSERT_NOT_NULL(t, l);
	ASSERT_OK(t, register_rpmsg_driver(s_bind_drv));
	s_leave_ept = true;
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "bind-test", RPMSG_ADDR_ANY, 0x401, nullptr);
	ASSERT_TRUE(t, ch);
	ASSERT_TRUE(t, ch->is_bound());
	u32 epts = l->link.nr_endpoints();
	BindDrv *d = s_bound;
	ASSERT_OK(t, l->inject_str(0x401, ch->src(), "live"));
	EXPECT_EQ(t, d->n, 1u);
	u64 seq = log_seq();
	log_set_echo(false);
	device_release_driver(*ch);
	log_set_echo(true);
	EXPECT_EQ(t, s_removes.load(), 1u);
	/* The endpoint the driver left was destroyed, with a warning. */
	EXPECT_EQ(t, l->link.nr_endpoints(), epts - 1);
	EXPECT_TRUE(t, log_contains_since(seq, "endpoints left by the driver"));
	/* Unbound: the channel's address holds messages again. */
	auto v = l->inject_str(0x401, ch->src(), "after");
	ASSERT_OK(t, v);
	EXPECT_TRUE(t, v.value() == RpmsgLink::RxVerdict::Keep);
	/* A new bind gets it. */
	s_leave_ept = false;
	ASSERT_OK(t, device_attach(*ch));
	ASSERT_NOT_NULL(t, s_bound);
	EXPECT_EQ(t, s_bound->n, 1u);
	EXPECT_EQ(t, s_bound->order[0], 'a');
	unregister_rpmsg_driver(s_bind_drv);
}

struct RemoveArgs {
	RpmsgDevice *ch;
	int err = 1;
};

void driver_removed_while_a_sender_blocks(Test &t)
{
	reset_bind_state();
	TestLink *l = make_test_link(t, false);
	ASSERT_NOT_NULL(t, l);
	l->auto_complete = false;
	ASSERT_OK(t, register_rpmsg_driver(s_bind_drv));
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "bind-test", RPMSG_ADDR_ANY, 0x401, nullptr);
	ASSERT_TRUE(t, ch && ch->is_bound());
	for (u32 i = 0; i < TestLink::NTX; i++)
		ASSERT_OK(t, trysend(*ch->ept(), bytes_of("fill")));
	RemoveArgs a{ ch.get() };
	Runner r;
	ASSERT_OK(t, r.start(
			     [](void *p) {
				     auto *s = static_cast<RemoveArgs *>(p);
				     s->err =
					     result_errno(send(*s->ch->ept(), bytes_of("blocked")));
			     },
			     &a));
	ASSERT_TRUE(t, wait_for([&] { return l->sleepers.load() == 1; }));
	/* Removal does not wait for the peer: the sender is told at once. */
	device_release_driver(*ch);
	EXPECT_EQ(t, s_removes.load(), 1u);
	EXPECT_TRUE(t, r.wait(ms_to_ns(5000)));
	EXPECT_EQ(t, a.err, -ESHUTDOWN);
	EXPECT_EQ(t, l->sleepers.load(), 0u);
	unregister_rpmsg_driver(s_bind_drv);
}

/* --- link interfaces --- */

struct LinkWatch {
	RpmsgLinkInterface intf;
	RpmsgLink *link = nullptr; /* the test's link */
	RpmsgLink *last_added = nullptr;
	u32 adds = 0, removes = 0;
	/* At remove: the channels the link still had (none may be gone yet). */
	u32 channels_at_remove = 0;
};

void watch_add(RpmsgLinkInterface &intf, RpmsgLink &link)
{
	LinkWatch *w = container_of(&intf, &LinkWatch::intf);
	w->last_added = &link;
	if (&link == w->link)
		w->adds++;
}

void watch_remove(RpmsgLinkInterface &intf, RpmsgLink &link)
{
	LinkWatch *w = container_of(&intf, &LinkWatch::intf);
	if (&link != w->link)
		return;
	w->removes++;
	w->channels_at_remove = link.nr_channels();
}

/* @w hears of the interface's links; @link is the test's. */
void watch_init(LinkWatch &w, RpmsgLink &link)
{
	w.intf.add_link = watch_add;
	w.intf.remove_link = watch_remove;
	w.link = &link;
}

void link_interface_hears_existing_and_removed_links(Test &t)
{
	TestLink *l = make_test_link(t, false);
	ASSERT_NOT_NULL(t, l);
	LinkWatch w;
	watch_init(w, l->link);
	/* Registered after the link: heard of at once. */
	ASSERT_OK(t, rpmsg_link_interface_register(w.intf));
	EXPECT_EQ(t, w.adds, 1u);
	EXPECT_ERR(t, rpmsg_link_interface_register(w.intf), -EEXIST);
	RefPtr<RpmsgDevice> ch = make_channel(t, *l, "intf-test");
	ASSERT_TRUE(t, ch);
	/* Shutdown tells the interface before the channels go. */
	l->teardown();
	EXPECT_EQ(t, w.removes, 1u);
	EXPECT_EQ(t, w.channels_at_remove, 1u);
	/* Unregistering after the link is gone calls nothing more. */
	rpmsg_link_interface_unregister(w.intf);
	EXPECT_EQ(t, w.removes, 1u);
	EXPECT_EQ(t, w.adds, 1u);
}

void link_interface_unregister_lets_go_of_live_links(Test &t)
{
	TestLink *l = make_test_link(t, false);
	ASSERT_NOT_NULL(t, l);
	LinkWatch w;
	watch_init(w, l->link);
	ASSERT_OK(t, rpmsg_link_interface_register(w.intf));
	rpmsg_link_interface_unregister(w.intf);
	EXPECT_EQ(t, w.adds, 1u);
	EXPECT_EQ(t, w.removes, 1u);
	/* A link set up while registered is heard of when its init() ends. */
	ASSERT_OK(t, rpmsg_link_interface_register(w.intf));
	TestLink *l2 = make_test_link(t, false);
	ASSERT_NOT_NULL(t, l2);
	EXPECT_TRUE(t, w.last_added == &l2->link);
	w.link = &l2->link;
	w.removes = 0;
	l2->teardown();
	EXPECT_EQ(t, w.removes, 1u);
	rpmsg_link_interface_unregister(w.intf);
}

const TestCase rpmsg_core_cases[] = {
	KEEL_CASE(ept_dynamic_addresses_start_at_1024_lowest_free),
	KEEL_CASE(ept_fixed_address_taken_is_ebusy),
	KEEL_CASE(ept_1000_create_destroy_cycles_leak_nothing),
	KEEL_CASE(rx_delivers_by_destination_in_atomic_context),
	KEEL_CASE(rx_after_destroy_finds_the_address_anew),
	KEEL_PARAM_CASE(rx_bad_header_is_dropped_logged_and_recycled, bad_rx_gen),
	KEEL_CASE(rx_big_endian_link_decodes_big_endian_headers),
	KEEL_CASE(destroy_waits_for_a_running_callback),
	KEEL_CASE(send_writes_header_and_payload),
	KEEL_CASE(send_rejects_any_address_and_oversize),
	KEEL_CASE(trysend_without_buffer_is_enomem_at_once),
	KEEL_CASE(send_timeout_expires_and_disarms_notifications),
	KEEL_CASE(blocked_sender_resumes_when_a_buffer_returns),
	KEEL_CASE(destroy_wakes_a_blocked_sender),
	KEEL_CASE(send_from_a_callback_never_waits),
	KEEL_CASE(send_on_a_down_link_is_enotconn),
	KEEL_CASE(zero_copy_tx_fill_send_and_release),
	KEEL_CASE(zero_copy_tx_batch_is_one_submission_in_order),
	KEEL_CASE(zero_copy_tx_batch_is_all_or_nothing),
	KEEL_CASE(zero_copy_rx_hold_and_release),
	KEEL_CASE(mtu_follows_the_tx_buffer_size),
	KEEL_CASE(driver_binds_by_name_and_override),
	KEEL_CASE(messages_before_bind_are_held_then_delivered_in_order),
	KEEL_CASE(hold_limit_drops_and_counts),
	KEEL_CASE(held_messages_expire_when_no_driver_binds),
	KEEL_CASE(removing_a_channel_drops_its_held_messages),
	KEEL_CASE(unbind_stops_callbacks_before_remove_and_holds_again),
	KEEL_CASE(driver_removed_while_a_sender_blocks),
	KEEL_CASE(link_interface_hears_existing_and_removed_links),
	KEEL_CASE(link_interface_unregister_lets_go_of_live_links),
	{},
};

const TestSuite rpmsg_core_suite = { .name = "rpmsg_core", .cases = rpmsg_core_cases };

} // namespace

KEEL_TEST_SUITE(rpmsg_core_suite);
