/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A remote processor in the same kernel (or hosted process) as its host:
 * the platform driver the remoteproc suites run on. The "firmware" is an
 * RpmsgRemote (the remote role) with its services, created when the host
 * starts the remote and destroyed when it stops it; the two talk over a
 * memory region and a LoopbackLink (deferred deliveries: interrupt
 * context, as a mailbox). Crashes are injected the ways a platform sees
 * them: the link cut (peer gone), a missed watchdog, a fatal error the
 * remote reports, a remote that reboots behind the host's back; and the
 * platform can be told to fail or crash at its next starts (a crash during
 * recovery) and to refuse sleep.
 *
 *	LoopbackRemote *lr = make_loopback(t, cfg);   // added and booted
 *	lr->rproc->..., lr->host_link(), lr->cut(), ...
 *
 * Framework headers only: compiled hosted and into the KUnit module.
 */
#ifndef REMOTEPROC_TESTS_RPROC_LOOPBACK_H
#define REMOTEPROC_TESTS_RPROC_LOOPBACK_H

#include <keel/log.h>
#include <keel/loopback_link.h>
#include <keel/test.h>
#include <remoteproc/remoteproc.h>
#include <rpmsg/rpmsg_link.h>
#include <virtio/virtio_shm.h>

#include "../../rpmsg/rpmsg_internal.h"
#include "../../rpmsg/tests/rpmsg_test_util.h"

namespace rproc::test {

using keel::Atomic;
using keel::Result;
using rpmsg::RpmsgDevice;
using rpmsg::RpmsgDriver;
using rpmsg::RpmsgLink;

struct LoopbackConfig {
	u32 vring_num = 64;
	size_t region_size = 256 * 1024;
	int autosuspend_delay_ms = -1;
	bool recovery = true;
	bool boot = true;
	u32 max_recovery_attempts = 5;
	rpmsg::RpmsgLinkConfig host_link;
	rpmsg::RpmsgLinkConfig remote_link;
	struct Service {
		const char *name;
		const char *driver;
	};
	/* The remote's services (name, driver bound by override). */
	Service services[4] = {};
	/* Drivers registered for the test (both roles share the bus). */
	RpmsgDriver *drivers[4] = {};
};

class LoopbackRemote : keel::NonMovable {
public:
	u8 *mem = nullptr;
	keel::ShmRegion region;
	keel::LoopbackLink *link = nullptr;
	keel::RefPtr<Rproc> rproc;
	/* The running "firmware" (between start and stop). */
	keel::UniquePtr<rpmsg::RpmsgRemote> remote;
	LoopbackConfig cfg;
	bool inited = false;
	u32 nr_drivers = 0;

	/* Platform counters and knobs. */
	Atomic<u32> starts{ 0 };
	Atomic<u32> stops{ 0 };
	Atomic<u32> suspends{ 0 };
	Atomic<u32> resumes{ 0 };
	/* The next N starts fail with -EIO. */
	Atomic<u32> fail_starts{ 0 };
	/* The next N started remotes crash right after they start (during recovery). */
	Atomic<u32> crash_after_start{ 0 };
	/* Suspend is refused (-EBUSY) while set. */
	Atomic<bool> refuse_suspend{ false };
	/* A suspend takes this long before it asks the remote to sleep. */
	Atomic<u32> suspend_delay_ms{ 0 };
	/* True while the suspend op runs. */
	Atomic<bool> in_suspend{ false };
	/* The firmware's lifecycle: the ops and a test's reboot never overlap. */
	keel::Mutex fw_lock{ "rproc_test_fw", KEEL_LOCK_KEY() };

	~LoopbackRemote()
	{
		if (rproc) {
			rproc->del();
			rproc = nullptr;
		}
		remote.reset();
		if (link) {
			link->shutdown();
			delete link;
		}
		keel::kfree(mem);
		for (u32 i = nr_drivers; i-- > 0;)
			rpmsg::unregister_rpmsg_driver(*cfg.drivers[i]);
		if (inited) {
			rpmsg::virtio_rpmsg_exit();
			virtio::virtio_exit();
			rpmsg::virtio_rpmsg_set_config(rpmsg::VirtioRpmsgHostConfig());
		}
	}

	static LoopbackRemote &of(Rproc &rp) { return *rp.priv<LoopbackRemote>(); }

	/* --- the platform's ops --- */

	Result<void> start_remote()
	{
		if (fail_starts.load()) {
			fail_starts.fetch_sub(1);
			return keel::err(-EIO);
		}
		/* A new processor behind the link: rings are delivered again. */
		link->reconnect();
		rpmsg::RpmsgRemoteConfig rc;
		rc.name = "rproc-test-remote";
		rc.region = region;
		rc.doorbell = &link->b();
		rc.vring_num = cfg.vring_num;
		rc.link = cfg.remote_link;
		auto r = TRY(rpmsg::RpmsgRemote::create(rc, GFP_KERNEL));
		for (const auto &s : cfg.services) {
			if (!s.name)
				break;
			TRY(r->add_service(s.name, s.driver));
		}
		TRY(r->start());
		remote = keel::move(r);
		starts.fetch_add(1);
		if (crash_after_start.load()) {
			crash_after_start.fetch_sub(1);
			rproc->report_crash(CrashReason::FatalError, "crashed while booting");
		}
		return keel::ok();
	}
	static Result<void> op_start(Rproc &rp)
	{
		LoopbackRemote &lr = of(rp);
		keel::Guard g{ lr.fw_lock };
		return lr.start_remote();
	}
	static Result<void> op_stop(Rproc &rp)
	{
		LoopbackRemote &lr = of(rp);
		keel::Guard g{ lr.fw_lock };
		/* The processor halts: its side of the link goes with it. */
		lr.remote.reset();
		lr.stops.fetch_add(1);
		return keel::ok();
	}
	/* The firmware reboots by itself (a new table, a new session), behind the host's back. */
	Result<void> reboot()
	{
		keel::Guard g{ fw_lock };
		if (!remote)
			return keel::err(-ENODEV);
		remote->stop();
		return remote->start();
	}
	static Result<void> op_attach(Rproc &) { return keel::ok(); }
	static Result<void> op_detach(Rproc &) { return keel::ok(); }
	static Result<void> op_suspend(Rproc &rp)
	{
		LoopbackRemote &lr = of(rp);
		lr.in_suspend.store(true);
		keel::ScopeGuard out([&lr] { lr.in_suspend.store(false); });
		if (u32 ms = lr.suspend_delay_ms.load())
			keel::msleep(ms);
		keel::Guard g{ lr.fw_lock };
		if (lr.refuse_suspend.load() || !lr.remote)
			return keel::err(-EBUSY);
		TRY(lr.remote->suspend());
		lr.suspends.fetch_add(1);
		return keel::ok();
	}
	static Result<void> op_resume(Rproc &rp)
	{
		LoopbackRemote &lr = of(rp);
		keel::Guard g{ lr.fw_lock };
		if (lr.remote)
			lr.remote->resume();
		lr.resumes.fetch_add(1);
		return keel::ok();
	}
	static constexpr RprocOps s_ops = {
		.load = nullptr,
		.start = &op_start,
		.stop = &op_stop,
		.attach = &op_attach,
		.detach = &op_detach,
		.kick = nullptr,
		.suspend = &op_suspend,
		.resume = &op_resume,
	};

	/* --- crash injection --- */

	/*
	 * The link hangs up (the remote died): both ends see the peer gone.
	 * Under the firmware lock: the recovery the host starts meanwhile
	 * must not start a new remote before the old one heard of it.
	 */
	void cut()
	{
		keel::Guard g{ fw_lock };
		link->cut();
	}
	/* What a platform's watchdog or error interrupt does. */
	void watchdog() { rproc->report_crash(CrashReason::Watchdog, "missed heartbeat"); }
	void fatal(const char *msg) { rproc->report_crash(CrashReason::FatalError, msg); }

	/* --- set-up --- */

	Result<void> setup(const LoopbackConfig &c, bool detached = false)
	{
		cfg = c;
		TRY(virtio::virtio_init());
		Result<void> r = rpmsg::virtio_rpmsg_init();
		if (r.is_error()) {
			virtio::virtio_exit();
			return r;
		}
		inited = true;
		rpmsg::VirtioRpmsgHostConfig hc;
		hc.link = c.host_link;
		rpmsg::virtio_rpmsg_set_config(hc);
		for (RpmsgDriver *d : c.drivers) {
			if (!d)
				break;
			TRY(rpmsg::register_rpmsg_driver(*d));
			nr_drivers++;
		}
		mem = static_cast<u8 *>(keel::kzalloc(c.region_size, GFP_KERNEL));
		link = new (GFP_KERNEL) keel::LoopbackLink(keel::LoopbackLink::Mode::Deferred);
		if (!mem || !link)
			return keel::err(-ENOMEM);
		region = keel::ShmRegion(mem, c.region_size, 0);
		TRY(create_rproc(detached));
		if (c.boot)
			TRY(rproc->boot());
		return keel::ok();
	}

	Result<void> create_rproc(bool detached)
	{
		RprocConfig rc;
		rc.name = "loopback";
		rc.ops = &s_ops;
		rc.priv = this;
		rc.region = region;
		rc.doorbell = &link->a();
		rc.detached = detached;
		rc.recovery = cfg.recovery;
		rc.autosuspend_delay_ms = cfg.autosuspend_delay_ms;
		rc.boot_timeout_ns = keel::ms_to_ns(5000);
		rc.max_recovery_attempts = cfg.max_recovery_attempts;
		rproc = TRY(Rproc::create(rc, GFP_KERNEL));
		return rproc->add();
	}

	/* The host's rpmsg link of vdev 0 (null while there is none). */
	RpmsgLink *host_link() const
	{
		virtio::VirtioDevice *v = rproc ? rproc->vdev(0) : nullptr;
		return v ? rpmsg::virtio_rpmsg_link(*v) : nullptr;
	}

	/* Waits until the host has channel @name with its driver's probe returned. */
	keel::RefPtr<RpmsgDevice> host_channel(const char *name,
					       s64 timeout_ns = keel::ms_to_ns(5000))
	{
		keel::RefPtr<RpmsgDevice> ch;
		bool ready = rpmsg::test::wait_for(
			[&] {
				if (rproc->state() != RprocState::Running &&
				    rproc->state() != RprocState::Attached &&
				    rproc->state() != RprocState::Suspended)
					return false;
				RpmsgLink *l = host_link();
				ch = l ? l->find_channel(name, rpmsg::RPMSG_ADDR_ANY) : nullptr;
				return ch && l->channel_active(*ch);
			},
			timeout_ns);
		return ready ? ch : nullptr;
	}
};

/* A loopback remote for @t, torn down when the case ends; null (case failed) on error. */
inline LoopbackRemote *make_loopback(keel::test::Test &t, const LoopbackConfig &cfg,
				     bool detached = false)
{
	return rpmsg::test::setup_for_case<LoopbackRemote>(t, "the loopback remote", cfg, detached);
}

} // namespace rproc::test

#endif
