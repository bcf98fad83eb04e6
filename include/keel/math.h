/* SPDX-License-Identifier: GPL-2.0 */
/*
 * 64-bit division (Linux <linux/math64.h>). On a 32-bit target a plain '/'
 * or '%' of a 64-bit integer compiles to a libgcc call (__aeabi_uldivmod,
 * __udivdi3) that the kernel does not provide, and the build refuses it
 * (scripts/check_rt_helpers.sh). Divide 64-bit values through these: plain
 * division where a long is 64 bits and in constant expressions, the port's
 * helper (the kernel's div_u64_rem()) otherwise.
 */
#ifndef KEEL_MATH_H
#define KEEL_MATH_H

#include <keel/port.h>
#include <keel/types.h>

namespace keel {

/**
 * div_u64_rem() - unsigned 64-by-32 division with remainder
 * @dividend: the dividend
 * @divisor: the divisor, not 0
 * @rem: the remainder is stored here
 *
 * Context: any.
 * Return: @dividend / @divisor.
 */
constexpr u64 div_u64_rem(u64 dividend, u32 divisor, u32 *rem)
{
	if (sizeof(long) == 8 || __builtin_is_constant_evaluated()) {
		*rem = u32(dividend % divisor);
		return dividend / divisor;
	}
	return keel_port_div_u64_rem(dividend, divisor, rem);
}

/**
 * div_u64() - unsigned 64-by-32 division
 * @dividend: the dividend
 * @divisor: the divisor, not 0
 *
 * Context: any.
 * Return: @dividend / @divisor.
 */
constexpr u64 div_u64(u64 dividend, u32 divisor)
{
	u32 rem;
	return div_u64_rem(dividend, divisor, &rem);
}

/**
 * div_s64() - signed 64-by-32 division, truncating toward zero as '/' does
 * @dividend: the dividend
 * @divisor: the divisor, not 0
 *
 * Context: any.
 * Return: @dividend / @divisor.
 */
constexpr s64 div_s64(s64 dividend, s32 divisor)
{
	bool neg = (dividend < 0) != (divisor < 0);
	u64 n = dividend < 0 ? 0 - u64(dividend) : u64(dividend);
	u32 d = divisor < 0 ? 0 - u32(divisor) : u32(divisor);
	u64 q = div_u64(n, d);
	return neg ? -s64(q) : s64(q);
}

} // namespace keel

#endif
