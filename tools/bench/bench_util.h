/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the benchmarks share: the statistics of interleaved trials (median
 * and spread of per-trial figures), the printed table and the JSON lines,
 * starting this program again as the other process, and that process's
 * doorbell echo. Hosted only.
 *
 * Figures are printed, never asserted: the machines are shared VMs whose
 * figures swing from run to run. A ratio is computed per trial (stack and
 * baseline measured back to back) and then its median taken, so that the
 * noise of one trial cancels; figures of different runs are never compared.
 */
#ifndef TOOLS_BENCH_BENCH_UTIL_H
#define TOOLS_BENCH_BENCH_UTIL_H

#include <keel/time.h>
#include <keel/utility.h>
#include <keel/wait.h>

#include <shmlink.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

namespace bench {

inline constexpr u32 MAX_TRIALS = 64;

/* One figure per trial; a negative value is a failed trial (left out). */
struct Series {
	double v[MAX_TRIALS];
	u32 n = 0;
	void add(double x)
	{
		if (n < MAX_TRIALS)
			v[n++] = x;
	}
};

struct Stat {
	double med, min, max;
	u32 n;
};

inline Stat stat(const Series &s)
{
	double v[MAX_TRIALS];
	u32 k = 0;
	for (u32 i = 0; i < s.n; i++)
		if (s.v[i] >= 0)
			v[k++] = s.v[i];
	if (!k)
		return { -1, -1, -1, 0 };
	for (u32 i = 1; i < k; i++)
		for (u32 j = i; j > 0 && v[j] < v[j - 1]; j--)
			keel::swap(v[j], v[j - 1]);
	double med = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
	return { med, v[0], v[k - 1], k };
}

/* Per-trial ratio a/b (trials where either failed are left out). */
inline Series ratio(const Series &a, const Series &b)
{
	Series r;
	for (u32 i = 0; i < a.n && i < b.n; i++)
		r.add(a.v[i] > 0 && b.v[i] > 0 ? a.v[i] / b.v[i] : -1);
	return r;
}

inline FILE *&json_file()
{
	static FILE *f;
	return f;
}

inline void emit(const char *name, double value, const char *unit)
{
	if (json_file())
		fprintf(json_file(), "{\"name\":\"%s\",\"value\":%.3f,\"unit\":\"%s\"}\n", name,
			value, unit);
}

/* One table line and one JSON line (the median). */
inline void report(const char *name, const char *what, const Series &s, const char *unit,
		   double scale = 1)
{
	Stat st = stat(s);
	if (!st.n) {
		printf("  %-48s %12s\n", what, "failed");
		return;
	}
	printf("  %-48s %12.2f %-6s (%.2f..%.2f)\n", what, st.med * scale, unit, st.min * scale,
	       st.max * scale);
	emit(name, st.med * scale, unit);
}

/* The command line shared by the benchmarks (the --remote-* modes aside). */
struct Options {
	u32 trials = 5;
	u32 iters = 2000;
	u32 msgs = 100000;
};

/* --trials N, --iters N, --msgs N and --jsonl FILE (JSON lines appended to FILE). */
inline Options parse_options(int argc, char **argv)
{
	Options o;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--trials"))
			o.trials = u32(atoi(argv[i + 1]));
		else if (!strcmp(argv[i], "--iters"))
			o.iters = u32(atoi(argv[i + 1]));
		else if (!strcmp(argv[i], "--msgs"))
			o.msgs = u32(atoi(argv[i + 1]));
		else if (!strcmp(argv[i], "--jsonl"))
			json_file() = fopen(argv[i + 1], "a");
	}
	return o;
}

/*
 * A --remote-FOO mode of a benchmark (the other process of a measurement,
 * started by spawn_self()): @flag, the arguments it needs after the flag,
 * and what runs it (@args: argv past the flag, NULL-terminated).
 */
struct RemoteMode {
	const char *flag;
	int nargs;
	int (*run)(char **args);
};

/* Runs the mode argv[1] names. Returns its exit code, or -1 if it names none. */
template <size_t N> int run_remote_mode(int argc, char **argv, const RemoteMode (&modes)[N])
{
	for (const RemoteMode &m : modes) {
		if (argc >= 2 + m.nargs && !strcmp(argv[1], m.flag))
			return m.run(argv + 2);
	}
	return -1;
}

/* This program as started (argv[0]: the first of spawn_self()'s @args). */
inline constinit const char *self = nullptr;
/* The socket of this run's shmlink server (the other process's first argument). */
inline constinit const char *sock = nullptr;

/*
 * Runs @body with sock pointing at a socket path in a fresh temporary
 * directory, then closes the JSON file and removes the socket and the
 * directory. Returns @body's exit code, or 2 when there is no directory.
 */
template <typename Body> int run_with_socket(Body body)
{
	char dir[] = "/tmp/keel-bench-XXXXXX";
	if (!mkdtemp(dir))
		return 2;
	char path[128];
	snprintf(path, sizeof(path), "%s/ivshmem.sock", dir);
	sock = path;
	int r = body();
	sock = nullptr;
	if (json_file())
		fclose(json_file());
	unlink(path);
	rmdir(dir);
	return r;
}

/*
 * The main() of a benchmark: when argv[1] is one of @modes, this is the
 * other process of a measurement and runs that mode; else it parses the
 * options and runs @body(options) (run_with_socket()), or returns 2 when
 * there is nothing to run. Either way an alarm of @alarm_s seconds ends a
 * run that a lost peer would otherwise hang. Returns the exit code.
 */
template <size_t N, typename Body>
int run_main(int argc, char **argv, unsigned int alarm_s, const RemoteMode (&modes)[N], Body body)
{
	alarm(alarm_s);
	self = argv[0];
	int r = run_remote_mode(argc, argv, modes);
	if (r >= 0)
		return r;
	Options o = parse_options(argc, argv);
	if (!o.trials || !o.iters)
		return 2;
	return run_with_socket([&] { return body(o); });
}

/* fork + exec of this program with @args: safe in a process that already has threads. */
inline pid_t spawn_self(const char *const *args)
{
	pid_t pid = fork();
	if (pid == 0) {
		execv("/proc/self/exe", const_cast<char *const *>(args));
		_exit(127);
	}
	return pid;
}

/*
 * The remote of a doorbell ping-pong: attaches to the shmlink server at
 * @sock with @vectors vectors and rings vector 0 back at every ring, until
 * the host goes (or a minute passes). Returns the process's exit code.
 */
inline int remote_doorbell(const char *sock, u32 vectors, s64 timeout_ns)
{
	auto c = shmlink::Client::connect(sock, vectors, timeout_ns);
	if (c.is_error())
		return 10;
	shmlink::Client *cl = c.value();
	if (cl->wait_peer(timeout_ns).is_error())
		return 11;
	static keel::Completion gone{ "bench_doorbell_gone", KEEL_LOCK_KEY() };
	cl->set_handler([](void *ctx, u32) { (void)static_cast<shmlink::Client *>(ctx)->ring(0); },
			cl);
	cl->set_peer_down([](void *) { gone.complete_all(); }, nullptr);
	cl->enable();
	(void)gone.wait_timeout(keel::ms_to_ns(60000));
	cl->disable();
	delete cl;
	return 0;
}

/*
 * A baseline's busy-wait follows the stack's rule (spin_until(),
 * rpmsg_poll.cpp): every 64 relaxes it lets the scheduler run whoever
 * waits for this CPU, so that on a loaded machine (both processes on one
 * CPU) neither side of a comparison burns its time slice waiting for the
 * other.
 */
inline void relax(u32 i)
{
	keel::cpu_relax();
	if ((i & 63) == 63)
		(void)keel::spin_yield();
}

/* What ends a cache-line ping-pong: never a round-trip count. */
inline constexpr u64 SPIN_STOP = ~0ull;

/*
 * The cache-line ping-pong, this side: @iters round trips on @line (odd:
 * ours, the next even: the peer's answer), then SPIN_STOP. Bounded: a
 * descheduled peer on a 2-vCPU VM must not hang the bench (10 s in all).
 * Returns ns per round trip, or -1 when the peer did not keep up.
 */
inline double spin_ping(u64 *line, u32 iters)
{
	s64 t0 = keel::ktime_get_ns(), deadline = t0 + keel::ms_to_ns(10000);
	bool ok = true;
	for (u32 i = 1; ok && i <= iters; i++) {
		__atomic_store_n(line, 2ull * i - 1, __ATOMIC_RELEASE);
		for (u32 k = 0; ok && __atomic_load_n(line, __ATOMIC_ACQUIRE) != 2ull * i; k++) {
			relax(k);
			if ((k & 1023) == 1023 && keel::ktime_get_ns() > deadline)
				ok = false;
		}
	}
	s64 t = keel::ktime_get_ns() - t0;
	__atomic_store_n(line, SPIN_STOP, __ATOMIC_RELEASE);
	return ok ? double(t) / iters : -1;
}

/*
 * The other side of spin_ping(): answers each odd value on @line with the
 * next even one until SPIN_STOP, @cl's peer going, or a minute.
 */
inline void spin_pong(u64 *line, shmlink::Client *cl)
{
	s64 deadline = keel::ktime_get_ns() + keel::ms_to_ns(60000);
	for (u64 spins = 0;; spins++) {
		u64 v = __atomic_load_n(line, __ATOMIC_ACQUIRE);
		if (v == SPIN_STOP)
			break;
		if (v & 1)
			__atomic_store_n(line, v + 1, __ATOMIC_RELEASE);
		else
			relax(u32(spins));
		if ((spins & 0xffff) == 0 && (keel::ktime_get_ns() > deadline || !cl->peer_alive()))
			break;
	}
}

/* Waits up to 2 s for @pid to exit on its own, then kills it. */
inline int reap(pid_t pid)
{
	int status = 0;
	for (int i = 0; i < 2000; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		keel::msleep(1);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return status;
}

} // namespace bench

#endif
