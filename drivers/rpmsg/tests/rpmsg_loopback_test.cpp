// SPDX-License-Identifier: GPL-2.0
/*
 * RpmsgLoopback, the remote in the same kernel (what the rpmsg_loopback
 * module runs): Linux's sample exchange between a host client and the
 * remote's echo service, over coherent DMA memory from the port's default
 * device; teardown in every order of the three parties (the client's
 * driver, the service's driver, the loopback), as their modules may be
 * unloaded; drivers registered before or after the link is up; stop and
 * start again; a crash and its recovery; non-default buffer sizes; bad
 * configurations.
 */
#include <keel/log.h>
#include <keel/test.h>
#include <rpmsg/rpmsg_loopback.h>

#include "../rpmsg_internal.h"
#include "rpmsg_test_util.h"

using namespace keel;
using namespace keel::test;
using namespace rpmsg;
using namespace rpmsg::test;

namespace {

constexpr const char *SERVICE = "rpmsg-lb-test";
/* Linux's sample: "hello world!" answered until 100 replies came back. */
constexpr u32 LIMIT = 100;
/*
 * A guard against an exchange that never ends, not a bound on its speed:
 * 100 round trips under emulation with KASAN on a loaded machine were
 * seen to take more than 5 s.
 */
constexpr s64 EXCHANGE_TIMEOUT_NS = keel::ms_to_ns(60000);

constinit Atomic<u32> s_echo_probed{ 0 };
constinit Atomic<u32> s_echo_removed{ 0 };
constinit Atomic<u64> s_echoed{ 0 };
constinit Atomic<u32> s_ping_probed{ 0 };
constinit Atomic<u32> s_ping_removed{ 0 };
constinit Atomic<u32> s_ping_done{ 0 };
constinit Atomic<u32> s_ping_errors{ 0 };

/* The remote's service: sends every message back (one is in flight at a time). */
struct LbEcho : NonMovable {
	static Result<UniquePtr<LbEcho>> probe(RpmsgDevice &)
	{
		s_echo_probed.fetch_add(1);
		return make_unique<LbEcho>(GFP_KERNEL);
	}
	void remove(RpmsgDevice &) { s_echo_removed.fetch_add(1); }
	Result<void> on_message(RpmsgDevice &rpdev, Span<const u8> data, u32 src)
	{
		TRY(trysendto(*rpdev.ept(), data, src));
		s_echoed.fetch_add(1);
		return ok();
	}
};
constinit RpmsgDriver s_lb_echo{ driver_for<LbEcho>, "rpmsg_lb_test_echo" };

/* The host's client, Linux's sample pattern. */
struct LbPing : NonMovable {
	static constexpr RpmsgDeviceId id_table[] = { { "rpmsg-lb-test" }, {} };
	Atomic<u32> rx{ 0 };

	static Result<UniquePtr<LbPing>> probe(RpmsgDevice &rpdev)
	{
		auto p = TRY(make_unique<LbPing>(GFP_KERNEL));
		TRY(send(*rpdev.ept(), bytes_of("hello world!")));
		s_ping_probed.fetch_add(1);
		return p;
	}
	void remove(RpmsgDevice &) { s_ping_removed.fetch_add(1); }
	Result<void> on_message(RpmsgDevice &rpdev, Span<const u8> data, u32)
	{
		if (data.size() != 12 || memcmp(data.data(), "hello world!", 12) != 0)
			s_ping_errors.fetch_add(1);
		if (rx.add_return(1) >= LIMIT) {
			s_ping_done.fetch_add(1);
			return ok();
		}
		Result<void> r = send(*rpdev.ept(), bytes_of("hello world!"));
		if (r.is_error())
			s_ping_errors.fetch_add(1);
		return r;
	}
};
constinit RpmsgDriver s_lb_ping{ driver_for<LbPing>, "rpmsg_lb_test_ping" };

void reset_counters()
{
	Atomic<u32> *counters[] = { &s_echo_probed,  &s_echo_removed, &s_ping_probed,
				    &s_ping_removed, &s_ping_done,    &s_ping_errors };
	for (Atomic<u32> *c : counters)
		c->store(0);
	s_echoed.store(0);
}

/*
 * A test driver registered as its module would (the bus counted with it),
 * unregistered when the case ends unless dropped before.
 */
struct DriverReg : NonMovable {
	RpmsgDriver *drv = nullptr;
	~DriverReg() { drop(); }
	Result<void> add(RpmsgDriver &d)
	{
		TRY(module_driver_init(d));
		drv = &d;
		return ok();
	}
	void drop()
	{
		if (drv)
			module_driver_exit(*drv);
		drv = nullptr;
	}
};

/* A case's start: the counters at zero, the echo and the ping drivers registered. */
Result<void> add_echo_and_ping(DriverReg &echo, DriverReg &ping)
{
	reset_counters();
	TRY(echo.add(s_lb_echo));
	return ping.add(s_lb_ping);
}

/* A small loopback: 16 buffers each way. */
RpmsgLoopbackConfig small_config()
{
	RpmsgLoopbackConfig c;
	c.name = "rpmsg-lb-test";
	c.vring_num = 16;
	return c;
}

Result<UniquePtr<RpmsgLoopback>> make_loopback(const RpmsgLoopbackConfig &cfg)
{
	auto lb = TRY(RpmsgLoopback::create(cfg, GFP_KERNEL));
	TRY(lb->add_service(SERVICE, "rpmsg_lb_test_echo"));
	TRY(lb->start());
	return lb;
}

/* The whole exchange, as the samples' modules run it. */
void client_sample_exchange_completes(Test &t)
{
	DriverReg echo, ping;
	ASSERT_OK(t, add_echo_and_ping(echo, ping));
	/* Linux's defaults: 256 buffers of 512 bytes each way, the region allocated. */
	RpmsgLoopbackConfig cfg;
	cfg.name = "rpmsg-lb-test";
	auto lb = make_loopback(cfg);
	ASSERT_OK(t, lb);
	RpmsgLoopback &l = *lb.value();
	EXPECT_TRUE(t, l.started());
	EXPECT_GE(t, l.region().size(), size_t(256 * 1024));
	EXPECT_TRUE(t, wait_for([] { return s_ping_done.load() == 1; }, EXCHANGE_TIMEOUT_NS));
	EXPECT_EQ(t, s_echoed.load(), u64(LIMIT));
	EXPECT_EQ(t, s_ping_errors.load(), 0u);
	RpmsgLink *hl = l.host_link();
	ASSERT_NOT_NULL(t, hl);
	EXPECT_EQ(t, hl->mtu(), 496u);
	/* The echoes and the service's announcement. */
	EXPECT_EQ(t, hl->stats().rx_delivered.load(), u64(LIMIT) + 1);
	EXPECT_EQ(t, hl->stats().rx_bad.load() + hl->stats().rx_no_recipient.load(), 0u);
	lb.value().reset();
	/* Both drivers' remove ran with the loopback; nothing is bound any more. */
	EXPECT_EQ(t, s_ping_removed.load(), 1u);
	EXPECT_EQ(t, s_echo_removed.load(), 1u);
}

/*
 * Every order in which the three parties may go (as their modules are
 * unloaded), with the drivers registered before the loopback starts
 * (even orders) or after it is up (odd): each driver's remove runs once,
 * when its channel goes, whoever goes first.
 */
void teardown_in_every_order(Test &t)
{
	/* 0: the client's driver, 1: the service's driver, 2: the loopback. */
	static constexpr u8 orders[6][3] = { { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
					     { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 } };
	for (u32 o = 0; o < 6; o++) {
		reset_counters();
		DriverReg echo, ping;
		UniquePtr<RpmsgLoopback> lb;
		bool late = o % 2;
		if (!late) {
			ASSERT_OK(t, echo.add(s_lb_echo));
			ASSERT_OK(t, ping.add(s_lb_ping));
		}
		auto r = make_loopback(small_config());
		ASSERT_OK(t, r);
		lb = r.release_value();
		if (late) {
			ASSERT_OK(t, ping.add(s_lb_ping));
			ASSERT_OK(t, echo.add(s_lb_echo));
		}
		ASSERT_TRUE(t,
			    wait_for([] { return s_ping_done.load() == 1; }, EXCHANGE_TIMEOUT_NS));
		for (u8 step : orders[o]) {
			if (step == 0)
				ping.drop();
			else if (step == 1)
				echo.drop();
			else
				lb.reset();
		}
		EXPECT_EQ(t, s_ping_probed.load(), 1u);
		EXPECT_EQ(t, s_ping_removed.load(), 1u);
		EXPECT_EQ(t, s_echo_probed.load(), 1u);
		EXPECT_EQ(t, s_echo_removed.load(), 1u);
		EXPECT_EQ(t, s_ping_errors.load(), 0u);
		if (t.failed()) {
			EXPECT_FAIL(t, "teardown order %u%u%u, drivers %s", orders[o][0],
				    orders[o][1], orders[o][2], late ? "late" : "early");
			return;
		}
	}
}

/* The service's driver goes while the loopback stays: the host's channel goes with it. */
void withdrawn_service_removes_the_host_channel(Test &t)
{
	DriverReg echo, ping;
	ASSERT_OK(t, add_echo_and_ping(echo, ping));
	auto lb = make_loopback(small_config());
	ASSERT_OK(t, lb);
	RpmsgLoopback &l = *lb.value();
	ASSERT_TRUE(t, wait_for([] { return s_ping_done.load() == 1; }, EXCHANGE_TIMEOUT_NS));
	echo.drop();
	EXPECT_TRUE(t, wait_for([] { return s_ping_removed.load() == 1; }));
	RpmsgLink *hl = l.host_link();
	ASSERT_NOT_NULL(t, hl);
	EXPECT_TRUE(t, wait_for([&] { return !hl->find_channel(SERVICE, RPMSG_ADDR_ANY); }));
	/* Back again: announced again, a new channel, a new exchange. */
	ASSERT_OK(t, echo.add(s_lb_echo));
	EXPECT_TRUE(t, wait_for([] { return s_ping_done.load() == 2; }, EXCHANGE_TIMEOUT_NS));
	EXPECT_EQ(t, s_ping_probed.load(), 2u);
	EXPECT_EQ(t, s_echo_probed.load(), 2u);
}

/* stop() is a remote processor stopped; start() boots it again: a new session. */
void stop_and_start_again(Test &t)
{
	DriverReg echo, ping;
	ASSERT_OK(t, add_echo_and_ping(echo, ping));
	auto lb = make_loopback(small_config());
	ASSERT_OK(t, lb);
	RpmsgLoopback &l = *lb.value();
	for (u32 i = 1; i <= 5; i++) {
		ASSERT_TRUE(t, wait_for([i] { return s_ping_done.load() == i; }));
		l.stop();
		EXPECT_FALSE(t, l.started());
		EXPECT_NULL(t, l.host_link());
		EXPECT_EQ(t, s_ping_removed.load(), i);
		/* The service stays bound on the remote, waiting for the next session. */
		EXPECT_EQ(t, s_echo_removed.load(), 0u);
		ASSERT_OK(t, l.start());
		EXPECT_ERR(t, l.start(), -EBUSY);
	}
	EXPECT_TRUE(t, wait_for([] { return s_ping_done.load() == 6; }, EXCHANGE_TIMEOUT_NS));
	EXPECT_EQ(t, l.remote().sessions(), 6u);
}

/*
 * cut() is the remote crashing: the host's channel stays until stop() (a
 * remoteproc's recovery stops the subdevices), then start() recovers: a
 * new session over the same doorbells, the client bound again.
 */
void crash_and_recovery(Test &t)
{
	DriverReg echo, ping;
	ASSERT_OK(t, add_echo_and_ping(echo, ping));
	auto lb = make_loopback(small_config());
	ASSERT_OK(t, lb);
	RpmsgLoopback &l = *lb.value();
	for (u32 i = 1; i <= 3; i++) {
		ASSERT_TRUE(t, wait_for([i] { return s_ping_done.load() == i; }));
		RpmsgLink *link = l.host_link();
		ASSERT_NOT_NULL(t, link);
		l.cut();
		EXPECT_FALSE(t, l.doorbells().a().peer_alive());
		l.stop();
		EXPECT_EQ(t, s_ping_removed.load(), i);
		ASSERT_OK(t, l.start());
		EXPECT_TRUE(t, l.doorbells().a().peer_alive());
	}
	EXPECT_TRUE(t, wait_for([] { return s_ping_done.load() == 4; }));
	EXPECT_EQ(t, s_ping_errors.load(), 0u);
	EXPECT_EQ(t, l.remote().sessions(), 4u);
}

/* Other buffer sizes: the remote offers them (VIRTIO_RPMSG_F_BUFSZ), the host adopts them. */
void configured_buffers_reach_the_host(Test &t)
{
	DriverReg echo, ping;
	ASSERT_OK(t, add_echo_and_ping(echo, ping));
	RpmsgLoopbackConfig cfg = small_config();
	cfg.vring_num = 32;
	cfg.h2r_buf_size = 1024;
	cfg.r2h_buf_size = 256;
	auto lb = make_loopback(cfg);
	ASSERT_OK(t, lb);
	RpmsgLoopback &l = *lb.value();
	ASSERT_TRUE(t, wait_for([] { return s_ping_done.load() == 1; }, EXCHANGE_TIMEOUT_NS));
	ASSERT_NOT_NULL(t, l.host_link());
	EXPECT_EQ(t, l.host_link()->mtu(), 1024u - 16);
	EXPECT_EQ(t, l.remote().link().mtu(), 256u - 16);
	/* What was allocated is what the numbers need. */
	auto need = rpmsg_loopback_region_size(cfg);
	ASSERT_OK(t, need);
	EXPECT_EQ(t, l.region().size(), need.value());
}

void bad_configurations_are_refused(Test &t)
{
	RpmsgLoopbackConfig cfg = small_config();
	cfg.vring_num = 24;
	EXPECT_ERR(t, rpmsg_loopback_region_size(cfg), -EINVAL);
	log_set_echo(false);
	EXPECT_ERR(t, RpmsgLoopback::create(cfg, GFP_KERNEL), -EINVAL);
	cfg = small_config();
	cfg.name = nullptr;
	EXPECT_ERR(t, RpmsgLoopback::create(cfg, GFP_KERNEL), -EINVAL);
	cfg = small_config();
	cfg.h2r_buf_size = 500;
	EXPECT_ERR(t, RpmsgLoopback::create(cfg, GFP_KERNEL), -EINVAL);

	/* A region given by the caller that is too small: start() fails, nothing stays up. */
	cfg = small_config();
	cfg.region_size = 2 * 4096;
	auto lb = RpmsgLoopback::create(cfg, GFP_KERNEL);
	ASSERT_OK(t, lb);
	EXPECT_ERR(t, lb.value()->start(), -ENOMEM);
	log_set_echo(true);
	EXPECT_FALSE(t, lb.value()->started());
	EXPECT_NULL(t, lb.value()->host_link());
	EXPECT_FALSE(t, lb.value()->remote().link_up());
}

/* The module parameter's form: "name[:driver]" entries, checked before any is added. */
void service_lists_are_parsed_and_checked(Test &t)
{
	auto lb = RpmsgLoopback::create(small_config(), GFP_KERNEL);
	ASSERT_OK(t, lb);
	RpmsgLoopback &l = *lb.value();
	RpmsgLink &rl = l.remote().link();
	log_set_echo(false);
	const char *bad[] = {
		"",	  ",svc-a", "svc-a,,svc-b",
		"svc-a:", ":drv",   "svc-a,name-of-exactly-thirty-two-chars",
	};
	for (const char *list : bad) {
		u64 since = log_seq();
		EXPECT_ERR(t, l.add_services(list, "rpmsg_echo"), -EINVAL);
		EXPECT_TRUE(t, log_contains_since(since, "rpmsg-lb-test: ", KEEL_LOGLEVEL_ERR));
		EXPECT_FALSE(t, rl.find_channel("svc-a", RPMSG_ADDR_ANY));
	}
	auto n = l.add_services("svc-a,svc-b:other_driver,", "rpmsg_echo");
	ASSERT_OK(t, n);
	EXPECT_EQ(t, n.value(), 2u);
	char drv[RPMSG_NAME_SIZE];
	auto a = rl.find_channel("svc-a", RPMSG_ADDR_ANY);
	auto b = rl.find_channel("svc-b", RPMSG_ADDR_ANY);
	ASSERT_TRUE(t, a && b);
	EXPECT_TRUE(t, a->driver_override(drv, sizeof(drv)));
	EXPECT_STREQ(t, drv, "rpmsg_echo");
	EXPECT_TRUE(t, b->driver_override(drv, sizeof(drv)));
	EXPECT_STREQ(t, drv, "other_driver");
	/* A name the remote has already: the error of add_service(). */
	EXPECT_ERR(t, l.add_services("svc-c,svc-a", "rpmsg_echo"), -EEXIST);
	log_set_echo(true);
	EXPECT_TRUE(t, rl.find_channel("svc-c", RPMSG_ADDR_ANY));
}

const TestCase rpmsg_loopback_cases[] = {
	KEEL_CASE(client_sample_exchange_completes),
	KEEL_CASE(teardown_in_every_order),
	KEEL_CASE(withdrawn_service_removes_the_host_channel),
	KEEL_CASE(stop_and_start_again),
	KEEL_CASE(crash_and_recovery),
	KEEL_CASE(configured_buffers_reach_the_host),
	KEEL_CASE(bad_configurations_are_refused),
	KEEL_CASE(service_lists_are_parsed_and_checked),
	{},
};

const TestSuite rpmsg_loopback_suite = { .name = "rpmsg_loopback", .cases = rpmsg_loopback_cases };

} // namespace

KEEL_TEST_SUITE(rpmsg_loopback_suite);
