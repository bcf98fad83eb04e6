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

/**
 * struct NotifierBlock - one callback on a notifier chain (Linux notifier_block)
 * @notifier_call: the callback: called with the block, the chain's action
 *	and data; returns NOTIFY_DONE (not interested), NOTIFY_OK, or a value
 *	with NOTIFY_STOP_MASK (NOTIFY_STOP, NOTIFY_BAD) to end the call
 * @priority: higher runs first; equal priorities in registration order
 * @m_node: the chain's link, private to the chain
 *
 * Owned by the caller; it must stay alive while registered.
 */
struct NotifierBlock {
	int (*notifier_call)(NotifierBlock &nb, unsigned long action, void *data);
	int priority = 0;
	/* Private to the chain. */
	ListNode m_node{};
};

/**
 * class BlockingNotifierHead - a chain of callbacks that may sleep (Linux
 * blocking_notifier_head)
 *
 * Locking: the chain (m_chain) is guarded like an rw_semaphore built from
 * m_lock (a spinlock guarding the reader count, the writer flag and the
 * waiting writers) and m_wq (where both sides wait). call_chain() shares
 * it; (un)registration takes it exclusively and waits for running calls;
 * a waiting writer holds off new calls. A callback must not (un)register
 * on the chain that calls it.
 */
class BlockingNotifierHead : NonMovable {
public:
	/**
	 * BlockingNotifierHead() - an empty chain
	 *
	 * Context: any.
	 */
	BlockingNotifierHead() = default;
	~BlockingNotifierHead();

	/**
	 * register_notifier() - add @nb, in priority order
	 * @nb: the block, with its notifier_call set
	 *
	 * Waits for running calls of the chain.
	 *
	 * Context: may sleep; never from a callback of this chain.
	 * Return: 0; -EEXIST when @nb is already on a chain, -EINVAL without a
	 * callback.
	 */
	Result<void> register_notifier(NotifierBlock &nb)
		KEEL_EXPORT_AS(keel_blocking_notifier_register);
	/**
	 * unregister_notifier() - remove @nb
	 * @nb: a block on this chain
	 *
	 * Waits for running calls: once it returns, @nb is not called again
	 * and may be freed.
	 *
	 * Context: may sleep; never from a callback of this chain.
	 * Return: 0, or -ENOENT when @nb is not on this chain.
	 */
	Result<void> unregister_notifier(NotifierBlock &nb)
		KEEL_EXPORT_AS(keel_blocking_notifier_unregister);
	/**
	 * call_chain() - call every block with @action and @data, in order
	 * @action: what happened (the chain's owner defines the values)
	 * @data: passed to every callback
	 *
	 * Stops after a callback whose return value has NOTIFY_STOP_MASK.
	 *
	 * Context: may sleep (so may the callbacks).
	 * Return: the last callback's value, NOTIFY_DONE when none ran.
	 */
	int call_chain(unsigned long action, void *data);
	/**
	 * is_empty() - is no block registered?
	 *
	 * Context: may sleep.
	 * Return: true when the chain is empty.
	 */
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
