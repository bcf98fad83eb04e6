// SPDX-License-Identifier: GPL-2.0
/*
 * Runtime power management (Linux drivers/base/power/runtime.c), the states
 * and rules are described in <keel/pm_runtime.h>.
 *
 * Each device's DevPmInfo::lock (IRQ-safe spinlock) guards its status and
 * requests; it is dropped around every callback and around any work on the
 * parent, so two devices' PM locks are never held together. A transition in
 * progress (Resuming/Suspending) is waited for on the device's wait queue.
 * Asynchronous requests run from DevPmInfo::work; the autosuspend timer is
 * DevPmInfo::timer.
 */
#include <keel/pm_runtime.h>
#include <keel/time.h>

#include "base.h"

namespace keel {

namespace {

enum : int {
	RPM_ASYNC = 0x01,
	RPM_GET_PUT = 0x04,
	RPM_AUTO = 0x08,
};

enum class Cb { Suspend, Resume, Idle };

/* The bus's callback if it has one, else the bound driver's; none succeeds. */
Result<void> rpm_callback(Device &dev, Cb which)
{
	if (const DevPmOps *ops = dev.bus() ? dev.bus()->type().pm : nullptr) {
		Result<void> (*fn)(Device &) = which == Cb::Suspend  ? ops->runtime_suspend
					       : which == Cb::Resume ? ops->runtime_resume
								     : ops->runtime_idle;
		if (fn)
			return fn(dev);
	}
	const Driver *drv = dev.driver();
	if (!drv)
		return ok();
	const DriverOps &dops = drv->ops();
	Result<void> (*fn)(Device &, void *) = which == Cb::Suspend  ? dops.runtime_suspend
					       : which == Cb::Resume ? dops.runtime_resume
								     : dops.runtime_idle;
	if (!fn)
		return ok();
	void *data = dev.raw_drvdata();
	if (!data) {
		/* Probe has not returned the driver's data yet: stay up, retry later. */
		return which == Cb::Resume ? ok() : Result<void>(err(-EAGAIN));
	}
	return fn(dev, data);
}

int rpm_errno(const Result<void> &r)
{
	int e = result_errno(r);
	/* -EACCES means "runtime PM disabled"; a callback must not return it (Linux). */
	return e == -EACCES ? -EAGAIN : e;
}

void wake(Device &dev)
{
	DeviceCore::wq(dev).wake_up();
}

int check_suspend_allowed(DevPmInfo &pm) REQUIRES(pm.lock)
{
	if (pm.runtime_error)
		return -EINVAL;
	if (pm.disable_depth > 0)
		return -EACCES;
	if (pm.usage_count.load() > 0)
		return -EAGAIN;
	if (!pm.ignore_children && pm.child_count.load() > 0)
		return -EBUSY;
	return 0;
}

/* 0: may suspend now; >0: the time it may; <0: never (negative delay). */
s64 autosuspend_expiration(DevPmInfo &pm) REQUIRES(pm.lock)
{
	if (!pm.use_autosuspend)
		return 0;
	if (pm.autosuspend_delay_ms < 0)
		return -1;
	s64 expires = pm.last_busy.load() + ms_to_ns(pm.autosuspend_delay_ms);
	return expires > ktime_get_ns() ? expires : 0;
}

void queue_request(DevPmInfo &pm, RpmRequest req) REQUIRES(pm.lock)
{
	pm.request = req;
	pm.work.schedule();
}

void cancel_pending(DevPmInfo &pm) REQUIRES(pm.lock)
{
	pm.request = RpmRequest::None;
	pm.timer_expires = 0;
	pm.timer.cancel();
}

/* Drops the lock until no transition is in progress. */
void wait_for_transition(Device &dev, DevPmInfo &pm, unsigned long &irqf) REQUIRES(pm.lock)
{
	pm.lock.unlock_irqrestore(irqf);
	DeviceCore::wq(dev).wait_event([&] {
		Guard g{ pm.lock };
		return pm.status != RpmStatus::Resuming && pm.status != RpmStatus::Suspending;
	});
	irqf = pm.lock.lock_irqsave();
}

/*
 * Runs the suspend or resume callback with the lock dropped, the device
 * @during (Suspending, Resuming) meanwhile. A failure puts it back to
 * @before and keeps a hard error (not -EAGAIN or -EBUSY, which mean "try
 * later") in runtime_error, which stops further transitions until it is
 * cleared (Linux rpm_callback() and its callers). The caller wakes waiters.
 */
int rpm_transition(Device &dev, DevPmInfo &pm, unsigned long &irqf, Cb cb, RpmStatus during,
		   RpmStatus before) REQUIRES(pm.lock)
{
	pm.status = during;
	pm.lock.unlock_irqrestore(irqf);
	int e = rpm_errno(rpm_callback(dev, cb));
	irqf = pm.lock.lock_irqsave();
	if (e) {
		pm.status = before;
		if (e != -EAGAIN && e != -EBUSY)
			pm.runtime_error = e;
	}
	return e;
}

int rpm_idle(Device &dev, DevPmInfo &pm, int flags, unsigned long &irqf) REQUIRES(pm.lock);

int rpm_suspend(Device &dev, DevPmInfo &pm, int flags, unsigned long &irqf) REQUIRES(pm.lock)
{
	for (;;) {
		int r = check_suspend_allowed(pm);
		if (r)
			return r;
		if (pm.status == RpmStatus::Resuming && !(flags & RPM_ASYNC))
			return -EAGAIN;
		if (pm.status == RpmStatus::Suspended)
			return 1;
		if ((flags & RPM_AUTO) && pm.status != RpmStatus::Suspending) {
			s64 expires = autosuspend_expiration(pm);
			if (expires < 0)
				return -EAGAIN;
			if (expires > 0) {
				/* Not yet: (re)arm the timer unless it fires earlier anyway. */
				pm.request = RpmRequest::None;
				if (!pm.timer_expires || pm.timer_expires > expires) {
					pm.timer_expires = expires;
					pm.timer.mod(max<s64>(expires - ktime_get_ns(), 0));
				}
				return 0;
			}
		}
		if (pm.status != RpmStatus::Suspending)
			break;
		if (flags & RPM_ASYNC)
			return -EINPROGRESS;
		wait_for_transition(dev, pm, irqf);
	}
	if (flags & RPM_ASYNC) {
		queue_request(pm,
			      (flags & RPM_AUTO) ? RpmRequest::AutoSuspend : RpmRequest::Suspend);
		return 0;
	}

	cancel_pending(pm);
	int e = rpm_transition(dev, pm, irqf, Cb::Suspend, RpmStatus::Suspending,
			       RpmStatus::Active);
	if (e) {
		wake(dev);
		return e;
	}
	pm.status = RpmStatus::Suspended;
	wake(dev);

	if (Device *parent = dev.parent()) {
		/* atomic_add_unless(&child_count, -1, 0) */
		int c = parent->power().child_count.load();
		while (c > 0 && !parent->power().child_count.compare_exchange(c, c - 1))
			;
		/* Maybe the parent can suspend now (asynchronously, as Linux). */
		pm.lock.unlock_irqrestore(irqf);
		DevPmInfo &pp = parent->power();
		unsigned long pf = pp.lock.lock_irqsave();
		(void)rpm_idle(*parent, pp, RPM_ASYNC, pf);
		pp.lock.unlock_irqrestore(pf);
		irqf = pm.lock.lock_irqsave();
	}
	return 0;
}

int rpm_idle(Device &dev, DevPmInfo &pm, int flags, unsigned long &irqf)
{
	int r = check_suspend_allowed(pm);
	if (r)
		return r;
	if (pm.status != RpmStatus::Active)
		return -EAGAIN;
	/* One idle callback at a time (Linux). */
	if (pm.idle_notification)
		return -EINPROGRESS;
	if (pm.request > RpmRequest::Idle)
		return -EAGAIN;
	if (flags & RPM_ASYNC) {
		queue_request(pm, RpmRequest::Idle);
		return 0;
	}
	/* The status stays Active meanwhile: the flag is what an unbind waits for. */
	pm.idle_notification = true;
	pm.lock.unlock_irqrestore(irqf);
	int e = rpm_errno(rpm_callback(dev, Cb::Idle));
	irqf = pm.lock.lock_irqsave();
	pm.idle_notification = false;
	wake(dev);
	if (e)
		return e;
	return rpm_suspend(dev, pm, flags | RPM_AUTO, irqf);
}

int rpm_resume(Device &dev, DevPmInfo &pm, int flags, unsigned long &irqf) REQUIRES(pm.lock)
{
	Device *parent_held = nullptr;
	bool resumed = false;
	int ret;
	for (;;) {
		if (pm.runtime_error) {
			ret = -EINVAL;
			break;
		}
		if (pm.disable_depth > 0) {
			ret = pm.status == RpmStatus::Active ? 1 : -EACCES;
			break;
		}
		/* Other requests are moot; a running autosuspend timer stays (Linux). */
		pm.request = RpmRequest::None;
		if (pm.status == RpmStatus::Active) {
			ret = 1;
			break;
		}
		if (pm.status == RpmStatus::Resuming || pm.status == RpmStatus::Suspending) {
			if (flags & RPM_ASYNC) {
				/* Runs (and waits for the transition) from the work item. */
				queue_request(pm, RpmRequest::Resume);
				ret = -EINPROGRESS;
				break;
			}
			wait_for_transition(dev, pm, irqf);
			continue;
		}
		if (flags & RPM_ASYNC) {
			queue_request(pm, RpmRequest::Resume);
			ret = 0;
			break;
		}
		Device *parent = dev.parent();
		if (parent && !parent_held) {
			/* The parent first, pinned by its usage count meanwhile. */
			pm.lock.unlock_irqrestore(irqf);
			pm_runtime_get_noresume(*parent);
			parent_held = parent;
			int pr = 0;
			DevPmInfo &pp = parent->power();
			unsigned long pf = pp.lock.lock_irqsave();
			if (!pp.disable_depth && !pp.ignore_children) {
				(void)rpm_resume(*parent, pp, 0, pf);
				if (pp.status != RpmStatus::Active)
					pr = -EBUSY;
			}
			pp.lock.unlock_irqrestore(pf);
			irqf = pm.lock.lock_irqsave();
			if (pr) {
				ret = pr;
				break;
			}
			continue;
		}

		int e = rpm_transition(dev, pm, irqf, Cb::Resume, RpmStatus::Resuming,
				       RpmStatus::Suspended);
		if (e) {
			pm.request = RpmRequest::None;
			wake(dev);
			ret = e;
			break;
		}
		pm.status = RpmStatus::Active;
		pm.last_busy.store(ktime_get_ns());
		if (parent)
			parent->power().child_count.fetch_add(1);
		wake(dev);
		resumed = true;
		ret = 0;
		break;
	}
	if (parent_held) {
		pm.lock.unlock_irqrestore(irqf);
		pm_runtime_put(*parent_held);
		irqf = pm.lock.lock_irqsave();
	}
	/*
	 * Only a resume that ran queues an idle check (Linux): not a device
	 * already Active (or disabled), nor a queued or failed request. An
	 * idle queued there would let a device with a zero usage count suspend
	 * behind its caller's back, e.g. right after pm_runtime_resume().
	 */
	if (resumed)
		(void)rpm_idle(dev, pm, RPM_ASYNC, irqf);
	return ret;
}

/* rpm_drop_usage_count(): the new count, or -1 after an underflow (warned). */
int drop_usage(Device &dev)
{
	int n = dev.power().usage_count.sub_return(1);
	if (n < 0) {
		dev.power().usage_count.fetch_add(1);
		dev_warn(&dev, "runtime PM usage count underflow");
		return -1;
	}
	return n;
}

using RpmFn = int (*)(Device &, DevPmInfo &, int, unsigned long &);

int rpm_call(Device &dev, RpmFn fn, int flags)
{
	if (!(flags & RPM_ASYNC))
		might_sleep();
	DevPmInfo &pm = dev.power();
	unsigned long irqf = pm.lock.lock_irqsave();
	int r = fn(dev, pm, flags, irqf);
	pm.lock.unlock_irqrestore(irqf);
	return r;
}

int __pm_runtime_resume(Device &dev, int flags)
{
	if (flags & RPM_GET_PUT)
		dev.power().usage_count.fetch_add(1);
	return rpm_call(dev, rpm_resume, flags);
}

int __pm_runtime_suspend(Device &dev, int flags)
{
	if ((flags & RPM_GET_PUT) && drop_usage(dev) != 0)
		return 0;
	return rpm_call(dev, rpm_suspend, flags);
}

int __pm_runtime_idle(Device &dev, int flags)
{
	if ((flags & RPM_GET_PUT) && drop_usage(dev) != 0)
		return 0;
	return rpm_call(dev, rpm_idle, flags);
}

Result<void> to_res(int r)
{
	if (r >= 0 || r == -EINPROGRESS)
		return ok();
	return err(r);
}

/* Cancels pending requests and the timer, waits for a running transition. */
void rpm_barrier(Device &dev)
{
	DevPmInfo &pm = dev.power();
	{
		Guard g{ pm.lock };
		pm.request = RpmRequest::None;
		pm.timer_expires = 0;
	}
	pm.work.cancel_sync();
	pm.timer.cancel_sync();
	DeviceCore::pm_runtime_wait_callbacks(dev);
}

Result<void> set_status(Device &dev, RpmStatus status)
{
	DevPmInfo &pm = dev.power();
	Device *parent = dev.parent();
	bool was_suspended;
	{
		Guard g{ pm.lock };
		if (!pm.disable_depth)
			return err(-EAGAIN);
		if (pm.status == status) {
			pm.runtime_error = 0;
			return ok();
		}
		was_suspended = pm.status == RpmStatus::Suspended;
		if (status == RpmStatus::Suspended) {
			pm.status = status;
			pm.runtime_error = 0;
		}
	}
	if (status == RpmStatus::Suspended) {
		wake(dev);
		if (parent) {
			int c = parent->power().child_count.load();
			while (c > 0 && !parent->power().child_count.compare_exchange(c, c - 1))
				;
			(void)pm_request_idle(*parent);
		}
		return ok();
	}
	if (parent) {
		/* No two PM locks at once: the parent's alone, then ours. */
		DevPmInfo &pp = parent->power();
		Guard g{ pp.lock };
		if (!pp.disable_depth && !pp.ignore_children && pp.status != RpmStatus::Active) {
			dev_err(&dev,
				"runtime PM trying to activate child device %s but parent (%s) is "
				"not active",
				dev.name(), parent->name());
			return err(-EBUSY);
		}
		if (was_suspended)
			pp.child_count.fetch_add(1);
	}
	{
		Guard g{ pm.lock };
		pm.status = RpmStatus::Active;
		pm.runtime_error = 0;
	}
	wake(dev);
	return ok();
}

} // namespace

void Device::rpm_work_fn(Work &w)
{
	DevPmInfo *pm = container_of(&w, &DevPmInfo::work);
	Device *dev = container_of(pm, &Device::m_power);
	unsigned long irqf = pm->lock.lock_irqsave();
	RpmRequest req = exchange(pm->request, RpmRequest::None);
	switch (req) {
	case RpmRequest::Idle:
		(void)rpm_idle(*dev, *pm, 0, irqf);
		break;
	case RpmRequest::Suspend:
		(void)rpm_suspend(*dev, *pm, 0, irqf);
		break;
	case RpmRequest::AutoSuspend:
		(void)rpm_suspend(*dev, *pm, RPM_AUTO, irqf);
		break;
	case RpmRequest::Resume:
		(void)rpm_resume(*dev, *pm, 0, irqf);
		break;
	case RpmRequest::None:
		break;
	}
	pm->lock.unlock_irqrestore(irqf);
}

void Device::rpm_timer_fn(DelayedWork &w)
{
	DevPmInfo *pm = container_of(&w, &DevPmInfo::timer);
	Device *dev = container_of(pm, &Device::m_power);
	unsigned long irqf = pm->lock.lock_irqsave();
	if (pm->timer_expires) {
		pm->timer_expires = 0;
		/* Re-arms itself if the device was busy meanwhile. */
		(void)rpm_suspend(*dev, *pm, RPM_AUTO, irqf);
	}
	pm->lock.unlock_irqrestore(irqf);
}

Result<void> pm_runtime_resume(Device &dev)
{
	return to_res(__pm_runtime_resume(dev, 0));
}
Result<void> pm_runtime_suspend(Device &dev)
{
	return to_res(__pm_runtime_suspend(dev, 0));
}
Result<void> pm_runtime_autosuspend(Device &dev)
{
	return to_res(__pm_runtime_suspend(dev, RPM_AUTO));
}
Result<void> pm_runtime_idle(Device &dev)
{
	return to_res(__pm_runtime_idle(dev, 0));
}
Result<void> pm_request_resume(Device &dev)
{
	return to_res(__pm_runtime_resume(dev, RPM_ASYNC));
}
Result<void> pm_request_idle(Device &dev)
{
	return to_res(__pm_runtime_idle(dev, RPM_ASYNC));
}
Result<void> pm_request_autosuspend(Device &dev)
{
	return to_res(__pm_runtime_suspend(dev, RPM_ASYNC | RPM_AUTO));
}

Result<void> pm_runtime_get(Device &dev)
{
	return to_res(__pm_runtime_resume(dev, RPM_GET_PUT | RPM_ASYNC));
}
Result<void> pm_runtime_get_sync(Device &dev)
{
	return to_res(__pm_runtime_resume(dev, RPM_GET_PUT));
}
Result<void> pm_runtime_resume_and_get(Device &dev)
{
	Result<void> r = pm_runtime_get_sync(dev);
	if (r.is_error())
		pm_runtime_put_noidle(dev);
	return r;
}
void pm_runtime_get_noresume(Device &dev)
{
	dev.power().usage_count.fetch_add(1);
}

void pm_runtime_put(Device &dev)
{
	(void)__pm_runtime_idle(dev, RPM_GET_PUT | RPM_ASYNC);
}
void pm_runtime_put_sync(Device &dev)
{
	(void)__pm_runtime_idle(dev, RPM_GET_PUT);
}
void pm_runtime_put_autosuspend(Device &dev)
{
	(void)__pm_runtime_suspend(dev, RPM_GET_PUT | RPM_ASYNC | RPM_AUTO);
}
void pm_runtime_put_sync_autosuspend(Device &dev)
{
	(void)__pm_runtime_suspend(dev, RPM_GET_PUT | RPM_AUTO);
}
void pm_runtime_put_noidle(Device &dev)
{
	(void)drop_usage(dev);
}

void pm_runtime_enable(Device &dev)
{
	DevPmInfo &pm = dev.power();
	Guard g{ pm.lock };
	if (pm.disable_depth > 0)
		pm.disable_depth--;
	else
		dev_warn(&dev, "unbalanced pm_runtime_enable");
}

void pm_runtime_disable(Device &dev)
{
	might_sleep();
	DevPmInfo &pm = dev.power();
	unsigned long irqf = pm.lock.lock_irqsave();
	if (pm.disable_depth > 0) {
		pm.disable_depth++;
		pm.lock.unlock_irqrestore(irqf);
		return;
	}
	/* A pending resume means someone needs the device up: honour it first (Linux). */
	if (pm.request == RpmRequest::Resume) {
		pm.usage_count.fetch_add(1);
		(void)rpm_resume(dev, pm, 0, irqf);
		pm.usage_count.fetch_sub(1);
	}
	pm.disable_depth++;
	pm.lock.unlock_irqrestore(irqf);
	rpm_barrier(dev);
}

bool pm_runtime_enabled(Device &dev)
{
	Guard g{ dev.power().lock };
	return dev.power().disable_depth == 0;
}

Result<void> pm_runtime_set_active(Device &dev)
{
	return set_status(dev, RpmStatus::Active);
}
Result<void> pm_runtime_set_suspended(Device &dev)
{
	return set_status(dev, RpmStatus::Suspended);
}

void pm_runtime_barrier(Device &dev)
{
	might_sleep();
	pm_runtime_get_noresume(dev);
	{
		DevPmInfo &pm = dev.power();
		unsigned long irqf = pm.lock.lock_irqsave();
		if (pm.request == RpmRequest::Resume)
			(void)rpm_resume(dev, pm, 0, irqf);
		pm.lock.unlock_irqrestore(irqf);
	}
	rpm_barrier(dev);
	pm_runtime_put_noidle(dev);
}

void pm_runtime_mark_last_busy(Device &dev)
{
	dev.power().last_busy.store(ktime_get_ns());
}

void pm_runtime_set_use_autosuspend(Device &dev, bool use)
{
	Guard g{ dev.power().lock };
	dev.power().use_autosuspend = use;
}

void pm_runtime_set_autosuspend_delay(Device &dev, int delay_ms)
{
	Guard g{ dev.power().lock };
	dev.power().autosuspend_delay_ms = delay_ms;
}

void pm_suspend_ignore_children(Device &dev, bool enable)
{
	Guard g{ dev.power().lock };
	dev.power().ignore_children = enable;
}

RpmStatus pm_runtime_status(Device &dev)
{
	Guard g{ dev.power().lock };
	return dev.power().status;
}

void DeviceCore::pm_runtime_wait_callbacks(Device &dev)
{
	DevPmInfo &pm = dev.power();
	wq(dev).wait_event([&] {
		Guard g{ pm.lock };
		return pm.status != RpmStatus::Resuming && pm.status != RpmStatus::Suspending &&
		       !pm.idle_notification;
	});
}

void DeviceCore::pm_runtime_reinit(Device &dev)
{
	if (!pm_runtime_enabled(dev) && pm_runtime_status(dev) == RpmStatus::Active)
		(void)pm_runtime_set_suspended(dev);
}

void DeviceCore::pm_runtime_remove(Device &dev)
{
	pm_runtime_disable(dev);
	pm_runtime_reinit(dev);
}

} // namespace keel
