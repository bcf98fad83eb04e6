/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CmdQueue - the firmware services' command queue: a bounded FIFO that
 * the endpoint callback (atomic context) fills and process context (a
 * work item, a thread) empties, in order, under a spinlock of its own.
 */
#ifndef TOOLS_SIM_FIRMWARE_CMD_QUEUE_H
#define TOOLS_SIM_FIRMWARE_CMD_QUEUE_H

#include <keel/spinlock.h>
#include <keel/types.h>

namespace sim::fw {

template <typename T, u32 N> class CmdQueue : keel::NonMovable {
public:
	/* @name, @key: the lock's lockdep class (KEEL_LOCK_KEY() of the owner's site). */
	CmdQueue(const char *name, keel_lock_key *key) : m_lock(name, key) {}

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

} // namespace sim::fw

#endif
