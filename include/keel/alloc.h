/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Allocation with explicit context, and sole ownership (UniquePtr).
 * Every allocation takes a Gfp and returns a Result: nothing allocates
 * behind the caller's back (constructors, copies, list inserts).
 */
#ifndef KEEL_ALLOC_H
#define KEEL_ALLOC_H

#include <keel/error.h>
#include <keel/port.h>

namespace keel {

/*
 * Allocations made through the framework (the kmalloc family and new (Gfp))
 * so far, by any thread: tests use it to show that a path allocates
 * nothing (read it before and after). One relaxed atomic add each.
 */
extern u64 g_alloc_calls;
inline void note_alloc()
{
	__atomic_fetch_add(&g_alloc_calls, 1, __ATOMIC_RELAXED);
}
inline u64 alloc_calls()
{
	return __atomic_load_n(&g_alloc_calls, __ATOMIC_RELAXED);
}

/* kmalloc(): nullptr on failure. Prefer make_unique()/adopt_ref(). */
inline void *kmalloc(size_t size, Gfp gfp)
{
	note_alloc();
	return keel_port_kmalloc(size, gfp.flags);
}
inline void *kzalloc(size_t size, Gfp gfp)
{
	note_alloc();
	return keel_port_kmalloc(size, (gfp | __GFP_ZERO).flags);
}
inline void *kcalloc(size_t n, size_t size, Gfp gfp)
{
	size_t bytes;
	if (check_mul_overflow(n, size, &bytes))
		return nullptr;
	return kzalloc(bytes, gfp);
}
inline void kfree(const void *p)
{
	keel_port_kfree(p);
}

template <typename T> class UniquePtr {
public:
	constexpr UniquePtr() = default;
	constexpr UniquePtr(nullptr_t) {}
	/* Takes ownership of @p, which must come from new (Gfp) T. */
	explicit UniquePtr(T *p) : m_ptr(p) {}
	UniquePtr(UniquePtr &&o) : m_ptr(o.leak()) {}
	template <typename U, typename = enable_if_t<is_base_of_v<T, U>>>
	UniquePtr(UniquePtr<U> &&o) : m_ptr(o.leak())
	{
	}
	UniquePtr &operator=(UniquePtr &&o)
	{
		reset(o.leak());
		return *this;
	}
	UniquePtr(const UniquePtr &) = delete;
	UniquePtr &operator=(const UniquePtr &) = delete;
	~UniquePtr() { reset(); }

	void reset(T *p = nullptr)
	{
		T *old = exchange(m_ptr, p);
		if (old)
			delete old;
	}
	/* Gives up ownership without freeing. */
	[[nodiscard]] T *leak() { return exchange(m_ptr, nullptr); }
	T *get() const { return m_ptr; }
	T *operator->() const { return m_ptr; }
	T &operator*() const { return *m_ptr; }
	explicit operator bool() const { return m_ptr != nullptr; }

private:
	T *m_ptr = nullptr;
};

/*
 * make_unique<T>(gfp, args...): allocate and construct, -ENOMEM on failure.
 * Constructors cannot fail; types with fallible setup use T::create().
 */
template <typename T, typename... Args> Result<UniquePtr<T>> make_unique(Gfp gfp, Args &&...args)
{
	T *p = new (gfp) T(forward<Args>(args)...);
	if (!p)
		return err(-ENOMEM);
	return UniquePtr<T>(p);
}

/* A zeroed buffer of @n T, owned (trivial types only). */
template <typename T> class UniqueArray {
	static_assert(is_trivially_copyable_v<T>, "UniqueArray: trivial types only");

public:
	UniqueArray() = default;
	UniqueArray(UniqueArray &&o)
	    : m_ptr(exchange(o.m_ptr, nullptr)), m_count(exchange(o.m_count, 0))
	{
	}
	UniqueArray &operator=(UniqueArray &&o)
	{
		kfree(m_ptr);
		m_ptr = exchange(o.m_ptr, nullptr);
		m_count = exchange(o.m_count, 0);
		return *this;
	}
	~UniqueArray() { kfree(m_ptr); }
	static Result<UniqueArray> create(size_t n, Gfp gfp)
	{
		UniqueArray a;
		a.m_ptr = static_cast<T *>(kcalloc(n, sizeof(T), gfp));
		if (!a.m_ptr && n)
			return err(-ENOMEM);
		a.m_count = n;
		return a;
	}
	T *data() const { return m_ptr; }
	size_t size() const { return m_count; }
	T &operator[](size_t i) const
	{
		if (i >= m_count) [[unlikely]]
			keel_port_bug(__FILE__, __LINE__, "UniqueArray index out of range");
		return m_ptr[i];
	}

private:
	T *m_ptr = nullptr;
	size_t m_count = 0;
};

} // namespace keel

#endif
