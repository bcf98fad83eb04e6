// SPDX-License-Identifier: GPL-2.0
/*
 * The name service over the fake transport: announcements create and
 * remove channels (in both byte orders), drivers bind by name whenever
 * they register, and every bad announcement gets its errno, its log line
 * and no leak; a flood is bounded.
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

constinit Atomic<u32> s_probes{ 0 };
constinit Atomic<u32> s_removes{ 0 };
constinit RpmsgDevice *s_last = nullptr;

struct NsDrv : NonMovable {
	static constexpr RpmsgDeviceId id_table[] = { { "ns-test" }, { "ns-other" }, {} };
	static Result<UniquePtr<NsDrv>> probe(RpmsgDevice &rpdev)
	{
		s_probes.fetch_add(1);
		s_last = &rpdev;
		return make_unique<NsDrv>(GFP_KERNEL);
	}
	void remove(RpmsgDevice &) { s_removes.fetch_add(1); }
};

constinit RpmsgDriver s_ns_drv{ driver_for<NsDrv>, "rpmsg_ns_test" };

void reset()
{
	s_probes.store(0);
	s_removes.store(0);
	s_last = nullptr;
}

/* Injects an announcement and waits until the name service handled it. */
void announce(Test &t, TestLink &l, const char *name, u32 addr, u32 flags)
{
	auto v = l.announce(name, addr, flags);
	EXPECT_OK(t, v);
	l.link.ns_flush();
}

RpmsgNsMsg ns_msg(const TestLink &l, const char *name, u32 addr, u32 flags,
		  size_t name_len = ~size_t(0))
{
	RpmsgNsMsg m = {};
	memcpy(m.name, name, min(name_len == ~size_t(0) ? strlen(name) : name_len, sizeof(m.name)));
	m.addr = cpu_to_rpmsg32(l.link.little_endian(), addr);
	m.flags = cpu_to_rpmsg32(l.link.little_endian(), flags);
	return m;
}

const bool byte_orders[] = { true, false };
void describe_order(const bool &le, char *desc)
{
	snprintf(desc, KEEL_TEST_DESC_LEN, le ? "little_endian" : "big_endian");
}
KEEL_PARAMS(order_gen, byte_orders, describe_order)

void ns_create_makes_a_channel_the_driver_binds_and_destroy_removes_it(Test &t)
{
	reset();
	bool le = t.param<bool>();
	TestLink *l =
		make_test_link(t, true, RpmsgLinkConfig(), RPMSG_BUF_SIZE, RPMSG_BUF_SIZE, le);
	ASSERT_NOT_NULL(t, l);
	ASSERT_OK(t, register_rpmsg_driver(s_ns_drv));
	announce(t, *l, "ns-test", 0x401, RPMSG_NS_CREATE);
	EXPECT_EQ(t, l->link.nr_channels(), 1u);
	EXPECT_EQ(t, s_probes.load(), 1u);
	ASSERT_NOT_NULL(t, s_last);
	EXPECT_STREQ(t, s_last->channel_name(), "ns-test");
	EXPECT_EQ(t, s_last->dst(), 0x401u);
	/* Its own address, reserved with it: the first dynamic one. */
	EXPECT_EQ(t, s_last->src(), RPMSG_RESERVED_ADDRESSES);
	EXPECT_FALSE(t, s_last->announce());
	EXPECT_EQ(t, s_last->little_endian(), le);
	/* Linux's device name: parent.name.src.dst, with ANY as -1. */
	char want[64];
	snprintf(want, sizeof(want), "%s.ns-test.-1.1025", l->dev().name());
	EXPECT_STREQ(t, s_last->name(), want);
	EXPECT_EQ(t, l->link.stats().ns_created.load(), 1u);

	announce(t, *l, "ns-test", 0x401, RPMSG_NS_DESTROY);
	EXPECT_EQ(t, l->link.nr_channels(), 0u);
	EXPECT_EQ(t, s_removes.load(), 1u);
	EXPECT_EQ(t, l->link.stats().ns_destroyed.load(), 1u);
	unregister_rpmsg_driver(s_ns_drv);
}

void ns_driver_registered_after_the_announcement_still_binds(Test &t)
{
	reset();
	TestLink *l = make_test_link(t, true);
	ASSERT_NOT_NULL(t, l);
	announce(t, *l, "ns-other", 0x402, RPMSG_NS_CREATE);
	EXPECT_EQ(t, l->link.nr_channels(), 1u);
	EXPECT_EQ(t, s_probes.load(), 0u);
	ASSERT_OK(t, register_rpmsg_driver(s_ns_drv));
	EXPECT_EQ(t, s_probes.load(), 1u);
	ASSERT_NOT_NULL(t, s_last);
	EXPECT_TRUE(t, s_last->is_bound());
	unregister_rpmsg_driver(s_ns_drv);
	EXPECT_EQ(t, s_removes.load(), 1u);
	/* The channel outlives its driver. */
	EXPECT_EQ(t, l->link.nr_channels(), 1u);
}

void ns_name_without_nul_is_clamped(Test &t)
{
	TestLink *l = make_test_link(t, true);
	ASSERT_NOT_NULL(t, l);
	const char *name = "abcdefghijklmnopqrstuvwxyz012345"; /* 32 characters, no NUL */
	RpmsgNsMsg m = ns_msg(*l, name, 0x410, RPMSG_NS_CREATE, 32);
	u64 seq = log_seq();
	log_set_echo(false);
	EXPECT_OK(t, l->link.ns_handle(m));
	log_set_echo(true);
	EXPECT_TRUE(t, log_contains_since(seq, "name without NUL, clamped"));
	auto ch = l->link.find_channel("abcdefghijklmnopqrstuvwxyz01234", 0x410);
	ASSERT_TRUE(t, ch);
	EXPECT_EQ(t, strlen(ch->channel_name()), size_t(31));
}

struct BadNs {
	const char *name;
	u32 addr;
	u32 flags;
	int err;
	const char *log;
};

const BadNs bad_ns_cases[] = {
	{ "", 0x400, RPMSG_NS_CREATE, -EINVAL, "invalid channel name" },
	{ "bad\x01name", 0x400, RPMSG_NS_CREATE, -EINVAL, "invalid channel name" },
	{ "bad\x7fname", 0x400, RPMSG_NS_CREATE, -EINVAL, "invalid channel name" },
	{ "any-addr", RPMSG_ADDR_ANY, RPMSG_NS_CREATE, -EINVAL, "invalid address" },
	{ "ns-addr", RPMSG_NS_ADDR, RPMSG_NS_CREATE, -EINVAL, "invalid address" },
	{ "dup", 0x400, RPMSG_NS_CREATE, -EEXIST, "already exists" },
	{ "unknown", 0x400, RPMSG_NS_DESTROY, -ENOENT, "no channel unknown addr 0x400 to destroy" },
	{ "dup", 0x401, RPMSG_NS_DESTROY, -ENOENT, "to destroy" },
};

void describe_bad_ns(const BadNs &b, char *desc)
{
	snprintf(desc, KEEL_TEST_DESC_LEN, "%s_%x_%s", b.name[0] ? b.name : "empty", b.addr,
		 b.flags ? "destroy" : "create");
	for (char *p = desc; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '_';
}
KEEL_PARAMS(bad_ns_gen, bad_ns_cases, describe_bad_ns)

void ns_bad_announcement_is_refused_logged_and_leaks_nothing(Test &t)
{
	const BadNs &b = t.param<BadNs>();
	TestLink *l = make_test_link(t, true);
	ASSERT_NOT_NULL(t, l);
	/* "dup" exists before the case. */
	EXPECT_OK(t, l->link.ns_handle(ns_msg(*l, "dup", 0x400, RPMSG_NS_CREATE)));
	u32 channels = l->link.nr_channels(), epts = l->link.nr_endpoints();
	u64 allocs = alloc_calls();
	u64 seq = log_seq();
	log_set_echo(false);
	EXPECT_ERR(t, l->link.ns_handle(ns_msg(*l, b.name, b.addr, b.flags)), b.err);
	log_set_echo(true);
	EXPECT_TRUE(t, log_contains_since(seq, b.log));
	/* Refused before anything was allocated. */
	EXPECT_EQ(t, alloc_calls(), allocs);
	EXPECT_EQ(t, l->link.nr_channels(), channels);
	EXPECT_EQ(t, l->link.nr_endpoints(), epts);
	EXPECT_EQ(t, l->link.stats().ns_last_error.load(), b.err);
	/* The same through the wire, and the service keeps working. */
	log_set_echo(false);
	announce(t, *l, b.name, b.addr, b.flags);
	log_set_echo(true);
	EXPECT_EQ(t, l->link.stats().ns_last_error.load(), b.err);
	announce(t, *l, "after", 0x500, RPMSG_NS_CREATE);
	EXPECT_TRUE(t, l->link.find_channel("after", 0x500));
}

const u32 bad_sizes[] = { 0, 1, 39, 41, 200 };
void describe_size(const u32 &n, char *desc)
{
	snprintf(desc, KEEL_TEST_DESC_LEN, "%u_bytes", n);
}
KEEL_PARAMS(size_gen, bad_sizes, describe_size)

void ns_malformed_size_is_einval(Test &t)
{
	u32 n = t.param<u32>();
	TestLink *l = make_test_link(t, true);
	ASSERT_NOT_NULL(t, l);
	u8 body[200] = {};
	memcpy(body, "sized", 5);
	u64 seq = log_seq();
	log_set_echo(false);
	auto v = l->inject_msg(0x400, RPMSG_NS_ADDR, Span<const u8>(body, n));
	l->link.ns_flush();
	log_set_echo(true);
	ASSERT_OK(t, v);
	EXPECT_TRUE(t, log_contains_since(seq, "malformed ns msg"));
	EXPECT_EQ(t, l->link.stats().ns_last_error.load(), -EINVAL);
	EXPECT_EQ(t, l->link.stats().rx_cb_errors.load(), 1u);
	EXPECT_EQ(t, l->link.nr_channels(), 0u);
	EXPECT_EQ(t, l->rx_held(), 0u);
}

void ns_flood_is_bounded(Test &t)
{
	RpmsgLinkConfig cfg;
	cfg.max_channels = 8;
	TestLink *l = make_test_link(t, true, cfg);
	ASSERT_NOT_NULL(t, l);
	constexpr u32 N = 200;
	log_set_echo(false);
	for (u32 i = 0; i < N; i++) {
		char name[32];
		snprintf(name, sizeof(name), "flood-%u", i);
		ASSERT_OK(t, l->announce(name, 0x1000 + i, RPMSG_NS_CREATE));
	}
	l->link.ns_flush();
	log_set_echo(true);
	RpmsgLinkStats &s = l->link.stats();
	/* Every announcement is accounted for: created, refused, or dropped from the queue. */
	EXPECT_EQ(t, s.ns_created.load() + s.ns_bad.load() + s.ns_dropped.load(), u64(N));
	EXPECT_EQ(t, s.ns_created.load(), 8u);
	EXPECT_EQ(t, l->link.nr_channels(), 8u);
	EXPECT_EQ(t, l->rx_held(), 0u);
	/* Still working: a destroy frees room for a new one. */
	announce(t, *l, "flood-0", 0x1000, RPMSG_NS_DESTROY);
	EXPECT_EQ(t, l->link.nr_channels(), 7u);
	announce(t, *l, "fresh", 0x2000, RPMSG_NS_CREATE);
	EXPECT_EQ(t, l->link.nr_channels(), 8u);
}

void ns_announces_local_channels(Test &t)
{
	reset();
	TestLink *l = make_test_link(t, true);
	ASSERT_NOT_NULL(t, l);
	ASSERT_OK(t, register_rpmsg_driver(s_ns_drv));
	/* A local service: announced when its driver binds, withdrawn when it unbinds. */
	RpmsgChannelInfo ci = {};
	strscpy(ci.name, "ns-test", sizeof(ci.name)).release_value();
	ci.src = 0x300;
	ci.dst = RPMSG_ADDR_ANY;
	auto ch = l->link.add_channel(ci, true, nullptr, false);
	ASSERT_OK(t, ch);
	EXPECT_TRUE(t, ch.value()->is_bound());
	const TestLink::Sent *s = l->last_sent();
	ASSERT_NOT_NULL(t, s);
	EXPECT_EQ(t, s->src, 0x300u);
	EXPECT_EQ(t, s->dst, RPMSG_NS_ADDR);
	EXPECT_EQ(t, s->len, 40u);
	RpmsgNsMsg want = ns_msg(*l, "ns-test", 0x300, RPMSG_NS_CREATE);
	EXPECT_MEMEQ(t, s->bytes + 16, &want, sizeof(want));
	/* Announced once: a second call sends nothing. */
	u32 sent = l->nr_sent.load();
	EXPECT_OK(t, announce_create(*ch.value()));
	EXPECT_EQ(t, l->nr_sent.load(), sent);
	unregister_rpmsg_driver(s_ns_drv);
	s = l->last_sent();
	want = ns_msg(*l, "ns-test", 0x300, RPMSG_NS_DESTROY);
	EXPECT_MEMEQ(t, s->bytes + 16, &want, sizeof(want));
	/* Without a name service on the peer, nothing is announced. */
	l->link.set_peer_ns(false);
	ASSERT_OK(t, register_rpmsg_driver(s_ns_drv));
	EXPECT_EQ(t, l->nr_sent.load(), sent + 1);
	unregister_rpmsg_driver(s_ns_drv);
}

const TestCase rpmsg_ns_cases[] = {
	KEEL_PARAM_CASE(ns_create_makes_a_channel_the_driver_binds_and_destroy_removes_it,
			order_gen),
	KEEL_CASE(ns_driver_registered_after_the_announcement_still_binds),
	KEEL_CASE(ns_name_without_nul_is_clamped),
	KEEL_PARAM_CASE(ns_bad_announcement_is_refused_logged_and_leaks_nothing, bad_ns_gen),
	KEEL_PARAM_CASE(ns_malformed_size_is_einval, size_gen),
	KEEL_CASE(ns_flood_is_bounded),
	KEEL_CASE(ns_announces_local_channels),
	{},
};

const TestSuite rpmsg_ns_suite = { .name = "rpmsg_ns", .cases = rpmsg_ns_cases };

} // namespace

KEEL_TEST_SUITE(rpmsg_ns_suite);
