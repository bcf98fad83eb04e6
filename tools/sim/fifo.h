/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fifo - a bounded FIFO under a spinlock of its own, for what atomic
 * context hands to process context in order: the host's events on their
 * way to the engine's loop, the firmware services' commands on their way
 * from the endpoint callback to a work item or a thread. A full one
 * refuses, never waits.
 */
#ifndef TOOLS_SIM_FIFO_H
#define TOOLS_SIM_FIFO_H

#include <keel/spinlock.h>
#include <keel/types.h>

namespace sim {

template <typename T, u32 N> class Fifo : keel::NonMovable {
public:
	/* @name, @key: the lock's lockdep class (KEEL_LOCK_KEY() at the owner's member). */
	Fifo(const char *name, keel_lock_key *key) : m_lock(name, key) {}

	/* Context: any. Return: false when the queue is full (@c dropped). */
	bool push(const T &c)
	{
		keel::Guard g{ m_lock };
		if (m_count == N)
			return false;
		m_items[(m_head + m_count) % N] = c;
		m_count++;
		return true;
	}
	/* Context: any. Return: false when the queue is empty. */
	bool pop(T *c)
	{
		keel::Guard g{ m_lock };
		if (m_count == 0)
			return false;
		*c = m_items[m_head];
		m_head = (m_head + 1) % N;
		m_count--;
		return true;
	}
	/* Context: any. */
	bool empty()
	{
		keel::Guard g{ m_lock };
		return m_count == 0;
	}

private:
	keel::SpinLock m_lock;
	T m_items[N] GUARDED_BY(m_lock);
	u32 m_head GUARDED_BY(m_lock) = 0;
	u32 m_count GUARDED_BY(m_lock) = 0;
};

} // namespace sim

#endif
