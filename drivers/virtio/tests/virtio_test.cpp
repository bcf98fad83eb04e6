// SPDX-License-Identifier: GPL-2.0
/*
 * Virtio core tests with a fake in-memory transport that records every op:
 * feature negotiation, the status handshake, probe failure, removal order
 * (driver remove, then reset, then del_vqs), config space byte order and
 * config-change handling.
 */
#include <keel/log.h>
#include <keel/test.h>
#include <virtio/virtio.h>

namespace {

using namespace virtio;
using keel::RefPtr;
using keel::Result;
using keel::ShmRegion;
using keel::Span;
using keel::UniquePtr;
using keel::test::Test;
using keel::test::TestCase;
using keel::test::TestSuite;

constexpr u32 TEST_ID = 0x7e57;
constexpr u32 TEST_VENDOR = 0x1234;
constexpr u64 bit(unsigned int b)
{
	return u64(1) << b;
}

/* What the fake transport and the test driver did, in order. */
struct Events {
	char ev[48][32];
	u32 n;
	void add(const char *fmt, ...) __printf(2, 3)
	{
		if (n >= ARRAY_SIZE(ev))
			return;
		__builtin_va_list ap;
		__builtin_va_start(ap, fmt);
		keel_port_vsnprintf(ev[n++], sizeof(ev[0]), fmt, ap);
		__builtin_va_end(ap);
	}
	bool has(const char *e) const { return index(e) >= 0; }
	int index(const char *e, int from = 0) const
	{
		for (u32 i = u32(from); i < n; i++)
			if (keel::streq(ev[i], e))
				return int(i);
		return -1;
	}
};
constinit Events s_ev = {};

struct Fake {
	u8 status;
	u64 device_features;
	bool refuse_features_ok;
	u64 finalized;
	u8 config[32];
	u8 *ring_mem;
	ShmRegion region;
	VirtQueue *vqs[2];
};

Fake &fk(VirtioDevice &vdev)
{
	return *vdev.transport_priv<Fake>();
}

u8 f_get_status(VirtioDevice &vdev)
{
	return fk(vdev).status;
}
void f_set_status(VirtioDevice &vdev, u8 s)
{
	/* A device that cannot live with the features clears FEATURES_OK. */
	if (fk(vdev).refuse_features_ok)
		s &= u8(~VIRTIO_CONFIG_S_FEATURES_OK);
	fk(vdev).status = s;
	s_ev.add("status 0x%x", s);
}
void f_reset(VirtioDevice &vdev)
{
	fk(vdev).status = 0;
	s_ev.add("reset");
}
u64 f_get_features(VirtioDevice &vdev)
{
	return fk(vdev).device_features;
}
Result<void> f_finalize(VirtioDevice &vdev)
{
	fk(vdev).finalized = vdev.features();
	s_ev.add("finalize");
	return keel::ok();
}
Result<void> f_get_config(VirtioDevice &vdev, u32 off, void *buf, u32 len)
{
	if (off > sizeof(Fake::config) || len > sizeof(Fake::config) - off)
		return keel::err(-EINVAL);
	memcpy(buf, fk(vdev).config + off, len);
	return keel::ok();
}
Result<void> f_set_config(VirtioDevice &vdev, u32 off, const void *buf, u32 len)
{
	if (off > sizeof(Fake::config) || len > sizeof(Fake::config) - off)
		return keel::err(-EINVAL);
	memcpy(fk(vdev).config + off, buf, len);
	return keel::ok();
}
void f_del_vqs(VirtioDevice &vdev)
{
	s_ev.add("del_vqs");
	for (VirtQueue *&vq : fk(vdev).vqs)
		vdev.del_vq(keel::exchange(vq, nullptr));
}
Result<void> f_find_vqs(VirtioDevice &vdev, Span<const VqInfo> infos, Span<VirtQueue *> vqs)
{
	Fake &f = fk(vdev);
	if (infos.size() > 2)
		return keel::err(-EINVAL);
	s_ev.add("find_vqs");
	for (size_t i = 0; i < infos.size(); i++) {
		VqConfig cfg;
		cfg.name = infos[i].name;
		cfg.index = u16(i);
		cfg.num = 8;
		cfg.align = 64;
		cfg.ring = f.region.sub(i * 512, VringLayout::compute(8, 64).value().size).value();
		cfg.callback = infos[i].callback;
		auto vq = vdev.new_vq(cfg, GFP_KERNEL);
		if (vq.is_error()) {
			f_del_vqs(vdev);
			return vq.error();
		}
		f.vqs[i] = vqs[i] = vq.value();
	}
	return keel::ok();
}
Result<void> f_notify(VirtQueue &)
{
	return keel::ok();
}

constinit const VirtioConfigOps s_fake_ops = {
	.get_status = f_get_status,
	.set_status = f_set_status,
	.reset = f_reset,
	.get_features = f_get_features,
	.finalize_features = f_finalize,
	.get_config = f_get_config,
	.set_config = f_set_config,
	.find_vqs = f_find_vqs,
	.del_vqs = f_del_vqs,
	.notify = f_notify,
};

/* The test driver's knobs. */
constinit int s_probe_err;
constinit bool s_probe_vqs;
constinit bool s_probe_ready;

void rx_done(VirtQueue &) {}

struct TestDriver {
	static constexpr VirtioDeviceId id_table[] = { { TEST_ID, VIRTIO_DEV_ANY_ID }, {} };
	static constexpr unsigned int feature_table[] = { 1, 2, 3 };

	static Result<UniquePtr<TestDriver>> probe(VirtioDevice &vdev)
	{
		s_ev.add("probe features 0x%llx", (unsigned long long)vdev.features());
		if (s_probe_vqs) {
			const VqInfo infos[] = { { "rx", rx_done }, { "tx", nullptr } };
			VirtQueue *vqs[2];
			TRY(vdev.find_vqs(infos, vqs));
			if (vqs[0]->event_idx() != vdev.has_feature(VIRTIO_RING_F_EVENT_IDX) ||
			    vqs[0]->little_endian() != vdev.is_little_endian())
				return keel::err(-EPROTO);
		}
		if (s_probe_ready)
			vdev.device_ready();
		if (s_probe_err)
			return keel::err(s_probe_err);
		return keel::make_unique<TestDriver>(GFP_KERNEL);
	}
	void remove(VirtioDevice &) { s_ev.add("remove"); }
	void config_changed(VirtioDevice &) { s_ev.add("config_changed"); }
};
constinit VirtioDriver s_test_driver{ driver_for<TestDriver>, "virtio_test_drv" };

/* A driver for one vendor only. */
struct VendorDriver {
	static constexpr VirtioDeviceId id_table[] = { { TEST_ID, TEST_VENDOR }, {} };
	static Result<UniquePtr<VendorDriver>> probe(VirtioDevice &)
	{
		s_ev.add("vendor probe");
		return keel::make_unique<VendorDriver>(GFP_KERNEL);
	}
};
constinit VirtioDriver s_vendor_driver{ driver_for<VendorDriver>, "virtio_vendor_drv" };

int case_init(Test &t)
{
	s_ev.n = 0;
	s_probe_err = 0;
	s_probe_vqs = false;
	s_probe_ready = false;
	return 0;
}

int suite_init()
{
	keel::log_set_echo(false);
	return keel::from_result(virtio_init());
}
void suite_exit()
{
	virtio_exit();
	keel::log_set_echo(true);
}

struct Setup {
	Fake fake = {};
	RefPtr<VirtioDevice> vdev;
};

Result<void> make_device(Test &t, Setup &s, u64 features, u32 vendor = 0)
{
	s.fake.device_features = features;
	s.fake.ring_mem = static_cast<u8 *>(t.alloc(1024));
	if (!s.fake.ring_mem)
		return keel::err(-ENOMEM);
	s.fake.region = ShmRegion(s.fake.ring_mem, 1024, 0x1000);
	s.vdev = TRY(VirtioDevice::create({ TEST_ID, vendor }, &s_fake_ops, &s.fake, nullptr,
					  GFP_KERNEL));
	return keel::ok();
}

/* Unregisters (if registered) and drops the device at scope exit. */
struct DeviceGuard {
	Setup &s;
	~DeviceGuard()
	{
		if (s.vdev && s.vdev->is_registered())
			unregister_virtio_device(*s.vdev);
		s.vdev.reset();
	}
};

struct DriverGuard {
	VirtioDriver &drv;
	bool on;
	~DriverGuard()
	{
		if (on)
			unregister_virtio_driver(drv);
	}
};

/* Expects the events in @seq to appear in this order (others may be in between). */
bool events_in_order(Test &t, const char *const *seq, size_t n)
{
	int at = 0;
	for (size_t i = 0; i < n; i++) {
		int k = s_ev.index(seq[i], at);
		if (k < 0) {
			EXPECT_FAIL(t, "event \"%s\" missing or out of order", seq[i]);
			for (u32 j = 0; j < s_ev.n; j++)
				t.info("event %u: %s", j, s_ev.ev[j]);
			return false;
		}
		at = k + 1;
	}
	return true;
}

void probe_negotiates_feature_intersection(Test &t)
{
	Setup s;
	DeviceGuard dg{ s };
	u64 offered = bit(0) | bit(1) | bit(3) | bit(VIRTIO_F_VERSION_1) |
		      bit(VIRTIO_RING_F_EVENT_IDX) | bit(VIRTIO_RING_F_INDIRECT_DESC) |
		      bit(VIRTIO_F_RING_PACKED);
	ASSERT_OK(t, make_device(t, s, offered));
	ASSERT_OK(t, register_virtio_driver(s_test_driver));
	DriverGuard drg{ s_test_driver, true };
	s_probe_vqs = true;
	ASSERT_OK(t, register_virtio_device(*s.vdev));

	u64 want = bit(1) | bit(3) | bit(VIRTIO_F_VERSION_1) | bit(VIRTIO_RING_F_EVENT_IDX);
	EXPECT_EQ(t, s.vdev->features(), want);
	EXPECT_EQ(t, s.fake.finalized, want);
	EXPECT_TRUE(t, s.vdev->virtio_driver() == &s_test_driver);
	EXPECT_NOT_NULL(t, s.vdev->drvdata<TestDriver>());
	EXPECT_TRUE(t, s.vdev->is_little_endian());
	EXPECT_EQ(t, s.fake.status,
		  VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			  VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	const char *seq[] = { "reset",	  "status 0x1", "status 0x3",
			      "finalize", "status 0xb", "probe features 0x12000000a",
			      "find_vqs", "status 0xf" };
	events_in_order(t, seq, ARRAY_SIZE(seq));
}

void refused_features_ok_fails_probe(Test &t)
{
	Setup s;
	DeviceGuard dg{ s };
	ASSERT_OK(t, make_device(t, s, bit(1) | bit(VIRTIO_F_VERSION_1)));
	s.fake.refuse_features_ok = true;
	ASSERT_OK(t, register_virtio_driver(s_test_driver));
	DriverGuard drg{ s_test_driver, true };
	u64 since = keel::log_seq();
	ASSERT_OK(t, register_virtio_device(*s.vdev));
	EXPECT_FALSE(t, s.vdev->is_bound());
	EXPECT_FALSE(t, s_ev.has("probe features 0x100000002"));
	EXPECT_TRUE(t, s.fake.status & VIRTIO_CONFIG_S_FAILED);
	EXPECT_FALSE(t, s.fake.status & VIRTIO_CONFIG_S_DRIVER_OK);
	EXPECT_TRUE(t, keel::log_contains_since(since, "device refuses features 0x100000002"));
}

/* Legacy devices: no FEATURES_OK step (Linux), the host's byte order. */
void legacy_device_has_no_features_ok_step(Test &t)
{
	Setup s;
	DeviceGuard dg{ s };
	ASSERT_OK(t, make_device(t, s, bit(2) | bit(VIRTIO_RING_F_EVENT_IDX)));
	s.fake.refuse_features_ok = true;
	ASSERT_OK(t, register_virtio_driver(s_test_driver));
	DriverGuard drg{ s_test_driver, true };
	s_probe_vqs = true;
	ASSERT_OK(t, register_virtio_device(*s.vdev));
	EXPECT_TRUE(t, s.vdev->is_bound());
	EXPECT_EQ(t, s.vdev->features(), bit(2) | bit(VIRTIO_RING_F_EVENT_IDX));
	EXPECT_EQ(t, s.vdev->is_little_endian(), keel::CPU_IS_LITTLE_ENDIAN);
	EXPECT_EQ(t, s.fake.status,
		  VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK);
}

void probe_failure_sets_failed_and_frees_left_queues(Test &t)
{
	Setup s;
	DeviceGuard dg{ s };
	ASSERT_OK(t, make_device(t, s, bit(VIRTIO_F_VERSION_1)));
	ASSERT_OK(t, register_virtio_driver(s_test_driver));
	DriverGuard drg{ s_test_driver, true };
	s_probe_vqs = true;
	s_probe_err = -ENOMEM;
	ASSERT_OK(t, register_virtio_device(*s.vdev));
	EXPECT_FALSE(t, s.vdev->is_bound());
	EXPECT_FALSE(t, s.vdev->has_vqs());
	EXPECT_TRUE(t, s.fake.status & VIRTIO_CONFIG_S_FAILED);
	/* The device is reset before its rings are freed. */
	const char *seq[] = { "find_vqs", "reset", "del_vqs", "status 0x83" };
	events_in_order(t, seq, ARRAY_SIZE(seq));
	EXPECT_FALSE(t, s_ev.has("remove"));
}

void remove_runs_driver_remove_then_reset_then_del_vqs(Test &t)
{
	Setup s;
	DeviceGuard dg{ s };
	ASSERT_OK(t, make_device(t, s, bit(VIRTIO_F_VERSION_1)));
	ASSERT_OK(t, register_virtio_driver(s_test_driver));
	DriverGuard drg{ s_test_driver, true };
	s_probe_vqs = true;
	s_probe_ready = true;
	ASSERT_OK(t, register_virtio_device(*s.vdev));
	ASSERT_TRUE(t, s.vdev->is_bound());
	ASSERT_TRUE(t, s.vdev->has_vqs());
	/* DRIVER_OK once: the driver set it, the core did not set it again. */
	EXPECT_EQ(t, s.fake.status & VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_CONFIG_S_DRIVER_OK);
	s_ev.n = 0;
	unregister_virtio_device(*s.vdev);
	const char *seq[] = { "remove", "reset", "del_vqs", "status 0x1" };
	events_in_order(t, seq, ARRAY_SIZE(seq));
	EXPECT_FALSE(t, s.vdev->has_vqs());
	EXPECT_EQ(t, s.fake.status, VIRTIO_CONFIG_S_ACKNOWLEDGE);
}

void driver_unregister_unbinds_and_rebinds(Test &t)
{
	Setup s;
	DeviceGuard dg{ s };
	ASSERT_OK(t, make_device(t, s, bit(VIRTIO_F_VERSION_1)));
	ASSERT_OK(t, register_virtio_device(*s.vdev));
	EXPECT_FALSE(t, s.vdev->is_bound());
	ASSERT_OK(t, register_virtio_driver(s_test_driver));
	EXPECT_TRUE(t, s.vdev->is_bound());
	unregister_virtio_driver(s_test_driver);
	EXPECT_FALSE(t, s.vdev->is_bound());
	EXPECT_EQ(t, s.fake.status, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	const char *seq[] = { "probe features 0x100000000", "remove", "reset", "status 0x1" };
	events_in_order(t, seq, ARRAY_SIZE(seq));
	ASSERT_OK(t, register_virtio_driver(s_test_driver));
	DriverGuard drg{ s_test_driver, true };
	EXPECT_TRUE(t, s.vdev->is_bound());
}

void id_table_matches_vendor(Test &t)
{
	Setup s;
	DeviceGuard dg{ s };
	ASSERT_OK(t, make_device(t, s, 0, TEST_VENDOR + 1));
	ASSERT_OK(t, register_virtio_driver(s_vendor_driver));
	DriverGuard drg{ s_vendor_driver, true };
	ASSERT_OK(t, register_virtio_device(*s.vdev));
	EXPECT_FALSE(t, s.vdev->is_bound());

	Setup s2;
	DeviceGuard dg2{ s2 };
	ASSERT_OK(t, make_device(t, s2, 0, TEST_VENDOR));
	ASSERT_OK(t, register_virtio_device(*s2.vdev));
	EXPECT_TRUE(t, s2.vdev->is_bound());
	EXPECT_TRUE(t, s_ev.has("vendor probe"));
}

void config_access_uses_device_byte_order(Test &t)
{
	for (int modern = 0; modern < 2; modern++) {
		Setup s;
		DeviceGuard dg{ s };
		ASSERT_OK(t, make_device(t, s, modern ? bit(VIRTIO_F_VERSION_1) : 0));
		ASSERT_OK(t, register_virtio_driver(s_test_driver));
		DriverGuard drg{ s_test_driver, true };
		ASSERT_OK(t, register_virtio_device(*s.vdev));
		const u8 bytes[] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };
		memcpy(s.fake.config, bytes, sizeof(bytes));
		bool le = modern || keel::CPU_IS_LITTLE_ENDIAN;
		EXPECT_EQ(t, s.vdev->cread8(1).value_or(0), 0x22u);
		EXPECT_EQ(t, s.vdev->cread16(0).value_or(0), le ? 0x2211u : 0x1122u);
		EXPECT_EQ(t, s.vdev->cread32(4).value_or(0), le ? 0x88776655u : 0x55667788u);
		EXPECT_EQ(t, s.vdev->cread64(0).value_or(0),
			  le ? 0x8877665544332211ull : 0x1122334455667788ull);
		ASSERT_OK(t, s.vdev->cwrite32(8, 0xa1b2c3d4));
		EXPECT_EQ(t, s.fake.config[8], le ? 0xd4u : 0xa1u);
		ASSERT_OK(t, s.vdev->cwrite16(12, 0x0102));
		EXPECT_EQ(t, s.fake.config[12], le ? 0x02u : 0x01u);
		ASSERT_OK(t, s.vdev->cwrite64(16, 0x0102030405060708ull));
		EXPECT_EQ(t, s.fake.config[16], le ? 0x08u : 0x01u);
		EXPECT_ERR(t, s.vdev->cread32(30), -EINVAL);
	}
}

void config_changed_reaches_driver_and_needs_reset_breaks(Test &t)
{
	Setup s;
	DeviceGuard dg{ s };
	ASSERT_OK(t, make_device(t, s, bit(VIRTIO_F_VERSION_1)));
	ASSERT_OK(t, register_virtio_driver(s_test_driver));
	DriverGuard drg{ s_test_driver, true };
	s_probe_vqs = true;
	ASSERT_OK(t, register_virtio_device(*s.vdev));
	s.vdev->config_changed();
	EXPECT_TRUE(t, s_ev.has("config_changed"));
	EXPECT_FALSE(t, s.fake.vqs[0]->is_broken());

	u64 since = keel::log_seq();
	s.fake.status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	s.vdev->config_changed();
	EXPECT_TRUE(t, s.fake.vqs[0]->is_broken());
	EXPECT_TRUE(t, s.fake.vqs[1]->is_broken());
	EXPECT_TRUE(t, keel::log_contains_since(since, "device needs reset"));
}

void create_rejects_incomplete_ops(Test &t)
{
	VirtioConfigOps ops = s_fake_ops;
	ops.find_vqs = nullptr;
	EXPECT_ERR(t, VirtioDevice::create({ TEST_ID, 0 }, &ops, nullptr, nullptr, GFP_KERNEL),
		   -EINVAL);
	EXPECT_ERR(t, VirtioDevice::create({ TEST_ID, 0 }, nullptr, nullptr, nullptr, GFP_KERNEL),
		   -EINVAL);
}

const TestCase virtio_cases[] = {
	KEEL_CASE(probe_negotiates_feature_intersection),
	KEEL_CASE(refused_features_ok_fails_probe),
	KEEL_CASE(legacy_device_has_no_features_ok_step),
	KEEL_CASE(probe_failure_sets_failed_and_frees_left_queues),
	KEEL_CASE(remove_runs_driver_remove_then_reset_then_del_vqs),
	KEEL_CASE(driver_unregister_unbinds_and_rebinds),
	KEEL_CASE(id_table_matches_vendor),
	KEEL_CASE(config_access_uses_device_byte_order),
	KEEL_CASE(config_changed_reaches_driver_and_needs_reset_breaks),
	KEEL_CASE(create_rejects_incomplete_ops),
	{},
};

const TestSuite virtio_suite = {
	.name = "virtio_core",
	.cases = virtio_cases,
	.init = case_init,
	.exit = nullptr,
	.suite_init = suite_init,
	.suite_exit = suite_exit,
};

} // namespace

KEEL_TEST_SUITE(virtio_suite);
