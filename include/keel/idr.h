/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Idr: integer ids mapped to pointers, allocated in a range (Linux idr /
 * ida). The rpmsg core uses it for endpoint addresses (dynamic ones from
 * 1024 up; fixed ones below, e.g. the name service at 53).
 *
 * Not locked: the owner's lock guards it. Allocation may need memory: either
 * pass GFP_ATOMIC under a spinlock, or preload() outside it (idr_preload),
 * after which one alloc needs no memory.
 *
 * The implementation is the framework's own on every port, so both ports
 * allocate identical ids: a radix tree of 64-way nodes (Linux's xarray
 * shape). Each node keeps a bitmap of full slots, so the lowest free id is
 * found in O(depth x 64) bit operations, and memory follows the ids in use:
 * one id at 1024 costs two nodes, not a 1024-entry table.
 */
#ifndef KEEL_IDR_H
#define KEEL_IDR_H

#include <keel/alloc.h>

namespace keel {

/**
 * class Idr - an id allocator mapping ids to pointers (Linux struct idr)
 * @ID_MAX: the largest id (ids are non-negative ints, as in Linux)
 *
 * Not locked: the owner's lock guards it (every method, even the const
 * ones, needs that lock or another way to exclude writers). The destructor
 * frees what is left (destroy()).
 */
class Idr : NonMovable {
public:
	/**
	 * Idr() - an empty allocator; allocates nothing until the first id
	 *
	 * Context: any (constexpr).
	 */
	constexpr Idr() = default;
	~Idr();

	/**
	 * alloc() - allocate the lowest free id in a range (Linux idr_alloc())
	 * @ptr: what the id maps to; not nullptr
	 * @start: the lowest id wanted
	 * @end: one past the highest id wanted; 0 for up to ID_MAX
	 * @gfp: context of the node allocations (none when preload() ran)
	 *
	 * Context: may sleep with GFP_KERNEL; any with GFP_ATOMIC.
	 * Return: the id; -ENOSPC when every id of the range is taken, -EINVAL
	 * for a null @ptr or an empty or out-of-range range, -ENOMEM.
	 */
	Result<u32> alloc(void *ptr, u32 start, u32 end, Gfp gfp);
	/**
	 * alloc_exact() - allocate exactly @id
	 * @ptr: what the id maps to; not nullptr
	 * @id: the id (a fixed address such as the name service's 53)
	 * @gfp: context of the node allocations
	 *
	 * Context: may sleep with GFP_KERNEL; any with GFP_ATOMIC.
	 * Return: 0; -EBUSY when @id is taken, -EINVAL for a null @ptr or @id
	 * above ID_MAX, -ENOMEM.
	 */
	Result<void> alloc_exact(void *ptr, u32 id, Gfp gfp);
	/**
	 * alloc_cyclic() - allocate the next free id after the last one given
	 * @ptr: what the id maps to; not nullptr
	 * @start: the lowest id of the range
	 * @end: one past the highest; 0 for up to ID_MAX
	 * @gfp: context of the node allocations
	 *
	 * Searches from the id after the last cyclic allocation and wraps to
	 * @start (Linux idr_alloc_cyclic()): ids are not reused soon.
	 *
	 * Context: may sleep with GFP_KERNEL; any with GFP_ATOMIC.
	 * Return: the id; -ENOSPC, -EINVAL, -ENOMEM as for alloc().
	 */
	Result<u32> alloc_cyclic(void *ptr, u32 start, u32 end, Gfp gfp);
	/**
	 * remove() - free @id (Linux idr_remove())
	 * @id: the id
	 *
	 * Frees the nodes that become empty.
	 *
	 * Context: any.
	 * Return: the pointer @id mapped to, or nullptr when it was free.
	 */
	void *remove(u32 id);
	/**
	 * find() - the pointer @id maps to (Linux idr_find())
	 * @id: the id
	 *
	 * Context: any.
	 * Return: the pointer, or nullptr when @id is free.
	 */
	void *find(u32 id) const;
	/**
	 * replace() - map an allocated @id to another pointer (Linux idr_replace())
	 * @ptr: the new pointer; not nullptr
	 * @id: the id
	 *
	 * Context: any (never allocates).
	 * Return: the old pointer; -ENOENT when @id is free, -EINVAL for a null
	 * @ptr.
	 */
	Result<void *> replace(void *ptr, u32 id);
	/**
	 * for_each() - call @fn(id, ptr) for every id, in increasing order
	 * @fn: returns false to stop early; it may remove the current id (no
	 *	other)
	 *
	 * Context: any (@fn permitting).
	 */
	template <typename F> void for_each(F fn) const
	{
		u32 id = 0;
		void *ptr;
		while (next_entry(&id, &ptr)) {
			if (!fn(id, ptr) || id == ID_MAX)
				return;
			id++;
		}
	}
	/**
	 * next_entry() - the lowest allocated id at or above *@id (Linux
	 * idr_get_next())
	 * @id: in: where to start; out: the id found
	 * @ptr: out: its pointer
	 *
	 * Context: any.
	 * Return: true when one was found, false when none is left.
	 */
	bool next_entry(u32 *id, void **ptr) const;
	/**
	 * is_empty() - is no id allocated?
	 *
	 * Context: any.
	 * Return: true when empty.
	 */
	bool is_empty() const { return m_count == 0; }
	/**
	 * count() - the number of ids allocated
	 *
	 * Context: any.
	 * Return: the count.
	 */
	u32 count() const { return m_count; }
	/**
	 * preload() - reserve memory for one later allocation (Linux idr_preload())
	 * @max_id: the next alloc will be of an id below this (0: any id)
	 * @gfp: the context of this reservation
	 *
	 * The next alloc*() of an id below @max_id then needs no memory: call
	 * this with GFP_KERNEL before taking a spinlock, allocate under it.
	 * The reservation is kept until used or destroy().
	 *
	 * Context: may sleep with GFP_KERNEL; any with GFP_ATOMIC.
	 * Return: 0, or -ENOMEM.
	 */
	Result<void> preload(u32 max_id, Gfp gfp);
	/**
	 * destroy() - free every id and all memory (Linux idr_destroy())
	 *
	 * The pointers are not touched: free their objects first.
	 *
	 * Context: any.
	 */
	void destroy();

	/* Ids are non-negative ints, as in Linux. */
	static constexpr u32 ID_MAX = 0x7fffffffu;

private:
	struct Node;
	static bool free_in(const Node *n, u32 level, u64 base, u64 start, u64 *out);
	static bool next_in(const Node *n, u32 level, u64 base, u64 start, u64 *out, void **ptr);
	static void free_subtree(Node *n, u32 level);
	bool find_free(u32 start, u32 *id) const;
	Node *new_node(Gfp gfp);
	Node *take_spare();
	Result<void> insert(u32 id, void *ptr, Gfp gfp);
	void prune(u32 id, bool clear, void **old);
	void shrink();
	Result<u32> alloc_range(void *ptr, u32 start, u32 end, Gfp gfp);

	Node *m_root = nullptr;
	u32 m_height = 0; /* levels below and including the root; 0: empty */
	u32 m_count = 0;
	u32 m_next = 0; /* cyclic cursor */
	u32 m_nr_spare = 0;
	Node *m_spare = nullptr; /* preloaded nodes, chained through slot 0 */
};

} // namespace keel

#endif
