// SPDX-License-Identifier: GPL-2.0
/*
 * rpmsg_loopback.ko: a virtual remote processor in the same kernel. The
 * remote role offers services (by default the echo service under Linux's
 * sample name, "rpmsg-client-sample", served by rpmsg_echo.ko) over coherent
 * DMA memory and loopback doorbells; the host role registers the virtio
 * rpmsg device, so the rpmsg bus announces the services as channels and
 * client modules (rpmsg_client_sample.ko) bind to them. The set-up is
 * RpmsgLoopback's (<rpmsg/rpmsg_loopback.h>); this file is the module.
 *
 * Any load order works: a service is announced once its driver's module
 * is loaded, a client binds once its channel exists; any unload order
 * works too (each driver's remove runs when its channel goes).
 */
#include <keel/log.h>
#include <rpmsg/rpmsg_loopback.h>

namespace {

constinit rpmsg::RpmsgLoopback *s_loopback = nullptr;

} // namespace

/* The module's parameters, checked here: see rpmsg_loopback_main.c. */
extern "C" int rpmsg_loopback_module_init(const char *services, const char *driver,
					  unsigned int vring_num, unsigned int buf_size);
extern "C" void rpmsg_loopback_module_exit(void);
extern "C" void rpmsg_loopback_module_crash(void);
extern "C" int rpmsg_loopback_module_recover(void);

extern "C" int rpmsg_loopback_module_init(const char *services, const char *driver,
					  unsigned int vring_num, unsigned int buf_size)
{
	rpmsg::RpmsgLoopbackConfig cfg;
	cfg.name = "rpmsg-loopback";
	cfg.vring_num = vring_num;
	cfg.h2r_buf_size = buf_size;
	cfg.r2h_buf_size = buf_size;
	keel::Result<keel::UniquePtr<rpmsg::RpmsgLoopback>> lb =
		rpmsg::RpmsgLoopback::create(cfg, GFP_KERNEL);
	if (lb.is_error())
		return lb.error().to_errno();
	rpmsg::RpmsgLoopback &l = *lb.value();
	keel::Result<u32> n = l.add_services(services, driver);
	if (n.is_error())
		return n.error().to_errno();
	keel::Result<void> r = l.start();
	if (r.is_error())
		return r.error().to_errno();
	pr_info("rpmsg_loopback: %s up: %u service(s) (%s), %u-entry vrings, %u-byte buffers, "
		"%zu KiB shared",
		l.name(), n.value(), services, vring_num, buf_size, l.region().size() / 1024);
	s_loopback = lb.value().leak();
	return 0;
}

extern "C" void rpmsg_loopback_module_exit(void)
{
	delete s_loopback;
	s_loopback = nullptr;
	pr_info("rpmsg_loopback: removed");
}

/*
 * The remote crashes: the link is cut (blocked senders fail, the host's
 * queues break), then its host side is stopped as remoteproc's crash
 * handler stops the subdevices (the host channels go). Serialised by the
 * module's glue.
 */
extern "C" void rpmsg_loopback_module_crash(void)
{
	if (!s_loopback->started())
		return;
	pr_err("rpmsg_loopback: %s: crash injected", s_loopback->name());
	s_loopback->cut();
	s_loopback->stop();
}

/* The remote boots again after a crash (nothing if it runs). */
extern "C" int rpmsg_loopback_module_recover(void)
{
	if (s_loopback->started())
		return 0;
	keel::Result<void> r = s_loopback->start();
	if (r.is_error())
		return r.error().to_errno();
	pr_info("rpmsg_loopback: %s: recovered", s_loopback->name());
	return 0;
}
