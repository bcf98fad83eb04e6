/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to the driver core (Linux drivers/base/base.h).
 */
#ifndef KEEL_DRIVERS_BASE_BASE_H
#define KEEL_DRIVERS_BASE_BASE_H

#include <keel/device.h>
#include <keel/log.h>

namespace keel {

/* Linux subsys_private: a registered bus's mutable state. */
struct BusPrivate : NonMovable {
	BusPrivate();
	Bus *bus = nullptr;
	/* Nodes pin their device (get/put). */
	KList devices;
	KList drivers;
	/* Serialises driver registration (the name check and the add). */
	Mutex drivers_mutex{ "bus_drivers_mutex", KEEL_LOCK_KEY() };
	BlockingNotifierHead notifier;
	/*
	 * driver_unregister() waits here for DriverPrivate::users to drop to 0:
	 * on the bus, which outlives its drivers, so that the last user's
	 * wake-up never touches a freed DriverPrivate.
	 */
	WaitQueue driver_wq{ "bus_driver_wq", KEEL_LOCK_KEY() };
};

/* Linux driver_private: a registered driver's state. */
struct DriverPrivate : NonMovable {
	Driver *driver = nullptr;
	KListNode knode_bus;
	/* Devices bound to, or being probed by, the driver; unregister waits for 0. */
	Atomic<u32> users;
	Atomic<u32> bound;
	BusPrivate *bus = nullptr;
	/* driver_unregister() has begun: no new binding. */
	Atomic<bool> dying;
};

/* The outcome of one probe attempt (really_probe()). */
enum class ProbeResult { Bound, NoMatch, Defer, Dead };

/*
 * The core's internals, a friend of Device, Bus and Driver. Split over
 * core.cpp (devices), bus.cpp (buses, drivers, lists), dd.cpp (binding,
 * deferral) and pm_runtime.cpp.
 */
struct DeviceCore {
	/* core.cpp */
	static void klist_bus_get(KListNode &n);
	static void klist_bus_put(KListNode &n);
	static void klist_child_get(KListNode &n);
	static void klist_child_put(KListNode &n);
	static Device &from_knode_bus(KListNode &n)
	{
		return *container_of(&n, &Device::m_knode_bus);
	}
	static Device &from_knode_parent(KListNode &n)
	{
		return *container_of(&n, &Device::m_knode_parent);
	}
	static Driver &from_knode_drv(KListNode &n)
	{
		return *container_of(&n, &DriverPrivate::knode_bus)->driver;
	}
	static void set_state(Device &dev, DeviceState s);
	static void remove_children(Device &dev);

	/* bus.cpp */
	static BusPrivate *bus_p(const Bus &bus)
	{
		return __atomic_load_n(&bus.m_p, __ATOMIC_ACQUIRE);
	}
	static DriverPrivate *drv_p(const Driver &drv)
	{
		return __atomic_load_n(&drv.m_p, __ATOMIC_ACQUIRE);
	}
	static void set_drv_p(Driver &drv, DriverPrivate *dp)
	{
		__atomic_store_n(&drv.m_p, dp, __ATOMIC_RELEASE);
	}
	static KListNode *knode_bus(Device &dev) { return &dev.m_knode_bus; }
	static Result<void> bus_add_device(Device &dev);
	static void bus_remove_device(Device &dev);
	static void bus_notify(Device &dev, unsigned long action);
	static void bus_probe_device(Device &dev);

	/* dd.cpp */
	static int match(const Driver &drv, Device &dev);
	static ProbeResult really_probe(Device &dev, const Driver &drv) REQUIRES(dev.m_mutex);
	static void release_driver_locked(Device &dev) REQUIRES(dev.m_mutex);
	static void release_driver(Device &dev, const Driver *only);
	static Result<bool> attach(Device &dev);
	static void deferred_probe_del(Device &dev);
	static void deferred_probe_add(Device &dev);
	static Result<void> deferred_probe_init();
	static void lock_device(Device &dev) ACQUIRE(dev.m_mutex);
	static void unlock_device(Device &dev) RELEASE(dev.m_mutex);
	static void set_driver(Device &dev, const Driver *drv)
	{
		dev.m_driver.store(drv, MemoryOrder::Release);
	}
	static void *&driver_data(Device &dev) { return dev.m_driver_data; }
	static ListNode &deferred_node(Device &dev) { return dev.m_deferred_node; }
	using DeferredList = List<Device, &Device::m_deferred_node>;
	static WaitQueue &wq(Device &dev) { return dev.m_wq; }

	/* pm_runtime.cpp */
	static void pm_runtime_remove(Device &dev);
	static void pm_runtime_reinit(Device &dev);
	/*
	 * Waits until no runtime PM callback of @dev runs: no suspend or
	 * resume in progress, no idle callback. It flushes no work item, so
	 * it adds no lock dependency on them. Context: may sleep.
	 */
	static void pm_runtime_wait_callbacks(Device &dev);
};

} // namespace keel

#endif
