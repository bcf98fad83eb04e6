/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A Linux program on the hosted port, unchanged: include this after the
 * program's system headers (and only when building it hosted), and its
 * open(), read(), write(), ioctl(), poll(), ... go through rpmsgdev
 * (rpmsgdev.h), which passes every path and descriptor that is not an
 * rpmsg node's to libc. Its main() then runs with a remote processor in
 * the process (rpmsgdev_run()).
 *
 *	#include <linux/rpmsg.h>
 *	... system headers ...
 *	#ifdef RPMSGDEV_HOSTED
 *	#include <rpmsgdev_posix.h>
 *	#endif
 */
#ifndef RPMSGDEV_POSIX_H
#define RPMSGDEV_POSIX_H

#include "rpmsgdev.h"

int rpmsgdev_program_main(int argc, char **argv);

int main(int argc, char **argv)
{
	return rpmsgdev_run(rpmsgdev_program_main, argc, argv);
}

#define main rpmsgdev_program_main
#define open(...) rpmsgdev_open(__VA_ARGS__)
#define close(fd) rpmsgdev_close(fd)
#define read(fd, buf, n) rpmsgdev_read(fd, buf, n)
#define write(fd, buf, n) rpmsgdev_write(fd, buf, n)
#define ioctl(...) rpmsgdev_ioctl(__VA_ARGS__)
#define poll(fds, n, timeout) rpmsgdev_poll(fds, n, timeout)
#define fcntl(...) rpmsgdev_fcntl(__VA_ARGS__)
#define dup(fd) rpmsgdev_dup(fd)
#define stat(path, st) rpmsgdev_stat(path, st)
#define opendir(path) rpmsgdev_opendir(path)
#define readdir(dir) rpmsgdev_readdir(dir)
#define closedir(dir) rpmsgdev_closedir(dir)
#define system(cmd) rpmsgdev_system(cmd)

#endif
