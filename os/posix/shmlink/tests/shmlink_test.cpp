// SPDX-License-Identifier: GPL-2.0
/*
 * shmlink against peers and servers that do not follow the protocol: a
 * scripted fake server (short and split messages, unexpected descriptors,
 * negative and out-of-range ids, unsealed or wrong-sized memory), hostile
 * peers that resize the memory, clear O_NONBLOCK on shared eventfds,
 * saturate counters or never read, and a server that must keep serving
 * honest clients meanwhile.
 *
 * Hosted only (POSIX sockets, memfds, eventfds): built into its own runner,
 * not into the KUnit module. Every wait on the code under test has a
 * deadline: a regression fails a case instead of hanging the run.
 */
#include <shmlink.h>
#include <shmlink_internal.h>

#include <keel/log.h>
#include <keel/test.h>
#include <keel/time.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>

using namespace keel;
using namespace keel::test;

namespace {

constexpr u32 VECTORS = 2;
constexpr size_t SHM_SIZE = 64 * 1024;
const s64 TIMEOUT = ms_to_ns(5000);

/* --- plumbing --- */

struct TempSock {
	char dir[64] = {};
	char path[128] = {};
};

void temp_free(void *p)
{
	auto *ts = static_cast<TempSock *>(p);
	unlink(ts->path);
	rmdir(ts->dir);
	delete ts;
}

/* A fresh socket path in a temporary directory, removed when the case ends. */
const char *temp_sock(Test &t)
{
	auto *ts = new (GFP_KERNEL) TempSock();
	if (!ts)
		return nullptr;
	::snprintf(ts->dir, sizeof(ts->dir), "/tmp/keel-shmlink-XXXXXX");
	if (!mkdtemp(ts->dir) || t.add_cleanup(&temp_free, ts).is_error())
		return nullptr;
	::snprintf(ts->path, sizeof(ts->path), "%s/s", ts->dir);
	return ts->path;
}

int open_fds()
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* A memfd of @size, sealed against resizing when @seal. */
int make_memfd(size_t size, bool seal)
{
	int fd = memfd_create("shmlink-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, off_t(size)) < 0 ||
	    (seal && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One message with any number of fds (the protocol allows at most one). */
int send_fds(int sock, s64 v, const int *fds, int nfds)
{
	le64 w = cpu_to_le64(u64(v));
	struct iovec iov = { &w, sizeof(w) };
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr msg = {};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(size_t(nfds) * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(size_t(nfds) * sizeof(int));
		memcpy(CMSG_DATA(c), fds, size_t(nfds) * sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == ssize_t(sizeof(w)) ? 0 : -1;
}

/*
 * FakeServer: accepts one client on a thread and runs a script on the
 * connection; the script's fds stay open until the case ends.
 */
struct FakeServer {
	int listen_fd = -1;
	int conn = -1;
	pthread_t thread;
	bool started = false;
	void (*script)(FakeServer &s) = nullptr;
	/* What scripts hand out, to check from the test. */
	int own[VECTORS] = { -1, -1 };
	int peer[VECTORS] = { -1, -1 };
	int shm = -1;
	int extra = -1;
};

void fake_free(void *p)
{
	auto *s = static_cast<FakeServer *>(p);
	if (s->started)
		pthread_join(s->thread, nullptr);
	const int fds[] = { s->listen_fd, s->conn,    s->own[0], s->own[1],
			    s->peer[0],	  s->peer[1], s->shm,	 s->extra };
	for (int fd : fds)
		if (fd >= 0)
			close(fd);
	delete s;
}

void *fake_thread(void *arg)
{
	auto *s = static_cast<FakeServer *>(arg);
	struct pollfd p = { s->listen_fd, POLLIN, 0 };
	if (poll(&p, 1, 5000) == 1)
		s->conn = accept4(s->listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
	if (s->conn >= 0)
		s->script(*s);
	return nullptr;
}

FakeServer *fake_server(Test &t, const char *path, void (*script)(FakeServer &))
{
	auto *s = new (GFP_KERNEL) FakeServer();
	if (!s || t.add_cleanup(&fake_free, s).is_error())
		return nullptr;
	s->script = script;
	struct sockaddr_un addr = {};
	addr.sun_family = AF_UNIX;
	::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0 ||
	    bind(s->listen_fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) < 0 ||
	    listen(s->listen_fd, 4) < 0)
		return nullptr;
	if (pthread_create(&s->thread, nullptr, &fake_thread, s) != 0)
		return nullptr;
	s->started = true;
	return s;
}

/* The greeting of a well-behaved server up to the shared memory: version, id 3, -1 + @shm. */
void greet(FakeServer &s, int shm)
{
	(void)shmlink::send_msg(s.conn, 0, -1);
	(void)shmlink::send_msg(s.conn, 3, -1);
	(void)shmlink::send_msg(s.conn, -1, shm);
}

/* ... then the client's own vectors. */
void greet_own(FakeServer &s)
{
	for (u32 v = 0; v < VECTORS; v++) {
		s.own[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		(void)shmlink::send_msg(s.conn, 3, s.own[v]);
	}
}

/* Waits until the client closes the connection (its destructor), bounded. */
void hold(FakeServer &s)
{
	struct pollfd p = { s.conn, POLLIN, 0 };
	(void)poll(&p, 1, 10000);
}

void delete_client(void *p)
{
	delete static_cast<shmlink::Client *>(p);
}

/* Connects, keeping the client until the case ends; the result as an errno. */
int connect_client(Test &t, const char *path, shmlink::Client **out, s64 timeout = TIMEOUT)
{
	auto c = shmlink::Client::connect(path, VECTORS, timeout);
	if (c.is_error())
		return c.error().to_errno();
	if (t.add_cleanup(&delete_client, c.value()).is_error()) {
		delete c.value();
		return -ENOMEM;
	}
	if (out)
		*out = c.value();
	return 0;
}

/*
 * A raw peer of a real server: reads the greeting itself (the fds a
 * hostile peer gets), and never reads anything after unless told to.
 */
struct RawPeer {
	int sock = -1;
	s64 id = -1;
	int shm = -1;
	int own[VECTORS] = { -1, -1 };
	/* The first other peer's vectors (its eventfds, shared with it). */
	s64 other = -1;
	int other_efd[VECTORS] = { -1, -1 };
	u32 nother = 0;
};

void raw_free(void *p)
{
	auto *r = static_cast<RawPeer *>(p);
	const int fds[] = {
		r->sock, r->shm, r->own[0], r->own[1], r->other_efd[0], r->other_efd[1]
	};
	for (int fd : fds)
		if (fd >= 0)
			close(fd);
	delete r;
}

int raw_connect(const char *path)
{
	struct sockaddr_un addr = {};
	addr.sun_family = AF_UNIX;
	::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s >= 0 && connect(s, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) == 0)
		return s;
	if (s >= 0)
		close(s);
	return -1;
}

/* Reads messages until its own vectors (and @want_other peers' vectors) are in. */
RawPeer *raw_peer(Test &t, const char *path, bool want_other)
{
	auto *r = new (GFP_KERNEL) RawPeer();
	if (!r || t.add_cleanup(&raw_free, r).is_error())
		return nullptr;
	r->sock = raw_connect(path);
	if (r->sock < 0)
		return nullptr;
	u32 nown = 0;
	s64 deadline = ktime_get_ns() + TIMEOUT;
	for (int i = 0; nown < VECTORS || (want_other && r->nother < VECTORS); i++) {
		struct pollfd p = { r->sock, POLLIN, 0 };
		if (ktime_get_ns() > deadline || poll(&p, 1, 100) < 0)
			return nullptr;
		if (!(p.revents & POLLIN))
			continue;
		s64 v = 0;
		int fd = -1;
		int got = shmlink::recv_msg(r->sock, &v, &fd, deadline);
		if (got == -EAGAIN)
			continue;
		if (got <= 0)
			return nullptr;
		if (i == 1)
			r->id = v;
		else if (i == 2)
			r->shm = fd;
		else if (i > 2 && v == r->id && nown < VECTORS)
			r->own[nown++] = fd;
		else if (i > 2 && fd >= 0 && (r->other < 0 || v == r->other) &&
			 r->nother < VECTORS) {
			r->other = v;
			r->other_efd[r->nother++] = fd;
		} else if (fd >= 0)
			close(fd);
	}
	return r;
}

shmlink::Server *start_server(Test &t, const char *path)
{
	auto s = shmlink::Server::create(path, SHM_SIZE, VECTORS);
	if (s.is_error())
		return nullptr;
	if (t.add_cleanup([](void *p) { delete static_cast<shmlink::Server *>(p); }, s.value())
		    .is_error()) {
		delete s.value();
		return nullptr;
	}
	if (s.value()->start().is_error())
		return nullptr;
	return s.value();
}

/*
 * A server, our client (in @c) and a raw peer of it; with @attached, the
 * client has seen that peer attach. The raw peer, or null with the case
 * failed.
 */
RawPeer *client_and_raw_peer(Test &t, shmlink::Client **c, bool attached)
{
	const char *path = temp_sock(t);
	if (!path || !start_server(t, path) || connect_client(t, path, c)) {
		EXPECT_FAIL(t, "no server, or no client of it");
		return nullptr;
	}
	RawPeer *h = raw_peer(t, path, false);
	if (!h) {
		EXPECT_FAIL(t, "no raw peer");
		return nullptr;
	}
	if (!attached)
		return h;
	auto p = (*c)->wait_peer(TIMEOUT);
	if (p.is_error() || p.value() != h->id) {
		EXPECT_FAIL(t, "the client did not see the raw peer attach");
		return nullptr;
	}
	return h;
}

/* Runs @fn(@arg) on a thread and waits for it up to @timeout_ns: false if it did not return. */
struct Bounded {
	void (*fn)(void *);
	void *arg;
	pthread_t thread;
	Atomic<bool> done{ false };
};

void *bounded_thread(void *p)
{
	auto *b = static_cast<Bounded *>(p);
	b->fn(b->arg);
	b->done.store(true);
	return nullptr;
}

bool start_bounded(Bounded &b)
{
	return pthread_create(&b.thread, nullptr, &bounded_thread, &b) == 0;
}

bool wait_bounded(Bounded &b, s64 timeout_ns)
{
	s64 deadline = ktime_get_ns() + timeout_ns;
	while (!b.done.load() && ktime_get_ns() < deadline)
		msleep(1);
	return b.done.load();
}

/* Drains an eventfd without blocking, whatever its flags say. */
void drain(int efd)
{
	u64 v;
	struct iovec iov = { &v, sizeof(v) };
	(void)preadv2(efd, &iov, 1, -1, RWF_NOWAIT);
}

int suite_init()
{
	log_set_echo(false);
	return 0;
}
void suite_exit()
{
	log_set_echo(true);
}

/* --- the shared memory --- */

void server_memory_is_sealed_against_resizing(Test &t)
{
	shmlink::Client *c = nullptr;
	RawPeer *h = client_and_raw_peer(t, &c, false);
	ASSERT_NOT_NULL(t, h);
	ASSERT_GE(t, h->shm, 0);
	int seals = fcntl(h->shm, F_GET_SEALS);
	EXPECT_EQ(t, seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
		  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	/* A hostile peer shrinks the region: every other peer would die of SIGBUS. */
	int shrunk = ftruncate(h->shm, 0);
	int grown = ftruncate(h->shm, off_t(2 * SHM_SIZE));
	EXPECT_EQ(t, shrunk, -1);
	EXPECT_EQ(t, grown, -1);
	/* Only touched when still whole: the failure above must not kill the run. */
	if (shrunk == 0)
		(void)ftruncate(h->shm, off_t(SHM_SIZE));
	memset(c->mem(), 0x5a, c->mem_size());
	EXPECT_EQ(t, static_cast<u8 *>(c->mem())[c->mem_size() - 1], 0x5au);
}

void unsealed_memory(FakeServer &s)
{
	s.shm = make_memfd(SHM_SIZE, false);
	greet(s, s.shm);
	greet_own(s);
	hold(s);
}

void odd_sized_memory(FakeServer &s)
{
	s.shm = make_memfd(3 * 4096, true);
	greet(s, s.shm);
	greet_own(s);
	hold(s);
}

void sealed_memory(FakeServer &s)
{
	s.shm = make_memfd(SHM_SIZE, true);
	greet(s, s.shm);
	greet_own(s);
	hold(s);
}

void client_refuses_unsealed_or_odd_sized_memory(Test &t)
{
	const char *path = temp_sock(t);
	ASSERT_NOT_NULL(t, path);
	ASSERT_NOT_NULL(t, fake_server(t, path, &unsealed_memory));
	u64 since = log_seq();
	EXPECT_EQ(t, connect_client(t, path, nullptr), -EPROTO);
	EXPECT_TRUE(t, log_contains_since(since, "not sealed", KEEL_LOGLEVEL_ERR));

	const char *path2 = temp_sock(t);
	ASSERT_NOT_NULL(t, path2);
	ASSERT_NOT_NULL(t, fake_server(t, path2, &odd_sized_memory));
	since = log_seq();
	EXPECT_EQ(t, connect_client(t, path2, nullptr), -EPROTO);
	EXPECT_TRUE(t, log_contains_since(since, "12288", KEEL_LOGLEVEL_ERR));

	/* A client that says which size it wants refuses any other, and takes that one. */
	const char *path3 = temp_sock(t);
	ASSERT_NOT_NULL(t, path3);
	ASSERT_NOT_NULL(t, fake_server(t, path3, &sealed_memory));
	auto c = shmlink::Client::connect(path3, VECTORS, TIMEOUT, 2 * SHM_SIZE);
	EXPECT_ERR(t, c, -EPROTO);
	if (c.is_ok())
		delete c.value();
	const char *path4 = temp_sock(t);
	ASSERT_NOT_NULL(t, path4);
	ASSERT_NOT_NULL(t, fake_server(t, path4, &sealed_memory));
	c = shmlink::Client::connect(path4, VECTORS, TIMEOUT, SHM_SIZE);
	ASSERT_OK(t, c);
	EXPECT_EQ(t, c.value()->mem_size(), SHM_SIZE);
	delete c.value();
}

/* --- eventfds shared with a hostile peer --- */

struct RingArg {
	shmlink::Client *c;
	u32 id;
	int ret;
};

void ring_fn(void *p)
{
	auto *a = static_cast<RingArg *>(p);
	a->ret = a->c->ring(a->id).is_ok() ? 0 : -1;
}

/*
 * The peer we ring clears O_NONBLOCK on its eventfd (a flag of the file
 * description it shares with us) and saturates its counter: ring() must
 * still return at once ("a doorbell never sleeps"), and rings get through
 * again once the peer reads.
 */
void ring_returns_on_a_saturated_peer_that_cleared_nonblock(Test &t)
{
	shmlink::Client *c = nullptr;
	RawPeer *h = client_and_raw_peer(t, &c, true);
	ASSERT_NOT_NULL(t, h);
	for (u32 v = 0; v < VECTORS; v++) {
		ASSERT_EQ(t, fcntl(h->own[v], F_SETFL, 0), 0);
		u64 big = 0xfffffffffffffffeull;
		ASSERT_EQ(t, write(h->own[v], &big, sizeof(big)), ssize_t(sizeof(big)));
	}
	RingArg a = { c, 0, 1 };
	Bounded b = { &ring_fn, &a };
	ASSERT_TRUE(t, start_bounded(b));
	bool returned = wait_bounded(b, TIMEOUT);
	if (!returned)
		drain(h->own[0]); /* let the blocked write finish, so that the thread can be joined
				   */
	pthread_join(b.thread, nullptr);
	EXPECT_TRUE(t, returned);
	/* The peer reads again: the next ring reaches it. */
	drain(h->own[0]);
	ASSERT_OK(t, c->ring(0));
	struct pollfd pf = { h->own[0], POLLIN, 0 };
	EXPECT_EQ(t, poll(&pf, 1, 5000), 1);
}

/*
 * A ring() of ours that is slow (preempted, or slowed by a sanitizer) for
 * longer than the watchdog's tick is not one the peer holds: an honest
 * peer's counter always has room, so the write cannot be blocked, and the
 * count it adds (or has added) is the peer's wake-up. The watchdog must
 * leave it alone. The ringing thread is stopped inside ring() again and
 * again (a signal whose handler sleeps three ticks) while the peer does
 * not read: every ring that returned must be in its counter at the end.
 * Before the watchdog looked at the counter, it took the counter of every
 * ring it saw in flight for a tick, and the peer lost those wake-ups.
 */
struct SlowRinger {
	shmlink::Client *c;
	Atomic<bool> stop{ false };
	Atomic<bool> started{ false };
	u64 rung = 0;
	int failed = 0;
};

void slow_ring_handler(int)
{
	int saved = errno;
	struct timespec ts = { 0, 30 * 1000 * 1000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
	}
	errno = saved;
}

void slow_ring_fn(void *p)
{
	auto *r = static_cast<SlowRinger *>(p);
	r->started.store(true);
	while (!r->stop.load()) {
		if (r->c->ring(0).is_ok())
			r->rung++;
		else
			r->failed++;
	}
}

struct sigaction saved_sigusr1;

void restore_sigusr1(void *)
{
	sigaction(SIGUSR1, &saved_sigusr1, nullptr);
}

void slow_ring_keeps_its_count_at_an_honest_peer(Test &t)
{
	shmlink::Client *c = nullptr;
	RawPeer *h = client_and_raw_peer(t, &c, true);
	ASSERT_NOT_NULL(t, h);

	struct sigaction sa = {};
	sa.sa_handler = &slow_ring_handler;
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(t, sigaction(SIGUSR1, &sa, &saved_sigusr1), 0);
	if (t.add_cleanup(&restore_sigusr1, nullptr).is_error()) {
		restore_sigusr1(nullptr);
		ASSERT_TRUE(t, false);
	}

	SlowRinger r{ c };
	Bounded b = { &slow_ring_fn, &r };
	ASSERT_TRUE(t, start_bounded(b));
	s64 until = ktime_get_ns() + TIMEOUT;
	while (!r.started.load() && ktime_get_ns() < until)
		msleep(1);
	/* One at a time: a signal sent while the handler runs would merge with the pending one. */
	for (int i = 0; i < 12; i++) {
		msleep(45);
		pthread_kill(b.thread, SIGUSR1);
	}
	msleep(50);
	r.stop.store(true);
	bool returned = wait_bounded(b, TIMEOUT);
	if (returned)
		pthread_join(b.thread, nullptr);
	ASSERT_TRUE(t, returned);
	EXPECT_EQ(t, r.failed, 0);
	EXPECT_GT(t, r.rung, u64(0));
	u64 count = 0;
	EXPECT_EQ(t, read(h->own[0], &count, sizeof(count)), ssize_t(sizeof(count)));
	EXPECT_EQ(t, count, r.rung);
}

void delete_fn(void *p)
{
	delete static_cast<shmlink::Client *>(p);
}

/*
 * A peer holds our receive eventfds too (it rings us through them): it
 * clears O_NONBLOCK on them and takes a count our notification thread was
 * woken for before the thread reads it. The thread must not block in
 * read(), and the client must still go away when deleted. Deterministic:
 * the peer rings vectors 0 and 1, our handler for vector 0 (which the
 * thread runs before it reads vector 1) waits until the peer has taken
 * vector 1's count.
 */
struct DrainRace {
	Atomic<bool> in_handler{ false };
	Atomic<bool> taken{ false };
	static void handler(void *ctx, u32 id)
	{
		auto *d = static_cast<DrainRace *>(ctx);
		if (id != 0 || d->in_handler.exchange(true))
			return;
		s64 until = ktime_get_ns() + ms_to_ns(2000);
		while (!d->taken.load() && ktime_get_ns() < until)
			cpu_relax();
	}
};

void notification_thread_survives_a_peer_draining_our_eventfd(Test &t)
{
	const char *path = temp_sock(t);
	ASSERT_NOT_NULL(t, path);
	ASSERT_NOT_NULL(t, start_server(t, path));
	auto cr = shmlink::Client::connect(path, VECTORS, TIMEOUT);
	ASSERT_OK(t, cr);
	shmlink::Client *c = cr.value();
	DrainRace race;
	c->set_handler(&DrainRace::handler, &race);
	c->enable();
	RawPeer *h = raw_peer(t, path, true);
	bool ok_flags = h != nullptr;
	if (h) {
		for (u32 v = 0; v < VECTORS; v++)
			ok_flags &= fcntl(h->other_efd[v], F_SETFL, 0) == 0;
		u64 one = 1;
		(void)!write(h->other_efd[1], &one, sizeof(one));
		(void)!write(h->other_efd[0], &one, sizeof(one));
		s64 until = ktime_get_ns() + ms_to_ns(2000);
		while (!race.in_handler.load() && ktime_get_ns() < until)
			msleep(1);
		/* (The peer's own read must not block either: the client may have taken it.) */
		drain(h->other_efd[1]);
		race.taken.store(true);
	}
	msleep(50);
	Bounded b = { &delete_fn, c };
	bool started = start_bounded(b);
	bool returned = started && wait_bounded(b, TIMEOUT);
	if (started && !returned && h) {
		/* Unblock the stuck read() so that the thread can be joined. */
		u64 one = 1;
		(void)!write(h->other_efd[1], &one, sizeof(one));
	}
	if (started)
		pthread_join(b.thread, nullptr);
	else
		delete c;
	EXPECT_TRUE(t, ok_flags);
	EXPECT_TRUE(t, race.in_handler.load());
	EXPECT_TRUE(t, returned);
}

/*
 * The notification thread is the link's interrupt context: a handler (and
 * the peer-down callback) that would sleep must be caught there, as in a
 * hard IRQ, and only there may a handler spin before the thread sleeps.
 */
struct CtxSeen {
	Atomic<u32> calls{ 0 };
	Atomic<bool> atomic{ false };
	Atomic<bool> may_spin{ false };
	Atomic<bool> down_atomic{ false };
	static void handler(void *ctx, u32)
	{
		auto *s = static_cast<CtxSeen *>(ctx);
		s->atomic.store(keel_port_in_atomic() != 0);
		s->may_spin.store(keel_port_irq_may_spin() != 0);
		s->calls.fetch_add(1);
	}
	static void down(void *ctx)
	{
		auto *s = static_cast<CtxSeen *>(ctx);
		s->down_atomic.store(keel_port_in_atomic() != 0);
	}
};

void notification_thread_is_interrupt_context(Test &t)
{
	const char *path = temp_sock(t);
	ASSERT_NOT_NULL(t, path);
	ASSERT_NOT_NULL(t, start_server(t, path));
	shmlink::Client *a = nullptr;
	ASSERT_EQ(t, connect_client(t, path, &a), 0);
	CtxSeen seen;
	a->set_handler(&CtxSeen::handler, &seen);
	a->set_peer_down(&CtxSeen::down, &seen);
	a->enable();
	auto b = shmlink::Client::connect(path, VECTORS, TIMEOUT);
	ASSERT_OK(t, b);
	ASSERT_OK(t, a->wait_peer(TIMEOUT));
	ASSERT_OK(t, b.value()->wait_peer(TIMEOUT));
	ASSERT_OK(t, b.value()->ring(0));
	s64 until = ktime_get_ns() + TIMEOUT;
	while (!seen.calls.load() && ktime_get_ns() < until)
		msleep(1);
	delete b.value();
	while (!seen.down_atomic.load() && ktime_get_ns() < until)
		msleep(1);
	a->disable();
	EXPECT_EQ(t, seen.calls.load(), 1u);
	EXPECT_TRUE(t, seen.atomic.load());
	EXPECT_TRUE(t, seen.may_spin.load());
	EXPECT_TRUE(t, seen.down_atomic.load());
	/* Ordinary threads are neither. */
	EXPECT_FALSE(t, keel_port_in_atomic());
	EXPECT_FALSE(t, keel_port_irq_may_spin());
}

/* --- direct waits (Doorbell::wait()) --- */

/*
 * What a handler saw: which thread ran it (the direct waiter's, or the
 * notification thread), in which state, and whether two ever overlapped
 * (handlers of one doorbell run one at a time, as an IRQ line's). @seq is
 * the ringer's counter in the shared memory, read on each delivery.
 */
struct DirectSeen {
	pthread_t waiter;
	const u64 *seq = nullptr;
	Atomic<u32> calls{ 0 };
	Atomic<u32> here{ 0 };
	Atomic<u32> inside{ 0 };
	Atomic<u32> overlaps{ 0 };
	Atomic<u32> bad_state{ 0 };
	Atomic<u64> last{ 0 };
	static void handler(void *ctx, u32)
	{
		auto *s = static_cast<DirectSeen *>(ctx);
		if (s->inside.fetch_add(1) != 0)
			s->overlaps.fetch_add(1);
		bool here = pthread_equal(pthread_self(), s->waiter);
		/* Interrupt state in both; a spin only in the dedicated thread. */
		if (!keel_port_in_atomic() || (here && keel_port_irq_may_spin()))
			s->bad_state.fetch_add(1);
		if (s->seq) {
			u64 v = __atomic_load_n(s->seq, __ATOMIC_ACQUIRE);
			if (v > s->last.load())
				s->last.store(v);
		}
		if (here)
			s->here.fetch_add(1);
		s->inside.fetch_sub(1);
		s->calls.fetch_add(1);
	}
};

/* A server and two attached clients: @a receives (handler @seen, enabled), @b rings. */
bool direct_pair(Test &t, shmlink::Client **a, shmlink::Client **b, DirectSeen *seen)
{
	const char *path = temp_sock(t);
	if (!path || !start_server(t, path) || connect_client(t, path, a) ||
	    connect_client(t, path, b))
		return false;
	seen->waiter = pthread_self();
	(*a)->set_handler(&DirectSeen::handler, seen);
	(*a)->enable();
	return (*a)->wait_peer(TIMEOUT).is_ok() && (*b)->wait_peer(TIMEOUT).is_ok();
}

struct DirectCase {
	shmlink::Client *a = nullptr, *b = nullptr;
	DirectSeen seen;
};

/* Rings @b's peer @rings times, or (@wake_only) calls @b's wake_waiter() once, 20 ms in. */
struct Ringer {
	shmlink::Client *b = nullptr;
	bool wake_only = false;
	u64 *seq = nullptr;
	u32 rings = 0;
	/* Paced rings: ring i once the waiter says it sleeps for it (@want), else free-running. */
	Atomic<u32> want{ 0 };
	bool paced = false;
	Atomic<u32> done{ 0 };
	pthread_t thread;
	static void *run(void *arg)
	{
		auto *r = static_cast<Ringer *>(arg);
		if (r->wake_only) {
			msleep(20);
			r->b->wake_waiter();
			return nullptr;
		}
		s64 until = ktime_get_ns() + TIMEOUT;
		for (u32 i = 1; i <= r->rings && ktime_get_ns() < until; i++) {
			while (r->paced && r->want.load() < i && ktime_get_ns() < until)
				msleep(1);
			if (r->paced)
				msleep(2); /* let the waiter fall asleep */
			if (r->seq)
				__atomic_store_n(r->seq, u64(i), __ATOMIC_RELEASE);
			(void)r->b->ring(0);
			if (!r->paced && (i & 63) == 0)
				msleep(1);
			else
				sched_yield();
		}
		r->done.store(1);
		return nullptr;
	}
};

/*
 * A thread sleeping on the doorbell is woken by the peer's ring and runs
 * the handler itself, in interrupt state without the spin; only one
 * thread may be the direct waiter at a time.
 */
void direct_waiter_is_woken_by_the_ring_and_runs_the_handler(Test &t)
{
	shmlink::Client *a = nullptr, *b = nullptr;
	DirectSeen seen;
	ASSERT_TRUE(t, direct_pair(t, &a, &b, &seen));
	ASSERT_TRUE(t, a->wait_begin());
	EXPECT_FALSE(t, a->wait_begin());
	Ringer r;
	r.b = b;
	r.rings = 20;
	r.paced = true;
	ASSERT_EQ(t, pthread_create(&r.thread, nullptr, &Ringer::run, &r), 0);
	s64 until = ktime_get_ns() + TIMEOUT;
	for (u32 i = 1; i <= r.rings; i++) {
		r.want.store(i);
		while (seen.calls.load() < i && ktime_get_ns() < until)
			(void)a->wait(until);
	}
	pthread_join(r.thread, nullptr);
	a->wait_end();
	a->disable();
	EXPECT_EQ(t, seen.calls.load(), r.rings);
	/* Asleep when the ring came, the waiter is the one woken (the rest: see shmlink.h). */
	EXPECT_GE(t, seen.here.load(), 1u);
	EXPECT_EQ(t, seen.bad_state.load(), 0u);
	EXPECT_EQ(t, seen.overlaps.load(), 0u);
	EXPECT_FALSE(t, keel_port_in_atomic());
	/* Released: the next waiter may come. */
	EXPECT_TRUE(t, a->wait_begin());
	a->wait_end();
}

/*
 * Every direct wait ends: at its deadline with -ETIMEDOUT, at once for a
 * wake_waiter() that came before it, and on one that comes while it sleeps.
 */
void direct_wait_ends_at_its_deadline_or_a_wake(Test &t)
{
	DirectCase c;
	ASSERT_TRUE(t, direct_pair(t, &c.a, &c.b, &c.seen) && c.a->wait_begin());
	/* A wake before the sleep is not lost. */
	c.a->wake_waiter();
	s64 deadline = ktime_get_ns() + TIMEOUT;
	EXPECT_OK(t, c.a->wait(deadline));
	EXPECT_LT(t, ktime_get_ns(), deadline);
	/* Nothing comes: the deadline ends it. */
	deadline = ktime_get_ns() + ms_to_ns(20);
	EXPECT_ERR(t, c.a->wait(deadline), -ETIMEDOUT);
	EXPECT_GE(t, ktime_get_ns(), deadline);
	/* Nor is one lost that comes while it sleeps (20 ms in). */
	Ringer w;
	w.b = c.a;
	w.rings = 1;
	w.wake_only = true;
	ASSERT_EQ(t, pthread_create(&w.thread, nullptr, &Ringer::run, &w), 0);
	deadline = ktime_get_ns() + TIMEOUT;
	Result<void> r = c.a->wait(deadline);
	pthread_join(w.thread, nullptr);
	EXPECT_OK(t, r);
	EXPECT_LT(t, ktime_get_ns(), deadline);
	c.a->wait_end();
	/* Without a waiter, a wake is a no-op. */
	c.a->wake_waiter();
	c.a->disable();
	EXPECT_EQ(t, c.seen.calls.load(), 0u);
}

/*
 * Rings that come while the waiter sleeps, while it runs, and while there
 * is none (it comes and goes) are each taken by one thread: no two
 * handlers overlap, and the last ring is delivered (none is lost), by
 * the waiter and by the notification thread in turn.
 */
void rings_go_to_the_waiter_or_the_notification_thread(Test &t)
{
	shmlink::Client *a = nullptr, *b = nullptr;
	DirectSeen seen;
	ASSERT_TRUE(t, direct_pair(t, &a, &b, &seen));
	u64 *seq = static_cast<u64 *>(b->mem());
	seen.seq = static_cast<const u64 *>(a->mem());
	Ringer r;
	r.b = b;
	r.seq = seq;
	r.rings = 3000;
	ASSERT_EQ(t, pthread_create(&r.thread, nullptr, &Ringer::run, &r), 0);
	s64 until = ktime_get_ns() + TIMEOUT;
	while ((!r.done.load() || seen.last.load() < r.rings) && ktime_get_ns() < until) {
		/* A millisecond as the direct waiter, then one without. */
		if (a->wait_begin()) {
			s64 end = ktime_get_ns() + ms_to_ns(1);
			while (ktime_get_ns() < end)
				(void)a->wait(end);
			a->wait_end();
		}
		msleep(1);
	}
	pthread_join(r.thread, nullptr);
	a->disable();
	EXPECT_EQ(t, seen.last.load(), u64(r.rings));
	EXPECT_EQ(t, seen.overlaps.load(), 0u);
	EXPECT_EQ(t, seen.bad_state.load(), 0u);
	EXPECT_GE(t, seen.here.load(), 1u);
	EXPECT_GE(t, seen.calls.load() - seen.here.load(), 1u);
}

/* --- a client that never reads --- */

/*
 * A peer that never reads its socket: every connect and disconnect of
 * another peer sends it messages until its socket buffer is full. The
 * server must drop it rather than block, and keep serving everybody
 * else: 300 honest connect/disconnect cycles all succeed.
 */
void server_keeps_serving_past_a_client_that_never_reads(Test &t)
{
	const char *path = temp_sock(t);
	ASSERT_NOT_NULL(t, path);
	ASSERT_NOT_NULL(t, start_server(t, path));
	int mute = raw_connect(path);
	ASSERT_GE(t, mute, 0);
	ASSERT_OK(t, t.add_cleanup([](void *p) { close(int(reinterpret_cast<uintptr_t>(p))); },
				   reinterpret_cast<void *>(uintptr_t(mute))));
	u32 cycles = 0;
	for (; cycles < 300; cycles++) {
		auto c = shmlink::Client::connect(path, VECTORS, ms_to_ns(2000));
		if (c.is_error())
			break;
		delete c.value();
	}
	EXPECT_EQ(t, cycles, 300u);
}

/* --- protocol violations by the server --- */

void negative_id_then_real_peer(FakeServer &s)
{
	s.shm = make_memfd(SHM_SIZE, true);
	greet(s, s.shm);
	greet_own(s);
	/* A negative id with an fd, an id past 16 bits, then a real peer 7. */
	s.extra = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	(void)shmlink::send_msg(s.conn, -5, s.extra);
	(void)shmlink::send_msg(s.conn, 70000, s.extra);
	for (u32 v = 0; v < VECTORS; v++) {
		s.peer[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		(void)shmlink::send_msg(s.conn, 7, s.peer[v]);
	}
	/* Then a flood of bad messages: the log must stay readable. */
	for (int i = 0; i < 200; i++)
		(void)shmlink::send_msg(s.conn, -2 - i, s.extra);
	hold(s);
}

void client_refuses_negative_and_out_of_range_ids(Test &t)
{
	const char *path = temp_sock(t);
	ASSERT_NOT_NULL(t, path);
	FakeServer *s = fake_server(t, path, &negative_id_then_real_peer);
	ASSERT_NOT_NULL(t, s);
	u64 since = log_seq();
	shmlink::Client *c = nullptr;
	ASSERT_EQ(t, connect_client(t, path, &c), 0);
	auto p = c->wait_peer(TIMEOUT);
	ASSERT_OK(t, p);
	EXPECT_EQ(t, p.value(), 7);
	/* Ringing vector 0 reaches peer 7's own eventfd, not the negative id's. */
	ASSERT_OK(t, c->ring(0));
	struct pollfd pf = { s->peer[0], POLLIN, 0 };
	EXPECT_EQ(t, poll(&pf, 1, 5000), 1);
	pf.fd = s->extra;
	EXPECT_EQ(t, poll(&pf, 1, 0), 0);
	/* 202 bad messages: logged, but rate-limited. */
	msleep(100);
	EXPECT_TRUE(t, log_contains_since(since, "peer id", KEEL_LOGLEVEL_WARNING));
	EXPECT_LE(t, log_seq() - since, 20u);
}

void split_version(FakeServer &s)
{
	/* The version message in two pieces (a stream may cut anywhere). */
	u8 zero[8] = {};
	(void)!write(s.conn, zero, 3);
	msleep(20);
	(void)!write(s.conn, zero + 3, 5);
	(void)shmlink::send_msg(s.conn, 3, -1);
	s.shm = make_memfd(SHM_SIZE, true);
	(void)shmlink::send_msg(s.conn, -1, s.shm);
	greet_own(s);
	hold(s);
}

void truncated_then_silent(FakeServer &s)
{
	/* Half a message, then nothing (the connection stays open). */
	u8 zero[8] = {};
	(void)!write(s.conn, zero, 4);
	hold(s);
}

void truncated_then_closed(FakeServer &s)
{
	/* Half a message, then the server goes away. */
	u8 zero[8] = {};
	(void)!write(s.conn, zero, 4);
	close(s.conn);
	s.conn = -1;
}

void split_message_is_reassembled_and_truncated_one_refused(Test &t)
{
	const char *path = temp_sock(t);
	ASSERT_NOT_NULL(t, path);
	ASSERT_NOT_NULL(t, fake_server(t, path, &split_version));
	shmlink::Client *c = nullptr;
	EXPECT_EQ(t, connect_client(t, path, &c), 0);

	/* The rest of a message that never comes: connect() keeps its deadline. */
	const char *path2 = temp_sock(t);
	ASSERT_NOT_NULL(t, path2);
	ASSERT_NOT_NULL(t, fake_server(t, path2, &truncated_then_silent));
	EXPECT_EQ(t, connect_client(t, path2, nullptr, ms_to_ns(200)), -ETIMEDOUT);

	const char *path3 = temp_sock(t);
	ASSERT_NOT_NULL(t, path3);
	ASSERT_NOT_NULL(t, fake_server(t, path3, &truncated_then_closed));
	EXPECT_EQ(t, connect_client(t, path3, nullptr), -EIO);
}

void descriptor_with_version(FakeServer &s)
{
	s.extra = eventfd(0, EFD_CLOEXEC);
	(void)shmlink::send_msg(s.conn, 0, s.extra);
	hold(s);
}

void two_descriptors_and_strays(FakeServer &s)
{
	s.shm = make_memfd(SHM_SIZE, true);
	(void)shmlink::send_msg(s.conn, 0, -1);
	(void)shmlink::send_msg(s.conn, 3, -1);
	/* The memory with a second, unwanted fd. */
	s.extra = eventfd(0, EFD_CLOEXEC);
	int two[2] = { s.shm, s.extra };
	(void)send_fds(s.conn, -1, two, 2);
	greet_own(s);
	/* A disconnect of a peer nobody knows, and our own id again with an fd. */
	(void)shmlink::send_msg(s.conn, 9, -1);
	(void)shmlink::send_msg(s.conn, 3, s.extra);
	hold(s);
}

void unexpected_descriptors_are_refused_and_closed(Test &t)
{
	int before = open_fds();
	{
		const char *path = temp_sock(t);
		ASSERT_NOT_NULL(t, path);
		ASSERT_NOT_NULL(t, fake_server(t, path, &descriptor_with_version));
		EXPECT_EQ(t, connect_client(t, path, nullptr), -EPROTO);
	}
	const char *path2 = temp_sock(t);
	ASSERT_NOT_NULL(t, path2);
	FakeServer *s = fake_server(t, path2, &two_descriptors_and_strays);
	ASSERT_NOT_NULL(t, s);
	shmlink::Client *c = nullptr;
	ASSERT_EQ(t, connect_client(t, path2, &c), 0);
	msleep(50);
	/* Still a working client: no peer, no crash. */
	EXPECT_FALSE(t, c->peer_alive());
	EXPECT_ERR(t, c->ring(0), -EPIPE);
	/*
	 * Every fd the client was sent and did not keep is closed: what is
	 * open now is the client's own (socket, 2 eventfds, a stop and a
	 * kick eventfd, two epoll sets), the second fake server's (listen, connection,
	 * memfd, 2 eventfds, the extra one) and the first one's (listen,
	 * connection, the extra one), both kept until the case ends.
	 */
	int now = open_fds();
	EXPECT_LE(t, now - before, 3 + 6 + 7);
}

/* A peer-down callback that takes its time, as one that lost the CPU would. */
struct SlowDown {
	Atomic<u32> calls{ 0 };
	Atomic<bool> returned{ false };
	static void fn(void *ctx)
	{
		SlowDown *d = static_cast<SlowDown *>(ctx);
		d->calls.fetch_add(1);
		/* Interrupt context: spin rather than sleep. */
		s64 until = ktime_get_ns() + ms_to_ns(100);
		while (ktime_get_ns() < until)
			cpu_relax();
		d->returned.store(true);
	}
};

/*
 * The client marks its peer gone, then calls the peer-down callback: a
 * platform that waits for peer_alive() to turn false and starts the next
 * peer can get the old one's peer-down in the middle of the new one's
 * boot. wait_peer_gone() returns only once that callback has returned.
 */
void wait_peer_gone_waits_for_the_peer_down_callback(Test &t)
{
	const char *path = temp_sock(t);
	ASSERT_NOT_NULL(t, path);
	ASSERT_NOT_NULL(t, start_server(t, path));
	shmlink::Client *a = nullptr;
	ASSERT_EQ(t, connect_client(t, path, &a), 0);
	static SlowDown down;
	down.calls.store(0);
	down.returned.store(false);
	a->set_peer_down(&SlowDown::fn, &down);
	a->enable();
	/* No peer yet: nothing to wait for. */
	EXPECT_OK(t, a->wait_peer_gone(0));
	auto b = shmlink::Client::connect(path, VECTORS, TIMEOUT);
	ASSERT_OK(t, b);
	ASSERT_OK(t, a->wait_peer(TIMEOUT));
	EXPECT_ERR(t, a->wait_peer_gone(ms_to_ns(20)), -ETIMEDOUT);
	delete b.value();
	ASSERT_OK(t, a->wait_peer_gone(TIMEOUT));
	/* Gone, and its peer-down delivered once and finished. */
	EXPECT_FALSE(t, a->peer_alive());
	EXPECT_EQ(t, down.calls.load(), 1u);
	EXPECT_TRUE(t, down.returned.load());
	a->disable();
	a->set_peer_down(nullptr, nullptr);
}

const TestCase shmlink_cases[] = {
	KEEL_CASE(server_memory_is_sealed_against_resizing),
	KEEL_CASE(client_refuses_unsealed_or_odd_sized_memory),
	KEEL_CASE(ring_returns_on_a_saturated_peer_that_cleared_nonblock),
	KEEL_CASE(slow_ring_keeps_its_count_at_an_honest_peer),
	KEEL_CASE(notification_thread_survives_a_peer_draining_our_eventfd),
	KEEL_CASE(notification_thread_is_interrupt_context),
	KEEL_CASE(direct_waiter_is_woken_by_the_ring_and_runs_the_handler),
	KEEL_CASE(direct_wait_ends_at_its_deadline_or_a_wake),
	KEEL_CASE(rings_go_to_the_waiter_or_the_notification_thread),
	KEEL_CASE(server_keeps_serving_past_a_client_that_never_reads),
	KEEL_CASE(client_refuses_negative_and_out_of_range_ids),
	KEEL_CASE(split_message_is_reassembled_and_truncated_one_refused),
	KEEL_CASE(unexpected_descriptors_are_refused_and_closed),
	KEEL_CASE(wait_peer_gone_waits_for_the_peer_down_callback),
	{},
};

const TestSuite shmlink_suite = {
	.name = "shmlink",
	.cases = shmlink_cases,
	.init = nullptr,
	.exit = nullptr,
	.suite_init = suite_init,
	.suite_exit = suite_exit,
};

} // namespace

KEEL_TEST_SUITE(shmlink_suite);
