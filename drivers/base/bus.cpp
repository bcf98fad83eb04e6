// SPDX-License-Identifier: GPL-2.0
/*
 * Buses and driver registration (Linux drivers/base/bus.c, driver.c).
 */
#include <keel/pm_runtime.h>
#include <keel/time.h>

#include "base.h"

namespace keel {

BusPrivate::BusPrivate() : devices(&DeviceCore::klist_bus_get, &DeviceCore::klist_bus_put) {}

Result<void> bus_register(Bus &bus)
{
	might_sleep();
	TRY(DeviceCore::deferred_probe_init());
	if (DeviceCore::bus_p(bus))
		return err(-EBUSY);
	UniquePtr<BusPrivate> p = TRY(make_unique<BusPrivate>(GFP_KERNEL));
	p->bus = &bus;
	__atomic_store_n(&bus.m_p, p.leak(), __ATOMIC_RELEASE);
	return ok();
}

void bus_unregister(Bus &bus)
{
	might_sleep();
	BusPrivate *p = bus.m_p;
	if (!p)
		return;
	if (!p->drivers.is_empty() || !p->devices.is_empty_live()) {
		pr_err("bus %s: unregistered with devices or drivers left; leaking it", bus.name());
		WARN_ON(true);
		return;
	}
	/* Dead device nodes leave when their last iterator does. */
	p->devices.wait_empty();
	__atomic_store_n(&bus.m_p, nullptr, __ATOMIC_RELEASE);
	delete p;
}

bool bus_is_registered(const Bus &bus)
{
	return DeviceCore::bus_p(bus) != nullptr;
}

Result<void> bus_register_notifier(Bus &bus, NotifierBlock &nb)
{
	if (!bus.m_p)
		return err(-EINVAL);
	return bus.m_p->notifier.register_notifier(nb);
}

Result<void> bus_unregister_notifier(Bus &bus, NotifierBlock &nb)
{
	if (!bus.m_p)
		return err(-EINVAL);
	return bus.m_p->notifier.unregister_notifier(nb);
}

Result<void> DeviceCore::bus_add_device(Device &dev)
{
	BusPrivate *p = bus_p(*dev.m_bus);
	if (!p) {
		dev_err(&dev, "bus %s is not registered", dev.m_bus->name());
		return err(-EINVAL);
	}
	p->devices.add_tail(dev.m_knode_bus);
	return ok();
}

void DeviceCore::bus_remove_device(Device &dev)
{
	BusPrivate *p = bus_p(*dev.m_bus);
	if (p && p->devices.node_attached(dev.m_knode_bus))
		p->devices.del(dev.m_knode_bus);
	release_driver(dev, nullptr);
}

void DeviceCore::bus_notify(Device &dev, unsigned long action)
{
	if (BusPrivate *p = dev.m_bus ? bus_p(*dev.m_bus) : nullptr)
		p->notifier.call_chain(action, &dev);
}

void DeviceCore::bus_probe_device(Device &dev)
{
	/* Errors (deferral included) are the device's state, not the caller's. */
	(void)attach(dev);
}

int __bus_for_each_dev(Bus &bus, Device *start, int (*fn)(Device &dev, void *arg), void *arg)
{
	BusPrivate *p = DeviceCore::bus_p(bus);
	if (!p)
		return -EINVAL;
	KListIter it(p->devices, start ? DeviceCore::knode_bus(*start) : nullptr);
	while (KListNode *n = it.next()) {
		int r = fn(DeviceCore::from_knode_bus(*n), arg);
		if (r)
			return r;
	}
	return 0;
}

int __bus_for_each_drv(Bus &bus, int (*fn)(const Driver &drv, void *arg), void *arg)
{
	BusPrivate *p = DeviceCore::bus_p(bus);
	if (!p)
		return -EINVAL;
	KListIter it(p->drivers);
	while (KListNode *n = it.next()) {
		int r = fn(DeviceCore::from_knode_drv(*n), arg);
		if (r)
			return r;
	}
	return 0;
}

RefPtr<Device> bus_find_device_by_name(Bus &bus, const char *name)
{
	RefPtr<Device> found;
	bus_for_each_dev(bus, nullptr, [&](Device &dev) {
		if (!streq(dev.name(), name))
			return 0;
		found = RefPtr<Device>(dev);
		return 1;
	});
	return found;
}

Result<void> bus_rescan_devices(Bus &bus)
{
	int first = 0;
	int r = bus_for_each_dev(bus, nullptr, [&](Device &dev) {
		if (dev.is_bound())
			return 0;
		Result<bool> a = device_attach(dev);
		int e = result_errno(a);
		if (e && e != -EPROBE_DEFER && e != -ENODEV && !first)
			first = e;
		return 0;
	});
	if (r < 0)
		return err(r);
	return first ? Result<void>(err(first)) : ok();
}

/* --- drivers --- */

Result<void> driver_register(Driver &drv)
{
	might_sleep();
	BusPrivate *p = DeviceCore::bus_p(drv.bus());
	if (!p) {
		pr_err("driver %s: bus %s is not registered", drv.name(), drv.bus().name());
		return err(-EINVAL);
	}
	if (DeviceCore::drv_p(drv))
		return err(-EBUSY);
	UniquePtr<DriverPrivate> dp = TRY(make_unique<DriverPrivate>(GFP_KERNEL));
	dp->driver = &drv;
	dp->bus = p;
	{
		Guard g{ p->drivers_mutex };
		bool dup = false;
		KListIter it(p->drivers);
		while (KListNode *n = it.next()) {
			if (streq(DeviceCore::from_knode_drv(*n).name(), drv.name())) {
				dup = true;
				break;
			}
		}
		it.exit();
		if (dup) {
			pr_err("driver %s is already registered on bus %s", drv.name(),
			       drv.bus().name());
			return err(-EBUSY);
		}
		/* Registered: the driver owns its private part from here on. */
		DriverPrivate *owned = dp.leak();
		DeviceCore::set_drv_p(drv, owned);
		p->drivers.add_tail(owned->knode_bus);
	}
	(void)driver_attach(drv);
	return ok();
}

/* Unbinds @drv from every device of its bus (driver_detach()). */
static void driver_detach(const Driver &drv)
{
	bus_for_each_dev(drv.bus(), nullptr, [&](Device &dev) {
		if (dev.driver() == &drv)
			DeviceCore::release_driver(dev, &drv);
		return 0;
	});
}

void driver_unregister(Driver &drv)
{
	might_sleep();
	DriverPrivate *dp = DeviceCore::drv_p(drv);
	if (!dp) {
		pr_err("driver %s: unregistered but not registered", drv.name());
		WARN_ON(true);
		return;
	}
	BusPrivate *p = DeviceCore::bus_p(drv.bus());
	dp->dying.store(true);
	/* No new probe through the bus's list once this returns. */
	p->drivers.remove(dp->knode_bus);
	/*
	 * A probe that began before @dying was seen may bind after a pass; a
	 * device being deleted is off the bus list but unbinds itself. Repeat
	 * until nothing uses the driver.
	 */
	for (;;) {
		driver_detach(drv);
		if (p->driver_wq.wait_event_timeout([dp] { return dp->users.load() == 0; },
						    ms_to_ns(10)))
			break;
	}
	DeviceCore::set_drv_p(drv, nullptr);
	delete dp;
}

bool driver_is_registered(const Driver &drv)
{
	return DeviceCore::drv_p(drv) != nullptr;
}

u32 driver_bound_count(const Driver &drv)
{
	DriverPrivate *dp = DeviceCore::drv_p(drv);
	return dp ? dp->bound.load() : 0;
}

} // namespace keel
