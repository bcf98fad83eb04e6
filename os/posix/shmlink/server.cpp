// SPDX-License-Identifier: GPL-2.0
/*
 * shmlink server: QEMU's ivshmem-server protocol (version 0). See shmlink.h.
 * No Debian package ships an ivshmem-server; this one is small enough to be
 * the hosted tests' broker and a QEMU guest's (-chardev socket,path=...).
 *
 * One thread serves everybody, so no peer may stall it: every socket is
 * non-blocking (the server's own file descriptions: no peer can change
 * that), every send has a deadline, and a peer that does not take its
 * messages in time is dropped like one that disconnected. The shared
 * memory is a memfd sealed against shrinking and growing, so no peer can
 * resize it under the others (a shrunk region is SIGBUS on access).
 */
#include "shmlink.h"
#include "shmlink_internal.h"

#include <keel/log.h>

#include <fcntl.h>
#include <keel/time.h>
#include <poll.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/un.h>

namespace shmlink {

using keel::err;
using keel::ok;

Result<Server *> Server::create(const char *path, size_t shm_size, u32 vectors)
{
	if (!path || strlen(path) >= sizeof(sockaddr_un::sun_path) ||
	    !keel::is_power_of_2(shm_size) || vectors == 0 || vectors > SHMLINK_MAX_VECTORS) {
		pr_err("shmlink: server: bad arguments (size %zu must be a power of two, 1..%u "
		       "vectors)",
		       shm_size, SHMLINK_MAX_VECTORS);
		return err(-EINVAL);
	}
	Server *s = new (GFP_KERNEL) Server();
	if (!s)
		return err(-ENOMEM);
	keel::ScopeGuard fail([&] { delete s; });
	snprintf(s->m_path, sizeof(s->m_path), "%s", path);
	s->m_shm_size = shm_size;
	s->m_vectors = vectors;

	s->m_shm_fd = memfd_create("keel-shmlink", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (s->m_shm_fd < 0 || ftruncate(s->m_shm_fd, off_t(shm_size)) < 0 ||
	    fcntl(s->m_shm_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		pr_err("shmlink: server: sealed shared memory of %zu bytes: %s", shm_size,
		       strerror(errno));
		return err(-ENOMEM);
	}
	s->m_stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->m_listen = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->m_stop_efd < 0 || s->m_listen < 0)
		return err(-errno);
	struct sockaddr_un addr = {};
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	unlink(path);
	if (bind(s->m_listen, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) < 0 ||
	    listen(s->m_listen, 8) < 0) {
		int e = errno;
		pr_err("shmlink: server: listen on %s: %s", path, strerror(e));
		return err(-e);
	}
	fail.disarm();
	return s;
}

Server::~Server()
{
	stop();
	if (m_thread_started)
		pthread_join(m_thread, nullptr);
	while (m_npeers)
		drop_peer(m_npeers - 1);
	if (m_listen >= 0) {
		close(m_listen);
		unlink(m_path);
	}
	if (m_shm_fd >= 0)
		close(m_shm_fd);
	if (m_stop_efd >= 0)
		close(m_stop_efd);
}

void Server::stop()
{
	u64 one = 1;
	if (m_stop_efd >= 0)
		(void)!write(m_stop_efd, &one, sizeof(one));
}

void *Server::thread_fn(void *arg)
{
	static_cast<Server *>(arg)->run();
	return nullptr;
}

Result<void> Server::start()
{
	if (pthread_create(&m_thread, nullptr, &thread_fn, this) != 0)
		return err(-ENOMEM);
	m_thread_started = true;
	return ok();
}

/* Ids stay in the 16 bits the ivshmem doorbell register carries, and unique among live peers. */
s64 Server::next_id()
{
	for (;;) {
		s64 id = m_next_id;
		m_next_id = m_next_id == SHMLINK_MAX_ID ? 0 : m_next_id + 1;
		bool used = false;
		for (u32 i = 0; i < m_npeers; i++)
			used |= m_peers[i].id == id;
		if (!used)
			return id;
	}
}

/* A send to @p that gives up at @deadline: the peer is then marked dead, to be dropped. */
bool Server::send_to(Peer &p, s64 v, int fd, s64 deadline)
{
	if (p.dead)
		return false;
	int e = send_msg(p.sock, v, fd, deadline);
	if (e) {
		if (e == -ETIMEDOUT)
			pr_warn_ratelimited(
				"shmlink: server: peer %lld does not read its socket: dropped",
				(long long)p.id);
		p.dead = true;
	}
	return !e;
}

bool Server::send_greeting(Peer &p)
{
	s64 deadline = keel::ktime_get_ns() + SEND_TIMEOUT_NS;
	/* version, own id, -1 + shared memory */
	if (!send_to(p, IVSHMEM_PROTOCOL_VERSION, -1, deadline) ||
	    !send_to(p, p.id, -1, deadline) || !send_to(p, -1, m_shm_fd, deadline))
		return false;
	/* every other peer's vectors, then our own */
	for (u32 i = 0; i < m_npeers; i++) {
		const Peer &o = m_peers[i];
		if (o.id == p.id || o.dead)
			continue;
		for (u32 v = 0; v < m_vectors; v++)
			if (!send_to(p, o.id, o.efd[v], deadline))
				return false;
	}
	for (u32 v = 0; v < m_vectors; v++)
		if (!send_to(p, p.id, p.efd[v], deadline))
			return false;
	return true;
}

void Server::accept_peer()
{
	int sock = accept4(m_listen, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (sock < 0)
		return;
	if (m_npeers >= SHMLINK_MAX_PEERS) {
		pr_warn_ratelimited("shmlink: server: too many peers, refusing one");
		close(sock);
		return;
	}
	Peer &p = m_peers[m_npeers];
	p = Peer();
	p.id = next_id();
	p.sock = sock;
	for (u32 v = 0; v < m_vectors; v++)
		p.efd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	m_npeers++;
	for (u32 v = 0; v < m_vectors; v++)
		if (p.efd[v] < 0)
			p.dead = true;
	if (p.dead || !send_greeting(p))
		return; /* reaped by the caller */
	/* Tell the others: the new peer's id once per vector, with its eventfds. */
	for (u32 i = 0; i + 1 < m_npeers; i++) {
		s64 deadline = keel::ktime_get_ns() + SEND_TIMEOUT_NS;
		for (u32 v = 0; v < m_vectors; v++)
			if (!send_to(m_peers[i], p.id, p.efd[v], deadline))
				break;
	}
	pr_info("shmlink: server: peer %lld connected", (long long)p.id);
}

void Server::drop_peer(u32 slot)
{
	Peer p = m_peers[slot];
	m_peers[slot] = m_peers[m_npeers - 1];
	m_npeers--;
	close(p.sock);
	for (u32 v = 0; v < m_vectors; v++)
		if (p.efd[v] >= 0)
			close(p.efd[v]);
	/* A peer id without an fd: it is gone (the crash signal). */
	for (u32 i = 0; i < m_npeers; i++)
		(void)send_to(m_peers[i], p.id, -1, keel::ktime_get_ns() + SEND_TIMEOUT_NS);
	pr_info("shmlink: server: peer %lld disconnected", (long long)p.id);
}

/* Drops every peer marked dead (dropping one may mark others that do not read). */
void Server::reap()
{
	for (bool again = true; again;) {
		again = false;
		for (u32 i = m_npeers; i-- > 0;) {
			if (m_peers[i].dead) {
				drop_peer(i);
				again = true;
				break;
			}
		}
	}
}

void Server::run()
{
	for (;;) {
		struct pollfd pfd[SHMLINK_MAX_PEERS + 2];
		pfd[0] = { m_stop_efd, POLLIN, 0 };
		pfd[1] = { m_listen, POLLIN, 0 };
		u32 n = m_npeers;
		for (u32 i = 0; i < n; i++)
			pfd[2 + i] = { m_peers[i].sock, POLLIN, 0 };
		if (!poll_or_stop(pfd, 2 + n))
			return;
		/* Clients never send: readable means closed (or garbage: drop it too). */
		for (u32 i = 0; i < n; i++) {
			if (pfd[2 + i].revents)
				m_peers[i].dead = true;
		}
		reap();
		if (pfd[1].revents & POLLIN) {
			accept_peer();
			reap();
		}
	}
}

} // namespace shmlink
