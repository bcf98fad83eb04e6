// SPDX-License-Identifier: GPL-2.0
/*
 * Binding devices to drivers, and probe deferral (Linux drivers/base/dd.c).
 *
 * Every probe and remove of a device runs with its device lock held (and its
 * parent's, if the bus asks). A probe returning -EPROBE_DEFER puts the device
 * on the pending list; every successful bind moves the pending devices to the
 * active list and queues a work item that probes them again
 * (deferred_probe_work_func). A probe that raced with a trigger re-triggers
 * (deferred_trigger_count), so no wake-up is lost.
 */
#include <keel/pm_runtime.h>

#include "base.h"

namespace keel {

namespace {

struct DeferredProbe : NonMovable {
	explicit DeferredProbe(Work::Fn fn) : work(fn, "deferred_probe_work", KEEL_LOCK_KEY()) {}
	Mutex lock{ "deferred_probe_mutex", KEEL_LOCK_KEY() };
	DeviceCore::DeferredList pending GUARDED_BY(lock);
	DeviceCore::DeferredList active GUARDED_BY(lock);
	Atomic<u32> trigger_count;
	Work work;
};

/* Allocated by the first bus_register() (no constructor may run at load). */
constinit Atomic<DeferredProbe *> s_deferred;

DeferredProbe *deferred()
{
	return s_deferred.load(MemoryOrder::Acquire);
}

void deferred_probe_work_fn(Work &)
{
	DeferredProbe *dp = deferred();
	dp->lock.lock();
	while (Device *dev = dp->active.pop_front()) {
		/* Pin it, drop the lock: probing takes the device lock (dd.c). */
		dev->get();
		dp->lock.unlock();
		DeviceCore::bus_probe_device(*dev);
		dev->put();
		dp->lock.lock();
	}
	dp->lock.unlock();
}

} // namespace

Result<void> DeviceCore::deferred_probe_init()
{
	if (deferred())
		return ok();
	DeferredProbe *dp = new (GFP_KERNEL) DeferredProbe(deferred_probe_work_fn);
	if (!dp)
		return err(-ENOMEM);
	DeferredProbe *expected = nullptr;
	if (!s_deferred.compare_exchange(expected, dp))
		delete dp; /* another bus_register() won */
	return ok();
}

void driver_core_exit()
{
	DeferredProbe *dp = s_deferred.exchange(nullptr);
	if (!dp)
		return;
	dp->work.cancel_sync();
	{
		Guard g{ dp->lock };
		while (dp->pending.pop_front())
			;
		while (dp->active.pop_front())
			;
	}
	delete dp;
}

void DeviceCore::deferred_probe_add(Device &dev)
{
	DeferredProbe *dp = deferred();
	if (!dp)
		return;
	Guard g{ dp->lock };
	if (!deferred_node(dev).is_linked())
		dp->pending.push_back(dev);
}

void DeviceCore::deferred_probe_del(Device &dev)
{
	DeferredProbe *dp = deferred();
	if (!dp)
		return;
	Guard g{ dp->lock };
	deferred_node(dev).unlink();
}

bool device_is_deferred(Device &dev)
{
	DeferredProbe *dp = deferred();
	if (!dp)
		return false;
	Guard g{ dp->lock };
	return DeviceCore::deferred_node(dev).is_linked();
}

void driver_deferred_probe_trigger()
{
	DeferredProbe *dp = deferred();
	if (!dp)
		return;
	/* A probe running now sees the count change and re-triggers. */
	dp->trigger_count.fetch_add(1);
	{
		Guard g{ dp->lock };
		while (Device *dev = dp->pending.pop_front())
			dp->active.push_back(*dev);
	}
	dp->work.schedule();
}

void driver_deferred_probe_flush()
{
	might_sleep();
	DeferredProbe *dp = deferred();
	if (!dp)
		return;
	/* A retry that binds queues the work again: until it settles. */
	while (dp->work.flush())
		;
}

/* --- matching and probing --- */

int DeviceCore::match(const Driver &drv, Device &dev)
{
	bool forced;
	bool same = dev.driver_override_matches(drv.name(), &forced);
	if (forced)
		return same ? 1 : 0;
	int (*fn)(Device &, const Driver &) = drv.bus().type().match;
	return fn ? fn(dev, drv) : 1;
}

/*
 * Device mutexes share one lock class; a device's depth in the tree is its
 * lockdep subclass, so a child locked under its parent (a child registered
 * and probed from its parent's probe, or need_parent_lock) is not a
 * recursion to lockdep. Lockdep has 8 subclasses: deeper devices share 7.
 * The mutexes are exempt from lockdep's validation (Device(), as Linux's
 * device_initialize()); the subclasses still annotate the nesting.
 */
static unsigned int lock_subclass(const Device &dev)
{
	unsigned int depth = 0;
	for (const Device *p = dev.parent(); p && depth < 7; p = p->parent())
		depth++;
	return depth;
}

void DeviceCore::lock_device(Device &dev) NO_THREAD_SAFETY_ANALYSIS
{
	/* SAFETY: the parent lock is released by unlock_device() under the same condition. */
	Device *parent = dev.m_parent;
	if (parent && dev.m_bus && dev.m_bus->type().need_parent_lock)
		parent->m_mutex.lock_nested(lock_subclass(*parent));
	dev.m_mutex.lock_nested(lock_subclass(dev));
}

void DeviceCore::unlock_device(Device &dev) NO_THREAD_SAFETY_ANALYSIS
{
	/* SAFETY: mirrors lock_device(). */
	dev.m_mutex.unlock();
	Device *parent = dev.m_parent;
	if (parent && dev.m_bus && dev.m_bus->type().need_parent_lock)
		parent->m_mutex.unlock();
}

Result<void> Driver::call_probe(Device &dev) const
{
	void *data = TRY(m_ops->probe(dev));
	/* Runtime PM callbacks may already run (and read it): publish the data whole. */
	__atomic_store_n(&DeviceCore::driver_data(dev), data, __ATOMIC_RELEASE);
	return ok();
}

void Driver::call_remove(Device &dev) const
{
	void *data = __atomic_exchange_n(&DeviceCore::driver_data(dev), nullptr, __ATOMIC_ACQ_REL);
	if (data)
		m_ops->remove(dev, data);
}

static void put_user(DriverPrivate *dp)
{
	/* @dp may be freed as soon as users is 0: read the bus first. */
	BusPrivate *bus = dp->bus;
	if (dp->users.sub_return(1) == 0)
		bus->driver_wq.wake_up();
}

ProbeResult DeviceCore::really_probe(Device &dev, const Driver &drv)
{
	if (dev.state() != DeviceState::Added)
		return ProbeResult::Dead;
	if (dev.driver())
		return ProbeResult::Bound;
	DriverPrivate *dp = drv_p(drv);
	if (!dp)
		return ProbeResult::NoMatch;
	dp->users.fetch_add(1);
	if (dp->dying.load()) {
		put_user(dp);
		return ProbeResult::NoMatch;
	}

	bus_notify(dev, BUS_NOTIFY_BIND_DRIVER);
	/* Set before probe, as Linux does: the driver's callbacks may look. */
	set_driver(dev, &drv);
	Device *parent = dev.m_parent;
	if (parent)
		(void)pm_runtime_get_sync(*parent);
	u32 trigger = deferred() ? deferred()->trigger_count.load() : 0;

	const BusType &bt = drv.bus().type();
	Result<void> r = bt.probe ? bt.probe(dev, drv) : drv.call_probe(dev);
	if (r.is_error() && dev.raw_drvdata()) {
		/* The bus's probe failed after the driver's succeeded. */
		drv.call_remove(dev);
	}
	if (parent)
		pm_runtime_put(*parent);

	if (r.is_ok()) {
		dp->bound.fetch_add(1);
		deferred_probe_del(dev);
		bus_notify(dev, BUS_NOTIFY_BOUND_DRIVER);
		(void)pm_request_idle(dev);
		/* A new binding may be what a deferred device waits for. */
		driver_deferred_probe_trigger();
		return ProbeResult::Bound;
	}

	set_driver(dev, nullptr);
	pm_runtime_reinit(dev);
	bus_notify(dev, BUS_NOTIFY_DRIVER_NOT_BOUND);
	put_user(dp);
	int e = r.error().to_errno();
	switch (e) {
	case -EPROBE_DEFER:
		dev_dbg(&dev, "driver %s requests probe deferral", drv.name());
		deferred_probe_add(dev);
		/* A trigger during our probe found us not yet on the list. */
		if (deferred() && trigger != deferred()->trigger_count.load())
			driver_deferred_probe_trigger();
		return ProbeResult::Defer;
	case -ENODEV:
	case -ENXIO:
		dev_dbg(&dev, "probe with driver %s rejects match %d", drv.name(), e);
		return ProbeResult::NoMatch;
	default:
		dev_err(&dev, "probe with driver %s failed with error %d", drv.name(), e);
		return ProbeResult::NoMatch;
	}
}

void DeviceCore::release_driver_locked(Device &dev)
{
	const Driver *drv = dev.driver();
	if (!drv)
		return;
	/*
	 * The driver's remove runs with the device resumed (Linux), and after
	 * any runtime PM callback already running: the usage count keeps new
	 * idle and suspend callbacks from starting (a queued one finds it and
	 * does nothing); an idle callback in flight leaves the status Active,
	 * so the resume does not wait for it: wait for it here. Else remove()
	 * could free the data such a callback is using. It waits for this
	 * device's callbacks only; flushing the PM work items (one lock class
	 * for every device) would tie an unbind under a lock that another
	 * device's callbacks take (a remote's firmware lock) into a lockdep
	 * cycle.
	 */
	(void)pm_runtime_get_sync(dev);
	pm_runtime_wait_callbacks(dev);
	bus_notify(dev, BUS_NOTIFY_UNBIND_DRIVER);
	const BusType &bt = drv->bus().type();
	if (bt.remove)
		bt.remove(dev, *drv);
	/* Without a bus hook, or if the hook forgot: the data is freed once. */
	drv->call_remove(dev);
	set_driver(dev, nullptr);
	pm_runtime_put_noidle(dev);
	pm_runtime_reinit(dev);
	bus_notify(dev, BUS_NOTIFY_UNBOUND_DRIVER);
	if (DriverPrivate *dp = drv_p(*drv)) {
		dp->bound.fetch_sub(1);
		put_user(dp);
	}
}

void DeviceCore::release_driver(Device &dev, const Driver *only)
{
	lock_device(dev);
	const Driver *drv = dev.driver();
	if (drv && (!only || drv == only))
		release_driver_locked(dev);
	unlock_device(dev);
}

Result<bool> DeviceCore::attach(Device &dev)
{
	BusPrivate *p = dev.m_bus ? bus_p(*dev.m_bus) : nullptr;
	if (!p)
		return err(-ENODEV);
	Result<bool> ret = false;
	lock_device(dev);
	if (dev.state() != DeviceState::Added) {
		ret = err(-ENODEV);
	} else if (dev.driver()) {
		ret = true;
	} else {
		KListIter it(p->drivers);
		while (KListNode *n = it.next()) {
			const Driver &drv = from_knode_drv(*n);
			int m = match(drv, dev);
			if (m == 0)
				continue;
			if (m == -EPROBE_DEFER) {
				deferred_probe_add(dev);
				ret = err(m);
				break;
			}
			if (m < 0) {
				dev_dbg(&dev, "bus failed to match device: %d", m);
				ret = err(m);
				break;
			}
			ProbeResult pr = really_probe(dev, drv);
			if (pr == ProbeResult::NoMatch)
				continue;
			if (pr == ProbeResult::Bound)
				ret = true;
			else
				ret = err(pr == ProbeResult::Defer ? -EPROBE_DEFER : -ENODEV);
			break;
		}
	}
	unlock_device(dev);
	return ret;
}

Result<bool> device_attach(Device &dev)
{
	might_sleep();
	return DeviceCore::attach(dev);
}

Result<void> device_driver_attach(const Driver &drv, Device &dev)
{
	might_sleep();
	if (dev.bus() != &drv.bus())
		return err(-EINVAL);
	int m = DeviceCore::match(drv, dev);
	if (m == -EPROBE_DEFER)
		DeviceCore::deferred_probe_add(dev);
	if (m < 0)
		return err(m);
	if (m == 0)
		return err(-ENODEV);
	Result<void> ret = ok();
	DeviceCore::lock_device(dev);
	if (dev.driver()) {
		ret = dev.driver() == &drv ? ok() : Result<void>(err(-EBUSY));
	} else {
		switch (DeviceCore::really_probe(dev, drv)) {
		case ProbeResult::Bound:
			break;
		case ProbeResult::Defer:
			ret = err(-EPROBE_DEFER);
			break;
		default:
			ret = err(-ENODEV);
			break;
		}
	}
	DeviceCore::unlock_device(dev);
	return ret;
}

Result<void> driver_attach(const Driver &drv)
{
	might_sleep();
	int r = bus_for_each_dev(drv.bus(), nullptr, [&](Device &dev) {
		if (dev.is_bound())
			return 0;
		int m = DeviceCore::match(drv, dev);
		if (m == -EPROBE_DEFER)
			DeviceCore::deferred_probe_add(dev);
		if (m <= 0)
			return 0;
		DeviceCore::lock_device(dev);
		if (!dev.driver())
			(void)DeviceCore::really_probe(dev, drv);
		DeviceCore::unlock_device(dev);
		return 0;
	});
	return r < 0 ? Result<void>(err(r)) : ok();
}

void device_release_driver(Device &dev)
{
	might_sleep();
	DeviceCore::release_driver(dev, nullptr);
}

Result<void> device_reprobe(Device &dev)
{
	might_sleep();
	DeviceCore::release_driver(dev, nullptr);
	Result<bool> r = device_attach(dev);
	if (r.is_error() && r.error().to_errno() != -EPROBE_DEFER)
		return r.error();
	return ok();
}

} // namespace keel
