// SPDX-License-Identifier: GPL-2.0
#include <keel/atomic.h>
#include <keel/irq_work.h>
#include <keel/test.h>

using namespace keel;
using namespace keel::test;

namespace {

struct Probe {
	IrqWork work{ &Probe::run };
	Atomic<u32> runs{ 0 };
	Atomic<u32> atomic_runs{ 0 };
	u32 requeue_until = 0;

	static void run(IrqWork &w)
	{
		Probe *p = container_of(&w, &Probe::work);
		if (keel_port_in_atomic())
			p->atomic_runs.fetch_add(1);
		u32 n = p->runs.add_return(1);
		if (n < p->requeue_until)
			p->work.queue();
	}
};

void irq_work_runs_in_atomic_context(Test &t)
{
	Probe p;
	EXPECT_TRUE(t, p.work.queue());
	p.work.sync();
	EXPECT_EQ(t, p.runs.load(), 1u);
	/* The handler ran where sleeping is forbidden, as in a hard IRQ. */
	EXPECT_EQ(t, p.atomic_runs.load(), 1u);
}

void irq_work_requeued_from_handler_runs_again(Test &t)
{
	Probe p;
	p.requeue_until = 3;
	EXPECT_TRUE(t, p.work.queue());
	/* sync() waits for the re-queued runs too (busy until the last returns). */
	p.work.sync();
	EXPECT_EQ(t, p.runs.load(), 3u);
}

void irq_work_can_be_queued_again_after_sync(Test &t)
{
	Probe p;
	for (u32 i = 1; i <= 20; i++) {
		EXPECT_TRUE(t, p.work.queue());
		p.work.sync();
		ASSERT_EQ(t, p.runs.load(), i);
	}
}

/*
 * Queueing an item that is already pending is a no-op. Checked where the
 * item is known to be pending and unable to run: inside its own handler,
 * after the first re-queue (the handler runs in interrupt context, so the
 * item cannot run again until it returns, on either port). Of 1000
 * queue() calls there, exactly one succeeds, and the item runs exactly
 * once more: a queue() that did not coalesce would return true again, or
 * run the item again.
 */
struct Coalescer {
	IrqWork work{ &Coalescer::run };
	Atomic<u32> runs{ 0 };
	Atomic<u32> queued_inside{ 0 };

	static void run(IrqWork &w)
	{
		Coalescer *c = container_of(&w, &Coalescer::work);
		if (c->runs.add_return(1) != 1)
			return;
		u32 queued = 0;
		for (u32 i = 0; i < 1000; i++)
			queued += c->work.queue();
		c->queued_inside.store(queued);
	}
};

void irq_work_coalesces_queueing_while_pending(Test &t)
{
	Coalescer c;
	EXPECT_TRUE(t, c.work.queue());
	c.work.sync();
	EXPECT_EQ(t, c.queued_inside.load(), 1u);
	EXPECT_EQ(t, c.runs.load(), 2u);
}

const TestCase irq_work_cases[] = {
	KEEL_CASE(irq_work_runs_in_atomic_context),
	KEEL_CASE(irq_work_requeued_from_handler_runs_again),
	KEEL_CASE(irq_work_can_be_queued_again_after_sync),
	KEEL_CASE(irq_work_coalesces_queueing_while_pending),
	{},
};

const TestSuite irq_work_suite = { .name = "keel_irq_work", .cases = irq_work_cases };

} // namespace

KEEL_TEST_SUITE(irq_work_suite);
