// SPDX-License-Identifier: GPL-2.0
/*
 * rproc_fw_echo: the simplest hosted firmware. Started by a HostedRproc,
 * it serves the echo service (samples/rpmsg/echo.cpp) under two names,
 * the client sample's and "keel-echo", beats and obeys the host (sleep,
 * wake, injected faults) until the host stops it or goes away.
 */
#include <keel/log.h>
#include <rpmsg/rpmsg.h>

#include "../../../os/posix/remoteproc/hosted_rproc.h"
#include "../../../samples/rpmsg/rpmsg_echo.h"

#include <stdio.h>
#include <stdlib.h>

using namespace rproc::hosted;

int main()
{
	keel::log_set_echo(getenv("KEEL_FW_VERBOSE") != nullptr);
	if (rpmsg::rpmsg_init().is_error() ||
	    rpmsg::register_rpmsg_driver(RpmsgEcho_rpmsg_driver).is_error())
		return 2;
	FirmwareConfig cfg;
	cfg.remote.name = "fw-echo";
	cfg.remote.vring_num = 256;
	auto fw = Firmware::create(cfg);
	if (fw.is_error()) {
		fprintf(stderr, "rproc_fw_echo: %d\n", fw.error().to_errno());
		return 2;
	}
	auto a = fw.value()->remote().add_service("rpmsg-client-sample", "rpmsg_echo");
	auto b = fw.value()->remote().add_service("keel-echo", "rpmsg_echo");
	if (a.is_error() || b.is_error())
		return 2;
	int rc = fw.value()->run();
	a.value() = nullptr;
	b.value() = nullptr;
	fw.value().reset();
	rpmsg::unregister_rpmsg_driver(RpmsgEcho_rpmsg_driver);
	rpmsg::rpmsg_exit();
	return rc;
}
