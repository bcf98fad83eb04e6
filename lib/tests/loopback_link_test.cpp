// SPDX-License-Identifier: GPL-2.0
/*
 * LoopbackLink, the in-kernel link: ring() on one end delivers on the
 * other (directly, or from an IrqWork in interrupt context, where large
 * ids arrive as DOORBELL_ANY), a disabled end drops deliveries, and cut()
 * reports the peer gone and makes later rings fail.
 */
#include <keel/atomic.h>
#include <keel/loopback_link.h>
#include <keel/test.h>

using namespace keel;
using namespace keel::test;

namespace {

struct Sink {
	Atomic<u32> count{ 0 };
	Atomic<u32> last{ 0 };
	Atomic<u32> in_atomic{ 0 };
	Atomic<u32> downs{ 0 };
	static void on_ring(void *ctx, u32 id)
	{
		Sink *s = static_cast<Sink *>(ctx);
		if (keel_port_in_atomic())
			s->in_atomic.fetch_add(1);
		s->last.store(id);
		s->count.fetch_add(1);
	}
	static void on_down(void *ctx) { static_cast<Sink *>(ctx)->downs.fetch_add(1); }
	void attach(Doorbell &db)
	{
		db.set_handler(&on_ring, this);
		db.set_peer_down(&on_down, this);
		db.enable();
	}
};

void direct_ring_delivers_on_the_other_end(Test &t)
{
	LoopbackLink link(LoopbackLink::Mode::Direct);
	Sink sa, sb;
	sa.attach(link.a());
	sb.attach(link.b());
	ASSERT_OK(t, link.a().ring(5));
	EXPECT_EQ(t, sb.count.load(), 1u);
	EXPECT_EQ(t, sb.last.load(), 5u);
	EXPECT_EQ(t, sa.count.load(), 0u);
	ASSERT_OK(t, link.b().ring(200));
	EXPECT_EQ(t, sa.last.load(), 200u);
	EXPECT_EQ(t, link.b().delivered(), 1u);
	EXPECT_TRUE(t, link.a().peer_alive());
	link.a().disable();
	link.b().disable();
}

void deferred_ring_delivers_in_interrupt_context(Test &t)
{
	LoopbackLink link;
	Sink sb;
	sb.attach(link.b());
	ASSERT_OK(t, link.a().ring(3));
	link.flush();
	EXPECT_EQ(t, sb.count.load(), 1u);
	EXPECT_EQ(t, sb.last.load(), 3u);
	/* Delivered from an IrqWork: where a real interrupt handler would run. */
	EXPECT_EQ(t, sb.in_atomic.load(), 1u);
	/* Ids past 62 do not fit the pending mask: "look at everything". */
	ASSERT_OK(t, link.a().ring(200));
	link.flush();
	EXPECT_EQ(t, sb.count.load(), 2u);
	EXPECT_EQ(t, sb.last.load(), DOORBELL_ANY);
	link.b().disable();
}

void disabled_end_drops_deliveries(Test &t)
{
	LoopbackLink link(LoopbackLink::Mode::Direct);
	Sink sb;
	sb.attach(link.b());
	link.b().disable();
	ASSERT_OK(t, link.a().ring(1));
	EXPECT_EQ(t, sb.count.load(), 0u);
	EXPECT_EQ(t, link.b().delivered(), 0u);
}

void cut_reports_peer_down_and_fails_later_rings(Test &t)
{
	LoopbackLink link(LoopbackLink::Mode::Direct);
	Sink sa, sb;
	sa.attach(link.a());
	sb.attach(link.b());
	link.cut();
	EXPECT_EQ(t, sa.downs.load(), 1u);
	EXPECT_EQ(t, sb.downs.load(), 1u);
	EXPECT_FALSE(t, link.a().peer_alive());
	EXPECT_ERR(t, link.a().ring(0), -EPIPE);
	EXPECT_EQ(t, sb.count.load(), 0u);
	link.a().disable();
	link.b().disable();
}

const TestCase loopback_link_cases[] = {
	KEEL_CASE(direct_ring_delivers_on_the_other_end),
	KEEL_CASE(deferred_ring_delivers_in_interrupt_context),
	KEEL_CASE(disabled_end_drops_deliveries),
	KEEL_CASE(cut_reports_peer_down_and_fails_later_rings),
	{},
};

const TestSuite loopback_link_suite = { .name = "keel_loopback_link",
					.cases = loopback_link_cases };

} // namespace

KEEL_TEST_SUITE(loopback_link_suite);
