/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fixed-width types for freestanding C++ (no libc headers in kernel builds).
 */
#ifndef KEEL_TYPES_H
#define KEEL_TYPES_H

typedef __UINT8_TYPE__ u8;
typedef __UINT16_TYPE__ u16;
typedef __UINT32_TYPE__ u32;
typedef __UINT64_TYPE__ u64;
typedef __INT8_TYPE__ s8;
typedef __INT16_TYPE__ s16;
typedef __INT32_TYPE__ s32;
typedef __INT64_TYPE__ s64;

#ifdef __cplusplus
namespace keel {
using size_t = __SIZE_TYPE__;
using ssize_t = __PTRDIFF_TYPE__;
using uintptr_t = __UINTPTR_TYPE__;
using ptrdiff_t = __PTRDIFF_TYPE__;
using nullptr_t = decltype(nullptr);
using dma_addr_t = u64;
/* Nanoseconds of the monotonic clock (Linux ktime_t). */
using ktime_t = s64;
} // namespace keel
#endif

#define KEEL_U8_MAX ((u8)~0U)
#define KEEL_U16_MAX ((u16)~0U)
#define KEEL_U32_MAX ((u32)~0U)
#define KEEL_U64_MAX ((u64)~0ULL)
#define KEEL_S64_MAX ((s64)(KEEL_U64_MAX >> 1))
#define KEEL_SIZE_MAX (~(__SIZE_TYPE__)0)
#define KEEL_LONG_MAX ((long)(~0UL >> 1))

#endif
