/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Logging with a prefix (pr_*) or a device prefix (dev_*), and rate limiting.
 * Formats are printf's common subset (no %p extensions: the hosted port's
 * libc would not know them); the compiler checks them.
 *
 * Every line also goes to a small in-memory record the tests read
 * (log_count(), log_last()), so a test can assert that bad input produced
 * its log line. The record is the framework's, identical on every port.
 */
#ifndef KEEL_LOG_H
#define KEEL_LOG_H

#include <keel/atomic.h>
#include <keel/port.h>
#include <keel/types.h>

namespace keel {

class Device;

void vlog(int level, const Device *dev, const char *fmt, __builtin_va_list ap) __printf(3, 0);
void log(int level, const Device *dev, const char *fmt, ...) __printf(3, 4);

/*
 * Rate limiting (Linux ratelimit_state): at most @burst lines per @interval_ns;
 * the number suppressed is reported with the next line that passes.
 */
struct RateLimit {
	s64 interval_ns;
	u32 burst;
	/* Lock-free state: begin of the current window and lines in it. */
	s64 begin;
	u32 printed;
	u32 missed;
	bool allow();
};
#define KEEL_RATELIMIT_INTERVAL_NS (5LL * 1000 * 1000 * 1000)
#define KEEL_RATELIMIT_BURST 10

/* Test support: lines logged at @level or more severe since start, and the last one. */
u64 log_count(int max_level = KEEL_LOGLEVEL_WARNING);
/* Copies the last line logged at @max_level or more severe into @buf (NUL-terminated). */
void log_last(char *buf, size_t size, int max_level = KEEL_LOGLEVEL_WARNING);
/* Sequence number of the next line to be logged (any level): take it before the action. */
u64 log_seq();
/*
 * True if a line containing @needle was logged at @max_level or worse since
 * @since (a log_seq() value). Only the last 64 lines are kept.
 */
bool log_contains_since(u64 since, const char *needle, int max_level = KEEL_LOGLEVEL_WARNING);
/* When false, lines still count but are not printed (quiet hostile-peer tests). */
void log_set_echo(bool echo);

} // namespace keel

#define pr_fmt_prefix ""
#define pr_err(fmt, ...) ::keel::log(KEEL_LOGLEVEL_ERR, nullptr, fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...) ::keel::log(KEEL_LOGLEVEL_WARNING, nullptr, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) ::keel::log(KEEL_LOGLEVEL_INFO, nullptr, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) ::keel::log(KEEL_LOGLEVEL_DEBUG, nullptr, fmt, ##__VA_ARGS__)
#define dev_err(dev, fmt, ...) ::keel::log(KEEL_LOGLEVEL_ERR, (dev), fmt, ##__VA_ARGS__)
#define dev_warn(dev, fmt, ...) ::keel::log(KEEL_LOGLEVEL_WARNING, (dev), fmt, ##__VA_ARGS__)
#define dev_info(dev, fmt, ...) ::keel::log(KEEL_LOGLEVEL_INFO, (dev), fmt, ##__VA_ARGS__)
#define dev_dbg(dev, fmt, ...) ::keel::log(KEEL_LOGLEVEL_DEBUG, (dev), fmt, ##__VA_ARGS__)

#define __keel_log_ratelimited(level, dev, fmt, ...)                                               \
	do {                                                                                       \
		static constinit ::keel::RateLimit _rs = { KEEL_RATELIMIT_INTERVAL_NS,             \
							   KEEL_RATELIMIT_BURST, 0, 0, 0 };        \
		if (_rs.allow())                                                                   \
			::keel::log(level, (dev), fmt, ##__VA_ARGS__);                             \
	} while (0)
#define dev_err_ratelimited(dev, fmt, ...)                                                         \
	__keel_log_ratelimited(KEEL_LOGLEVEL_ERR, dev, fmt, ##__VA_ARGS__)
#define dev_warn_ratelimited(dev, fmt, ...)                                                        \
	__keel_log_ratelimited(KEEL_LOGLEVEL_WARNING, dev, fmt, ##__VA_ARGS__)
#define pr_err_ratelimited(fmt, ...)                                                               \
	__keel_log_ratelimited(KEEL_LOGLEVEL_ERR, nullptr, fmt, ##__VA_ARGS__)
#define pr_warn_ratelimited(fmt, ...)                                                              \
	__keel_log_ratelimited(KEEL_LOGLEVEL_WARNING, nullptr, fmt, ##__VA_ARGS__)

#define __keel_log_once(level, dev, fmt, ...)                                                      \
	do {                                                                                       \
		static constinit bool _once;                                                       \
		if (!__atomic_exchange_n(&_once, true, __ATOMIC_RELAXED))                          \
			::keel::log(level, (dev), fmt, ##__VA_ARGS__);                             \
	} while (0)
#define dev_err_once(dev, fmt, ...) __keel_log_once(KEEL_LOGLEVEL_ERR, dev, fmt, ##__VA_ARGS__)
#define dev_warn_once(dev, fmt, ...) __keel_log_once(KEEL_LOGLEVEL_WARNING, dev, fmt, ##__VA_ARGS__)

/* WARN_ON(): true if @cond; prints a warning with a backtrace (kernel: WARNING:). */
#define WARN_ON(cond)                                                                              \
	({                                                                                         \
		bool _keel_c = !!(cond);                                                           \
		if (unlikely(_keel_c))                                                             \
			keel_port_warn(__FILE__, __LINE__, #cond);                                 \
		unlikely(_keel_c);                                                                 \
	})
#define WARN_ON_ONCE(cond)                                                                         \
	({                                                                                         \
		static constinit bool _keel_warned;                                                \
		bool _keel_c = !!(cond);                                                           \
		if (unlikely(_keel_c) &&                                                           \
		    !__atomic_exchange_n(&_keel_warned, true, __ATOMIC_RELAXED))                   \
			keel_port_warn(__FILE__, __LINE__, #cond);                                 \
		unlikely(_keel_c);                                                                 \
	})
#define BUG_ON(cond)                                                                               \
	do {                                                                                       \
		if (unlikely(cond))                                                                \
			keel_port_bug(__FILE__, __LINE__, #cond);                                  \
	} while (0)
#define might_sleep() keel_port_might_sleep(__FILE__, __LINE__)

#endif
