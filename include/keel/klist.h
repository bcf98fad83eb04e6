/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KList: a list that can be walked while its elements come and go (Linux
 * lib/klist.c). Each node carries a count of the iterators standing on it
 * plus one for the list itself. Deleting a node marks it dead; it is unlinked
 * when the last iterator steps off it, so an iterator always has a valid
 * successor. Iterators skip dead nodes.
 *
 * The optional @get/@put callbacks pin the object containing a node while it
 * is linked (the driver core takes a device reference). @put is called
 * without the list's lock held, so it may release the object.
 *
 * Locking: one spinlock per list guards its links and every node's count and
 * dead flag. No callback runs with it held.
 */
#ifndef KEEL_KLIST_H
#define KEEL_KLIST_H

#include <keel/list.h>
#include <keel/spinlock.h>
#include <keel/wait.h>

namespace keel {

class KList;

/**
 * class KListNode - the links an object embeds to sit on a KList
 *
 * Opaque to its user: only KList and KListIter touch it, under the list's
 * lock (its m_klist->m_lock guards m_klist, m_refs and m_dead).
 */
class KListNode : NonMovable {
public:
	/**
	 * KListNode() - a node on no list
	 *
	 * Context: any (constexpr).
	 */
	constexpr KListNode() = default;

private:
	friend class KList;
	friend class KListIter;
	ListNode m_node;
	/* All guarded by m_klist->m_lock. */
	KList *m_klist = nullptr;
	u32 m_refs = 0;
	bool m_dead = false;
};

/**
 * class KList - a list walkable while nodes come and go (Linux struct klist)
 * @GetPut: the type of the pin callbacks: called with a node whose object
 *	they pin (get) or unpin (put)
 *
 * Locking: m_lock (a spinlock) guards the links (m_list) and every node's
 * count and dead flag; m_wq is woken whenever a node is unlinked. No
 * callback runs with m_lock held, so @put may release the object.
 */
class KList : NonMovable {
public:
	using GetPut = void (*)(KListNode &n);

	/**
	 * KList() - an empty list
	 * @get: pins a node's object when it is added (nullptr: nothing)
	 * @put: unpins it once the node is unlinked; may release the object
	 *
	 * Context: any.
	 */
	explicit KList(GetPut get = nullptr, GetPut put = nullptr) : m_get(get), m_put(put) {}

	/**
	 * add_tail() - append @n (Linux klist_add_tail())
	 * @n: a node on no list
	 *
	 * Calls @get first, without the lock.
	 *
	 * Context: any (@get permitting).
	 */
	void add_tail(KListNode &n);
	/**
	 * add_head() - prepend @n (Linux klist_add_head())
	 * @n: a node on no list
	 *
	 * Context: any (@get permitting).
	 */
	void add_head(KListNode &n);
	/**
	 * del() - mark @n dead (Linux klist_del())
	 * @n: a live node of this list (another list's, or a dead one, warns)
	 *
	 * Iterators skip it from now on; it is unlinked, and @put called, when
	 * the last iterator standing on it moves on, which may be right now.
	 *
	 * Context: any (@put permitting).
	 */
	void del(KListNode &n);
	/**
	 * remove() - del() @n and wait until it is unlinked (Linux klist_remove())
	 * @n: a live node of this list
	 *
	 * Context: may sleep.
	 */
	void remove(KListNode &n);
	/**
	 * node_attached() - is @n on this list and not dead?
	 * @n: the node
	 *
	 * Context: any.
	 * Return: true when linked here and live.
	 */
	bool node_attached(const KListNode &n);
	/**
	 * is_empty_live() - does the list hold no live node?
	 *
	 * Dead nodes may still be linked, waiting for their iterators.
	 *
	 * Context: any.
	 * Return: true when every linked node is dead (or none is linked).
	 */
	bool is_empty_live();
	/**
	 * is_empty() - is nothing linked at all? (for teardown)
	 *
	 * Context: any.
	 * Return: true when no node, live or dead, is linked.
	 */
	bool is_empty();
	/**
	 * wait_empty() - wait until nothing at all is linked
	 *
	 * Context: may sleep.
	 */
	void wait_empty();
	/**
	 * get_first_live() - the first live node, pinned
	 *
	 * For "take the first until empty" loops. The node's count is raised:
	 * it stays linked (and its object keeps the list's pin) until the
	 * caller's put_node().
	 *
	 * Context: any.
	 * Return: the node, or nullptr when no live node is left.
	 */
	KListNode *get_first_live();
	/**
	 * get_last_live() - the last live node, pinned as by get_first_live()
	 *
	 * Context: any.
	 * Return: the node, or nullptr.
	 */
	KListNode *get_last_live();
	/**
	 * put_node() - drop the pin of get_first_live() or get_last_live()
	 * @n: the node
	 *
	 * Unlinks a node that was deleted meanwhile, calling @put.
	 *
	 * Context: any (@put permitting).
	 */
	void put_node(KListNode &n);

private:
	friend class KListIter;
	void add(KListNode &n, bool tail);
	/* Drops one count; true when this unlinked the node (caller calls m_put). */
	bool dec_and_unlink(KListNode &n) REQUIRES(m_lock);

	SpinLock m_lock{ "klist_lock", KEEL_LOCK_KEY() };
	List<KListNode, &KListNode::m_node> m_list GUARDED_BY(m_lock);
	GetPut m_get;
	GetPut m_put;
	WaitQueue m_wq{ "klist_remove", KEEL_LOCK_KEY() };
};

/**
 * class KListIter - a walk over a KList's live nodes (Linux klist_iter)
 *
 * The node next() returned stays linked, pinned by the iterator's count,
 * until the following next() or exit(); it may be deleted meanwhile, and
 * the walk still continues from it. The destructor calls exit().
 */
class KListIter : NonMovable {
public:
	/**
	 * KListIter() - a walk over @k (Linux klist_iter_init_node())
	 * @k: the list
	 * @start: start after this node (if it is still linked in @k), or
	 *	nullptr for the head
	 *
	 * Context: any.
	 */
	explicit KListIter(KList &k, KListNode *start = nullptr);
	~KListIter() { exit(); }
	/**
	 * next() - step to the next live node (Linux klist_next())
	 *
	 * Drops the pin on the previous node (which may unlink it and call the
	 * list's @put) and pins the new one.
	 *
	 * Context: any (@put permitting).
	 * Return: the node, or nullptr at the end.
	 */
	KListNode *next();
	/**
	 * exit() - end the walk early, dropping the current pin
	 *
	 * Context: any (@put permitting).
	 */
	void exit();

private:
	KList &m_klist;
	KListNode *m_cur = nullptr;
};

} // namespace keel

#endif
