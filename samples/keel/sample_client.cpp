// SPDX-License-Identifier: GPL-2.0
/*
 * A client of keel.ko, as a separately built module sees it: it registers a
 * bus, a driver and a device through the exported API; the driver's probe
 * runs a work item and waits for it; unload removes everything again.
 */
#include <keel/device.h>
#include <keel/log.h>
#include <keel/wait.h>
#include <keel/workqueue.h>

extern "C" int keel_sample_init(void);
extern "C" void keel_sample_exit(void);

namespace {

using namespace keel;

int sample_match(Device &dev, const Driver &drv)
{
	return streq(dev.name(), drv.name()) ? 1 : 0;
}

constexpr BusType sample_bus_type = { .name = "keel_sample", .match = sample_match };
constinit Bus s_bus{ sample_bus_type };

class SampleDriver : NonMovable {
public:
	static Result<UniquePtr<SampleDriver>> probe(Device &dev)
	{
		auto drv = TRY(make_unique<SampleDriver>(GFP_KERNEL));
		drv->m_work.schedule();
		if (!drv->m_done.wait_timeout(ms_to_ns(5000))) {
			dev_err(&dev, "sample work did not run");
			return err(-ETIMEDOUT);
		}
		dev_info(&dev, "probed: work ran");
		return drv;
	}
	void remove(Device &dev) { dev_info(&dev, "removed"); }

private:
	static void run(Work &w) { container_of(&w, &SampleDriver::m_work)->m_done.complete(); }
	Work m_work{ run, "keel_sample_work", KEEL_LOCK_KEY() };
	Completion m_done{ "keel_sample_done", KEEL_LOCK_KEY() };
};

constinit Driver s_driver{ "keel_sample", s_bus, DriverAdapter<SampleDriver>::ops };

struct SampleDevice : Device {};
constinit SampleDevice *s_dev = nullptr;

Result<void> add_device()
{
	auto *dev = new (GFP_KERNEL) SampleDevice;
	if (!dev)
		return err(-ENOMEM);
	(void)device_initialize(*dev, device_release_fn<SampleDevice>());
	dev->set_bus(s_bus);
	Result<void> r = dev->set_name("keel_sample");
	if (r.is_ok())
		r = device_register(*dev);
	if (r.is_error()) {
		dev->put();
		return r;
	}
	s_dev = dev;
	return ok();
}

Result<void> sample_init()
{
	TRY(bus_register(s_bus));
	Result<void> r = driver_register(s_driver);
	if (r.is_ok())
		r = add_device();
	if (r.is_ok() && !s_dev->is_bound())
		r = err(-ENODEV);
	if (r.is_error()) {
		if (s_dev)
			device_unregister(*exchange(s_dev, nullptr));
		if (driver_is_registered(s_driver))
			driver_unregister(s_driver);
		bus_unregister(s_bus);
	}
	return r;
}

} // namespace

int keel_sample_init(void)
{
	return from_result(sample_init());
}

void keel_sample_exit(void)
{
	device_unregister(*exchange(s_dev, nullptr));
	driver_unregister(s_driver);
	bus_unregister(s_bus);
}
