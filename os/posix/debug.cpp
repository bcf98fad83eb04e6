// SPDX-License-Identifier: GPL-2.0
/*
 * Hosted diagnostics: BUG (print and abort), WARN (print, backtrace, count),
 * might_sleep() checking, and the log sink (stderr, one write per line).
 */
#include <execinfo.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <keel/posix.h>

#include "posix_internal.h"

namespace keel::posix {

namespace {

constinit unsigned long s_warn_count;

/* might_sleep() sites already reported (warn once per site, like Linux). */
struct Site {
	const char *file;
	int line;
};
constexpr int MAX_SITES = 128;
constinit Site s_sites[MAX_SITES] = {};
constinit int s_nr_sites;
constinit pthread_mutex_t s_sites_lock = PTHREAD_MUTEX_INITIALIZER;

void write_all(const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(STDERR_FILENO, buf, len);
		if (n <= 0)
			return;
		buf += n;
		len -= size_t(n);
	}
}

void dump_backtrace()
{
	void *frames[32];
	int n = backtrace(frames, 32);
	/* Skip this function and the port entry point. */
	if (n > 2)
		backtrace_symbols_fd(frames + 2, n - 2, STDERR_FILENO);
}

/* True the first time @file:@line is seen. */
bool first_at_site(const char *file, int line)
{
	check_pthread(pthread_mutex_lock(&s_sites_lock), "sites lock");
	bool first = true;
	for (int i = 0; i < s_nr_sites; i++) {
		if (s_sites[i].line == line && strcmp(s_sites[i].file, file) == 0) {
			first = false;
			break;
		}
	}
	if (first && s_nr_sites < MAX_SITES)
		s_sites[s_nr_sites++] = { file, line };
	pthread_mutex_unlock(&s_sites_lock);
	return first;
}

} // namespace

void warn_fmt(const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	int off = snprintf(msg, sizeof(msg), "WARNING: %s:%d ", file, line);
	if (off < 0 || size_t(off) >= sizeof(msg))
		off = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + off, sizeof(msg) - size_t(off), fmt, ap);
	va_end(ap);
	size_t len = strlen(msg);
	if (len < sizeof(msg) - 1)
		msg[len++] = '\n';
	__atomic_fetch_add(&s_warn_count, 1, __ATOMIC_SEQ_CST);
	write_all(msg, len);
	dump_backtrace();
}

void check_pthread(int rc, const char *what)
{
	if (rc != 0) [[unlikely]] {
		char msg[128];
		snprintf(msg, sizeof(msg), "pthread error %d in %s", rc, what);
		keel_port_bug(__FILE__, __LINE__, msg);
	}
}

} // namespace keel::posix

using namespace keel::posix;

extern "C" void keel_port_bug(const char *file, int line, const char *what)
{
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "BUG: %s:%d %s\n", file, line, what);
	if (n > 0)
		write_all(msg, size_t(n) < sizeof(msg) ? size_t(n) : sizeof(msg) - 1);
	dump_backtrace();
	abort();
}

extern "C" void keel_port_warn(const char *file, int line, const char *what)
{
	warn_fmt(file, line, "%s", what);
}

extern "C" void keel_port_might_sleep(const char *file, int line)
{
	if (atomic_depth() == 0) [[likely]]
		return;
	if (first_at_site(file, line))
		warn_fmt(file, line,
			 "sleeping function called from invalid context (atomic depth %d)",
			 atomic_depth());
}

extern "C" unsigned long keel_posix_warn_count(void)
{
	return __atomic_load_n(&s_warn_count, __ATOMIC_SEQ_CST);
}

extern "C" void keel_port_log(int level, const char *msg)
{
	static const char *const prefix[] = { "emerg", "alert",	 "crit", "err",
					      "warn",  "notice", "info", "debug" };
	s64 now = now_ns();
	char line[1024];
	int n = snprintf(line, sizeof(line), "[%5lld.%06lld] %s: %s\n",
			 (long long)(now / 1000000000), (long long)(now % 1000000000 / 1000),
			 prefix[level & 7], msg);
	if (n < 0)
		return;
	if (size_t(n) >= sizeof(line)) {
		/* Truncated: keep the line a line. */
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	write_all(line, size_t(n));
}

extern "C" int keel_port_vsnprintf(char *buf, __SIZE_TYPE__ size, const char *fmt,
				   __builtin_va_list ap)
{
	return vsnprintf(buf, size, fmt, ap);
}
