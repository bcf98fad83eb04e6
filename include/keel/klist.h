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

class KListNode : NonMovable {
public:
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

class KList : NonMovable {
public:
	using GetPut = void (*)(KListNode &n);

	explicit KList(GetPut get = nullptr, GetPut put = nullptr) : m_get(get), m_put(put) {}

	void add_tail(KListNode &n);
	void add_head(KListNode &n);
	/* klist_del(): mark dead; unlinked (and put) when no iterator stands on it. */
	void del(KListNode &n);
	/* klist_remove(): del() and wait until unlinked. Context: may sleep. */
	void remove(KListNode &n);
	/* Linked and not dead. */
	bool node_attached(const KListNode &n);
	/* No live node (dead ones may still wait for their iterators). */
	bool is_empty_live();
	/* Nothing linked at all (for teardown). */
	bool is_empty();
	/* Waits until nothing at all is linked. Context: may sleep. */
	void wait_empty();
	/*
	 * The first/last live node with @get applied (the caller must then call
	 * put_node()), or nullptr. For "pop until empty" loops.
	 */
	KListNode *get_first_live();
	KListNode *get_last_live();
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

/*
 * KListIter: walks the live nodes; the node returned by next() stays linked
 * (and pinned by @get) until the following next() or the iterator's end.
 */
class KListIter : NonMovable {
public:
	/* Starts after @start (which must be linked in @k), or at the head. */
	explicit KListIter(KList &k, KListNode *start = nullptr);
	~KListIter() { exit(); }
	KListNode *next();
	void exit();

private:
	KList &m_klist;
	KListNode *m_cur = nullptr;
};

} // namespace keel

#endif
