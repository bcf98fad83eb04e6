/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C string/memory functions every port provides (the kernel exports
 * them; hosted: libc), and bounded helpers of our own.
 */
#ifndef KEEL_STRING_H
#define KEEL_STRING_H

#include <keel/error.h>
#include <keel/types.h>

/*
 * noexcept: glibc declares these so in C++ (__THROW), and Clang rejects a
 * second declaration with a different exception specification when a hosted
 * file also includes <string.h>. Harmless in kernel builds.
 */
extern "C" {
/**
 * memcpy() - copy @n bytes from @src to @dst, which must not overlap
 * @dst: destination
 * @src: source
 * @n: bytes
 *
 * Not for shared memory a peer writes (torn, repeated reads): use
 * ShmRegion's accessors.
 *
 * Context: any.
 * Return: @dst.
 */
void *memcpy(void *dst, const void *src, __SIZE_TYPE__ n) noexcept;
/**
 * memmove() - copy @n bytes from @src to @dst, which may overlap
 * @dst: destination
 * @src: source
 * @n: bytes
 *
 * Context: any.
 * Return: @dst.
 */
void *memmove(void *dst, const void *src, __SIZE_TYPE__ n) noexcept;
/**
 * memset() - fill @n bytes at @s with the byte @c
 * @s: the memory
 * @c: the byte value (converted to unsigned char)
 * @n: bytes
 *
 * Context: any.
 * Return: @s.
 */
void *memset(void *s, int c, __SIZE_TYPE__ n) noexcept;
/**
 * memcmp() - compare @n bytes of @a and @b
 * @a: one buffer
 * @b: the other
 * @n: bytes
 *
 * Not constant-time.
 *
 * Context: any.
 * Return: 0 when equal, else the sign of the first differing byte of @a
 * minus that of @b.
 */
int memcmp(const void *a, const void *b, __SIZE_TYPE__ n) noexcept;
/**
 * strlen() - the length of the NUL-terminated string @s
 * @s: the string
 *
 * Context: any.
 * Return: bytes before the NUL.
 */
__SIZE_TYPE__ strlen(const char *s) noexcept;
/**
 * strnlen() - the length of @s, reading at most @max bytes
 * @s: the string, terminated or not
 * @max: the most bytes to read
 *
 * Context: any.
 * Return: bytes before the NUL, or @max when none is found.
 */
__SIZE_TYPE__ strnlen(const char *s, __SIZE_TYPE__ max) noexcept;
/**
 * strcmp() - compare two NUL-terminated strings
 * @a: one string
 * @b: the other
 *
 * Context: any.
 * Return: 0 when equal, else negative or positive as @a sorts before or
 * after @b.
 */
int strcmp(const char *a, const char *b) noexcept;
/**
 * strncmp() - compare at most @n bytes of two strings
 * @a: one string
 * @b: the other
 * @n: the most bytes to compare
 *
 * Context: any.
 * Return: as strcmp(), over the first @n bytes.
 */
int strncmp(const char *a, const char *b, __SIZE_TYPE__ n) noexcept;
}

namespace keel {

/**
 * strscpy() - copy a NUL-terminated string into a buffer (Linux strscpy())
 * @dst: the buffer
 * @src: the string (trusted: our own memory)
 * @size: bytes of @dst
 *
 * @dst is always terminated (unless @size is 0): a string that does not
 * fit is truncated.
 *
 * Context: any.
 * Return: the length copied (without the NUL), or -E2BIG when @src was
 * truncated or @size is 0.
 */
Result<size_t> strscpy(char *dst, const char *src, size_t size);
/**
 * strscpy_untrusted() - copy a string a peer wrote, in one bounded pass
 * @dst: the buffer
 * @size: bytes of @dst
 * @src: the peer's buffer (shared memory): maybe unterminated, maybe
 *	changing while read
 * @n: bytes of @src that may be read
 *
 * Reads each byte of @src once (READ_ONCE) and never past @n, stops at a
 * NUL, and always terminates @dst (unless @size is 0): a name of the full
 * wire size needs @size = @n + 1 (rpmsg_ns.c clamps the same way).
 *
 * Context: any.
 * Return: the length copied (without the NUL).
 */
size_t strscpy_untrusted(char *dst, size_t size, const char *src, size_t n);
/**
 * snprintf() - format into a buffer, always terminated (the kernel's)
 * @buf: the buffer
 * @size: bytes of @buf
 * @fmt: the format (the kernel's printf subset: no floating point)
 * @...: its arguments
 *
 * Context: any.
 * Return: the length the whole output would have had (>= @size means it
 * was truncated).
 */
__printf(3, 4) int snprintf(char *buf, size_t size, const char *fmt, ...);
/**
 * streq() - are two NUL-terminated strings equal?
 * @a: one string
 * @b: the other
 *
 * Context: any.
 * Return: true when they are.
 */
inline bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

} // namespace keel

#endif
