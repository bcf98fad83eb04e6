// SPDX-License-Identifier: GPL-2.0
/*
 * KList: lists walkable while nodes are added and deleted (lib/klist.c).
 */
#include <keel/klist.h>
#include <keel/log.h>

namespace keel {

void KList::add(KListNode &n, bool tail)
{
	if (m_get)
		m_get(n);
	Guard g{ m_lock };
	n.m_klist = this;
	n.m_refs = 1;
	n.m_dead = false;
	if (tail)
		m_list.push_back(n);
	else
		m_list.push_front(n);
}

void KList::add_tail(KListNode &n)
{
	add(n, true);
}
void KList::add_head(KListNode &n)
{
	add(n, false);
}

bool KList::dec_and_unlink(KListNode &n)
{
	if (WARN_ON(n.m_refs == 0))
		return false;
	if (--n.m_refs)
		return false;
	m_list.remove(n);
	/*
	 * Wake under the lock: a waiter checks under it too, so it cannot see
	 * the list empty and free it before this wake-up returns.
	 */
	m_wq.wake_up();
	return true;
}

/* After dropping the lock: only @put (read before) may be touched, not the list. */
static void after_unlink(KList::GetPut put, KListNode &n)
{
	if (put)
		put(n);
}

void KList::del(KListNode &n)
{
	bool unlinked = false;
	GetPut put = m_put;
	{
		Guard g{ m_lock };
		if (n.m_klist != this || n.m_dead) {
			WARN_ON(n.m_klist != this);
			return;
		}
		n.m_dead = true;
		unlinked = dec_and_unlink(n);
	}
	if (unlinked)
		after_unlink(put, n);
}

void KList::remove(KListNode &n)
{
	might_sleep();
	del(n);
	m_wq.wait_event([&] {
		Guard g{ m_lock };
		return !m_list.contains_node(n);
	});
}

bool KList::node_attached(const KListNode &n)
{
	Guard g{ m_lock };
	return m_list.contains_node(n) && !n.m_dead;
}

bool KList::is_empty_live()
{
	Guard g{ m_lock };
	for (KListNode &n : m_list)
		if (!n.m_dead)
			return false;
	return true;
}

bool KList::is_empty()
{
	Guard g{ m_lock };
	return m_list.is_empty();
}

void KList::wait_empty()
{
	m_wq.wait_event([this] { return is_empty(); });
}

KListNode *KList::get_first_live()
{
	KListNode *found = nullptr;
	{
		Guard g{ m_lock };
		for (KListNode &n : m_list) {
			if (!n.m_dead) {
				found = &n;
				found->m_refs++;
				break;
			}
		}
	}
	return found;
}

KListNode *KList::get_last_live()
{
	Guard g{ m_lock };
	for (KListNode *n = m_list.last(); n; n = m_list.prev(*n)) {
		if (!n->m_dead) {
			n->m_refs++;
			return n;
		}
	}
	return nullptr;
}

void KList::put_node(KListNode &n)
{
	bool unlinked;
	GetPut put = m_put;
	{
		Guard g{ m_lock };
		unlinked = dec_and_unlink(n);
	}
	if (unlinked)
		after_unlink(put, n);
}

KListIter::KListIter(KList &k, KListNode *start) : m_klist(k)
{
	if (!start)
		return;
	Guard g{ k.m_lock };
	if (k.m_list.contains_node(*start) && start->m_klist == &k) {
		start->m_refs++;
		m_cur = start;
	}
}

KListNode *KListIter::next()
{
	KListNode *last = m_cur;
	KListNode *next;
	bool unlinked = false;
	KList::GetPut put = m_klist.m_put;
	{
		Guard g{ m_klist.m_lock };
		/* @last is pinned by our count: it is still linked, even if dead. */
		next = last ? m_klist.m_list.next(*last) : m_klist.m_list.first();
		if (last)
			unlinked = m_klist.dec_and_unlink(*last);
		while (next && next->m_dead)
			next = m_klist.m_list.next(*next);
		if (next)
			next->m_refs++;
		m_cur = next;
	}
	if (unlinked)
		after_unlink(put, *last);
	return next;
}

void KListIter::exit()
{
	if (KListNode *cur = exchange(m_cur, nullptr))
		m_klist.put_node(*cur);
}

} // namespace keel
