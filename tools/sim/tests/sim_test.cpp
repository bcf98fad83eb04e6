// SPDX-License-Identifier: GPL-2.0
/*
 * The simulator's own pieces that need no processes: the wire formats of
 * its services (every receiver's check refuses what the sender could not
 * have made), the words its views print, and the hosted port's count of
 * live allocations that its leak check reads. Hosted only (built into
 * sim_tests, not into the KUnit module: the simulator is a hosted tool).
 */
#include <keel/alloc.h>
#include <keel/posix.h>
#include <keel/string.h>
#include <keel/test.h>

#include "../engine/clients.h"
#include "../engine/recovery.h"
#include "../sim_model.h"
#include "../sim_proto.h"

using namespace keel;
using namespace keel::test;
using namespace sim;

namespace {

void echo_roundtrip_every_size(Test &t)
{
	constexpr u32 MAX = 496;
	u8 buf[MAX];
	for (u32 seq = 0; seq < 600; seq++) {
		u32 len = echo_size(3, seq, MAX);
		ASSERT_TRUE(t, len >= sizeof(EchoHdr) && len <= MAX);
		echo_fill(Span<u8>(buf, len), 3, seq);
		EchoInfo info = {};
		EXPECT_EQ(t, echo_parse(Span<const u8>(buf, len), MAX, &info), 0);
		EXPECT_EQ(t, info.sender, 3u);
		EXPECT_EQ(t, info.seq, seq);
	}
}

void echo_corrupt_byte_or_length_is_refused(Test &t)
{
	constexpr u32 MAX = 256;
	u8 buf[MAX];
	u32 len = echo_size(1, 77, MAX);
	echo_fill(Span<u8>(buf, len), 1, 77);
	EchoInfo info;
	buf[len - 1] ^= 0x40;
	EXPECT_EQ(t, echo_parse(Span<const u8>(buf, len), MAX, &info), -EINVAL);
	buf[len - 1] ^= 0x40;
	/* A truncated echo, a short header, one beyond the maximum. */
	EXPECT_EQ(t, echo_parse(Span<const u8>(buf, len - 1), MAX, &info), -EINVAL);
	EXPECT_EQ(t, echo_parse(Span<const u8>(buf, 5), MAX, &info), -EINVAL);
	EXPECT_EQ(t, echo_parse(Span<const u8>(buf, len), len - 1, &info), -EINVAL);
	EXPECT_EQ(t, echo_parse(Span<const u8>(buf, len), MAX, &info), 0);
}

void sensor_sample_roundtrip_and_value_check(Test &t)
{
	SensorMsg m = sensor_msg(SENSOR_SAMPLE, 2, 1234, 500, 99, sensor_value(1234));
	SensorInfo info = {};
	EXPECT_EQ(t,
		  sensor_parse(Span<const u8>(reinterpret_cast<const u8 *>(&m), sizeof(m)), &info),
		  0);
	EXPECT_EQ(t, info.stream, 2u);
	EXPECT_EQ(t, info.seq, 1234u);
	EXPECT_EQ(t, info.rate_hz, 500u);
	EXPECT_EQ(t, info.value, sensor_value(1234));
	/* A sample whose value does not follow from its number, with a good checksum. */
	SensorMsg bad = sensor_msg(SENSOR_SAMPLE, 2, 1234, 500, 99, sensor_value(1234) + 1);
	EXPECT_EQ(t,
		  sensor_parse(Span<const u8>(reinterpret_cast<const u8 *>(&bad), sizeof(bad)),
			       &info),
		  -EINVAL);
}

void sensor_bad_checksum_type_or_size_is_refused(Test &t)
{
	SensorMsg m = sensor_msg(SENSOR_ACK, 1, SENSOR_START, 100, 5, 0);
	u8 *p = reinterpret_cast<u8 *>(&m);
	SensorInfo info;
	EXPECT_EQ(t, sensor_parse(Span<const u8>(p, sizeof(m) - 1), &info), -EINVAL);
	p[9] ^= 1;
	EXPECT_EQ(t, sensor_parse(Span<const u8>(p, sizeof(m)), &info), -EINVAL);
	SensorMsg other = sensor_msg(7, 1, 0, 100, 5, 0);
	EXPECT_EQ(t,
		  sensor_parse(Span<const u8>(reinterpret_cast<const u8 *>(&other), sizeof(other)),
			       &info),
		  -EINVAL);
}

void sensor_command_range_is_checked(Test &t)
{
	auto parse = [](u32 op, u32 arg, u32 *o, u32 *a) {
		SensorCmd c = { cpu_to_le32(op), cpu_to_le32(arg) };
		return sensor_cmd_parse(Span<const u8>(reinterpret_cast<const u8 *>(&c), sizeof(c)),
					o, a);
	};
	u32 op, arg;
	EXPECT_EQ(t, parse(SENSOR_START, 1000, &op, &arg), 0);
	EXPECT_EQ(t, op, u32(SENSOR_START));
	EXPECT_EQ(t, arg, 1000u);
	EXPECT_EQ(t, parse(SENSOR_STOP, 12345678, &op, &arg), 0);
	EXPECT_EQ(t, parse(SENSOR_RATE, 0, &op, &arg), -EINVAL);
	EXPECT_EQ(t, parse(SENSOR_START, SENSOR_MAX_HZ + 1, &op, &arg), -EINVAL);
	EXPECT_EQ(t, parse(99, 10, &op, &arg), -EINVAL);
	u8 shortc[4] = {};
	EXPECT_EQ(t, sensor_cmd_parse(Span<const u8>(shortc, sizeof(shortc)), &op, &arg), -EINVAL);
}

void console_text_is_clamped_and_sanitised(Test &t)
{
	u8 buf[sizeof(ConsoleHdr) + CONSOLE_TEXT_MAX + 8];
	char longtext[CONSOLE_TEXT_MAX + 50];
	memset(longtext, 'x', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = 0;
	u32 len = console_msg(buf, CONSOLE_REPLY, 9, longtext);
	EXPECT_EQ(t, len, u32(sizeof(ConsoleHdr) + CONSOLE_TEXT_MAX));
	u32 kind, id;
	char text[CONSOLE_TEXT_MAX + 1];
	EXPECT_EQ(t, console_parse(Span<const u8>(buf, len), &kind, &id, text), 0);
	EXPECT_EQ(t, strlen(text), size_t(CONSOLE_TEXT_MAX));
	EXPECT_EQ(t, id, 9u);
	/* Control characters from the peer never reach a terminal. */
	len = console_msg(buf, CONSOLE_LOG, 0, "a\033[2Jb\n");
	EXPECT_EQ(t, console_parse(Span<const u8>(buf, len), &kind, &id, text), 0);
	EXPECT_TRUE(t, streq(text, "a?[2Jb?"));
	/* Too long, too short, an unknown kind. */
	EXPECT_EQ(t, console_parse(Span<const u8>(buf, sizeof(buf)), &kind, &id, text), -EINVAL);
	EXPECT_EQ(t, console_parse(Span<const u8>(buf, 7), &kind, &id, text), -EINVAL);
	len = console_msg(buf, 4, 1, "x");
	EXPECT_EQ(t, console_parse(Span<const u8>(buf, len), &kind, &id, text), -EINVAL);
}

void crash_event_is_described_with_its_reason(Test &t)
{
	SimEvent ev;
	ev.type = EvType::Rproc;
	ev.rp.type = rproc::RprocEventType::CrashReported;
	ev.rp.reason = rproc::CrashReason::Watchdog;
	char buf[128];
	describe(ev, buf, sizeof(buf));
	EXPECT_TRUE(t, strncmp(buf, "crash detected: ", 16) == 0);
	EXPECT_TRUE(t, strlen(buf) > 16);
	ev = SimEvent();
	ev.type = EvType::SendFailed;
	ev.channel = 0;
	ev.err = -EPIPE;
	ev.value = 1500000;
	(void)strscpy(ev.text, "in send() 431.000 ms", sizeof(ev.text));
	describe(ev, buf, sizeof(buf));
	EXPECT_TRUE(t, streq(buf, "sim-echo: a send failed fast with -EPIPE, 1.500 ms after the "
				  "crash's detection (in send() 431.000 ms)"));
}

void only_a_gone_remote_fails_fast(Test &t)
{
	EXPECT_TRUE(t, remote_gone_error(-EPIPE));
	EXPECT_TRUE(t, remote_gone_error(-ESHUTDOWN));
	EXPECT_TRUE(t, remote_gone_error(-ENOTCONN));
	EXPECT_TRUE(t, remote_gone_error(-ENODEV));
	EXPECT_TRUE(t, !remote_gone_error(-ETIMEDOUT));
	EXPECT_TRUE(t, !remote_gone_error(-ENOMEM));
	EXPECT_TRUE(t, !remote_gone_error(-EMSGSIZE));
}

void live_allocations_are_counted(Test &t)
{
	long before = keel_posix_live_allocs();
	if (before < 0)
		return; /* not counted in this build */
	void *p = kmalloc(100, GFP_KERNEL);
	ASSERT_TRUE(t, p != nullptr);
	u64 dma = 0;
	void *d = keel_port_dma_alloc_coherent(nullptr, 64, &dma, GFP_KERNEL.flags);
	ASSERT_TRUE(t, d != nullptr);
	EXPECT_EQ(t, keel_posix_live_allocs(), before + 2);
	kfree(p);
	kfree(nullptr);
	keel_port_dma_free_coherent(nullptr, 64, d, dma);
	EXPECT_EQ(t, keel_posix_live_allocs(), before);
}

/* --- the recovery records --- */

SimEvent rproc_event(rproc::RprocEventType type, s64 t)
{
	SimEvent ev;
	ev.type = EvType::Rproc;
	ev.t_ns = t;
	ev.rp.type = type;
	ev.rp.reason = rproc::CrashReason::PeerGone;
	ev.rp.duration_ns = 20;
	return ev;
}

SimEvent channel_event(EvType type, u8 ch, s64 t)
{
	SimEvent ev;
	ev.type = type;
	ev.channel = ch;
	ev.t_ns = t;
	return ev;
}

void crash_record_takes_every_step_by_time(Test &t)
{
	using E = rproc::RprocEventType;
	auto *rep = static_cast<Report *>(t.alloc(sizeof(Report)));
	ASSERT_TRUE(t, rep != nullptr);
	RecoveryTracker tr(*rep);
	RecoveryRecord *r = tr.begin(FaultKind::Kill, 100);
	ASSERT_TRUE(t, r != nullptr);
	tr.track(rproc_event(E::CrashReported, 110));
	tr.track(rproc_event(E::DevicesRemoved, 112));
	tr.track(rproc_event(E::RemoteStopped, 113));
	tr.track(rproc_event(E::RegionReset, 114));
	tr.track(rproc_event(E::RemoteStarted, 120));
	/* The bus notifier's announcements may arrive before the observer's DevicesAdded. */
	for (u8 ch = 0; ch < NR_SERVICES; ch++)
		tr.track(channel_event(EvType::ChannelAdded, ch, 125 + ch));
	tr.track(rproc_event(E::DevicesAdded, 124));
	for (u8 ch = 0; ch < NR_SERVICES; ch++)
		tr.track(channel_event(EvType::DriverProbed, ch, 130 - ch));
	tr.track(rproc_event(E::RecoveryDone, 131));
	EXPECT_EQ(t, rep->nr_records, 1u);
	EXPECT_EQ(t, r->t_detected, s64(110));
	EXPECT_EQ(t, r->t_removed, s64(112));
	EXPECT_EQ(t, r->t_stopped, s64(113));
	EXPECT_EQ(t, r->t_reset, s64(114));
	EXPECT_EQ(t, r->t_started, s64(120));
	EXPECT_EQ(t, r->t_added, s64(124));
	EXPECT_EQ(t, r->t_announced, s64(127));
	EXPECT_EQ(t, r->announced, NR_SERVICES);
	EXPECT_EQ(t, r->t_probed, s64(130));
	EXPECT_EQ(t, r->probed, NR_SERVICES);
	EXPECT_EQ(t, r->t_done, s64(131));
	EXPECT_EQ(t, r->core_ns, s64(20));
	EXPECT_TRUE(t, r->reason == rproc::CrashReason::PeerGone);
	EXPECT_EQ(t, tr.unplanned(), 0u);
}

void crash_during_recovery_stays_in_its_record(Test &t)
{
	using E = rproc::RprocEventType;
	auto *rep = static_cast<Report *>(t.alloc(sizeof(Report)));
	ASSERT_TRUE(t, rep != nullptr);
	RecoveryTracker tr(*rep);
	RecoveryRecord *r = tr.begin(FaultKind::Hang, 100);
	ASSERT_TRUE(t, r != nullptr);
	tr.track(rproc_event(E::CrashReported, 110));
	tr.track(rproc_event(E::RemoteStarted, 120));
	tr.track(rproc_event(E::CrashReported, 121));
	tr.track(rproc_event(E::RecoveryFailed, 122));
	tr.track(rproc_event(E::RemoteStarted, 140));
	EXPECT_EQ(t, rep->nr_records, 1u);
	EXPECT_EQ(t, r->t_detected, s64(110));
	EXPECT_EQ(t, r->extra_crashes, 1u);
	EXPECT_EQ(t, r->failed_attempts, 1u);
	/* The attempt that counts is the last one. */
	EXPECT_EQ(t, r->t_started, s64(140));
	EXPECT_EQ(t, tr.unplanned(), 0u);
}

void crash_nobody_caused_is_unplanned(Test &t)
{
	using E = rproc::RprocEventType;
	auto *rep = static_cast<Report *>(t.alloc(sizeof(Report)));
	ASSERT_TRUE(t, rep != nullptr);
	RecoveryTracker tr(*rep);
	/* Between faults, and during a host restart (the remote should live). */
	tr.track(channel_event(EvType::DriverProbed, 0, 50));
	EXPECT_EQ(t, rep->nr_records, 0u);
	tr.track(rproc_event(E::CrashReported, 60));
	EXPECT_EQ(t, tr.unplanned(), 1u);
	EXPECT_EQ(t, rep->nr_records, 1u);
	tr.end();
	RecoveryRecord *h = tr.begin(FaultKind::HostRestart, 100);
	ASSERT_TRUE(t, h != nullptr);
	tr.track(rproc_event(E::CrashReported, 110));
	EXPECT_EQ(t, tr.unplanned(), 2u);
	EXPECT_EQ(t, rep->nr_records, 3u);
	EXPECT_EQ(t, h->t_detected, s64(0));
}

void probes_before_the_fault_do_not_count(Test &t)
{
	auto *rep = static_cast<Report *>(t.alloc(sizeof(Report)));
	ASSERT_TRUE(t, rep != nullptr);
	RecoveryTracker tr(*rep);
	RecoveryRecord *r = tr.begin(FaultKind::HostRestart, 100);
	ASSERT_TRUE(t, r != nullptr);
	tr.track(channel_event(EvType::ChannelAdded, 0, 90));
	tr.track(channel_event(EvType::DriverProbed, 0, 95));
	tr.track(channel_event(EvType::ChannelAdded, NO_CHANNEL, 130));
	EXPECT_EQ(t, r->announced, 0u);
	EXPECT_EQ(t, r->probed, 0u);
	tr.track(channel_event(EvType::DriverProbed, 1, 140));
	EXPECT_EQ(t, r->probed, 1u);
	EXPECT_EQ(t, r->t_probed, s64(140));
}

const TestCase sim_cases[] = {
	KEEL_CASE(echo_roundtrip_every_size),
	KEEL_CASE(echo_corrupt_byte_or_length_is_refused),
	KEEL_CASE(sensor_sample_roundtrip_and_value_check),
	KEEL_CASE(sensor_bad_checksum_type_or_size_is_refused),
	KEEL_CASE(sensor_command_range_is_checked),
	KEEL_CASE(console_text_is_clamped_and_sanitised),
	KEEL_CASE(crash_event_is_described_with_its_reason),
	KEEL_CASE(only_a_gone_remote_fails_fast),
	KEEL_CASE(live_allocations_are_counted),
	KEEL_CASE(crash_record_takes_every_step_by_time),
	KEEL_CASE(crash_during_recovery_stays_in_its_record),
	KEEL_CASE(crash_nobody_caused_is_unplanned),
	KEEL_CASE(probes_before_the_fault_do_not_count),
	{},
};

const TestSuite sim_suite = {
	.name = "keel_sim",
	.cases = sim_cases,
};

} // namespace

KEEL_TEST_SUITE(sim_suite);
