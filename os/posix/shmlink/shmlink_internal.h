/* SPDX-License-Identifier: GPL-2.0 */
/* ivshmem protocol messages: one little-endian int64, at most one fd. */
#ifndef KEEL_POSIX_SHMLINK_INTERNAL_H
#define KEEL_POSIX_SHMLINK_INTERNAL_H

#include <keel/endian.h>
#include <keel/error.h>

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

namespace shmlink {

/* Sends @v (and @fd when >= 0). 0 or a negative errno. */
inline int send_msg(int sock, s64 v, int fd)
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
		ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
		if (n == ssize_t(sizeof(w)))
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 ? -errno : -EIO;
	}
}

/*
 * Receives one message: 1 with *v (and *fd, -1 when none), 0 on EOF, or a
 * negative errno. A message split across reads is reassembled; an fd may
 * only come with its first byte.
 */
inline int recv_msg(int sock, s64 *v, int *fd)
{
	u8 buf[8];
	size_t got = 0;
	*fd = -1;
	while (got < sizeof(buf)) {
		struct iovec iov = { buf + got, sizeof(buf) - got };
		union {
			char b[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} ctl;
		struct msghdr msg = {};
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = ctl.b;
		msg.msg_controllen = sizeof(ctl.b);
		ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;
			if (*fd >= 0)
				close(*fd);
			return e;
		}
		if (n == 0) {
			if (*fd >= 0)
				close(*fd);
			return got ? -EIO : 0;
		}
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
		got += size_t(n);
	}
	keel::le64 w;
	memcpy(&w, buf, sizeof(w));
	*v = s64(keel::le64_to_cpu(w));
	return 1;
}

} // namespace shmlink

#endif
