// SPDX-License-Identifier: GPL-2.0
/*
 * Idr: a radix tree of 64-way nodes over 31-bit ids (see <keel/idr.h>).
 *
 * A node at level L (leaves are level 0) covers 64^(L+1) ids. Each node has
 * two bitmaps: @present (slot non-empty: a pointer in a leaf, a child node
 * below) and @full (leaf: slot used; inner: child subtree entirely used).
 * The lowest free id skips full subtrees with one bit scan per level; the
 * next allocated id follows @present. Nodes left empty are freed, and the
 * tree loses levels when only its leftmost branch remains.
 *
 * Invariants: m_height == 0 iff m_root == nullptr; every present inner slot
 * holds a node with at least one id (between operations); a full bit is set
 * iff that slot (leaf) or the whole 64-way subtree below it (inner) is used.
 */
#include <keel/idr.h>

namespace keel {

struct Idr::Node {
	u64 full;
	u64 present;
	void *slots[64];
};

namespace {

constexpr u32 BITS = 6;
constexpr u32 FANOUT = 1u << BITS;
constexpr u32 MAX_HEIGHT = 6; /* 64^6 = 2^36 > 2^31 ids */
constexpr u64 ALL = ~0ull;

constexpr u64 capacity(u32 height)
{
	return height ? 1ull << (BITS * height) : 0;
}

u32 height_for(u32 id)
{
	u32 h = 1;
	while (id >= capacity(h))
		h++;
	return h;
}

u32 index_at(u64 id, u32 level)
{
	return u32(id >> (BITS * level)) & (FANOUT - 1);
}

constexpr u64 bit(u32 i)
{
	return 1ull << i;
}

/* [@start, @end) checked, @end == 0 meaning "through ID_MAX"; 0 if bad. */
u64 range_limit(u32 start, u32 end)
{
	if (start > Idr::ID_MAX || (end != 0 && start >= end))
		return 0;
	return end == 0 || end > Idr::ID_MAX ? u64(Idr::ID_MAX) + 1 : end;
}

} // namespace

Idr::~Idr()
{
	destroy();
}

Idr::Node *Idr::take_spare()
{
	Node *n = m_spare;
	if (!n)
		return nullptr;
	m_spare = static_cast<Node *>(n->slots[0]);
	n->slots[0] = nullptr;
	m_nr_spare--;
	return n;
}

/* Preloaded nodes first, so that a preloaded alloc needs no memory. */
Idr::Node *Idr::new_node(Gfp gfp)
{
	if (Node *n = take_spare())
		return n;
	return static_cast<Node *>(kzalloc(sizeof(Node), gfp));
}

/* Lowest id >= @start unused under @n (covering ids from @base); false if none. */
bool Idr::free_in(const Node *n, u32 level, u64 base, u64 start, u64 *out)
{
	const u32 shift = BITS * level;
	u64 mask = ~n->full & (ALL << ((start - base) >> shift));
	while (mask) {
		u32 i = u32(__builtin_ctzll(mask));
		mask &= mask - 1;
		u64 cbase = base + (u64(i) << shift);
		u64 from = start > cbase ? start : cbase;
		if (level == 0 || !n->slots[i]) {
			*out = from;
			return true;
		}
		if (free_in(static_cast<const Node *>(n->slots[i]), level - 1, cbase, from, out))
			return true;
	}
	return false;
}

/* Lowest id >= @start not in use; false if all up to ID_MAX are. */
bool Idr::find_free(u32 start, u32 *id) const
{
	u64 found = start;
	if (m_root && start < capacity(m_height) &&
	    !free_in(m_root, m_height - 1, 0, start, &found))
		found = capacity(m_height);
	if (found > ID_MAX)
		return false;
	*id = u32(found);
	return true;
}

/* Lowest used id >= @start under @n; false if none. */
bool Idr::next_in(const Node *n, u32 level, u64 base, u64 start, u64 *out, void **ptr)
{
	const u32 shift = BITS * level;
	u64 mask = n->present & (ALL << ((start - base) >> shift));
	while (mask) {
		u32 i = u32(__builtin_ctzll(mask));
		mask &= mask - 1;
		u64 cbase = base + (u64(i) << shift);
		if (level == 0) {
			*out = cbase;
			*ptr = n->slots[i];
			return true;
		}
		if (next_in(static_cast<const Node *>(n->slots[i]), level - 1, cbase,
			    start > cbase ? start : cbase, out, ptr))
			return true;
	}
	return false;
}

bool Idr::next_entry(u32 *id, void **ptr) const
{
	if (!m_root || *id >= capacity(m_height))
		return false;
	u64 found;
	if (!next_in(m_root, m_height - 1, 0, *id, &found, ptr))
		return false;
	*id = u32(found);
	return true;
}

void *Idr::find(u32 id) const
{
	if (!m_root || id >= capacity(m_height))
		return nullptr;
	const Node *n = m_root;
	for (u32 level = m_height - 1; level > 0; level--) {
		n = static_cast<const Node *>(n->slots[index_at(id, level)]);
		if (!n)
			return nullptr;
	}
	return n->slots[index_at(id, 0)];
}

/*
 * Stores @ptr at the free @id. On -ENOMEM the tree may keep extra empty
 * nodes on @id's path: the caller prunes them.
 */
Result<void> Idr::insert(u32 id, void *ptr, Gfp gfp)
{
	/* Grow: the old root becomes child 0 of a new root. */
	while (id >= capacity(m_height)) {
		Node *n = new_node(gfp);
		if (!n)
			return err(-ENOMEM);
		if (m_root) {
			n->slots[0] = m_root;
			n->present = bit(0);
			n->full = m_root->full == ALL ? bit(0) : 0;
		}
		m_root = n;
		m_height++;
	}
	Node *path[MAX_HEIGHT];
	Node *n = m_root;
	u32 depth = 0;
	for (u32 level = m_height - 1; level > 0; level--) {
		path[depth++] = n;
		u32 i = index_at(id, level);
		if (!n->slots[i]) {
			Node *c = new_node(gfp);
			if (!c)
				return err(-ENOMEM);
			n->slots[i] = c;
			n->present |= bit(i);
		}
		n = static_cast<Node *>(n->slots[i]);
	}
	path[depth++] = n;
	u32 i = index_at(id, 0);
	n->slots[i] = ptr;
	n->present |= bit(i);
	n->full |= bit(i);
	/* A subtree that became full marks its slot in the parent. */
	for (u32 d = depth - 1; d > 0 && path[d]->full == ALL; d--)
		path[d - 1]->full |= bit(index_at(id, m_height - d));
	return ok();
}

/*
 * Walks @id's path; clears its slot when @clear (returning the pointer in
 * @old), then frees nodes of the path left empty, bottom-up. The root is
 * left to shrink().
 */
void Idr::prune(u32 id, bool clear, void **old)
{
	Node *path[MAX_HEIGHT];
	Node *n = m_root;
	u32 depth = 0;
	for (u32 level = m_height - 1;; level--) {
		path[depth++] = n;
		if (level == 0)
			break;
		n = static_cast<Node *>(n->slots[index_at(id, level)]);
		if (!n)
			break;
	}
	/* path[d] sits at level m_height - 1 - d. */
	if (clear && depth == m_height) {
		Node *leaf = path[depth - 1];
		u32 i = index_at(id, 0);
		*old = leaf->slots[i];
		leaf->slots[i] = nullptr;
		leaf->present &= ~bit(i);
		/* Nothing on the path is full any more. */
		for (u32 d = 0; d < depth; d++)
			path[d]->full &= ~bit(index_at(id, m_height - 1 - d));
	}
	for (u32 d = depth - 1; d > 0 && path[d]->present == 0; d--) {
		kfree(path[d]);
		u32 i = index_at(id, m_height - d);
		path[d - 1]->slots[i] = nullptr;
		path[d - 1]->present &= ~bit(i);
	}
}

/* Drops root levels that only hold their leftmost child, and an empty root. */
void Idr::shrink()
{
	while (m_height > 1 && m_root->present == bit(0)) {
		Node *old = m_root;
		m_root = static_cast<Node *>(old->slots[0]);
		m_height--;
		kfree(old);
	}
	if (m_root && m_root->present == 0) {
		kfree(m_root);
		m_root = nullptr;
		m_height = 0;
	}
}

Result<u32> Idr::alloc_range(void *ptr, u32 start, u32 end, Gfp gfp)
{
	u64 limit = range_limit(start, end);
	if (!ptr || !limit)
		return err(-EINVAL);
	u32 id;
	if (!find_free(start, &id) || id >= limit)
		return err(-ENOSPC);
	Result<void> r = insert(id, ptr, gfp);
	if (r.is_error()) {
		if (m_root)
			prune(id, false, nullptr);
		shrink();
		return r.error();
	}
	m_count++;
	return id;
}

Result<u32> Idr::alloc(void *ptr, u32 start, u32 end, Gfp gfp)
{
	return alloc_range(ptr, start, end, gfp);
}

Result<void> Idr::alloc_exact(void *ptr, u32 id, Gfp gfp)
{
	if (!ptr || id > ID_MAX)
		return err(-EINVAL);
	if (find(id))
		return err(-EBUSY);
	TRY(alloc_range(ptr, id, id + 1, gfp));
	return ok();
}

Result<u32> Idr::alloc_cyclic(void *ptr, u32 start, u32 end, Gfp gfp)
{
	u64 limit = range_limit(start, end);
	if (!ptr || !limit)
		return err(-EINVAL);
	u32 from = m_next > start && m_next < limit ? m_next : start;
	Result<u32> r = alloc_range(ptr, from, end, gfp);
	/* Wrap: search again from the start of the range (Linux idr_alloc_cyclic()). */
	if (r.is_error() && r.error().to_errno() == -ENOSPC && from > start)
		r = alloc_range(ptr, start, end, gfp);
	if (r.is_ok())
		m_next = r.value() + 1;
	return r;
}

void *Idr::remove(u32 id)
{
	if (!find(id))
		return nullptr;
	void *old = nullptr;
	prune(id, true, &old);
	m_count--;
	shrink();
	return old;
}

Result<void *> Idr::replace(void *ptr, u32 id)
{
	if (!ptr)
		return err(-EINVAL);
	if (!find(id))
		return err(-ENOENT);
	Node *n = m_root;
	for (u32 level = m_height - 1; level > 0; level--)
		n = static_cast<Node *>(n->slots[index_at(id, level)]);
	return exchange(n->slots[index_at(id, 0)], ptr);
}

Result<void> Idr::preload(u32 max_id, Gfp gfp)
{
	/*
	 * Worst case for one id below @max_id: the new levels above the
	 * current root, plus a fresh path from the (new) root down.
	 */
	u32 h = height_for(max_id ? max_id - 1 : ID_MAX);
	u32 need;
	if (m_height == 0)
		need = h;
	else if (h <= m_height)
		need = m_height - 1;
	else
		need = (h - m_height) + (h - 1);
	while (m_nr_spare < need) {
		auto *n = static_cast<Node *>(kzalloc(sizeof(Node), gfp));
		if (!n)
			return err(-ENOMEM);
		n->slots[0] = m_spare;
		m_spare = n;
		m_nr_spare++;
	}
	return ok();
}

void Idr::free_subtree(Node *n, u32 level)
{
	if (level > 0) {
		for (u64 present = n->present; present; present &= present - 1)
			free_subtree(static_cast<Node *>(n->slots[__builtin_ctzll(present)]),
				     level - 1);
	}
	kfree(n);
}

void Idr::destroy()
{
	if (m_root)
		free_subtree(m_root, m_height - 1);
	m_root = nullptr;
	m_height = 0;
	m_count = 0;
	m_next = 0;
	while (Node *n = take_spare())
		kfree(n);
}

} // namespace keel
