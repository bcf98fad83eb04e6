// SPDX-License-Identifier: GPL-2.0
/*
 * shmlink client: one peer of an ivshmem-server link. See shmlink.h.
 *
 * The notification thread is the link's interrupt context: it calls the
 * doorbell handler for each vector that fired and the peer-down callback
 * when the adopted peer disconnects (or the server goes away).
 */
#include "shmlink.h"
#include "shmlink_internal.h"

#include <keel/log.h>
#include <keel/time.h>

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

namespace shmlink {

using keel::err;
using keel::ok;

namespace {

int connect_retry(const char *path, s64 timeout_ns)
{
	struct sockaddr_un addr = {};
	if (strlen(path) >= sizeof(addr.sun_path))
		return -EINVAL;
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	s64 deadline = keel::ktime_get_ns() + timeout_ns;
	for (;;) {
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0)
			return -errno;
		if (connect(s, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) == 0)
			return s;
		int e = errno;
		close(s);
		if ((e != ENOENT && e != ECONNREFUSED) || keel::ktime_get_ns() >= deadline)
			return -e;
		keel::msleep(5);
	}
}

/* Waits until @fd is readable; -ETIMEDOUT at @deadline. */
int wait_readable(int fd, s64 deadline)
{
	for (;;) {
		s64 left = deadline - keel::ktime_get_ns();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd p = { fd, POLLIN, 0 };
		int r = poll(&p, 1, int(left / 1000000 + 1));
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

} // namespace

constexpr keel::DoorbellOps Client::s_ops = {
	.ring = &Client::ring_op,
	.peer_alive = &Client::peer_alive_op,
};

Client::Client() : Doorbell(s_ops) {}

Result<Client *> Client::connect(const char *path, u32 vectors, s64 timeout_ns)
{
	if (vectors == 0 || vectors > SHMLINK_MAX_VECTORS)
		return err(-EINVAL);
	Client *c = new (GFP_KERNEL) Client();
	if (!c)
		return err(-ENOMEM);
	keel::ScopeGuard fail([&] { delete c; });
	c->m_vectors = vectors;
	c->m_stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->m_stop_efd < 0)
		return err(-errno);
	int s = connect_retry(path, timeout_ns);
	if (s < 0) {
		pr_err("shmlink: connect to %s: %s", path, strerror(-s));
		return err(s);
	}
	c->m_sock = s;
	TRY(c->read_greeting(timeout_ns));
	if (pthread_create(&c->m_thread, nullptr, &thread_fn, c) != 0)
		return err(-ENOMEM);
	c->m_thread_started = true;
	fail.disarm();
	return c;
}

Result<void> Client::read_greeting(s64 timeout_ns)
{
	s64 deadline = keel::ktime_get_ns() + timeout_ns;
	s64 v[2];
	int shm = -1;
	/* version, id, -1 + shared memory */
	for (int i = 0; i < 3; i++) {
		int fd = -1;
		if (int e = wait_readable(m_sock, deadline))
			return err(e);
		int r = recv_msg(m_sock, i < 2 ? &v[i] : &v[0], &fd);
		if (r <= 0)
			return err(r < 0 ? r : -EPIPE);
		if (i == 0 && (v[0] != IVSHMEM_PROTOCOL_VERSION || fd >= 0)) {
			pr_err("shmlink: server speaks protocol %lld, not %lld", (long long)v[0],
			       (long long)IVSHMEM_PROTOCOL_VERSION);
			if (fd >= 0)
				close(fd);
			return err(-EPROTO);
		}
		if (i == 1 && (v[1] < 0 || fd >= 0)) {
			if (fd >= 0)
				close(fd);
			return err(-EPROTO);
		}
		if (i == 2) {
			if (v[0] != -1 || fd < 0) {
				if (fd >= 0)
					close(fd);
				return err(-EPROTO);
			}
			shm = fd;
		}
	}
	m_id = v[1];
	struct stat st;
	if (fstat(shm, &st) < 0 || st.st_size <= 0) {
		close(shm);
		return err(-EPROTO);
	}
	m_mem_size = size_t(st.st_size);
	m_mem = mmap(nullptr, m_mem_size, PROT_READ | PROT_WRITE, MAP_SHARED, shm, 0);
	close(shm);
	if (m_mem == MAP_FAILED) {
		m_mem = nullptr;
		return err(-ENOMEM);
	}
	/* Peers' vectors, then our own N: done when we have all of ours. */
	while (m_nown < m_vectors) {
		int fd = -1;
		s64 id = 0;
		if (int e = wait_readable(m_sock, deadline))
			return err(e);
		int r = recv_msg(m_sock, &id, &fd);
		if (r <= 0)
			return err(r < 0 ? r : -EPIPE);
		TRY(handle_msg(id, fd));
	}
	return ok();
}

Result<void> Client::handle_msg(s64 id, int fd)
{
	if (id == m_id) {
		if (fd < 0 || m_nown >= m_vectors) {
			if (fd >= 0)
				close(fd);
			return err(-EPROTO);
		}
		m_own[m_nown++] = fd;
		return ok();
	}
	pthread_mutex_lock(&m_lock);
	u32 slot = SHMLINK_MAX_PEERS;
	for (u32 i = 0; i < SHMLINK_MAX_PEERS; i++)
		if (m_peers[i].id == id)
			slot = i;
	if (fd < 0) {
		/* Disconnected. */
		bool was_ours = id == m_peer;
		if (slot < SHMLINK_MAX_PEERS) {
			for (u32 v = 0; v < m_peers[slot].nfds; v++)
				close(m_peers[slot].efd[v]);
			m_peers[slot] = PeerFds();
		}
		if (was_ours) {
			m_peer = -1;
			adopt_peer_locked();
		}
		pthread_cond_broadcast(&m_cond);
		pthread_mutex_unlock(&m_lock);
		if (was_ours)
			deliver_peer_down();
		return ok();
	}
	if (slot == SHMLINK_MAX_PEERS) {
		for (u32 i = 0; i < SHMLINK_MAX_PEERS && slot == SHMLINK_MAX_PEERS; i++)
			if (m_peers[i].id < 0)
				slot = i;
	}
	if (slot == SHMLINK_MAX_PEERS || m_peers[slot].nfds >= m_vectors) {
		pthread_mutex_unlock(&m_lock);
		close(fd);
		return ok(); /* table full or more vectors than configured: ignore */
	}
	m_peers[slot].id = id;
	m_peers[slot].efd[m_peers[slot].nfds++] = fd;
	if (m_peer < 0)
		adopt_peer_locked();
	pthread_cond_broadcast(&m_cond);
	pthread_mutex_unlock(&m_lock);
	return ok();
}

void Client::adopt_peer_locked()
{
	for (u32 i = 0; i < SHMLINK_MAX_PEERS; i++) {
		if (m_peers[i].id >= 0 && m_peers[i].nfds == m_vectors) {
			m_peer = m_peers[i].id;
			m_peer_gen++;
			return;
		}
	}
}

Client::~Client()
{
	u64 one = 1;
	if (m_stop_efd >= 0)
		(void)!write(m_stop_efd, &one, sizeof(one));
	if (m_thread_started)
		pthread_join(m_thread, nullptr);
	if (m_sock >= 0)
		close(m_sock);
	for (u32 i = 0; i < m_nown; i++)
		close(m_own[i]);
	for (auto &p : m_peers)
		for (u32 v = 0; v < p.nfds; v++)
			close(p.efd[v]);
	if (m_mem)
		munmap(m_mem, m_mem_size);
	if (m_stop_efd >= 0)
		close(m_stop_efd);
	pthread_mutex_destroy(&m_lock);
	pthread_cond_destroy(&m_cond);
}

Result<s64> Client::wait_peer(s64 timeout_ns)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s64 deadline = keel::ktime_get_ns() + timeout_ns;
	pthread_mutex_lock(&m_lock);
	while (m_peer < 0 && !m_server_gone) {
		s64 left = deadline - keel::ktime_get_ns();
		if (left <= 0)
			break;
		/* The condvar uses CLOCK_REALTIME: wait in short slices instead of converting clocks. */
		clock_gettime(CLOCK_REALTIME, &ts);
		s64 slice = left < 10000000 ? left : 10000000;
		ts.tv_nsec += long(slice);
		ts.tv_sec += ts.tv_nsec / 1000000000;
		ts.tv_nsec %= 1000000000;
		pthread_cond_timedwait(&m_cond, &m_lock, &ts);
	}
	s64 peer = m_peer;
	bool gone = m_server_gone;
	pthread_mutex_unlock(&m_lock);
	if (peer >= 0)
		return peer;
	return err(gone ? -EPIPE : -ETIMEDOUT);
}

u32 Client::peer_generation() const
{
	pthread_mutex_lock(&m_lock);
	u32 g = m_peer_gen;
	pthread_mutex_unlock(&m_lock);
	return g;
}

bool Client::peer_alive_op(const keel::Doorbell &db)
{
	const Client &c = static_cast<const Client &>(db);
	pthread_mutex_lock(&c.m_lock);
	bool alive = c.m_peer >= 0;
	pthread_mutex_unlock(&c.m_lock);
	return alive;
}

Result<void> Client::ring_vector(s64 peer, u32 vector)
{
	if (vector >= m_vectors)
		return err(-EINVAL);
	u64 one = 1;
	int ret = -EPIPE;
	pthread_mutex_lock(&m_lock);
	for (auto &p : m_peers) {
		if (p.id != peer || vector >= p.nfds)
			continue;
		/* An eventfd write only fails when the counter would overflow: the peer is not reading. */
		ret = write(p.efd[vector], &one, sizeof(one)) == ssize_t(sizeof(one)) ? 0 : -EIO;
		break;
	}
	pthread_mutex_unlock(&m_lock);
	return keel::to_result(ret);
}

Result<void> Client::ring_op(keel::Doorbell &db, u32 notifyid)
{
	Client &c = static_cast<Client &>(db);
	u32 vector = notifyid < c.m_vectors - 1 ? notifyid : c.m_vectors - 1;
	pthread_mutex_lock(&c.m_lock);
	s64 peer = c.m_peer;
	pthread_mutex_unlock(&c.m_lock);
	if (peer < 0)
		return err(-EPIPE);
	return c.ring_vector(peer, vector);
}

void *Client::thread_fn(void *arg)
{
	static_cast<Client *>(arg)->thread_loop();
	return nullptr;
}

void Client::thread_loop()
{
	for (;;) {
		struct pollfd pfd[SHMLINK_MAX_VECTORS + 2];
		pfd[0] = { m_stop_efd, POLLIN, 0 };
		pfd[1] = { m_server_gone ? -1 : m_sock, POLLIN, 0 };
		for (u32 v = 0; v < m_nown; v++)
			pfd[2 + v] = { m_own[v], POLLIN, 0 };
		if (poll(pfd, 2 + m_nown, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (pfd[0].revents)
			return;
		for (u32 v = 0; v < m_nown; v++) {
			u64 cnt;
			if (!(pfd[2 + v].revents & POLLIN) || read(m_own[v], &cnt, sizeof(cnt)) != ssize_t(sizeof(cnt)))
				continue;
			deliver(v == m_vectors - 1 ? keel::DOORBELL_ANY : v);
		}
		if (pfd[1].revents) {
			s64 id = 0;
			int fd = -1;
			int r = recv_msg(m_sock, &id, &fd);
			if (r > 0) {
				if (handle_msg(id, fd).is_error())
					pr_warn("shmlink: client %lld: unexpected message %lld", (long long)m_id,
						(long long)id);
				continue;
			}
			/* The server is gone: so is every peer, as far as we can know. */
			pthread_mutex_lock(&m_lock);
			m_server_gone = true;
			bool had_peer = m_peer >= 0;
			m_peer = -1;
			pthread_cond_broadcast(&m_cond);
			pthread_mutex_unlock(&m_lock);
			if (had_peer)
				deliver_peer_down();
		}
	}
}

} // namespace shmlink
