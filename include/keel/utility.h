/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The small subset of <utility>/<type_traits> the framework needs. Kernel
 * builds have no libstdc++ headers (-nostdinc++); hosted builds use the same
 * definitions so both ports compile identical code.
 */
#ifndef KEEL_UTILITY_H
#define KEEL_UTILITY_H

#include <keel/compiler.h>

namespace keel {

template <typename T> struct remove_reference {
	using type = T;
};
template <typename T> struct remove_reference<T &> {
	using type = T;
};
template <typename T> struct remove_reference<T &&> {
	using type = T;
};
template <typename T> using remove_reference_t = typename remove_reference<T>::type;

template <typename T> struct remove_cv {
	using type = T;
};
template <typename T> struct remove_cv<const T> {
	using type = T;
};
template <typename T> struct remove_cv<volatile T> {
	using type = T;
};
template <typename T> struct remove_cv<const volatile T> {
	using type = T;
};
template <typename T> using remove_cvref_t = typename remove_cv<remove_reference_t<T>>::type;

template <typename T> constexpr remove_reference_t<T> &&move(T &&t) noexcept
{
	return static_cast<remove_reference_t<T> &&>(t);
}
template <typename T> constexpr T &&forward(remove_reference_t<T> &t) noexcept
{
	return static_cast<T &&>(t);
}
template <typename T> constexpr T &&forward(remove_reference_t<T> &&t) noexcept
{
	return static_cast<T &&>(t);
}
template <typename T, typename U = T> constexpr T exchange(T &obj, U &&v)
{
	T old = move(obj);
	obj = forward<U>(v);
	return old;
}
template <typename T> constexpr void swap(T &a, T &b)
{
	T tmp = move(a);
	a = move(b);
	b = move(tmp);
}

template <typename A, typename B> inline constexpr bool is_same_v = false;
template <typename A> inline constexpr bool is_same_v<A, A> = true;
template <typename T>
inline constexpr bool is_void_v = is_same_v<typename remove_cv<T>::type, void>;
template <typename T> inline constexpr bool impl_is_integral = false;
template <> inline constexpr bool impl_is_integral<bool> = true;
template <> inline constexpr bool impl_is_integral<char> = true;
template <> inline constexpr bool impl_is_integral<signed char> = true;
template <> inline constexpr bool impl_is_integral<unsigned char> = true;
template <> inline constexpr bool impl_is_integral<wchar_t> = true;
template <> inline constexpr bool impl_is_integral<char8_t> = true;
template <> inline constexpr bool impl_is_integral<char16_t> = true;
template <> inline constexpr bool impl_is_integral<char32_t> = true;
template <> inline constexpr bool impl_is_integral<short> = true;
template <> inline constexpr bool impl_is_integral<unsigned short> = true;
template <> inline constexpr bool impl_is_integral<int> = true;
template <> inline constexpr bool impl_is_integral<unsigned int> = true;
template <> inline constexpr bool impl_is_integral<long> = true;
template <> inline constexpr bool impl_is_integral<unsigned long> = true;
template <> inline constexpr bool impl_is_integral<long long> = true;
template <> inline constexpr bool impl_is_integral<unsigned long long> = true;
template <typename T>
inline constexpr bool is_integral_v = impl_is_integral<typename remove_cv<T>::type>;
template <typename T> inline constexpr bool impl_is_pointer = false;
template <typename T> inline constexpr bool impl_is_pointer<T *> = true;
template <typename T>
inline constexpr bool is_pointer_v = impl_is_pointer<typename remove_cv<T>::type>;
template <typename T> inline constexpr bool is_enum_v = __is_enum(T);
template <typename T> inline constexpr bool is_trivially_copyable_v = __is_trivially_copyable(T);
template <typename B, typename D> inline constexpr bool is_base_of_v = __is_base_of(B, D);
template <typename T> constexpr bool impl_is_signed()
{
	if constexpr (is_integral_v<T>)
		return T(-1) < T(0);
	else
		return false;
}
template <typename T> inline constexpr bool is_signed_v = impl_is_signed<T>();
template <bool B, typename T = void> struct enable_if {
};
template <typename T> struct enable_if<true, T> {
	using type = T;
};
template <bool B, typename T = void> using enable_if_t = typename enable_if<B, T>::type;
template <typename T> T &&declval() noexcept;

template <typename T> constexpr const T &min(const T &a, const T &b)
{
	return b < a ? b : a;
}
template <typename T> constexpr const T &max(const T &a, const T &b)
{
	return a < b ? b : a;
}
template <typename T> constexpr T clamp(T v, T lo, T hi)
{
	return v < lo ? lo : (hi < v ? hi : v);
}

/* Overflow-checked arithmetic: true when the result overflowed. */
template <typename T> constexpr bool check_add_overflow(T a, T b, T *res)
{
	return __builtin_add_overflow(a, b, res);
}
template <typename T> constexpr bool check_mul_overflow(T a, T b, T *res)
{
	return __builtin_mul_overflow(a, b, res);
}
constexpr bool is_power_of_2(u64 n)
{
	return n != 0 && (n & (n - 1)) == 0;
}
template <typename T> constexpr T align_up(T v, T a)
{
	return (v + a - 1) & ~(a - 1);
}
template <typename T> constexpr T div_round_up(T n, T d)
{
	return (n + d - 1) / d;
}

/*
 * Objects that are registered, linked into lists, locked or shared must not
 * be copied or moved (their address is their identity): derive from this.
 */
class NonMovable {
protected:
	constexpr NonMovable() = default;
	~NonMovable() = default;

public:
	NonMovable(const NonMovable &) = delete;
	NonMovable &operator=(const NonMovable &) = delete;
	NonMovable(NonMovable &&) = delete;
	NonMovable &operator=(NonMovable &&) = delete;
};

/* Runs a callable at scope exit unless disarmed (replaces goto ladders). */
template <typename F> class ScopeGuard : NonMovable {
public:
	explicit ScopeGuard(F f) : m_fn(move(f)) {}
	~ScopeGuard()
	{
		if (m_armed)
			m_fn();
	}
	void disarm() { m_armed = false; }

private:
	F m_fn;
	bool m_armed = true;
};

} // namespace keel

#endif
