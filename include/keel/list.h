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

/**
 * class ListNode - the links an object embeds to sit on a List (list_head)
 *
 * Not movable: its address is what the neighbours point at. Destroying a
 * node that is still linked, or inserting one twice, is a bug
 * (keel_port_bug()). Not locked: the list's owner locks.
 *
 * Invariants: unlinked, it points at itself both ways.
 */
class ListNode : NonMovable {
public:
	/**
	 * ListNode() - an unlinked node
	 *
	 * Context: any (constexpr: usable in constinit objects).
	 */
	constexpr ListNode() : m_next(this), m_prev(this) {}
	~ListNode()
	{
		if (is_linked()) [[unlikely]]
			keel_port_bug(__FILE__, __LINE__, "ListNode destroyed while linked");
	}
	/**
	 * is_linked() - is the node on a list?
	 *
	 * Context: any; the list's lock held for a stable answer.
	 * Return: true when linked.
	 */
	bool is_linked() const { return m_next != this; }

	/**
	 * unlink() - take the node off its list (Linux list_del_init())
	 *
	 * A no-op when not linked; the node can be inserted again afterwards.
	 *
	 * Context: any; the list's lock held.
	 */
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

/**
 * class List - an intrusive doubly linked list of T (Linux list_head, fbl)
 *
 * Links the objects through their ListNode @Member; inserting never
 * allocates. The list does not own its objects and does not lock: the
 * owner's lock guards it (say which in the owner's doc). It must be empty
 * when destroyed (keel_port_bug() otherwise).
 */
template <typename T, ListNode T::*Member> class List : NonMovable {
public:
	/**
	 * List() - an empty list
	 *
	 * Context: any (constexpr: usable in constinit objects).
	 */
	constexpr List() = default;
	~List()
	{
		if (!is_empty()) [[unlikely]]
			keel_port_bug(__FILE__, __LINE__, "List destroyed while not empty");
	}

	/**
	 * is_empty() - does the list hold no object?
	 *
	 * Context: any; the owner's lock held.
	 * Return: true when empty.
	 */
	bool is_empty() const { return m_head.m_next == &m_head; }
	/**
	 * push_back() - append @obj (Linux list_add_tail())
	 * @obj: an object whose node is not linked
	 *
	 * Context: any; the owner's lock held.
	 */
	void push_back(T &obj) { node(obj).insert_between(m_head.m_prev, &m_head); }
	/**
	 * push_front() - prepend @obj (Linux list_add())
	 * @obj: an object whose node is not linked
	 *
	 * Context: any; the owner's lock held.
	 */
	void push_front(T &obj) { node(obj).insert_between(&m_head, m_head.m_next); }
	/**
	 * insert_before() - insert @obj before @pos
	 * @pos: an object on this list
	 * @obj: an object whose node is not linked
	 *
	 * Context: any; the owner's lock held.
	 */
	void insert_before(T &pos, T &obj)
	{
		node(obj).insert_between(node(pos).m_prev, &node(pos));
	}
	/**
	 * remove() - take @obj off the list (a no-op when it is not linked)
	 * @obj: an object on this list
	 *
	 * Context: any; the owner's lock held.
	 */
	void remove(T &obj) { node(obj).unlink(); }
	/**
	 * contains_node() - is @obj on a list (of this type)?
	 * @obj: the object
	 *
	 * Context: any; the owner's lock held.
	 * Return: true when its node is linked.
	 */
	static bool contains_node(const T &obj) { return (obj.*Member).is_linked(); }

	/**
	 * first() - the first object
	 *
	 * Context: any; the owner's lock held.
	 * Return: the object, or nullptr when empty.
	 */
	T *first() const { return is_empty() ? nullptr : owner(m_head.m_next); }
	/**
	 * last() - the last object
	 *
	 * Context: any; the owner's lock held.
	 * Return: the object, or nullptr when empty.
	 */
	T *last() const { return is_empty() ? nullptr : owner(m_head.m_prev); }
	/**
	 * next() - the object after @obj
	 * @obj: an object on this list
	 *
	 * Context: any; the owner's lock held.
	 * Return: the next object, or nullptr at the end.
	 */
	T *next(const T &obj) const
	{
		ListNode *n = (obj.*Member).m_next;
		return n == &m_head ? nullptr : owner(n);
	}
	/**
	 * prev() - the object before @obj
	 * @obj: an object on this list
	 *
	 * Context: any; the owner's lock held.
	 * Return: the previous object, or nullptr at the start.
	 */
	T *prev(const T &obj) const
	{
		ListNode *n = (obj.*Member).m_prev;
		return n == &m_head ? nullptr : owner(n);
	}
	/**
	 * pop_front() - take the first object off the list
	 *
	 * Context: any; the owner's lock held.
	 * Return: the object, or nullptr when empty.
	 */
	T *pop_front()
	{
		T *obj = first();
		if (obj)
			remove(*obj);
		return obj;
	}
	/**
	 * size_slow() - count the objects by walking the list
	 *
	 * Linear: for tests and assertions, not for hot paths.
	 *
	 * Context: any; the owner's lock held.
	 * Return: the count.
	 */
	size_t size_slow() const
	{
		size_t n = 0;
		for (const ListNode *p = m_head.m_next; p != &m_head; p = p->m_next)
			n++;
		return n;
	}

	/**
	 * class Iterator - a range-for position on a List
	 *
	 * Reads the successor before the current object is used, so removing
	 * the current object is allowed (Linux list_for_each_entry_safe());
	 * removing another one is not.
	 */
	class Iterator {
	public:
		/**
		 * Iterator() - a position at node @n of the list headed by @head
		 * @n: the current node (@head itself for end())
		 * @head: the list's head node
		 *
		 * Context: any; the owner's lock held while iterating.
		 */
		Iterator(ListNode *n, const ListNode *head)
		    : m_n(n), m_next(n->m_next), m_head(head)
		{
		}
		/**
		 * operator*() - the current object
		 *
		 * Context: any.
		 * Return: a reference to it.
		 */
		T &operator*() const { return *owner(m_n); }
		/**
		 * operator->() - the current object's members
		 *
		 * Context: any.
		 * Return: the object.
		 */
		T *operator->() const { return owner(m_n); }
		/**
		 * operator++() - step to the successor read beforehand
		 *
		 * Context: any.
		 * Return: this iterator.
		 */
		Iterator &operator++()
		{
			m_n = m_next;
			m_next = m_n->m_next;
			return *this;
		}
		/**
		 * operator!=() - are the positions different?
		 * @o: the other iterator (usually end())
		 *
		 * Context: any.
		 * Return: true when they point at different nodes.
		 */
		bool operator!=(const Iterator &o) const { return m_n != o.m_n; }

	private:
		ListNode *m_n;
		ListNode *m_next;
		const ListNode *m_head;
	};
	/**
	 * begin() - the position of the first object, for range-for
	 *
	 * Context: any; the owner's lock held while iterating.
	 * Return: the iterator.
	 */
	Iterator begin() { return Iterator(m_head.m_next, &m_head); }
	/**
	 * end() - the position past the last object
	 *
	 * Context: any.
	 * Return: the iterator.
	 */
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
