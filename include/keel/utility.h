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

/**
 * struct remove_reference - T without a reference (std::remove_reference)
 * @type: T with & or && removed
 */
template <typename T> struct remove_reference {
	using type = T;
};
template <typename T> struct remove_reference<T &> {
	using type = T;
};
template <typename T> struct remove_reference<T &&> {
	using type = T;
};
/**
 * typedef remove_reference_t - remove_reference<T>::type
 */
template <typename T> using remove_reference_t = typename remove_reference<T>::type;

/**
 * struct remove_cv - T without top-level const and volatile (std::remove_cv)
 * @type: the unqualified T
 */
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
/**
 * typedef remove_cvref_t - T without reference, const and volatile
 */
template <typename T> using remove_cvref_t = typename remove_cv<remove_reference_t<T>>::type;

/**
 * move() - let @t be moved from (std::move)
 * @t: the object
 *
 * Context: any (constexpr).
 * Return: @t as an rvalue reference.
 */
template <typename T> constexpr remove_reference_t<T> &&move(T &&t) noexcept
{
	return static_cast<remove_reference_t<T> &&>(t);
}
/**
 * forward() - pass an lvalue on as it was received (std::forward)
 * @t: a forwarding reference's argument, here an lvalue
 *
 * Context: any (constexpr).
 * Return: @t as T&&: an lvalue stays one.
 */
template <typename T> constexpr T &&forward(remove_reference_t<T> &t) noexcept
{
	return static_cast<T &&>(t);
}
/**
 * forward() - pass an rvalue on as it was received (std::forward)
 * @t: a forwarding reference's argument, here an rvalue
 *
 * Context: any (constexpr).
 * Return: @t as T&&.
 */
template <typename T> constexpr T &&forward(remove_reference_t<T> &&t) noexcept
{
	return static_cast<T &&>(t);
}
/**
 * exchange() - replace @obj with @v (std::exchange)
 * @obj: the object to update
 * @v: its new value
 *
 * Not atomic: for that, Atomic::exchange().
 *
 * Context: any (constexpr).
 * Return: the old value of @obj.
 */
template <typename T, typename U = T> constexpr T exchange(T &obj, U &&v)
{
	T old = move(obj);
	obj = forward<U>(v);
	return old;
}
/**
 * swap() - exchange the values of @a and @b (std::swap)
 * @a: one object
 * @b: the other
 *
 * Context: any (constexpr).
 */
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
/**
 * impl_is_signed() - is T a signed integer type? (is_signed_v's body)
 *
 * Context: any (constexpr).
 * Return: true for signed integers, false for unsigned ones and non-integers.
 */
template <typename T> constexpr bool impl_is_signed()
{
	if constexpr (is_integral_v<T>)
		return T(-1) < T(0);
	else
		return false;
}
template <typename T> inline constexpr bool is_signed_v = impl_is_signed<T>();
/**
 * struct enable_if - SFINAE helper (std::enable_if)
 *
 * Has a member type "type" (T) only when B is true, so that a template
 * using it drops out of overload resolution otherwise.
 */
template <bool B, typename T = void> struct enable_if {
};
template <typename T> struct enable_if<true, T> {
	using type = T;
};
/**
 * typedef enable_if_t - enable_if<B, T>::type
 */
template <bool B, typename T = void> using enable_if_t = typename enable_if<B, T>::type;
/**
 * declval() - a T&& in an unevaluated context (std::declval)
 *
 * Declared only: usable in decltype() and requires-expressions, never
 * called.
 *
 * Context: unevaluated operands only.
 * Return: nothing at run time.
 */
template <typename T> T &&declval() noexcept;

/**
 * min() - the smaller of @a and @b (Linux min())
 * @a: a value
 * @b: a value of the same type
 *
 * Context: any (constexpr).
 * Return: @b if it is less than @a, else @a.
 */
template <typename T> constexpr const T &min(const T &a, const T &b)
{
	return b < a ? b : a;
}
/**
 * max() - the larger of @a and @b (Linux max())
 * @a: a value
 * @b: a value of the same type
 *
 * Context: any (constexpr).
 * Return: @b if @a is less than it, else @a.
 */
template <typename T> constexpr const T &max(const T &a, const T &b)
{
	return a < b ? b : a;
}
/**
 * clamp() - @v limited to [@lo, @hi] (Linux clamp())
 * @v: the value
 * @lo: the lower bound
 * @hi: the upper bound, not below @lo
 *
 * Context: any (constexpr).
 * Return: @lo, @hi or @v.
 */
template <typename T> constexpr T clamp(T v, T lo, T hi)
{
	return v < lo ? lo : (hi < v ? hi : v);
}

/**
 * check_add_overflow() - @a + @b into *@res, reporting overflow (Linux)
 * @a: an operand
 * @b: the other
 * @res: the sum, wrapped when it overflowed
 *
 * Context: any (constexpr).
 * Return: true when the sum does not fit in T.
 */
template <typename T> constexpr bool check_add_overflow(T a, T b, T *res)
{
	return __builtin_add_overflow(a, b, res);
}
/**
 * check_mul_overflow() - @a * @b into *@res, reporting overflow (Linux)
 * @a: an operand
 * @b: the other
 * @res: the product, wrapped when it overflowed
 *
 * Context: any (constexpr).
 * Return: true when the product does not fit in T.
 */
template <typename T> constexpr bool check_mul_overflow(T a, T b, T *res)
{
	return __builtin_mul_overflow(a, b, res);
}
/**
 * is_power_of_2() - is @n a power of two? (Linux is_power_of_2())
 * @n: the value
 *
 * Context: any (constexpr).
 * Return: true for 1, 2, 4, ...; false for 0 and everything else.
 */
constexpr bool is_power_of_2(u64 n)
{
	return n != 0 && (n & (n - 1)) == 0;
}
/**
 * align_up() - round @v up to a multiple of @a (Linux ALIGN())
 * @v: the value
 * @a: the alignment, a power of two
 *
 * Context: any (constexpr).
 * Return: the smallest multiple of @a not below @v (wraps to 0 past T's
 * range: check the bounds first where @v comes from a peer).
 */
template <typename T> constexpr T align_up(T v, T a)
{
	return (v + a - 1) & ~(a - 1);
}
/**
 * div_round_up() - @n / @d rounded up (Linux DIV_ROUND_UP())
 * @n: the dividend
 * @d: the divisor, not 0
 *
 * Not for 64-bit operands in code built for the kernel: see <keel/math.h>.
 *
 * Context: any (constexpr).
 * Return: the quotient, rounded up.
 */
template <typename T> constexpr T div_round_up(T n, T d)
{
	return (n + d - 1) / d;
}

/**
 * class NonMovable - a base that forbids copying and moving
 *
 * Objects that are registered, linked into lists, locked or shared must not
 * be copied or moved (their address is their identity): derive from this
 * (fbl DISALLOW_COPY_ASSIGN_AND_MOVE, Rust's pinning).
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

/**
 * class ScopeGuard - run a callable at scope exit unless disarmed
 *
 * Undoes a half-done set-up on every early return, instead of a goto
 * ladder: arm it after each step, disarm() it once everything succeeded.
 */
template <typename F> class ScopeGuard : NonMovable {
public:
	/**
	 * ScopeGuard() - arm @f
	 * @f: the callable to run when the guard goes out of scope
	 *
	 * Context: any.
	 */
	explicit ScopeGuard(F f) : m_fn(move(f)) {}
	~ScopeGuard()
	{
		if (m_armed)
			m_fn();
	}
	/**
	 * disarm() - do not run the callable after all
	 *
	 * Context: any.
	 */
	void disarm() { m_armed = false; }

private:
	F m_fn;
	bool m_armed = true;
};

} // namespace keel

#endif
