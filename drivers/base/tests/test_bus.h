/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A bus for the driver-core tests, built the way a real bus (rpmsg, virtio)
 * is: a device type derived from Device with a "modalias" the bus matches
 * against its drivers' id tables, a driver type derived from Driver, and a
 * macro that turns a plain driver class into a constinit driver.
 *
 * Everything here has internal linkage: each test file has its own bus.
 */
#ifndef KEEL_DRIVERS_BASE_TESTS_TEST_BUS_H
#define KEEL_DRIVERS_BASE_TESTS_TEST_BUS_H

#include <keel/device.h>
#include <keel/log.h>
#include <keel/pm_runtime.h>
#include <keel/string.h>
#include <keel/test.h>
#include <keel/time.h>

namespace keel::test_bus {
namespace {

/* Live TDevice objects (created and not yet released). */
constinit Atomic<int> s_live_devices;
constinit Atomic<int> s_released;

class TDevice : public Device {
public:
	/* A new device with one reference (the caller's), not yet added. */
	static TDevice *create(const char *name, const char *modalias, Device *parent = nullptr);
	void release()
	{
		s_live_devices.fetch_sub(1);
		s_released.fetch_add(1);
		delete this;
	}

	const char *modalias = "";
	/* Stress tests: 1 while a driver is bound (probe/remove pairing). */
	Atomic<int> bound;

private:
	TDevice() = default;
};

class TDriver : public Driver {
public:
	constexpr TDriver(const char *name, Bus &bus, const NameDeviceId *ids, const DriverOps &ops)
	    : Driver(name, bus, ops), m_ids(ids)
	{
	}
	const NameDeviceId *id_table() const { return m_ids; }

private:
	const NameDeviceId *m_ids;
};

inline int tbus_match(Device &dev, const Driver &drv)
{
	/* SAFETY: every device and driver on this bus is a TDevice / TDriver. */
	const TDriver &td = static_cast<const TDriver &>(drv);
	const TDevice &tdev = static_cast<const TDevice &>(dev);
	return match_name_id(td.id_table(), tdev.modalias) ? 1 : 0;
}

constinit Bus s_tbus{ BusType{ .name = "keel_test", .match = tbus_match } };

/* module_rpmsg_driver() in miniature: a constinit driver for class T. */
#define TEST_DRIVER(var, T, name)                                                                  \
	constinit ::keel::test_bus::TDriver var                                                    \
	{                                                                                          \
		name, ::keel::test_bus::s_tbus, T::id_table,                                       \
			::keel::DriverAdapter<T, ::keel::test_bus::TDevice>::ops                   \
	}

inline TDevice *TDevice::create(const char *name, const char *modalias, Device *parent)
{
	TDevice *d = new (GFP_KERNEL) TDevice;
	if (!d)
		return nullptr;
	s_live_devices.fetch_add(1);
	(void)device_initialize(*d, device_release_fn<TDevice>());
	d->modalias = modalias;
	d->set_bus(s_tbus);
	d->set_parent(parent);
	if (d->set_name("%s", name).is_error()) {
		d->put();
		return nullptr;
	}
	return d;
}

/* create() + device_add(); on failure the device is put and nullptr returned. */
inline TDevice *tdev_register(const char *name, const char *modalias, Device *parent = nullptr)
{
	TDevice *d = TDevice::create(name, modalias, parent);
	if (!d)
		return nullptr;
	if (device_add(*d).is_error()) {
		d->put();
		return nullptr;
	}
	return d;
}

/*
 * A log of events ("probe:a"), appended from any thread; read when the
 * writers are done.
 */
struct Events {
	static constexpr u32 MAX = 64;
	static constexpr u32 LEN = 32;
	Atomic<u32> n;
	char ev[MAX][LEN] = {};

	__printf(2, 3) void add(const char *fmt, ...)
	{
		u32 i = n.fetch_add(1);
		if (i >= MAX)
			return;
		__builtin_va_list ap;
		__builtin_va_start(ap, fmt);
		keel_port_vsnprintf(ev[i], LEN, fmt, ap);
		__builtin_va_end(ap);
	}
	void reset() { n.store(0); }
	u32 count() { return min(n.load(), MAX); }
	/* The events joined with ',' into @buf. */
	const char *join(char *buf, size_t size)
	{
		size_t off = 0;
		buf[0] = '\0';
		for (u32 i = 0; i < count() && off < size; i++)
			off += size_t(snprintf(buf + off, size - off, "%s%s", i ? "," : "", ev[i]));
		return buf;
	}
};

/* Polls @cond every millisecond for up to @ms; true once it holds. */
template <typename F> bool wait_until(F cond, int ms)
{
	for (int i = 0; i < ms; i++) {
		if (cond())
			return true;
		msleep(1);
	}
	return cond();
}

inline int tbus_suite_init(test::Test &)
{
	return bus_register(s_tbus).is_ok() ? 0 : -1;
}

inline void tbus_suite_exit(test::Test &)
{
	driver_deferred_probe_flush();
	bus_unregister(s_tbus);
}

} // namespace
} // namespace keel::test_bus

#endif
