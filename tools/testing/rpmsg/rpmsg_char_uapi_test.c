// SPDX-License-Identifier: GPL-2.0
/*
 * rpmsg_char_uapi_test: a userspace program as any Linux one that talks to
 * a remote processor through the rpmsg character devices: <linux/rpmsg.h>
 * and libc only, built static for the guest. It finds the remote's echo
 * service among the channels, and through the control node of its link:
 *
 *  - creates an endpoint (RPMSG_CREATE_EPT_IOCTL), finds its /dev node by
 *    its name attribute, opens it, echoes messages of every size with
 *    poll() for input, checks each byte;
 *  - feeds it bad input: writes above the MTU, an empty write, a read
 *    into a tiny buffer, unknown ioctls, bad pointers, a second open, a
 *    name without its NUL, the flow-control ioctls of 6.12's UAPI;
 *  - closes it while another thread blocks in read, then destroys the
 *    endpoint through a duplicate descriptor: the reader wakes (EPIPE),
 *    poll says POLLERR|POLLHUP, writes fail, the node goes;
 *  - creates an "rpmsg-raw" channel (RPMSG_CREATE_DEV_IOCTL), echoes
 *    through its node, releases the channel (RPMSG_RELEASE_DEV_IOCTL)
 *    under a blocked reader;
 *  - with --stop and --start (shell commands that take the remote away
 *    and bring it back): the remote goes under open files and a blocked
 *    reader (EPIPE, POLLHUP, writes fail, the nodes go), then comes back
 *    with new nodes that echo;
 *  - with --crash and --recover (shell commands that crash the remote and
 *    recover it): the same checks across a crash and its recovery.
 *
 * Linux's names (class and bus "rpmsg", /dev/rpmsg_ctrlN) or keel's beside
 * Linux's own rpmsg ("keel_rpmsg", /dev/keel_rpmsg/): whichever exists.
 *
 *	rpmsg_char_uapi_test [SERVICE [--stop CMD --start CMD]
 *			      [--crash CMD --recover CMD]]
 *	(SERVICE defaults to rpmsg-uapi-echo)
 *
 * Prints one line per check and "rpmsg_char_uapi_test: PASS (N checks)";
 * exits 1 on the first failure.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rpmsg.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef RPMSGDEV_HOSTED
/* The hosted port: the same calls, through rpmsgdev (not in the QEMU build). */
#include <rpmsgdev_posix.h>
#endif

/* 6.12's UAPI; older headers (Debian 12's) lack them. */
#ifndef RPMSG_GET_OUTGOING_FLOWCONTROL
#define RPMSG_GET_OUTGOING_FLOWCONTROL _IOR(0xb5, 0x5, int)
#endif
#ifndef RPMSG_SET_INCOMING_FLOWCONTROL
#define RPMSG_SET_INCOMING_FLOWCONTROL _IOR(0xb5, 0x6, int)
#endif

#define PROG "rpmsg_char_uapi_test"
#define TIMEOUT_MS 5000

static const char *class_dir; /* /sys/class/rpmsg or /sys/class/keel_rpmsg */
static const char *bus_dir;   /* its channels */
static const char *dev_dir;   /* /dev or /dev/keel_rpmsg */
static int checks;

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf(PROG ": FAIL: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	exit(1);
}

static void ok(const char *fmt, ...)
{
	va_list ap;

	checks++;
	va_start(ap, fmt);
	printf(PROG ": ok %d ", checks);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

/* @ret must be -1 with errno @err (or, for @err 0, succeed). */
static void expect_errno(long ret, int err, const char *what)
{
	if (err == 0 && ret < 0)
		fail("%s: %s", what, strerror(errno));
	if (err && (ret != -1 || errno != err))
		fail("%s: got %ld (%s), wanted %s", what, ret, ret < 0 ? strerror(errno) : "ok",
		     strerror(err));
	ok("%s: %s", what, err ? strerror(err) : "ok");
}

static int read_attr(const char *dir, const char *node, const char *attr, char *buf, size_t size)
{
	char path[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, node, attr);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

static int attr_int(const char *dir, const char *node, const char *attr)
{
	char buf[64];

	if (read_attr(dir, node, attr, buf, sizeof(buf)))
		fail("no attribute %s/%s/%s", dir, node, attr);
	return atoi(buf);
}

/* The endpoint node (rpmsgN) whose name attribute is @name, highest N: 0 if none. */
static int find_ept_node(const char *name, char *out, size_t size)
{
	struct dirent *e;
	int best = -1;
	char buf[64];
	DIR *d;

	d = opendir(class_dir);
	if (!d)
		fail("no %s: %s", class_dir, strerror(errno));
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "rpmsg", 5) || !strncmp(e->d_name, "rpmsg_ctrl", 10))
			continue;
		if (read_attr(class_dir, e->d_name, "name", buf, sizeof(buf)) || strcmp(buf, name))
			continue;
		if (atoi(e->d_name + 5) > best && strlen(e->d_name) < size) {
			best = atoi(e->d_name + 5);
			memcpy(out, e->d_name, strlen(e->d_name) + 1);
		}
	}
	closedir(d);
	return best >= 0;
}

/* The node's /dev path; waits for devtmpfs to make it. */
static int open_node(const char *node, int flags)
{
	char path[512];
	struct stat st;
	int i;

	snprintf(path, sizeof(path), "%s/%s", dev_dir, node);
	for (i = 0; i < 500 && stat(path, &st); i++)
		usleep(10000);
	return open(path, flags);
}

/* Waits until the node is gone from the class (removed, as it must be). */
static int node_gone(const char *node)
{
	char path[512];
	struct stat st;
	int i;

	snprintf(path, sizeof(path), "%s/%s", class_dir, node);
	for (i = 0; i < 500; i++) {
		if (stat(path, &st))
			return 1;
		usleep(10000);
	}
	return 0;
}

static void ept_info(struct rpmsg_endpoint_info *info, const char *name, __u32 src, __u32 dst)
{
	memset(info, 0, sizeof(*info));
	memcpy(info->name, name, strnlen(name, sizeof(info->name)));
	info->src = src;
	info->dst = dst;
}

static short poll_one(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	if (poll(&p, 1, timeout_ms) < 0)
		fail("poll: %s", strerror(errno));
	return p.revents;
}

/* Writes @len bytes and reads the echo back, byte for byte. */
static void echo_once(int fd, const unsigned char *out, unsigned char *in, size_t len,
		      size_t in_size)
{
	ssize_t n;

	n = write(fd, out, len);
	if (n != (ssize_t)len)
		fail("write of %zu bytes: %zd (%s)", len, n, n < 0 ? strerror(errno) : "short");
	if (!(poll_one(fd, POLLIN, TIMEOUT_MS) & POLLIN))
		fail("no echo of %zu bytes within %d ms", len, TIMEOUT_MS);
	n = read(fd, in, in_size);
	if (n != (ssize_t)len)
		fail("echo of %zu bytes read as %zd (%s)", len, n, n < 0 ? strerror(errno) : "");
	if (len && memcmp(in, out, len))
		fail("echo of %zu bytes differs", len);
}

struct reader {
	int fd;
	ssize_t ret;
	int err;
	int tid; /* set just before the read, for wait_blocked() */
};

static void *blocked_read(void *p)
{
	struct reader *r = p;
	char buf[64];

	__atomic_store_n(&r->tid, (int)syscall(SYS_gettid), __ATOMIC_RELEASE);
	r->ret = read(r->fd, buf, sizeof(buf));
	r->err = errno;
	return NULL;
}

/*
 * Starts blocked_read() on @r and returns once its thread sleeps (state S
 * in /proc: inside the read, which blocks), so that what the caller does
 * next happens under a blocked reader however slow the machine is.
 */
static void start_blocked_reader(pthread_t *th, struct reader *r)
{
	char path[64], stat[256];
	int i, tid = 0;

	r->tid = 0;
	if (pthread_create(th, NULL, blocked_read, r))
		fail("pthread_create");
	for (i = 0; i < TIMEOUT_MS; i++) {
		const char *state;
		FILE *f;

		tid = __atomic_load_n(&r->tid, __ATOMIC_ACQUIRE);
		if (tid) {
			snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
			f = fopen(path, "r");
			stat[0] = '\0';
			if (f) {
				if (!fgets(stat, sizeof(stat), f))
					stat[0] = '\0';
				fclose(f);
			}
			/* "tid (comm) S ...": the state follows the last ')'. */
			state = strrchr(stat, ')');
			if (state && state[1] == ' ' && state[2] == 'S')
				return;
		}
		usleep(1000);
	}
	fail("the reader thread did not block in read() within %d ms", TIMEOUT_MS);
}

/* Finds the echo service: the channel named @service with a remote address. */
static void find_service(const char *service, char *ctrl, size_t size, int *dst)
{
	struct dirent *e;
	char buf[64];
	DIR *d;
	int i;

	for (i = 0; i < 500; i++) {
		d = opendir(bus_dir);
		if (!d)
			fail("no %s: %s", bus_dir, strerror(errno));
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			if (read_attr(bus_dir, e->d_name, "name", buf, sizeof(buf)) ||
			    strcmp(buf, service))
				continue;
			*dst = attr_int(bus_dir, e->d_name, "dst");
			if (*dst == -1)
				continue; /* the remote's own side of the service */
			if (read_attr(bus_dir, e->d_name, "ctrl", ctrl, size))
				fail("channel %s has no ctrl attribute", e->d_name);
			ok("channel %s: %s at %d, link %s", e->d_name, service, *dst, ctrl);
			closedir(d);
			return;
		}
		closedir(d);
		usleep(10000);
	}
	fail("no channel %s with a remote address under %s", service, bus_dir);
}

static void test_endpoint(int ctrl, int dst, int mtu)
{
	unsigned char out[4096], in[4097];
	struct rpmsg_endpoint_info info;
	char node[64], buf[64], longname[33];
	int fd, fd2, v, i;
	size_t len;
	ssize_t n;

	ept_info(&info, "uapi-ept", RPMSG_ADDR_ANY, dst);
	expect_errno(ioctl(ctrl, RPMSG_CREATE_EPT_IOCTL, &info), 0, "RPMSG_CREATE_EPT_IOCTL");
	if (!find_ept_node("uapi-ept", node, sizeof(node)))
		fail("no endpoint node named uapi-ept in %s", class_dir);
	if (attr_int(class_dir, node, "src") != -1 || attr_int(class_dir, node, "dst") != dst)
		fail("%s: src/dst attributes", node);
	ok("%s: name, src, dst as asked", node);
	fd = open_node(node, O_RDWR);
	if (fd < 0)
		fail("open %s: %s", node, strerror(errno));
	ok("open %s", node);
	expect_errno(open_node(node, O_RDWR), EBUSY, "second open");

	/* Echoes: every size from 1 to the MTU, each byte checked. */
	if (!(poll_one(fd, POLLOUT, 0) & POLLOUT))
		fail("no POLLOUT on a fresh endpoint");
	ok("POLLOUT");
	for (len = 1, i = 0; len <= (size_t)mtu; len += 13, i++) {
		memset(out, 0, len);
		for (size_t k = 0; k < len; k++)
			out[k] = (unsigned char)(len * 7 + k);
		echo_once(fd, out, in, len, sizeof(in));
	}
	echo_once(fd, out, in, mtu, sizeof(in));
	ok("%d echoes of 1..%d bytes, POLLIN each time, every byte right", i + 1, mtu);

	/* Bad input. */
	expect_errno(write(fd, out, mtu + 1), EMSGSIZE, "write of MTU + 1 bytes");
	fcntl(fd, F_SETFL, O_NONBLOCK);
	expect_errno(read(fd, in, sizeof(in)), EAGAIN, "non-blocking read of nothing");
	fcntl(fd, F_SETFL, 0);
	n = write(fd, out, 0);
	if (n != 0)
		fail("empty write: %zd (%s)", n, n < 0 ? strerror(errno) : "");
	if (!(poll_one(fd, POLLIN, TIMEOUT_MS) & POLLIN) || read(fd, in, sizeof(in)) != 0)
		fail("the empty message's echo");
	ok("empty write sends an empty message (echoed back, read as 0 bytes)");
	memcpy(out, "hello world", 11);
	if (write(fd, out, 11) != 11 || !(poll_one(fd, POLLIN, TIMEOUT_MS) & POLLIN))
		fail("write for the tiny read");
	n = read(fd, in, 5);
	if (n != 5 || memcmp(in, "hello", 5))
		fail("tiny read: %zd", n);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	expect_errno(read(fd, in, sizeof(in)), EAGAIN, "tiny read took the whole message");
	fcntl(fd, F_SETFL, 0);
	{
		/* An address the compiler cannot see through: the kernel must say EFAULT. */
		const void *volatile bad = (const void *)16;

		expect_errno(write(fd, bad, 8), EFAULT, "write from a bad address");
	}
	expect_errno(ioctl(fd, 0xb5ff, 0), EINVAL, "unknown ioctl on the endpoint");
	expect_errno(ioctl(fd, RPMSG_CREATE_EPT_IOCTL, &info), EINVAL,
		     "control ioctl on the endpoint");
	expect_errno(ioctl(ctrl, 0xb5ff, &info), EINVAL, "unknown ioctl on the control node");
	expect_errno(ioctl(ctrl, RPMSG_CREATE_EPT_IOCTL, NULL), EFAULT, "CREATE_EPT with NULL");
	v = 42;
	expect_errno(ioctl(fd, RPMSG_GET_OUTGOING_FLOWCONTROL, &v), 0,
		     "RPMSG_GET_OUTGOING_FLOWCONTROL");
	if (v != 0)
		fail("outgoing flow control says %d", v);
	expect_errno(ioctl(fd, RPMSG_SET_INCOMING_FLOWCONTROL, 2), EINVAL,
		     "RPMSG_SET_INCOMING_FLOWCONTROL 2");
	expect_errno(ioctl(fd, RPMSG_SET_INCOMING_FLOWCONTROL, 1), EOPNOTSUPP,
		     "RPMSG_SET_INCOMING_FLOWCONTROL 1");
	expect_errno(ioctl(fd, RPMSG_SET_INCOMING_FLOWCONTROL, 0), EOPNOTSUPP,
		     "RPMSG_SET_INCOMING_FLOWCONTROL 0");
	expect_errno(ioctl(fd, RPMSG_GET_OUTGOING_FLOWCONTROL, NULL), EFAULT,
		     "RPMSG_GET_OUTGOING_FLOWCONTROL into NULL");
	/* The control node reads a whole rpmsg_endpoint_info before it looks at the request. */
	expect_errno(ioctl(ctrl, RPMSG_GET_OUTGOING_FLOWCONTROL, &info), EINVAL,
		     "flow-control ioctl on the control node");

	/* A name of 32 bytes without its NUL: cut to 31 (Linux), not refused. */
	memset(longname, 'n', 32);
	longname[32] = '\0';
	ept_info(&info, longname, RPMSG_ADDR_ANY, dst);
	expect_errno(ioctl(ctrl, RPMSG_CREATE_EPT_IOCTL, &info), 0,
		     "CREATE_EPT, unterminated name");
	longname[31] = '\0';
	if (!find_ept_node(longname, buf, sizeof(buf)))
		fail("no node named with the 31 bytes");
	fd2 = open_node(buf, O_RDWR);
	if (fd2 < 0)
		fail("open %s: %s", buf, strerror(errno));
	expect_errno(ioctl(fd2, RPMSG_DESTROY_EPT_IOCTL), 0, "RPMSG_DESTROY_EPT_IOCTL");
	if (!node_gone(buf))
		fail("%s still there after destroy", buf);
	ok("%s gone", buf);
	close(fd2);

	/* Closing while another thread blocks in read, then the endpoint goes. */
	{
		struct reader r = { .fd = fd };
		pthread_t th;

		fd2 = dup(fd);
		start_blocked_reader(&th, &r);
		expect_errno(close(fd), 0, "close while another thread blocks in read");
		expect_errno(ioctl(fd2, RPMSG_DESTROY_EPT_IOCTL), 0, "destroy under the reader");
		pthread_join(th, NULL);
		if (r.ret != -1 || r.err != EPIPE)
			fail("blocked reader: %zd (%s), wanted EPIPE", r.ret, strerror(r.err));
		ok("blocked reader woke: EPIPE");
		if (!(poll_one(fd2, POLLIN | POLLOUT, 0) & (POLLERR | POLLHUP)))
			fail("no POLLERR|POLLHUP after destroy");
		ok("poll after destroy: POLLERR|POLLHUP");
		expect_errno(write(fd2, "x", 1), EPIPE, "write after destroy");
		expect_errno(read(fd2, in, 1), EPIPE, "read after destroy");
		if (!node_gone(node))
			fail("%s still there after destroy", node);
		ok("%s gone", node);
		close(fd2);
	}
}

static void test_channel(int ctrl, int dst)
{
	struct rpmsg_endpoint_info info;
	struct reader r;
	char node[64], in[16], longname[32];
	pthread_t th;
	int fd, i;

	ept_info(&info, "rpmsg-raw", RPMSG_ADDR_ANY, dst);
	expect_errno(ioctl(ctrl, RPMSG_CREATE_DEV_IOCTL, &info), 0,
		     "RPMSG_CREATE_DEV_IOCTL rpmsg-raw");
	for (i = 0; i < 500 && !find_ept_node("rpmsg-raw", node, sizeof(node)); i++)
		usleep(10000);
	if (i == 500)
		fail("no node for the rpmsg-raw channel");
	ok("channel node %s, src %d", node, attr_int(class_dir, node, "src"));
	expect_errno(ioctl(ctrl, RPMSG_CREATE_DEV_IOCTL, &info), ENXIO, "the same channel again");
	fd = open_node(node, O_RDWR);
	if (fd < 0)
		fail("open %s: %s", node, strerror(errno));
	if (write(fd, "raw", 3) != 3 || !(poll_one(fd, POLLIN, TIMEOUT_MS) & POLLIN) ||
	    read(fd, in, sizeof(in)) != 3 || memcmp(in, "raw", 3))
		fail("echo through the channel's node");
	ok("echo through the channel's default endpoint");
	expect_errno(ioctl(fd, RPMSG_DESTROY_EPT_IOCTL), EINVAL, "destroy a channel's endpoint");
	r.fd = fd;
	start_blocked_reader(&th, &r);
	expect_errno(ioctl(ctrl, RPMSG_RELEASE_DEV_IOCTL, &info), 0,
		     "RPMSG_RELEASE_DEV_IOCTL under a blocked reader");
	pthread_join(th, NULL);
	if (r.ret != -1 || r.err != EPIPE)
		fail("blocked reader: %zd (%s), wanted EPIPE", r.ret, strerror(r.err));
	ok("blocked reader woke: EPIPE");
	if ((poll_one(fd, POLLIN, 0) & (POLLERR | POLLHUP)) != (POLLERR | POLLHUP))
		fail("no POLLERR|POLLHUP after release");
	ok("poll after release: POLLERR|POLLHUP");
	if (!node_gone(node))
		fail("%s still there after release", node);
	ok("%s gone", node);
	close(fd);
	expect_errno(ioctl(ctrl, RPMSG_RELEASE_DEV_IOCTL, &info), EINVAL, "release it again");

	/* A channel name of 32 bytes without its NUL: cut to 31, no driver binds. */
	memset(longname, 'c', 32);
	ept_info(&info, longname, RPMSG_ADDR_ANY, dst);
	expect_errno(ioctl(ctrl, RPMSG_CREATE_DEV_IOCTL, &info), 0,
		     "CREATE_DEV, unterminated name");
	expect_errno(ioctl(ctrl, RPMSG_RELEASE_DEV_IOCTL, &info), 0,
		     "RELEASE_DEV, unterminated name");
	expect_errno(ioctl(ctrl, RPMSG_RELEASE_DEV_IOCTL, &info), EINVAL,
		     "RELEASE_DEV, unterminated name, again");
	expect_errno(ioctl(ctrl, RPMSG_CREATE_DEV_IOCTL, (void *)16), EFAULT,
		     "CREATE_DEV from a bad address");
}

/*
 * The remote goes away under open files (@stop_cmd: stopped or crashed),
 * then comes back (@start_cmd: started or recovered).
 */
static void test_remote_restart(const char *service, const char *stop_cmd, const char *start_cmd)
{
	struct rpmsg_endpoint_info info;
	char ctrl_name[64], node[64];
	unsigned char in[64];
	struct reader r;
	pthread_t th;
	int ctrl, fd, dst;

	find_service(service, ctrl_name, sizeof(ctrl_name), &dst);
	ctrl = open_node(ctrl_name, O_RDWR);
	ept_info(&info, "uapi-restart", RPMSG_ADDR_ANY, dst);
	if (ctrl < 0 || ioctl(ctrl, RPMSG_CREATE_EPT_IOCTL, &info) ||
	    !find_ept_node("uapi-restart", node, sizeof(node)))
		fail("an endpoint before the restart: %s", strerror(errno));
	fd = open_node(node, O_RDWR);
	if (fd < 0)
		fail("open %s: %s", node, strerror(errno));
	echo_once(fd, (const unsigned char *)"before", in, 6, sizeof(in));
	r.fd = fd;
	start_blocked_reader(&th, &r);
	if (system(stop_cmd))
		fail("'%s' failed", stop_cmd);
	ok("remote gone (%s) under open files", stop_cmd);
	pthread_join(th, NULL);
	if (r.ret != -1 || r.err != EPIPE)
		fail("blocked reader: %zd (%s), wanted EPIPE", r.ret, strerror(r.err));
	ok("blocked reader woke: EPIPE");
	if ((poll_one(fd, POLLIN | POLLOUT, 0) & (POLLERR | POLLHUP)) != (POLLERR | POLLHUP))
		fail("no POLLERR|POLLHUP once the remote is gone");
	ok("poll: POLLERR|POLLHUP");
	expect_errno(write(fd, "x", 1), EPIPE, "write once the remote is gone");
	expect_errno(ioctl(ctrl, RPMSG_CREATE_EPT_IOCTL, &info), ENODEV,
		     "CREATE_EPT on the control node of a link that is gone");
	if (!node_gone(node) || !node_gone(ctrl_name))
		fail("%s or %s still there", node, ctrl_name);
	ok("%s and %s gone", node, ctrl_name);
	close(fd);
	close(ctrl);
	if (system(start_cmd))
		fail("'%s' failed", start_cmd);
	ok("remote back (%s)", start_cmd);
	find_service(service, ctrl_name, sizeof(ctrl_name), &dst);
	ctrl = open_node(ctrl_name, O_RDWR);
	ept_info(&info, "uapi-restarted", RPMSG_ADDR_ANY, dst);
	if (ctrl < 0 || ioctl(ctrl, RPMSG_CREATE_EPT_IOCTL, &info) ||
	    !find_ept_node("uapi-restarted", node, sizeof(node)))
		fail("an endpoint after the restart: %s", strerror(errno));
	fd = open_node(node, O_RDWR);
	if (fd < 0)
		fail("open %s: %s", node, strerror(errno));
	echo_once(fd, (const unsigned char *)"after", in, 5, sizeof(in));
	ok("new nodes %s and %s echo", ctrl_name, node);
	expect_errno(ioctl(fd, RPMSG_DESTROY_EPT_IOCTL), 0, "destroy it");
	close(fd);
	close(ctrl);
}

int main(int argc, char **argv)
{
	const char *service = argc > 1 ? argv[1] : "rpmsg-uapi-echo";
	const char *stop_cmd = NULL, *start_cmd = NULL;
	const char *crash_cmd = NULL, *recover_cmd = NULL;
	char ctrl_name[64];
	struct stat st;
	int ctrl, dst, mtu, i;

	for (i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--stop"))
			stop_cmd = argv[i + 1];
		else if (!strcmp(argv[i], "--start"))
			start_cmd = argv[i + 1];
		else if (!strcmp(argv[i], "--crash"))
			crash_cmd = argv[i + 1];
		else if (!strcmp(argv[i], "--recover"))
			recover_cmd = argv[i + 1];
		else
			fail("usage: %s [SERVICE [--stop CMD --start CMD] "
			     "[--crash CMD --recover CMD]]",
			     argv[0]);
	}

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!stat("/sys/class/keel_rpmsg", &st)) {
		class_dir = "/sys/class/keel_rpmsg";
		bus_dir = "/sys/bus/keel_rpmsg/devices";
		dev_dir = "/dev/keel_rpmsg";
	} else {
		class_dir = "/sys/class/rpmsg";
		bus_dir = "/sys/bus/rpmsg/devices";
		dev_dir = "/dev";
	}
	printf(PROG ": nodes in %s, channels in %s\n", dev_dir, bus_dir);
	find_service(service, ctrl_name, sizeof(ctrl_name), &dst);
	mtu = attr_int(class_dir, ctrl_name, "mtu");
	if (mtu <= 0 || mtu > 4096)
		fail("%s: MTU %d", ctrl_name, mtu);
	ctrl = open_node(ctrl_name, O_RDWR);
	if (ctrl < 0)
		fail("open %s/%s: %s", dev_dir, ctrl_name, strerror(errno));
	ok("open %s (MTU %d)", ctrl_name, mtu);
	test_endpoint(ctrl, dst, mtu);
	test_channel(ctrl, dst);
	close(ctrl);
	if (stop_cmd && start_cmd)
		test_remote_restart(service, stop_cmd, start_cmd);
	if (crash_cmd && recover_cmd)
		test_remote_restart(service, crash_cmd, recover_cmd);
	printf(PROG ": PASS (%d checks)\n", checks);
	return 0;
}
