// SPDX-License-Identifier: GPL-2.0
/*
 * Devices: lifetime, naming, registration and removal of device trees
 * (Linux drivers/base/core.c).
 *
 * Registration states (Device::m_state, under Device::m_lock):
 *
 *   Initialized --device_add--> Adding --> Added --device_del--> Removing --> Removed
 *        ^                        |
 *        +------ add failed ------+
 *
 * A device is linked under its parent only while the parent is Added (the
 * check and the link are atomic under the parent's m_lock), so once
 * device_del() has set Removing no child can appear and removing the
 * children it already has terminates. Probing requires Added (checked under
 * the device lock), so no probe starts on a device being removed.
 *
 * Two devices' m_lock (one lock class) are never held together: the
 * parent's is released before the child's state is touched. The only lock
 * nested in a device's m_lock is its children klist's lock (another class).
 */
#include <keel/pm_runtime.h>

#include "base.h"

namespace keel {

Device::Device()
    : m_children(&DeviceCore::klist_child_get, &DeviceCore::klist_child_put),
      m_power(rpm_work_fn, rpm_timer_fn)
{
	/*
	 * As Linux's device_initialize(): lockdep cannot tell two devices'
	 * mutexes of one class apart, and depth subclasses only help while
	 * every tree has the same shape (a virtio device under a remote
	 * processor, and one at the root, share a depth with each other's
	 * children). The order is the driver core's (parent before child),
	 * documented in <keel/device.h>.
	 */
	m_mutex.novalidate();
}

Device::~Device() = default;

void Device::put() const
{
	if (m_refcount.dec_and_test())
		const_cast<Device *>(this)->release();
}

void Device::release()
{
	Device *parent = m_parent;
	char *name = m_name;
	char *override;
	DeviceState state;
	{
		Guard g{ m_lock };
		override = exchange(m_driver_override, nullptr);
		state = m_state;
	}
	/* A device that was added had its runtime PM work cancelled by device_del(). */
	if (state == DeviceState::Initialized)
		DeviceCore::pm_runtime_remove(*this);

	ReleaseFn release = m_release;
	if (!release) {
		/* Linux: "does not have a release() function, it is broken". */
		dev_err(this, "does not have a release function; leaking it");
		WARN_ON(true);
		return;
	}
	/* The memory is gone after this: only locals from here on. */
	release(*this);
	kfree(name);
	kfree(override);
	if (parent)
		parent->put();
}

Result<void> Device::set_name(const char *fmt, ...)
{
	__builtin_va_list ap;
	__builtin_va_start(ap, fmt);
	char probe[1];
	int len = keel_port_vsnprintf(probe, sizeof(probe), fmt, ap);
	__builtin_va_end(ap);
	if (len < 0)
		return err(-EINVAL);
	char *name = static_cast<char *>(kmalloc(size_t(len) + 1, GFP_KERNEL));
	if (!name)
		return err(-ENOMEM);
	__builtin_va_start(ap, fmt);
	keel_port_vsnprintf(name, size_t(len) + 1, fmt, ap);
	__builtin_va_end(ap);
	kfree(exchange(m_name, name));
	return ok();
}

void Device::set_parent(Device *parent)
{
	if (parent)
		parent->get();
	if (Device *old = exchange(m_parent, parent))
		old->put();
}

void *Device::os_dev() const
{
	for (const Device *d = this; d; d = d->m_parent)
		if (d->m_os_dev)
			return d->m_os_dev;
	return nullptr;
}

Result<void> Device::set_driver_override(const char *name)
{
	char *copy = nullptr;
	if (name && name[0]) {
		size_t len = strlen(name);
		copy = static_cast<char *>(kmalloc(len + 1, GFP_KERNEL));
		if (!copy)
			return err(-ENOMEM);
		memcpy(copy, name, len + 1);
	}
	char *old;
	{
		Guard g{ m_lock };
		old = exchange(m_driver_override, copy);
	}
	kfree(old);
	return ok();
}

bool Device::driver_override(char *buf, size_t size)
{
	Guard g{ m_lock };
	if (!m_driver_override)
		return false;
	if (size)
		(void)strscpy(buf, m_driver_override, size);
	return true;
}

bool Device::driver_override_matches(const char *drv_name, bool *is_set)
{
	Guard g{ m_lock };
	*is_set = m_driver_override != nullptr;
	return m_driver_override && streq(m_driver_override, drv_name);
}

DeviceState Device::state()
{
	Guard g{ m_lock };
	return m_state;
}

/* A device is pinned while linked into its bus's list or its parent's children. */
void DeviceCore::klist_bus_get(KListNode &n)
{
	from_knode_bus(n).get();
}
void DeviceCore::klist_bus_put(KListNode &n)
{
	from_knode_bus(n).put();
}
void DeviceCore::klist_child_get(KListNode &n)
{
	from_knode_parent(n).get();
}
void DeviceCore::klist_child_put(KListNode &n)
{
	from_knode_parent(n).put();
}

void DeviceCore::set_state(Device &dev, DeviceState s)
{
	{
		Guard g{ dev.m_lock };
		dev.m_state = s;
	}
	dev.m_wq.wake_up();
}

Result<void> device_initialize(Device &dev, Device::ReleaseFn release)
{
	dev.m_release = release;
	return ok();
}

Result<void> device_add(Device &dev)
{
	might_sleep();
	if (!dev.m_name) {
		pr_err("device_add: a device needs a name");
		return err(-EINVAL);
	}
	{
		Guard g{ dev.m_lock };
		if (dev.m_state != DeviceState::Initialized)
			return err(-EINVAL);
		dev.m_state = DeviceState::Adding;
	}
	Device *parent = dev.m_parent;
	if (parent) {
		/*
		 * Decide and link under the parent's state lock alone: once
		 * device_del(parent) has set Removing it finds every child
		 * linked before, and none can be linked after. The child's own
		 * m_lock is one lock class with the parent's and is never taken
		 * under it (lockdep: recursive locking): the child stays Adding
		 * meanwhile, which only this thread may change.
		 */
		bool parent_added;
		{
			Guard g{ parent->m_lock };
			parent_added = parent->m_state == DeviceState::Added;
			/* Nested: the parent's state lock, then its children list's lock. */
			if (parent_added)
				parent->m_children.add_tail(dev.m_knode_parent);
		}
		if (!parent_added) {
			dev_dbg(&dev, "parent %s is not registered", parent->name());
			/* Wakes a device_del() of this device that waits for the add. */
			DeviceCore::set_state(dev, DeviceState::Initialized);
			return err(-ENODEV);
		}
	}
	if (dev.m_bus) {
		Result<void> r = DeviceCore::bus_add_device(dev);
		if (r.is_error()) {
			if (parent)
				parent->m_children.del(dev.m_knode_parent);
			DeviceCore::set_state(dev, DeviceState::Initialized);
			return r;
		}
		DeviceCore::bus_notify(dev, BUS_NOTIFY_ADD_DEVICE);
	}
	/* Only now can device_del() start: it never overtakes ADD_DEVICE. */
	DeviceCore::set_state(dev, DeviceState::Added);
	if (dev.m_bus)
		DeviceCore::bus_probe_device(dev);
	return ok();
}

Result<void> device_register(Device &dev)
{
	return device_add(dev);
}

/* Removes every child (and, through device_del(), their subtrees). */
void DeviceCore::remove_children(Device &dev)
{
	while (KListNode *n = dev.m_children.get_first_live()) {
		Device &child = from_knode_parent(*n);
		child.get();
		dev.m_children.put_node(*n);
		device_del(child);
		child.put();
	}
}

void device_del(Device &dev)
{
	might_sleep();
	/* Claim the removal, or wait for another thread's (or a pending add). */
	bool mine = false;
	dev.m_wq.wait_event([&] {
		Guard g{ dev.m_lock };
		switch (dev.m_state) {
		case DeviceState::Added:
			dev.m_state = DeviceState::Removing;
			mine = true;
			return true;
		case DeviceState::Adding:
		case DeviceState::Removing:
			return false;
		default:
			return true;
		}
	});
	if (!mine)
		return;

	/* Deepest first: the children go before this device's driver. */
	DeviceCore::remove_children(dev);

	if (dev.m_bus)
		DeviceCore::bus_notify(dev, BUS_NOTIFY_DEL_DEVICE);
	if (dev.m_bus)
		DeviceCore::bus_remove_device(dev);
	DeviceCore::deferred_probe_del(dev);
	DeviceCore::pm_runtime_remove(dev);
	if (dev.m_parent)
		dev.m_parent->m_children.del(dev.m_knode_parent);
	if (dev.m_bus)
		DeviceCore::bus_notify(dev, BUS_NOTIFY_REMOVED_DEVICE);
	DeviceCore::set_state(dev, DeviceState::Removed);
}

void device_unregister(Device &dev)
{
	device_del(dev);
	dev.put();
}

int __device_for_each_child(Device &parent, int (*fn)(Device &dev, void *arg), void *arg)
{
	KListIter it(parent.m_children);
	while (KListNode *n = it.next()) {
		int r = fn(DeviceCore::from_knode_parent(*n), arg);
		if (r)
			return r;
	}
	return 0;
}

const char *dev_name(const Device *dev)
{
	return dev ? dev->name() : "(null)";
}

const char *dev_driver_string(const Device *dev)
{
	if (!dev)
		return "";
	if (const Driver *drv = dev->driver())
		return drv->name();
	if (const Bus *bus = dev->bus())
		return bus->name();
	return "";
}

} // namespace keel
