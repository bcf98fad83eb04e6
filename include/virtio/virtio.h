/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The virtio core (Linux drivers/virtio/virtio.c, include/linux/virtio.h,
 * include/linux/virtio_config.h): the virtio bus, devices, drivers, feature
 * negotiation and the status handshake.
 *
 * A transport (the shared-memory transport of remoteproc, a fake in tests)
 * creates a VirtioDevice with a VirtioConfigOps table and registers it. The
 * core matches it against registered VirtioDrivers by (device, vendor) id,
 * negotiates features and runs the handshake around the driver's probe:
 *
 *   register:   reset, ACKNOWLEDGE
 *   probe:      DRIVER, features = driver ∩ device (+ transport bits),
 *               finalize_features, FEATURES_OK + re-read (VIRTIO_F_VERSION_1
 *               only, as Linux: legacy devices have no FEATURES_OK),
 *               driver probe (creates queues with find_vqs), DRIVER_OK;
 *               any failure: FAILED.
 *   remove:     driver remove, reset, del_vqs, ACKNOWLEDGE (ready for
 *               another driver).
 *
 * Lock order: the driver core's (keel/device.h); probe, remove and
 * config_changed run with the device lock held and may sleep. The virtio
 * core takes no lock of its own but the init count's.
 */
#ifndef VIRTIO_VIRTIO_H
#define VIRTIO_VIRTIO_H

#include <keel/alloc.h>
#include <keel/device.h>
#include <keel/endian.h>
#include <keel/error.h>
#include <keel/list.h>
#include <keel/log.h>
#include <keel/span.h>
#include <virtio/virtio_ring.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

namespace keel {
class Doorbell;
}

namespace virtio {

/* Matches any vendor (Linux VIRTIO_DEV_ANY_ID). */
inline constexpr u32 VIRTIO_DEV_ANY_ID = 0xffffffffu;

/**
 * struct VirtioDeviceId - a device's ids, and a driver's id table entry
 * (Linux struct virtio_device_id)
 * @device: the device type (VIRTIO_ID_*); 0 ends a table
 * @vendor: the vendor, or VIRTIO_DEV_ANY_ID in a table to match any
 */
struct VirtioDeviceId {
	u32 device; /* VIRTIO_ID_*; 0 ends a table */
	u32 vendor; /* or VIRTIO_DEV_ANY_ID */
};

/**
 * struct VqInfo - what a driver asks find_vqs() for, per queue
 * @name: the queue's name (log lines)
 * @callback: the buffer-used interrupt (atomic context); nullptr: the
 *	queue raises no interrupts
 */
struct VqInfo {
	const char *name;
	VqCallback callback; /* nullptr: the queue raises no interrupts */
};

/**
 * struct VirtioConfigOps - the transport (Linux struct virtio_config_ops)
 * @get_status: read the device status byte
 * @set_status: write it. set_status(0) is not used: the core calls @reset.
 * @reset: reset the device; on return the device no longer touches the
 *	rings (status reads 0).
 * @get_features: the device's feature bits.
 * @finalize_features: write vdev.features() (already the intersection) to
 *	the device; may clear transport bits it cannot honour first
 *	(vdev.clear_feature()). Return an error to fail the probe.
 * @get_config: read @len bytes at @offset of the device config space;
 *	-EINVAL when out of range.
 * @set_config: write them; -EINVAL when out of range.
 * @find_vqs: create one queue per @infos entry (with vdev.new_vq()) into
 *	@vqs. On error, no queue is left behind.
 * @del_vqs: delete every queue of the device (vdev.del_vq()).
 * @notify: ring the device's doorbell for @vq; an error breaks the queue.
 * @doorbell: optional (keel): the doorbell that interrupts the driver for
 *	this device, so that a driver's clients waiting for the device may
 *	sleep on it when its backend offers direct waits
 *	(keel::Doorbell::wait_begin()); nullptr or absent: none to offer.
 *
 * Every op gets the device; the transport finds its own state with
 * vdev.transport_priv<T>(). Ops are called in process context (with the
 * device lock held during probe and remove), except notify (any context).
 * All but @notify and @doorbell are required.
 */
struct VirtioConfigOps {
	u8 (*get_status)(VirtioDevice &vdev);
	void (*set_status)(VirtioDevice &vdev, u8 status);
	void (*reset)(VirtioDevice &vdev);
	u64 (*get_features)(VirtioDevice &vdev);
	Result<void> (*finalize_features)(VirtioDevice &vdev);
	Result<void> (*get_config)(VirtioDevice &vdev, u32 offset, void *buf, u32 len);
	Result<void> (*set_config)(VirtioDevice &vdev, u32 offset, const void *buf, u32 len);
	Result<void> (*find_vqs)(VirtioDevice &vdev, keel::Span<const VqInfo> infos,
				 keel::Span<VirtQueue *> vqs);
	void (*del_vqs)(VirtioDevice &vdev);
	VqNotify notify;
	keel::Doorbell *(*doorbell)(VirtioDevice &vdev);
};

/* Feature bits the core and its split ring implement on the transport's behalf. */
inline constexpr u64 VIRTIO_CORE_TRANSPORT_FEATURES =
	(u64(1) << VIRTIO_F_VERSION_1) | (u64(1) << VIRTIO_RING_F_EVENT_IDX);

class VirtioDriver;

/* The virtio bus (registered by virtio_init()). */
extern keel::Bus virtio_bus;

/**
 * virtio_init() - register the virtio bus (the core's module init)
 *
 * Counted: each init needs one virtio_exit(); the bus goes away with the
 * last.
 *
 * Context: may sleep.
 * Return: 0, or bus_register()'s error.
 */
Result<void> virtio_init();
/**
 * virtio_exit() - drop one virtio_init(); the last unregisters the bus
 *
 * Context: may sleep.
 */
void virtio_exit();

/**
 * class VirtioDevice - one virtio device (Linux struct virtio_device)
 *
 * A keel::Device on the virtio bus. Lifetime: create() returns the
 * transport's reference. The transport calls register_virtio_device(),
 * later unregister_virtio_device() (the driver's remove, reset, del_vqs),
 * then drops its reference. Never delete it.
 *
 * Locking: m_vqs_lock (a spinlock) guards the queue list m_vqs against
 * break_device() and the transport's doorbell handlers; the device lock
 * (Device::mutex()) guards the config-change state.
 *
 * Invariants: m_features only changes in the bus's probe, before the
 * driver's probe runs; every queue in m_vqs was created by new_vq() for
 * this device; m_vqs is empty when the device is released.
 */
class VirtioDevice : public keel::Device {
public:
	/**
	 * create() - a new device of a transport
	 * @id: its device and vendor ids
	 * @ops: the transport's ops; every op but notify is required
	 * @transport_priv: the transport's state, for transport_priv<T>()
	 * @parent: the parent device (gives the DMA-capable os_dev), or nullptr
	 * @gfp: the allocation context
	 *
	 * Context: may sleep with GFP_KERNEL.
	 * Return: the transport's reference; -EINVAL for a missing op, -ENOMEM.
	 */
	static Result<keel::RefPtr<VirtioDevice>>
	create(VirtioDeviceId id, const VirtioConfigOps *ops, void *transport_priv,
	       keel::Device *parent, keel::Gfp gfp) KEEL_EXPORT_AS(keel_virtio_device_create);

	/**
	 * id() - the device's ids
	 *
	 * Context: any.
	 * Return: the ids given to create().
	 */
	VirtioDeviceId id() const { return m_id; }
	/**
	 * config() - the transport's ops
	 *
	 * Context: any.
	 * Return: the ops.
	 */
	const VirtioConfigOps &config() const { return *m_ops; }
	/**
	 * doorbell() - the doorbell that interrupts the driver, if offered
	 *
	 * Context: any.
	 * Return: the transport's doorbell (VirtioConfigOps.doorbell), or
	 * nullptr when it offers none. It lives as long as the device.
	 */
	keel::Doorbell *doorbell() { return m_ops->doorbell ? m_ops->doorbell(*this) : nullptr; }
	/**
	 * transport_priv() - the transport's state, as its type T
	 *
	 * Context: any.
	 * Return: what create() was given.
	 */
	template <typename T> T *transport_priv() const
	{
		return static_cast<T *>(m_transport_priv);
	}
	/**
	 * index() - the device's number in its name ("virtio3")
	 *
	 * Context: any.
	 * Return: the index, set by register_virtio_device().
	 */
	u32 index() const { return m_index; }

	/* --- features (valid from the driver's probe on) --- */
	/**
	 * features() - the negotiated feature bits
	 *
	 * Context: any; valid from the driver's probe on.
	 * Return: the bits.
	 */
	u64 features() const { return m_features; }
	/**
	 * has_feature() - was feature @bit negotiated?
	 * @bit: the feature bit (VIRTIO_F_*, a device type's)
	 *
	 * Context: any.
	 * Return: true when negotiated (false for bits >= 64).
	 */
	bool has_feature(unsigned int bit) const
	{
		return bit < 64 && (m_features & (u64(1) << bit));
	}
	/**
	 * clear_feature() - drop a bit the transport cannot honour
	 * @bit: the feature bit
	 *
	 * Only from the transport's finalize_features().
	 *
	 * Context: process.
	 */
	void clear_feature(unsigned int bit)
	{
		if (bit < 64)
			m_features &= ~(u64(1) << bit);
	}
	/**
	 * is_little_endian() - the byte order of the rings and the config space
	 *
	 * Little endian with VIRTIO_F_VERSION_1, else the host's (legacy).
	 *
	 * Context: any.
	 * Return: true when little endian.
	 */
	bool is_little_endian() const
	{
		return has_feature(VIRTIO_F_VERSION_1) || keel::CPU_IS_LITTLE_ENDIAN;
	}

	/* --- status --- */
	/**
	 * get_status() - the device status byte
	 *
	 * Context: process.
	 * Return: the VIRTIO_CONFIG_S_* bits.
	 */
	u8 get_status() { return m_ops->get_status(*this); }
	/**
	 * add_status() - OR @status into the device status (Linux virtio_add_status())
	 * @status: VIRTIO_CONFIG_S_* bits
	 *
	 * Context: process.
	 */
	void add_status(u8 status);
	/**
	 * device_ready() - set DRIVER_OK now (Linux virtio_device_ready())
	 *
	 * A probe that kicks queues calls it first; otherwise the core sets it
	 * after the probe.
	 *
	 * Context: process (the driver's probe).
	 */
	void device_ready();
	/**
	 * reset() - the transport's reset
	 *
	 * The queues stay allocated (del_vqs() deletes them).
	 *
	 * Context: process.
	 */
	void reset() { m_ops->reset(*this); }
	/**
	 * break_device() - mark every queue broken (Linux virtio_break_device())
	 *
	 * The device is gone: every queue operation fails with -EIO from now
	 * on, and each queue's callback runs once (VirtQueue::break_ring()) so
	 * that its waiters see it.
	 *
	 * Context: any (atomic allowed); not from a queue callback of this
	 * device.
	 */
	void break_device() EXCLUDES(m_vqs_lock);

	/* --- config space, in the device's byte order (Linux virtio_cread16 & co.) --- */
	/**
	 * cread8() - read a byte of the config space
	 * @offset: its offset
	 *
	 * Context: process.
	 * Return: the byte, or -EINVAL when out of range.
	 */
	Result<u8> cread8(u32 offset);
	/**
	 * cread16() - read a 16-bit field of the config space, in CPU order
	 * @offset: its offset
	 *
	 * Context: process.
	 * Return: the value, or -EINVAL when out of range.
	 */
	Result<u16> cread16(u32 offset);
	/**
	 * cread32() - read a 32-bit field of the config space, in CPU order
	 * @offset: its offset
	 *
	 * Context: process.
	 * Return: the value, or -EINVAL when out of range.
	 */
	Result<u32> cread32(u32 offset);
	/**
	 * cread64() - read a 64-bit field of the config space, in CPU order
	 * @offset: its offset
	 *
	 * Context: process.
	 * Return: the value, or -EINVAL when out of range.
	 */
	Result<u64> cread64(u32 offset);
	/**
	 * cwrite8() - write a byte of the config space
	 * @offset: its offset
	 * @v: the value
	 *
	 * Context: process.
	 * Return: 0, or -EINVAL when out of range.
	 */
	Result<void> cwrite8(u32 offset, u8 v);
	/**
	 * cwrite16() - write a 16-bit field of the config space
	 * @offset: its offset
	 * @v: the value, in CPU order
	 *
	 * Context: process.
	 * Return: 0, or -EINVAL when out of range.
	 */
	Result<void> cwrite16(u32 offset, u16 v);
	/**
	 * cwrite32() - write a 32-bit field of the config space
	 * @offset: its offset
	 * @v: the value, in CPU order
	 *
	 * Context: process.
	 * Return: 0, or -EINVAL when out of range.
	 */
	Result<void> cwrite32(u32 offset, u32 v);
	/**
	 * cwrite64() - write a 64-bit field of the config space
	 * @offset: its offset
	 * @v: the value, in CPU order
	 *
	 * Context: process.
	 * Return: 0, or -EINVAL when out of range.
	 */
	Result<void> cwrite64(u32 offset, u64 v);
	/**
	 * cread_bytes() - copy @len bytes of the config space, unconverted
	 * @offset: where they start
	 * @buf: where to
	 * @len: bytes
	 *
	 * Context: process.
	 * Return: 0, or -EINVAL when out of range.
	 */
	Result<void> cread_bytes(u32 offset, void *buf, u32 len)
	{
		return m_ops->get_config(*this, offset, buf, len);
	}

	/* --- queues --- */
	/**
	 * find_vqs() - have the transport create one queue per @infos entry
	 * (Linux virtio_find_vqs())
	 * @infos: name and callback of each queue
	 * @vqs: out: the queues, as many as @infos
	 *
	 * Context: may sleep.
	 * Return: 0; -EINVAL when the spans differ in size, or the transport's
	 * error (no queue is then left behind).
	 */
	Result<void> find_vqs(keel::Span<const VqInfo> infos, keel::Span<VirtQueue *> vqs)
	{
		if (infos.size() != vqs.size())
			return keel::err(-EINVAL);
		return m_ops->find_vqs(*this, infos, vqs);
	}
	/**
	 * del_vqs() - have the transport delete every queue
	 *
	 * The device must be reset first.
	 *
	 * Context: may sleep.
	 */
	void del_vqs() { m_ops->del_vqs(*this); }
	/**
	 * new_vq() - create a queue of this device (for transports' find_vqs())
	 * @cfg: the queue (its ring, size, callback); the byte order and
	 *	EVENT_IDX are the negotiated ones, and notify is ops->notify
	 *	unless @cfg sets one
	 * @gfp: the allocation context
	 *
	 * The queue is linked into the device's list.
	 *
	 * Context: may sleep with GFP_KERNEL.
	 * Return: the queue; VirtQueue::create()'s errors.
	 */
	Result<VirtQueue *> new_vq(VqConfig cfg, keel::Gfp gfp)
		KEEL_EXPORT_AS(keel_virtio_device_new_vq) EXCLUDES(m_vqs_lock);
	/**
	 * del_vq() - unlink and free a queue (for transports' del_vqs())
	 * @vq: a queue made by new_vq() for this device
	 *
	 * Context: process.
	 */
	void del_vq(VirtQueue *vq) EXCLUDES(m_vqs_lock);
	/**
	 * has_vqs() - does the device have queues?
	 *
	 * Context: any.
	 * Return: true when at least one exists.
	 */
	bool has_vqs() EXCLUDES(m_vqs_lock);
	/**
	 * for_each_vq() - call @fn(VirtQueue &) for each queue, list locked
	 * @fn: must not sleep (a spinlock is held)
	 *
	 * For transports' doorbell handlers: vq.interrupt() runs the driver's
	 * callback, which must not sleep either.
	 *
	 * Context: any.
	 */
	template <typename F> void for_each_vq(F &&fn) EXCLUDES(m_vqs_lock)
	{
		keel::Guard g{ m_vqs_lock };
		for (VirtQueue &vq : m_vqs)
			fn(vq);
	}

	/**
	 * config_changed() - the device changed its config (for transports)
	 *
	 * Or it set NEEDS_RESET: the device is then broken first. Runs the
	 * bound driver's config_changed under the device lock, or remembers it
	 * until the driver's probe has finished.
	 *
	 * Context: process, never from the driver's probe or remove (a
	 * transport defers it from its interrupt to a work item).
	 */
	void config_changed();

	/**
	 * virtio_driver() - the bound virtio driver
	 *
	 * Context: any; stable under the device lock.
	 * Return: the driver, or nullptr.
	 */
	const VirtioDriver *virtio_driver() const;

private:
	friend struct VirtioCore;
	VirtioDevice(VirtioDeviceId id, const VirtioConfigOps *ops, void *transport_priv)
	    : m_id(id), m_ops(ops), m_transport_priv(transport_priv)
	{
	}
	friend void keel::device_release_container<VirtioDevice>(keel::Device &dev);
	void release();

	VirtioDeviceId m_id;
	const VirtioConfigOps *m_ops;
	void *m_transport_priv;
	u32 m_index = 0;
	u64 m_features = 0;
	/* Guarded by the device lock (mutex()). */
	bool m_config_enabled = false;
	bool m_config_change_pending = false;
	/* Guards the queue list against break_device() and doorbell handlers. */
	keel::SpinLock m_vqs_lock{ "virtio_vqs_lock", KEEL_LOCK_KEY() };
	keel::List<VirtQueue, &VirtQueue::m_node> m_vqs GUARDED_BY(m_vqs_lock);
};

namespace detail {
template <typename T> struct DriverTag {
};
template <typename T> struct ConfigChanged {
	static void call(VirtioDevice &vdev, void *data)
	{
		if constexpr (requires(T & t) { t.config_changed(vdev); })
			static_cast<T *>(data)->config_changed(vdev);
	}
};
template <typename T> constexpr keel::Span<const unsigned int> feature_table_of()
{
	if constexpr (requires { T::feature_table; })
		return keel::Span<const unsigned int>(
			T::feature_table, sizeof(T::feature_table) / sizeof(T::feature_table[0]));
	else
		return {};
}
} // namespace detail

/* Names the driver class: constinit VirtioDriver s_drv{ virtio::driver_for<T>, "name" }; */
template <typename T> inline constexpr detail::DriverTag<T> driver_for{};

/**
 * class VirtioDriver - a driver of the virtio bus (Linux struct virtio_driver)
 *
 * A constinit object built with driver_for<T> from a driver class T
 * declaring::
 *
 *	static constexpr VirtioDeviceId id_table[] = { { VIRTIO_ID_RPMSG, VIRTIO_DEV_ANY_ID }, {} };
 *	static constexpr unsigned int feature_table[] = { VIRTIO_RPMSG_F_NS };   // optional
 *	static Result<UniquePtr<T>> probe(VirtioDevice &vdev);
 *	void remove(VirtioDevice &vdev);                                        // optional
 *	void config_changed(VirtioDevice &vdev);                                // optional
 *
 *	constinit virtio::VirtioDriver s_drv{ virtio::driver_for<T>, "virtio_rpmsg_bus" };
 *	TRY(virtio::register_virtio_driver(s_drv));
 *
 * probe() returns the driver's data (vdev.drvdata<T>()); the core owns it
 * until after remove() and then deletes it. The core negotiates features
 * before probe and sets DRIVER_OK after it (unless probe called
 * device_ready() itself, which it must before kicking a queue). After
 * remove() the core resets the device and deletes any queue left.
 * Context: probe/remove may sleep.
 */
class VirtioDriver : public keel::Driver {
public:
	/**
	 * VirtioDriver() - the driver of class T (driver_for<T>)
	 * @name: the driver's name
	 *
	 * Context: any (constexpr: for constinit drivers).
	 */
	template <typename T>
	constexpr VirtioDriver(detail::DriverTag<T>, const char *name)
	    : keel::Driver(name, virtio_bus, keel::DriverAdapter<T, VirtioDevice>::ops),
	      /* The id table's terminating zero entry is not part of the span. */
	      m_ids(T::id_table, sizeof(T::id_table) / sizeof(T::id_table[0]) - 1),
	      m_features(detail::feature_table_of<T>()),
	      m_config_changed(&detail::ConfigChanged<T>::call)
	{
	}

	/**
	 * id_table() - the ids the driver handles, without the zero entry
	 *
	 * Context: any.
	 * Return: T::id_table as a span.
	 */
	keel::Span<const VirtioDeviceId> id_table() const { return m_ids; }
	/**
	 * feature_table() - the feature bits the driver understands
	 *
	 * Context: any.
	 * Return: T::feature_table as a span (empty without one).
	 */
	keel::Span<const unsigned int> feature_table() const { return m_features; }
	/**
	 * feature_mask() - the driver's feature bits as a mask
	 *
	 * Context: any.
	 * Return: the mask (bits >= 64 are ignored).
	 */
	u64 feature_mask() const;
	/**
	 * matches() - does @id match an entry of the id table?
	 * @id: a device's ids
	 *
	 * Context: any.
	 * Return: true when it does.
	 */
	bool matches(VirtioDeviceId id) const;
	/**
	 * call_config_changed() - run T::config_changed(), if T has it
	 * @vdev: the device
	 * @data: the driver's data (the T)
	 *
	 * For the core, under the device lock.
	 *
	 * Context: may sleep.
	 */
	void call_config_changed(VirtioDevice &vdev, void *data) const
	{
		m_config_changed(vdev, data);
	}

private:
	keel::Span<const VirtioDeviceId> m_ids;
	keel::Span<const unsigned int> m_features;
	void (*m_config_changed)(VirtioDevice &vdev, void *data);
};

/**
 * register_virtio_device() - add a device to the virtio bus
 * @vdev: a device from VirtioDevice::create()
 *
 * Names the device "virtio<N>", resets it, ACKNOWLEDGEs it and adds it to
 * the bus, which probes a matching driver. A failed probe leaves the
 * device registered, unbound and FAILED (as Linux).
 *
 * Context: may sleep.
 * Return: 0; -ENODEV without the bus (virtio_init()), -ENOMEM, or
 * device_add()'s error. On error the caller still owns its reference
 * (put() it).
 */
Result<void> register_virtio_device(VirtioDevice &vdev);
/**
 * unregister_virtio_device() - take a device off the bus
 * @vdev: a registered device
 *
 * Removes the driver (its remove, then reset and del_vqs) and the device.
 * The caller then drops its reference.
 *
 * Context: may sleep.
 */
void unregister_virtio_device(VirtioDevice &vdev) KEEL_EXPORT_AS(keel_unregister_virtio_device);
/**
 * register_virtio_driver() - add @drv and probe every matching unbound device
 * @drv: a constinit driver
 *
 * Context: may sleep.
 * Return: 0, or driver_register()'s error (-EBUSY, -EINVAL without the
 * bus).
 */
Result<void> register_virtio_driver(VirtioDriver &drv);
/**
 * unregister_virtio_driver() - remove @drv from every device it is bound to
 * @drv: a registered driver
 *
 * Context: may sleep.
 */
void unregister_virtio_driver(VirtioDriver &drv) KEEL_EXPORT_AS(keel_unregister_virtio_driver);

} // namespace virtio

#endif
