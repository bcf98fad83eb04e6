/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rpmsgdev: the rpmsg character devices (the UAPI of <linux/rpmsg.h>) for
 * hosted programs, over the rpmsg links of this process. Same semantics
 * as the kernel port's /dev/rpmsg_ctrlN and /dev/rpmsgN: both are faces of
 * one core (<rpmsg/rpmsg_char.h>), tested by one suite.
 *
 * The calls are POSIX's, with the same arguments and returns (-1 and
 * errno on error), and so is the view: the hosted nodes are files under
 * /dev (/dev/rpmsg_ctrlN, /dev/rpmsgN), their attributes under
 * /sys/class/rpmsg/<node>/ and the channels under /sys/bus/rpmsg/devices/,
 * as Linux shows them. Descriptors of these files are numbered from
 * RPMSGDEV_FD_BASE up; every other path and descriptor is passed to libc,
 * so a program can use these calls for all of its I/O.
 *
 * A program written for Linux runs on the hosted port unchanged once
 * <rpmsgdev_posix.h> (which maps open(), read(), ... onto these) is
 * included after its system headers; rpmsgdev_run() gives it a remote.
 */
#ifndef RPMSGDEV_H
#define RPMSGDEV_H

#include <dirent.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Descriptors of rpmsgdev's files start here (far above the process's own). */
#define RPMSGDEV_FD_BASE 0x40000

/**
 * rpmsgdev_init() - register the hosted character devices (counted).
 *
 * Every rpmsg link of the process, existing and future, gets its nodes.
 * Return: 0, or -1 with errno.
 */
int rpmsgdev_init(void);
/* rpmsgdev_exit() - undo one rpmsgdev_init(); the last takes the nodes down. */
void rpmsgdev_exit(void);

int rpmsgdev_open(const char *path, int flags, ...);
int rpmsgdev_close(int fd);
ssize_t rpmsgdev_read(int fd, void *buf, size_t count);
ssize_t rpmsgdev_write(int fd, const void *buf, size_t count);
int rpmsgdev_ioctl(int fd, unsigned long request, ...);
int rpmsgdev_poll(struct pollfd *fds, nfds_t nfds, int timeout);
/* F_GETFL and F_SETFL (O_NONBLOCK) on rpmsgdev's descriptors. */
int rpmsgdev_fcntl(int fd, int cmd, ...);
int rpmsgdev_dup(int fd);
int rpmsgdev_stat(const char *path, struct stat *st);
DIR *rpmsgdev_opendir(const char *path);
struct dirent *rpmsgdev_readdir(DIR *dir);
int rpmsgdev_closedir(DIR *dir);

/**
 * rpmsgdev_run() - run @main_fn with a remote processor in this process.
 * @main_fn: the program's main
 * @argc: its arguments
 * @argv: its arguments
 *
 * Sets up a remote in the same process (host and remote roles over shared
 * memory, <rpmsg/rpmsg_loopback.h>) whose services are the comma-separated
 * names of $RPMSGDEV_SERVICES (default "rpmsg-uapi-echo"), each served by
 * the echo service of samples/rpmsg, and the character devices; runs
 * @main_fn; takes everything down.
 * Return: @main_fn's result, or 1 (with a message) when the set-up fails.
 */
int rpmsgdev_run(int (*main_fn)(int argc, char **argv), int argc, char **argv);

/**
 * rpmsgdev_system() - system(), and control of rpmsgdev_run()'s remote.
 * @cmd: "rpmsgdev:stop" stops the remote (the host's link and its
 *	channels go, as when its virtio device is removed), "rpmsgdev:start"
 *	starts it again (a new link, new nodes); "rpmsgdev:crash" crashes it
 *	(the link is cut, then stopped, as remoteproc's crash handler does),
 *	"rpmsgdev:recover" recovers it (as start); anything else is libc's
 *	system().
 *
 * Return: 0 on success, else what system() returns (or 1).
 */
int rpmsgdev_system(const char *cmd);

#ifdef __cplusplus
}
#endif

#endif
