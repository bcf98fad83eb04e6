// SPDX-License-Identifier: GPL-2.0
/*
 * shm_bench: the shared-memory transport between two processes, against
 * raw baselines measured in the same run between the same two processes:
 *
 *   spin      a cache-line ping-pong in the shared region (no syscalls)
 *   doorbell  an eventfd ping-pong through shmlink (the notification
 *             threads ring straight back: the floor for any notified path)
 *   vq        a virtqueue round trip: add_outbuf + kick, the remote echoes
 *             into a posted rx buffer, the host's interrupt collects it
 *             (1 buffer per round trip, and bursts of 8 per kick), with
 *             and without VIRTIO_RING_F_EVENT_IDX
 *
 * Trials of every kind are interleaved (the machine is a noisy shared VM);
 * each figure is the median of the trials, with the spread (min..max).
 * Prints a table and, with --jsonl FILE, appends {"name","value","unit"}
 * lines. Never asserts a time.
 *
 *	shm_bench [--trials N] [--iters N] [--jsonl FILE]
 */
#include <test_support/shm_peer.h>

#include "bench_util.h"

#include <signal.h>

using namespace shmpeer;

namespace {

constexpr size_t SPIN_OFF = 0x1000; /* one cache line, unused by the transport while detached */

/* A doorbell that counts what the host sends, over the shmlink client. */
class CountingDoorbell final : public keel::Doorbell {
public:
	explicit CountingDoorbell(shmlink::Client *c) : Doorbell(s_ops), m_c(c)
	{
		c->set_handler([](void *ctx,
				  u32 id) { static_cast<CountingDoorbell *>(ctx)->deliver(id); },
			       this);
		c->set_peer_down(
			[](void *ctx) {
				static_cast<CountingDoorbell *>(ctx)->deliver_peer_down();
			},
			this);
		c->enable();
	}
	~CountingDoorbell() { m_c->disable(); }
	u64 rings() const { return m_rings.load(); }

private:
	static Result<void> ring_op(keel::Doorbell &db, u32 id)
	{
		auto &self = static_cast<CountingDoorbell &>(db);
		self.m_rings.fetch_add(1, keel::MemoryOrder::Relaxed);
		return self.m_c->ring(id);
	}
	static bool peer_alive_op(const keel::Doorbell &db)
	{
		return static_cast<const CountingDoorbell &>(db).m_c->peer_alive();
	}
	static constexpr keel::DoorbellOps s_ops = { .ring = &ring_op,
						     .peer_alive = &peer_alive_op };

	shmlink::Client *m_c;
	keel::Atomic<u64> m_rings{ 0 };
};

struct Session {
	shmlink::Client *cl = nullptr;
	pid_t child = -1;
};

Result<Session> start(const char *mode, const char *arg)
{
	const char *args[] = { bench::self, mode, bench::sock, arg, nullptr };
	Session s;
	s.cl = TRY(shmlink::Client::connect(bench::sock, VECTORS, keel::ms_to_ns(5000)));
	memset(s.cl->mem(), 0, s.cl->mem_size());
	s.child = spawn_self(args);
	if (s.child < 0 || s.cl->wait_peer(keel::ms_to_ns(5000)).is_error())
		return keel::err(-EIO);
	return s;
}

void finish(Session &s)
{
	delete s.cl; /* the remote sees us go and exits */
	int status;
	for (int i = 0; i < 2000; i++) {
		if (waitpid(s.child, &status, WNOHANG) == s.child)
			return;
		keel::msleep(1);
	}
	kill(s.child, SIGKILL);
	waitpid(s.child, &status, 0);
}

/* ns per round trip of a spin ping-pong on one shared cache line. */
double run_spin(u32 iters)
{
	auto s = start("--remote-spin", "0");
	if (s.is_error())
		return -1;
	double r = bench::spin_ping(
		reinterpret_cast<u64 *>(static_cast<u8 *>(s.value().cl->mem()) + SPIN_OFF), iters);
	finish(s.value());
	return r;
}

/* ns per round trip of an eventfd doorbell ping-pong (notification thread to notification thread). */
double run_doorbell(u32 iters)
{
	auto s = start("--remote-doorbell", "0");
	if (s.is_error())
		return -1;
	shmlink::Client *cl = s.value().cl;
	static keel::Completion done{ "shm_bench_done", KEEL_LOCK_KEY() };
	done.reinit();
	cl->set_handler([](void *, u32) { done.complete(); }, nullptr);
	cl->enable();
	s64 t0 = keel::ktime_get_ns();
	u32 i;
	for (i = 0; i < iters; i++) {
		if (cl->ring(0).is_error() || !done.wait_timeout(keel::ms_to_ns(2000)))
			break;
	}
	s64 t = keel::ktime_get_ns() - t0;
	cl->disable();
	finish(s.value());
	return i ? double(t) / i : -1;
}

struct VqResult {
	double rtt_ns = -1;   /* per buffer, one buffer per kick */
	double burst_ns = -1; /* per buffer, bursts of 8 per kick */
	double notif_per_buf =
		-1; /* host-sent + host-received notifications, per buffer (bursts) */
};

VqResult run_vq(u32 iters, bool event_idx)
{
	VqResult res;
	auto s = start("--remote-echo", event_idx ? "1" : "0");
	if (s.is_error())
		return res;
	{
		CountingDoorbell db(s.value().cl);
		ShmHostConfig hc;
		hc.name = "bench-host";
		hc.region = keel::ShmRegion(s.value().cl->mem(), s.value().cl->mem_size(), 0);
		hc.doorbell = &db;
		auto h = ShmHost::create(hc, GFP_KERNEL);
		if (h.is_error())
			goto out;
		keel::UniquePtr<ShmHost> host = keel::move(h.value());
		if (host->attach(keel::ms_to_ns(5000)).is_error() || !s_host_drv)
			goto out;
		HostDriver *d = s_host_drv;
		const s64 to = keel::ms_to_ns(2000);
		bool ok = d->send_burst(1, 0, to).is_ok(); /* warm-up */
		s64 t0 = keel::ktime_get_ns();
		for (u32 i = 0; ok && i < iters; i++)
			ok = d->send_burst(1, i, to).is_ok();
		s64 t1 = keel::ktime_get_ns();
		u64 rings0 = db.rings(), irqs0 = db.delivered();
		u32 bursts = iters / 8 ? iters / 8 : 1;
		for (u32 i = 0; ok && i < bursts; i++)
			ok = d->send_burst(8, i, to).is_ok();
		s64 t2 = keel::ktime_get_ns();
		if (ok) {
			res.rtt_ns = double(t1 - t0) / iters;
			res.burst_ns = double(t2 - t1) / (8.0 * bursts);
			res.notif_per_buf = double(db.rings() - rings0 + db.delivered() - irqs0) /
					    (8.0 * bursts);
		}
	}
out:
	finish(s.value());
	return res;
}

/* --- remotes --- */

int remote_spin(const char *sock)
{
	auto c = shmlink::Client::connect(sock, VECTORS, keel::ms_to_ns(5000));
	if (c.is_error())
		return 10;
	bench::spin_pong(reinterpret_cast<u64 *>(static_cast<u8 *>(c.value()->mem()) + SPIN_OFF),
			 c.value());
	delete c.value();
	return 0;
}

int bench_main(u32 trials, u32 iters)
{
	keel::log_set_echo(false);
	auto srv = shmlink::Server::create(bench::sock, 1 << 20, VECTORS);
	if (srv.is_error() || srv.value()->start().is_error())
		return 1;
	if (virtio_init().is_error() || register_virtio_driver(s_host_driver).is_error())
		return 1;
	bench::Series spin, bell, rtt[2], burst[2], notif[2];
	trials = trials > bench::MAX_TRIALS ? bench::MAX_TRIALS : trials;
	for (u32 t = 0; t < trials; t++) {
		/* Interleaved: each kind sees the same noise over the run. */
		spin.add(run_spin(iters * 10));
		bell.add(run_doorbell(iters));
		for (int e = 0; e < 2; e++) {
			VqResult r = run_vq(iters, e == 1);
			rtt[e].add(r.rtt_ns);
			burst[e].add(r.burst_ns);
			notif[e].add(r.notif_per_buf);
		}
		fprintf(stderr, "shm_bench: trial %u/%u done\n", t + 1, trials);
	}
	unregister_virtio_driver(s_host_driver);
	virtio_exit();
	srv.value()->stop();
	delete srv.value();

	/* Per-trial ratios first, then their medians: the noise of one trial cancels. */
	bench::Series r_bell[2], r_spin[2];
	for (int e = 0; e < 2; e++) {
		r_bell[e] = bench::ratio(rtt[e], bell);
		r_spin[e] = bench::ratio(rtt[e], spin);
	}
	printf("shm_bench: %u interleaved trials, %u round trips each (medians, spread min..max)\n",
	       trials, iters);
	bench::report("shm_spin_pingpong_rtt_ns", "baseline: shared cache-line ping-pong", spin,
		      "ns");
	bench::report("eventfd_pingpong_rtt_ns", "baseline: eventfd doorbell ping-pong", bell,
		      "ns");
	const char *sfx[2] = { "noevidx", "evidx" };
	for (int e = 0; e < 2; e++) {
		bench::Series per_s;
		for (u32 t = 0; t < rtt[e].n; t++)
			per_s.add(rtt[e].v[t] > 0 ? 1e9 / rtt[e].v[t] : -1);
		/* Each figure of one ring mode: its name and label get the mode's suffix. */
		const struct {
			const char *name, *what;
			const bench::Series &trials;
			const char *unit;
		} figures[] = {
			{ "vq_roundtrips_per_s", "vq round trips/s", per_s, "1/s" },
			{ "vq_rtt_ns", "vq round trip", rtt[e], "ns" },
			{ "vq_burst8_ns_per_buf", "vq burst of 8, per buffer", burst[e], "ns" },
			{ "vq_notifications_per_buf", "notifications per buffer, burst", notif[e],
			  "" },
			{ "vq_rtt_over_eventfd", "vq rtt / eventfd rtt", r_bell[e], "x" },
			{ "vq_rtt_over_spin", "vq rtt / spin rtt", r_spin[e], "x" },
		};
		for (const auto &f : figures) {
			char name[64], what[64];
			snprintf(name, sizeof(name), "%s_%s", f.name, sfx[e]);
			snprintf(what, sizeof(what), "%s (%s)", f.what, sfx[e]);
			bench::report(name, what, f.trials, f.unit);
		}
	}
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	static const bench::RemoteMode modes[] = {
		{ "--remote-echo", 1,
		  [](char **a) {
			  return run_remote(a[0], a[1] && !strcmp(a[1], "1"),
					    keel::ms_to_ns(120000));
		  } },
		{ "--remote-spin", 1, [](char **a) { return remote_spin(a[0]); } },
		{ "--remote-doorbell", 1,
		  [](char **a) {
			  return bench::remote_doorbell(a[0], VECTORS, keel::ms_to_ns(5000));
		  } },
	};
	return bench::run_main(argc, argv, 600, modes, [](const bench::Options &o) {
		return bench_main(o.trials, o.iters);
	});
}
