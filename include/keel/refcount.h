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

class Refcount : NonMovable {
public:
	static constexpr u32 SATURATED = 0xC0000000u;

	constexpr explicit Refcount(u32 n = 1) : m_refs(n) {}

	u32 read() const { return m_refs.load(MemoryOrder::Relaxed); }
	void set(u32 n) { m_refs.store(n, MemoryOrder::Relaxed); }
	void inc()
	{
		u32 old = m_refs.fetch_add(1, MemoryOrder::Relaxed);
		if (old == 0 || old + 1 >= SATURATED) [[unlikely]]
			saturate(old == 0 ? "addition on 0; use-after-free"
					  : "saturated; leaking memory");
	}
	/* kref_get_unless_zero(): false when the object is already dying. */
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
	/* True when this dropped the last reference (the caller releases). */
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

/*
 * Base for shared objects. T provides, optionally, `void release()` that
 * frees the object when the last reference drops; by default it is deleted.
 * Objects start with one reference, owned by whoever adopt_ref()s them.
 */
template <typename T> class RefCounted : NonMovable {
public:
	void get() const { m_refcount.inc(); }
	bool get_unless_zero() const { return m_refcount.inc_not_zero(); }
	void put() const
	{
		if (m_refcount.dec_and_test())
			release_object(const_cast<T *>(static_cast<const T *>(this)));
	}
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

template <typename T> class RefPtr {
public:
	constexpr RefPtr() = default;
	constexpr RefPtr(nullptr_t) {}
	/* Takes a new reference on @p. */
	RefPtr(T *p) : m_ptr(p)
	{
		if (p)
			p->get();
	}
	RefPtr(T &p) : RefPtr(&p) {}
	RefPtr(const RefPtr &o) : RefPtr(o.m_ptr) {}
	RefPtr(RefPtr &&o) : m_ptr(o.leak_ref()) {}
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
	RefPtr &operator=(nullptr_t)
	{
		reset();
		return *this;
	}
	~RefPtr() { reset(); }

	void reset()
	{
		if (T *p = exchange(m_ptr, nullptr))
			p->put();
	}
	/* Hands the reference to the caller (who must put() it). */
	[[nodiscard]] T *leak_ref() { return exchange(m_ptr, nullptr); }
	T *get() const { return m_ptr; }
	T *operator->() const { return m_ptr; }
	T &operator*() const { return *m_ptr; }
	explicit operator bool() const { return m_ptr != nullptr; }
	bool operator==(const RefPtr &o) const { return m_ptr == o.m_ptr; }
	bool operator==(const T *p) const { return m_ptr == p; }

	/* Wraps an existing reference without taking a new one. */
	static RefPtr adopt(T *p)
	{
		RefPtr r;
		r.m_ptr = p;
		return r;
	}

private:
	T *m_ptr = nullptr;
};

/* Takes ownership of the initial reference of a fresh object (only in create()). */
template <typename T> RefPtr<T> adopt_ref(T *p)
{
	return RefPtr<T>::adopt(p);
}

/* adopt_ref(new (gfp) T(args...)), or -ENOMEM. */
template <typename T, typename... Args> Result<RefPtr<T>> make_ref_counted(Gfp gfp, Args &&...args)
{
	T *p = new (gfp) T(forward<Args>(args)...);
	if (!p)
		return err(-ENOMEM);
	return adopt_ref(p);
}

} // namespace keel

#endif
