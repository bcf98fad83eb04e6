/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The driver core (Linux drivers/base): buses, devices, drivers, binding,
 * probe deferral, removal of device trees, bus notifiers. Runtime PM is in
 * <keel/pm_runtime.h>; Documentation/driver-model.rst has the full story.
 *
 * A bus is a constinit Bus with its BusType ops; a bus-specific device type
 * derives from Device; a bus-specific driver type derives from Driver and is
 * declared by a macro of that bus from a plain driver class (STYLE.md
 * "Declaring drivers"), through DriverAdapter<T, DevT> below.
 *
 * Lifetime: a Device is reference counted (get()/put(), RefPtr<Device>). It
 * starts with one reference, owned by whoever initialised it. The last put()
 * runs the release function given at init (or the container's release()),
 * which frees the memory: never delete a device yourself once initialised,
 * and after a failed device_add()/device_register() you put(), you don't free.
 * A device holds a reference on its parent until it is released.
 *
 * Lock order (outermost first):
 *   1. Device::m_mutex of the parent (only when the bus sets need_parent_lock)
 *   2. Device::m_mutex (device_lock: serialises probe, remove and bind state).
 *      A parent's before its child's (a child registered from its parent's
 *      probe is probed under it); the lockdep subclass is the depth.
 *   3. the deferred-probe mutex (drivers/base/dd.cpp)
 *   4. spinlocks, never nested with one another except where noted:
 *      Device::m_lock (state, driver_override), Device::m_power.lock (runtime
 *      PM), each KList's lock, each notifier chain's lock. The one nesting:
 *      a parent's m_lock, then its m_children KList lock (device_add()
 *      checks the parent's state and links the child atomically).
 *      Each of these is one lockdep class for all its instances and there is
 *      no spin_lock_nested: two locks of one class (two devices' m_lock or
 *      m_power.lock, e.g. parent and child; two KLists'; two chains') are
 *      never held together. Release one before taking the other.
 * No driver op, bus op, notifier or put() that may release runs with a
 * spinlock held. Bus notifiers for (UN)BIND/BOUND/UNBOUND/DRIVER_NOT_BOUND run
 * with the device's m_mutex held (as in Linux); ADD/DEL/REMOVED_DEVICE with
 * no lock held.
 */
#ifndef KEEL_DEVICE_H
#define KEEL_DEVICE_H

#include <keel/alloc.h>
#include <keel/atomic.h>
#include <keel/klist.h>
#include <keel/notifier.h>
#include <keel/refcount.h>
#include <keel/spinlock.h>
#include <keel/string.h>
#include <keel/wait.h>
#include <keel/workqueue.h>

namespace keel {

class Bus;
class Device;
class Driver;
struct BusPrivate;
struct DriverPrivate;
struct DeviceCore;
struct NotifierBlock;

Result<void> bus_register(Bus &bus);
void bus_unregister(Bus &bus);
Result<void> bus_register_notifier(Bus &bus, NotifierBlock &nb)
	KEEL_EXPORT_AS(keel_bus_register_notifier);
Result<void> bus_unregister_notifier(Bus &bus, NotifierBlock &nb)
	KEEL_EXPORT_AS(keel_bus_unregister_notifier);
Result<void> driver_register(Driver &drv);
void driver_unregister(Driver &drv);
Result<void> device_add(Device &dev);
void device_del(Device &dev);

/* --- runtime PM state (the API is in <keel/pm_runtime.h>) --- */

/**
 * enum RpmStatus - a device's runtime PM status (Linux enum rpm_status)
 * @Active: powered and usable
 * @Resuming: its resume callback is running
 * @Suspended: powered down
 * @Suspending: its suspend callback is running
 */
enum class RpmStatus : u8 { Active, Resuming, Suspended, Suspending };

/**
 * struct DevPmOps - runtime PM callbacks of a bus (Linux dev_pm_ops, runtime part)
 * @runtime_suspend: power the device down; an error keeps it Active
 *	(-EBUSY and -EAGAIN: try later; any other error is kept in
 *	runtime_error and stops runtime PM until cleared)
 * @runtime_resume: power it up; an error leaves it Suspended
 * @runtime_idle: the device became idle; an error vetoes the suspend that
 *	would follow
 *
 * Each is optional and runs in process context (it may sleep), without
 * the device's PM lock.
 */
struct DevPmOps {
	Result<void> (*runtime_suspend)(Device &dev);
	Result<void> (*runtime_resume)(Device &dev);
	/* Returning an error vetoes the suspend that would follow. */
	Result<void> (*runtime_idle)(Device &dev);
};

/**
 * enum RpmRequest - an asynchronous runtime PM request pending in the work
 * item (Linux enum rpm_request)
 * @None: nothing pending
 * @Idle: run the idle check
 * @Suspend: suspend
 * @AutoSuspend: suspend once the autosuspend delay has passed
 * @Resume: resume
 */
enum class RpmRequest : u8 { None, Idle, Suspend, AutoSuspend, Resume };

/**
 * struct DevPmInfo - a device's runtime PM state (Linux dev_pm_info, runtime part)
 * @lock: guards every field but the atomics; IRQ-safe, so that the
 *	asynchronous calls (pm_runtime_get(), pm_runtime_put()) work from
 *	atomic context
 * @status: the current RpmStatus
 * @disable_depth: pm_runtime_disable() nesting; runtime PM acts only at 0
 *	(starts at 1: disabled)
 * @runtime_error: the last hard error of a callback; non-zero stops
 *	runtime PM until set_active()/set_suspended()
 * @ignore_children: suspend even while children are active
 * @use_autosuspend: puts suspend after autosuspend_delay_ms, not at once
 * @autosuspend_delay_ms: the autosuspend delay (negative: never suspend)
 * @request: the asynchronous request pending in @work
 * @timer_expires: when @timer fires (ktime ns; 0: not armed)
 * @idle_notification: an idle callback is running (Linux's flag)
 * @usage_count: pm_runtime_get*() minus put*(): the device stays active
 *	while positive
 * @child_count: active children
 * @last_busy: last pm_runtime_mark_last_busy() (ktime ns)
 * @work: runs the asynchronous requests
 * @timer: the autosuspend timer
 *
 * Used by <keel/pm_runtime.h> only; a driver never touches it.
 */
struct DevPmInfo {
	/**
	 * DevPmInfo() - runtime PM state of a new device: Suspended, disabled
	 * @work_fn: the driver core's request worker
	 * @timer_fn: the driver core's autosuspend timer function
	 *
	 * Context: any.
	 */
	DevPmInfo(Work::Fn work_fn, DelayedWork::Fn timer_fn)
	    : work(work_fn, "dev_pm_work", KEEL_LOCK_KEY()),
	      timer(timer_fn, "dev_pm_timer", KEEL_LOCK_KEY())
	{
	}

	SpinLock lock{ "dev_pm_lock", KEEL_LOCK_KEY() };
	RpmStatus status GUARDED_BY(lock) = RpmStatus::Suspended;
	u32 disable_depth GUARDED_BY(lock) = 1;
	int runtime_error GUARDED_BY(lock) = 0;
	bool ignore_children GUARDED_BY(lock) = false;
	bool use_autosuspend GUARDED_BY(lock) = false;
	int autosuspend_delay_ms GUARDED_BY(lock) = 0;
	RpmRequest request GUARDED_BY(lock) = RpmRequest::None;
	/* The autosuspend timer is armed for this time (0: not armed). */
	s64 timer_expires GUARDED_BY(lock) = 0;
	bool idle_notification GUARDED_BY(lock) = false;
	Atomic<int> usage_count;
	Atomic<int> child_count;
	Atomic<s64> last_busy;
	Work work;	   /* asynchronous requests */
	DelayedWork timer; /* autosuspend expiry */
};

/* --- buses --- */

/**
 * struct BusType - what a bus does (Linux struct bus_type)
 * @name: the bus's name (drivers' and devices' log lines use it)
 * @match: >0 if @drv can handle @dev (usually by its id table), 0 if not,
 *	<0 on error; -EPROBE_DEFER defers the device. A device's
 *	driver_override, when set, is checked by the core instead.
 * @probe: wraps the driver's probe (for bus setup before/after it, like the
 *	virtio status handshake). It must call drv.call_probe(dev). Without it
 *	the core calls drv.call_probe(dev) itself.
 * @remove: likewise; must call drv.call_remove(dev).
 * @pm: runtime PM callbacks; when absent, the bound driver's are used.
 * @need_parent_lock: probe and remove run with the parent's device lock held
 *	too.
 */
struct BusType {
	const char *name;
	int (*match)(Device &dev, const Driver &drv);
	Result<void> (*probe)(Device &dev, const Driver &drv);
	void (*remove)(Device &dev, const Driver &drv);
	const DevPmOps *pm;
	bool need_parent_lock;
};

/**
 * class Bus - a bus: constinit, registered once with bus_register()
 *
 * Its mutable state (device and driver lists, notifier chain) lives in
 * BusPrivate, allocated by bus_register() (Linux subsys_private), so that
 * the Bus itself can be a constant.
 */
class Bus : NonMovable {
public:
	/**
	 * Bus() - a bus of @type, not yet registered
	 * @type: what the bus does
	 *
	 * Context: any (constexpr: for constinit buses).
	 */
	constexpr explicit Bus(const BusType &type) : m_type(type) {}

	/**
	 * name() - the bus's name
	 *
	 * Context: any.
	 * Return: the type's name.
	 */
	const char *name() const { return m_type.name; }
	/**
	 * type() - what the bus does
	 *
	 * Context: any.
	 * Return: the type given at construction.
	 */
	const BusType &type() const { return m_type; }

private:
	friend struct DeviceCore;
	friend Result<void> bus_register(Bus &bus);
	friend void bus_unregister(Bus &bus);
	friend Result<void> bus_register_notifier(Bus &bus, NotifierBlock &nb);
	friend Result<void> bus_unregister_notifier(Bus &bus, NotifierBlock &nb);
	BusType m_type;
	BusPrivate *m_p = nullptr;
};

/*
 * Bus notifier actions (Linux BUS_NOTIFY_*); the data is the Device *.
 * ADD_DEVICE, DEL_DEVICE and REMOVED_DEVICE are called with no lock held,
 * the (UN)BIND/BOUND/UNBOUND/DRIVER_NOT_BOUND ones with the device's
 * m_mutex held.
 */
enum : unsigned long {
	BUS_NOTIFY_ADD_DEVICE = 1,
	BUS_NOTIFY_DEL_DEVICE,
	BUS_NOTIFY_REMOVED_DEVICE,
	BUS_NOTIFY_BIND_DRIVER,
	BUS_NOTIFY_BOUND_DRIVER,
	BUS_NOTIFY_UNBIND_DRIVER,
	BUS_NOTIFY_UNBOUND_DRIVER,
	BUS_NOTIFY_DRIVER_NOT_BOUND,
};

/**
 * bus_register() - register @bus (Linux bus_register())
 * @bus: a constinit bus, not registered
 *
 * Allocates its private part; sets up the driver core's deferred-probe
 * state on first use.
 *
 * Context: may sleep.
 * Return: 0; -EBUSY when @bus is registered already, -ENOMEM.
 */
Result<void> bus_register(Bus &bus);
/**
 * bus_unregister() - unregister @bus (Linux bus_unregister())
 * @bus: a registered bus with no devices and no drivers left
 *
 * A bus with devices or drivers left is a bug: it warns and leaks the bus
 * rather than freeing state still in use. A no-op on a bus not registered.
 *
 * Context: may sleep.
 */
void bus_unregister(Bus &bus);
/**
 * bus_is_registered() - is @bus registered?
 * @bus: the bus
 *
 * Context: any.
 * Return: true between bus_register() and bus_unregister().
 */
bool bus_is_registered(const Bus &bus);
/**
 * bus_register_notifier() - be told of the bus's device events
 * @bus: a registered bus
 * @nb: the block; its callback gets a BUS_NOTIFY_* action and the Device *
 *
 * Context: may sleep.
 * Return: 0; -EINVAL when @bus is not registered, or the errors of
 * BlockingNotifierHead::register_notifier().
 */
Result<void> bus_register_notifier(Bus &bus, NotifierBlock &nb);
/**
 * bus_unregister_notifier() - stop being told of the bus's device events
 * @bus: a registered bus
 * @nb: a block registered on it
 *
 * Waits for running callbacks: @nb may be freed afterwards.
 *
 * Context: may sleep.
 * Return: 0; -EINVAL when @bus is not registered, -ENOENT when @nb is not
 * on it.
 */
Result<void> bus_unregister_notifier(Bus &bus, NotifierBlock &nb);
/**
 * bus_rescan_devices() - try to bind every unbound device of @bus
 * @bus: the bus
 *
 * Context: may sleep (probes run).
 * Return: 0, or the first error of a device that could not be bound for
 * a reason other than "no driver" (-ENODEV) or deferral (-EPROBE_DEFER);
 * -EINVAL when @bus is not registered.
 */
Result<void> bus_rescan_devices(Bus &bus);

/* Iteration (see the templates below); @fn returns nonzero to stop, and that is returned. */
int __bus_for_each_dev(Bus &bus, Device *start, int (*fn)(Device &dev, void *arg), void *arg)
	KEEL_EXPORT_AS(keel_bus_for_each_dev);
int __bus_for_each_drv(Bus &bus, int (*fn)(const Driver &drv, void *arg), void *arg)
	KEEL_EXPORT_AS(keel_bus_for_each_drv);
int __device_for_each_child(Device &parent, int (*fn)(Device &dev, void *arg), void *arg)
	KEEL_EXPORT_AS(keel_device_for_each_child);

/* --- drivers --- */

/**
 * struct DriverOps - the type-erased half of a driver, generated by
 * DriverAdapter<T, DevT>
 * @probe: binds the driver: returns the driver's data (a T *), owned by the
 *	core from then on, or an error (-EPROBE_DEFER: retry later, -ENODEV
 *	or -ENXIO: not this device)
 * @remove: runs T::remove() on the data and frees it
 * @runtime_suspend: T::runtime_suspend() on the data, when T has it
 * @runtime_resume: T::runtime_resume() on the data, when T has it
 * @runtime_idle: T::runtime_idle() on the data, when T has it
 * @data_type: names the data type for Device::drvdata<T>():
 *	driver_data_type<T>()
 *
 * All run in process context with the device's m_mutex held.
 */
struct DriverOps {
	Result<void *> (*probe)(Device &dev);
	void (*remove)(Device &dev, void *data);
	Result<void> (*runtime_suspend)(Device &dev, void *data);
	Result<void> (*runtime_resume)(Device &dev, void *data);
	Result<void> (*runtime_idle)(Device &dev, void *data);
	/* Names the data type for Device::drvdata<T>(): driver_data_type<T>(). */
	const char *data_type;
};

/**
 * class Driver - a driver (Linux struct device_driver)
 *
 * constinit, usually wrapped by a bus-specific class (that adds an id
 * table) that a bus macro declares for a driver class. Its mutable state
 * lives in DriverPrivate, allocated by driver_register().
 */
class Driver : NonMovable {
public:
	/**
	 * Driver() - a driver named @name for @bus
	 * @name: its name (unique on the bus; matched by driver_override)
	 * @bus: its bus
	 * @ops: what it does (DriverAdapter<T, DevT>::ops)
	 *
	 * Context: any (constexpr: for constinit drivers).
	 */
	constexpr Driver(const char *name, Bus &bus, const DriverOps &ops)
	    : m_name(name), m_bus(&bus), m_ops(&ops)
	{
	}

	/**
	 * name() - the driver's name
	 *
	 * Context: any.
	 * Return: the name given at construction.
	 */
	const char *name() const { return m_name; }
	/**
	 * bus() - the driver's bus
	 *
	 * Context: any.
	 * Return: the bus.
	 */
	Bus &bus() const { return *m_bus; }
	/**
	 * ops() - what the driver does
	 *
	 * Context: any.
	 * Return: the ops.
	 */
	const DriverOps &ops() const { return *m_ops; }

	/**
	 * call_probe() - run the driver's probe and keep its data in @dev
	 * @dev: the device being bound
	 *
	 * For a bus's probe hook only.
	 *
	 * Context: may sleep; @dev's m_mutex held.
	 * Return: 0, or the probe's error (nothing kept).
	 */
	Result<void> call_probe(Device &dev) const;
	/**
	 * call_remove() - run the driver's remove and free its data
	 * @dev: the device being unbound
	 *
	 * For a bus's remove hook only; a no-op when no data is kept.
	 *
	 * Context: may sleep; @dev's m_mutex held.
	 */
	void call_remove(Device &dev) const;

private:
	friend struct DeviceCore;
	friend Result<void> driver_register(Driver &drv);
	friend void driver_unregister(Driver &drv);
	const char *m_name;
	Bus *m_bus;
	const DriverOps *m_ops;
	DriverPrivate *m_p = nullptr;
};

/**
 * driver_register() - register @drv and bind it to every matching device
 * @drv: a constinit driver of a registered bus
 *
 * Context: may sleep (probes run).
 * Return: 0 (whether or not any device bound); -EBUSY when @drv or a
 * driver of its name is registered on the bus already, -EINVAL when the
 * bus is not registered, -ENOMEM.
 */
Result<void> driver_register(Driver &drv);
/**
 * driver_unregister() - unbind every device from @drv and unregister it
 * @drv: a registered driver (unregistering one that is not warns)
 *
 * Each bound device's remove runs exactly once; running probes of @drv
 * are waited for, and none starts afterwards.
 *
 * Context: may sleep.
 */
void driver_unregister(Driver &drv);
/**
 * driver_is_registered() - is @drv registered?
 * @drv: the driver
 *
 * Context: any.
 * Return: true between driver_register() and driver_unregister().
 */
bool driver_is_registered(const Driver &drv);
/**
 * driver_attach() - try @drv on every unbound device of its bus
 * @drv: a registered driver
 *
 * Deferred and failed probes are the devices' state, not errors here.
 *
 * Context: may sleep (probes run).
 * Return: 0, or -EINVAL when the bus is not registered.
 */
Result<void> driver_attach(const Driver &drv);
/**
 * driver_bound_count() - how many devices are bound to @drv
 * @drv: the driver
 *
 * For tests and diagnostics.
 *
 * Context: any.
 * Return: the count, 0 for a driver not registered.
 */
u32 driver_bound_count(const Driver &drv);

/* --- devices --- */

/**
 * enum DeviceState - where a device is in its registration
 * @Initialized: not added (or its add failed): device_add() may run
 * @Adding: device_add() is running
 * @Added: registered: on its bus, maybe bound
 * @Removing: device_del() is running
 * @Removed: device_del() finished; only put() is left
 */
enum class DeviceState : u8 { Initialized, Adding, Added, Removing, Removed };

/**
 * class Device - a device on a bus (Linux struct device)
 * @ReleaseFn: frees the device's container once the last reference is
 *	dropped (device_release_fn<T>())
 *
 * A bus-specific device type derives from it. Reference counted: it
 * starts with one reference, owned by whoever initialised it; the last
 * put() runs the release function. Never delete a device, and after a
 * failed device_add() put() it.
 *
 * Locking (the file comment has the order): m_mutex (device_lock())
 * serialises probe, remove and the binding state (m_driver is written
 * under it, read anywhere); m_lock, a spinlock, guards m_state and
 * m_driver_override and is never held across a call out; m_wq is woken on
 * state and runtime PM changes. m_children has its own lock (KList), and
 * m_power its own (DevPmInfo::lock).
 */
class Device : NonMovable {
public:
	using ReleaseFn = void (*)(Device &dev);

	/**
	 * Device() - a device with one reference, no name, parent or bus yet
	 *
	 * Set the release function (device_initialize()), then the name,
	 * parent and bus, then device_add().
	 *
	 * Context: any.
	 */
	Device();
	/* Only a release function destroys a device (after the last put()). */
	~Device();

	/* --- reference counting --- */
	/**
	 * get() - take a reference (Linux get_device())
	 *
	 * The caller must hold one already.
	 *
	 * Context: any.
	 */
	void get() const { m_refcount.inc(); }
	/**
	 * get_unless_zero() - take a reference unless the device is being released
	 *
	 * Context: any.
	 * Return: true when a reference was taken.
	 */
	bool get_unless_zero() const { return m_refcount.inc_not_zero(); }
	/**
	 * put() - drop a reference (Linux put_device())
	 *
	 * The last one runs the release function, then drops the reference on
	 * the parent.
	 *
	 * Context: may sleep when it may be the last (the release function
	 * frees; a bus's may do more); never with a lock held that release
	 * takes.
	 */
	void put() const;
	/**
	 * ref_count() - the current count (diagnostics and tests)
	 *
	 * Context: any.
	 * Return: the count.
	 */
	u32 ref_count() const { return m_refcount.read(); }

	/* --- identity and topology (set before device_add()) --- */
	/**
	 * set_name() - name the device, printf-style (Linux dev_set_name())
	 * @fmt: the format
	 * @...: its arguments
	 *
	 * Before device_add(); the name is copied.
	 *
	 * Context: may sleep.
	 * Return: 0; -ENOMEM, -EINVAL for a format the port cannot print.
	 */
	__printf(2, 3) Result<void> set_name(const char *fmt, ...);
	/**
	 * name() - the device's name
	 *
	 * Context: any.
	 * Return: the name, or "(unnamed)".
	 */
	const char *name() const { return m_name ? m_name : "(unnamed)"; }
	/**
	 * set_parent() - place the device under @parent
	 * @parent: the parent (a reference is taken, dropped when this device
	 *	is released), or nullptr
	 *
	 * Before device_add().
	 *
	 * Context: any.
	 */
	void set_parent(Device *parent);
	/**
	 * parent() - the device's parent
	 *
	 * Context: any.
	 * Return: the parent, or nullptr.
	 */
	Device *parent() const { return m_parent; }
	/**
	 * set_bus() - put the device on @bus
	 * @bus: the bus, registered by device_add() time
	 *
	 * Before device_add(). A device without a bus is only a node in the
	 * tree (no driver binds).
	 *
	 * Context: any.
	 */
	void set_bus(Bus &bus) { m_bus = &bus; }
	/**
	 * bus() - the device's bus
	 *
	 * Context: any.
	 * Return: the bus, or nullptr.
	 */
	Bus *bus() const { return m_bus; }

	/**
	 * set_os_dev() - give the device the port's DMA-capable OS device
	 * @os_dev: Linux: a struct device * with a DMA mask; nullptr hosted
	 *
	 * Context: any.
	 */
	void set_os_dev(void *os_dev) { m_os_dev = os_dev; }
	/**
	 * os_dev() - the port's OS device for DmaBuffer::alloc_coherent()
	 *
	 * Inherited from the nearest ancestor that has one.
	 *
	 * Context: any.
	 * Return: the OS device, or nullptr.
	 */
	void *os_dev() const;

	/* --- binding --- */
	/**
	 * driver() - the bound driver
	 *
	 * Context: any; stable only with m_mutex held or from the driver's
	 * own callbacks.
	 * Return: the driver, or nullptr when unbound.
	 */
	const Driver *driver() const { return m_driver.load(MemoryOrder::Acquire); }
	/**
	 * is_bound() - is a driver bound?
	 *
	 * Context: any.
	 * Return: true when bound.
	 */
	bool is_bound() const { return driver() != nullptr; }
	/**
	 * drvdata() - the bound driver's data, if it is a T
	 *
	 * Valid while bound: use it from the driver's own callbacks, or with
	 * m_mutex held. Checked: a driver of another type gives nullptr, not
	 * a bad cast (driver_data_type<T>()).
	 *
	 * Context: any.
	 * Return: the data, or nullptr (unbound, or not a T).
	 */
	template <typename T> T *drvdata() const;
	/**
	 * raw_drvdata() - the bound driver's data, type-erased
	 *
	 * For bus code dispatching to its drivers (through the DriverOps).
	 *
	 * Context: any.
	 * Return: the data, or nullptr.
	 */
	void *raw_drvdata() const { return __atomic_load_n(&m_driver_data, __ATOMIC_ACQUIRE); }

	/**
	 * set_driver_override() - bind only the driver named @name from now on
	 * @name: the driver's name; nullptr or "" clears the override
	 *
	 * Takes effect on the next probe (device_reprobe()); the sysfs
	 * driver_override attribute of Linux.
	 *
	 * Context: may sleep.
	 * Return: 0, or -ENOMEM.
	 */
	Result<void> set_driver_override(const char *name);
	/**
	 * driver_override() - the current override
	 * @buf: where to copy it (NUL-terminated, truncated to fit)
	 * @size: bytes of @buf
	 *
	 * Context: any.
	 * Return: true when an override is set, false (nothing copied) when not.
	 */
	bool driver_override(char *buf, size_t size);
	/**
	 * driver_override_matches() - may the driver @drv_name bind?
	 * @drv_name: the driver's name
	 * @is_set: out: whether an override is set at all
	 *
	 * Context: any.
	 * Return: true when an override is set and equals @drv_name.
	 */
	bool driver_override_matches(const char *drv_name, bool *is_set);

	/**
	 * state() - where the device is in its registration
	 *
	 * Context: any.
	 * Return: the state (stale as soon as read).
	 */
	DeviceState state();
	/**
	 * is_registered() - added to its bus and not being removed?
	 *
	 * Context: any.
	 * Return: true in the Added state.
	 */
	bool is_registered() { return state() == DeviceState::Added; }

	/**
	 * mutex() - the device lock (Linux device_lock())
	 *
	 * Serialises against probe, remove and binding changes.
	 *
	 * Context: any (taking it may sleep).
	 * Return: m_mutex.
	 */
	Mutex &mutex() RETURN_CAPABILITY(m_mutex) { return m_mutex; }

	/**
	 * power() - the device's runtime PM state, for <keel/pm_runtime.h>
	 *
	 * Context: any.
	 * Return: the state.
	 */
	DevPmInfo &power() { return m_power; }

	/* --- iteration --- */
	/**
	 * for_each_child() - call @fn(child) for every registered child
	 * @fn: returns nonzero to stop
	 *
	 * Each child is pinned while @fn runs; children may come and go.
	 *
	 * Context: may sleep, if @fn does.
	 * Return: the nonzero value that stopped the walk, or 0.
	 */
	template <typename F> int for_each_child(F &&fn);

private:
	friend struct DeviceCore;
	friend Result<void> device_initialize(Device &dev, ReleaseFn release);
	friend Result<void> device_add(Device &dev);
	friend void device_del(Device &dev);
	friend int __device_for_each_child(Device &parent, int (*fn)(Device &dev, void *arg),
					   void *arg);
	void release();
	static void rpm_work_fn(Work &w);
	static void rpm_timer_fn(DelayedWork &w);

	mutable Refcount m_refcount{ 1 };
	ReleaseFn m_release = nullptr;
	char *m_name = nullptr;
	Device *m_parent = nullptr;
	Bus *m_bus = nullptr;
	void *m_os_dev = nullptr;

	Mutex m_mutex{ "device_lock", KEEL_LOCK_KEY() };
	/* Guards the state and the override; never held across a call out. */
	SpinLock m_lock{ "device_state_lock", KEEL_LOCK_KEY() };
	DeviceState m_state GUARDED_BY(m_lock) = DeviceState::Initialized;
	char *m_driver_override GUARDED_BY(m_lock) = nullptr;
	/* Woken on state changes and runtime PM status changes. */
	WaitQueue m_wq{ "device_wq", KEEL_LOCK_KEY() };

	/* Written under m_mutex; read anywhere. */
	Atomic<const Driver *> m_driver;
	/* Owned by the core while bound (freed through the driver's ops). */
	void *m_driver_data = nullptr;

	KListNode m_knode_bus;	  /* in BusPrivate::devices */
	KListNode m_knode_parent; /* in the parent's m_children */
	KList m_children;
	/* On the deferred-probe lists; guarded by the deferred-probe mutex. */
	ListNode m_deferred_node;

	DevPmInfo m_power;
};

/**
 * device_initialize() - set the device's release function
 * @dev: a new device
 * @release: frees the container once the last reference is dropped; for a
 *	type T derived from Device use device_release_fn<T>() (calls
 *	T::release() if T has one, else deletes the T)
 *
 * Context: any.
 * Return: 0 always; a Result for symmetry with the rest of the
 * registration API.
 */
Result<void> device_initialize(Device &dev, Device::ReleaseFn release);

/**
 * device_release_container() - the release function of a T derived from Device
 * @dev: the device, the base of a T
 *
 * Calls T::release() if T has one, else deletes the T.
 *
 * Context: the last put()'s.
 */
template <typename T> void device_release_container(Device &dev)
{
	T *obj = static_cast<T *>(&dev);
	if constexpr (requires(T & t) { t.release(); })
		obj->release();
	else
		delete obj;
}
/**
 * device_release_fn() - device_release_container<T>, for device_initialize()
 *
 * Context: any (constexpr).
 * Return: the release function.
 */
template <typename T> constexpr Device::ReleaseFn device_release_fn()
{
	return &device_release_container<T>;
}

/**
 * device_add() - register @dev (Linux device_add())
 * @dev: an initialised device with a name (and its parent and bus set)
 *
 * Links @dev under its parent and on its bus, announces it
 * (BUS_NOTIFY_ADD_DEVICE) and binds a driver if one matches. A probe
 * failure is not an error of device_add(): it is the device's state.
 *
 * Context: may sleep (a probe runs).
 * Return: 0; -ENODEV when the parent is not registered (or being
 * removed), -EINVAL without a name, when already added, or when the bus
 * is not registered. On error, put() the device, don't free it.
 */
Result<void> device_add(Device &dev);
/**
 * device_del() - unregister @dev and every device below it (Linux device_del())
 * @dev: the device
 *
 * Deepest first: each bound driver's remove runs exactly once. A no-op
 * when @dev is not added or already removed; when another thread is
 * removing it (or still adding it), waits for that to finish. The
 * caller's reference stays: put() it afterwards.
 *
 * Context: may sleep; never from the device's own driver callbacks.
 */
void device_del(Device &dev);
/**
 * device_register() - device_add(), for a device already initialised
 * @dev: the device
 *
 * Context: may sleep.
 * Return: as device_add(); on error put() the device.
 */
Result<void> device_register(Device &dev);
/**
 * device_unregister() - device_del() then put()
 * @dev: the device; the caller's reference is dropped
 *
 * Safe on a device already removed (it only drops the reference).
 *
 * Context: may sleep.
 */
void device_unregister(Device &dev);

/**
 * device_attach() - bind the first matching driver (Linux device_attach())
 * @dev: a registered device
 *
 * Context: may sleep (a probe runs).
 * Return: true when bound (or bound already), false when no driver took
 * it; -EPROBE_DEFER when a driver deferred (the device is retried later),
 * -ENODEV when the device or its bus is not registered, or a bus match's
 * error.
 */
Result<bool> device_attach(Device &dev);
/**
 * device_driver_attach() - bind @drv to @dev (Linux sysfs "bind")
 * @drv: a registered driver
 * @dev: an unbound device of its bus
 *
 * Context: may sleep.
 * Return: 0 when bound (or bound to @drv already); -EINVAL for a device of
 * another bus, -ENODEV when @drv does not match or its probe failed,
 * -EPROBE_DEFER when deferred, -EBUSY when another driver is bound.
 */
Result<void> device_driver_attach(const Driver &drv, Device &dev)
	KEEL_EXPORT_AS(keel_device_driver_attach);
/**
 * device_release_driver() - unbind @dev's driver, if any (its remove runs)
 * @dev: the device
 *
 * Context: may sleep; never from the device's own driver callbacks.
 */
void device_release_driver(Device &dev);
/**
 * device_reprobe() - unbind and bind again (through driver_override if set)
 * @dev: a registered device
 *
 * Context: may sleep.
 * Return: 0 (also when no driver took it, or one deferred), or
 * device_attach()'s other errors.
 */
Result<void> device_reprobe(Device &dev);
/**
 * bus_find_device_by_name() - find a registered device of @bus by name
 * @bus: the bus
 * @name: the device's name
 *
 * Context: may sleep.
 * Return: a new reference to the device, or an empty RefPtr.
 */
RefPtr<Device> bus_find_device_by_name(Bus &bus, const char *name);

/* --- probe deferral --- */
/**
 * driver_deferred_probe_trigger() - retry every deferred device
 *
 * The retries run from a work item; call it whenever something a probe
 * may have waited for appears (a driver bound, a resource registered).
 *
 * Context: any.
 */
void driver_deferred_probe_trigger();
/**
 * driver_deferred_probe_flush() - wait until no retry is pending or running
 *
 * Context: may sleep.
 */
void driver_deferred_probe_flush();
/**
 * device_is_deferred() - is @dev waiting for a deferred-probe retry?
 * @dev: the device
 *
 * Context: any.
 * Return: true when it is on the deferred list.
 */
bool device_is_deferred(Device &dev);
/**
 * driver_core_exit() - free the driver core's global state
 *
 * On module unload, once every bus is unregistered.
 *
 * Context: may sleep.
 */
void driver_core_exit();

/**
 * dev_name() - a device's name for log lines (Linux dev_name())
 * @dev: the device, or nullptr
 *
 * Context: any.
 * Return: the name, "(unnamed)", or "(null)" for nullptr.
 */
const char *dev_name(const Device *dev);
/**
 * dev_driver_string() - the name of what handles @dev (Linux dev_driver_string())
 * @dev: the device, or nullptr
 *
 * Context: any.
 * Return: the bound driver's name, else the bus's, else "".
 */
const char *dev_driver_string(const Device *dev);

/* --- id tables --- */

/**
 * struct NameDeviceId - an id table entry of a bus that matches by name
 * @name: the name to match; an entry with a null or empty name ends the table
 * @driver_data: the driver's value for this entry
 *
 * The generic id of such buses (rpmsg channel names, tests).
 */
struct NameDeviceId {
	const char *name;
	unsigned long driver_data;
};

/**
 * match_name_id() - the entry of an id table whose name equals @name
 * @table: a table ended by an entry with an empty (or null) name; may be
 *	nullptr
 * @name: the name to look up; may be nullptr
 *
 * Works with any Id type with a "name" member (a char array or a pointer).
 *
 * Context: any.
 * Return: the entry, or nullptr.
 */
template <typename Id> const Id *match_name_id(const Id *table, const char *name)
{
	if (!table || !name)
		return nullptr;
	for (const Id *id = table;; id++) {
		const char *n = id->name;
		if (!n || !n[0])
			return nullptr;
		if (streq(n, name))
			return id;
	}
}

/* --- typed drivers --- */

/**
 * driver_data_type() - the identity of a driver data type T
 *
 * For Device::drvdata<T>(). Not the address of a per-type object: an
 * inline variable or a function-local static of a template exists once
 * per kernel module, so keel.ko and a client module would each see their
 * own and never agree. The compiler's name of T is the same in every
 * module; the pointer is compared first, the text when the pointers
 * differ.
 *
 * Context: any (constexpr).
 * Return: the compiler's text naming T (within a function signature).
 */
template <typename T> constexpr const char *driver_data_type()
{
	return __PRETTY_FUNCTION__;
}

namespace detail {
constexpr bool contains(const char *s, const char *needle)
{
	for (; *s; s++) {
		size_t i = 0;
		while (needle[i] && s[i] == needle[i])
			i++;
		if (!needle[i])
			return true;
	}
	return false;
}
/*
 * A type in an unnamed namespace (GCC "{anonymous}", Clang "(anonymous
 * namespace)") is local to its source file and may share its name with
 * another file's: only the pointer identifies it. It never crosses modules.
 */
template <typename T>
inline constexpr bool driver_data_type_is_local = contains(driver_data_type<T>(), "anonymous");
} // namespace detail

/**
 * struct DriverAdapter - the DriverOps of a driver class T for devices DevT
 * @ops: the ops, a constant usable in a constinit driver
 *
 * DevT derives from Device. T provides::
 *
 *	static Result<UniquePtr<T>> probe(DevT &dev);
 *	void remove(DevT &dev);                        (optional)
 *	Result<void> runtime_suspend(DevT &dev);       (optional; also _resume, _idle)
 *
 * No virtual functions and no casts in the driver: the adapter turns the
 * typed calls into DriverOps. Its static functions are the ops' entries
 * (each documented at its DriverOps field); they run with the device's
 * m_mutex held.
 */
template <typename T, typename DevT = Device> struct DriverAdapter {
	static_assert(is_base_of_v<Device, DevT>, "DevT must derive from keel::Device");

	/**
	 * to_dev() - the bus's device type of @dev
	 * @dev: a device of a bus whose devices are all DevT
	 *
	 * Context: any.
	 * Return: @dev as a DevT.
	 */
	static DevT &to_dev(Device &dev)
	{
		/* SAFETY: the bus only hands its drivers devices of its own type DevT. */
		return static_cast<DevT &>(dev);
	}
	/**
	 * to_data() - the driver's data
	 * @data: what probe() returned for this driver
	 *
	 * Context: any.
	 * Return: @data as a T.
	 */
	static T &to_data(void *data)
	{
		/* SAFETY: @data is what probe() below returned for this driver. */
		return *static_cast<T *>(data);
	}
	/**
	 * probe() - DriverOps::probe: T::probe(), the data's ownership to the core
	 * @dev: the device
	 *
	 * Context: may sleep; @dev's m_mutex held.
	 * Return: the data; T::probe()'s error, or -EINVAL when it returned
	 * no object.
	 */
	static Result<void *> probe(Device &dev)
	{
		Result<UniquePtr<T>> r = T::probe(to_dev(dev));
		if (r.is_error())
			return r.error();
		T *data = r.value().leak();
		if (!data)
			return err(-EINVAL);
		return static_cast<void *>(data);
	}
	/**
	 * remove() - DriverOps::remove: T::remove() if T has it, then delete the data
	 * @dev: the device
	 * @data: the driver's data
	 *
	 * Context: may sleep; @dev's m_mutex held.
	 */
	static void remove(Device &dev, void *data)
	{
		UniquePtr<T> owned(&to_data(data));
		if constexpr (requires(T & t, DevT & d) { t.remove(d); })
			owned->remove(to_dev(dev));
	}
	/**
	 * runtime_suspend() - DriverOps::runtime_suspend: T's, or success
	 * @dev: the device
	 * @data: the driver's data
	 *
	 * Context: may sleep.
	 * Return: T::runtime_suspend()'s result, or 0 when T has none.
	 */
	static Result<void> runtime_suspend(Device &dev, void *data)
	{
		if constexpr (requires(T & t, DevT & d) { t.runtime_suspend(d); })
			return to_data(data).runtime_suspend(to_dev(dev));
		else
			return ok();
	}
	/**
	 * runtime_resume() - DriverOps::runtime_resume: T's, or success
	 * @dev: the device
	 * @data: the driver's data
	 *
	 * Context: may sleep.
	 * Return: T::runtime_resume()'s result, or 0 when T has none.
	 */
	static Result<void> runtime_resume(Device &dev, void *data)
	{
		if constexpr (requires(T & t, DevT & d) { t.runtime_resume(d); })
			return to_data(data).runtime_resume(to_dev(dev));
		else
			return ok();
	}
	/**
	 * runtime_idle() - DriverOps::runtime_idle: T's, or success
	 * @dev: the device
	 * @data: the driver's data
	 *
	 * Context: may sleep.
	 * Return: T::runtime_idle()'s result, or 0 when T has none.
	 */
	static Result<void> runtime_idle(Device &dev, void *data)
	{
		if constexpr (requires(T & t, DevT & d) { t.runtime_idle(d); })
			return to_data(data).runtime_idle(to_dev(dev));
		else
			return ok();
	}

	static constexpr DriverOps ops = {
		.probe = probe,
		.remove = remove,
		.runtime_suspend = runtime_suspend,
		.runtime_resume = runtime_resume,
		.runtime_idle = runtime_idle,
		.data_type = driver_data_type<T>(),
	};
};

template <typename T> T *Device::drvdata() const
{
	const Driver *drv = driver();
	if (!drv)
		return nullptr;
	const char *have = drv->ops().data_type;
	const char *want = driver_data_type<T>();
	if (have != want && (detail::driver_data_type_is_local<T> || !have || !streq(have, want)))
		return nullptr;
	/* SAFETY: the data of a driver whose ops come from DriverAdapter<T> is a T. */
	return static_cast<T *>(raw_drvdata());
}

/* --- iteration helpers (lambdas) --- */

/**
 * bus_for_each_dev() - call @fn(dev) for every device of @bus (Linux)
 * @bus: the bus
 * @start: start after this device, or nullptr for the first
 * @fn: returns nonzero to stop
 *
 * Each device is pinned while @fn runs; devices may come and go.
 *
 * Context: may sleep, if @fn does.
 * Return: the nonzero value that stopped the walk, 0, or -EINVAL when
 * @bus is not registered.
 */
template <typename F> int bus_for_each_dev(Bus &bus, Device *start, F &&fn)
{
	return __bus_for_each_dev(
		bus, start,
		[](Device &d, void *p) -> int {
			return (*static_cast<remove_reference_t<F> *>(p))(d);
		},
		&fn);
}
/**
 * bus_for_each_drv() - call @fn(drv) for every driver of @bus (Linux)
 * @bus: the bus
 * @fn: returns nonzero to stop
 *
 * Context: may sleep, if @fn does.
 * Return: the nonzero value that stopped the walk, 0, or -EINVAL when
 * @bus is not registered.
 */
template <typename F> int bus_for_each_drv(Bus &bus, F &&fn)
{
	return __bus_for_each_drv(
		bus,
		[](const Driver &d, void *p) -> int {
			return (*static_cast<remove_reference_t<F> *>(p))(d);
		},
		&fn);
}
/**
 * device_for_each_child() - call @fn(child) for every child of @parent
 * @parent: the device
 * @fn: returns nonzero to stop
 *
 * Context: may sleep, if @fn does.
 * Return: the nonzero value that stopped the walk, or 0.
 */
template <typename F> int device_for_each_child(Device &parent, F &&fn)
{
	return __device_for_each_child(
		parent,
		[](Device &d, void *p) -> int {
			return (*static_cast<remove_reference_t<F> *>(p))(d);
		},
		&fn);
}
template <typename F> int Device::for_each_child(F &&fn)
{
	return device_for_each_child(*this, fn);
}

} // namespace keel

#endif
