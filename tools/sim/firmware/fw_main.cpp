// SPDX-License-Identifier: GPL-2.0
/*
 * keel-sim-fw: the simulator's remote firmware (see fw.h). Started by the
 * host's hosted remoteproc platform, never by hand: what it needs (the
 * shared region's broker, the control socket) comes from the host.
 *
 * Exit status: 0 when the host stopped it (or went away), 1 on an error,
 * 3 when its own teardown left framework allocations behind.
 */
#include <keel/device.h>
#include <keel/log.h>
#include <keel/posix.h>
#include <keel/time.h>
#include <rpmsg/rpmsg_link.h>

#include "../../../samples/rpmsg/rpmsg_echo.h"
#include "fw.h"
#include "hosted_rproc.h"

#include <stdio.h>

using keel::Result;
using rproc::hosted::Firmware;
using rproc::hosted::FirmwareConfig;

namespace sim::fw {

constinit FwContext *g_ctx = nullptr;

u32 fw_sessions()
{
	return g_ctx->remote->sessions();
}

bool fw_asleep()
{
	return g_ctx->fw->asleep();
}

namespace {

rpmsg::RpmsgDriver *const s_drivers[] = { &RpmsgEcho_rpmsg_driver, &SensorService_rpmsg_driver,
					  &ConsoleService_rpmsg_driver };

struct Service {
	const char *name;
	const char *driver;
};
constexpr Service s_services[NR_SERVICES] = {
	{ ECHO_SERVICE, "rpmsg_echo" },
	{ SENSOR_SERVICE, "sim_sensor" },
	{ CONSOLE_SERVICE, "sim_console" },
};

int serve()
{
	FirmwareConfig cfg;
	cfg.remote.name = "sim-fw";
	auto fw = Firmware::create(cfg);
	if (fw.is_error()) {
		pr_err("sim-fw: cannot start: %d (run by keel-sim, not by hand)",
		       fw.error().to_errno());
		return 1;
	}
	FwContext ctx;
	ctx.fw = fw.value().get();
	ctx.remote = &fw.value()->remote();
	ctx.boot_ns = keel::ktime_get_ns();
	g_ctx = &ctx;

	keel::RefPtr<rpmsg::RpmsgDevice> chans[NR_SERVICES];
	for (u32 i = 0; i < NR_SERVICES; i++) {
		auto ch = ctx.remote->add_service(s_services[i].name, s_services[i].driver);
		if (ch.is_error()) {
			pr_err("sim-fw: service %s: %d", s_services[i].name, ch.error().to_errno());
			return 1;
		}
		chans[i] = ch.release_value();
	}
	ctx.echo = chans[0].get();
	int rc = fw.value()->run();
	/*
	 * The services go first: their drivers' remove runs and stops their
	 * threads, which ask fw_asleep() until then; only then the firmware
	 * and its remote role.
	 */
	ctx.echo = nullptr;
	for (u32 i = 0; i < NR_SERVICES; i++) {
		chans[i] = nullptr;
		if (ctx.remote->remove_service(s_services[i].name).is_error())
			pr_warn("sim-fw: service %s already gone", s_services[i].name);
	}
	fw.value().reset();
	g_ctx = nullptr;
	return rc;
}

} // namespace
} // namespace sim::fw

int main()
{
	using namespace sim::fw;
	long live = keel_posix_live_allocs();
	if (rpmsg::rpmsg_init().is_error())
		return 1;
	u32 registered = 0;
	int rc = 0;
	for (rpmsg::RpmsgDriver *d : s_drivers) {
		if (rpmsg::register_rpmsg_driver(*d).is_error()) {
			rc = 1;
			break;
		}
		registered++;
	}
	if (rc == 0)
		rc = serve();
	while (registered)
		rpmsg::unregister_rpmsg_driver(*s_drivers[--registered]);
	rpmsg::rpmsg_exit();
	keel::driver_core_exit();
	long left = keel_posix_live_allocs();
	if (live >= 0 && left != live) {
		fprintf(stderr, "sim-fw: %ld framework allocations left after teardown\n",
			left - live);
		if (rc == 0)
			rc = 3;
	}
	return rc;
}
