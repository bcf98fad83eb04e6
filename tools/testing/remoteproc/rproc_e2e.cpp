// SPDX-License-Identifier: GPL-2.0
/*
 * rproc_e2e: the remote processor lifecycle with a real remote process.
 * The host runs the hosted remoteproc platform (HostedRproc) with the
 * echo firmware (rproc_fw_echo) and a client driver whose sender threads
 * run from probe to remove. Checks, each bounded by a timeout:
 *
 *  1. boot: the firmware process starts, announces, the client binds, an
 *     echo comes back;
 *  2. crash/recover cycles under load (--cycles=N, default 200): the firmware
 *     is killed (SIGKILL, also while stopped with senders blocked), exits,
 *     aborts, reports a fatal error or hangs (missed heartbeats: the
 *     watchdog); each is detected once, for what it was (a death as the
 *     peer gone, a hang as the watchdog, the firmware's own report as a
 *     fatal error with its message), the senders fail with -EPIPE, the
 *     client is removed, the firmware restarted, the client re-probed and
 *     traffic works; counters exact, every probe has its remove; the worst
 *     time from detection to a blocked sender's error is printed, and per
 *     fault the worst time from the fault to its detection;
 *  3. the host detaches and attaches again while the firmware lives (the
 *     same process serves a new session);
 *  4. runtime PM: the firmware is put to sleep when idle and woken by the
 *     next send; 10^4 messages across repeated sleeps arrive in order; a
 *     crash while asleep recovers.
 *
 * Figures are printed, not asserted (but a blocked sender must return
 * within a second). Exit status 0 when everything held.
 */
#include <keel/log.h>
#include <keel/pm_runtime.h>
#include <keel/thread.h>
#include <keel/time.h>
#include <keel/wait.h>
#include <rpmsg/rpmsg.h>
#include <rpmsg/rpmsg_link.h>
#include <virtio/virtio.h>

#include "../../../drivers/rpmsg/rpmsg_internal.h"
#include "../../../drivers/rpmsg/tests/rpmsg_test_util.h"
#include "../../../os/posix/remoteproc/hosted_rproc.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

using keel::Atomic;
using keel::Result;
using keel::Span;
using namespace rpmsg;
using namespace rproc;
using namespace rproc::hosted;

namespace {

/* Missed heartbeats for this long are a crash (generous: a loaded machine stalls processes). */
#if KEEL_TSAN
constexpr u32 WATCHDOG_MS = 3000;
#else
constexpr u32 WATCHDOG_MS = 1000;
#endif
const s64 TIMEOUT = keel::ms_to_ns(20000);
constexpr u32 SENDERS = 2;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "rproc_e2e: FAILED at line %d: %s\n", __LINE__, #cond);    \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

/* --- the client: pings, numbered echoes, senders from probe to remove --- */

enum : u32 { MSG_PING = 1, MSG_SEQ = 2, MSG_LOAD = 3 };
struct Msg {
	u32 kind;
	u32 n;
	u8 pad[24];
};

struct Shared {
	Atomic<u32> probes{ 0 };
	Atomic<u32> removes{ 0 };
	Atomic<RpmsgDevice *> dev{ nullptr };
	Atomic<u32> last_ping{ 0 };
	Atomic<u32> next_seq{ 0 };
	Atomic<u32> out_of_order{ 0 };
	Atomic<u64> sent{ 0 };
	Atomic<u64> epipe{ 0 };
	Atomic<u64> other_errors{ 0 };
	Atomic<int> last_other{ 0 };
	Atomic<s64> crash_ns{ 0 };
	Atomic<u32> crash_reason{ 0 };
	Atomic<u32> crashes_seen{ 0 };
	Atomic<s64> worst_ns{ 0 };
	Atomic<u64> measured{ 0 };
	Atomic<bool> load{ false };
	keel::WaitQueue wq{ "rproc_e2e", KEEL_LOCK_KEY() };
};
Shared *s_sh;

struct Sender {
	RpmsgEndpoint *ept = nullptr;
	keel::Thread *thread = nullptr;
	s64 began = 0, err_at = 0;
	int err = 0;

	static int main(void *arg)
	{
		Sender *s = static_cast<Sender *>(arg);
		Msg m = { MSG_LOAD, 0, {} };
		while (!keel::Thread::should_stop()) {
			if (!s_sh->load.load()) {
				keel::msleep(1);
				continue;
			}
			s64 t0 = keel::ktime_get_ns();
			Result<void> r =
				send(*s->ept,
				     Span<const u8>(reinterpret_cast<const u8 *>(&m), sizeof(m)));
			if (r.is_ok()) {
				s_sh->sent.fetch_add(1, keel::MemoryOrder::Relaxed);
				if (++m.n % 64 == 0)
					keel::msleep(1);
				continue;
			}
			s->began = t0;
			s->err_at = keel::ktime_get_ns();
			s->err = r.error().to_errno();
			if (s->err == -EPIPE) {
				s_sh->epipe.fetch_add(1);
			} else {
				s_sh->other_errors.fetch_add(1);
				s_sh->last_other.store(s->err);
			}
			break;
		}
		while (!keel::Thread::should_stop())
			keel::msleep(1);
		return 0;
	}
};

struct Client : keel::NonMovable {
	static constexpr RpmsgDeviceId id_table[] = { { "keel-echo" }, {} };
	Sender senders[SENDERS];

	static Result<keel::UniquePtr<Client>> probe(RpmsgDevice &rpdev)
	{
		auto c = TRY(keel::make_unique<Client>(GFP_KERNEL));
		for (Sender &s : c->senders) {
			s.ept = rpdev.ept();
			s.thread = TRY(keel::Thread::run(&Sender::main, &s, "e2e-load"));
		}
		s_sh->probes.fetch_add(1);
		s_sh->dev.store(&rpdev);
		s_sh->wq.wake_up();
		return c;
	}
	~Client()
	{
		for (Sender &s : senders)
			if (s.thread)
				(void)s.thread->stop();
	}
	void remove(RpmsgDevice &)
	{
		s_sh->dev.store(nullptr);
		s64 crash = s_sh->crash_ns.load();
		for (Sender &s : senders) {
			(void)keel::exchange(s.thread, nullptr)->stop();
			if (crash && s.err && s.began <= crash) {
				s64 d = s.err_at - crash;
				s_sh->measured.fetch_add(1);
				if (d > s_sh->worst_ns.load())
					s_sh->worst_ns.store(d);
			}
		}
		s_sh->removes.fetch_add(1);
		s_sh->wq.wake_up();
	}
	Result<void> on_message(RpmsgDevice &, Span<const u8> data, u32)
	{
		Msg m;
		if (data.size() == sizeof(m)) {
			memcpy(&m, data.data(), sizeof(m));
			if (m.kind == MSG_PING) {
				s_sh->last_ping.store(m.n);
			} else if (m.kind == MSG_SEQ) {
				if (m.n != s_sh->next_seq.load())
					s_sh->out_of_order.fetch_add(1);
				s_sh->next_seq.store(m.n + 1);
			}
		}
		s_sh->wq.wake_up();
		return keel::ok();
	}
};
constinit RpmsgDriver s_client_drv{ driver_for<Client>, "rproc_e2e_client" };

/* The timeline of the current recovery, and of the slowest so far (observer context). */
struct Timeline {
	static constexpr u32 MAX = 16;
	RprocEventType type[MAX];
	s64 at[MAX];
	u32 n = 0;
	s64 duration = 0;
};
Timeline s_cur, s_slowest;
char s_last_crash[4][96];
u32 s_nr_crash;

/* The last crash's "reason: message", as the observer saw it. */
const char *last_crash()
{
	return s_last_crash[(s_nr_crash + 3) % 4];
}

int on_event(keel::NotifierBlock &, unsigned long action, void *data)
{
	const RprocEvent *ev = static_cast<const RprocEvent *>(data);
	if (action == u32(RprocEventType::CrashReported)) {
		s_sh->crash_ns.store(ev->time_ns);
		s_sh->crash_reason.store(u32(ev->reason));
		s_sh->crashes_seen.fetch_add(1);
		s_cur.n = 0;
		(void)keel::snprintf(s_last_crash[s_nr_crash++ % 4], 96, "%s: %s",
				     crash_reason_name(ev->reason), ev->message);
	}
	if (action != u32(RprocEventType::StateChanged) && s_cur.n < Timeline::MAX) {
		s_cur.type[s_cur.n] = ev->type;
		s_cur.at[s_cur.n++] = ev->time_ns;
	}
	if (action == u32(RprocEventType::RecoveryDone) && ev->duration_ns > s_slowest.duration) {
		s_slowest = s_cur;
		s_slowest.duration = ev->duration_ns;
	}
	return keel::NOTIFY_OK;
}

void print_slowest()
{
	if (!s_slowest.n)
		return;
	printf("rproc_e2e: slowest recovery (%lld ms):",
	       (long long)keel::ns_to_ms(s_slowest.duration));
	for (u32 i = 0; i < s_slowest.n; i++)
		printf(" %s +%lld ms%s", event_name(s_slowest.type[i]),
		       (long long)keel::ns_to_ms(s_slowest.at[i] - s_slowest.at[0]),
		       i + 1 < s_slowest.n ? "," : "\n");
}

RpmsgDevice *wait_client(HostedRproc &h)
{
	RpmsgDevice *d = nullptr;
	bool ok = rpmsg::test::wait_for(
		[&] {
			RprocState s = h.rproc().state();
			d = s_sh->dev.load();
			if (!d || (s != RprocState::Running && s != RprocState::Attached &&
				   s != RprocState::Suspended))
				return false;
			virtio::VirtioDevice *v = h.rproc().vdev(0);
			RpmsgLink *l = v ? virtio_rpmsg_link(*v) : nullptr;
			return l && l->channel_active(*d);
		},
		TIMEOUT);
	return ok ? d : nullptr;
}

/* Ping @n (again every quarter second: the echo drops what it cannot send at once). */
bool ping(RpmsgDevice &ch, u32 n)
{
	Msg m = { MSG_PING, n, {} };
	s64 deadline = keel::ktime_get_ns() + TIMEOUT;
	while (keel::ktime_get_ns() < deadline) {
		if (send(*ch.ept(), Span<const u8>(reinterpret_cast<const u8 *>(&m), sizeof(m)))
			    .is_error())
			return false;
		if (s_sh->wq.wait_event_timeout([&] { return s_sh->last_ping.load() == n; },
						keel::ms_to_ns(250)) > 0)
			return true;
	}
	return false;
}

HostedRprocConfig config(const char *fw, const char *name, int autosuspend_ms)
{
	HostedRprocConfig c;
	c.name = name;
	c.firmware = fw;
	c.watchdog_ms = WATCHDOG_MS;
	c.rproc.autosuspend_delay_ms = autosuspend_ms;
	c.rproc.boot_timeout_ns = keel::ms_to_ns(10000);
	return c;
}

/* --- 2. crash/recover cycles --- */

enum class Fault { Kill, StoppedKill, Exit, Abort, Fatal, Hang };
constexpr u32 NR_FAULTS = 6;
const char *fault_name(Fault f)
{
	static const char *n[] = { "SIGKILL", "SIGSTOP+SIGKILL", "exit", "abort", "fatal", "hang" };
	return n[u32(f)];
}

int crash_cycles(HostedRproc &h, u32 cycles)
{
	u64 by_reason[RPROC_NR_CRASH_REASONS] = {};
	u64 base_crashes = h.rproc().stats().crashes;
	u64 base_recoveries = h.rproc().stats().recoveries;
	u32 probes0 = s_sh->probes.load(), removes0 = s_sh->removes.load();
	/* Per fault: how long from the fault to its detection (worst, and how many). */
	s64 detect_worst[NR_FAULTS] = {};
	u32 detect_n[NR_FAULTS] = {};
	s64 start = keel::ktime_get_ns();
	s_sh->load.store(true);
	for (u32 i = 0; i < cycles; i++) {
		RpmsgDevice *ch = wait_client(h);
		if (!ch) {
			RprocStats st = h.rproc().stats();
			virtio::VirtioDevice *v = h.rproc().vdev(0);
			fprintf(stderr,
				"rproc_e2e: cycle %u: no client: state %s, crashes %llu, "
				"recoveries %llu, failures %llu, probes %u, removes %u, vdev %s, "
				"firmware %d\n",
				i, state_name(h.rproc().state()), (unsigned long long)st.crashes,
				(unsigned long long)st.recoveries,
				(unsigned long long)st.recovery_failures, s_sh->probes.load(),
				s_sh->removes.load(), v ? "yes" : "no", int(h.pid()));
			return 1;
		}
		CHECK(ping(*ch, 1000 + i));
		/* Every twentieth a hang (the watchdog takes its time), else the quick ones in turn. */
		Fault f = i % 20 == 19 ? Fault::Hang : Fault(i % 5);
		CrashReason why = f == Fault::Fatal  ? CrashReason::FatalError
				  : f == Fault::Hang ? CrashReason::Watchdog
						     : CrashReason::PeerGone;
		by_reason[u32(why)]++;
		keel::msleep(2);
		u32 seen = s_sh->crashes_seen.load();
		s64 fault_at = keel::ktime_get_ns();
		switch (f) {
		case Fault::Kill:
			CHECK(h.kill_remote(SIGKILL).is_ok());
			break;
		case Fault::StoppedKill:
			/* Frozen: nothing is taken any more, the senders block; then killed. */
			CHECK(h.kill_remote(SIGSTOP).is_ok());
			keel::msleep(20);
			fault_at = keel::ktime_get_ns();
			CHECK(h.kill_remote(SIGKILL).is_ok());
			break;
		case Fault::Exit:
			CHECK(h.inject(FW_INJECT_EXIT).is_ok());
			break;
		case Fault::Abort:
			CHECK(h.inject(FW_INJECT_ABORT).is_ok());
			break;
		case Fault::Fatal:
			CHECK(h.inject(FW_INJECT_FATAL).is_ok());
			break;
		case Fault::Hang:
			CHECK(h.inject(FW_INJECT_HANG).is_ok());
			break;
		}
		bool done = rpmsg::test::wait_for(
			[&] {
				RprocStats st = h.rproc().stats();
				return st.recoveries >= base_recoveries + i + 1 &&
				       h.rproc().state() == RprocState::Running;
			},
			TIMEOUT);
		if (done && h.rproc().stats().crashes != base_crashes + i + 1) {
			fprintf(stderr, "rproc_e2e: cycle %u (%s): %llu crashes, the last ones:\n",
				i, fault_name(f), (unsigned long long)h.rproc().stats().crashes);
			for (u32 k = 0; k < 4; k++)
				fprintf(stderr, "  %s\n", s_last_crash[(s_nr_crash + k) % 4]);
			int ws = h.stats().last_exit_status;
			fprintf(stderr, "rproc_e2e: the last firmware reaped: %s %d\n",
				WIFSIGNALED(ws) ? "signal" : "exit status",
				WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws));
			return 1;
		}
		if (done) {
			/* Seen once, for what it was: a death at once, a hang by the watchdog. */
			CHECK(s_sh->crashes_seen.load() == seen + 1);
			if (s_sh->crash_reason.load() != u32(why)) {
				fprintf(stderr, "rproc_e2e: cycle %u (%s): reported as %s\n", i,
					fault_name(f), last_crash());
				return 1;
			}
			if (f == Fault::Fatal)
				CHECK(strstr(last_crash(), "injected fatal error"));
			s64 d = s_sh->crash_ns.load() - fault_at;
			detect_n[u32(f)]++;
			if (d > detect_worst[u32(f)])
				detect_worst[u32(f)] = d;
		}
		if (!done) {
			RprocStats st = h.rproc().stats();
			fprintf(stderr,
				"rproc_e2e: cycle %u (%s): not recovered: state %s, crashes %llu, "
				"recoveries %llu, failures %llu\n",
				i, fault_name(f), state_name(h.rproc().state()),
				(unsigned long long)st.crashes, (unsigned long long)st.recoveries,
				(unsigned long long)st.recovery_failures);
			return 1;
		}
	}
	RpmsgDevice *ch = wait_client(h);
	CHECK(ch);
	CHECK(ping(*ch, 999));
	s_sh->load.store(false);
	s64 took = keel::ktime_get_ns() - start;
	RprocStats st = h.rproc().stats();
	HostedStats hs = h.stats();
	printf("rproc_e2e: %u crash/recover cycles with a firmware process in %lld ms "
	       "(%llu messages sent under load); worst blocked-sender unblock %lld us after "
	       "detection (%llu measured); recovery: last %lld us, longest %lld us\n",
	       cycles, (long long)keel::ns_to_ms(took), (unsigned long long)s_sh->sent.load(),
	       (long long)(s_sh->worst_ns.load() / 1000), (unsigned long long)s_sh->measured.load(),
	       (long long)(st.last_recovery_ns / 1000), (long long)(st.max_recovery_ns / 1000));
	printf("rproc_e2e: crashes %llu (peer gone %llu, watchdog %llu, fatal %llu), ignored "
	       "duplicate reports %llu; firmware starts %llu, exits seen %llu, heartbeats %llu\n",
	       (unsigned long long)st.crashes,
	       (unsigned long long)st.crashes_by_reason[u32(CrashReason::PeerGone)],
	       (unsigned long long)st.crashes_by_reason[u32(CrashReason::Watchdog)],
	       (unsigned long long)st.crashes_by_reason[u32(CrashReason::FatalError)],
	       (unsigned long long)st.crash_reports_ignored, (unsigned long long)hs.starts,
	       (unsigned long long)hs.exits, (unsigned long long)hs.heartbeats);
	printf("rproc_e2e: detection, worst time from the fault to the crash report:");
	for (u32 k = 0; k < NR_FAULTS; k++)
		printf(" %s %lld us (%u)%s", fault_name(Fault(k)),
		       (long long)(detect_worst[k] / 1000), detect_n[k],
		       k + 1 < NR_FAULTS ? "," : "\n");
	print_slowest();
	CHECK(st.crashes == base_crashes + cycles);
	CHECK(st.recoveries == base_recoveries + cycles);
	CHECK(st.recovery_failures == 0);
	for (u32 r = 0; r < RPROC_NR_CRASH_REASONS; r++)
		CHECK(st.crashes_by_reason[r] >= by_reason[r]);
	CHECK(st.crashes_by_reason[u32(CrashReason::FatalError)] ==
	      by_reason[u32(CrashReason::FatalError)]);
	CHECK(st.crashes_by_reason[u32(CrashReason::Watchdog)] ==
	      by_reason[u32(CrashReason::Watchdog)]);
	CHECK(s_sh->probes.load() - probes0 == cycles);
	CHECK(s_sh->removes.load() - removes0 == cycles);
	if (s_sh->other_errors.load())
		fprintf(stderr, "rproc_e2e: %llu senders failed otherwise than -EPIPE (last %d)\n",
			(unsigned long long)s_sh->other_errors.load(), s_sh->last_other.load());
	CHECK(s_sh->other_errors.load() == 0);
	CHECK(s_sh->measured.load() > 0);
	CHECK(s_sh->worst_ns.load() < keel::ms_to_ns(1000));
	return 0;
}

/* --- 3. the host detaches and comes back; the firmware lives on --- */

int host_detach_attach(HostedRproc &h)
{
	RpmsgDevice *ch = wait_client(h);
	CHECK(ch);
	pid_t pid = h.pid();
	u32 removes = s_sh->removes.load();
	CHECK(h.rproc().detach().is_ok());
	CHECK(h.rproc().state() == RprocState::Detached);
	CHECK(s_sh->removes.load() == removes + 1);
	keel::msleep(50);
	CHECK(h.pid() == pid);
	CHECK(h.rproc().boot().is_ok());
	CHECK(h.rproc().state() == RprocState::Attached);
	ch = wait_client(h);
	CHECK(ch);
	CHECK(ping(*ch, 2000));
	CHECK(h.pid() == pid);
	CHECK(h.stats().starts == h.rproc().stats().recoveries + 1);
	printf("rproc_e2e: the host detached and attached again; the same firmware process "
	       "(pid %d) serves the new session\n",
	       int(pid));
	return 0;
}

/* --- 4. runtime PM --- */

bool asleep(HostedRproc &h)
{
	return h.rproc().wait_for_state(RprocState::Suspended, TIMEOUT) &&
	       rpmsg::test::wait_for([&] { return keel::pm_runtime_suspended(h.rproc()); },
				     TIMEOUT);
}

int runtime_pm(const char *fw)
{
	auto hr = HostedRproc::create(config(fw, "e2e-pm", 20));
	CHECK(hr.is_ok());
	HostedRproc &h = *hr.value();
	CHECK(h.rproc().boot().is_ok());
	RpmsgDevice *ch = wait_client(h);
	CHECK(ch);
	CHECK(ping(*ch, 1));
	CHECK(asleep(h));
	u64 resumes = h.rproc().stats().resumes;
	CHECK(ping(*ch, 2));
	CHECK(h.rproc().stats().resumes == resumes + 1);
	/* 10^4 numbered messages, falling asleep every 500. */
	constexpr u32 N = 10000;
	s_sh->next_seq.store(0);
	s_sh->out_of_order.store(0);
	for (u32 n = 0; n < N; n++) {
		if (n && n % 500 == 0)
			CHECK(asleep(h));
		Msg m = { MSG_SEQ, n, {} };
		CHECK(send(*ch->ept(), Span<const u8>(reinterpret_cast<const u8 *>(&m), sizeof(m)))
			      .is_ok());
		if (n % 16 == 15 || n == N - 1) {
			u32 want = n + 1;
			CHECK(s_sh->wq.wait_event_timeout(
				      [&] { return s_sh->next_seq.load() >= want; }, TIMEOUT) > 0);
		}
	}
	CHECK(s_sh->next_seq.load() == N);
	CHECK(s_sh->out_of_order.load() == 0);
	RprocStats st = h.rproc().stats();
	printf("rproc_e2e: %u messages in order across %llu sleeps and %llu wake-ups of the "
	       "firmware (%llu refused)\n",
	       N, (unsigned long long)st.suspends, (unsigned long long)st.resumes,
	       (unsigned long long)st.suspend_vetoes);
	/* A crash while asleep. */
	CHECK(asleep(h));
	CHECK(h.kill_remote(SIGKILL).is_ok());
	CHECK(rpmsg::test::wait_for([&] { return h.rproc().stats().recoveries == 1; }, TIMEOUT));
	ch = wait_client(h);
	CHECK(ch);
	CHECK(ping(*ch, 3));
	printf("rproc_e2e: a firmware killed while asleep was recovered\n");
	return 0;
}

int host_main(const char *fw, u32 cycles)
{
	Shared *sh = new (GFP_KERNEL) Shared;
	CHECK(sh);
	s_sh = sh;
	CHECK(virtio::virtio_init().is_ok());
	CHECK(virtio_rpmsg_init().is_ok());
	CHECK(register_rpmsg_driver(s_client_drv).is_ok());
	int rc = 0;
	{
		auto hr = HostedRproc::create(config(fw, "e2e-remote", -1));
		CHECK(hr.is_ok());
		HostedRproc &h = *hr.value();
		keel::NotifierBlock nb{ .notifier_call = &on_event };
		CHECK(h.rproc().register_observer(nb).is_ok());
		/* 1. boot */
		CHECK(h.rproc().boot().is_ok());
		RpmsgDevice *ch = wait_client(h);
		CHECK(ch);
		CHECK(ping(*ch, 1));
		printf("rproc_e2e: firmware process %d started, its service announced, the client "
		       "bound, an echo came back\n",
		       int(h.pid()));
		fflush(stdout);
		/* 2., 3. */
		rc = crash_cycles(h, cycles);
		if (rc == 0)
			rc = host_detach_attach(h);
		CHECK(h.rproc().unregister_observer(nb).is_ok());
		h.rproc().shutdown();
		CHECK(s_sh->probes.load() == s_sh->removes.load());
	}
	fflush(stdout);
	/* 4. */
	if (rc == 0)
		rc = runtime_pm(fw);
	CHECK(s_sh->probes.load() == s_sh->removes.load());
	unregister_rpmsg_driver(s_client_drv);
	virtio_rpmsg_exit();
	virtio::virtio_exit();
	s_sh = nullptr;
	delete sh;
	if (rc == 0)
		printf("rproc_e2e: ok\n");
	return rc;
}

} // namespace

int main(int argc, char **argv)
{
	/* Bounded: a hung peer fails the test instead of hanging ctest. */
	alarm(840);
	u32 cycles = 200;
	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--cycles=", 9))
			cycles = u32(strtoul(argv[i] + 9, nullptr, 10));
	}
	keel::log_set_echo(getenv("RPROC_E2E_VERBOSE") != nullptr);
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 2;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (!slash)
		return 2;
	char fw[PATH_MAX + 32];
	snprintf(fw, sizeof(fw), "%.*s/rproc_fw_echo", int(slash - self), self);
	return host_main(fw, cycles);
}
