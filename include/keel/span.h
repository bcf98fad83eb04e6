/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KEEL_SPAN_H
#define KEEL_SPAN_H

#include <keel/port.h>
#include <keel/utility.h>

namespace keel {

/**
 * class Span - a borrowed, bounds-checked view of consecutive T
 *
 * Does not own the elements: the caller keeps them alive while the span is
 * used. Copying a span copies the view. Span<const T> is made from a
 * Span<T> implicitly. Indexing out of range is a bug (keel_port_bug()).
 */
template <typename T> class Span {
public:
	constexpr Span() = default;
	/**
	 * Span() - a view of @size elements at @data
	 * @data: the first element
	 * @size: the number of elements
	 *
	 * Context: any (constexpr).
	 */
	constexpr Span(T *data, size_t size) : m_data(data), m_size(size) {}
	/**
	 * Span() - a view of the whole array @arr
	 * @arr: the array
	 *
	 * Context: any (constexpr).
	 */
	template <size_t N> constexpr Span(T (&arr)[N]) : m_data(arr), m_size(N) {}
	/**
	 * Span() - a read-only view of a writable span
	 * @o: the span
	 *
	 * Context: any (constexpr).
	 */
	template <typename U, typename = enable_if_t<is_same_v<const U, T>>>
	constexpr Span(Span<U> o) : m_data(o.data()), m_size(o.size())
	{
	}

	/**
	 * data() - the first element
	 *
	 * Context: any.
	 * Return: the pointer given at construction (nullptr when empty by
	 * default).
	 */
	constexpr T *data() const { return m_data; }
	/**
	 * size() - the number of elements
	 *
	 * Context: any.
	 * Return: the count.
	 */
	constexpr size_t size() const { return m_size; }
	/**
	 * empty() - does the view hold no element?
	 *
	 * Context: any.
	 * Return: true when size() is 0.
	 */
	constexpr bool empty() const { return m_size == 0; }
	/**
	 * operator[]() - element @i
	 * @i: the index; out of range is a bug (keel_port_bug())
	 *
	 * Context: any.
	 * Return: a reference to the element.
	 */
	T &operator[](size_t i) const
	{
		if (i >= m_size) [[unlikely]]
			keel_port_bug(__FILE__, __LINE__, "Span index out of range");
		return m_data[i];
	}
	/**
	 * subspan() - the elements [@off, @off + @len), clamped to the span
	 * @off: the first element (past the end gives an empty span)
	 * @len: the count (default: to the end)
	 *
	 * Context: any.
	 * Return: the narrower view; never reaches outside this one.
	 */
	constexpr Span subspan(size_t off, size_t len = ~size_t(0)) const
	{
		if (off > m_size)
			off = m_size;
		if (len > m_size - off)
			len = m_size - off;
		return Span(m_data + off, len);
	}
	/**
	 * begin() - the first element, for range-for
	 *
	 * Context: any.
	 * Return: data().
	 */
	constexpr T *begin() const { return m_data; }
	/**
	 * end() - one past the last element, for range-for
	 *
	 * Context: any.
	 * Return: data() + size().
	 */
	constexpr T *end() const { return m_data + m_size; }

private:
	T *m_data = nullptr;
	size_t m_size = 0;
};

/**
 * class Array - a fixed array of N T with checked indexing (std::array)
 * @m_elems: the elements (public, so that an Array is an aggregate and can
 *	be initialised with braces and be constinit)
 */
template <typename T, size_t N> class Array {
public:
	T m_elems[N];
	/**
	 * size() - the number of elements
	 *
	 * Context: any (constexpr).
	 * Return: N.
	 */
	static constexpr size_t size() { return N; }
	/**
	 * data() - the first element
	 *
	 * Context: any.
	 * Return: the elements.
	 */
	constexpr T *data() { return m_elems; }
	/**
	 * data() - the first element, read-only
	 *
	 * Context: any.
	 * Return: the elements.
	 */
	constexpr const T *data() const { return m_elems; }
	/**
	 * operator[]() - element @i
	 * @i: the index; out of range is a bug (keel_port_bug())
	 *
	 * Context: any.
	 * Return: a reference to the element.
	 */
	T &operator[](size_t i)
	{
		if (i >= N) [[unlikely]]
			keel_port_bug(__FILE__, __LINE__, "Array index out of range");
		return m_elems[i];
	}
	/**
	 * operator[]() - element @i, read-only
	 * @i: the index; out of range is a bug (keel_port_bug())
	 *
	 * Context: any.
	 * Return: a const reference to the element.
	 */
	const T &operator[](size_t i) const
	{
		if (i >= N) [[unlikely]]
			keel_port_bug(__FILE__, __LINE__, "Array index out of range");
		return m_elems[i];
	}
	/**
	 * begin() - the first element, for range-for
	 *
	 * Context: any.
	 * Return: data().
	 */
	constexpr T *begin() { return m_elems; }
	/**
	 * end() - one past the last element, for range-for
	 *
	 * Context: any.
	 * Return: data() + N.
	 */
	constexpr T *end() { return m_elems + N; }
	/**
	 * span() - a view of all elements
	 *
	 * Context: any.
	 * Return: the span (borrowed: valid while the Array lives).
	 */
	constexpr Span<T> span() { return Span<T>(m_elems, N); }
};

} // namespace keel

#endif
