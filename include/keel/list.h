/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Intrusive doubly linked list (Linux list_head, fbl DoublyLinkedList):
 *
 *	struct Ept { ListNode m_node; ... };
 *	List<Ept, &Ept::m_node> list;
 *
 * Inserting never allocates. A node asserts it is unlinked when destroyed.
 * Lists do not lock: the owner's lock guards them.
 */
#ifndef KEEL_LIST_H
#define KEEL_LIST_H

#include <keel/compiler.h>
#include <keel/port.h>
#include <keel/utility.h>

namespace keel {

class ListNode : NonMovable {
public:
	constexpr ListNode() : m_next(this), m_prev(this) {}
	~ListNode()
	{
		if (is_linked()) [[unlikely]]
			keel_port_bug(__FILE__, __LINE__, "ListNode destroyed while linked");
	}
	bool is_linked() const { return m_next != this; }

	/* list_del_init(): unlink; a no-op when not linked. */
	void unlink()
	{
		m_prev->m_next = m_next;
		m_next->m_prev = m_prev;
		m_next = m_prev = this;
	}

private:
	template <typename T, ListNode T::*> friend class List;
	friend class RawList;
	void insert_between(ListNode *prev, ListNode *next)
	{
		if (is_linked()) [[unlikely]]
			keel_port_bug(__FILE__, __LINE__, "ListNode inserted twice");
		m_next = next;
		m_prev = prev;
		prev->m_next = this;
		next->m_prev = this;
	}
	ListNode *m_next;
	ListNode *m_prev;
};

template <typename T, ListNode T::*Member> class List : NonMovable {
public:
	constexpr List() = default;
	~List()
	{
		if (!is_empty()) [[unlikely]]
			keel_port_bug(__FILE__, __LINE__, "List destroyed while not empty");
	}

	bool is_empty() const { return m_head.m_next == &m_head; }
	void push_back(T &obj) { node(obj).insert_between(m_head.m_prev, &m_head); }
	void push_front(T &obj) { node(obj).insert_between(&m_head, m_head.m_next); }
	/* Insert @obj before @pos. */
	void insert_before(T &pos, T &obj)
	{
		node(obj).insert_between(node(pos).m_prev, &node(pos));
	}
	void remove(T &obj) { node(obj).unlink(); }
	static bool contains_node(const T &obj) { return (obj.*Member).is_linked(); }

	T *first() const { return is_empty() ? nullptr : owner(m_head.m_next); }
	T *last() const { return is_empty() ? nullptr : owner(m_head.m_prev); }
	T *next(const T &obj) const
	{
		ListNode *n = (obj.*Member).m_next;
		return n == &m_head ? nullptr : owner(n);
	}
	T *prev(const T &obj) const
	{
		ListNode *n = (obj.*Member).m_prev;
		return n == &m_head ? nullptr : owner(n);
	}
	T *pop_front()
	{
		T *obj = first();
		if (obj)
			remove(*obj);
		return obj;
	}
	size_t size_slow() const
	{
		size_t n = 0;
		for (const ListNode *p = m_head.m_next; p != &m_head; p = p->m_next)
			n++;
		return n;
	}

	/* Iteration; removing the current element is allowed (list_for_each_entry_safe). */
	class Iterator {
	public:
		Iterator(ListNode *n, const ListNode *head)
		    : m_n(n), m_next(n->m_next), m_head(head)
		{
		}
		T &operator*() const { return *owner(m_n); }
		T *operator->() const { return owner(m_n); }
		Iterator &operator++()
		{
			m_n = m_next;
			m_next = m_n->m_next;
			return *this;
		}
		bool operator!=(const Iterator &o) const { return m_n != o.m_n; }

	private:
		ListNode *m_n;
		ListNode *m_next;
		const ListNode *m_head;
	};
	Iterator begin() { return Iterator(m_head.m_next, &m_head); }
	Iterator end() { return Iterator(&m_head, &m_head); }

private:
	static ListNode &node(T &obj) { return obj.*Member; }
	static T *owner(const ListNode *n)
	{
		return container_of(const_cast<ListNode *>(n), Member);
	}
	ListNode m_head;
};

} // namespace keel

#endif
