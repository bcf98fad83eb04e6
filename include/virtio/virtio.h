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

namespace virtio {

/* Matches any vendor (Linux VIRTIO_DEV_ANY_ID). */
inline constexpr u32 VIRTIO_DEV_ANY_ID = 0xffffffffu;

struct VirtioDeviceId {
	u32 device; /* VIRTIO_ID_*; 0 ends a table */
	u32 vendor; /* or VIRTIO_DEV_ANY_ID */
};

/* What a driver asks find_vqs() for, per queue. */
struct VqInfo {
	const char *name;
	VqCallback callback; /* nullptr: the queue raises no interrupts */
};

/*
 * VirtioConfigOps - the transport (Linux struct virtio_config_ops). Every op
 * gets the device; the transport finds its own state with
 * vdev.transport_priv<T>(). Ops are called in process context (with the
 * device lock held during probe and remove), except notify (any context).
 *
 * @get_status/@set_status: the device status byte. set_status(0) is not
 *	used: the core calls @reset.
 * @reset: reset the device; on return the device no longer touches the
 *	rings (status reads 0).
 * @get_features: the device's feature bits.
 * @finalize_features: write vdev.features() (already the intersection) to
 *	the device; may clear transport bits it cannot honour first
 *	(vdev.clear_feature()). Return an error to fail the probe.
 * @get_config/@set_config: @len bytes at @offset of the device config
 *	space. -EINVAL when out of range.
 * @find_vqs: create one queue per @infos entry (with vdev.new_vq()) into
 *	@vqs. On error, no queue is left behind.
 * @del_vqs: delete every queue of the device (vdev.del_vq()).
 * @notify: ring the device's doorbell for @vq; an error breaks the queue.
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
};

/* Feature bits the core and its split ring implement on the transport's behalf. */
inline constexpr u64 VIRTIO_CORE_TRANSPORT_FEATURES =
	(u64(1) << VIRTIO_F_VERSION_1) | (u64(1) << VIRTIO_RING_F_EVENT_IDX);

class VirtioDriver;

/* The virtio bus (registered by virtio_init()). */
extern keel::Bus virtio_bus;

/*
 * virtio_init()/virtio_exit() - register and unregister the virtio bus
 * (module init/exit of the core). Counted: each init needs one exit, the
 * bus goes away with the last. Context: may sleep.
 */
Result<void> virtio_init();
void virtio_exit();

/*
 * VirtioDevice - one virtio device (Linux struct virtio_device), a
 * keel::Device on the virtio bus.
 *
 * Lifetime: create() returns the transport's reference. The transport calls
 * register_virtio_device(), later unregister_virtio_device() (the driver's
 * remove, reset, del_vqs), then drops its reference. Never delete it.
 *
 * Invariants: m_features only changes in the bus's probe, before the
 * driver's probe runs; every queue in m_vqs was created by new_vq() for
 * this device; m_vqs is empty when the device is released.
 */
class VirtioDevice : public keel::Device {
public:
	/*
	 * create() - a device for @ops with the transport's @transport_priv,
	 * under @parent (may be nullptr; gives the DMA-capable os_dev).
	 * Context: may sleep with GFP_KERNEL.
	 */
	static Result<keel::RefPtr<VirtioDevice>>
	create(VirtioDeviceId id, const VirtioConfigOps *ops, void *transport_priv,
	       keel::Device *parent, keel::Gfp gfp) KEEL_EXPORT_AS(keel_virtio_device_create);

	VirtioDeviceId id() const { return m_id; }
	const VirtioConfigOps &config() const { return *m_ops; }
	template <typename T> T *transport_priv() const
	{
		return static_cast<T *>(m_transport_priv);
	}
	/* The virtio index in the name ("virtio3"), set by register_virtio_device(). */
	u32 index() const { return m_index; }

	/* --- features (valid from the driver's probe on) --- */
	u64 features() const { return m_features; }
	bool has_feature(unsigned int bit) const
	{
		return bit < 64 && (m_features & (u64(1) << bit));
	}
	/* For finalize_features() only: drop a bit the transport cannot honour. */
	void clear_feature(unsigned int bit)
	{
		if (bit < 64)
			m_features &= ~(u64(1) << bit);
	}
	/* Byte order of rings and config: little endian with VERSION_1, else the host's (legacy). */
	bool is_little_endian() const
	{
		return has_feature(VIRTIO_F_VERSION_1) || keel::CPU_IS_LITTLE_ENDIAN;
	}

	/* --- status --- */
	u8 get_status() { return m_ops->get_status(*this); }
	/* OR @status into the device status (Linux virtio_add_status). */
	void add_status(u8 status);
	/* Set DRIVER_OK now (Linux virtio_device_ready): a probe that kicks queues calls it first. */
	void device_ready();
	/* reset() - the transport's reset; queues stay allocated (del_vqs deletes them). */
	void reset() { m_ops->reset(*this); }
	/*
	 * Marks every queue broken (device gone: Linux virtio_break_device)
	 * and runs each queue's callback once (VirtQueue::break_ring()).
	 * Context: atomic allowed; not from a queue callback of this device.
	 */
	void break_device() EXCLUDES(m_vqs_lock);

	/* --- config space, in the device's byte order (Linux virtio_cread16 & co.) --- */
	Result<u8> cread8(u32 offset);
	Result<u16> cread16(u32 offset);
	Result<u32> cread32(u32 offset);
	Result<u64> cread64(u32 offset);
	Result<void> cwrite8(u32 offset, u8 v);
	Result<void> cwrite16(u32 offset, u16 v);
	Result<void> cwrite32(u32 offset, u32 v);
	Result<void> cwrite64(u32 offset, u64 v);
	Result<void> cread_bytes(u32 offset, void *buf, u32 len)
	{
		return m_ops->get_config(*this, offset, buf, len);
	}

	/* --- queues --- */
	/*
	 * find_vqs() - the transport creates one queue per @infos entry (Linux
	 * virtio_find_vqs). Context: may sleep.
	 */
	Result<void> find_vqs(keel::Span<const VqInfo> infos, keel::Span<VirtQueue *> vqs)
	{
		if (infos.size() != vqs.size())
			return keel::err(-EINVAL);
		return m_ops->find_vqs(*this, infos, vqs);
	}
	/* del_vqs() - the transport deletes every queue. The device must be reset first. */
	void del_vqs() { m_ops->del_vqs(*this); }
	/*
	 * new_vq() - for transports' find_vqs(): create a queue of this device
	 * with the negotiated byte order and EVENT_IDX, notify = ops->notify
	 * unless @cfg sets one, and link it into the device's list.
	 */
	Result<VirtQueue *> new_vq(VqConfig cfg, keel::Gfp gfp)
		KEEL_EXPORT_AS(keel_virtio_device_new_vq) EXCLUDES(m_vqs_lock);
	/* del_vq() - for transports' del_vqs(): unlink and free. */
	void del_vq(VirtQueue *vq) EXCLUDES(m_vqs_lock);
	bool has_vqs() EXCLUDES(m_vqs_lock);
	/*
	 * for_each_vq() - @fn(VirtQueue &) for each queue, with the queue list
	 * locked (a spinlock): for transports' doorbell handlers (fn is atomic:
	 * vq.interrupt() runs the driver's callback, which must not sleep).
	 */
	template <typename F> void for_each_vq(F &&fn) EXCLUDES(m_vqs_lock)
	{
		keel::Guard g{ m_vqs_lock };
		for (VirtQueue &vq : m_vqs)
			fn(vq);
	}

	/*
	 * config_changed() - for transports: the device changed its config or
	 * set NEEDS_RESET (then the device is broken first). Runs the bound
	 * driver's config_changed under the device lock, or remembers it until
	 * the driver's probe has finished.
	 * Context: process, never from the driver's probe or remove (a
	 * transport defers it from its interrupt to a work item).
	 */
	void config_changed();

	/* The bound virtio driver, or nullptr. */
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

/*
 * VirtioDriver - a driver of the virtio bus (Linux struct virtio_driver); a
 * constinit object built with driver_for<T> from a driver class T declaring
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
	template <typename T>
	constexpr VirtioDriver(detail::DriverTag<T>, const char *name)
	    : keel::Driver(name, virtio_bus, keel::DriverAdapter<T, VirtioDevice>::ops),
	      /* The id table's terminating zero entry is not part of the span. */
	      m_ids(T::id_table, sizeof(T::id_table) / sizeof(T::id_table[0]) - 1),
	      m_features(detail::feature_table_of<T>()),
	      m_config_changed(&detail::ConfigChanged<T>::call)
	{
	}

	keel::Span<const VirtioDeviceId> id_table() const { return m_ids; }
	keel::Span<const unsigned int> feature_table() const { return m_features; }
	/* The driver's feature bits as a mask (bits >= 64 are ignored). */
	u64 feature_mask() const;
	/* True when @id matches an entry of the id table. */
	bool matches(VirtioDeviceId id) const;
	void call_config_changed(VirtioDevice &vdev, void *data) const
	{
		m_config_changed(vdev, data);
	}

private:
	keel::Span<const VirtioDeviceId> m_ids;
	keel::Span<const unsigned int> m_features;
	void (*m_config_changed)(VirtioDevice &vdev, void *data);
};

/*
 * register_virtio_device() - name the device "virtio<N>", reset it,
 * ACKNOWLEDGE it and add it to the bus, which probes a matching driver. A
 * failed probe leaves the device registered, unbound and FAILED (as Linux).
 * On error the caller still owns its reference (put() it).
 * Context: may sleep.
 */
Result<void> register_virtio_device(VirtioDevice &vdev);
/*
 * unregister_virtio_device() - remove the driver (its remove, then reset
 * and del_vqs) and take the device off the bus. The caller then drops its
 * reference. Context: may sleep.
 */
void unregister_virtio_device(VirtioDevice &vdev) KEEL_EXPORT_AS(keel_unregister_virtio_device);
/* register_virtio_driver() - add @drv and probe every matching unbound device. */
Result<void> register_virtio_driver(VirtioDriver &drv);
/* unregister_virtio_driver() - remove @drv from every device it is bound to. */
void unregister_virtio_driver(VirtioDriver &drv) KEEL_EXPORT_AS(keel_unregister_virtio_driver);

} // namespace virtio

#endif
