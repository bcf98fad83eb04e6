/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KEEL_SPAN_H
#define KEEL_SPAN_H

#include <keel/port.h>
#include <keel/utility.h>

namespace keel {

/* A borrowed, bounds-checked view of @size T. */
template <typename T> class Span {
public:
	constexpr Span() = default;
	constexpr Span(T *data, size_t size) : m_data(data), m_size(size) {}
	template <size_t N> constexpr Span(T (&arr)[N]) : m_data(arr), m_size(N) {}
	template <typename U, typename = enable_if_t<is_same_v<const U, T>>>
	constexpr Span(Span<U> o) : m_data(o.data()), m_size(o.size())
	{
	}

	constexpr T *data() const { return m_data; }
	constexpr size_t size() const { return m_size; }
	constexpr bool empty() const { return m_size == 0; }
	T &operator[](size_t i) const
	{
		if (i >= m_size) [[unlikely]]
			keel_port_bug(__FILE__, __LINE__, "Span index out of range");
		return m_data[i];
	}
	/* Elements [off, off+len); clamped to the span. */
	constexpr Span subspan(size_t off, size_t len = ~size_t(0)) const
	{
		if (off > m_size)
			off = m_size;
		if (len > m_size - off)
			len = m_size - off;
		return Span(m_data + off, len);
	}
	constexpr T *begin() const { return m_data; }
	constexpr T *end() const { return m_data + m_size; }

private:
	T *m_data = nullptr;
	size_t m_size = 0;
};

template <typename T, size_t N> class Array {
public:
	T m_elems[N];
	static constexpr size_t size() { return N; }
	constexpr T *data() { return m_elems; }
	constexpr const T *data() const { return m_elems; }
	T &operator[](size_t i)
	{
		if (i >= N) [[unlikely]]
			keel_port_bug(__FILE__, __LINE__, "Array index out of range");
		return m_elems[i];
	}
	const T &operator[](size_t i) const
	{
		if (i >= N) [[unlikely]]
			keel_port_bug(__FILE__, __LINE__, "Array index out of range");
		return m_elems[i];
	}
	constexpr T *begin() { return m_elems; }
	constexpr T *end() { return m_elems + N; }
	constexpr Span<T> span() { return Span<T>(m_elems, N); }
};

} // namespace keel

#endif
