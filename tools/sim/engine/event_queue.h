/* SPDX-License-Identifier: GPL-2.0 */
/*
 * EventQueue - the simulator's events on their way from where they happen
 * (the remoteproc core's observer, bus notifiers, client drivers, their
 * receive callbacks) to the engine's main loop, which hands them to the
 * views in order. Bounded: when the loop falls behind, events are dropped
 * and counted, never waited for (a producer may be in atomic context).
 */
#ifndef TOOLS_SIM_ENGINE_EVENT_QUEUE_H
#define TOOLS_SIM_ENGINE_EVENT_QUEUE_H

#include <keel/atomic.h>

#include "../fifo.h"
#include "../sim_model.h"

namespace sim {

class EventQueue : keel::NonMovable {
public:
	static constexpr u32 SIZE = 1024;

	/* Context: any. */
	void push(const SimEvent &ev)
	{
		if (!m_ring.push(ev))
			m_dropped.fetch_add(1, keel::MemoryOrder::Relaxed);
	}
	/* The oldest event, false when none. Context: any. */
	bool pop(SimEvent *ev) { return m_ring.pop(ev); }
	u64 dropped() const { return m_dropped.load(keel::MemoryOrder::Relaxed); }

private:
	Fifo<SimEvent, SIZE> m_ring{ "sim_event_queue", KEEL_LOCK_KEY() };
	keel::Atomic<u64> m_dropped{ 0 };
};

} // namespace sim

#endif
