// SPDX-License-Identifier: GPL-2.0
/*
 * The character devices' semantics (rpmsg_char.cpp, rpmsg_ctrl.cpp), the
 * cases both frontends rely on: a test frontend (plain memory for "user"
 * memory, one address that faults) over the fake transport
 * (rpmsg_test_link.h) for the UAPI's answers, and over host and remote in
 * one address space (rpmsg_fixture.h) for an echo through the remote.
 * The Linux glue and the hosted library map their calls 1:1 onto what is
 * tested here; the QEMU run's userspace program checks the Linux side.
 */
#include <keel/log.h>
#include <keel/test.h>

#include "../rpmsg_char_internal.h"
#include "rpmsg_fixture.h"
#include "rpmsg_test_link.h"

#include "../rpmsg_char_uapi.h"

using namespace keel;
using namespace keel::test;
using namespace rpmsg;
using namespace rpmsg::test;

namespace {

/* A "user" address every copy refuses (and null, as copy_to_user() does). */
u8 s_bad_user[1];
void *const BAD = s_bad_user;

constinit Atomic<u32> s_published{ 0 };
constinit Atomic<u32> s_unpublished{ 0 };

struct Poller {
	WaitQueue wq{ "rpmsg_char_test_poll", KEEL_LOCK_KEY() };
	Atomic<u32> woken{ 0 };
	WaitCallback cb{ [](WaitCallback &c) {
		Poller *p = container_of(&c, &Poller::cb);
		p->woken.fetch_add(1);
		p->wq.wake_up();
	} };
	~Poller() { cb.remove(); }

	/* Polls @node until a bit of @want is set or @timeout_ns passes; the last mask. */
	u32 wait(RpmsgCharNode &node, u32 want, s64 timeout_ns = ms_to_ns(5000))
	{
		s64 deadline = ktime_get_ns() + timeout_ns;
		for (;;) {
			u32 seen = woken.load();
			u32 mask = node.poll(this);
			if ((mask & want) || ktime_get_ns() > deadline)
				return mask;
			(void)wq.wait_event_timeout([&] { return woken.load() != seen; },
						    ms_to_ns(100));
		}
	}
};

Result<void> fe_publish(RpmsgCharNode &)
{
	s_published.fetch_add(1);
	return ok();
}

void fe_unpublish(RpmsgCharNode &)
{
	s_unpublished.fetch_add(1);
}

Result<void> fe_copy_to_user(void *to, const void *from, size_t n)
{
	if (!to || to == BAD)
		return err(-EFAULT);
	memcpy(to, from, n);
	return ok();
}

Result<void> fe_copy_from_user(void *to, const void *from, size_t n)
{
	if (!from || from == BAD)
		return err(-EFAULT);
	memcpy(to, from, n);
	return ok();
}

void fe_poll_wait(WaitQueue &wq, void *ctx)
{
	if (ctx)
		static_cast<Poller *>(ctx)->cb.add(wq);
}

constexpr u32 QUEUE_MAX = 4;

constinit const RpmsgCharFrontend s_fe = {
	.name = "rpmsg_char_test",
	.publish = fe_publish,
	.unpublish = fe_unpublish,
	.copy_out = fe_copy_to_user,
	.copy_in = fe_copy_from_user,
	.copy_to_user = fe_copy_to_user,
	.copy_from_user = fe_copy_from_user,
	.poll_wait = fe_poll_wait,
	.queue_max = QUEUE_MAX,
};

/* Registers the test frontend for the case (unregistered when it ends). */
bool use_frontend(Test &t)
{
	Result<void> r = rpmsg_char_register(s_fe);
	if (r.is_error()) {
		EXPECT_FAIL(t, "rpmsg_char_register: %d", r.error().to_errno());
		return false;
	}
	if (t.add_cleanup([](void *) { rpmsg_char_unregister(); }, nullptr).is_error()) {
		rpmsg_char_unregister();
		EXPECT_FAIL(t, "no memory for a cleanup");
		return false;
	}
	return true;
}

/* The text of attribute @attr of @node, without its newline ("" on error). */
struct Attr {
	char buf[128] = {};
	Attr(RpmsgCharNode &node, const char *attr)
	{
		Result<size_t> r = node.show(attr, buf, sizeof(buf));
		if (r.is_error() || r.value() == 0) {
			buf[0] = '\0';
			return;
		}
		buf[r.value() - 1] = '\0';
	}
	const char *str() const { return buf; }
};

long ctrl_ioctl(RpmsgCharNode &ctrl, unsigned int cmd, const char *name, u32 src, u32 dst)
{
	struct rpmsg_endpoint_info info = {};
	memcpy(info.name, name, min(strlen(name), sizeof(info.name)));
	info.src = src;
	info.dst = dst;
	Result<long> r = ctrl.ioctl(cmd, reinterpret_cast<unsigned long>(&info));
	return r.is_ok() ? r.value() : r.error().to_errno();
}

int result_of(const Result<size_t> &r)
{
	return r.is_ok() ? int(r.value()) : r.error().to_errno();
}

/* The control node of @link (a reference), or null. */
RefPtr<RpmsgCharNode> ctrl_of(RpmsgLink &link)
{
	RefPtr<RpmsgCtrldev> c = RpmsgCharCore::ctrl_of(link);
	return RefPtr<RpmsgCharNode>(c.get());
}

struct FindByAttr {
	RpmsgCharKind kind;
	const char *attr;
	const char *value;
	RefPtr<RpmsgCharNode> found;
};

/* The newest published node of @kind whose @attr reads @value, or null. */
RefPtr<RpmsgCharNode> find_node(RpmsgCharKind kind, const char *attr, const char *value)
{
	FindByAttr f{ kind, attr, value, nullptr };
	(void)rpmsg_char_for_each(
		[](RpmsgCharNode &n, void *p) {
			auto *f = static_cast<FindByAttr *>(p);
			if (n.kind() == f->kind && !strcmp(Attr(n, f->attr).str(), f->value))
				f->found = RefPtr<RpmsgCharNode>(&n);
			return true;
		},
		&f);
	return f.found;
}

/* A link, the test frontend, and an endpoint node made on the link's control node. */
struct EptCase {
	TestLink *l = nullptr;
	RefPtr<RpmsgCharNode> ctrl;
	RefPtr<RpmsgCharNode> ept;
};

bool make_ept_case(Test &t, EptCase &c, const char *name = "ept-test", u32 dst = 0x400)
{
	c.l = make_test_link(t, false);
	if (!c.l || !use_frontend(t))
		return false;
	c.ctrl = ctrl_of(c.l->link);
	if (!c.ctrl) {
		EXPECT_FAIL(t, "no control node");
		return false;
	}
	if (ctrl_ioctl(*c.ctrl, RPMSG_CREATE_EPT_IOCTL, name, RPMSG_ADDR_ANY, dst) != 0) {
		EXPECT_FAIL(t, "RPMSG_CREATE_EPT_IOCTL failed");
		return false;
	}
	c.ept = find_node(RpmsgCharKind::Ept, "name", name);
	if (!c.ept) {
		EXPECT_FAIL(t, "no endpoint node named %s", name);
		return false;
	}
	return true;
}

/* The endpoint's address, from its "addr" attribute (ANY when closed). */
u32 addr_of(RpmsgCharNode &ept)
{
	Attr a(ept, "addr");
	const char *s = a.str();
	if (s[0] == '-')
		return RPMSG_ADDR_ANY;
	u32 v = 0;
	for (; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + u32(*s - '0');
	return v;
}

/* --- cases --- */

void ctrl_node_per_link_numbered_like_linux(Test &t)
{
	TestLink *a = make_test_link(t, false);
	ASSERT_NOT_NULL(t, a);
	u32 pub = s_published.load(), unpub = s_unpublished.load();
	ASSERT_TRUE(t, use_frontend(t));
	RefPtr<RpmsgCharNode> c0 = rpmsg_char_find("rpmsg_ctrl0");
	ASSERT_TRUE(t, c0);
	EXPECT_TRUE(t, c0->kind() == RpmsgCharKind::Ctrl);
	EXPECT_STREQ(t, Attr(*c0, "link").str(), "test-link");
	EXPECT_STREQ(t, Attr(*c0, "mtu").str(), "496");
	EXPECT_EQ(t, s_published.load(), pub + 1);
	TestLink *b = make_test_link(t, false);
	ASSERT_NOT_NULL(t, b);
	RefPtr<RpmsgCharNode> c1 = rpmsg_char_find("rpmsg_ctrl1");
	ASSERT_TRUE(t, c1);
	EXPECT_TRUE(t, ctrl_of(b->link).get() == c1.get());
	/* The link goes: its node is unpublished; the number is free once released. */
	a->teardown();
	EXPECT_FALSE(t, c0->live());
	EXPECT_NULL(t, rpmsg_char_find("rpmsg_ctrl0").get());
	EXPECT_EQ(t, s_unpublished.load(), unpub + 1);
	EXPECT_ERR(t, c0->ioctl(0x1234, 0), -EFAULT);
	c0 = nullptr;
	TestLink *c = make_test_link(t, false);
	ASSERT_NOT_NULL(t, c);
	EXPECT_TRUE(t, rpmsg_char_find("rpmsg_ctrl0").get() == ctrl_of(c->link).get());
}

void create_ept_makes_a_node_opened_once(Test &t)
{
	EptCase c;
	ASSERT_TRUE(t, make_ept_case(t, c, "ept-a"));
	EXPECT_STREQ(t, c.ept->name(), "rpmsg0");
	EXPECT_STREQ(t, Attr(*c.ept, "src").str(), "-1");
	EXPECT_STREQ(t, Attr(*c.ept, "dst").str(), "1024");
	/* The endpoint exists while the node is open. */
	EXPECT_STREQ(t, Attr(*c.ept, "addr").str(), "-1");
	u32 epts = c.l->link.nr_endpoints();
	ASSERT_OK(t, c.ept->open());
	EXPECT_EQ(t, c.l->link.nr_endpoints(), epts + 1);
	EXPECT_STREQ(t, Attr(*c.ept, "addr").str(), "1024");
	EXPECT_ERR(t, c.ept->open(), -EBUSY);
	c.ept->close();
	EXPECT_EQ(t, c.l->link.nr_endpoints(), epts);
	EXPECT_STREQ(t, Attr(*c.ept, "addr").str(), "-1");
	ASSERT_OK(t, c.ept->open());
	/* A second node is rpmsg1; an address taken already fails the open (-EINVAL). */
	EXPECT_EQ(t, ctrl_ioctl(*c.ctrl, RPMSG_CREATE_EPT_IOCTL, "ept-b", 1024, 0x400), 0);
	RefPtr<RpmsgCharNode> b = find_node(RpmsgCharKind::Ept, "name", "ept-b");
	ASSERT_TRUE(t, b);
	EXPECT_STREQ(t, b->name(), "rpmsg1");
	EXPECT_STREQ(t, Attr(*b, "src").str(), "1024");
	EXPECT_ERR(t, b->open(), -EINVAL);
	c.ept->close();
	ASSERT_OK(t, b->open());
	EXPECT_STREQ(t, Attr(*b, "addr").str(), "1024");
	b->close();
}

void read_returns_one_message_per_call_truncated(Test &t)
{
	EptCase c;
	ASSERT_TRUE(t, make_ept_case(t, c));
	ASSERT_OK(t, c.ept->open());
	u32 addr = addr_of(*c.ept);
	ASSERT_OK(t, c.l->inject_str(0x400, addr, "hello"));
	ASSERT_OK(t, c.l->inject_str(0x400, addr, "world!"));
	ASSERT_OK(t, c.l->inject_str(0x400, addr, "x"));
	ASSERT_OK(t, c.l->inject_str(0x400, addr, "gone"));
	EXPECT_STREQ(t, Attr(*c.ept, "queued").str(), "4");
	char buf[64] = {};
	EXPECT_EQ(t, result_of(c.ept->read(buf, sizeof(buf), false)), 5);
	EXPECT_MEMEQ(t, buf, "hello", 5);
	/* A small buffer gets the start of the message; the rest is lost. */
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(t, result_of(c.ept->read(buf, 3, false)), 3);
	EXPECT_STREQ(t, buf, "wor");
	EXPECT_EQ(t, result_of(c.ept->read(buf, sizeof(buf), true)), 1);
	EXPECT_EQ(t, buf[0], 'x');
	/* A zero-byte read takes a message too (Linux). */
	EXPECT_EQ(t, result_of(c.ept->read(buf, 0, true)), 0);
	EXPECT_EQ(t, result_of(c.ept->read(buf, sizeof(buf), true)), -EAGAIN);
	EXPECT_STREQ(t, Attr(*c.ept, "rx_count").str(), "4");
	/* An empty message reads as 0 bytes. */
	ASSERT_OK(t, c.l->inject_msg(0x400, addr, Span<const u8>()));
	EXPECT_EQ(t, result_of(c.ept->read(buf, sizeof(buf), true)), 0);
	c.ept->close();
}

struct ReadArgs {
	RpmsgCharNode *node;
	char buf[32] = {};
	int ret = 1;
};

void blocked_read(void *p)
{
	auto *a = static_cast<ReadArgs *>(p);
	a->ret = result_of(a->node->read(a->buf, sizeof(a->buf), false));
}

void read_blocks_until_a_message_arrives(Test &t)
{
	EptCase c;
	ASSERT_TRUE(t, make_ept_case(t, c));
	ASSERT_OK(t, c.ept->open());
	ReadArgs a{ c.ept.get() };
	Runner r;
	ASSERT_OK(t, r.start(blocked_read, &a));
	msleep(20);
	EXPECT_FALSE(t, r.finished());
	ASSERT_OK(t, c.l->inject_str(0x400, addr_of(*c.ept), "late"));
	EXPECT_TRUE(t, r.wait(ms_to_ns(5000)));
	EXPECT_EQ(t, a.ret, 4);
	EXPECT_STREQ(t, a.buf, "late");
	c.ept->close();
}

void write_sends_one_message_up_to_the_mtu(Test &t)
{
	EptCase c;
	ASSERT_TRUE(t, make_ept_case(t, c));
	ASSERT_OK(t, c.ept->open());
	u32 addr = addr_of(*c.ept);
	u32 sent = c.l->nr_sent.load();
	EXPECT_EQ(t, result_of(c.ept->write("ping", 4, false)), 4);
	const TestLink::Sent *s = c.l->last_sent();
	ASSERT_NOT_NULL(t, s);
	EXPECT_EQ(t, s->src, addr);
	EXPECT_EQ(t, s->dst, 0x400u);
	EXPECT_EQ(t, s->len, 4u);
	EXPECT_MEMEQ(t, s->bytes + RPMSG_HDR_SIZE, "ping", 4);
	static u8 big[RPMSG_BUF_SIZE];
	memset(big, 0x5a, sizeof(big));
	u32 mtu = RPMSG_BUF_SIZE - RPMSG_HDR_SIZE;
	EXPECT_EQ(t, result_of(c.ept->write(big, mtu, false)), int(mtu));
	EXPECT_EQ(t, c.l->last_sent()->len, mtu);
	/* Above the MTU: nothing is sent, nothing logged. */
	u64 warns = log_count();
	EXPECT_EQ(t, result_of(c.ept->write(big, mtu + 1, false)), -EMSGSIZE);
	EXPECT_EQ(t, log_count(), warns);
	/* A zero-length write sends an empty message (Linux). */
	EXPECT_EQ(t, result_of(c.ept->write("", 0, false)), 0);
	EXPECT_EQ(t, c.l->last_sent()->len, 0u);
	EXPECT_EQ(t, c.l->nr_sent.load(), sent + 3);
	EXPECT_STREQ(t, Attr(*c.ept, "tx_count").str(), "3");
	c.ept->close();
}

void write_to_any_destination_is_einval(Test &t)
{
	EptCase c;
	ASSERT_TRUE(t, make_ept_case(t, c, "no-dst", RPMSG_ADDR_ANY));
	ASSERT_OK(t, c.ept->open());
	u32 sent = c.l->nr_sent.load();
	EXPECT_EQ(t, result_of(c.ept->write("x", 1, false)), -EINVAL);
	EXPECT_EQ(t, c.l->nr_sent.load(), sent);
	EXPECT_EQ(t, c.l->tx_free(), TestLink::NTX);
	c.ept->close();
}

struct WriteArgs {
	RpmsgCharNode *node;
	int ret = 1;
};

void blocked_write(void *p)
{
	auto *a = static_cast<WriteArgs *>(p);
	a->ret = result_of(a->node->write("blocked", 7, false));
}

struct PollArgs {
	RpmsgCharNode *node;
	u32 want;
	u32 mask = 0;
};

void blocked_poll(void *p)
{
	auto *a = static_cast<PollArgs *>(p);
	Poller poller;
	a->mask = poller.wait(*a->node, a->want);
}

void write_without_tx_buffer_waits_or_is_eagain(Test &t)
{
	EptCase c;
	ASSERT_TRUE(t, make_ept_case(t, c));
	ASSERT_OK(t, c.ept->open());
	c.l->auto_complete = false;
	Poller poller;
	EXPECT_EQ(t, c.ept->poll(&poller) & RPMSG_POLLOUT, RPMSG_POLLOUT);
	for (u32 i = 0; i < TestLink::NTX; i++)
		ASSERT_EQ(t, result_of(c.ept->write("fill", 4, true)), 4);
	EXPECT_EQ(t, result_of(c.ept->write("more", 4, true)), -EAGAIN);
	EXPECT_EQ(t, c.ept->poll(&poller) & RPMSG_POLLOUT, 0u);
	/* A poller for POLLOUT and a blocking writer both wait for the remote. */
	PollArgs pa{ c.ept.get(), RPMSG_POLLOUT };
	Runner pr;
	ASSERT_OK(t, pr.start(blocked_poll, &pa));
	WriteArgs wa{ c.ept.get() };
	Runner wr;
	ASSERT_OK(t, wr.start(blocked_write, &wa));
	ASSERT_TRUE(t, wait_for([&] { return c.l->sleepers.load() == 1; }));
	msleep(20);
	EXPECT_FALSE(t, pr.finished());
	/* The remote returns its buffers: the link's wake-up reaches both. */
	c.l->complete_tx();
	EXPECT_TRUE(t, wr.wait(ms_to_ns(5000)));
	EXPECT_EQ(t, wa.ret, 7);
	EXPECT_TRUE(t, pr.wait(ms_to_ns(5000)));
	EXPECT_EQ(t, pa.mask & RPMSG_POLLOUT, RPMSG_POLLOUT);
	c.ept->close();
}

void poll_reports_input_and_wakes_on_a_message(Test &t)
{
	EptCase c;
	ASSERT_TRUE(t, make_ept_case(t, c));
	ASSERT_OK(t, c.ept->open());
	Poller poller;
	EXPECT_EQ(t, c.ept->poll(&poller), RPMSG_POLLOUT);
	PollArgs pa{ c.ept.get(), RPMSG_POLLIN };
	Runner pr;
	ASSERT_OK(t, pr.start(blocked_poll, &pa));
	msleep(20);
	EXPECT_FALSE(t, pr.finished());
	ASSERT_OK(t, c.l->inject_str(0x400, addr_of(*c.ept), "in"));
	EXPECT_TRUE(t, pr.wait(ms_to_ns(5000)));
	EXPECT_EQ(t, pa.mask, RPMSG_POLLIN | RPMSG_POLLRDNORM | RPMSG_POLLOUT);
	c.ept->close();
}

void bad_user_addresses_are_efault(Test &t)
{
	EptCase c;
	ASSERT_TRUE(t, make_ept_case(t, c));
	ASSERT_OK(t, c.ept->open());
	ASSERT_OK(t, c.l->inject_str(0x400, addr_of(*c.ept), "lost"));
	/* As Linux: the message is taken off the queue, then the copy fails. */
	EXPECT_EQ(t, result_of(c.ept->read(BAD, 4, false)), -EFAULT);
	EXPECT_STREQ(t, Attr(*c.ept, "queued").str(), "0");
	u32 sent = c.l->nr_sent.load();
	EXPECT_EQ(t, result_of(c.ept->write(BAD, 4, false)), -EFAULT);
	EXPECT_EQ(t, c.l->nr_sent.load(), sent);
	EXPECT_EQ(t, c.l->tx_free(), TestLink::NTX);
	EXPECT_ERR(
		t,
		c.ept->ioctl(RPMSG_GET_OUTGOING_FLOWCONTROL, reinterpret_cast<unsigned long>(BAD)),
		-EFAULT);
	/* The control node copies its argument first, whatever the request. */
	EXPECT_ERR(t, c.ctrl->ioctl(RPMSG_CREATE_EPT_IOCTL, reinterpret_cast<unsigned long>(BAD)),
		   -EFAULT);
	EXPECT_ERR(t, c.ctrl->ioctl(0x1234, reinterpret_cast<unsigned long>(BAD)), -EFAULT);
	c.ept->close();
}

void ioctls_answer_as_linux(Test &t)
{
	EptCase c;
	ASSERT_TRUE(t, make_ept_case(t, c));
	ASSERT_OK(t, c.ept->open());
	/* 6.12's flow control, on a transport without it. */
	int v = 42;
	EXPECT_OK(t, c.ept->ioctl(RPMSG_GET_OUTGOING_FLOWCONTROL,
				  reinterpret_cast<unsigned long>(&v)));
	EXPECT_EQ(t, v, 0);
	EXPECT_ERR(t, c.ept->ioctl(RPMSG_SET_INCOMING_FLOWCONTROL, 2), -EINVAL);
	EXPECT_ERR(t, c.ept->ioctl(RPMSG_SET_INCOMING_FLOWCONTROL, 1), -EOPNOTSUPP);
	EXPECT_ERR(t, c.ept->ioctl(RPMSG_SET_INCOMING_FLOWCONTROL, 0), -EOPNOTSUPP);
	/* Unknown requests, and the other node's requests, are -EINVAL (not -ENOTTY). */
	EXPECT_ERR(t, c.ept->ioctl(0x5401 /* TCGETS */, 0), -EINVAL);
	EXPECT_ERR(t, c.ept->ioctl(RPMSG_CREATE_EPT_IOCTL, 0), -EINVAL);
	EXPECT_EQ(t, ctrl_ioctl(*c.ctrl, 0x5401, "x", 0, 0), -EINVAL);
	EXPECT_EQ(t, ctrl_ioctl(*c.ctrl, RPMSG_DESTROY_EPT_IOCTL, "x", 0, 0), -EINVAL);
	/* Read and write on a control node: no such operation. */
	char buf[4];
	EXPECT_EQ(t, result_of(c.ctrl->read(buf, sizeof(buf), true)), -EINVAL);
	EXPECT_EQ(t, result_of(c.ctrl->write(buf, sizeof(buf), true)), -EINVAL);
	c.ept->close();
}

void destroy_wakes_readers_and_fails_later_calls(Test &t)
{
	EptCase c;
	ASSERT_TRUE(t, make_ept_case(t, c));
	ASSERT_OK(t, c.ept->open());
	u32 epts = c.l->link.nr_endpoints();
	ReadArgs a{ c.ept.get() };
	Runner r;
	ASSERT_OK(t, r.start(blocked_read, &a));
	msleep(20);
	u64 warns = log_count();
	EXPECT_OK(t, c.ept->ioctl(RPMSG_DESTROY_EPT_IOCTL, 0));
	EXPECT_TRUE(t, r.wait(ms_to_ns(5000)));
	EXPECT_EQ(t, a.ret, -EPIPE);
	EXPECT_EQ(t, c.l->link.nr_endpoints(), epts - 1);
	EXPECT_FALSE(t, c.ept->live());
	EXPECT_NULL(t, rpmsg_char_find("rpmsg0").get());
	char buf[8];
	EXPECT_EQ(t, result_of(c.ept->read(buf, sizeof(buf), false)), -EPIPE);
	EXPECT_EQ(t, result_of(c.ept->write("x", 1, false)), -EPIPE);
	Poller poller;
	EXPECT_EQ(t, c.ept->poll(&poller), RPMSG_POLLERR | RPMSG_POLLHUP);
	EXPECT_ERR(t, c.ept->ioctl(RPMSG_SET_INCOMING_FLOWCONTROL, 1), -EINVAL);
	/* Twice is fine (6.12); a new open finds it gone. */
	EXPECT_OK(t, c.ept->ioctl(RPMSG_DESTROY_EPT_IOCTL, 0));
	c.ept->close();
	EXPECT_ERR(t, c.ept->open(), -ENETRESET);
	EXPECT_EQ(t, log_count(), warns);
}

void removed_node_keeps_its_number_until_released(Test &t)
{
	EptCase c;
	ASSERT_TRUE(t, make_ept_case(t, c, "first"));
	ASSERT_OK(t, c.ept->open());
	EXPECT_OK(t, c.ept->ioctl(RPMSG_DESTROY_EPT_IOCTL, 0));
	/* Still open (and referenced): rpmsg0 is taken, as Linux's ida keeps it. */
	EXPECT_EQ(t, ctrl_ioctl(*c.ctrl, RPMSG_CREATE_EPT_IOCTL, "second", RPMSG_ADDR_ANY, 1), 0);
	EXPECT_NOT_NULL(t, rpmsg_char_find("rpmsg1").get());
	c.ept->close();
	c.ept = nullptr;
	EXPECT_EQ(t, ctrl_ioctl(*c.ctrl, RPMSG_CREATE_EPT_IOCTL, "third", RPMSG_ADDR_ANY, 1), 0);
	RefPtr<RpmsgCharNode> n = rpmsg_char_find("rpmsg0");
	ASSERT_TRUE(t, n);
	EXPECT_STREQ(t, Attr(*n, "name").str(), "third");
}

void names_are_cut_like_linux(Test &t)
{
	EptCase c;
	ASSERT_TRUE(t, make_ept_case(t, c));
	char longname[RPMSG_NAME_SIZE + 1];
	memset(longname, 'a', RPMSG_NAME_SIZE);
	longname[RPMSG_NAME_SIZE] = '\0';
	/* 32 bytes without a NUL: cut to 31, not refused. */
	EXPECT_EQ(t, ctrl_ioctl(*c.ctrl, RPMSG_CREATE_EPT_IOCTL, longname, RPMSG_ADDR_ANY, 1), 0);
	longname[RPMSG_NAME_SIZE - 1] = '\0';
	EXPECT_NOT_NULL(t, find_node(RpmsgCharKind::Ept, "name", longname).get());
	memset(longname, 'b', RPMSG_NAME_SIZE);
	EXPECT_EQ(t, ctrl_ioctl(*c.ctrl, RPMSG_CREATE_DEV_IOCTL, longname, RPMSG_ADDR_ANY, 0x401),
		  0);
	longname[RPMSG_NAME_SIZE - 1] = '\0';
	EXPECT_TRUE(t, c.l->link.find_channel(longname, 0x401));
	EXPECT_EQ(t, ctrl_ioctl(*c.ctrl, RPMSG_RELEASE_DEV_IOCTL, longname, RPMSG_ADDR_ANY, 0x401),
		  0);
	EXPECT_FALSE(t, c.l->link.find_channel(longname, 0x401));
	/* Channels the core refuses, and unknown ones. */
	u64 warns = log_count();
	EXPECT_EQ(t, ctrl_ioctl(*c.ctrl, RPMSG_CREATE_DEV_IOCTL, "", RPMSG_ADDR_ANY, 1), -ENXIO);
	EXPECT_EQ(t, ctrl_ioctl(*c.ctrl, RPMSG_CREATE_DEV_IOCTL, "bad\x01", RPMSG_ADDR_ANY, 1),
		  -ENXIO);
	EXPECT_EQ(t, ctrl_ioctl(*c.ctrl, RPMSG_CREATE_DEV_IOCTL, "dup", RPMSG_ADDR_ANY, 0x402), 0);
	EXPECT_EQ(t, ctrl_ioctl(*c.ctrl, RPMSG_CREATE_DEV_IOCTL, "dup", RPMSG_ADDR_ANY, 0x402),
		  -ENXIO);
	EXPECT_EQ(t, ctrl_ioctl(*c.ctrl, RPMSG_RELEASE_DEV_IOCTL, "nope", RPMSG_ADDR_ANY, 1),
		  -EINVAL);
	EXPECT_EQ(t, log_count(), warns);
}

void rpmsg_raw_channel_gets_a_node_until_released(Test &t)
{
	EptCase c;
	ASSERT_TRUE(t, make_ept_case(t, c));
	EXPECT_EQ(t,
		  ctrl_ioctl(*c.ctrl, RPMSG_CREATE_DEV_IOCTL, "rpmsg-raw", RPMSG_ADDR_ANY, 0x401),
		  0);
	RefPtr<RpmsgDevice> ch = c.l->link.find_channel("rpmsg-raw", 0x401);
	ASSERT_TRUE(t, ch);
	EXPECT_TRUE(t, ch->driver() == &rpmsg_chrdev_driver);
	/* The channel's node: its addresses, its driver. */
	RefPtr<RpmsgCharNode> chn = rpmsg_char_find(ch->name());
	ASSERT_TRUE(t, chn);
	EXPECT_TRUE(t, chn->kind() == RpmsgCharKind::Channel);
	EXPECT_STREQ(t, Attr(*chn, "name").str(), "rpmsg-raw");
	EXPECT_STREQ(t, Attr(*chn, "driver").str(), "rpmsg_chrdev");
	EXPECT_STREQ(t, Attr(*chn, "ctrl").str(), c.ctrl->name());
	EXPECT_STREQ(t, Attr(*chn, "announce").str(), "false");
	/* Its endpoint node uses the channel's default endpoint. */
	RefPtr<RpmsgCharNode> raw = find_node(RpmsgCharKind::Ept, "name", "rpmsg-raw");
	ASSERT_TRUE(t, raw);
	char src[16];
	(void)snprintf(src, sizeof(src), "%d", int(ch->src()));
	EXPECT_STREQ(t, Attr(*raw, "src").str(), src);
	/* Messages to the channel queue even before the node is opened (Linux). */
	ASSERT_OK(t, c.l->inject_str(0x401, ch->src(), "early"));
	ASSERT_OK(t, raw->open());
	char buf[16] = {};
	EXPECT_EQ(t, result_of(raw->read(buf, sizeof(buf), true)), 5);
	EXPECT_STREQ(t, buf, "early");
	EXPECT_EQ(t, result_of(raw->write("hi", 2, false)), 2);
	EXPECT_EQ(t, c.l->last_sent()->src, ch->src());
	EXPECT_EQ(t, c.l->last_sent()->dst, 0x401u);
	EXPECT_ERR(t, raw->ioctl(RPMSG_DESTROY_EPT_IOCTL, 0), -EINVAL);
	/* Releasing the channel under an open file: the reader wakes, the node goes. */
	ReadArgs a{ raw.get() };
	Runner r;
	ASSERT_OK(t, r.start(blocked_read, &a));
	msleep(20);
	EXPECT_EQ(t,
		  ctrl_ioctl(*c.ctrl, RPMSG_RELEASE_DEV_IOCTL, "rpmsg-raw", RPMSG_ADDR_ANY, 0x401),
		  0);
	EXPECT_TRUE(t, r.wait(ms_to_ns(5000)));
	EXPECT_EQ(t, a.ret, -EPIPE);
	EXPECT_FALSE(t, raw->live());
	EXPECT_FALSE(t, chn->live());
	Poller poller;
	EXPECT_EQ(t, raw->poll(&poller), RPMSG_POLLERR | RPMSG_POLLHUP);
	EXPECT_EQ(t, result_of(raw->write("x", 1, false)), -EPIPE);
	raw->close();
}

void unread_messages_are_bounded(Test &t)
{
	EptCase c;
	ASSERT_TRUE(t, make_ept_case(t, c));
	ASSERT_OK(t, c.ept->open());
	u32 addr = addr_of(*c.ept);
	u64 seq = log_seq();
	log_set_echo(false);
	for (u32 i = 0; i < QUEUE_MAX + 2; i++) {
		char m[8];
		(void)snprintf(m, sizeof(m), "m%u", i);
		ASSERT_OK(t, c.l->inject_str(0x400, addr, m));
	}
	log_set_echo(true);
	EXPECT_TRUE(t, log_contains_since(seq, "message dropped"));
	EXPECT_STREQ(t, Attr(*c.ept, "queued").str(), "4");
	EXPECT_STREQ(t, Attr(*c.ept, "rx_dropped").str(), "2");
	/* The oldest are kept, in order; every rx buffer went back to the remote. */
	EXPECT_EQ(t, c.l->rx_held(), 0u);
	for (u32 i = 0; i < QUEUE_MAX; i++) {
		char want[8], buf[8] = {};
		(void)snprintf(want, sizeof(want), "m%u", i);
		EXPECT_EQ(t, result_of(c.ept->read(buf, sizeof(buf), true)), int(strlen(want)));
		EXPECT_STREQ(t, buf, want);
	}
	c.ept->close();
}

void link_shutdown_under_open_files(Test &t)
{
	EptCase c;
	ASSERT_TRUE(t, make_ept_case(t, c));
	ASSERT_OK(t, c.ept->open());
	EXPECT_EQ(t,
		  ctrl_ioctl(*c.ctrl, RPMSG_CREATE_DEV_IOCTL, "rpmsg-raw", RPMSG_ADDR_ANY, 0x401),
		  0);
	RefPtr<RpmsgCharNode> raw = find_node(RpmsgCharKind::Ept, "name", "rpmsg-raw");
	ASSERT_TRUE(t, raw);
	ASSERT_OK(t, raw->open());
	ReadArgs a{ c.ept.get() }, b{ raw.get() };
	Runner ra, rb;
	ASSERT_OK(t, ra.start(blocked_read, &a));
	ASSERT_OK(t, rb.start(blocked_read, &b));
	msleep(20);
	/* The remote goes away (its link is torn down): every reader wakes, every node goes. */
	u64 warns = log_count();
	c.l->teardown();
	EXPECT_TRUE(t, ra.wait(ms_to_ns(5000)));
	EXPECT_TRUE(t, rb.wait(ms_to_ns(5000)));
	EXPECT_EQ(t, a.ret, -EPIPE);
	EXPECT_EQ(t, b.ret, -EPIPE);
	EXPECT_FALSE(t, c.ctrl->live());
	EXPECT_FALSE(t, c.ept->live());
	EXPECT_FALSE(t, raw->live());
	EXPECT_EQ(t, result_of(c.ept->write("x", 1, false)), -EPIPE);
	Poller poller;
	EXPECT_EQ(t, raw->poll(&poller), RPMSG_POLLERR | RPMSG_POLLHUP);
	EXPECT_EQ(t, ctrl_ioctl(*c.ctrl, RPMSG_CREATE_EPT_IOCTL, "late", RPMSG_ADDR_ANY, 1),
		  -ENODEV);
	/* No "endpoint left at shutdown": the control node let go first. */
	EXPECT_EQ(t, log_count(), warns);
	c.ept->close();
	raw->close();
}

void unregister_takes_every_node_down(Test &t)
{
	TestLink *l = make_test_link(t, false);
	ASSERT_NOT_NULL(t, l);
	ASSERT_OK(t, rpmsg_char_register(s_fe));
	EXPECT_ERR(t, rpmsg_char_register(s_fe), -EBUSY);
	RefPtr<RpmsgCharNode> ctrl = ctrl_of(l->link);
	ASSERT_TRUE(t, ctrl);
	EXPECT_EQ(t, ctrl_ioctl(*ctrl, RPMSG_CREATE_EPT_IOCTL, "e", RPMSG_ADDR_ANY, 1), 0);
	EXPECT_EQ(t, ctrl_ioctl(*ctrl, RPMSG_CREATE_DEV_IOCTL, "rpmsg-raw", RPMSG_ADDR_ANY, 2), 0);
	RefPtr<RpmsgCharNode> e = rpmsg_char_find("rpmsg0");
	ASSERT_TRUE(t, e);
	ASSERT_OK(t, e->open());
	u32 epts = l->link.nr_endpoints();
	rpmsg_char_unregister();
	EXPECT_EQ(t, rpmsg_char_for_each([](RpmsgCharNode &, void *) { return true; }, nullptr),
		  0u);
	EXPECT_FALSE(t, e->live());
	/* The raw channel stays (the link's), unbound; the open endpoint is gone. */
	RefPtr<RpmsgDevice> ch = l->link.find_channel("rpmsg-raw", 2);
	ASSERT_TRUE(t, ch);
	EXPECT_FALSE(t, ch->is_bound());
	EXPECT_EQ(t, l->link.nr_endpoints(), epts - 1);
	char buf[4];
	EXPECT_EQ(t, result_of(e->read(buf, sizeof(buf), true)), -EPIPE);
	e->close();
	/* And again, for a clean second registration. */
	ASSERT_TRUE(t, use_frontend(t));
	EXPECT_NOT_NULL(t, rpmsg_char_find("rpmsg_ctrl0").get());
	EXPECT_NOT_NULL(t, rpmsg_char_find(ch->name()).get());
}

/* --- an echo through the remote (host and remote in one address space) --- */

constexpr const char *ECHO = "rpmsg-char-echo";

struct CharEcho : NonMovable {
	static Result<UniquePtr<CharEcho>> probe(RpmsgDevice &)
	{
		return make_unique<CharEcho>(GFP_KERNEL);
	}
	Result<void> on_message(RpmsgDevice &rpdev, Span<const u8> data, u32 src)
	{
		return trysendto(*rpdev.ept(), data, src);
	}
};
constinit RpmsgDriver s_char_echo{ driver_for<CharEcho>, "rpmsg_char_test_echo" };

void echo_through_the_remote(Test &t)
{
	PairConfig cfg;
	cfg.services[0] = { ECHO, "rpmsg_char_test_echo" };
	cfg.drivers[0] = &s_char_echo;
	RpmsgPair *p = make_pair(t, cfg);
	ASSERT_NOT_NULL(t, p);
	ASSERT_TRUE(t, use_frontend(t));
	/* The announcement makes a channel on the host (no driver there binds it). */
	RefPtr<RpmsgDevice> ch;
	ASSERT_TRUE(t, wait_for([&] {
			    ch = p->host_link()->find_channel(ECHO, RPMSG_ADDR_ANY);
			    return bool(ch);
		    }));
	RefPtr<RpmsgCharNode> ctrl = ctrl_of(*p->host_link());
	ASSERT_TRUE(t, ctrl);
	/* The host's channel node (published once the channel is registered) has its address. */
	RefPtr<RpmsgCharNode> chn;
	ASSERT_TRUE(t, wait_for([&] {
			    chn = rpmsg_char_find(ch->name());
			    return bool(chn);
		    }));
	char dst[16];
	(void)snprintf(dst, sizeof(dst), "%d", int(ch->dst()));
	EXPECT_STREQ(t, Attr(*chn, "dst").str(), dst);
	ASSERT_EQ(
		t,
		ctrl_ioctl(*ctrl, RPMSG_CREATE_EPT_IOCTL, "echo-client", RPMSG_ADDR_ANY, ch->dst()),
		0);
	RefPtr<RpmsgCharNode> ept = find_node(RpmsgCharKind::Ept, "name", "echo-client");
	ASSERT_TRUE(t, ept);
	ASSERT_OK(t, ept->open());
	u32 mtu = RPMSG_BUF_SIZE - RPMSG_HDR_SIZE;
	u8 *out = t.alloc_array<u8>(mtu);
	u8 *in = t.alloc_array<u8>(mtu + 1);
	ASSERT_TRUE(t, out && in);
	Poller poller;
	for (u32 len = 1; len <= mtu; len += 7) {
		for (u32 i = 0; i < len; i++)
			out[i] = u8(len + i);
		ASSERT_EQ(t, result_of(ept->write(out, len, false)), int(len));
		u32 mask = poller.wait(*ept, RPMSG_POLLIN);
		ASSERT_EQ(t, mask & RPMSG_POLLIN, RPMSG_POLLIN);
		ASSERT_EQ(t, result_of(ept->read(in, mtu + 1, true)), int(len));
		ASSERT_MEMEQ(t, in, out, len);
	}
	ASSERT_OK(t, ept->ioctl(RPMSG_DESTROY_EPT_IOCTL, 0));
	ept->close();
}

const TestCase rpmsg_char_cases[] = {
	KEEL_CASE(ctrl_node_per_link_numbered_like_linux),
	KEEL_CASE(create_ept_makes_a_node_opened_once),
	KEEL_CASE(read_returns_one_message_per_call_truncated),
	KEEL_CASE(read_blocks_until_a_message_arrives),
	KEEL_CASE(write_sends_one_message_up_to_the_mtu),
	KEEL_CASE(write_to_any_destination_is_einval),
	KEEL_CASE(write_without_tx_buffer_waits_or_is_eagain),
	KEEL_CASE(poll_reports_input_and_wakes_on_a_message),
	KEEL_CASE(bad_user_addresses_are_efault),
	KEEL_CASE(ioctls_answer_as_linux),
	KEEL_CASE(destroy_wakes_readers_and_fails_later_calls),
	KEEL_CASE(removed_node_keeps_its_number_until_released),
	KEEL_CASE(names_are_cut_like_linux),
	KEEL_CASE(rpmsg_raw_channel_gets_a_node_until_released),
	KEEL_CASE(unread_messages_are_bounded),
	KEEL_CASE(link_shutdown_under_open_files),
	KEEL_CASE(unregister_takes_every_node_down),
	KEEL_CASE(echo_through_the_remote),
	{},
};

const TestSuite rpmsg_char_suite = { .name = "rpmsg_char", .cases = rpmsg_char_cases };

} // namespace

KEEL_TEST_SUITE(rpmsg_char_suite);
