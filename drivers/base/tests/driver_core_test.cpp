// SPDX-License-Identifier: GPL-2.0
/*
 * Driver core: binding, id tables, driver_override, probe deferral, removal
 * of device trees, release after the last reference, bus notifiers.
 */
#include "test_bus.h"

using namespace keel;
using namespace keel::test_bus;
using keel::test::Test;

/* A driver type with a name that other modules can see (not file-local). */
namespace keel::driver_core_test {
class NamedDriver : NonMovable {
public:
	static constexpr NameDeviceId id_table[] = { { "named" }, {} };
	static Result<UniquePtr<NamedDriver>> probe(TDevice &)
	{
		return make_unique<NamedDriver>(GFP_KERNEL);
	}
};
} // namespace keel::driver_core_test

namespace {

using keel::driver_core_test::NamedDriver;

constinit Events s_ev;
/* Driver data objects alive (probe allocated, remove not yet freed). */
constinit Atomic<int> s_live_data;

/* --- drivers --- */

/* Binds to "alpha" and "beta". */
class AlphaDriver : NonMovable {
public:
	static constexpr NameDeviceId id_table[] = { { "alpha", 1 }, { "beta", 2 }, {} };
	static Result<UniquePtr<AlphaDriver>> probe(TDevice &dev)
	{
		const NameDeviceId *id = match_name_id(id_table, dev.modalias);
		s_ev.add("probe:%s", dev.name());
		auto d = TRY(make_unique<AlphaDriver>(GFP_KERNEL));
		d->m_id = id ? id->driver_data : 0;
		s_live_data.fetch_add(1);
		return d;
	}
	void remove(TDevice &dev) { s_ev.add("remove:%s", dev.name()); }
	~AlphaDriver() { s_live_data.fetch_sub(1); }
	unsigned long m_id = 0;
};
TEST_DRIVER(s_alpha_drv, AlphaDriver, "alpha_drv");

/* Binds to "gamma"; a second driver for the override tests. */
class GammaDriver : NonMovable {
public:
	static constexpr NameDeviceId id_table[] = { { "gamma" }, {} };
	static Result<UniquePtr<GammaDriver>> probe(TDevice &dev)
	{
		s_ev.add("gprobe:%s", dev.name());
		return make_unique<GammaDriver>(GFP_KERNEL);
	}
	void remove(TDevice &dev) { s_ev.add("gremove:%s", dev.name()); }
};
TEST_DRIVER(s_gamma_drv, GammaDriver, "gamma_drv");

/* Fails its probe with s_fail_errno. */
constinit int s_fail_errno = -EIO;
class FailDriver : NonMovable {
public:
	static constexpr NameDeviceId id_table[] = { { "fail" }, {} };
	static Result<UniquePtr<FailDriver>> probe(TDevice &dev)
	{
		s_ev.add("fprobe:%s", dev.name());
		if (s_fail_errno)
			return err(s_fail_errno);
		return make_unique<FailDriver>(GFP_KERNEL);
	}
	void remove(TDevice &dev) { s_ev.add("fremove:%s", dev.name()); }
};
TEST_DRIVER(s_fail_drv, FailDriver, "fail_drv");

/* Deferral: the consumer needs the supplier to be bound. */
constinit Atomic<int> s_supplier_ready;
constinit Atomic<int> s_consumer_probes;
class SupplierDriver : NonMovable {
public:
	static constexpr NameDeviceId id_table[] = { { "supplier" }, {} };
	static Result<UniquePtr<SupplierDriver>> probe(TDevice &)
	{
		s_supplier_ready.store(1);
		return make_unique<SupplierDriver>(GFP_KERNEL);
	}
	void remove(TDevice &) { s_supplier_ready.store(0); }
};
TEST_DRIVER(s_supplier_drv, SupplierDriver, "supplier_drv");

class ConsumerDriver : NonMovable {
public:
	static constexpr NameDeviceId id_table[] = { { "consumer" }, {} };
	static Result<UniquePtr<ConsumerDriver>> probe(TDevice &)
	{
		s_consumer_probes.fetch_add(1);
		if (!s_supplier_ready.load())
			return err(-EPROBE_DEFER);
		return make_unique<ConsumerDriver>(GFP_KERNEL);
	}
};
TEST_DRIVER(s_consumer_drv, ConsumerDriver, "consumer_drv");

/* A parent whose driver creates two children in probe and unregisters them in remove. */
class ParentDriver : NonMovable {
public:
	static constexpr NameDeviceId id_table[] = { { "parent" }, {} };
	static Result<UniquePtr<ParentDriver>> probe(TDevice &dev)
	{
		s_ev.add("probe:%s", dev.name());
		auto d = TRY(make_unique<ParentDriver>(GFP_KERNEL));
		for (int i = 0; i < 2; i++) {
			d->m_child[i] = TDevice::create(i ? "kid1" : "kid0", "alpha", &dev);
			if (!d->m_child[i] || device_add(*d->m_child[i]).is_error())
				return err(-ENOMEM); /* the test fails on the missing children */
		}
		return d;
	}
	void remove(TDevice &dev)
	{
		s_ev.add("remove:%s", dev.name());
		/* Already removed by the core (children first): each is a no-op + put. */
		for (TDevice *c : m_child)
			if (c)
				device_unregister(*c);
	}
	TDevice *m_child[2] = {};
};
TEST_DRIVER(s_parent_drv, ParentDriver, "parent_drv");

void unregister_all(TDevice *const *devs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (devs[i])
			device_unregister(*devs[i]);
}

/* --- cases --- */

void bind_device_first(Test &t)
{
	TDevice *dev = tdev_register("a0", "alpha");
	ASSERT_NOT_NULL(t, dev);
	EXPECT_FALSE(t, dev->is_bound());
	ASSERT_OK(t, driver_register(s_alpha_drv));
	EXPECT_EQ(t, dev->driver(), (const Driver *)&s_alpha_drv);
	ASSERT_NOT_NULL(t, dev->drvdata<AlphaDriver>());
	EXPECT_EQ(t, dev->drvdata<AlphaDriver>()->m_id, 1ul);
	/* The wrong type is refused, not cast. */
	EXPECT_NULL(t, dev->drvdata<GammaDriver>());
	EXPECT_EQ(t, driver_bound_count(s_alpha_drv), 1u);
	driver_unregister(s_alpha_drv);
	EXPECT_FALSE(t, dev->is_bound());
	device_unregister(*dev);
	char buf[128];
	EXPECT_STREQ(t, s_ev.join(buf, sizeof(buf)), "probe:a0,remove:a0");
	EXPECT_EQ(t, s_live_data.load(), 0);
}

void bind_driver_first(Test &t)
{
	ASSERT_OK(t, driver_register(s_alpha_drv));
	TDevice *dev = tdev_register("b0", "beta");
	ASSERT_NOT_NULL(t, dev);
	EXPECT_TRUE(t, dev->is_bound());
	EXPECT_EQ(t, dev->drvdata<AlphaDriver>()->m_id, 2ul);
	device_unregister(*dev);
	driver_unregister(s_alpha_drv);
	char buf[128];
	EXPECT_STREQ(t, s_ev.join(buf, sizeof(buf)), "probe:b0,remove:b0");
}

/* Id tables are data: the matching is checked table-driven. */
struct MatchParam {
	const char *modalias;
	const char *driver; /* expected driver name, or nullptr */
};
const MatchParam match_params[] = {
	{ "alpha", "alpha_drv" }, { "beta", "alpha_drv" }, { "gamma", "gamma_drv" },
	{ "alph", nullptr },	  { "ALPHA", nullptr },	   { "alphabet", nullptr },
	{ "", nullptr },
};
void describe_match(const MatchParam &p, char *desc)
{
	snprintf(desc, KEEL_TEST_DESC_LEN, "modalias \"%s\"", p.modalias);
}
KEEL_PARAMS(match_gen, match_params, describe_match)

void id_table_matching(Test &t)
{
	const MatchParam &p = t.param<MatchParam>();
	ASSERT_OK(t, driver_register(s_alpha_drv));
	ASSERT_OK(t, driver_register(s_gamma_drv));
	TDevice *dev = tdev_register("m0", p.modalias);
	ASSERT_NOT_NULL(t, dev);
	const Driver *drv = dev->driver();
	if (p.driver) {
		ASSERT_NOT_NULL(t, drv);
		EXPECT_STREQ(t, drv->name(), p.driver);
	} else {
		EXPECT_NULL(t, drv);
	}
	device_unregister(*dev);
	driver_unregister(s_gamma_drv);
	driver_unregister(s_alpha_drv);
}

void match_name_id_table(Test &t)
{
	static constexpr NameDeviceId table[] = { { "a", 1 }, { "b", 2 }, {} };
	static constexpr NameDeviceId empty[] = { {} };
	EXPECT_EQ(t, match_name_id(table, "b"), &table[1]);
	EXPECT_NULL(t, match_name_id(table, "c"));
	EXPECT_NULL(t, match_name_id(empty, "a"));
	EXPECT_NULL(t, match_name_id<NameDeviceId>(nullptr, "a"));
	EXPECT_NULL(t, match_name_id(table, nullptr));
	/* An id type with a char array name (like rpmsg_device_id) works too. */
	struct ArrId {
		char name[8];
	};
	static constexpr ArrId arr[] = { { "x" }, { "yy" }, {} };
	EXPECT_EQ(t, match_name_id(arr, "yy"), &arr[1]);
}

void driver_override_forces_binding(Test &t)
{
	ASSERT_OK(t, driver_register(s_alpha_drv));
	ASSERT_OK(t, driver_register(s_gamma_drv));
	TDevice *dev = tdev_register("o0", "alpha");
	ASSERT_NOT_NULL(t, dev);
	EXPECT_EQ(t, dev->driver(), (const Driver *)&s_alpha_drv);

	/* Forced onto a driver whose id table does not list it. */
	ASSERT_OK(t, dev->set_driver_override("gamma_drv"));
	ASSERT_OK(t, device_reprobe(*dev));
	EXPECT_EQ(t, dev->driver(), (const Driver *)&s_gamma_drv);
	/* ... and the override excludes the matching driver. */
	device_release_driver(*dev);
	EXPECT_ERR(t, device_driver_attach(s_alpha_drv, *dev), -ENODEV);
	EXPECT_FALSE(t, dev->is_bound());
	ASSERT_OK(t, bus_rescan_devices(s_tbus));
	EXPECT_EQ(t, dev->driver(), (const Driver *)&s_gamma_drv);

	/* An override naming no driver leaves it unbound. */
	ASSERT_OK(t, dev->set_driver_override("nobody"));
	ASSERT_OK(t, device_reprobe(*dev));
	EXPECT_FALSE(t, dev->is_bound());

	/* Cleared: back to id matching. */
	ASSERT_OK(t, dev->set_driver_override(nullptr));
	char buf[16];
	EXPECT_FALSE(t, dev->driver_override(buf, sizeof(buf)));
	ASSERT_OK(t, device_reprobe(*dev));
	EXPECT_EQ(t, dev->driver(), (const Driver *)&s_alpha_drv);

	device_unregister(*dev);
	driver_unregister(s_gamma_drv);
	driver_unregister(s_alpha_drv);
	char ev[256];
	EXPECT_STREQ(t, s_ev.join(ev, sizeof(ev)),
		     "probe:o0,remove:o0,gprobe:o0,gremove:o0,gprobe:o0,gremove:o0,"
		     "probe:o0,remove:o0");
}

void deferred_probe_retried_when_dependency_appears(Test &t)
{
	s_supplier_ready.store(0);
	s_consumer_probes.store(0);
	ASSERT_OK(t, driver_register(s_consumer_drv));
	TDevice *cons = tdev_register("cons", "consumer");
	ASSERT_NOT_NULL(t, cons);
	EXPECT_FALSE(t, cons->is_bound());
	EXPECT_TRUE(t, device_is_deferred(*cons));
	EXPECT_ERR(t, device_attach(*cons), -EPROBE_DEFER);

	/* The supplier's successful bind triggers the retry. */
	ASSERT_OK(t, driver_register(s_supplier_drv));
	TDevice *sup = tdev_register("sup", "supplier");
	ASSERT_NOT_NULL(t, sup);
	EXPECT_TRUE(t, sup->is_bound());
	driver_deferred_probe_flush();
	EXPECT_TRUE(t, cons->is_bound());
	EXPECT_FALSE(t, device_is_deferred(*cons));

	device_unregister(*cons);
	device_unregister(*sup);
	driver_unregister(s_supplier_drv);
	driver_unregister(s_consumer_drv);
}

void deferred_probe_stays_deferred_without_dependency(Test &t)
{
	s_supplier_ready.store(0);
	s_consumer_probes.store(0);
	ASSERT_OK(t, driver_register(s_consumer_drv));
	TDevice *cons = tdev_register("cons", "consumer");
	ASSERT_NOT_NULL(t, cons);
	EXPECT_EQ(t, s_consumer_probes.load(), 1);
	/* Unrelated bindings retry it, and it defers again. */
	ASSERT_OK(t, driver_register(s_alpha_drv));
	TDevice *other = tdev_register("other", "alpha");
	ASSERT_NOT_NULL(t, other);
	driver_deferred_probe_trigger();
	driver_deferred_probe_flush();
	EXPECT_GE(t, s_consumer_probes.load(), 2);
	EXPECT_FALSE(t, cons->is_bound());
	EXPECT_TRUE(t, device_is_deferred(*cons));
	/* A removed device leaves the deferred list. */
	device_unregister(*cons);
	device_unregister(*other);
	driver_unregister(s_alpha_drv);
	driver_unregister(s_consumer_drv);
}

void parent_removal_removes_children_first(Test &t)
{
	ASSERT_OK(t, driver_register(s_alpha_drv));
	TDevice *devs[5] = {};
	devs[0] = tdev_register("p", "alpha");
	ASSERT_NOT_NULL(t, devs[0]);
	devs[1] = tdev_register("c1", "alpha", devs[0]);
	devs[2] = tdev_register("c2", "beta", devs[0]);
	ASSERT_NOT_NULL(t, devs[1]);
	ASSERT_NOT_NULL(t, devs[2]);
	devs[3] = tdev_register("g1", "alpha", devs[1]);
	devs[4] = tdev_register("g2", "alpha", devs[2]);
	ASSERT_NOT_NULL(t, devs[3]);
	ASSERT_NOT_NULL(t, devs[4]);
	s_ev.reset();

	device_del(*devs[0]);
	char buf[256];
	EXPECT_STREQ(t, s_ev.join(buf, sizeof(buf)),
		     "remove:g1,remove:c1,remove:g2,remove:c2,remove:p");
	for (TDevice *d : devs) {
		EXPECT_EQ(t, d->state(), DeviceState::Removed);
		EXPECT_FALSE(t, d->is_bound());
	}
	/* Unregistering what the core already removed: a no-op, plus the put. */
	device_del(*devs[0]);
	s_ev.reset();
	int live = s_live_devices.load();
	unregister_all(devs, ARRAY_SIZE(devs));
	EXPECT_EQ(t, s_ev.count(), 0u);
	EXPECT_EQ(t, s_live_devices.load(), live - 5);
	driver_unregister(s_alpha_drv);
	EXPECT_EQ(t, s_live_data.load(), 0);
}

void parent_driver_unregisters_children_in_remove(Test &t)
{
	int live = s_live_devices.load();
	ASSERT_OK(t, driver_register(s_alpha_drv));
	ASSERT_OK(t, driver_register(s_parent_drv));
	TDevice *p = tdev_register("par", "parent");
	ASSERT_NOT_NULL(t, p);
	ASSERT_TRUE(t, p->is_bound());
	ParentDriver *pd = p->drvdata<ParentDriver>();
	ASSERT_NOT_NULL(t, pd);
	EXPECT_TRUE(t, pd->m_child[0]->is_bound());
	EXPECT_TRUE(t, pd->m_child[1]->is_bound());
	EXPECT_EQ(t, s_live_devices.load(), live + 3);

	device_unregister(*p);
	char buf[256];
	EXPECT_STREQ(t, s_ev.join(buf, sizeof(buf)),
		     "probe:par,probe:kid0,probe:kid1,remove:kid0,remove:kid1,remove:par");
	/* Every device was released: the children by the parent driver's put. */
	EXPECT_EQ(t, s_live_devices.load(), live);
	driver_unregister(s_parent_drv);
	driver_unregister(s_alpha_drv);
	EXPECT_EQ(t, s_live_data.load(), 0);
}

void no_child_or_probe_on_removed_device(Test &t)
{
	ASSERT_OK(t, driver_register(s_alpha_drv));
	TDevice *p = tdev_register("gone", "gamma");
	ASSERT_NOT_NULL(t, p);
	device_del(*p);
	TDevice *c = TDevice::create("late", "alpha", p);
	ASSERT_NOT_NULL(t, c);
	EXPECT_ERR(t, device_add(*c), -ENODEV);
	c->put();
	EXPECT_ERR(t, device_attach(*p), -ENODEV);
	EXPECT_ERR(t, device_add(*p), -EINVAL);
	p->put();
	driver_unregister(s_alpha_drv);
	EXPECT_EQ(t, s_ev.count(), 0u);
}

void release_runs_after_last_put(Test &t)
{
	int released = s_released.load();
	TDevice *dev = tdev_register("held", "none");
	ASSERT_NOT_NULL(t, dev);
	dev->get();
	device_unregister(*dev);
	/* Still referenced: not released, memory valid. */
	EXPECT_EQ(t, s_released.load(), released);
	EXPECT_EQ(t, dev->state(), DeviceState::Removed);
	EXPECT_STREQ(t, dev->name(), "held");
	dev->put();
	EXPECT_EQ(t, s_released.load(), released + 1);
}

void failed_register_is_put_not_freed(Test &t)
{
	int released = s_released.load();
	/* The parent is not registered: device_add() fails; the owner puts, the release runs once. */
	TDevice *dev = TDevice::create("x", "alpha");
	ASSERT_NOT_NULL(t, dev);
	Device *parent = dev;
	TDevice *child = TDevice::create("y", "alpha", parent);
	ASSERT_NOT_NULL(t, child);
	EXPECT_ERR(t, device_register(*child), -ENODEV); /* parent not registered */
	child->put();
	EXPECT_EQ(t, s_released.load(), released + 1);
	dev->put();
	EXPECT_EQ(t, s_released.load(), released + 2);
}

/* --- notifiers --- */

const char *action_name(unsigned long action)
{
	switch (action) {
	case BUS_NOTIFY_ADD_DEVICE:
		return "add";
	case BUS_NOTIFY_DEL_DEVICE:
		return "del";
	case BUS_NOTIFY_REMOVED_DEVICE:
		return "removed";
	case BUS_NOTIFY_BIND_DRIVER:
		return "bind";
	case BUS_NOTIFY_BOUND_DRIVER:
		return "bound";
	case BUS_NOTIFY_UNBIND_DRIVER:
		return "unbind";
	case BUS_NOTIFY_UNBOUND_DRIVER:
		return "unbound";
	case BUS_NOTIFY_DRIVER_NOT_BOUND:
		return "notbound";
	}
	return "?";
}

int record_notify(NotifierBlock &, unsigned long action, void *data)
{
	s_ev.add("%s:%s", action_name(action), dev_name(static_cast<Device *>(data)));
	return NOTIFY_OK;
}

void notifier_events_in_order(Test &t)
{
	NotifierBlock nb{ .notifier_call = record_notify };
	ASSERT_OK(t, bus_register_notifier(s_tbus, nb));
	EXPECT_ERR(t, bus_register_notifier(s_tbus, nb), -EEXIST);
	s_fail_errno = -EIO;
	ASSERT_OK(t, driver_register(s_alpha_drv));
	ASSERT_OK(t, driver_register(s_fail_drv));
	log_set_echo(false);
	TDevice *a = tdev_register("n0", "alpha");
	TDevice *f = tdev_register("n1", "fail");
	log_set_echo(true);
	ASSERT_NOT_NULL(t, a);
	ASSERT_NOT_NULL(t, f);
	driver_unregister(s_alpha_drv);
	device_unregister(*a);
	ASSERT_OK(t, bus_unregister_notifier(s_tbus, nb));
	EXPECT_ERR(t, bus_unregister_notifier(s_tbus, nb), -ENOENT);
	device_unregister(*f);
	driver_unregister(s_fail_drv);
	char buf[512];
	EXPECT_STREQ(t, s_ev.join(buf, sizeof(buf)),
		     "add:n0,bind:n0,probe:n0,bound:n0,"
		     "add:n1,bind:n1,fprobe:n1,notbound:n1,"
		     "unbind:n0,remove:n0,unbound:n0,"
		     "del:n0,removed:n0");
}

void probe_failure_leaves_unbound_and_logs(Test &t)
{
	ASSERT_OK(t, driver_register(s_fail_drv));
	log_set_echo(false);
	s_fail_errno = -EIO;
	u64 since = log_count(KEEL_LOGLEVEL_ERR);
	TDevice *dev = tdev_register("pf0", "fail");
	ASSERT_NOT_NULL(t, dev);
	EXPECT_FALSE(t, dev->is_bound());
	EXPECT_EQ(t, log_count(KEEL_LOGLEVEL_ERR), since + 1);
	EXPECT_TRUE(t, log_contains_since(since, "probe with driver fail_drv failed with error -5",
					  KEEL_LOGLEVEL_ERR));
	EXPECT_FALSE(t, device_is_deferred(*dev));

	/* -ENODEV and -ENXIO reject the match quietly. */
	since = log_count(KEEL_LOGLEVEL_ERR);
	s_fail_errno = -ENODEV;
	EXPECT_OK(t, device_attach(*dev));
	s_fail_errno = -ENXIO;
	EXPECT_OK(t, device_attach(*dev));
	EXPECT_EQ(t, log_count(KEEL_LOGLEVEL_ERR), since);
	EXPECT_FALSE(t, dev->is_bound());

	/* Fixed: a later attach binds it. */
	s_fail_errno = 0;
	Result<bool> r = device_attach(*dev);
	ASSERT_OK(t, r);
	EXPECT_TRUE(t, r.value());
	EXPECT_TRUE(t, dev->is_bound());
	log_set_echo(true);
	device_unregister(*dev);
	driver_unregister(s_fail_drv);
	s_fail_errno = -EIO;
}

void release_and_reattach(Test &t)
{
	ASSERT_OK(t, driver_register(s_alpha_drv));
	TDevice *dev = tdev_register("r0", "alpha");
	ASSERT_NOT_NULL(t, dev);
	device_release_driver(*dev);
	EXPECT_FALSE(t, dev->is_bound());
	device_release_driver(*dev); /* unbound: nothing */
	Result<bool> r = device_attach(*dev);
	ASSERT_OK(t, r);
	EXPECT_TRUE(t, r.value());
	RefPtr<Device> found = bus_find_device_by_name(s_tbus, "r0");
	EXPECT_EQ(t, found.get(), (Device *)dev);
	EXPECT_NULL(t, bus_find_device_by_name(s_tbus, "nope").get());
	found = nullptr;
	int n = 0;
	bus_for_each_dev(s_tbus, nullptr, [&](Device &) { return ++n, 0; });
	EXPECT_EQ(t, n, 1);
	device_unregister(*dev);
	driver_unregister(s_alpha_drv);
	char buf[128];
	EXPECT_STREQ(t, s_ev.join(buf, sizeof(buf)), "probe:r0,remove:r0,probe:r0,remove:r0");
}

void duplicate_driver_name_is_refused(Test &t)
{
	ASSERT_OK(t, driver_register(s_alpha_drv));
	EXPECT_ERR(t, driver_register(s_alpha_drv), -EBUSY);
	EXPECT_TRUE(t, driver_is_registered(s_alpha_drv));
	driver_unregister(s_alpha_drv);
	EXPECT_FALSE(t, driver_is_registered(s_alpha_drv));
	/* Registered again after unregistering (module reload). */
	ASSERT_OK(t, driver_register(s_alpha_drv));
	driver_unregister(s_alpha_drv);
}

void os_dev_is_inherited(Test &t)
{
	static int fake_os_dev;
	TDevice *p = tdev_register("osp", "none");
	ASSERT_NOT_NULL(t, p);
	TDevice *c = tdev_register("osc", "none", p);
	ASSERT_NOT_NULL(t, c);
	EXPECT_NULL(t, c->os_dev());
	p->set_os_dev(&fake_os_dev);
	EXPECT_EQ(t, c->os_dev(), (void *)&fake_os_dev);
	EXPECT_EQ(t, c->parent(), (Device *)p);
	int children = 0;
	device_for_each_child(*p, [&](Device &) { return ++children, 0; });
	EXPECT_EQ(t, children, 1);
	device_unregister(*p);
	EXPECT_EQ(t, c->state(), DeviceState::Removed);
	device_unregister(*c);
}

/*
 * How a driver registered by another module looks: its ops, and so the
 * data type name, are that module's own copy (same text, other address).
 * drvdata<T>() must still find the data of a named type, and must not mix
 * up two file-local types that happen to share a name.
 */
constinit char s_type_copy[256];
constinit DriverOps s_ops_copy{};
constinit TDriver s_copy_drv{ "copy_drv", s_tbus, NamedDriver::id_table, s_ops_copy };

template <typename T> bool set_ops_copy()
{
	s_ops_copy = DriverAdapter<T, TDevice>::ops;
	s_ops_copy.data_type = s_type_copy;
	return strscpy(s_type_copy, DriverAdapter<T, TDevice>::ops.data_type, sizeof(s_type_copy))
		.is_ok();
}

void drvdata_identity_holds_across_modules(Test &t)
{
	ASSERT_TRUE(t, set_ops_copy<NamedDriver>());
	ASSERT_OK(t, driver_register(s_copy_drv));
	TDevice *dev = tdev_register("named0", "named");
	ASSERT_NOT_NULL(t, dev);
	EXPECT_TRUE(t, dev->is_bound());
	EXPECT_NOT_NULL(t, dev->drvdata<NamedDriver>());
	EXPECT_NULL(t, dev->drvdata<AlphaDriver>());
	device_unregister(*dev);
	driver_unregister(s_copy_drv);

	/* A file-local type is identified by the pointer alone. */
	ASSERT_TRUE(t, set_ops_copy<AlphaDriver>());
	ASSERT_OK(t, driver_register(s_copy_drv));
	dev = tdev_register("named1", "named");
	ASSERT_NOT_NULL(t, dev);
	EXPECT_TRUE(t, dev->is_bound());
	EXPECT_NULL(t, dev->drvdata<AlphaDriver>());
	device_unregister(*dev);
	driver_unregister(s_copy_drv);
}

int suite_case_init(Test &t)
{
	s_ev.reset();
	return tbus_suite_init(t);
}

const test::TestCase driver_core_cases[] = {
	KEEL_CASE(bind_device_first),
	KEEL_CASE(bind_driver_first),
	KEEL_PARAM_CASE(id_table_matching, match_gen),
	KEEL_CASE(match_name_id_table),
	KEEL_CASE(driver_override_forces_binding),
	KEEL_CASE(deferred_probe_retried_when_dependency_appears),
	KEEL_CASE(deferred_probe_stays_deferred_without_dependency),
	KEEL_CASE(parent_removal_removes_children_first),
	KEEL_CASE(parent_driver_unregisters_children_in_remove),
	KEEL_CASE(no_child_or_probe_on_removed_device),
	KEEL_CASE(release_runs_after_last_put),
	KEEL_CASE(failed_register_is_put_not_freed),
	KEEL_CASE(notifier_events_in_order),
	KEEL_CASE(probe_failure_leaves_unbound_and_logs),
	KEEL_CASE(release_and_reattach),
	KEEL_CASE(duplicate_driver_name_is_refused),
	KEEL_CASE(os_dev_is_inherited),
	KEEL_CASE(drvdata_identity_holds_across_modules),
	{},
};

const test::TestSuite driver_core_suite = {
	.name = "keel_driver_core",
	.cases = driver_core_cases,
	.init = suite_case_init,
	.exit = tbus_suite_exit,
};

} // namespace

KEEL_TEST_SUITE(driver_core_suite);
