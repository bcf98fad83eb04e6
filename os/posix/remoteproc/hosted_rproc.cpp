// SPDX-License-Identifier: GPL-2.0
/*
 * The hosted remoteproc platform, host side (see hosted_rproc.h): the
 * firmware is a child process started with posix_spawn(), watched through
 * its pidfd and its control socket by a thread of ours, and talked to
 * over that socket (heartbeats in, sleep/wake/inject out).
 *
 * The watcher never closes a descriptor: start() and stop() hand it the
 * current process's descriptors under m_lock and bump a generation; stop()
 * waits until the watcher has seen the new generation before it closes
 * the old ones, so a poll never runs on a closed (or reused) descriptor.
 */
/* The C library's headers first: some use names the framework defines as macros (__used). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hosted_rproc.h"

#include <keel/log.h>
#include <keel/string.h>
#include <keel/time.h>

#include "../shmlink/shmlink.h"

extern char **environ;

namespace rproc::hosted {

using keel::err;
using keel::ok;

namespace {

int pidfd_open(pid_t pid)
{
	return int(syscall(SYS_pidfd_open, pid, 0));
}

s64 now_ns()
{
	return keel::ktime_get_ns();
}

} // namespace

struct HostedRproc::Impl {
	Impl(const HostedRprocConfig &c, HostedRproc *h) : cfg(c), owner(h) {}

	HostedRprocConfig cfg;
	HostedRproc *owner;
	char dir[64] = {};
	char sock[128] = {};
	shmlink::Server *server = nullptr;
	shmlink::Client *client = nullptr;

	/* Guards everything below but the stats. */
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
	pid_t pid = 0;
	int pidfd = -1;
	int ctrl = -1;
	/* The current process was seen gone (reported once). */
	bool gone = false;
	bool ctrl_hup = false;
	/* Watchdog armed for the current process (once it said hello), and its last beat. */
	bool armed = false;
	bool watching = false;
	s64 last_beat = 0;
	/* The descriptors' generation, and the one the watcher polls. */
	u32 gen = 0;
	u32 seen_gen = 0;
	/* The last answer to a request (FW_*_ACK/NACK) and the answers so far. */
	FwCtrlMsg reply = {};
	u32 replies = 0;
	bool quit = false;
	int wake_efd = -1;
	pthread_t watcher;
	bool watcher_started = false;

	keel::Atomic<u64> starts{ 0 }, exits{ 0 }, heartbeats{ 0 }, watchdog_fired{ 0 },
		fatal_reports{ 0 }, bad_ctrl{ 0 };
	keel::Atomic<int> last_exit_status{ 0 };

	Rproc &rproc() { return *owner->m_rproc; }
	void wake()
	{
		u64 one = 1;
		(void)!write(wake_efd, &one, sizeof(one));
	}

	Result<void> init();
	Result<void> start();
	Result<void> stop();
	Result<void> request(u32 type, u32 arg, u32 want_a, u32 want_b, FwCtrlMsg *answer);
	Result<void> send_ctrl(u32 type, u32 arg);
	static void *watcher_main(void *arg);
	void watch_loop();
	void handle_ctrl(int fd);
	void handle_exit(pid_t p);
};

/* --- the watcher --- */

void *HostedRproc::Impl::watcher_main(void *arg)
{
	static_cast<Impl *>(arg)->watch_loop();
	return nullptr;
}

void HostedRproc::Impl::watch_loop()
{
	for (;;) {
		pthread_mutex_lock(&lock);
		if (quit) {
			pthread_mutex_unlock(&lock);
			return;
		}
		u32 g = gen;
		seen_gen = g;
		pthread_cond_broadcast(&cond);
		int pfd = gone ? -1 : pidfd;
		int cfd = ctrl_hup ? -1 : ctrl;
		pid_t p = pid;
		bool wd = watching && cfg.watchdog_ms;
		s64 beat = last_beat;
		pthread_mutex_unlock(&lock);

		int timeout = -1;
		if (wd) {
			s64 due = beat + keel::ms_to_ns(cfg.watchdog_ms) - now_ns();
			timeout = due <= 0 ? 0 : int(keel::ns_to_ms(due)) + 1;
		}
		struct pollfd fds[3] = { { wake_efd, POLLIN, 0 },
					 { pfd, POLLIN, 0 },
					 { cfd, POLLIN, 0 } };
		int n = ::poll(fds, 3, timeout);
		if (n < 0 && errno != EINTR) {
			pr_err("%s: watcher: poll failed: %d", cfg.name, errno);
			return;
		}
		if (fds[0].revents & POLLIN) {
			u64 v;
			(void)!read(wake_efd, &v, sizeof(v));
		}
		pthread_mutex_lock(&lock);
		bool same = gen == g;
		pthread_mutex_unlock(&lock);
		if (!same)
			continue;
		/* The firmware's words first: a fatal report beats the exit that may follow. */
		if (cfd >= 0 && (fds[2].revents & (POLLIN | POLLHUP | POLLERR)))
			handle_ctrl(cfd);
		if (pfd >= 0 && (fds[1].revents & POLLIN))
			handle_exit(p);
		if (wd) {
			pthread_mutex_lock(&lock);
			bool late = watching && gen == g &&
				    now_ns() - last_beat > keel::ms_to_ns(cfg.watchdog_ms);
			if (late)
				watching = false;
			pthread_mutex_unlock(&lock);
			if (late) {
				watchdog_fired.fetch_add(1);
				char msg[48];
				(void)keel::snprintf(msg, sizeof(msg), "no heartbeat for %u ms",
						     cfg.watchdog_ms);
				rproc().report_crash(CrashReason::Watchdog, msg);
			}
		}
	}
}

void HostedRproc::Impl::handle_ctrl(int fd)
{
	FwCtrlMsg m;
	ssize_t n = recv(fd, &m, sizeof(m), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* Hang-up: the firmware is gone (or closed its end: as good as gone). */
		pthread_mutex_lock(&lock);
		ctrl_hup = true;
		pthread_mutex_unlock(&lock);
		rproc().report_crash(CrashReason::PeerGone, "firmware control socket hung up");
		return;
	}
	if (n != ssize_t(sizeof(m))) {
		bad_ctrl.fetch_add(1);
		pr_warn_ratelimited("%s: control message of %zd bytes dropped", cfg.name, n);
		return;
	}
	m.text[sizeof(m.text) - 1] = '\0';
	switch (m.type) {
	case FW_HELLO:
	case FW_HEARTBEAT:
		if (m.type == FW_HEARTBEAT)
			heartbeats.fetch_add(1, keel::MemoryOrder::Relaxed);
		pthread_mutex_lock(&lock);
		last_beat = now_ns();
		/*
		 * The watchdog runs from the firmware's first sign of life: a
		 * slow start is the boot timeout's business, not a crash.
		 */
		if (!armed && !gone) {
			armed = true;
			watching = cfg.watchdog_ms != 0;
		}
		pthread_mutex_unlock(&lock);
		break;
	case FW_FATAL:
		fatal_reports.fetch_add(1);
		pthread_mutex_lock(&lock);
		watching = false;
		pthread_mutex_unlock(&lock);
		rproc().report_crash(CrashReason::FatalError, m.text);
		break;
	case FW_SLEEP_ACK:
	case FW_SLEEP_NACK:
	case FW_WAKE_ACK:
		pthread_mutex_lock(&lock);
		reply = m;
		replies++;
		pthread_cond_broadcast(&cond);
		pthread_mutex_unlock(&lock);
		break;
	default:
		bad_ctrl.fetch_add(1);
		pr_warn_ratelimited("%s: unknown control message %u dropped", cfg.name, m.type);
	}
}

void HostedRproc::Impl::handle_exit(pid_t p)
{
	siginfo_t si = {};
	/* Look without reaping: stop() reaps. */
	(void)waitid(P_PID, id_t(p), &si, WEXITED | WNOHANG | WNOWAIT);
	pthread_mutex_lock(&lock);
	gone = true;
	watching = false;
	pthread_mutex_unlock(&lock);
	exits.fetch_add(1);
	char msg[48];
	if (si.si_code == CLD_EXITED)
		(void)keel::snprintf(msg, sizeof(msg), "firmware exited (status %d)", si.si_status);
	else
		(void)keel::snprintf(msg, sizeof(msg), "firmware killed (signal %d)", si.si_status);
	rproc().report_crash(CrashReason::PeerGone, msg);
}

/* --- control requests --- */

Result<void> HostedRproc::Impl::send_ctrl(u32 type, u32 arg)
{
	pthread_mutex_lock(&lock);
	int fd = ctrl_hup ? -1 : ctrl;
	FwCtrlMsg m = {};
	m.type = type;
	m.arg = arg;
	ssize_t n = fd >= 0 ? send(fd, &m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL) : -1;
	int e = n == ssize_t(sizeof(m)) ? 0 : fd < 0 ? ENOTCONN : errno ? errno : EIO;
	pthread_mutex_unlock(&lock);
	return e ? err(-e) : ok();
}

/*
 * Sends @type and waits for an answer of type @want_a or @want_b (the
 * control timeout); @answer gets the last answer seen.
 */
Result<void> HostedRproc::Impl::request(u32 type, u32 arg, u32 want_a, u32 want_b,
					FwCtrlMsg *answer)
{
	pthread_mutex_lock(&lock);
	u32 before = replies;
	pthread_mutex_unlock(&lock);
	TRY(send_ctrl(type, arg));
	s64 deadline = now_ns() + keel::ms_to_ns(cfg.ctrl_timeout_ms);
	pthread_mutex_lock(&lock);
	while (replies == before || (reply.type != want_a && reply.type != want_b)) {
		if (gone || ctrl_hup || now_ns() >= deadline)
			break;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 2 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&cond, &lock, &ts);
	}
	bool answered = replies != before && (reply.type == want_a || reply.type == want_b);
	*answer = reply;
	bool dead = gone || ctrl_hup;
	pthread_mutex_unlock(&lock);
	if (answered)
		return ok();
	if (dead)
		return err(-EPIPE);
	/* Alive but mute: that is what a watchdog is for. */
	rproc().report_crash(CrashReason::Watchdog, "no answer to a control request");
	return err(-ETIMEDOUT);
}

/* --- the ops --- */

Result<void> HostedRproc::Impl::start()
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return err(-errno);
	/* The environment: ours, plus where the firmware finds the host. */
	char e_sock[160], e_vec[48], e_hb[48], e_name[80];
	(void)keel::snprintf(e_sock, sizeof(e_sock), "%s=%s", FW_ENV_SOCK, sock);
	(void)keel::snprintf(e_vec, sizeof(e_vec), "%s=%u", FW_ENV_VECTORS, cfg.vectors);
	(void)keel::snprintf(e_hb, sizeof(e_hb), "%s=%u", FW_ENV_HEARTBEAT_MS, cfg.heartbeat_ms);
	(void)keel::snprintf(e_name, sizeof(e_name), "%s=%s", FW_ENV_NAME, cfg.name);
	size_t nenv = 0;
	while (environ && environ[nenv])
		nenv++;
	const char **envp = static_cast<const char **>(calloc(nenv + 5, sizeof(char *)));
	u32 nargs = 0;
	while (cfg.args && cfg.args[nargs])
		nargs++;
	const char **argv = static_cast<const char **>(calloc(nargs + 2, sizeof(char *)));
	if (!envp || !argv) {
		free(envp);
		free(argv);
		close(sv[0]);
		close(sv[1]);
		return err(-ENOMEM);
	}
	size_t k = 0;
	for (size_t i = 0; i < nenv; i++)
		if (strncmp(environ[i], "KEEL_RPROC_", 11) != 0)
			envp[k++] = environ[i];
	envp[k++] = e_sock;
	envp[k++] = e_vec;
	envp[k++] = e_hb;
	envp[k++] = e_name;
	argv[0] = cfg.firmware;
	for (u32 i = 0; i < nargs; i++)
		argv[i + 1] = cfg.args[i];

	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	/* dup2 clears close-on-exec on the copy: the firmware keeps exactly this one. */
	posix_spawn_file_actions_adddup2(&fa, sv[1], FW_CTRL_FD);
	pid_t p = 0;
	int r = posix_spawn(&p, cfg.firmware, &fa, nullptr, const_cast<char *const *>(argv),
			    const_cast<char *const *>(envp));
	posix_spawn_file_actions_destroy(&fa);
	free(envp);
	free(argv);
	close(sv[1]);
	if (r != 0) {
		close(sv[0]);
		pr_err("%s: cannot start %s: %d", cfg.name, cfg.firmware, r);
		return err(-r);
	}
	int pfd = pidfd_open(p);
	if (pfd < 0) {
		int e = errno;
		kill(p, SIGKILL);
		(void)waitpid(p, nullptr, 0);
		close(sv[0]);
		return err(-e);
	}
	pthread_mutex_lock(&lock);
	pid = p;
	pidfd = pfd;
	ctrl = sv[0];
	gone = false;
	ctrl_hup = false;
	armed = false;
	watching = false;
	last_beat = now_ns();
	gen++;
	pthread_mutex_unlock(&lock);
	wake();
	owner->m_pid.store(p);
	starts.fetch_add(1);
	/*
	 * Our doorbell reaches the firmware once the broker has introduced
	 * it to us: the table it publishes may be seen before that, and a
	 * ring then would fail (and break the queue it was for).
	 */
	s64 deadline = now_ns() + keel::ms_to_ns(10000);
	while (!client->peer_alive()) {
		pthread_mutex_lock(&lock);
		bool dead = gone || ctrl_hup;
		pthread_mutex_unlock(&lock);
		if (dead)
			return ok(); /* reported as a crash: the boot starts over */
		if (now_ns() >= deadline) {
			pr_err("%s: the firmware never connected to the link", cfg.name);
			return err(-ETIMEDOUT);
		}
		keel::msleep(1);
	}
	return ok();
}

Result<void> HostedRproc::Impl::stop()
{
	pthread_mutex_lock(&lock);
	pid_t p = pid;
	bool dead = gone;
	pthread_mutex_unlock(&lock);
	if (!p)
		return ok();
	s64 began = now_ns();
	/* A crashed remote is killed; a healthy one is asked to stop first. */
	RprocState s = rproc().state();
	bool polite = !dead && (s == RprocState::Running || s == RprocState::Attached ||
				s == RprocState::Suspended || s == RprocState::Deleted);
	if (polite && send_ctrl(HOST_EXIT, 0).is_ok()) {
		struct pollfd pf = { pidfd, POLLIN, 0 };
		(void)::poll(&pf, 1, 500);
	}
	s64 asked = now_ns();
	/* The watcher lets go of the descriptors before we close them. */
	pthread_mutex_lock(&lock);
	int pfd = pidfd, cfd = ctrl;
	pid = 0;
	pidfd = -1;
	ctrl = -1;
	watching = false;
	u32 g = ++gen;
	pthread_mutex_unlock(&lock);
	wake();
	pthread_mutex_lock(&lock);
	while (seen_gen != g && !quit)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	s64 synced = now_ns();
	kill(p, SIGKILL);
	int status = 0;
	(void)waitpid(p, &status, 0);
	last_exit_status.store(status);
	close(pfd);
	close(cfd);
	owner->m_pid.store(0);
	/*
	 * Its shmlink disconnect comes through the broker, and the link's
	 * thread marks the peer gone before it calls the core's peer-down:
	 * wait for both, so that no report about this process arrives once
	 * the next one boots (it would be taken for that one's crash).
	 */
	s64 reaped = now_ns();
	if (client->wait_peer_gone(keel::ms_to_ns(5000)).is_error())
		pr_warn("%s: the link still shows firmware %d 5 s after it died", cfg.name, int(p));
	s64 took = now_ns() - reaped;
	if (now_ns() - began > keel::ms_to_ns(1000))
		pr_warn("%s: stopping firmware %d took %lld ms (asked %lld, watcher %lld, "
			"reaped %lld, link %lld)",
			cfg.name, int(p), (long long)keel::ns_to_ms(now_ns() - began),
			(long long)keel::ns_to_ms(asked - began),
			(long long)keel::ns_to_ms(synced - asked),
			(long long)keel::ns_to_ms(reaped - synced),
			(long long)keel::ns_to_ms(took));
	return ok();
}

namespace {

HostedRproc::Impl &impl_of(Rproc &rp)
{
	return *rp.priv<HostedRproc::Impl>();
}

Result<void> op_start(Rproc &rp)
{
	return impl_of(rp).start();
}

Result<void> op_stop(Rproc &rp)
{
	return impl_of(rp).stop();
}

/* The firmware keeps running (and being watched) while the host is detached. */
Result<void> op_attach(Rproc &rp)
{
	return impl_of(rp).owner->pid() ? ok() : Result<void>(err(-ENODEV));
}

Result<void> op_detach(Rproc &)
{
	return ok();
}

Result<void> op_suspend(Rproc &rp)
{
	FwCtrlMsg answer = {};
	TRY(impl_of(rp).request(HOST_SLEEP, 0, FW_SLEEP_ACK, FW_SLEEP_NACK, &answer));
	return answer.type == FW_SLEEP_ACK ? ok() : Result<void>(err(-EBUSY));
}

Result<void> op_resume(Rproc &rp)
{
	FwCtrlMsg answer = {};
	return impl_of(rp).request(HOST_WAKE, 0, FW_WAKE_ACK, FW_WAKE_ACK, &answer);
}

constexpr RprocOps s_hosted_ops = {
	.load = nullptr,
	.start = &op_start,
	.stop = &op_stop,
	.attach = &op_attach,
	.detach = &op_detach,
	.kick = nullptr,
	.suspend = &op_suspend,
	.resume = &op_resume,
};

} // namespace

Result<void> HostedRproc::Impl::init()
{
	if (!cfg.firmware || !cfg.vectors || (cfg.region_size & (cfg.region_size - 1)) ||
	    access(cfg.firmware, X_OK) != 0) {
		pr_err("%s: hosted remote needs an executable firmware (%s) and a power-of-two "
		       "region",
		       cfg.name, cfg.firmware ? cfg.firmware : "none");
		return err(-EINVAL);
	}
	(void)keel::snprintf(dir, sizeof(dir), "/tmp/keel-rproc-XXXXXX");
	if (!mkdtemp(dir))
		return err(-errno);
	(void)keel::snprintf(sock, sizeof(sock), "%s/ivshmem.sock", dir);
	server = TRY(shmlink::Server::create(sock, cfg.region_size, cfg.vectors));
	TRY(server->start());
	client = TRY(
		shmlink::Client::connect(sock, cfg.vectors, keel::ms_to_ns(5000), cfg.region_size));
	wake_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (wake_efd < 0)
		return err(-errno);
	if (pthread_create(&watcher, nullptr, &watcher_main, this) != 0)
		return err(-EAGAIN);
	watcher_started = true;
	return ok();
}

Result<keel::UniquePtr<HostedRproc>> HostedRproc::create(const HostedRprocConfig &cfg)
{
	keel::UniquePtr<HostedRproc> h(new (GFP_KERNEL) HostedRproc);
	if (!h)
		return err(-ENOMEM);
	h->m_impl = TRY(keel::make_unique<Impl>(GFP_KERNEL, cfg, h.get()));
	Impl *im = h->m_impl.get();
	TRY(im->init());
	RprocConfig rc = cfg.rproc;
	rc.name = cfg.name;
	rc.ops = &s_hosted_ops;
	rc.priv = im;
	rc.firmware = cfg.firmware;
	rc.region = keel::ShmRegion(im->client->mem(), im->client->mem_size(), 0);
	rc.doorbell = im->client;
	h->m_rproc = TRY(Rproc::create(rc, GFP_KERNEL));
	TRY(h->m_rproc->add());
	return h;
}

HostedRproc::~HostedRproc()
{
	Impl *im = m_impl.get();
	if (m_rproc) {
		m_rproc->del();
		m_rproc = nullptr;
	}
	if (!im)
		return;
	if (im->watcher_started) {
		pthread_mutex_lock(&im->lock);
		im->quit = true;
		pthread_cond_broadcast(&im->cond);
		pthread_mutex_unlock(&im->lock);
		im->wake();
		pthread_join(im->watcher, nullptr);
	}
	if (im->wake_efd >= 0)
		close(im->wake_efd);
	delete im->client;
	if (im->server) {
		im->server->stop();
		delete im->server;
	}
	if (im->sock[0])
		unlink(im->sock);
	if (im->dir[0])
		rmdir(im->dir);
}

Result<void> HostedRproc::inject(FwInject what)
{
	if (!m_pid.load())
		return err(-ENOTCONN);
	return m_impl->send_ctrl(HOST_INJECT, what);
}

Result<void> HostedRproc::kill_remote(int sig)
{
	pid_t p = m_pid.load();
	if (!p)
		return err(-ENOTCONN);
	return kill(p, sig) == 0 ? ok() : Result<void>(err(-errno));
}

HostedStats HostedRproc::stats() const
{
	HostedStats s = {};
	s.starts = m_impl->starts.load();
	s.exits = m_impl->exits.load();
	s.heartbeats = m_impl->heartbeats.load();
	s.watchdog_fired = m_impl->watchdog_fired.load();
	s.fatal_reports = m_impl->fatal_reports.load();
	s.bad_ctrl = m_impl->bad_ctrl.load();
	s.last_exit_status = m_impl->last_exit_status.load();
	return s;
}

} // namespace rproc::hosted
