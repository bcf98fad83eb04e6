// SPDX-License-Identifier: GPL-2.0
/*
 * shmlink client: one peer of an ivshmem-server link. See shmlink.h.
 *
 * Two threads of ours:
 *  - the notification thread is the link's interrupt context (a threaded
 *    IRQ handler: keel_posix_threaded_irq_enter(), so that sleeping there is
 *    caught as in a hard IRQ, and a handler may spin briefly before the
 *    thread sleeps): it calls the doorbell handler for each vector that
 *    fired (unless a direct waiter, Doorbell::wait(), took the ring: see
 *    shmlink.h) and the peer-down callback when the adopted peer
 *    disconnects (or the server goes away), and reads the server's
 *    messages;
 *  - the watchdog wakes every tick and releases a ring() whose write has
 *    been stuck for a whole tick (a peer that saturated its counter in the
 *    instant after ring() checked it) by taking that counter: we hold the
 *    eventfd too.
 * Neither can be held by a peer: every wait has the stop eventfd in its
 * poll set or a deadline, and no read blocks whatever O_NONBLOCK says.
 */
#include "shmlink.h"
#include "shmlink_internal.h"

#include <keel/log.h>
#include <keel/posix.h>
#include <keel/time.h>

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>

namespace shmlink {

using keel::err;
using keel::ok;

namespace {

/* How long a message that has begun may take to arrive whole. */
constexpr s64 MSG_TIMEOUT_NS = 1000 * 1000 * 1000;
/* The watchdog's tick: a peer can hold a ring() it races for one to two ticks. */
constexpr int WATCHDOG_TICK_MS = 10;
/* epoll tags past the vectors (0..SHMLINK_MAX_VECTORS-1). */
constexpr u32 TAG_STOP = 0x10000;
constexpr u32 TAG_SOCK = 0x10001;
constexpr u32 TAG_KICK = 0x10002;

int epoll_add(int ep, int fd, u32 events, u32 tag)
{
	struct epoll_event ev = {};
	ev.events = events;
	ev.data.u32 = tag;
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int connect_retry(const char *path, s64 deadline)
{
	struct sockaddr_un addr = {};
	if (strlen(path) >= sizeof(addr.sun_path))
		return -EINVAL;
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	for (;;) {
		/* Non-blocking: the description is ours alone; every wait below has a deadline. */
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (s < 0)
			return -errno;
		if (connect(s, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) == 0)
			return s;
		int e = errno;
		close(s);
		/* EAGAIN: the server's backlog is full; it may drain. */
		if ((e != ENOENT && e != ECONNREFUSED && e != EAGAIN) ||
		    keel::ktime_get_ns() >= deadline)
			return -e;
		keel::msleep(5);
	}
}

/*
 * Takes an eventfd's counter without blocking, whatever O_NONBLOCK says
 * (a flag of a description the peers share): 1 when there was something,
 * 0 when it was empty (someone else took it).
 */
int drain_eventfd(int fd)
{
	u64 cnt;
	struct iovec iov = { &cnt, sizeof(cnt) };
	ssize_t n = preadv2(fd, &iov, 1, -1, RWF_NOWAIT);
	if (n == ssize_t(sizeof(cnt)))
		return 1;
	if (n < 0 && errno == EOPNOTSUPP) {
		/* A kernel without RWF_NOWAIT on eventfds (before 5.x): best effort. */
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 0) == 1 && read(fd, &cnt, sizeof(cnt)) == ssize_t(sizeof(cnt)))
			return 1;
	}
	return 0;
}

/*
 * Is a write of 1 to the peer's eventfd @fd blocked, or about to be? Only
 * when the counter has no room for it (at 0xfffffffffffffffe: poll() says
 * not writable), and only a peer that filled its own counter, with
 * O_NONBLOCK cleared on the description, makes it so: honest peers add 1
 * per ring to a counter their owner keeps taking.
 *
 * How long the write has been in flight says nothing by itself: a ring()
 * preempted (or slowed by a sanitizer) past a tick is merely slow, and
 * the count it has added, or is about to add, is the peer's wake-up.
 * Taking that count would lose the wake-up for good (the peer's thread
 * polled readable, then finds nothing to deliver), so the watchdog must
 * take a counter only when this says full.
 */
bool peer_holds(int fd)
{
	struct pollfd p = { fd, POLLOUT, 0 };
	int r = poll(&p, 1, 0);
	return r == 0 || (r == 1 && !(p.revents & POLLOUT));
}

} // namespace

constexpr keel::DoorbellOps Client::s_ops = {
	.ring = &Client::ring_op,
	.peer_alive = &Client::peer_alive_op,
	.wait = &Client::wait_op,
	.kick = &Client::kick_op,
};

Client::Client() : Doorbell(s_ops) {}

Result<Client *> Client::connect(const char *path, u32 vectors, s64 timeout_ns, size_t shm_size)
{
	if (vectors == 0 || vectors > SHMLINK_MAX_VECTORS)
		return err(-EINVAL);
	s64 deadline = keel::ktime_get_ns() + timeout_ns;
	Client *c = new (GFP_KERNEL) Client();
	if (!c)
		return err(-ENOMEM);
	keel::ScopeGuard fail([&] { delete c; });
	c->m_vectors = vectors;
	c->m_want_size = shm_size;
	c->m_stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->m_stop_efd < 0)
		return err(-errno);
	int s = connect_retry(path, deadline);
	if (s < 0) {
		pr_err("shmlink: connect to %s: %s", path, strerror(-s));
		return err(s);
	}
	c->m_sock = s;
	TRY(c->read_greeting(deadline));
	TRY(c->setup_epoll());
	if (pthread_create(&c->m_watchdog, nullptr, &watchdog_fn, c) != 0)
		return err(-ENOMEM);
	c->m_watchdog_started = true;
	if (pthread_create(&c->m_thread, nullptr, &thread_fn, c) != 0)
		return err(-ENOMEM);
	c->m_thread_started = true;
	fail.disarm();
	return c;
}

/*
 * The two epoll sets. The direct waiter's is registered first: with
 * EPOLLEXCLUSIVE a ring wakes the first set, in registration order, that
 * has a thread asleep in it (Linux's exclusive wake-up walks the eventfd's
 * queue in order and stops at the first entry that woke someone), so the
 * waiter is preferred and the notification thread sleeps on.
 */
Result<void> Client::setup_epoll()
{
	m_kick_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	m_wait_ep = epoll_create1(EPOLL_CLOEXEC);
	m_thread_ep = epoll_create1(EPOLL_CLOEXEC);
	if (m_kick_efd < 0 || m_wait_ep < 0 || m_thread_ep < 0)
		return err(-errno);
	for (u32 v = 0; v < m_nown; v++)
		if (int e = epoll_add(m_wait_ep, m_own[v], EPOLLIN | EPOLLEXCLUSIVE, v))
			return err(e);
	if (int e = epoll_add(m_wait_ep, m_kick_efd, EPOLLIN, TAG_KICK))
		return err(e);
	if (int e = epoll_add(m_thread_ep, m_stop_efd, EPOLLIN, TAG_STOP))
		return err(e);
	if (int e = epoll_add(m_thread_ep, m_sock, EPOLLIN, TAG_SOCK))
		return err(e);
	for (u32 v = 0; v < m_nown; v++)
		if (int e = epoll_add(m_thread_ep, m_own[v], EPOLLIN | EPOLLEXCLUSIVE, v))
			return err(e);
	return ok();
}

/* The shared memory must be a memfd sealed against resizing, of a size QEMU would take. */
Result<void> Client::check_memory(int shm)
{
	struct stat st;
	if (fstat(shm, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
		pr_err("shmlink: shared memory is not a regular file with a size");
		return err(-EPROTO);
	}
	int seals = fcntl(shm, F_GET_SEALS);
	if (seals < 0 || (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) != (F_SEAL_SHRINK | F_SEAL_GROW)) {
		/* Any peer could resize it, and every other peer would die of SIGBUS. */
		pr_err("shmlink: shared memory not sealed against resizing (seals 0x%x)",
		       seals < 0 ? 0 : seals);
		return err(-EPROTO);
	}
	size_t size = size_t(st.st_size);
	if (!keel::is_power_of_2(size) || (m_want_size && size != m_want_size)) {
		pr_err("shmlink: shared memory of %zu bytes (want a power of two%s)", size,
		       m_want_size ? ", the size asked for" : "");
		return err(-EPROTO);
	}
	m_mem_size = size;
	return ok();
}

Result<void> Client::read_greeting(s64 deadline)
{
	s64 v[2];
	int shm = -1;
	/* version, id, -1 + shared memory */
	for (int i = 0; i < 3; i++) {
		int fd = -1;
		s64 val = 0;
		int r;
		while ((r = recv_msg(m_sock, &val, &fd, deadline)) == -EAGAIN) {
			if (int e = wait_fd(m_sock, POLLIN, deadline))
				return err(e);
		}
		if (r <= 0)
			return err(r < 0 ? r : -EPIPE);
		keel::ScopeGuard close_fd([fd] {
			if (fd >= 0)
				close(fd);
		});
		if (i == 0 && (val != IVSHMEM_PROTOCOL_VERSION || fd >= 0)) {
			pr_err("shmlink: server speaks protocol %lld%s, not %lld", (long long)val,
			       fd >= 0 ? " (with an fd)" : "", (long long)IVSHMEM_PROTOCOL_VERSION);
			return err(-EPROTO);
		}
		if (i == 1 && (val < 0 || val > SHMLINK_MAX_ID || fd >= 0)) {
			pr_err("shmlink: server gave us id %lld%s", (long long)val,
			       fd >= 0 ? " with an fd" : "");
			return err(-EPROTO);
		}
		if (i == 2) {
			if (val != -1 || fd < 0) {
				pr_err("shmlink: server sent %lld%s where the shared memory goes",
				       (long long)val, fd < 0 ? " without an fd" : "");
				return err(-EPROTO);
			}
			close_fd.disarm();
			shm = fd;
		}
		if (i < 2)
			v[i] = val;
	}
	m_id = v[1];
	keel::ScopeGuard close_shm([shm] { close(shm); });
	TRY(check_memory(shm));
	m_mem = mmap(nullptr, m_mem_size, PROT_READ | PROT_WRITE, MAP_SHARED, shm, 0);
	if (m_mem == MAP_FAILED) {
		m_mem = nullptr;
		return err(-ENOMEM);
	}
	/* Peers' vectors, then our own N: done when we have all of ours. */
	while (m_nown < m_vectors) {
		int fd = -1;
		s64 id = 0;
		int r = recv_msg(m_sock, &id, &fd, deadline);
		if (r == -EAGAIN) {
			if (int e = wait_fd(m_sock, POLLIN, deadline))
				return err(e);
			continue;
		}
		if (r <= 0)
			return err(r < 0 ? r : -EPIPE);
		/* A bad peer message is the server's problem: logged and skipped. */
		(void)handle_msg(id, fd);
	}
	return ok();
}

void Client::release_slot_locked(PeerFds &p)
{
	if (p.busy) {
		/* A ring() writes to one of them: the last one closes them when done. */
		p.closing = true;
		return;
	}
	for (u32 v = 0; v < p.nfds; v++)
		close(p.efd[v]);
	p = PeerFds();
}

Result<void> Client::handle_msg(s64 id, int fd)
{
	if (id < 0 || id > SHMLINK_MAX_ID) {
		/* The server may flood us with these: rate-limited. */
		pr_warn_ratelimited("shmlink: client %lld: peer id %lld out of range: ignored",
				    (long long)m_id, (long long)id);
		if (fd >= 0)
			close(fd);
		return err(-EPROTO);
	}
	if (id == m_id) {
		/* Our own vectors come once, in the greeting. */
		if (fd < 0 || m_nown >= m_vectors) {
			pr_warn_ratelimited(
				"shmlink: client %lld: unexpected message for our own id",
				(long long)m_id);
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
		if (m_peers[i].used && !m_peers[i].closing && m_peers[i].id == id)
			slot = i;
	if (fd < 0) {
		/* Disconnected (of a peer we may not know: nothing to do then). */
		bool was_ours = id == m_peer;
		if (slot < SHMLINK_MAX_PEERS)
			release_slot_locked(m_peers[slot]);
		if (was_ours) {
			m_peer = -1;
			m_downs_pending++;
			adopt_peer_locked();
		}
		pthread_cond_broadcast(&m_cond);
		pthread_mutex_unlock(&m_lock);
		if (was_ours) {
			/* Never beside a handler a direct waiter runs: one handler at a time. */
			pthread_mutex_lock(&m_deliver_lock);
			deliver_peer_down();
			pthread_mutex_unlock(&m_deliver_lock);
			peer_down_done();
		}
		return ok();
	}
	if (slot == SHMLINK_MAX_PEERS) {
		for (u32 i = 0; i < SHMLINK_MAX_PEERS && slot == SHMLINK_MAX_PEERS; i++)
			if (!m_peers[i].used)
				slot = i;
		if (slot < SHMLINK_MAX_PEERS) {
			m_peers[slot] = PeerFds();
			m_peers[slot].used = true;
			m_peers[slot].id = id;
		}
	}
	if (slot == SHMLINK_MAX_PEERS || m_peers[slot].nfds >= m_vectors) {
		pthread_mutex_unlock(&m_lock);
		pr_warn_ratelimited(
			"shmlink: client %lld: %s for peer %lld: ignored", (long long)m_id,
			slot == SHMLINK_MAX_PEERS ? "no room" : "more vectors than ours",
			(long long)id);
		close(fd);
		return err(-EPROTO);
	}
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
		const PeerFds &p = m_peers[i];
		if (p.used && !p.closing && p.nfds == m_vectors) {
			m_peer = p.id;
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
	if (m_watchdog_started)
		pthread_join(m_watchdog, nullptr);
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
	int fds[] = { m_wait_ep, m_thread_ep, m_kick_efd };
	for (int fd : fds)
		if (fd >= 0)
			close(fd);
	pthread_mutex_destroy(&m_deliver_lock);
	pthread_mutex_destroy(&m_lock);
	pthread_cond_destroy(&m_cond);
}

bool Client::wait_slice(s64 deadline)
{
	s64 left = deadline - keel::ktime_get_ns();
	if (left <= 0)
		return false;
	/* The condvar uses CLOCK_REALTIME: wait in short slices instead of converting clocks. */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	s64 slice = left < 10000000 ? left : 10000000;
	ts.tv_nsec += long(slice);
	ts.tv_sec += ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	pthread_cond_timedwait(&m_cond, &m_lock, &ts);
	return true;
}

Result<s64> Client::wait_peer(s64 timeout_ns)
{
	s64 deadline = keel::ktime_get_ns() + timeout_ns;
	pthread_mutex_lock(&m_lock);
	while (m_peer < 0 && !m_server_gone) {
		if (!wait_slice(deadline))
			break;
	}
	s64 peer = m_peer;
	bool gone = m_server_gone;
	pthread_mutex_unlock(&m_lock);
	if (peer >= 0)
		return peer;
	return err(gone ? -EPIPE : -ETIMEDOUT);
}

void Client::peer_down_done()
{
	pthread_mutex_lock(&m_lock);
	m_downs_pending--;
	pthread_cond_broadcast(&m_cond);
	pthread_mutex_unlock(&m_lock);
}

Result<void> Client::wait_peer_gone(s64 timeout_ns)
{
	s64 deadline = keel::ktime_get_ns() + timeout_ns;
	pthread_mutex_lock(&m_lock);
	while (m_peer >= 0 || m_downs_pending) {
		if (!wait_slice(deadline))
			break;
	}
	bool gone = m_peer < 0 && !m_downs_pending;
	pthread_mutex_unlock(&m_lock);
	return gone ? ok() : err(-ETIMEDOUT);
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
	pthread_mutex_lock(&m_lock);
	PeerFds *p = nullptr;
	for (auto &q : m_peers)
		if (q.used && !q.closing && q.id == peer && vector < q.nfds)
			p = &q;
	if (!p) {
		pthread_mutex_unlock(&m_lock);
		return err(-EPIPE);
	}
	/* Pinned while we write: a disconnect meanwhile defers the close to us. */
	p->busy++;
	int fd = p->efd[vector];
	u32 slot = MAX_INFLIGHT;
	for (u32 i = 0; i < MAX_INFLIGHT && slot == MAX_INFLIGHT; i++)
		if (m_inflight[i].fd < 0)
			slot = i;
	if (slot < MAX_INFLIGHT)
		m_inflight[slot] = { fd, ++m_stamp };
	pthread_mutex_unlock(&m_lock);

	/*
	 * Not writable: the counter is (nearly) saturated, so the peer has a
	 * ring pending already (it is just not reading). Writable now does
	 * not promise writable at the write, if the peer refills its counter
	 * in between: the watchdog releases such a write within a tick.
	 */
	struct pollfd pf = { fd, POLLOUT, 0 };
	if (poll(&pf, 1, 0) == 1 && (pf.revents & POLLOUT)) {
		u64 one = 1;
		(void)!write(fd, &one, sizeof(one));
	}

	pthread_mutex_lock(&m_lock);
	if (slot < MAX_INFLIGHT)
		m_inflight[slot].fd = -1;
	if (--p->busy == 0 && p->closing) {
		p->closing = false;
		release_slot_locked(*p);
	}
	pthread_mutex_unlock(&m_lock);
	return ok();
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

void *Client::watchdog_fn(void *arg)
{
	static_cast<Client *>(arg)->watchdog_loop();
	return nullptr;
}

void Client::watchdog_loop()
{
	u64 seen[MAX_INFLIGHT] = {};
	for (;;) {
		struct pollfd pf = { m_stop_efd, POLLIN, 0 };
		int r = poll(&pf, 1, WATCHDOG_TICK_MS);
		if (r > 0)
			return;
		if (r < 0 && errno != EINTR)
			return;
		pthread_mutex_lock(&m_lock);
		for (u32 i = 0; i < MAX_INFLIGHT; i++) {
			const Inflight &w = m_inflight[i];
			if (w.fd < 0) {
				seen[i] = 0;
				continue;
			}
			/*
			 * The same write as a tick ago, and the peer's counter full: held.
			 * Take the counter so that the write completes (its 1 is then the
			 * peer's ring). In flight as long with room in the counter: slow,
			 * not held, and its count is left to the peer.
			 */
			if (w.stamp == seen[i] && peer_holds(w.fd)) {
				pr_warn_ratelimited(
					"shmlink: client %lld: a peer held a ring: released",
					(long long)m_id);
				(void)drain_eventfd(w.fd);
			}
			seen[i] = w.stamp;
		}
		pthread_mutex_unlock(&m_lock);
	}
}

void *Client::thread_fn(void *arg)
{
	static_cast<Client *>(arg)->thread_loop();
	return nullptr;
}

void Client::deliver_vector(u32 v, bool threaded)
{
	pthread_mutex_lock(&m_deliver_lock);
	/* Whoever took the count first (a peer too: it shares the eventfd) delivers it. */
	if (drain_eventfd(m_own[v])) {
		/* The waiter's context is no dedicated interrupt thread: it must not spin there. */
		if (threaded) {
			keel_posix_threaded_irq_enter();
		} else {
			keel_posix_irq_enter();
			m_direct_delivered.fetch_add(1, keel::MemoryOrder::Relaxed);
		}
		deliver(v == m_vectors - 1 ? keel::DOORBELL_ANY : v);
		if (threaded)
			keel_posix_threaded_irq_exit();
		else
			keel_posix_irq_exit();
	}
	pthread_mutex_unlock(&m_deliver_lock);
}

Result<void> Client::wait_op(keel::Doorbell &db, s64 deadline_ns)
{
	Client &c = static_cast<Client &>(db);
	s64 left = deadline_ns - keel::ktime_get_ns();
	if (left <= 0)
		return err(-ETIMEDOUT);
	/* Rounded up: the deadline is never cut short. */
	s64 ms = (left + keel::NSEC_PER_MSEC - 1) / keel::NSEC_PER_MSEC;
	struct epoll_event ev[SHMLINK_MAX_VECTORS + 1];
	int n = epoll_wait(c.m_wait_ep, ev, int(c.m_nown) + 1, ms < 1000000 ? int(ms) : 1000000);
	if (n < 0)
		return errno == EINTR ? ok() : err(-errno);
	if (n == 0)
		return keel::ktime_get_ns() >= deadline_ns ? err(-ETIMEDOUT) : ok();
	for (int i = 0; i < n; i++) {
		u32 tag = ev[i].data.u32;
		if (tag == TAG_KICK) {
			u64 cnt;
			/* Ours alone, non-blocking: a plain read takes the kicks. */
			(void)!read(c.m_kick_efd, &cnt, sizeof(cnt));
		} else if (tag < c.m_nown) {
			c.deliver_vector(tag, false);
		}
	}
	return ok();
}

void Client::kick_op(keel::Doorbell &db)
{
	Client &c = static_cast<Client &>(db);
	u64 one = 1;
	(void)!write(c.m_kick_efd, &one, sizeof(one));
}

void Client::thread_loop()
{
	for (;;) {
		struct epoll_event ev[SHMLINK_MAX_VECTORS + 2];
		int n = epoll_wait(m_thread_ep, ev, int(m_nown) + 2, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;
		bool sock = false;
		for (int i = 0; i < n; i++) {
			if (ev[i].data.u32 == TAG_STOP)
				return;
			sock = sock || ev[i].data.u32 == TAG_SOCK;
		}
		for (int i = 0; i < n; i++)
			if (ev[i].data.u32 < m_nown)
				deliver_vector(ev[i].data.u32, true);
		if (!sock)
			continue;
		s64 id = 0;
		int fd = -1;
		int r = recv_msg(m_sock, &id, &fd, keel::ktime_get_ns() + MSG_TIMEOUT_NS);
		if (r == -EAGAIN)
			continue;
		if (r > 0) {
			/* A bad one is logged (rate-limited) and skipped; a disconnect calls peer-down. */
			keel_posix_threaded_irq_enter();
			(void)handle_msg(id, fd);
			keel_posix_threaded_irq_exit();
			continue;
		}
		/* The server is gone, or it broke a message off: so is every peer, as far as we can
		 * know. */
		if (r < 0)
			pr_warn("shmlink: client %lld: server connection broken (%d)",
				(long long)m_id, r);
		/* Its end of file would keep waking us. */
		(void)epoll_ctl(m_thread_ep, EPOLL_CTL_DEL, m_sock, nullptr);
		pthread_mutex_lock(&m_lock);
		m_server_gone = true;
		bool had_peer = m_peer >= 0;
		m_peer = -1;
		if (had_peer)
			m_downs_pending++;
		pthread_cond_broadcast(&m_cond);
		pthread_mutex_unlock(&m_lock);
		if (had_peer) {
			pthread_mutex_lock(&m_deliver_lock);
			keel_posix_threaded_irq_enter();
			deliver_peer_down();
			keel_posix_threaded_irq_exit();
			pthread_mutex_unlock(&m_deliver_lock);
			peer_down_done();
		}
	}
}

} // namespace shmlink
