// SPDX-License-Identifier: GPL-2.0
/*
 * keel-sim: the simulator. A host (this process: the remoteproc core, the
 * virtio and rpmsg host stack, three client drivers) and a remote firmware
 * (keel-sim-fw, a process the hosted remoteproc platform starts) over
 * shared memory; traffic on every service; the remote crashed several
 * ways and the host restarted once under it; every recovery watched, timed
 * and checked. Documentation/simulator.rst says what it shows.
 *
 * Exit status: 0 when every check passed (every recovery worked), 1 when
 * one failed, 2 for a usage error or a failed set-up.
 */
#include <keel/alloc.h>
#include <keel/log.h>
#include <keel/time.h>

#include "../../drivers/rpmsg/tests/rpmsg_test_util.h"
#include "../lib/cli_opts.h"
#include "engine/engine.h"
#include "views/views.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

namespace {

using sim::SimConfig;

constinit int s_tty_fd = -1;
constinit volatile sig_atomic_t s_signals = 0;

void on_signal(int)
{
	/* The first asks the run to end (report and all); the second ends it now. */
	s_signals = s_signals + 1;
	if (s_signals == 1) {
		sim::Engine::request_stop();
		return;
	}
	if (s_tty_fd >= 0)
		sim::tty_restore_terminal(s_tty_fd);
	_exit(130);
}

void usage(FILE *f)
{
	fprintf(f,
		"usage: keel-sim [options]\n"
		"  -c, --crashes N         remote crashes to cause, kinds in turn: kill, panic,\n"
		"                          hang (default 3)\n"
		"  -r, --host-restarts N   host restarts with the remote alive (default 1)\n"
		"  -d, --duration SECONDS  length of the run; faults are spread over it (default "
		"12)\n"
		"  -l, --load LOAD         echo messages per second: a number, 0 for as fast as\n"
		"                          the link goes, or light (1000), normal (4000),\n"
		"                          heavy (20000), max (0) (default normal)\n"
		"      --senders N         echo senders, each a thread and an endpoint (default "
		"4)\n"
		"      --size BYTES        largest echo payload (default 256; at most the MTU)\n"
		"      --sensor-hz N       sensor sample rate (default 1000)\n"
		"      --watchdog-ms N     a heartbeat missed this long is a crash (default 500)\n"
		"      --autosuspend-ms N  runtime PM delay; -1 turns runtime PM off (default "
		"250)\n"
		"      --idle-ms N         idle phase length, 0 for none (default 1200)\n"
		"  -j, --json FILE         also write every event and sample as JSON lines\n"
		"      --log FILE          where log lines of both processes go, - for stderr\n"
		"                          (default: keel-sim.log next to keel-sim with the\n"
		"                          live view, else stderr)\n"
		"      --plain             plain lines even on a terminal\n"
		"      --live              the live view even when not on a terminal\n"
		"      --firmware PATH     the firmware (default: keel-sim-fw next to keel-sim)\n"
		"  -h, --help              this text\n");
}

bool parse_u32(const char *s, u32 *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || v > 0xffffffffUL)
		return false;
	*out = u32(v);
	return true;
}

bool parse_load(const char *s, u32 *out)
{
	static const struct {
		const char *name;
		u32 rate;
	} presets[] = { { "light", 1000 }, { "normal", 4000 }, { "heavy", 20000 }, { "max", 0 } };
	for (const auto &p : presets)
		if (!strcmp(s, p.name)) {
			*out = p.rate;
			return true;
		}
	return parse_u32(s, out);
}

/* @name in the directory of this executable (the firmware, the default log). */
bool next_to_me(char *buf, size_t size, const char *name)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);
	if (n <= 0)
		return false;
	buf[n] = 0;
	char *slash = strrchr(buf, '/');
	if (!slash || size_t(slash + 1 - buf) + strlen(name) + 1 > size)
		return false;
	strcpy(slash + 1, name);
	return true;
}

enum Opt {
	OPT_SENDERS = 256,
	OPT_SIZE,
	OPT_SENSOR_HZ,
	OPT_WATCHDOG,
	OPT_AUTOSUSPEND,
	OPT_IDLE,
	OPT_LOG,
	OPT_PLAIN,
	OPT_LIVE,
	OPT_FIRMWARE,
};

struct Args {
	SimConfig cfg;
	const char *json = nullptr;
	const char *log = nullptr;
	int live = -1; /* -1: if stdout is a terminal */
	char firmware[PATH_MAX] = {};
};

/* Return: 0, or 2 after a usage message. */
int parse_args(int argc, char **argv, Args *a)
{
	SimConfig &cfg = a->cfg;
	const struct cli_opt opts[] = {
		CLI_OPT_NUMBER('c', "crashes", 0, UINT32_MAX, cfg.crashes),
		CLI_OPT_NUMBER('r', "host-restarts", 0, UINT32_MAX, cfg.host_restarts),
		CLI_OPT_STRING('d', "duration"),
		CLI_OPT_STRING('l', "load"),
		CLI_OPT_STRING('j', "json"),
		CLI_OPT_NONE('h', "help"),
		CLI_OPT_NUMBER(OPT_SENDERS, "senders", 1, 16, cfg.senders),
		CLI_OPT_NUMBER(OPT_SIZE, "size", 0, UINT32_MAX, cfg.echo_size),
		CLI_OPT_NUMBER(OPT_SENSOR_HZ, "sensor-hz", sim::SENSOR_MIN_HZ, sim::SENSOR_MAX_HZ,
			       cfg.sensor_hz),
		CLI_OPT_NUMBER(OPT_WATCHDOG, "watchdog-ms", 50, UINT32_MAX, cfg.watchdog_ms),
		CLI_OPT_NUMBER(OPT_AUTOSUSPEND, "autosuspend-ms", -1, 59999, cfg.autosuspend_ms),
		CLI_OPT_NUMBER(OPT_IDLE, "idle-ms", 0, UINT32_MAX, cfg.idle_ms),
		CLI_OPT_STRING(OPT_LOG, "log"),
		CLI_OPT_NONE(OPT_PLAIN, "plain"),
		CLI_OPT_NONE(OPT_LIVE, "live"),
		CLI_OPT_STRING(OPT_FIRMWARE, "firmware"),
	};
	struct cli cli = { "keel-sim", 0, opts, sizeof(opts) / sizeof(opts[0]) };
	int c;
	bool ok = true;
	while (ok && (c = cli_getopt(&cli, argc, argv)) != -1) {
		switch (c) {
		case 0: /* a number, stored */
			break;
		case 'd': {
			char *end;
			double s = strtod(optarg, &end);
			ok = *optarg && !*end && s > 0 && s < 3600;
			cfg.duration_ns = s64(s * 1e9);
			break;
		}
		case 'l':
			ok = parse_load(optarg, &cfg.echo_rate);
			break;
		case 'j':
			a->json = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case OPT_LOG:
			a->log = optarg;
			break;
		case OPT_PLAIN:
			a->live = 0;
			break;
		case OPT_LIVE:
			a->live = 1;
			break;
		case OPT_FIRMWARE:
			ok = strlen(optarg) < sizeof(a->firmware);
			if (ok)
				strcpy(a->firmware, optarg);
			break;
		default:
			ok = false;
		}
	}
	if (!ok || optind != argc || a->cfg.crashes + a->cfg.host_restarts > sim::MAX_FAULTS) {
		if (ok)
			fprintf(stderr, "keel-sim: at most %u faults\n", sim::MAX_FAULTS);
		usage(stderr);
		return 2;
	}
	if (!a->firmware[0] && !next_to_me(a->firmware, sizeof(a->firmware), "keel-sim-fw")) {
		fprintf(stderr, "keel-sim: cannot find the firmware; use --firmware\n");
		return 2;
	}
	if (access(a->firmware, X_OK) != 0) {
		fprintf(stderr, "keel-sim: %s: not an executable firmware\n", a->firmware);
		return 2;
	}
	a->cfg.firmware = a->firmware;
	if (a->live < 0) {
		const char *term = getenv("TERM");
		a->live = isatty(STDOUT_FILENO) && term && strcmp(term, "dumb") != 0;
	}
	return 0;
}

/* Log lines (ours and the firmware's, which inherits stderr) to @path. */
bool redirect_log(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror(path);
		return false;
	}
	dup2(fd, STDERR_FILENO);
	close(fd);
	return true;
}

} // namespace

/* The host role's interrupts run on another thread than its senders (see there). */
int main(int argc, char **argv)
{
	static Args a;
	int rc = parse_args(argc, argv, &a);
	if (rc)
		return rc;

	static char default_log[PATH_MAX];
	const char *log = a.log;
	if (!log && a.live && next_to_me(default_log, sizeof(default_log), "keel-sim.log"))
		log = default_log;
	/* Keep the terminal for the view before stderr goes to the log. */
	int view_fd = dup(STDOUT_FILENO);
	if (log && strcmp(log, "-") != 0 && !redirect_log(log))
		return 2;
	FILE *json = nullptr;
	if (a.json && !(json = fopen(a.json, "w"))) {
		perror(a.json);
		return 2;
	}

	auto screen = a.live ? sim::tty_view_create(view_fd) : sim::plain_view_create(stdout);
	auto jv = json ? sim::json_view_create(json) : keel::UniquePtr<sim::View>();
	if (screen.is_error() || jv.is_error()) {
		fprintf(stderr, "keel-sim: no memory for the views\n");
		return 2;
	}
	if (a.live)
		s_tty_fd = view_fd;
	sim::View *views[2] = { screen.value().get(), jv.value().get() };
	u32 nviews = json ? 2 : 1;

	struct sigaction sa = {};
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, nullptr);
	sigaction(SIGTERM, &sa, nullptr);
	/* A firmware gone while we write to its socket is a crash report, not our death. */
	signal(SIGPIPE, SIG_IGN);

	auto engine = sim::Engine::create(a.cfg, views, nviews);
	if (engine.is_error()) {
		fprintf(stderr, "keel-sim: %d\n", engine.error().to_errno());
		return 2;
	}
	rc = engine.value()->run();
	engine.value().reset();
	if (json)
		fclose(json);
	if (log && strcmp(log, "-") != 0)
		printf("log lines of both processes: %s\n", log);
	if (a.json)
		printf("events as JSON lines: %s\n", a.json);
	close(view_fd);
	return rc;
}
