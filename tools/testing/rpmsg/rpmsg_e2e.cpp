// SPDX-License-Identifier: GPL-2.0
/*
 * rpmsg_e2e: host and remote rpmsg as two processes over the hosted
 * shared-memory backend (e2e_link.h). The parent runs the broker and the
 * host role; the remote is this program re-executed with --remote. Checks,
 * each bounded by a timeout:
 *
 *  1. the remote announces "rpmsg-client-sample" and "keel-e2e-echo"; the
 *     host creates both channels and binds the drivers by name; the client
 *     sample completes its exchange (100 messages, "goodbye!");
 *  2. several endpoints, each with its own sender thread, send N messages
 *     in total (10^6; 10^5 under ThreadSanitizer, ten times slower) to the
 *     remote's echo service, payload sizes 1..MTU; every echo is checked
 *     on arrival against what its sequence number says it must be (size,
 *     sequence number, pattern, checksum): no loss, duplication,
 *     reordering or corruption, each way. One of the senders waits for
 *     each echo in rpmsg::wait_event_spin() before it sends the next, so
 *     that receive passes switch all the time between its thread (asleep
 *     on the doorbell: RpmsgLinkConfig.wait_doorbell) and the doorbell's
 *     notification thread (the others' echoes);
 *  3. the host leaves; the remote reports its echo counters (nothing
 *     dropped) through its exit status.
 *
 * Neither process may have warned (keel_port_warn(): a sleep in a callback
 * or another handler of the notification thread, which is interrupt
 * context, is one).
 *
 * Figures (messages per second) are printed, not asserted.
 */
#include <keel/log.h>
#include <keel/posix.h>
#include <keel/thread.h>
#include <keel/time.h>
#include <keel/wait.h>
#include <rpmsg/rpmsg.h>
#include <rpmsg/rpmsg_link.h>
#include <rpmsg/rpmsg_poll.h>
#include <virtio/virtio.h>

#include "../../../drivers/rpmsg/tests/rpmsg_test_util.h"
#include "../../../samples/rpmsg/rpmsg_client_sample.h"
#include "../../../samples/rpmsg/rpmsg_echo.h"
#include "e2e_link.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

using keel::Result;
using namespace rpmsg;

namespace {

#if KEEL_TSAN
constexpr u32 MESSAGES = 100000;
#else
constexpr u32 MESSAGES = 1000000;
#endif
constexpr u32 SENDERS = 4;
/* Round trips of the sender that waits for each echo (sender 0). */
#if KEEL_TSAN
constexpr u32 PINGPONGS = 2000;
#else
constexpr u32 PINGPONGS = 20000;
#endif
constexpr const char *STRESS = "keel-e2e-echo";
const s64 TIMEOUT = keel::ms_to_ns(10000);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "rpmsg_e2e: FAILED at line %d: %s\n", __LINE__, #cond);    \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

/* --- the message format: everything follows from (sender, seq) --- */

u32 msg_size(u32 sender, u32 seq, u32 mtu)
{
	return (seq * 7919u + sender * 131u) % mtu + 1;
}

u8 msg_byte(u32 sender, u32 seq, u32 i)
{
	return u8(seq * 31u + sender * 17u + i * 7u);
}

u32 fnv1a(const u8 *p, u32 n)
{
	u32 h = 2166136261u;
	for (u32 i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* Bytes 0-3: seq, 4-7: checksum of bytes 8.. (when they fit); the rest a pattern. */
void msg_fill(u8 *p, u32 sender, u32 seq, u32 len)
{
	for (u32 i = 0; i < len; i++)
		p[i] = msg_byte(sender, seq, i);
	if (len >= 4)
		memcpy(p, &seq, 4);
	if (len >= 8) {
		u32 sum = fnv1a(p + 8, len - 8);
		memcpy(p + 4, &sum, 4);
	}
}

bool msg_check(const u8 *p, u32 len, u32 sender, u32 seq, u32 mtu)
{
	if (len != msg_size(sender, seq, mtu))
		return false;
	if (len >= 4) {
		u32 s;
		memcpy(&s, p, 4);
		if (s != seq)
			return false;
	}
	if (len >= 8) {
		u32 sum;
		memcpy(&sum, p + 4, 4);
		if (sum != fnv1a(p + 8, len - 8))
			return false;
	}
	for (u32 i = len >= 8 ? 8 : len >= 4 ? 4 : 0; i < len; i++)
		if (p[i] != msg_byte(sender, seq, i))
			return false;
	return true;
}

/* --- host side --- */

/* The driver of the stress channel: it only hands the channel to main(). */
keel::Atomic<RpmsgDevice *> s_stress_dev{ nullptr };
struct StressDrv : keel::NonMovable {
	static constexpr RpmsgDeviceId id_table[] = { { "keel-e2e-echo" }, {} };
	static Result<keel::UniquePtr<StressDrv>> probe(RpmsgDevice &rpdev)
	{
		auto d = TRY(keel::make_unique<StressDrv>(GFP_KERNEL));
		s_stress_dev.store(&rpdev);
		return d;
	}
	void remove(RpmsgDevice &) { s_stress_dev.store(nullptr); }
};
constinit RpmsgDriver s_stress_drv{ driver_for<StressDrv>, "keel_e2e_stress" };

/* One sender: its endpoint, its thread, what came back. */
struct Sender {
	u32 id = 0;
	u32 count = 0;
	u32 mtu = 0;
	u32 dst = 0;
	/* Waits for each echo before sending the next. */
	bool pingpong = false;
	keel::RefPtr<RpmsgEndpoint> ept;
	keel::Thread *thread = nullptr;
	keel::Atomic<u32> received{ 0 };
	keel::Atomic<u32> bad{ 0 };
	/* Written by the sender thread, read by main() while it waits. */
	keel::Atomic<int> send_err{ 0 };
	keel::Atomic<u32> sent{ 0 };
	keel::WaitQueue wq{ "rpmsg_e2e_sender", KEEL_LOCK_KEY() };

	/* Atomic context (the host's rx): echoes arrive in order, each checked. */
	static Result<void> rx(RpmsgEndpoint &, keel::Span<const u8> data, u32, void *priv)
	{
		Sender *s = static_cast<Sender *>(priv);
		u32 seq = s->received.load(keel::MemoryOrder::Relaxed);
		if (!msg_check(data.data(), u32(data.size()), s->id, seq, s->mtu)) {
			if (s->bad.fetch_add(1) < 5)
				fprintf(stderr, "rpmsg_e2e: sender %u: echo %u bad (%zu bytes)\n",
					s->id, seq, data.size());
		}
		s->received.store(seq + 1, keel::MemoryOrder::Release);
		if (s->pingpong || seq + 1 == s->count)
			s->wq.wake_up();
		return keel::ok();
	}

	static int main(void *arg)
	{
		Sender *s = static_cast<Sender *>(arg);
		u8 buf[4096];
		if (s->mtu > sizeof(buf))
			return 2;
		for (u32 seq = 0; seq < s->count; seq++) {
			u32 len = msg_size(s->id, seq, s->mtu);
			msg_fill(buf, s->id, seq, len);
			Result<void> r = sendto(*s->ept, keel::Span<const u8>(buf, len), s->dst);
			if (r.is_error()) {
				s->send_err.store(r.error().to_errno());
				s->wq.wake_up();
				return 1;
			}
			s->sent.store(seq + 1, keel::MemoryOrder::Relaxed);
			if (s->pingpong &&
			    !wait_event_spin(
				    *s->ept, s->wq,
				    [&] {
					    return s->received.load(keel::MemoryOrder::Acquire) >
						   seq;
				    },
				    TIMEOUT)) {
				s->send_err.store(-ETIMEDOUT);
				s->wq.wake_up();
				return 1;
			}
		}
		return 0;
	}
};

int stress(RpmsgDevice &ch, u32 total)
{
	Sender senders[SENDERS];
	auto mtu = get_mtu(*ch.ept());
	CHECK(mtu.is_ok());
	for (u32 i = 0; i < SENDERS; i++) {
		Sender &s = senders[i];
		s.id = i;
		s.pingpong = i == 0;
		/* The others make up for the round trips: @total in all, at least. */
		u32 pp = keel::min(total / SENDERS, PINGPONGS);
		s.count = s.pingpong ? pp : (total - pp + SENDERS - 2) / (SENDERS - 1);
		s.mtu = mtu.value();
		s.dst = ch.dst();
		RpmsgChannelInfo ci = {};
		ci.src = RPMSG_ADDR_ANY;
		ci.dst = ch.dst();
		auto e = create_ept(ch, &Sender::rx, &s, ci);
		CHECK(e.is_ok());
		s.ept = e.release_value();
	}
	s64 start = keel::ktime_get_ns();
	for (Sender &s : senders) {
		auto th = keel::Thread::run(&Sender::main, &s, "e2e-sender");
		CHECK(th.is_ok());
		s.thread = th.value();
	}
	int rc = 0;
	for (Sender &s : senders) {
		s64 w = s.wq.wait_event_timeout(
			[&] { return s.received.load() >= s.count || s.send_err.load(); },
			keel::ms_to_ns(600000));
		int thread_rc = s.thread->stop();
		if (w == 0 || thread_rc || s.received.load() != s.count || s.bad.load()) {
			fprintf(stderr,
				"rpmsg_e2e: sender %u: sent %u, %u echoes of %u, %u bad, send "
				"error %d\n",
				s.id, s.sent.load(), s.received.load(), s.count, s.bad.load(),
				s.send_err.load());
			rc = 1;
		}
	}
	s64 ns = keel::ktime_get_ns() - start;
	u32 sum = 0;
	for (Sender &s : senders) {
		sum += s.count;
		destroy_ept(*s.ept);
	}
	if (rc == 0)
		printf("rpmsg_e2e: %u messages each way, %u endpoints and senders (one waiting "
		       "for each echo), sizes 1..%u: %.0f round trips/s\n",
		       sum, SENDERS, mtu.value(), double(sum) * 1e9 / double(ns));
	return rc;
}

int host_main(const char *self, const char *sock)
{
	e2e::Host host;
	CHECK(host.start(sock).is_ok());
	const char *args[] = { self, "--remote", sock, nullptr };
	pid_t child = fork();
	if (child == 0) {
		execv("/proc/self/exe", const_cast<char *const *>(args));
		_exit(127);
	}
	CHECK(child > 0);
	CHECK(virtio::virtio_init().is_ok());
	CHECK(virtio_rpmsg_init().is_ok());
	CHECK(register_rpmsg_driver(RpmsgClientSample_rpmsg_driver).is_ok());
	CHECK(register_rpmsg_driver(s_stress_drv).is_ok());
	u32 done = rpmsg_sample::rpmsg_client_sample_done.load();

	/* 1. announce -> channel -> driver probed by name; the sample's exchange. */
	CHECK(host.attach(sock, TIMEOUT).is_ok());
	s64 deadline = keel::ktime_get_ns() + TIMEOUT;
	while ((!s_stress_dev.load() || rpmsg_sample::rpmsg_client_sample_done.load() == done) &&
	       keel::ktime_get_ns() < deadline)
		keel::msleep(1);
	CHECK(rpmsg_sample::rpmsg_client_sample_done.load() == done + 1);
	CHECK(s_stress_dev.load());
	printf("rpmsg_e2e: both services announced and bound by name; the client sample said "
	       "goodbye\n");
	fflush(stdout);

	/* 2. the echo stress. */
	RpmsgDevice *ch = s_stress_dev.load();
	u64 direct = host.client->direct_delivered();
	int rc = stress(*ch, MESSAGES);
	direct = host.client->direct_delivered() - direct;
	printf("rpmsg_e2e: %llu doorbells taken by the waiting sender, %llu in all\n",
	       (unsigned long long)direct, (unsigned long long)host.client->delivered());
	/* The waiting sender slept on the doorbell and took rings itself. */
	CHECK(direct > 0);

	/* 3. the host leaves; the remote exits, its status says whether it dropped anything. */
	unregister_rpmsg_driver(s_stress_drv);
	unregister_rpmsg_driver(RpmsgClientSample_rpmsg_driver);
	host.stop();
	virtio_rpmsg_exit();
	virtio::virtio_exit();
	int status = 0;
	CHECK(waitpid(child, &status, 0) == child);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "rpmsg_e2e: the remote failed (status 0x%x)\n", status);
		rc = 1;
	}
	if (keel_posix_warn_count()) {
		fprintf(stderr, "rpmsg_e2e: the host warned %lu times\n", keel_posix_warn_count());
		rc = 1;
	}
	if (rc == 0)
		printf("rpmsg_e2e: ok\n");
	return rc;
}

/* --- remote side --- */

int remote_main(const char *sock)
{
	keel::log_set_echo(getenv("RPMSG_E2E_VERBOSE") != nullptr);
	CHECK(rpmsg_init().is_ok());
	CHECK(register_rpmsg_driver(RpmsgEcho_rpmsg_driver).is_ok());
	e2e::Remote remote;
	CHECK(remote.start(sock, TIMEOUT).is_ok());
	auto sample = remote.rp->add_service("rpmsg-client-sample", "rpmsg_echo");
	auto stress_svc = remote.rp->add_service(STRESS, "rpmsg_echo");
	CHECK(sample.is_ok() && stress_svc.is_ok());
	CHECK(remote.rp->start().is_ok());
	/* Serve until the host leaves. */
	s64 deadline = keel::ktime_get_ns() + keel::ms_to_ns(800000);
	while (!remote.host_gone.load() && keel::ktime_get_ns() < deadline)
		keel::msleep(10);
	CHECK(remote.host_gone.load());
	int rc = 0;
	RpmsgDevice *svcs[] = { sample.value().get(), stress_svc.value().get() };
	u64 echoed = 0, deferred = 0;
	for (RpmsgDevice *svc : svcs) {
		/* The host is gone, the channels are still bound to the echo driver. */
		auto *echo = svc->drvdata<rpmsg_sample::RpmsgEcho>();
		CHECK(echo);
		echoed += echo->echoed();
		deferred += echo->deferred();
		if (echo->dropped()) {
			fprintf(stderr, "rpmsg_e2e: remote: %s dropped %llu echoes\n",
				svc->channel_name(), (unsigned long long)echo->dropped());
			rc = 1;
		}
	}
	printf("rpmsg_e2e: remote: %llu echoes (%llu deferred to process context)\n",
	       (unsigned long long)echoed, (unsigned long long)deferred);
	if (keel_posix_warn_count()) {
		fprintf(stderr, "rpmsg_e2e: the remote warned %lu times\n",
			keel_posix_warn_count());
		rc = 1;
	}
	sample.value() = nullptr;
	stress_svc.value() = nullptr;
	remote.stop();
	unregister_rpmsg_driver(RpmsgEcho_rpmsg_driver);
	rpmsg_exit();
	return rc;
}

} // namespace

int main(int argc, char **argv)
{
	/* Bounded: a hung peer fails the test instead of hanging ctest. */
	alarm(840);
	if (argc >= 3 && !strcmp(argv[1], "--remote"))
		return remote_main(argv[2]);
	keel::log_set_echo(getenv("RPMSG_E2E_VERBOSE") != nullptr);
	char dir[] = "/tmp/keel-rpmsg-XXXXXX";
	if (!mkdtemp(dir))
		return 2;
	char sock[128];
	snprintf(sock, sizeof(sock), "%s/ivshmem.sock", dir);
	int r = host_main(argv[0], sock);
	unlink(sock);
	rmdir(dir);
	return r;
}
