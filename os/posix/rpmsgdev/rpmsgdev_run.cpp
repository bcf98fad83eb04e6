// SPDX-License-Identifier: GPL-2.0
/*
 * rpmsgdev_run(): a program with a remote processor in its own process
 * (rpmsgdev.h): the remote and host roles over shared memory
 * (<rpmsg/rpmsg_loopback.h>), the remote's services served by the echo
 * service of samples/rpmsg, and the hosted character devices.
 */
#include <keel/log.h>
#include <keel/string.h>
#include <keel/time.h>
#include <rpmsg/rpmsg_char.h>
#include <rpmsg/rpmsg_loopback.h>

#include "../../../samples/rpmsg/rpmsg_echo.h"
#include "rpmsgdev.h"

#include <stdio.h>
#include <stdlib.h>

namespace {

/* The remote of the running program (rpmsgdev_system()). */
constinit rpmsg::RpmsgLoopback *s_remote = nullptr;
constinit u32 s_services = 0;

/* Waits until the host has a node for each channel the remote announced. */
bool wait_for_channels(rpmsg::RpmsgLoopback &lb, u32 n)
{
	s64 deadline = keel::ktime_get_ns() + 5 * keel::NSEC_PER_SEC;
	while (keel::ktime_get_ns() < deadline) {
		rpmsg::RpmsgLink *host = lb.host_link();
		u32 published = 0;
		(void)rpmsg::rpmsg_char_for_each(
			[](rpmsg::RpmsgCharNode &node, void *arg) {
				char dst[16];
				auto r = node.show("dst", dst, sizeof(dst));
				if (node.kind() == rpmsg::RpmsgCharKind::Channel && r.is_ok() &&
				    dst[0] != '-')
					(*static_cast<u32 *>(arg))++;
				return true;
			},
			&published);
		if (host && published >= n)
			return true;
		keel::msleep(1);
	}
	return false;
}

} // namespace

extern "C" int rpmsgdev_run(int (*main_fn)(int argc, char **argv), int argc, char **argv)
{
	const char *services = getenv("RPMSGDEV_SERVICES");
	if (!services || !*services)
		services = "rpmsg-uapi-echo";
	/* The stack's own log lines are the kernel's dmesg: quiet unless asked for. */
	const char *log = getenv("RPMSGDEV_LOG");
	keel::log_set_echo(log && *log == '1');
	int rc = 1;
	if (rpmsg::module_driver_init(RpmsgEcho_rpmsg_driver).is_error()) {
		fprintf(stderr, "rpmsgdev: cannot register the echo service\n");
		return 1;
	}
	rpmsg::RpmsgLoopbackConfig cfg;
	cfg.name = "rpmsg-sim";
	auto lb = rpmsg::RpmsgLoopback::create(cfg, GFP_KERNEL);
	keel::Result<u32> n = lb.is_ok() ? lb.value()->add_services(services, "rpmsg_echo")
					 : keel::Result<u32>(lb.error());
	/*
	 * The character devices first: the link's control node is then made
	 * as the link registers, before the remote can announce a channel
	 * (whose node names its link's control node).
	 */
	bool devs = n.is_ok() && !rpmsgdev_init();
	keel::Result<void> started = !n.is_ok() ? n.error()
				     : devs	? lb.value()->start()
						: keel::err(-ENODEV);
	if (n.is_ok() && !devs) {
		perror("rpmsgdev: rpmsgdev_init");
	} else if (started.is_error()) {
		fprintf(stderr, "rpmsgdev: no simulated remote (services %s): error %d\n", services,
			started.error().to_errno());
		if (devs)
			rpmsgdev_exit();
	} else {
		s_remote = lb.value().get();
		s_services = n.value();
		if (!wait_for_channels(*lb.value(), n.value()))
			fprintf(stderr, "rpmsgdev: the remote's services were not announced\n");
		else
			rc = main_fn(argc, argv);
		s_remote = nullptr;
		rpmsgdev_exit();
	}
	if (lb.is_ok())
		lb.value().reset();
	rpmsg::module_driver_exit(RpmsgEcho_rpmsg_driver);
	return rc;
}

extern "C" int rpmsgdev_system(const char *cmd)
{
	if (cmd && !strcmp(cmd, "rpmsgdev:stop")) {
		if (!s_remote)
			return 1;
		s_remote->stop();
		return 0;
	}
	if (cmd && !strcmp(cmd, "rpmsgdev:crash")) {
		/* The remote crashes: the link is cut, then its host side stopped. */
		if (!s_remote || !s_remote->started())
			return 1;
		s_remote->cut();
		s_remote->stop();
		return 0;
	}
	if (cmd && (!strcmp(cmd, "rpmsgdev:start") || !strcmp(cmd, "rpmsgdev:recover"))) {
		if (!s_remote || s_remote->start().is_error())
			return 1;
		return wait_for_channels(*s_remote, s_services) ? 0 : 1;
	}
	return system(cmd);
}
