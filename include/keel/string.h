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
void *memcpy(void *dst, const void *src, __SIZE_TYPE__ n) noexcept;
void *memmove(void *dst, const void *src, __SIZE_TYPE__ n) noexcept;
void *memset(void *s, int c, __SIZE_TYPE__ n) noexcept;
int memcmp(const void *a, const void *b, __SIZE_TYPE__ n) noexcept;
__SIZE_TYPE__ strlen(const char *s) noexcept;
__SIZE_TYPE__ strnlen(const char *s, __SIZE_TYPE__ max) noexcept;
int strcmp(const char *a, const char *b) noexcept;
int strncmp(const char *a, const char *b, __SIZE_TYPE__ n) noexcept;
}

namespace keel {

/*
 * strscpy(): copy a NUL-terminated string into @dst of @size, always
 * terminating. Returns the length copied, or -E2BIG when truncated.
 */
Result<size_t> strscpy(char *dst, const char *src, size_t size);
/* Copy at most @n bytes of an untrusted, possibly unterminated buffer; always NUL-terminates. */
size_t strscpy_untrusted(char *dst, size_t size, const char *src, size_t n);
__printf(3, 4) int snprintf(char *buf, size_t size, const char *fmt, ...);
inline bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

} // namespace keel

#endif
