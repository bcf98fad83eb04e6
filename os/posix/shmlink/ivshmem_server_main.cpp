// SPDX-License-Identifier: GPL-2.0
/*
 * keel-ivshmem-server: a standalone ivshmem-server (QEMU protocol version
 * 0) for QEMU guests and hosted peers. Options follow QEMU's server:
 *	-S path   Unix socket (default /tmp/ivshmem_socket)
 *	-l size   shared memory size, a power of two (k, m suffixes; default 4m)
 *	-n count  vectors per peer (default 1)
 */
#include "shmlink.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static shmlink::Server *s_server;

static void on_signal(int)
{
	s_server->stop();
}

static size_t parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 0);
	if (*end == 'k' || *end == 'K')
		v <<= 10;
	else if (*end == 'm' || *end == 'M')
		v <<= 20;
	else if (*end == 'g' || *end == 'G')
		v <<= 30;
	return size_t(v);
}

int main(int argc, char **argv)
{
	const char *path = "/tmp/ivshmem_socket";
	size_t size = 4 << 20;
	unsigned vectors = 1;
	int opt;
	while ((opt = getopt(argc, argv, "S:l:n:h")) != -1) {
		switch (opt) {
		case 'S':
			path = optarg;
			break;
		case 'l':
			size = parse_size(optarg);
			break;
		case 'n':
			vectors = unsigned(strtoul(optarg, nullptr, 0));
			break;
		default:
			fprintf(stderr, "usage: %s [-S socket] [-l size] [-n vectors]\n", argv[0]);
			return 2;
		}
	}
	auto r = shmlink::Server::create(path, size, vectors);
	if (r.is_error())
		return 1;
	s_server = r.value();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("keel-ivshmem-server: %s, %zu bytes, %u vectors\n", path, size, vectors);
	fflush(stdout);
	s_server->run();
	delete s_server;
	return 0;
}
