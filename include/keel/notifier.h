/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Blocking notifier chains (Linux include/linux/notifier.h): callbacks run in
 * process context, in priority order (highest first), and may sleep.
 *
 *	static int on_event(NotifierBlock &nb, unsigned long action, void *data);
 *	NotifierBlock m_nb{ .notifier_call = on_event };
 *
 * Registration and unregistration may race with notification: a chain is
 * guarded like Linux's rw_semaphore (callers of call_chain() share it,
 * (un)registration takes it exclusively and waits for running calls, and a
 * waiting writer holds off new calls). After unregister() returns, the block
 * is no longer called and may be freed.
 *
 * Context: a callback must not (un)register on the chain that calls it (it
 * would wait for itself), as with Linux.
 */
#ifndef KEEL_NOTIFIER_H
#define KEEL_NOTIFIER_H

#include <keel/error.h>
#include <keel/list.h>
#include <keel/spinlock.h>
#include <keel/wait.h>

namespace keel {

inline constexpr int NOTIFY_DONE = 0x0000;
inline constexpr int NOTIFY_OK = 0x0001;
inline constexpr int NOTIFY_STOP_MASK = 0x8000;
inline constexpr int NOTIFY_BAD = NOTIFY_STOP_MASK | 0x0002;
inline constexpr int NOTIFY_STOP = NOTIFY_OK | NOTIFY_STOP_MASK;

struct NotifierBlock {
	int (*notifier_call)(NotifierBlock &nb, unsigned long action, void *data);
	int priority = 0;
	/* Private to the chain. */
	ListNode m_node{};
};

class BlockingNotifierHead : NonMovable {
public:
	BlockingNotifierHead() = default;
	~BlockingNotifierHead();

	/* -EEXIST if @nb is already on a chain. Context: may sleep. */
	Result<void> register_notifier(NotifierBlock &nb)
		KEEL_EXPORT_AS(keel_blocking_notifier_register);
	/* -ENOENT if @nb is not on this chain. Context: may sleep. */
	Result<void> unregister_notifier(NotifierBlock &nb)
		KEEL_EXPORT_AS(keel_blocking_notifier_unregister);
	/*
	 * Calls every block with @action and @data until one returns a value
	 * with NOTIFY_STOP_MASK; returns the last value (NOTIFY_DONE if none).
	 * Context: may sleep.
	 */
	int call_chain(unsigned long action, void *data);
	bool is_empty();

private:
	void down_read();
	void up_read();
	void down_write();
	void up_write();

	SpinLock m_lock{ "notifier_lock", KEEL_LOCK_KEY() };
	u32 m_readers GUARDED_BY(m_lock) = 0;
	u32 m_writers_waiting GUARDED_BY(m_lock) = 0;
	bool m_writer GUARDED_BY(m_lock) = false;
	WaitQueue m_wq{ "notifier_wq", KEEL_LOCK_KEY() };
	/* Written only with m_writer set; read by readers (m_readers > 0). */
	List<NotifierBlock, &NotifierBlock::m_node> m_chain;
};

} // namespace keel

#endif
