/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shmlink: two (or more) processes sharing one memory region, with eventfd
 * doorbells, brokered by a server speaking QEMU's ivshmem-server protocol
 * (docs/specs/ivshmem-spec.rst, version 0), so that a QEMU guest with an
 * ivshmem-doorbell device can be one of the peers.
 *
 * The protocol: a Unix stream socket on which only the server sends. Every
 * message is one little-endian int64, with at most one file descriptor
 * (SCM_RIGHTS). On connect a client receives: 0 (the version); its own id;
 * -1 with the shared-memory fd; for each peer already connected, that
 * peer's id N times, each with one eventfd (vectors 0..N-1, written to
 * interrupt it); then its own id N times with its own eventfds (read to be
 * interrupted). Later: a peer id with an fd (N times) = that peer connected;
 * a peer id without an fd = it disconnected. Ringing is writing the 8-byte
 * value 1 to the peer's eventfd of that vector.
 *
 * Notify ids map onto vectors: id i < N-1 uses vector i; every other id uses
 * vector N-1, delivered as DOORBELL_ANY (with one vector, every ring is ANY).
 *
 * Hosted only (POSIX): this is the posix port's doorbell backend.
 */
#ifndef KEEL_POSIX_SHMLINK_H
#define KEEL_POSIX_SHMLINK_H

#include <keel/doorbell.h>
#include <keel/error.h>

#include <pthread.h>

namespace shmlink {

using keel::Result;

inline constexpr s64 IVSHMEM_PROTOCOL_VERSION = 0;
inline constexpr u32 SHMLINK_MAX_VECTORS = 64;
inline constexpr u32 SHMLINK_MAX_PEERS = 16;

/*
 * Server - the broker. Owns the shared memory (a memfd) and every eventfd.
 * Runs its loop on a thread of its own (start()) or in the caller (run()).
 */
class Server {
public:
	/*
	 * create() - listen on @path (an existing socket file is replaced) with a
	 * region of @shm_size bytes (a power of two, as QEMU requires) and
	 * @vectors eventfds per peer.
	 */
	static Result<Server *> create(const char *path, size_t shm_size, u32 vectors);
	~Server();

	/* Serves on a new thread until stop(). */
	Result<void> start();
	/* Serves until stop() (from another thread or a signal handler). */
	void run();
	void stop();
	/* Reads as 0 after fork in the child: only the creating process serves. */
	u32 vectors() const { return m_vectors; }
	int shm_fd() const { return m_shm_fd; }

private:
	struct Peer {
		s64 id = -1;
		int sock = -1;
		int efd[SHMLINK_MAX_VECTORS];
		/* Did not take its messages in time (or is closing): dropped at the next reap(). */
		bool dead = false;
	};
	/* How long a peer may keep the server waiting for room in its socket, per message batch. */
	static constexpr s64 SEND_TIMEOUT_NS = 200 * 1000 * 1000;
	Server() = default;
	void accept_peer();
	void drop_peer(u32 slot);
	void reap();
	s64 next_id();
	bool send_to(Peer &p, s64 v, int fd, s64 deadline);
	bool send_greeting(Peer &p);
	static void *thread_fn(void *arg);

	char m_path[108] = {};
	int m_listen = -1;
	int m_shm_fd = -1;
	int m_stop_efd = -1;
	size_t m_shm_size = 0;
	u32 m_vectors = 0;
	s64 m_next_id = 0;
	Peer m_peers[SHMLINK_MAX_PEERS];
	u32 m_npeers = 0;
	pthread_t m_thread;
	bool m_thread_started = false;
};

/*
 * Client - one peer: the mapped region and a doorbell to "the" peer (the
 * first other peer with all of its vectors; a new one is adopted when the
 * previous one disconnects). Its notification thread delivers rings to the
 * handler and the peer's disconnect to the peer-down callback.
 *
 * Distrust: the eventfds are shared file descriptions (the peer we ring
 * holds the same description, and so does every other peer), so their
 * flags are the peers' to change. ring() writes only after poll() said the
 * write cannot block (a peer that lets its counter saturate has a ring
 * pending already, so none is needed); should the peer saturate it again
 * in the instant between, a watchdog thread of ours takes the counter
 * (we hold the eventfd too) and the write completes within two ticks.
 * The watchdog judges a ring held only when it has been in flight for a
 * tick and the counter is full: a merely slow ring (our thread preempted)
 * keeps its count, which is the peer's wake-up. Our
 * own eventfds are drained with RWF_NOWAIT, never a read() that
 * O_NONBLOCK would have to keep from blocking. What the server sends is checked: ids in 0..65535,
 * the fds where the protocol puts them, a shared memory sealed against resizing and of a
 * power-of-two size. Bad messages are refused with a rate-limited log line.
 *
 * Direct waits (Doorbell::wait()): the waiting thread sleeps in an epoll
 * set of its own on our eventfds (and a kick eventfd); the notification
 * thread sleeps in another. Both watch the eventfds with EPOLLEXCLUSIVE,
 * the waiter's set registered first, so that a ring wakes one thread: the
 * direct waiter when one sleeps, else the notification thread. Whoever
 * wakes takes the count (one read: no ring is handled twice) and runs the
 * handler under m_deliver_lock, one at a time as an IRQ line's handler.
 * Should both wake (the kernel promises "one or more"), the second finds
 * the count taken and delivers nothing; should the notification thread
 * win, the handler's wake_waiter() kicks the waiter. The order only
 * decides which thread pays the wake-up, never whether a ring is seen.
 */
class Client final : public keel::Doorbell {
public:
	/*
	 * connect() - connect to the server at @path, retrying until
	 * @timeout_ns, read the greeting and map the region. The notification
	 * and watchdog threads start at once; enable() the doorbell to receive.
	 * @vectors must be the server's (the protocol does not say it);
	 * @shm_size, when not 0, the region's size (else any power of two).
	 * Return: the client; -EPROTO for a server that breaks the protocol
	 * (logged), -ETIMEDOUT, or a negative errno.
	 */
	static Result<Client *> connect(const char *path, u32 vectors, s64 timeout_ns,
					size_t shm_size = 0);
	/* Stops the threads, unmaps, closes everything (the server tells the peer). */
	~Client();

	void *mem() const { return m_mem; }
	size_t mem_size() const { return m_mem_size; }
	s64 id() const { return m_id; }
	u32 vectors() const { return m_vectors; }

	/*
	 * wait_peer() - wait until a peer with all its vectors is attached.
	 * Return: its id; -ETIMEDOUT; -EPIPE when the server went away.
	 */
	Result<s64> wait_peer(s64 timeout_ns);
	/*
	 * wait_peer_gone() - wait until no peer is attached and the peer-down
	 * of the last one has been delivered (the callback returned). After
	 * it, no peer-down about a peer that went before can arrive: what
	 * comes next is about a peer attached later.
	 * Context: may sleep; not from the peer-down callback.
	 * Return: 0; -ETIMEDOUT when a peer is still attached or its
	 * peer-down still under way at @timeout_ns.
	 */
	Result<void> wait_peer_gone(s64 timeout_ns);
	/* Bumped each time a new peer is adopted. */
	u32 peer_generation() const;
	/* Rings delivered by a direct waiter (Doorbell::wait()) so far: statistics. */
	u64 direct_delivered() const { return m_direct_delivered.load(keel::MemoryOrder::Relaxed); }

	/*
	 * ring_vector() - ring a given peer's vector (QEMU's doorbell register).
	 * Does not block on the peer (at most a watchdog tick if it races us).
	 * Return: 0, -EINVAL for a vector past ours, -EPIPE for no such peer.
	 */
	Result<void> ring_vector(s64 peer, u32 vector);

private:
	struct PeerFds {
		bool used = false;
		s64 id = -1;
		u32 nfds = 0;
		int efd[SHMLINK_MAX_VECTORS];
		/* Rings writing to efd[] right now: closing them waits (closing set). */
		u32 busy = 0;
		bool closing = false;
	};
	/* A write to a peer's eventfd in progress, for the watchdog (guarded by m_lock). */
	struct Inflight {
		int fd = -1;
		u64 stamp = 0;
	};
	Client();
	static Result<void> ring_op(keel::Doorbell &db, u32 notifyid);
	static bool peer_alive_op(const keel::Doorbell &db);
	static Result<void> wait_op(keel::Doorbell &db, s64 deadline_ns);
	static void kick_op(keel::Doorbell &db);
	static const keel::DoorbellOps s_ops;
	Result<void> setup_epoll();
	/* Takes vector @v's count and, when there was one, runs the handler for it. */
	void deliver_vector(u32 v, bool threaded);
	Result<void> read_greeting(s64 deadline);
	Result<void> check_memory(int shm);
	Result<void> handle_msg(s64 v, int fd);
	void adopt_peer_locked();
	void peer_down_done();
	/* One slice of a wait on m_cond (m_lock held): false once @deadline has passed. */
	bool wait_slice(s64 deadline);
	void release_slot_locked(PeerFds &p);
	static void *thread_fn(void *arg);
	void thread_loop();
	static void *watchdog_fn(void *arg);
	void watchdog_loop();

	int m_sock = -1;
	int m_stop_efd = -1;
	s64 m_id = -1;
	u32 m_vectors = 0;
	size_t m_want_size = 0;
	void *m_mem = nullptr;
	size_t m_mem_size = 0;
	int m_own[SHMLINK_MAX_VECTORS];
	u32 m_nown = 0;
	/* The direct waiter's epoll set (our eventfds, m_kick_efd) and the notification thread's. */
	int m_wait_ep = -1;
	int m_thread_ep = -1;
	int m_kick_efd = -1;
	/* One handler (or peer-down callback) at a time, whichever thread took the ring. */
	pthread_mutex_t m_deliver_lock = PTHREAD_MUTEX_INITIALIZER;
	keel::Atomic<u64> m_direct_delivered{ 0 };

	/* Guards the peer table and the current peer (ring() vs. the threads). */
	mutable pthread_mutex_t m_lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t m_cond = PTHREAD_COND_INITIALIZER;
	PeerFds m_peers[SHMLINK_MAX_PEERS];
	s64 m_peer = -1; /* the adopted peer's id, -1 when none */
	/* Peer-downs marked (m_peer set to -1) whose callback has not returned yet. */
	u32 m_downs_pending = 0;
	u32 m_peer_gen = 0;
	bool m_server_gone = false;
	static constexpr u32 MAX_INFLIGHT = 8;
	Inflight m_inflight[MAX_INFLIGHT];
	u64 m_stamp = 0;
	pthread_t m_thread;
	bool m_thread_started = false;
	pthread_t m_watchdog;
	bool m_watchdog_started = false;
};

} // namespace shmlink

#endif
