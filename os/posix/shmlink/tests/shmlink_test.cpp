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

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
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

void delete_client(void *p) { delete static_cast<shmlink::Client *>(p); }

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
	const int fds[] = { r->sock, r->shm, r->own[0], r->own[1], r->other_efd[0], r->other_efd[1] };
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
		s64 v;
		int fd;
		int got = shmlink::recv_msg(r->sock, &v, &fd);
		if (got <= 0)
			return nullptr;
		if (i == 1)
			r->id = v;
		else if (i == 2)
			r->shm = fd;
		else if (i > 2 && v == r->id && nown < VECTORS)
			r->own[nown++] = fd;
		else if (i > 2 && fd >= 0 && (r->other < 0 || v == r->other) && r->nother < VECTORS) {
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
	if (t.add_cleanup([](void *p) { delete static_cast<shmlink::Server *>(p); }, s.value()).is_error()) {
		delete s.value();
		return nullptr;
	}
	if (s.value()->start().is_error())
		return nullptr;
	return s.value();
}

int suite_init()
{
	log_set_echo(false);
	return 0;
}
void suite_exit() { log_set_echo(true); }

/* --- the shared memory --- */

void server_memory_is_sealed_against_resizing(Test &t)
{
	const char *path = temp_sock(t);
	ASSERT_NOT_NULL(t, path);
	ASSERT_NOT_NULL(t, start_server(t, path));
	shmlink::Client *c = nullptr;
	ASSERT_EQ(t, connect_client(t, path, &c), 0);
	RawPeer *h = raw_peer(t, path, false);
	ASSERT_NOT_NULL(t, h);
	ASSERT_GE(t, h->shm, 0);
	int seals = fcntl(h->shm, F_GET_SEALS);
	EXPECT_EQ(t, seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
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

const TestCase shmlink_cases[] = {
	KEEL_CASE(server_memory_is_sealed_against_resizing),
	KEEL_CASE(server_keeps_serving_past_a_client_that_never_reads),
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
