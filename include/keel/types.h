/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fixed-width types for freestanding C++ (no libc headers in kernel builds).
 */
#ifndef KEEL_TYPES_H
#define KEEL_TYPES_H

/**
 * typedef u8 - unsigned 8-bit integer (Linux u8)
 */
typedef __UINT8_TYPE__ u8;
/**
 * typedef u16 - unsigned 16-bit integer (Linux u16)
 */
typedef __UINT16_TYPE__ u16;
/**
 * typedef u32 - unsigned 32-bit integer (Linux u32)
 */
typedef __UINT32_TYPE__ u32;
/**
 * typedef u64 - unsigned 64-bit integer (Linux u64)
 */
typedef __UINT64_TYPE__ u64;
/**
 * typedef s8 - signed 8-bit integer (Linux s8)
 */
typedef __INT8_TYPE__ s8;
/**
 * typedef s16 - signed 16-bit integer (Linux s16)
 */
typedef __INT16_TYPE__ s16;
/**
 * typedef s32 - signed 32-bit integer (Linux s32)
 */
typedef __INT32_TYPE__ s32;
/**
 * typedef s64 - signed 64-bit integer (Linux s64)
 */
typedef __INT64_TYPE__ s64;

#ifdef __cplusplus
namespace keel {
/**
 * typedef size_t - an object's size in bytes (the compiler's size_t)
 */
using size_t = __SIZE_TYPE__;
/**
 * typedef ssize_t - a size or a negative errno (Linux ssize_t)
 */
using ssize_t = __PTRDIFF_TYPE__;
/**
 * typedef uintptr_t - an unsigned integer that holds a pointer's value
 */
using uintptr_t = __UINTPTR_TYPE__;
/**
 * typedef ptrdiff_t - the difference of two pointers into one object
 */
using ptrdiff_t = __PTRDIFF_TYPE__;
/**
 * typedef nullptr_t - the type of nullptr (for overloads that take it)
 */
using nullptr_t = decltype(nullptr);
/**
 * typedef dma_addr_t - an address as a device sees it (Linux dma_addr_t)
 *
 * Always 64 bits wide, whatever the CPU's pointer width, so that one
 * structure layout serves every port.
 */
using dma_addr_t = u64;
/**
 * typedef ktime_t - nanoseconds of the monotonic clock (Linux ktime_t)
 */
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
