/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ivshmem protocol messages: one little-endian int64, at most one fd.
 *
 * Both helpers work on sockets whose file description is ours alone (the
 * server's accepted sockets, a client's connected one), set non-blocking
 * at creation: a peer cannot change their flags. They still pass
 * MSG_DONTWAIT, and every wait for the other end has a deadline.
 */
#ifndef KEEL_POSIX_SHMLINK_INTERNAL_H
#define KEEL_POSIX_SHMLINK_INTERNAL_H

#include <keel/endian.h>
#include <keel/error.h>
#include <keel/time.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

namespace shmlink {

/* Ids a peer may have: the ivshmem doorbell register carries 16 bits of peer id. */
inline constexpr s64 SHMLINK_MAX_ID = 0xFFFF;

/* Waits for @events on @fd until @deadline (ktime ns): 0, -ETIMEDOUT or a negative errno. */
inline int wait_fd(int fd, short events, s64 deadline)
{
	for (;;) {
		s64 left = deadline - keel::ktime_get_ns();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd p = { fd, events, 0 };
		int r = poll(&p, 1, int(left / 1000000 + 1));
		if (r > 0)
			return (p.revents & (POLLERR | POLLNVAL)) && !(p.revents & events) ? -EPIPE
											   : 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

/*
 * The wait of a thread that serves descriptors until it is told to stop
 * through the eventfd in @pfd[0]: polls @pfd[0..@n) with no timeout,
 * again after a signal. False when the thread must stop (told to, or poll
 * failed), true with the revents of @pfd set.
 */
inline bool poll_or_stop(struct pollfd *pfd, nfds_t n)
{
	for (;;) {
		if (poll(pfd, n, -1) >= 0)
			return !pfd[0].revents;
		if (errno != EINTR)
			return false;
	}
}

/*
 * Sends @v (and @fd when >= 0), waiting for room in the socket at most
 * until @deadline: a peer that does not read cannot hold the sender.
 * Return: 0, -ETIMEDOUT, or a negative errno (-EPIPE: the peer is gone).
 */
inline int send_msg(int sock, s64 v, int fd, s64 deadline)
{
	keel::le64 w = keel::cpu_to_le64(u64(v));
	struct iovec iov = { &w, sizeof(w) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr msg = {};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	for (;;) {
		/* All 8 bytes or none: a Unix stream socket takes a message this small whole. */
		ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == ssize_t(sizeof(w)))
			return 0;
		if (n >= 0)
			return -EIO;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		if (int e = wait_fd(sock, POLLOUT, deadline))
			return e;
	}
}

/* Test convenience: a send that may wait up to 5 s. */
inline int send_msg(int sock, s64 v, int fd)
{
	return send_msg(sock, v, fd, keel::ktime_get_ns() + keel::ms_to_ns(5000));
}

/*
 * Receives one message: 1 with *v (and *fd, -1 when none), 0 on EOF, or a
 * negative errno: -EAGAIN when nothing has arrived (the caller polls),
 * -ETIMEDOUT when a message began but its rest did not come by @deadline,
 * -EIO when the stream ended inside one. A message split across reads is
 * reassembled; an fd may only come with its first byte, and any other fd
 * is closed.
 */
inline int recv_msg(int sock, s64 *v, int *fd, s64 deadline)
{
	u8 buf[8];
	size_t got = 0;
	*fd = -1;
	auto fail = [&](int e) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return e;
	};
	while (got < sizeof(buf)) {
		struct iovec iov = { buf + got, sizeof(buf) - got };
		union {
			char b[CMSG_SPACE(4 * sizeof(int))];
			struct cmsghdr align;
		} ctl;
		struct msghdr msg = {};
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = ctl.b;
		msg.msg_controllen = sizeof(ctl.b);
		ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!got)
				return -EAGAIN;
			if (int e = wait_fd(sock, POLLIN, deadline))
				return fail(e);
			continue;
		}
		if (n < 0)
			return fail(-errno);
		if (n == 0)
			return fail(got ? -EIO : 0);
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			int n_fds = int((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			for (int i = 0; i < n_fds; i++) {
				int f;
				memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				if (*fd < 0 && got == 0)
					*fd = f;
				else
					close(f); /* more than one fd: not the protocol */
			}
		}
		/* (MSG_CTRUNC: more fds than fit; the kernel dropped the rest itself.) */
		got += size_t(n);
	}
	keel::le64 w;
	memcpy(&w, buf, sizeof(w));
	*v = s64(keel::le64_to_cpu(w));
	return 1;
}

} // namespace shmlink

#endif
