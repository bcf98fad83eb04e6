// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio core (Linux drivers/virtio/virtio.c): the virtio bus on the
 * driver core, feature negotiation and the device status handshake.
 */
#include <keel/atomic.h>
#include <keel/log.h>
#include <virtio/virtio.h>

#include "vring_internal.h"

namespace virtio {

using keel::Device;
using keel::Driver;
using keel::err;
using keel::ok;

struct VirtioCore {
	static int match(Device &dev, const Driver &drv);
	static Result<void> probe(Device &dev, const Driver &drv);
	static void remove(Device &dev, const Driver &drv);
	static Result<void> negotiate(VirtioDevice &vdev, const VirtioDriver &drv);
	static void probe_failed(VirtioDevice &vdev, const VirtioDriver &drv, int error);
	static void run_config_changed(VirtioDevice &vdev);
	static Result<void> register_device(VirtioDevice &vdev);
};

static constexpr keel::BusType s_virtio_bus_type = {
	.name = "virtio",
	.match = VirtioCore::match,
	.probe = VirtioCore::probe,
	.remove = VirtioCore::remove,
	.pm = nullptr,
	.need_parent_lock = false,
};
constinit keel::Bus virtio_bus{ s_virtio_bus_type };

static constinit keel::Atomic<u32> s_init_count;
static constinit keel::Atomic<u32> s_next_index;

Result<void> virtio_init()
{
	if (s_init_count.fetch_add(1) == 0) {
		auto r = keel::bus_register(virtio_bus);
		if (r.is_error()) {
			s_init_count.fetch_sub(1);
			return r;
		}
	}
	return ok();
}

void virtio_exit()
{
	if (s_init_count.sub_return(1) == 0)
		keel::bus_unregister(virtio_bus);
}

/* --- drivers --- */

u64 VirtioDriver::feature_mask() const
{
	u64 mask = 0;
	for (unsigned int bit : m_features)
		if (bit < 64)
			mask |= u64(1) << bit;
	return mask;
}

bool VirtioDriver::matches(VirtioDeviceId id) const
{
	for (const VirtioDeviceId &e : m_ids)
		if (e.device == id.device &&
		    (e.vendor == VIRTIO_DEV_ANY_ID || e.vendor == id.vendor))
			return true;
	return false;
}

Result<void> register_virtio_driver(VirtioDriver &drv)
{
	return keel::driver_register(drv);
}

void unregister_virtio_driver(VirtioDriver &drv)
{
	keel::driver_unregister(drv);
}

/* --- devices --- */

Result<keel::RefPtr<VirtioDevice>> VirtioDevice::create(VirtioDeviceId id,
							const VirtioConfigOps *ops,
							void *transport_priv, keel::Device *parent,
							keel::Gfp gfp)
{
	if (!ops || !ops->get_status || !ops->set_status || !ops->reset || !ops->get_features ||
	    !ops->finalize_features || !ops->get_config || !ops->set_config || !ops->find_vqs ||
	    !ops->del_vqs)
		return err(-EINVAL);
	VirtioDevice *vdev = new (gfp) VirtioDevice(id, ops, transport_priv);
	if (!vdev)
		return err(-ENOMEM);
	/* From here on only put() frees it. */
	(void)keel::device_initialize(*vdev, keel::device_release_fn<VirtioDevice>());
	auto ref = keel::RefPtr<VirtioDevice>::adopt(vdev);
	if (parent)
		vdev->set_parent(parent);
	vdev->set_bus(virtio_bus);
	return ref;
}

void VirtioDevice::release()
{
	/* unregister_virtio_device() deleted them; a transport that forgot leaks nothing. */
	if (WARN_ON(has_vqs()))
		del_vqs();
	delete this;
}

const VirtioDriver *VirtioDevice::virtio_driver() const
{
	/* SAFETY: only VirtioDrivers register on the virtio bus. */
	return static_cast<const VirtioDriver *>(driver());
}

void VirtioDevice::add_status(u8 status)
{
	m_ops->set_status(*this, u8(get_status() | status));
}

void VirtioDevice::device_ready()
{
	u8 status = get_status();
	WARN_ON(status & VIRTIO_CONFIG_S_DRIVER_OK);
	m_ops->set_status(*this, u8(status | VIRTIO_CONFIG_S_DRIVER_OK));
}

void VirtioDevice::break_device()
{
	keel::Guard g{ m_vqs_lock };
	for (VirtQueue &vq : m_vqs)
		vq.break_ring();
}

bool VirtioDevice::has_vqs()
{
	keel::Guard g{ m_vqs_lock };
	return !m_vqs.is_empty();
}

Result<VirtQueue *> VirtioDevice::new_vq(VqConfig cfg, keel::Gfp gfp)
{
	cfg.vdev = this;
	cfg.little_endian = is_little_endian();
	cfg.event_idx = has_feature(VIRTIO_RING_F_EVENT_IDX);
	if (!cfg.notify)
		cfg.notify = m_ops->notify;
	auto vq = TRY(VirtQueue::create(cfg, gfp));
	VirtQueue *p = vq.leak();
	keel::Guard g{ m_vqs_lock };
	m_vqs.push_back(*p);
	return p;
}

void VirtioDevice::del_vq(VirtQueue *vq)
{
	if (!vq)
		return;
	{
		keel::Guard g{ m_vqs_lock };
		m_vqs.remove(*vq);
	}
	keel::UniquePtr<VirtQueue> owned(vq);
}

/* Config space in the device's byte order: VERSION_1 little endian, legacy the host's. */
template <typename W> static Result<W> cread_wire(VirtioDevice &vdev, u32 offset)
{
	W v;
	TRY(vdev.config().get_config(vdev, offset, &v, sizeof(v)));
	return v;
}

Result<u8> VirtioDevice::cread8(u32 offset)
{
	return TRY(cread_wire<u8>(*this, offset));
}
Result<u16> VirtioDevice::cread16(u32 offset)
{
	return keel::virtio16_to_cpu(is_little_endian(),
				     TRY(cread_wire<keel::virtio16>(*this, offset)));
}
Result<u32> VirtioDevice::cread32(u32 offset)
{
	return keel::virtio32_to_cpu(is_little_endian(),
				     TRY(cread_wire<keel::virtio32>(*this, offset)));
}
Result<u64> VirtioDevice::cread64(u32 offset)
{
	return keel::virtio64_to_cpu(is_little_endian(),
				     TRY(cread_wire<keel::virtio64>(*this, offset)));
}
Result<void> VirtioDevice::cwrite8(u32 offset, u8 v)
{
	return m_ops->set_config(*this, offset, &v, sizeof(v));
}
Result<void> VirtioDevice::cwrite16(u32 offset, u16 v)
{
	keel::virtio16 w = keel::cpu_to_virtio16(is_little_endian(), v);
	return m_ops->set_config(*this, offset, &w, sizeof(w));
}
Result<void> VirtioDevice::cwrite32(u32 offset, u32 v)
{
	keel::virtio32 w = keel::cpu_to_virtio32(is_little_endian(), v);
	return m_ops->set_config(*this, offset, &w, sizeof(w));
}
Result<void> VirtioDevice::cwrite64(u32 offset, u64 v)
{
	keel::virtio64 w = keel::cpu_to_virtio64(is_little_endian(), v);
	return m_ops->set_config(*this, offset, &w, sizeof(w));
}

/* Called with the device lock held. */
void VirtioCore::run_config_changed(VirtioDevice &vdev)
{
	if (!vdev.m_config_enabled) {
		vdev.m_config_change_pending = true;
		return;
	}
	vdev.m_config_change_pending = false;
	if (const VirtioDriver *drv = vdev.virtio_driver())
		drv->call_config_changed(vdev, vdev.raw_drvdata());
}

void VirtioDevice::config_changed()
{
	/*
	 * NEEDS_RESET (virtio 1.x 2.1.2): the device gave up on the rings. Break
	 * the queues so that every user fails at once; recovery resets.
	 */
	if (get_status() & VIRTIO_CONFIG_S_NEEDS_RESET) {
		dev_err(this, "device needs reset");
		break_device();
	}
	keel::Guard g{ mutex() };
	VirtioCore::run_config_changed(*this);
}

Result<void> register_virtio_device(VirtioDevice &vdev)
{
	return VirtioCore::register_device(vdev);
}

Result<void> VirtioCore::register_device(VirtioDevice &vdev)
{
	if (!keel::bus_is_registered(virtio_bus))
		return err(-ENODEV);
	vdev.m_index = s_next_index.fetch_add(1);
	TRY(vdev.set_name("virtio%u", vdev.m_index));
	vdev.m_features = 0;
	vdev.m_config_enabled = false;
	vdev.m_config_change_pending = false;
	/* Start from a reset device, whatever a previous driver left (Linux). */
	vdev.reset();
	vdev.add_status(VIRTIO_CONFIG_S_ACKNOWLEDGE);
	return keel::device_add(vdev);
}

void unregister_virtio_device(VirtioDevice &vdev)
{
	keel::device_del(vdev);
}

/* --- the bus --- */

int VirtioCore::match(Device &dev, const Driver &drv)
{
	/* SAFETY: the virtio bus holds only VirtioDevices and VirtioDrivers. */
	auto &vdev = static_cast<VirtioDevice &>(dev);
	return static_cast<const VirtioDriver &>(drv).matches(vdev.id()) ? 1 : 0;
}

/*
 * Features: what the driver asks for and the device offers, plus the
 * transport bits the core implements (VERSION_1, EVENT_IDX) when the device
 * offers them. FEATURES_OK exists for VERSION_1 devices only (legacy
 * devices have no such handshake: Linux virtio_features_ok()).
 */
Result<void> VirtioCore::negotiate(VirtioDevice &vdev, const VirtioDriver &drv)
{
	u64 device = vdev.m_ops->get_features(vdev);
	vdev.m_features = (device & drv.feature_mask()) | (device & VIRTIO_CORE_TRANSPORT_FEATURES);
	auto r = vdev.m_ops->finalize_features(vdev);
	if (r.is_error()) {
		dev_err(&vdev, "finalize_features failed (%d)", r.error().to_errno());
		return r;
	}
	if (!vdev.has_feature(VIRTIO_F_VERSION_1))
		return ok();
	vdev.add_status(VIRTIO_CONFIG_S_FEATURES_OK);
	/* Re-read: the device clears FEATURES_OK when it cannot live with the subset. */
	if (!(vdev.get_status() & VIRTIO_CONFIG_S_FEATURES_OK)) {
		dev_err(&vdev, "device refuses features 0x%llx",
			(unsigned long long)vdev.m_features);
		return err(-ENODEV);
	}
	return ok();
}

void VirtioCore::probe_failed(VirtioDevice &vdev, const VirtioDriver &drv, int error)
{
	/* A driver must delete its queues when its probe fails; if not, do it safely. */
	if (vdev.has_vqs()) {
		dev_warn(&vdev, "%s left queues after a failed probe", drv.name());
		vdev.reset();
		vdev.del_vqs();
		vdev.add_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	}
	vdev.add_status(VIRTIO_CONFIG_S_FAILED);
	dev_dbg(&vdev, "probe of %s failed (%d)", drv.name(), error);
}

Result<void> VirtioCore::probe(Device &dev, const Driver &drv)
{
	/* SAFETY: see match(). */
	auto &vdev = static_cast<VirtioDevice &>(dev);
	auto &vdrv = static_cast<const VirtioDriver &>(drv);

	vdev.add_status(VIRTIO_CONFIG_S_DRIVER);
	auto r = negotiate(vdev, vdrv);
	if (r.is_ok())
		r = drv.call_probe(dev);
	if (r.is_error()) {
		probe_failed(vdev, vdrv, r.error().to_errno());
		return r;
	}
	if (!(vdev.get_status() & VIRTIO_CONFIG_S_DRIVER_OK))
		vdev.device_ready();
	vdev.m_config_enabled = true;
	if (vdev.m_config_change_pending)
		run_config_changed(vdev);
	return ok();
}

/*
 * Remove: the driver's remove first (it may still talk to the device), then
 * reset so the device stops touching the rings, then free the queues, then
 * ACKNOWLEDGE again so another driver can bind.
 */
void VirtioCore::remove(Device &dev, const Driver &drv)
{
	/* SAFETY: see match(). */
	auto &vdev = static_cast<VirtioDevice &>(dev);
	vdev.m_config_enabled = false;
	vdev.m_config_change_pending = false;
	drv.call_remove(dev);
	vdev.reset();
	if (vdev.has_vqs())
		vdev.del_vqs();
	vdev.add_status(VIRTIO_CONFIG_S_ACKNOWLEDGE);
}

} // namespace virtio
