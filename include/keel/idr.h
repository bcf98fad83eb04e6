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

class Idr : NonMovable {
public:
	constexpr Idr() = default;
	~Idr();

	/*
	 * Allocates the lowest free id in [@start, @end) (@end == 0: up to
	 * INT_MAX) for @ptr (not nullptr). -ENOSPC when the range is full,
	 * -ENOMEM, -EINVAL for a bad range.
	 */
	Result<u32> alloc(void *ptr, u32 start, u32 end, Gfp gfp);
	/* Allocates exactly @id; -EBUSY if taken. */
	Result<void> alloc_exact(void *ptr, u32 id, Gfp gfp);
	/* Cyclic allocation: next id after the last allocated, wrapping in the range. */
	Result<u32> alloc_cyclic(void *ptr, u32 start, u32 end, Gfp gfp);
	/* Returns the pointer that was stored, nullptr if @id was free. */
	void *remove(u32 id);
	void *find(u32 id) const;
	/* Replaces the pointer at an allocated @id; -ENOENT if free. */
	Result<void *> replace(void *ptr, u32 id);
	/*
	 * Calls @fn(id, ptr) in id order; stop early by returning false. @fn
	 * may remove the current id (and no other).
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
	/* The lowest allocated id >= *@id and its pointer; false if none. */
	bool next_entry(u32 *id, void **ptr) const;
	bool is_empty() const { return m_count == 0; }
	u32 count() const { return m_count; }
	/* Reserve room so that the next alloc of an id below @max_id needs no memory. */
	Result<void> preload(u32 max_id, Gfp gfp);
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
