// SPDX-License-Identifier: GPL-2.0
#include <keel/port.h>
#include <keel/string.h>

namespace keel {

Result<size_t> strscpy(char *dst, const char *src, size_t size)
{
	if (size == 0)
		return err(-E2BIG);
	size_t len = strnlen(src, size);
	if (len == size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return err(-E2BIG);
	}
	memcpy(dst, src, len + 1);
	return len;
}

size_t strscpy_untrusted(char *dst, size_t size, const char *src, size_t n)
{
	if (size == 0)
		return 0;
	size_t len = 0;
	/* The source may be shared memory: one pass, bounded by both sizes. */
	while (len < n && len + 1 < size) {
		char c = READ_ONCE(src[len]);
		if (c == '\0')
			break;
		dst[len++] = c;
	}
	dst[len] = '\0';
	return len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	__builtin_va_list ap;
	__builtin_va_start(ap, fmt);
	int n = keel_port_vsnprintf(buf, size, fmt, ap);
	__builtin_va_end(ap);
	return n;
}

} // namespace keel
