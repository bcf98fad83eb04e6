/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reference counts (Linux refcount_t / kref) and intrusive shared ownership
 * (RefCounted<T>, RefPtr<T>, adopt_ref(): fbl's RefPtr/AdoptRef).
 *
 * Refcount saturates instead of wrapping: an increment from 0 (use after
 * free) or past the limit, or a decrement below 0, warns once and pins the
 * count at REFCOUNT_SATURATED so the object leaks rather than being freed
 * under a user (Linux's refcount_t policy).
 */
#ifndef KEEL_REFCOUNT_H
#define KEEL_REFCOUNT_H

#include <keel/alloc.h>
#include <keel/atomic.h>

namespace keel {

/**
 * class Refcount - a saturating reference count (Linux refcount_t)
 * @SATURATED: the value a misused count is pinned at; it never comes back
 *
 * Context: every operation, any context (atomics only).
 */
class Refcount : NonMovable {
public:
	static constexpr u32 SATURATED = 0xC0000000u;

	/**
	 * Refcount() - a count of @n
	 * @n: the initial count (one: the creator's reference)
	 *
	 * Context: any (constexpr).
	 */
	constexpr explicit Refcount(u32 n = 1) : m_refs(n) {}

	/**
	 * read() - the current count, for diagnostics and tests
	 *
	 * Context: any.
	 * Return: the count (stale as soon as it is read).
	 */
	u32 read() const { return m_refs.load(MemoryOrder::Relaxed); }
	/**
	 * set() - overwrite the count (Linux refcount_set())
	 * @n: the new count
	 *
	 * Only before the object is shared.
	 *
	 * Context: any.
	 */
	void set(u32 n) { m_refs.store(n, MemoryOrder::Relaxed); }
	/**
	 * inc() - take a reference (Linux refcount_inc())
	 *
	 * The caller must already hold one. From 0 (a use after free) or up to
	 * the limit, it logs once and saturates instead.
	 *
	 * Context: any.
	 */
	void inc()
	{
		u32 old = m_refs.fetch_add(1, MemoryOrder::Relaxed);
		if (old == 0 || old + 1 >= SATURATED) [[unlikely]]
			saturate(old == 0 ? "addition on 0; use-after-free"
					  : "saturated; leaking memory");
	}
	/**
	 * inc_not_zero() - take a reference unless the count is 0 (Linux
	 * refcount_inc_not_zero(), kref_get_unless_zero())
	 *
	 * For lookups that find an object without holding a reference: one at
	 * zero is already being released.
	 *
	 * Context: any.
	 * Return: true when a reference was taken, false when the object is
	 * dying.
	 */
	bool inc_not_zero()
	{
		u32 old = m_refs.load(MemoryOrder::Relaxed);
		do {
			if (old == 0)
				return false;
			if (old >= SATURATED) [[unlikely]]
				return true;
		} while (!m_refs.compare_exchange(old, old + 1, MemoryOrder::Relaxed));
		return true;
	}
	/**
	 * dec_and_test() - drop a reference (Linux refcount_dec_and_test())
	 *
	 * Release ordering on every decrement and acquire on the last, so that
	 * the releaser sees every write made before any other put. Dropping
	 * below zero logs once and saturates.
	 *
	 * Context: any.
	 * Return: true when this dropped the last reference: the caller then
	 * releases the object.
	 */
	[[nodiscard]] bool dec_and_test()
	{
#if KEEL_TSAN
		/*
		 * ThreadSanitizer does not model standalone fences: an acq_rel
		 * decrement gives it the same happens-before edge.
		 */
		u32 old = m_refs.fetch_sub(1, MemoryOrder::AcqRel);
		if (old == 1)
			return true;
#else
		u32 old = m_refs.fetch_sub(1, MemoryOrder::Release);
		if (old == 1) {
			/* Pairs with the release above: see all writes before other puts. */
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			return true;
		}
#endif
		if (old == 0 || old >= SATURATED) [[unlikely]]
			saturate(old == 0 ? "underflow; use-after-free"
					  : "saturated; leaking memory");
		return false;
	}

private:
	void saturate(const char *why);
	Atomic<u32> m_refs;
};

/**
 * class RefCounted - the base of a shared object of type T (Linux kref)
 *
 * The object starts with one reference, owned by whoever adopt_ref()s it
 * (only T::create() does). When the last reference drops, T::release()
 * runs if T has one, else the object is deleted; release() must not be
 * called otherwise. Hold references through RefPtr<T>.
 */
template <typename T> class RefCounted : NonMovable {
public:
	/**
	 * get() - take a reference (Linux kref_get())
	 *
	 * The caller must already hold one.
	 *
	 * Context: any.
	 */
	void get() const { m_refcount.inc(); }
	/**
	 * get_unless_zero() - take a reference unless the object is dying
	 *
	 * Context: any.
	 * Return: true when a reference was taken.
	 */
	bool get_unless_zero() const { return m_refcount.inc_not_zero(); }
	/**
	 * put() - drop a reference (Linux kref_put())
	 *
	 * The last one releases the object (T::release() or delete), in the
	 * caller's context: never put with a lock held that the release path
	 * takes.
	 *
	 * Context: any, unless T's release needs more (say so in T's doc).
	 */
	void put() const
	{
		if (m_refcount.dec_and_test())
			release_object(const_cast<T *>(static_cast<const T *>(this)));
	}
	/**
	 * ref_count() - the current count, for diagnostics and tests
	 *
	 * Context: any.
	 * Return: the count.
	 */
	u32 ref_count() const { return m_refcount.read(); }

protected:
	constexpr RefCounted() = default;
	~RefCounted() = default;

private:
	template <typename U>
	static auto call_release(U *obj, int) -> decltype(obj->release(), void())
	{
		obj->release();
	}
	template <typename U> static void call_release(U *obj, long) { delete obj; }
	static void release_object(T *obj) { call_release(obj, 0); }

	mutable Refcount m_refcount{ 1 };
};

/**
 * class RefPtr - a counted reference to a RefCounted T (fbl RefPtr)
 *
 * Holds one reference while it points at an object; copying takes
 * another, moving hands it over, reset() and the destructor drop it (and
 * may release the object). Not thread-safe itself: one RefPtr is used by
 * one thread at a time, the object by any number.
 */
template <typename T> class RefPtr {
public:
	constexpr RefPtr() = default;
	/**
	 * RefPtr() - point at nothing (from nullptr)
	 *
	 * Context: any.
	 */
	constexpr RefPtr(nullptr_t) {}
	/**
	 * RefPtr() - take a new reference on @p
	 * @p: the object (the caller holds a reference), or nullptr
	 *
	 * Context: any.
	 */
	RefPtr(T *p) : m_ptr(p)
	{
		if (p)
			p->get();
	}
	/**
	 * RefPtr() - take a new reference on @p
	 * @p: the object (the caller holds a reference)
	 *
	 * Context: any.
	 */
	RefPtr(T &p) : RefPtr(&p) {}
	RefPtr(const RefPtr &o) : RefPtr(o.m_ptr) {}
	RefPtr(RefPtr &&o) : m_ptr(o.leak_ref()) {}
	/**
	 * RefPtr() - take over the reference of a RefPtr to a derived type
	 * @o: the reference; empty afterwards
	 *
	 * Context: any.
	 */
	template <typename U, typename = enable_if_t<is_base_of_v<T, U>>>
	RefPtr(RefPtr<U> &&o) : m_ptr(o.leak_ref())
	{
	}
	RefPtr &operator=(const RefPtr &o)
	{
		RefPtr tmp(o);
		swap(m_ptr, tmp.m_ptr);
		return *this;
	}
	RefPtr &operator=(RefPtr &&o)
	{
		RefPtr tmp(move(o));
		swap(m_ptr, tmp.m_ptr);
		return *this;
	}
	/**
	 * operator=() - drop the reference (ptr = nullptr)
	 *
	 * Context: as RefCounted::put().
	 * Return: this RefPtr, now empty.
	 */
	RefPtr &operator=(nullptr_t)
	{
		reset();
		return *this;
	}
	~RefPtr() { reset(); }

	/**
	 * reset() - drop the reference, if any, and point at nothing
	 *
	 * Context: as RefCounted::put(): may release the object.
	 */
	void reset()
	{
		if (T *p = exchange(m_ptr, nullptr))
			p->put();
	}
	/**
	 * leak_ref() - hand the reference to the caller
	 *
	 * For C-style owners (a list, a device field) that put() it later
	 * themselves.
	 *
	 * Context: any.
	 * Return: the object, or nullptr; this RefPtr is empty afterwards.
	 */
	[[nodiscard]] T *leak_ref() { return exchange(m_ptr, nullptr); }
	/**
	 * get() - the object, without taking a reference
	 *
	 * Context: any.
	 * Return: a borrowed pointer, or nullptr.
	 */
	T *get() const { return m_ptr; }
	/**
	 * operator->() - access the object's members
	 *
	 * Context: any.
	 * Return: the object (must not be empty).
	 */
	T *operator->() const { return m_ptr; }
	/**
	 * operator*() - the object
	 *
	 * Context: any.
	 * Return: a reference to it (must not be empty).
	 */
	T &operator*() const { return *m_ptr; }
	/**
	 * operator bool() - does it point at an object?
	 *
	 * Context: any.
	 * Return: true when not empty.
	 */
	explicit operator bool() const { return m_ptr != nullptr; }
	/**
	 * operator==() - do both point at the same object?
	 * @o: the other reference
	 *
	 * Context: any.
	 * Return: true when the pointers are equal.
	 */
	bool operator==(const RefPtr &o) const { return m_ptr == o.m_ptr; }
	/**
	 * operator==() - does it point at @p?
	 * @p: an object, or nullptr
	 *
	 * Context: any.
	 * Return: true when it does.
	 */
	bool operator==(const T *p) const { return m_ptr == p; }

	/**
	 * adopt() - wrap an existing reference without taking a new one
	 * @p: the object, whose reference the caller gives up
	 *
	 * Context: any.
	 * Return: the RefPtr holding that reference.
	 */
	static RefPtr adopt(T *p)
	{
		RefPtr r;
		r.m_ptr = p;
		return r;
	}

private:
	T *m_ptr = nullptr;
};

/**
 * adopt_ref() - own the initial reference of a fresh object (fbl AdoptRef)
 * @p: the object, just constructed (its count is one)
 *
 * Only in the object type's create(): everywhere else a RefPtr is made
 * from an object someone holds, which takes a reference.
 *
 * Context: any.
 * Return: the RefPtr owning the initial reference.
 */
template <typename T> RefPtr<T> adopt_ref(T *p)
{
	return RefPtr<T>::adopt(p);
}

/**
 * make_ref_counted() - allocate and construct a T, owning its first reference
 * @gfp: the allocation context
 * @args: the arguments of T's constructor
 *
 * Context: may sleep with GFP_KERNEL; any with GFP_ATOMIC.
 * Return: adopt_ref() of the new object, or -ENOMEM.
 */
template <typename T, typename... Args> Result<RefPtr<T>> make_ref_counted(Gfp gfp, Args &&...args)
{
	T *p = new (gfp) T(forward<Args>(args)...);
	if (!p)
		return err(-ENOMEM);
	return adopt_ref(p);
}

} // namespace keel

#endif
