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
/**
 * note_alloc() - count one allocation in g_alloc_calls
 *
 * Called by every allocation function of the framework.
 *
 * Context: any.
 */
inline void note_alloc()
{
	__atomic_fetch_add(&g_alloc_calls, 1, __ATOMIC_RELAXED);
}
/**
 * alloc_calls() - how many allocations the framework has made so far
 *
 * Tests read it before and after a path to show that the path allocates
 * nothing. Counts every thread's allocations.
 *
 * Context: any.
 * Return: the count.
 */
inline u64 alloc_calls()
{
	return __atomic_load_n(&g_alloc_calls, __ATOMIC_RELAXED);
}

/**
 * kmalloc() - allocate @size bytes (Linux kmalloc())
 * @size: bytes wanted
 * @gfp: the allocation context
 *
 * Prefer make_unique() or adopt_ref(), which construct and own; this is
 * for raw buffers.
 *
 * Context: may sleep with GFP_KERNEL; any with GFP_ATOMIC.
 * Return: the memory (uninitialised, suitably aligned for any type), or
 * nullptr when out of memory. Free it with kfree().
 */
inline void *kmalloc(size_t size, Gfp gfp)
{
	note_alloc();
	return keel_port_kmalloc(size, gfp.flags);
}
/**
 * kzalloc() - allocate @size zeroed bytes (Linux kzalloc())
 * @size: bytes wanted
 * @gfp: the allocation context
 *
 * Context: may sleep with GFP_KERNEL; any with GFP_ATOMIC.
 * Return: the zeroed memory, or nullptr. Free it with kfree().
 */
inline void *kzalloc(size_t size, Gfp gfp)
{
	note_alloc();
	return keel_port_kmalloc(size, (gfp | __GFP_ZERO).flags);
}
/**
 * kcalloc() - allocate a zeroed array of @n elements of @size bytes
 * @n: number of elements
 * @size: bytes of one element
 * @gfp: the allocation context
 *
 * Context: may sleep with GFP_KERNEL; any with GFP_ATOMIC.
 * Return: the zeroed memory, or nullptr when out of memory or when
 * @n * @size overflows. Free it with kfree().
 */
inline void *kcalloc(size_t n, size_t size, Gfp gfp)
{
	size_t bytes;
	if (check_mul_overflow(n, size, &bytes))
		return nullptr;
	return kzalloc(bytes, gfp);
}
/**
 * kfree() - free memory of the kmalloc family (Linux kfree())
 * @p: the memory, or nullptr (nothing happens)
 *
 * Context: any.
 */
inline void kfree(const void *p)
{
	keel_port_kfree(p);
}

/**
 * class UniquePtr - the sole owner of an object (std::unique_ptr, fbl)
 *
 * Deletes the object when it goes out of scope or is reset. Movable, not
 * copyable: moving hands the ownership over. A raw T * is borrowed; a
 * UniquePtr passed by value moves the ownership (STYLE.md).
 */
template <typename T> class UniquePtr {
public:
	constexpr UniquePtr() = default;
	/**
	 * UniquePtr() - own nothing (from nullptr)
	 *
	 * Context: any.
	 */
	constexpr UniquePtr(nullptr_t) {}
	/**
	 * UniquePtr() - take ownership of @p
	 * @p: an object from new (Gfp) T, or nullptr
	 *
	 * Context: any.
	 */
	explicit UniquePtr(T *p) : m_ptr(p) {}
	UniquePtr(UniquePtr &&o) : m_ptr(o.leak()) {}
	/**
	 * UniquePtr() - take ownership from a UniquePtr of a derived type
	 * @o: the owner to take it from; empty afterwards
	 *
	 * Context: any.
	 */
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

	/**
	 * reset() - delete the object owned, and own @p instead
	 * @p: the new object, or nullptr to own nothing
	 *
	 * Context: that of T's destructor (usually any).
	 */
	void reset(T *p = nullptr)
	{
		T *old = exchange(m_ptr, p);
		if (old)
			delete old;
	}
	/**
	 * leak() - give up ownership without deleting
	 *
	 * The caller becomes the owner (typically: registration succeeded and
	 * the object now belongs to a list or a device).
	 *
	 * Context: any.
	 * Return: the object, or nullptr.
	 */
	[[nodiscard]] T *leak() { return exchange(m_ptr, nullptr); }
	/**
	 * get() - the object, still owned
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
	 * Return: a reference to the object (must not be empty).
	 */
	T &operator*() const { return *m_ptr; }
	/**
	 * operator bool() - does it own an object?
	 *
	 * Context: any.
	 * Return: true when not empty.
	 */
	explicit operator bool() const { return m_ptr != nullptr; }

private:
	T *m_ptr = nullptr;
};

/**
 * make_unique() - allocate and construct a T, owned: make_unique<T>(gfp, args...)
 * @gfp: the allocation context
 * @args: the arguments of T's constructor
 *
 * Constructors cannot fail; a type with fallible set-up offers a static
 * T::create() returning Result instead (STYLE.md).
 *
 * Context: may sleep with GFP_KERNEL; any with GFP_ATOMIC.
 * Return: the owner of the new object, or -ENOMEM.
 */
template <typename T, typename... Args> Result<UniquePtr<T>> make_unique(Gfp gfp, Args &&...args)
{
	T *p = new (gfp) T(forward<Args>(args)...);
	if (!p)
		return err(-ENOMEM);
	return UniquePtr<T>(p);
}

/**
 * class UniqueArray - an owned, zeroed array of trivially copyable T
 *
 * The array counterpart of UniquePtr, with its length and checked
 * indexing; made by create(), freed with the object. Movable, not
 * copyable. An empty UniqueArray holds no memory.
 */
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
	/**
	 * create() - allocate @n zeroed elements
	 * @n: number of elements (0 gives an empty array)
	 * @gfp: the allocation context
	 *
	 * Context: may sleep with GFP_KERNEL; any with GFP_ATOMIC.
	 * Return: the array, or -ENOMEM (also when @n * sizeof(T) overflows).
	 */
	static Result<UniqueArray> create(size_t n, Gfp gfp)
	{
		UniqueArray a;
		a.m_ptr = static_cast<T *>(kcalloc(n, sizeof(T), gfp));
		if (!a.m_ptr && n)
			return err(-ENOMEM);
		a.m_count = n;
		return a;
	}
	/**
	 * data() - the first element
	 *
	 * Context: any.
	 * Return: the elements, or nullptr when empty.
	 */
	T *data() const { return m_ptr; }
	/**
	 * size() - the number of elements
	 *
	 * Context: any.
	 * Return: the count given to create().
	 */
	size_t size() const { return m_count; }
	/**
	 * operator[]() - element @i
	 * @i: the index; out of range is a bug (keel_port_bug())
	 *
	 * Context: any.
	 * Return: a reference to the element.
	 */
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
