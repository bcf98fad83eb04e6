// SPDX-License-Identifier: GPL-2.0
/*
 * rpmsg: a command-line tool for the rpmsg character devices: list the
 * links, channels and endpoints with their counters, create and destroy
 * endpoints, create and release channels, send and receive messages, ping
 * an echo service with latency statistics and a histogram.
 *
 * A Linux program: <linux/rpmsg.h>, libc, the character devices and their
 * attributes in sysfs, nothing else. Built for the hosted port too
 * (RPMSGDEV_HOSTED: rpmsgdev maps the same calls onto keel's hosted
 * character devices, with a simulated remote in the process).
 * Documentation/rpmsg-char.rst has the details; "rpmsg --help" the usage.
 *
 * Exit status: 0 success; 1 an operation failed (or a ping lost replies);
 * 2 bad usage.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/rpmsg.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef RPMSGDEV_HOSTED
#include <rpmsgdev_posix.h>
#endif

#include "../lib/cli_opts.h"

#define EXIT_USAGE 2
#define NAME_LEN 64
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *prog = "rpmsg";
static const char *class_dir, *bus_dir, *dev_dir;

static const char usage_text[] =
	"Usage: rpmsg [OPTIONS] COMMAND [ARGS] [-- COMMAND [ARGS]]...\n"
	"\n"
	"Talk to remote processors through the rpmsg character devices\n"
	"(/dev/rpmsg_ctrlN, /dev/rpmsgN; Linux's names, or keel's under\n"
	"/dev/keel_rpmsg/ when the kernel has its own rpmsg).\n"
	"\n"
	"Commands:\n"
	"  list                        links (control nodes), channels and endpoint\n"
	"                              nodes, with their counters\n"
	"  create-ept NAME DST [SRC]   create an endpoint node (RPMSG_CREATE_EPT_IOCTL);\n"
	"                              prints its /dev path\n"
	"  destroy-ept NODE            destroy it (RPMSG_DESTROY_EPT_IOCTL)\n"
	"  create-dev NAME DST [SRC]   create a channel (RPMSG_CREATE_DEV_IOCTL); prints\n"
	"                              its node's /dev path when its driver makes one\n"
	"                              (\"rpmsg-raw\": messages queue while it is closed)\n"
	"  release-dev NAME DST [SRC]  release a channel (RPMSG_RELEASE_DEV_IOCTL)\n"
	"  send NODE MESSAGE...        write each MESSAGE as one message (an endpoint\n"
	"                              made by create-ept lives while its node is open)\n"
	"  recv NODE                   read messages and print them\n"
	"  talk NODE MESSAGE...        write each MESSAGE, print the reply to each\n"
	"  ping SERVICE|NODE           send to an echo service and time the replies\n"
	"\n"
	"NODE is rpmsgN, its /dev path, or a channel's device name. SERVICE is a\n"
	"channel name (the remote's service); DST and SRC are addresses (decimal\n"
	"or 0x...), SRC defaults to any. Several commands run in order when\n"
	"separated by \"--\".\n"
	"\n"
	"Options:\n"
	"  -C, --ctrl CTRL     the link to use: a control node, or a service's name\n"
	"                      (default: the first link whose remote announced a\n"
	"                      channel, else the first)\n"
	"  -c, --count N       messages to send (ping: 10) or receive (recv: until\n"
	"                      the timeout)\n"
	"  -s, --size N        ping payload bytes (default 64, at most the MTU)\n"
	"  -i, --interval MS   wait between pings (default 0)\n"
	"  -t, --timeout MS    wait for each reply or message (default 1000)\n"
	"  -x, --hex           print (recv, talk) or parse (send, talk) messages as hex\n"
	"  -q, --quiet         ping: statistics only\n"
	"  -h, --help          this text\n"
	"\n"
	"Exit status: 0 success, 1 failure (a ping with replies lost too), 2 usage.\n";

struct opts {
	const char *ctrl;
	long count;
	long size;
	long interval_ms;
	long timeout_ms;
	int hex;
	int quiet;
};

static void msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", prog);
	va_end(ap);
	return EXIT_USAGE;
}

/* --- sysfs and /dev --- */

static void pick_names(void)
{
	struct stat st;

	if (!stat("/sys/class/keel_rpmsg", &st)) {
		class_dir = "/sys/class/keel_rpmsg";
		bus_dir = "/sys/bus/keel_rpmsg/devices";
		dev_dir = "/dev/keel_rpmsg";
	} else {
		class_dir = "/sys/class/rpmsg";
		bus_dir = "/sys/bus/rpmsg/devices";
		dev_dir = "/dev";
	}
}

static int read_attr(const char *dir, const char *node, const char *attr, char *buf, size_t size)
{
	char path[512];
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s/%s", dir, node, attr) >= (int)sizeof(path))
		return -1;
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

static const char *attr_or(const char *dir, const char *node, const char *attr, char *buf,
			   size_t size, const char *dflt)
{
	return read_attr(dir, node, attr, buf, size) ? dflt : buf;
}

static int is_ctrl(const char *name)
{
	return !strncmp(name, "rpmsg_ctrl", 10);
}

static int is_ept(const char *name)
{
	return !strncmp(name, "rpmsg", 5) && !is_ctrl(name) && name[5] >= '0' && name[5] <= '9';
}

/* Sorted names of a directory's entries that @keep accepts. */
static int list_dir(const char *dir, int (*keep)(const char *), char names[][NAME_LEN], int max)
{
	struct dirent *e;
	int n = 0, i, j;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		if (e->d_name[0] == '.' || (keep && !keep(e->d_name)) ||
		    strlen(e->d_name) >= NAME_LEN)
			continue;
		strcpy(names[n++], e->d_name);
	}
	closedir(d);
	/* Natural order: rpmsg2 before rpmsg10. */
	for (i = 1; i < n; i++) {
		for (j = i; j > 0; j--) {
			if (strverscmp(names[j - 1], names[j]) <= 0)
				break;
			char tmp[NAME_LEN];
			strcpy(tmp, names[j]);
			strcpy(names[j], names[j - 1]);
			strcpy(names[j - 1], tmp);
		}
	}
	return n;
}

static void node_path(const char *node, char *path, size_t size)
{
	if (node[0] == '/')
		snprintf(path, size, "%s", node);
	else
		snprintf(path, size, "%s/%s", dev_dir, node);
}

/* Opens a control or endpoint node (a name under the /dev directory, or a path). */
static int open_node(const char *node, int flags)
{
	char path[512];
	int fd;

	node_path(node, path, sizeof(path));
	fd = open(path, flags);
	if (fd < 0)
		msg("%s: %s", path, strerror(errno));
	return fd;
}

/* The node name of a path or a name. */
static const char *node_name(const char *node)
{
	const char *slash = strrchr(node, '/');

	return slash ? slash + 1 : node;
}

static int parse_addr(const char *s, __u32 *out)
{
	char *end;
	unsigned long v;

	if (!strcmp(s, "any") || !strcmp(s, "-1")) {
		*out = RPMSG_ADDR_ANY;
		return 0;
	}
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || end == s || v > 0xffffffffUL)
		return -1;
	*out = (__u32)v;
	return 0;
}

/* --- list --- */

/* One column of a list table: an attribute of each entry, or its name (@attr NULL). */
struct column {
	const char *title;
	int width; /* negative: left-aligned */
	const char *attr;
	const char *dflt; /* when the attribute is missing or empty */
};

static void list_table(const char *dir, int (*keep)(const char *), const struct column *cols,
		       int ncols)
{
	static char names[512][NAME_LEN];
	char buf[64];
	const char *v;
	int n, i, c;

	n = list_dir(dir, keep, names, 512);
	for (c = 0; c < ncols; c++)
		printf("%*s%s", cols[c].width, cols[c].title, c + 1 < ncols ? " " : "\n");
	for (i = 0; i < n; i++) {
		for (c = 0; c < ncols; c++) {
			v = cols[c].attr ? attr_or(dir, names[i], cols[c].attr, buf, sizeof(buf),
						   cols[c].dflt)
					 : names[i];
			printf("%*s%s", cols[c].width, *v ? v : cols[c].dflt,
			       c + 1 < ncols ? " " : "\n");
		}
	}
}

static int cmd_list(void)
{
	static const struct column links[] = {
		{ "CONTROL", -13, NULL, "" },	 { "LINK", -20, "link", "?" },
		{ "MTU", 5, "mtu", "?" },	 { "RX", 10, "rx_count", "-" },
		{ "TX", 10, "tx_count", "-" },	 { "DROPPED", 8, "rx_dropped", "-" },
		{ "EPTS", 5, "endpoints", "-" }, { "CHANNELS", 8, "channels", "-" },
	};
	static const struct column channels[] = {
		{ "CHANNEL", -40, NULL, "" },
		{ "NAME", -24, "name", "?" },
		{ "SRC", 6, "src", "?" },
		{ "DST", 6, "dst", "?" },
		{ "ANNOUNCE", -8, "announce", "?" },
		{ "DRIVER", -14, "driver", "-" },
		{ "CONTROL", 0, "ctrl", "-" },
	};
	static const struct column endpoints[] = {
		{ "ENDPOINT", -10, NULL, "" },
		{ "NAME", -24, "name", "?" },
		{ "SRC", 6, "src", "?" },
		{ "DST", 6, "dst", "?" },
		{ "ADDR", 6, "addr", "-" },
		{ "QUEUED", 6, "queued", "-" },
		{ "RX", 10, "rx_count", "-" },
		{ "TX", 10, "tx_count", "-" },
		{ "RX_DROPPED", 10, "rx_dropped", "-" },
	};

	list_table(class_dir, is_ctrl, links, ARRAY_SIZE(links));
	printf("\n");
	list_table(bus_dir, NULL, channels, ARRAY_SIZE(channels));
	printf("\n");
	list_table(class_dir, is_ept, endpoints, ARRAY_SIZE(endpoints));
	return 0;
}

/* --- control node operations --- */

static int find_service(const char *service, __u32 *dst, char *ctrl, size_t size);

/*
 * The control node to use: -C's (a control node, or a service whose link
 * to take), else the first link on which the remote announced a channel
 * (a channel with a remote address: the link to a remote processor, not
 * the remote role of a processor that is one), else the first link.
 */
static int default_ctrl(const struct opts *o, char *out, size_t size)
{
	static char names[512][NAME_LEN];
	char buf[64];
	int n, i;
	__u32 dst;

	if (o->ctrl) {
		if (!is_ctrl(node_name(o->ctrl)) && !find_service(o->ctrl, &dst, out, size))
			return 0;
		snprintf(out, size, "%s", node_name(o->ctrl));
		return 0;
	}
	n = list_dir(bus_dir, NULL, names, 512);
	for (i = 0; i < n; i++) {
		if (read_attr(bus_dir, names[i], "dst", buf, sizeof(buf)) || !strcmp(buf, "-1"))
			continue;
		if (!read_attr(bus_dir, names[i], "ctrl", out, size) && out[0])
			return 0;
	}
	if (list_dir(class_dir, is_ctrl, names, 1) < 1) {
		msg("no control node in %s (no rpmsg link?)", class_dir);
		return -1;
	}
	snprintf(out, size, "%s", names[0]);
	return 0;
}

static int fill_info(struct rpmsg_endpoint_info *info, const char *name, const char *dst,
		     const char *src)
{
	if (strlen(name) >= sizeof(info->name))
		return usage_error("name '%s': at most %zu characters", name,
				   sizeof(info->name) - 1);
	memset(info, 0, sizeof(*info));
	memcpy(info->name, name, strlen(name));
	if (parse_addr(dst, &info->dst))
		return usage_error("bad address '%s'", dst);
	info->src = RPMSG_ADDR_ANY;
	if (src && parse_addr(src, &info->src))
		return usage_error("bad address '%s'", src);
	return 0;
}

/* The newest endpoint node named @name, or -1. */
static int newest_ept(const char *name, char *out, size_t size)
{
	static char names[512][NAME_LEN];
	char buf[64];
	int n, i;

	n = list_dir(class_dir, is_ept, names, 512);
	for (i = n - 1; i >= 0; i--) {
		if (!read_attr(class_dir, names[i], "name", buf, sizeof(buf)) &&
		    !strcmp(buf, name)) {
			snprintf(out, size, "%s", names[i]);
			return 0;
		}
	}
	return -1;
}

static int ctrl_ioctl(const struct opts *o, unsigned long req, const char *what, int argc,
		      char **argv, char *made, size_t made_size)
{
	struct rpmsg_endpoint_info info;
	char ctrl[NAME_LEN];
	int fd, ret;

	if (argc < 2 || argc > 3)
		return usage_error("%s: NAME DST [SRC]", what);
	ret = fill_info(&info, argv[0], argv[1], argc > 2 ? argv[2] : NULL);
	if (ret)
		return ret;
	if (default_ctrl(o, ctrl, sizeof(ctrl)))
		return 1;
	fd = open_node(ctrl, O_RDWR);
	if (fd < 0)
		return 1;
	ret = ioctl(fd, req, &info);
	if (ret < 0) {
		msg("%s %s on %s: %s", what, argv[0], ctrl, strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	if (made && newest_ept(argv[0], made, made_size))
		made[0] = '\0';
	return 0;
}

static int cmd_create_ept(const struct opts *o, int argc, char **argv)
{
	char node[NAME_LEN];
	int ret =
		ctrl_ioctl(o, RPMSG_CREATE_EPT_IOCTL, "create-ept", argc, argv, node, sizeof(node));

	if (!ret)
		printf("%s/%s\n", dev_dir, node[0] ? node : "?");
	return ret;
}

static int cmd_create_dev(const struct opts *o, int argc, char **argv)
{
	char node[NAME_LEN];
	int ret, i;

	ret = ctrl_ioctl(o, RPMSG_CREATE_DEV_IOCTL, "create-dev", argc, argv, NULL, 0);
	if (ret)
		return ret;
	/* A channel whose driver makes a node ("rpmsg-raw"): say where it is. */
	for (i = 0; i < 100; i++) {
		if (!newest_ept(argv[0], node, sizeof(node))) {
			printf("%s/%s\n", dev_dir, node);
			break;
		}
		usleep(10000);
	}
	return 0;
}

static int cmd_release_dev(const struct opts *o, int argc, char **argv)
{
	return ctrl_ioctl(o, RPMSG_RELEASE_DEV_IOCTL, "release-dev", argc, argv, NULL, 0);
}

static int cmd_destroy_ept(int argc, char **argv)
{
	int fd;

	if (argc != 1)
		return usage_error("destroy-ept: NODE");
	fd = open_node(argv[0], O_RDWR);
	if (fd < 0)
		return 1;
	if (ioctl(fd, RPMSG_DESTROY_EPT_IOCTL) < 0) {
		msg("destroy-ept %s: %s", argv[0], strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	return 0;
}

/* --- send, recv --- */

static int parse_hex(const char *s, unsigned char *out, size_t size, size_t *len)
{
	size_t n = 0;

	while (*s) {
		unsigned int b;

		if (*s == ' ' || *s == ':') {
			s++;
			continue;
		}
		if (n == size || sscanf(s, "%2x", &b) != 1 || !s[1])
			return -1;
		out[n++] = (unsigned char)b;
		s += 2;
	}
	*len = n;
	return 0;
}

/* A MESSAGE argument into @buf: its text, or the bytes it spells with --hex. */
static int message_arg(const struct opts *o, const char *cmd, const char *arg, unsigned char *buf,
		       size_t size, size_t *len)
{
	if (o->hex) {
		if (parse_hex(arg, buf, size, len))
			return usage_error("%s: bad hex '%s'", cmd, arg);
		return 0;
	}
	*len = strlen(arg);
	if (*len > size)
		return usage_error("%s: message of %zu bytes, at most %zu", cmd, *len, size);
	memcpy(buf, arg, *len);
	return 0;
}

static void print_message(const unsigned char *buf, size_t len, int hex);

/*
 * send and talk: each MESSAGE written as one message, on one open of the
 * node; talk (@reply) reads and prints the reply to each before the next.
 */
static int write_messages(const struct opts *o, const char *cmd, int reply, int argc, char **argv)
{
	unsigned char buf[65536];
	int fd, i, ret = 0;
	ssize_t n;

	if (argc < 2)
		return usage_error("%s: NODE MESSAGE...", cmd);
	fd = open_node(argv[0], O_RDWR);
	if (fd < 0)
		return 1;
	for (i = 1; i < argc && !ret; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		size_t len = 0;

		ret = message_arg(o, cmd, argv[i], buf, sizeof(buf), &len);
		if (ret)
			break;
		if (write(fd, buf, len) != (ssize_t)len) {
			msg("%s to %s: %s", cmd, argv[0], strerror(errno));
			ret = 1;
		} else if (!reply) {
			continue;
		} else if (poll(&p, 1, (int)o->timeout_ms) <= 0 || !(p.revents & POLLIN)) {
			msg("%s to %s: no reply within %ld ms", cmd, argv[0], o->timeout_ms);
			ret = 1;
		} else if ((n = read(fd, buf, sizeof(buf))) < 0) {
			msg("read %s: %s", argv[0], strerror(errno));
			ret = 1;
		} else {
			print_message(buf, (size_t)n, o->hex);
		}
	}
	close(fd);
	return ret;
}

static void print_message(const unsigned char *buf, size_t len, int hex)
{
	size_t i;

	if (hex) {
		for (i = 0; i < len; i++)
			printf("%02x%s", buf[i], i + 1 < len ? " " : "");
		printf("\n");
		return;
	}
	for (i = 0; i < len; i++)
		putchar(buf[i] >= 0x20 && buf[i] < 0x7f ? buf[i] : '.');
	printf("\n");
}

static int cmd_recv(const struct opts *o, int argc, char **argv)
{
	unsigned char buf[65536];
	struct pollfd p;
	long got = 0;
	ssize_t n;
	int fd;

	if (argc != 1)
		return usage_error("recv: NODE");
	fd = open_node(argv[0], O_RDWR | O_NONBLOCK);
	if (fd < 0)
		return 1;
	while (o->count <= 0 || got < o->count) {
		p.fd = fd;
		p.events = POLLIN;
		p.revents = 0;
		if (poll(&p, 1, (int)o->timeout_ms) < 0) {
			msg("poll %s: %s", argv[0], strerror(errno));
			break;
		}
		if (p.revents & (POLLERR | POLLHUP)) {
			msg("%s: the endpoint went away", argv[0]);
			close(fd);
			return 1;
		}
		if (!(p.revents & POLLIN))
			break;
		n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EAGAIN)
				continue;
			msg("read %s: %s", argv[0], strerror(errno));
			close(fd);
			return 1;
		}
		print_message(buf, (size_t)n, o->hex);
		got++;
	}
	close(fd);
	if (o->count > 0 && got < o->count) {
		msg("%ld of %ld messages within %ld ms", got, o->count, o->timeout_ms);
		return 1;
	}
	return 0;
}

/* --- ping --- */

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Finds the channel named @service with a remote address: its dst and control node. */
static int find_service(const char *service, __u32 *dst, char *ctrl, size_t size)
{
	static char names[512][NAME_LEN];
	char buf[64];
	int n, i;

	n = list_dir(bus_dir, NULL, names, 512);
	for (i = 0; i < n; i++) {
		if (read_attr(bus_dir, names[i], "name", buf, sizeof(buf)) || strcmp(buf, service))
			continue;
		if (read_attr(bus_dir, names[i], "dst", buf, sizeof(buf)) || !strcmp(buf, "-1"))
			continue;
		*dst = (__u32)strtoul(buf, NULL, 0);
		return read_attr(bus_dir, names[i], "ctrl", ctrl, size);
	}
	return -1;
}

static void histogram(const double *rtt, long n)
{
	long buckets[32] = { 0 }, top = 1;
	int lo = 31, hi = 0, b, i;

	for (i = 0; i < n; i++) {
		b = rtt[i] < 1 ? 0 : (int)log2(rtt[i]);
		b = b > 31 ? 31 : b;
		buckets[b]++;
		lo = b < lo ? b : lo;
		hi = b > hi ? b : hi;
	}
	for (b = lo; b <= hi; b++)
		top = buckets[b] > top ? buckets[b] : top;
	printf("histogram (us):\n");
	for (b = lo; b <= hi; b++) {
		int bar = (int)(buckets[b] * 40 / top);

		printf("  %7lu - %-7lu |%-40.*s| %ld\n", 1UL << b, 1UL << (b + 1), bar,
		       "########################################", buckets[b]);
	}
}

static int cmd_ping(const struct opts *o, int argc, char **argv)
{
	char node[NAME_LEN], ctrl[NAME_LEN], buf[64];
	unsigned char out[65536], in[65536];
	struct rpmsg_endpoint_info info;
	double *rtt, t0, t_start, sum = 0, sq = 0;
	long sent = 0, received = 0, bad = 0, i, mtu;
	int fd, made = 0, ctrl_fd = -1;
	__u32 dst;

	if (argc != 1)
		return usage_error("ping: SERVICE|NODE");
	if (find_service(argv[0], &dst, ctrl, sizeof(ctrl)) == 0) {
		/* An endpoint of our own towards the service, for this ping only. */
		if (o->ctrl)
			snprintf(ctrl, sizeof(ctrl), "%s", node_name(o->ctrl));
		ctrl_fd = open_node(ctrl, O_RDWR);
		if (ctrl_fd < 0)
			return 1;
		snprintf(buf, sizeof(buf), "ping-%d", (int)getpid());
		memset(&info, 0, sizeof(info));
		memcpy(info.name, buf, strlen(buf));
		info.src = RPMSG_ADDR_ANY;
		info.dst = dst;
		if (ioctl(ctrl_fd, RPMSG_CREATE_EPT_IOCTL, &info) < 0 ||
		    newest_ept(buf, node, sizeof(node))) {
			msg("ping: no endpoint on %s: %s", ctrl, strerror(errno));
			close(ctrl_fd);
			return 1;
		}
		made = 1;
	} else if (is_ept(node_name(argv[0]))) {
		snprintf(node, sizeof(node), "%s", node_name(argv[0]));
		dst = (__u32)strtol(attr_or(class_dir, node, "dst", buf, sizeof(buf), "-1"), NULL,
				    0);
		if (default_ctrl(o, ctrl, sizeof(ctrl)))
			return 1;
	} else {
		msg("ping: no service or endpoint node '%s'", argv[0]);
		return 1;
	}
	mtu = atol(attr_or(class_dir, ctrl, "mtu", buf, sizeof(buf), "496"));
	if (o->size < 8 || o->size > mtu) {
		if (made)
			close(ctrl_fd);
		return usage_error("ping: size %ld: 8 to the MTU (%ld)", o->size, mtu);
	}
	fd = open_node(node, O_RDWR);
	if (fd < 0)
		return 1;
	rtt = calloc((size_t)o->count, sizeof(*rtt));
	if (!rtt) {
		msg("out of memory");
		return 1;
	}
	if (!o->quiet)
		printf("PING %s (address %u via %s, %s): %ld bytes\n", argv[0], dst, ctrl, node,
		       o->size);
	t_start = now_us();
	for (i = 0; i < o->count; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint32_t seq = (uint32_t)i;
		ssize_t n;

		for (long k = 0; k < o->size; k++)
			out[k] = (unsigned char)(k * 31 + i);
		memcpy(out, &seq, sizeof(seq));
		t0 = now_us();
		if (write(fd, out, (size_t)o->size) != o->size) {
			msg("ping: write: %s", strerror(errno));
			break;
		}
		sent++;
		for (;;) {
			double left = o->timeout_ms - (now_us() - t0) / 1000;

			p.revents = 0;
			if (left <= 0 || poll(&p, 1, (int)left + 1) <= 0)
				break;
			if (p.revents & (POLLERR | POLLHUP))
				break;
			n = read(fd, in, sizeof(in));
			if (n < 0)
				break;
			uint32_t got_seq = 0;

			if (n >= 4)
				memcpy(&got_seq, in, sizeof(got_seq));
			if (n != o->size || got_seq != seq || memcmp(in, out, (size_t)n)) {
				bad++; /* a late reply to an earlier ping, or a wrong one */
				continue;
			}
			rtt[received] = now_us() - t0;
			sum += rtt[received];
			sq += rtt[received] * rtt[received];
			if (!o->quiet)
				printf("%zd bytes from %u: seq=%u time=%.1f us\n", n, dst, seq,
				       rtt[received]);
			received++;
			break;
		}
		if (p.revents & (POLLERR | POLLHUP)) {
			msg("ping: the endpoint went away");
			break;
		}
		if (o->interval_ms && i + 1 < o->count)
			usleep((useconds_t)o->interval_ms * 1000);
	}
	printf("--- %s ping statistics ---\n", argv[0]);
	printf("%ld sent, %ld received, %ld%% lost, %ld bad, time %.0f ms\n", sent, received,
	       sent ? (sent - received) * 100 / sent : 0, bad, (now_us() - t_start) / 1000);
	if (received) {
		double avg = sum / received, var = sq / received - avg * avg;

		qsort(rtt, (size_t)received, sizeof(*rtt), cmp_double);
		printf("rtt min/avg/max/mdev = %.1f/%.1f/%.1f/%.1f us, p50 %.1f, p90 %.1f, "
		       "p99 %.1f us\n",
		       rtt[0], avg, rtt[received - 1], var > 0 ? sqrt(var) : 0,
		       rtt[(received - 1) / 2], rtt[(received - 1) * 9 / 10],
		       rtt[(received - 1) * 99 / 100]);
		histogram(rtt, received);
	}
	free(rtt);
	if (made) {
		if (ioctl(fd, RPMSG_DESTROY_EPT_IOCTL) < 0)
			msg("ping: destroy %s: %s", node, strerror(errno));
		close(ctrl_fd);
	}
	close(fd);
	return received == sent && sent == o->count ? 0 : 1;
}

/* --- main --- */

static int run(struct opts *o, int argc, char **argv)
{
	const char *cmd = argv[0];

	argc--;
	argv++;
	if (!strcmp(cmd, "list")) {
		if (argc)
			return usage_error("list takes no arguments");
		return cmd_list();
	}
	if (!strcmp(cmd, "create-ept"))
		return cmd_create_ept(o, argc, argv);
	if (!strcmp(cmd, "destroy-ept"))
		return cmd_destroy_ept(argc, argv);
	if (!strcmp(cmd, "create-dev"))
		return cmd_create_dev(o, argc, argv);
	if (!strcmp(cmd, "release-dev"))
		return cmd_release_dev(o, argc, argv);
	if (!strcmp(cmd, "send"))
		return write_messages(o, "send", 0, argc, argv);
	if (!strcmp(cmd, "recv"))
		return cmd_recv(o, argc, argv);
	if (!strcmp(cmd, "talk"))
		return write_messages(o, "talk", 1, argc, argv);
	if (!strcmp(cmd, "ping")) {
		if (o->count <= 0)
			o->count = 10;
		return cmd_ping(o, argc, argv);
	}
	return usage_error("unknown command '%s'", cmd);
}

int main(int argc, char **argv)
{
	struct opts o = { .size = 64, .timeout_ms = 1000 };
	const struct cli_opt opts[] = {
		CLI_OPT_STRING('C', "ctrl"),
		CLI_OPT_NUMBER('c', "count", 1, 100000000, o.count),
		CLI_OPT_NUMBER('s', "size", 0, 65536, o.size),
		CLI_OPT_NUMBER('i', "interval", 0, 3600000, o.interval_ms),
		CLI_OPT_NUMBER('t', "timeout", 0, 3600000, o.timeout_ms),
		CLI_OPT_NONE('x', "hex"),
		CLI_OPT_NONE('q', "quiet"),
		CLI_OPT_NONE('h', "help"),
	};
	/* Options first (POSIX order), so that "--" separates commands. */
	struct cli cli = { .prog = prog, .posix = 1, .opts = opts, .nopts = ARRAY_SIZE(opts) };
	int c, start, i, ret = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = cli_getopt(&cli, argc, argv)) != -1) {
		switch (c) {
		case 'C':
			o.ctrl = optarg;
			break;
		case 0: /* a number, stored */
			break;
		case 'x':
			o.hex = 1;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fprintf(stderr, "Try '%s --help' for more information.\n", prog);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return usage_error("no command");
	pick_names();
	/* Commands separated by "--", each run in turn; the first failure stops. */
	for (start = optind, i = optind; i <= argc && !ret; i++) {
		if (i < argc && strcmp(argv[i], "--"))
			continue;
		if (i > start)
			ret = run(&o, i - start, argv + start);
		start = i + 1;
	}
	return ret;
}
