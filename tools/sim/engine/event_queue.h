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
#include <keel/spinlock.h>

#include "../sim_model.h"

namespace sim {

class EventQueue : keel::NonMovable {
public:
	static constexpr u32 SIZE = 1024;

	/* Context: any. */
	void push(const SimEvent &ev)
	{
		keel::Guard g{ m_lock };
		if (m_count == SIZE) {
			m_dropped.fetch_add(1, keel::MemoryOrder::Relaxed);
			return;
		}
		m_ring[(m_head + m_count) % SIZE] = ev;
		m_count++;
	}
	/* The oldest event, false when none. Context: any. */
	bool pop(SimEvent *ev)
	{
		keel::Guard g{ m_lock };
		if (m_count == 0)
			return false;
		*ev = m_ring[m_head];
		m_head = (m_head + 1) % SIZE;
		m_count--;
		return true;
	}
	u64 dropped() const { return m_dropped.load(keel::MemoryOrder::Relaxed); }

private:
	keel::SpinLock m_lock{ "sim_event_queue", KEEL_LOCK_KEY() };
	SimEvent m_ring[SIZE] GUARDED_BY(m_lock);
	u32 m_head GUARDED_BY(m_lock) = 0;
	u32 m_count GUARDED_BY(m_lock) = 0;
	keel::Atomic<u64> m_dropped{ 0 };
};

} // namespace sim

#endif
