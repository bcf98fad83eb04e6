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

enum class RpmStatus : u8 { Active, Resuming, Suspended, Suspending };

/* Runtime PM callbacks of a bus (Linux dev_pm_ops, runtime part). */
struct DevPmOps {
	Result<void> (*runtime_suspend)(Device &dev);
	Result<void> (*runtime_resume)(Device &dev);
	/* Returning an error vetoes the suspend that would follow. */
	Result<void> (*runtime_idle)(Device &dev);
};

enum class RpmRequest : u8 { None, Idle, Suspend, AutoSuspend, Resume };

/*
 * Per-device runtime PM state (Linux struct dev_pm_info, runtime part).
 * @lock guards every field but the atomics; it is IRQ-safe so that the
 * asynchronous calls (pm_runtime_get/put) work from atomic context.
 */
struct DevPmInfo {
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
	Atomic<int> usage_count;
	Atomic<int> child_count;
	Atomic<s64> last_busy;
	Work work;	   /* asynchronous requests */
	DelayedWork timer; /* autosuspend expiry */
};

/* --- buses --- */

/*
 * struct bus_type: what a bus does. All fields but @name are optional.
 *
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

/*
 * A bus: constinit, registered once with bus_register(). Its mutable state
 * (device and driver lists, notifier chain) lives in BusPrivate, allocated by
 * bus_register() (Linux subsys_private).
 */
class Bus : NonMovable {
public:
	constexpr explicit Bus(const BusType &type) : m_type(type) {}

	const char *name() const { return m_type.name; }
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

/* Bus notifier actions (BUS_NOTIFY_*); the data is the Device *. */
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

/* Context: may sleep (for all of the bus functions). */
Result<void> bus_register(Bus &bus);
/* The bus must have no devices and no drivers left (warns otherwise). */
void bus_unregister(Bus &bus);
bool bus_is_registered(const Bus &bus);
Result<void> bus_register_notifier(Bus &bus, NotifierBlock &nb);
Result<void> bus_unregister_notifier(Bus &bus, NotifierBlock &nb);
/* Tries to bind every unbound device of @bus (the first error is returned). */
Result<void> bus_rescan_devices(Bus &bus);

/* Iteration (see the templates below); @fn returns nonzero to stop, and that is returned. */
int __bus_for_each_dev(Bus &bus, Device *start, int (*fn)(Device &dev, void *arg), void *arg)
	KEEL_EXPORT_AS(keel_bus_for_each_dev);
int __bus_for_each_drv(Bus &bus, int (*fn)(const Driver &drv, void *arg), void *arg)
	KEEL_EXPORT_AS(keel_bus_for_each_drv);
int __device_for_each_child(Device &parent, int (*fn)(Device &dev, void *arg), void *arg)
	KEEL_EXPORT_AS(keel_device_for_each_child);

/* --- drivers --- */

/*
 * The type-erased half of a driver, generated by DriverAdapter<T, DevT>:
 * @probe returns the driver's data (a T *), owned by the core; @remove runs
 * T::remove() on it and frees it.
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

/*
 * struct device_driver. constinit, usually wrapped by a bus-specific class
 * (that adds an id table) that a bus macro declares for a driver class.
 */
class Driver : NonMovable {
public:
	constexpr Driver(const char *name, Bus &bus, const DriverOps &ops)
	    : m_name(name), m_bus(&bus), m_ops(&ops)
	{
	}

	const char *name() const { return m_name; }
	Bus &bus() const { return *m_bus; }
	const DriverOps &ops() const { return *m_ops; }

	/*
	 * For a bus's probe/remove hooks only (with the device lock held): run
	 * the driver's probe and keep its data in @dev; run its remove and free
	 * the data.
	 */
	Result<void> call_probe(Device &dev) const;
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

/*
 * Registers @drv on its bus and binds it to every matching unbound device.
 * -EBUSY if a driver of that name is registered on the bus, -EINVAL if the
 * bus is not registered. Context: may sleep.
 */
Result<void> driver_register(Driver &drv);
/* Unbinds every device (each driver remove runs once) and waits for running probes. */
void driver_unregister(Driver &drv);
bool driver_is_registered(const Driver &drv);
/* Tries @drv on every unbound device of its bus. */
Result<void> driver_attach(const Driver &drv);
/* Number of devices bound to @drv (for tests and diagnostics). */
u32 driver_bound_count(const Driver &drv);

/* --- devices --- */

enum class DeviceState : u8 { Initialized, Adding, Added, Removing, Removed };

class Device : NonMovable {
public:
	using ReleaseFn = void (*)(Device &dev);

	Device();
	/* Only a release function destroys a device (after the last put()). */
	~Device();

	/* --- reference counting --- */
	void get() const { m_refcount.inc(); }
	bool get_unless_zero() const { return m_refcount.inc_not_zero(); }
	void put() const;
	u32 ref_count() const { return m_refcount.read(); }

	/* --- identity and topology (set before device_add()) --- */
	/* printf-style name; -ENOMEM. Context: may sleep. */
	__printf(2, 3) Result<void> set_name(const char *fmt, ...);
	const char *name() const { return m_name ? m_name : "(unnamed)"; }
	/* Takes a reference on @parent, dropped when this device is released. */
	void set_parent(Device *parent);
	Device *parent() const { return m_parent; }
	void set_bus(Bus &bus) { m_bus = &bus; }
	Bus *bus() const { return m_bus; }

	/*
	 * The port's DMA-capable OS device (Linux: a struct device * with a DMA
	 * mask) for DmaBuffer::alloc_coherent(); inherited from the nearest
	 * ancestor that has one.
	 */
	void set_os_dev(void *os_dev) { m_os_dev = os_dev; }
	void *os_dev() const;

	/* --- binding --- */
	const Driver *driver() const { return m_driver.load(MemoryOrder::Acquire); }
	bool is_bound() const { return driver() != nullptr; }
	/*
	 * The bound driver's data, if it is a @T (nullptr otherwise). Valid
	 * while bound: use it from the driver's own callbacks, or with the
	 * device lock held.
	 */
	template <typename T> T *drvdata() const;
	/* Type-erased data, for bus code dispatching to its drivers. */
	void *raw_drvdata() const { return m_driver_data; }

	/*
	 * Forces the next binding to the driver named @name only (nullptr or ""
	 * clears). Takes effect on the next probe: device_reprobe(). -ENOMEM.
	 */
	Result<void> set_driver_override(const char *name);
	/* Copies the override into @buf; false if none is set. */
	bool driver_override(char *buf, size_t size);
	/* True if an override is set (then @drv_name must equal it to match). */
	bool driver_override_matches(const char *drv_name, bool *is_set);

	DeviceState state();
	/* Added to its bus and not yet being removed. */
	bool is_registered() { return state() == DeviceState::Added; }

	/* device_lock(): serialises against probe/remove. */
	Mutex &mutex() RETURN_CAPABILITY(m_mutex) { return m_mutex; }

	/* For Runtime PM (<keel/pm_runtime.h>). */
	DevPmInfo &power() { return m_power; }

	/* --- iteration --- */
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

/*
 * device_initialize(): sets the release function. @release frees the
 * container; for a type T derived from Device use device_release_fn<T>()
 * (calls T::release() if T has one, else deletes the T). Always succeeds;
 * a Result for symmetry with the rest of the registration API.
 */
Result<void> device_initialize(Device &dev, Device::ReleaseFn release);

template <typename T> void device_release_container(Device &dev)
{
	T *obj = static_cast<T *>(&dev);
	if constexpr (requires(T & t) { t.release(); })
		obj->release();
	else
		delete obj;
}
template <typename T> constexpr Device::ReleaseFn device_release_fn()
{
	return &device_release_container<T>;
}

/*
 * device_add(): links @dev under its parent and on its bus, announces it
 * (BUS_NOTIFY_ADD_DEVICE) and binds a driver if one matches. -ENODEV if the
 * parent is being removed, -EINVAL without a name or if already added, or
 * the error of a failed bus add. On error, put() the device (don't free it).
 * A probe failure is not an error of device_add(). Context: may sleep.
 */
Result<void> device_add(Device &dev);
/*
 * device_del(): removes @dev and, first, every device below it, deepest
 * first: each bound driver's remove runs exactly once. A no-op if @dev is not
 * added or already removed; if another thread is removing it, waits for that
 * to finish. Context: may sleep.
 */
void device_del(Device &dev);
/* device_initialize() is done by the caller; then device_add(). On error put(). */
Result<void> device_register(Device &dev);
/* device_del() + put(). Safe on a device already removed (drops the ref). */
void device_unregister(Device &dev);

/*
 * device_attach(): binds the first matching driver. true if bound (or already
 * bound), false if no driver took it; -EPROBE_DEFER if deferred, -ENODEV if
 * the device is not registered.
 */
Result<bool> device_attach(Device &dev);
/* Binds @drv to @dev if it matches and @dev is unbound (sysfs "bind"). */
Result<void> device_driver_attach(const Driver &drv, Device &dev)
	KEEL_EXPORT_AS(keel_device_driver_attach);
/* Unbinds @dev's driver (its remove runs) if bound. */
void device_release_driver(Device &dev);
/* Unbinds and binds again (through driver_override if set). */
Result<void> device_reprobe(Device &dev);
/* Finds a registered device of @bus by name (a new reference), or null. */
RefPtr<Device> bus_find_device_by_name(Bus &bus, const char *name);

/* --- probe deferral --- */
/* Retries every deferred device (from a work item). Context: any. */
void driver_deferred_probe_trigger();
/* Waits until no deferred-probe retry is pending or running. Context: may sleep. */
void driver_deferred_probe_flush();
/* On the deferred list (waiting for a retry). */
bool device_is_deferred(Device &dev);
/* Frees the driver core's global state (module unload; every bus unregistered). */
void driver_core_exit();

/* For the log prefix (lib/log.cpp). */
const char *dev_name(const Device *dev);
/* The bound driver's name, else the bus's, else "". */
const char *dev_driver_string(const Device *dev);

/* --- id tables --- */

/* The generic id of buses that match by name (rpmsg channel names, tests). */
struct NameDeviceId {
	const char *name;
	unsigned long driver_data;
};

/*
 * The entry of a zero-terminated @table whose name equals @name, or nullptr.
 * Works with any Id type with a `name` (a char array or a pointer).
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

/*
 * driver_data_type<T>(): the identity of a driver data type, for
 * Device::drvdata<T>(). Not the address of a per-type object: an inline
 * variable or a function-local static of a template exists once per kernel
 * module, so keel.ko and a client module would each see their own and
 * never agree. The compiler's name of T is the same in every module; the
 * pointer is compared first, the text when the pointers differ.
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

/*
 * DriverAdapter<T, DevT>: the DriverOps of a driver class T for devices of
 * type DevT (derived from Device). T provides
 *
 *	static Result<UniquePtr<T>> probe(DevT &dev);
 *	void remove(DevT &dev);                        (optional)
 *	Result<void> runtime_suspend(DevT &dev);       (optional; also _resume, _idle)
 *
 * No virtual functions and no casts in the driver: the adapter turns the
 * typed calls into DriverOps, a constant usable in a constinit driver.
 */
template <typename T, typename DevT = Device> struct DriverAdapter {
	static_assert(is_base_of_v<Device, DevT>, "DevT must derive from keel::Device");

	static DevT &to_dev(Device &dev)
	{
		/* SAFETY: the bus only hands its drivers devices of its own type DevT. */
		return static_cast<DevT &>(dev);
	}
	static T &to_data(void *data)
	{
		/* SAFETY: @data is what probe() below returned for this driver. */
		return *static_cast<T *>(data);
	}
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
	static void remove(Device &dev, void *data)
	{
		UniquePtr<T> owned(&to_data(data));
		if constexpr (requires(T & t, DevT & d) { t.remove(d); })
			owned->remove(to_dev(dev));
	}
	static Result<void> runtime_suspend(Device &dev, void *data)
	{
		if constexpr (requires(T & t, DevT & d) { t.runtime_suspend(d); })
			return to_data(data).runtime_suspend(to_dev(dev));
		else
			return ok();
	}
	static Result<void> runtime_resume(Device &dev, void *data)
	{
		if constexpr (requires(T & t, DevT & d) { t.runtime_resume(d); })
			return to_data(data).runtime_resume(to_dev(dev));
		else
			return ok();
	}
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
	return static_cast<T *>(m_driver_data);
}

/* --- iteration helpers (lambdas) --- */

template <typename F> int bus_for_each_dev(Bus &bus, Device *start, F &&fn)
{
	return __bus_for_each_dev(
		bus, start,
		[](Device &d, void *p) -> int {
			return (*static_cast<remove_reference_t<F> *>(p))(d);
		},
		&fn);
}
template <typename F> int bus_for_each_drv(Bus &bus, F &&fn)
{
	return __bus_for_each_drv(
		bus,
		[](const Driver &d, void *p) -> int {
			return (*static_cast<remove_reference_t<F> *>(p))(d);
		},
		&fn);
}
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
