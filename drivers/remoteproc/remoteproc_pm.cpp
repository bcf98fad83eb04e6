// SPDX-License-Identifier: GPL-2.0
/*
 * Runtime PM of a remote processor: the Rproc device is a runtime-PM
 * device (<keel/pm_runtime.h>) with autosuspend. The rpmsg links on the
 * remote hold it active while they send (resuming it first) and mark it
 * busy on traffic either way (RpmsgLink::pm_get()); idle past the delay,
 * the core's suspend callback asks the platform to put the remote to sleep
 * (RprocOps.suspend), which the remote refuses while it has work (-EBUSY:
 * retried after the delay). Documentation/remoteproc.rst, "Runtime PM".
 *
 * The callbacks take the state lock only, never the lifecycle lock:
 * recovery, shutdown and detach disable runtime PM (waiting for a running
 * callback) with the lifecycle lock held.
 */
#include <keel/log.h>
#include <keel/pm_runtime.h>

#include "remoteproc_internal.h"

namespace rproc {

using keel::Guard;

static Rproc &to_rproc(keel::Device &dev)
{
	/* SAFETY: only Rprocs are on the remoteproc bus (create() puts them there). */
	return static_cast<Rproc &>(dev);
}

/* After a boot: the remote is awake; it may sleep once idle for the delay. */
void Rproc::Core::pm_start()
{
	if (rp->m_cfg.autosuspend_delay_ms < 0)
		return;
	Result<void> r = keel::pm_runtime_set_active(*rp);
	if (r.is_error()) {
		dev_warn(rp, "%s: runtime PM not started: %d", rp->m_cfg.name,
			 r.error().to_errno());
		return;
	}
	{
		Guard g{ state_lock };
		pm_on = true;
	}
	keel::pm_runtime_enable(*rp);
	keel::pm_runtime_mark_last_busy(*rp);
	(void)keel::pm_request_autosuspend(*rp);
}

/*
 * Before a teardown: no callback runs or will run. A detach (the remote
 * lives on) wakes it first, so that it serves the next host.
 *
 * The usage reference, taken first, stops any new suspend: without it the
 * resume arms the autosuspend timer, and on a slow machine that suspend
 * could start before the disable below and leave the remote asleep. The
 * barrier then lets a suspend already under way finish, so that the state
 * read after it is settled (Suspended, or not).
 */
void Rproc::Core::pm_stop()
{
	{
		Guard g{ state_lock };
		if (!pm_on)
			return;
		pm_on = false;
	}
	keel::pm_runtime_get_noresume(*rp);
	keel::pm_runtime_barrier(*rp);
	if (state_snapshot() == RprocState::Suspended)
		(void)keel::pm_runtime_resume(*rp);
	keel::pm_runtime_disable(*rp);
	keel::pm_runtime_put_noidle(*rp);
	pm_retry.cancel_sync();
}

Result<void> Rproc::Core::runtime_suspend(keel::Device &dev)
{
	Rproc &rp = to_rproc(dev);
	Core *c = rp.m_core;
	RprocState from;
	{
		Guard g{ c->state_lock };
		/* Booting, crashed, recovering: not now (the next idle period retries). */
		if (c->state != RprocState::Running && c->state != RprocState::Attached)
			return keel::err(-EAGAIN);
		from = c->state;
	}
	const RprocOps *ops = rp.m_cfg.ops;
	Result<void> r = ops->suspend ? ops->suspend(rp) : keel::ok();
	if (r.is_error()) {
		int e = r.error().to_errno();
		if (e != -EBUSY && e != -EAGAIN)
			return r;
		/* The remote has work: busy now, ask again after the delay. */
		{
			Guard g{ c->state_lock };
			c->stats.suspend_vetoes++;
		}
		keel::pm_runtime_mark_last_busy(rp);
		(void)c->pm_retry.schedule(keel::ms_to_ns(1));
		return keel::err(-EBUSY);
	}
	bool changed = false;
	{
		Guard g{ c->state_lock };
		if (c->state == from) {
			c->state = RprocState::Suspended;
			c->suspended_from = from;
			c->stats.suspends++;
			changed = true;
		}
	}
	if (changed) {
		c->state_wq.wake_up();
		c->notify(RprocEventType::StateChanged, RprocState::Suspended);
	}
	return keel::ok();
}

Result<void> Rproc::Core::runtime_resume(keel::Device &dev)
{
	Rproc &rp = to_rproc(dev);
	Core *c = rp.m_core;
	{
		Guard g{ c->state_lock };
		/* Crashed or recovering meanwhile: the restart wakes it, senders fail with -EPIPE. */
		if (c->state != RprocState::Suspended)
			return keel::ok();
	}
	const RprocOps *ops = rp.m_cfg.ops;
	Result<void> r = ops->resume ? ops->resume(rp) : keel::ok();
	if (r.is_error()) {
		dev_err(&rp, "%s: resume failed: %d", rp.m_cfg.name, r.error().to_errno());
		return r;
	}
	RprocState to = RprocState::Running;
	bool changed = false;
	{
		Guard g{ c->state_lock };
		if (c->state == RprocState::Suspended) {
			to = c->suspended_from;
			c->state = to;
			c->stats.resumes++;
			changed = true;
		}
	}
	if (changed) {
		c->state_wq.wake_up();
		c->notify(RprocEventType::StateChanged, to);
	}
	return keel::ok();
}

void Rproc::Core::pm_retry_fn(keel::DelayedWork &w)
{
	Core *c = container_of(&w, &Core::pm_retry);
	/*
	 * The refusing callback may not have returned yet: a request now
	 * would find the transition under way and be dropped. Look again.
	 */
	if (keel::pm_runtime_status(*c->rp) == keel::RpmStatus::Suspending) {
		(void)c->pm_retry.schedule(keel::ms_to_ns(1));
		return;
	}
	/* The autosuspend timer waits for the delay after the last busy mark. */
	(void)keel::pm_request_autosuspend(*c->rp);
}

} // namespace rproc
