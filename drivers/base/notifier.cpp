// SPDX-License-Identifier: GPL-2.0
/*
 * Blocking notifier chains (kernel/notifier.c), guarded by a small
 * reader/writer semaphore built from a spinlock and a wait queue.
 */
#include <keel/log.h>
#include <keel/notifier.h>

namespace keel {

BlockingNotifierHead::~BlockingNotifierHead()
{
	/* Blocks still registered are a caller bug; unlink so the list's check passes. */
	while (NotifierBlock *nb = m_chain.pop_front())
		WARN_ON(nb);
}

void BlockingNotifierHead::down_read()
{
	might_sleep();
	m_wq.wait_event([this] {
		Guard g{ m_lock };
		if (m_writer || m_writers_waiting)
			return false;
		m_readers++;
		return true;
	});
}

void BlockingNotifierHead::up_read()
{
	Guard g{ m_lock };
	if (--m_readers == 0 && m_writers_waiting)
		m_wq.wake_up();
}

void BlockingNotifierHead::down_write()
{
	might_sleep();
	{
		Guard g{ m_lock };
		m_writers_waiting++;
	}
	m_wq.wait_event([this] {
		Guard g{ m_lock };
		if (m_writer || m_readers)
			return false;
		m_writer = true;
		m_writers_waiting--;
		return true;
	});
}

void BlockingNotifierHead::up_write()
{
	Guard g{ m_lock };
	m_writer = false;
	m_wq.wake_up();
}

Result<void> BlockingNotifierHead::register_notifier(NotifierBlock &nb)
{
	if (!nb.notifier_call)
		return err(-EINVAL);
	if (nb.m_node.is_linked())
		return err(-EEXIST);
	down_write();
	NotifierBlock *pos = nullptr;
	for (NotifierBlock &b : m_chain) {
		if (nb.priority > b.priority) {
			pos = &b;
			break;
		}
	}
	if (pos)
		m_chain.insert_before(*pos, nb);
	else
		m_chain.push_back(nb);
	up_write();
	return ok();
}

Result<void> BlockingNotifierHead::unregister_notifier(NotifierBlock &nb)
{
	down_write();
	bool found = false;
	for (NotifierBlock &b : m_chain) {
		if (&b == &nb) {
			found = true;
			break;
		}
	}
	if (found)
		m_chain.remove(nb);
	up_write();
	return found ? ok() : Result<void>(err(-ENOENT));
}

int BlockingNotifierHead::call_chain(unsigned long action, void *data)
{
	int ret = NOTIFY_DONE;
	down_read();
	for (NotifierBlock &nb : m_chain) {
		ret = nb.notifier_call(nb, action, data);
		if (ret & NOTIFY_STOP_MASK)
			break;
	}
	up_read();
	return ret;
}

bool BlockingNotifierHead::is_empty()
{
	down_read();
	bool empty = m_chain.is_empty();
	up_read();
	return empty;
}

} // namespace keel
