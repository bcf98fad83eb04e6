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

/**
 * vlog() - log one line, from a va_list
 * @level: a KEEL_LOGLEVEL_* (printk's levels)
 * @dev: the device to prefix the line with ("name: "), or nullptr
 * @fmt: the format, without a trailing newline (one is dropped)
 * @ap: its arguments
 *
 * The line (at most 255 bytes, truncated beyond) goes to the port's
 * log (printk) unless echo is off, and to the in-memory record the tests
 * read.
 *
 * Context: any.
 */
void vlog(int level, const Device *dev, const char *fmt, __builtin_va_list ap) __printf(3, 0);
/**
 * log() - log one line (what the pr_* and dev_* macros call)
 * @level: a KEEL_LOGLEVEL_*
 * @dev: the device to prefix the line with, or nullptr
 * @fmt: the format, without a trailing newline
 * @...: its arguments
 *
 * Context: any.
 */
void log(int level, const Device *dev, const char *fmt, ...) __printf(3, 4);

/**
 * struct RateLimit - a rate limit for log lines (Linux ratelimit_state)
 * @interval_ns: the window's length
 * @burst: lines allowed per window
 * @begin: start of the current window (0: none yet)
 * @printed: lines allowed in the current window
 * @missed: lines suppressed since the last report
 * @epoch: the ratelimit_reset_all() generation of the current window
 *
 * At most @burst lines per @interval_ns; the count suppressed is reported
 * ("N messages suppressed") when the next window opens. Lock-free: every
 * field is accessed atomically. Usually a static constinit object made by
 * the *_ratelimited() macros.
 */
struct RateLimit {
	s64 interval_ns;
	u32 burst;
	/* Lock-free state: begin of the current window and lines in it. */
	s64 begin;
	u32 printed;
	u32 missed;
	u32 epoch;
	/**
	 * allow() - may one more line be logged now?
	 *
	 * Counts the line as printed or missed.
	 *
	 * Context: any.
	 * Return: true when it may.
	 */
	bool allow();
};
#define KEEL_RATELIMIT_INTERVAL_NS (5LL * 1000 * 1000 * 1000)
#define KEEL_RATELIMIT_BURST 10

/**
 * ratelimit_reset_all() - open a fresh window at every rate limit
 *
 * Each RateLimit starts a new window (nothing printed, nothing missed) at
 * its next allow(). The test runners call it before each case, so that a
 * line a case expects is not suppressed by the lines of the cases before
 * it (rate limits are per call site, shared by every case).
 *
 * Context: any.
 */
void ratelimit_reset_all();

/**
 * log_count() - lines logged so far at @max_level or more severe
 * @max_level: the least severe level counted (numerically the largest)
 *
 * Test support. Not a position in the log: to look for lines an action
 * produced, take log_seq() before it.
 *
 * Context: any.
 * Return: the count since start.
 */
u64 log_count(int max_level = KEEL_LOGLEVEL_WARNING);
/**
 * log_last() - the last line logged at @max_level or more severe
 * @buf: where to copy it (NUL-terminated; empty when there is none)
 * @size: bytes of @buf
 * @max_level: the least severe level considered
 *
 * Test support.
 *
 * Context: any.
 */
void log_last(char *buf, size_t size, int max_level = KEEL_LOGLEVEL_WARNING);
/**
 * log_seq() - the sequence number the next logged line will get
 *
 * Test support: a mark taken before an action, for log_contains_since().
 *
 * Context: any.
 * Return: the number (counts lines of every level).
 */
u64 log_seq();
/**
 * log_contains_since() - was a line containing @needle logged since a mark?
 * @since: a log_seq() value taken before the action
 * @needle: the text to look for
 * @max_level: the least severe level considered
 *
 * Test support. Only the last 64 lines are kept: look soon after the
 * action.
 *
 * Context: any.
 * Return: true when such a line was logged at or after @since.
 */
bool log_contains_since(u64 since, const char *needle, int max_level = KEEL_LOGLEVEL_WARNING);
/**
 * log_set_echo() - print lines, or only record them
 * @echo: false: lines still count and are recorded but not printed (quiet
 *	hostile-peer tests); emergencies are printed regardless
 *
 * Context: any.
 */
void log_set_echo(bool echo);

} // namespace keel

#define pr_fmt_prefix ""
/**
 * pr_err() - log an error line (Linux pr_err())
 * @fmt: printf format, no trailing newline
 * @...: its arguments
 *
 * Context: any.
 */
#define pr_err(fmt, ...) ::keel::log(KEEL_LOGLEVEL_ERR, nullptr, fmt, ##__VA_ARGS__)
/**
 * pr_warn() - log a warning line (not a WARN(): no backtrace)
 * @fmt: printf format
 * @...: its arguments
 *
 * Context: any.
 */
#define pr_warn(fmt, ...) ::keel::log(KEEL_LOGLEVEL_WARNING, nullptr, fmt, ##__VA_ARGS__)
/**
 * pr_info() - log an informational line
 * @fmt: printf format
 * @...: its arguments
 *
 * Context: any.
 */
#define pr_info(fmt, ...) ::keel::log(KEEL_LOGLEVEL_INFO, nullptr, fmt, ##__VA_ARGS__)
/**
 * pr_debug() - log a debug line
 * @fmt: printf format
 * @...: its arguments
 *
 * Context: any.
 */
#define pr_debug(fmt, ...) ::keel::log(KEEL_LOGLEVEL_DEBUG, nullptr, fmt, ##__VA_ARGS__)
/**
 * dev_err() - log an error line about @dev ("name: ...")
 * @dev: the device (a const Device *), or nullptr for no prefix
 * @fmt: printf format
 * @...: its arguments
 *
 * Context: any.
 */
#define dev_err(dev, fmt, ...) ::keel::log(KEEL_LOGLEVEL_ERR, (dev), fmt, ##__VA_ARGS__)
/**
 * dev_warn() - log a warning line about @dev
 * @dev: the device, or nullptr
 * @fmt: printf format
 * @...: its arguments
 *
 * Context: any.
 */
#define dev_warn(dev, fmt, ...) ::keel::log(KEEL_LOGLEVEL_WARNING, (dev), fmt, ##__VA_ARGS__)
/**
 * dev_info() - log an informational line about @dev
 * @dev: the device, or nullptr
 * @fmt: printf format
 * @...: its arguments
 *
 * Context: any.
 */
#define dev_info(dev, fmt, ...) ::keel::log(KEEL_LOGLEVEL_INFO, (dev), fmt, ##__VA_ARGS__)
/**
 * dev_dbg() - log a debug line about @dev
 * @dev: the device, or nullptr
 * @fmt: printf format
 * @...: its arguments
 *
 * Context: any.
 */
#define dev_dbg(dev, fmt, ...) ::keel::log(KEEL_LOGLEVEL_DEBUG, (dev), fmt, ##__VA_ARGS__)

#define __keel_log_ratelimited(level, dev, fmt, ...)                                               \
	do {                                                                                       \
		static constinit ::keel::RateLimit _rs = {                                         \
			KEEL_RATELIMIT_INTERVAL_NS, KEEL_RATELIMIT_BURST, 0, 0, 0, 0               \
		};                                                                                 \
		if (_rs.allow())                                                                   \
			::keel::log(level, (dev), fmt, ##__VA_ARGS__);                             \
	} while (0)
/**
 * dev_err_ratelimited() - dev_err(), at most KEEL_RATELIMIT_BURST lines per
 * KEEL_RATELIMIT_INTERVAL_NS from this call site
 * @dev: the device, or nullptr
 * @fmt: printf format
 * @...: its arguments
 *
 * For every error a peer can trigger at will (a bad message, a bad index):
 * it must not be able to flood the log.
 *
 * Context: any.
 */
#define dev_err_ratelimited(dev, fmt, ...)                                                         \
	__keel_log_ratelimited(KEEL_LOGLEVEL_ERR, dev, fmt, ##__VA_ARGS__)
/**
 * dev_warn_ratelimited() - dev_warn(), rate-limited per call site
 * @dev: the device, or nullptr
 * @fmt: printf format
 * @...: its arguments
 *
 * Context: any.
 */
#define dev_warn_ratelimited(dev, fmt, ...)                                                        \
	__keel_log_ratelimited(KEEL_LOGLEVEL_WARNING, dev, fmt, ##__VA_ARGS__)
/**
 * pr_err_ratelimited() - pr_err(), rate-limited per call site
 * @fmt: printf format
 * @...: its arguments
 *
 * Context: any.
 */
#define pr_err_ratelimited(fmt, ...)                                                               \
	__keel_log_ratelimited(KEEL_LOGLEVEL_ERR, nullptr, fmt, ##__VA_ARGS__)
/**
 * pr_warn_ratelimited() - pr_warn(), rate-limited per call site
 * @fmt: printf format
 * @...: its arguments
 *
 * Context: any.
 */
#define pr_warn_ratelimited(fmt, ...)                                                              \
	__keel_log_ratelimited(KEEL_LOGLEVEL_WARNING, nullptr, fmt, ##__VA_ARGS__)

#define __keel_log_once(level, dev, fmt, ...)                                                      \
	do {                                                                                       \
		static constinit bool _once;                                                       \
		if (!__atomic_exchange_n(&_once, true, __ATOMIC_RELAXED))                          \
			::keel::log(level, (dev), fmt, ##__VA_ARGS__);                             \
	} while (0)
/**
 * dev_err_once() - dev_err(), only the first time this call site runs
 * @dev: the device, or nullptr
 * @fmt: printf format
 * @...: its arguments
 *
 * Context: any.
 */
#define dev_err_once(dev, fmt, ...) __keel_log_once(KEEL_LOGLEVEL_ERR, dev, fmt, ##__VA_ARGS__)
/**
 * dev_warn_once() - dev_warn(), only the first time this call site runs
 * @dev: the device, or nullptr
 * @fmt: printf format
 * @...: its arguments
 *
 * Context: any.
 */
#define dev_warn_once(dev, fmt, ...) __keel_log_once(KEEL_LOGLEVEL_WARNING, dev, fmt, ##__VA_ARGS__)

/**
 * WARN_ON() - warn with a backtrace when @cond is true (Linux WARN_ON())
 * @cond: a condition that must never hold: a bug in our code, never bad
 *	input from a peer (log that instead)
 *
 * The kernel prints "WARNING:", which the test runner treats as a failure.
 *
 * Context: any.
 * Return: @cond, as a bool (for "if (WARN_ON(x)) return;").
 */
#define WARN_ON(cond)                                                                              \
	({                                                                                         \
		bool _keel_c = !!(cond);                                                           \
		if (unlikely(_keel_c))                                                             \
			keel_port_warn(__FILE__, __LINE__, #cond);                                 \
		unlikely(_keel_c);                                                                 \
	})
/**
 * WARN_ON_ONCE() - WARN_ON(), printed only the first time for this call site
 * @cond: a condition that must never hold
 *
 * Context: any.
 * Return: @cond, every time.
 */
#define WARN_ON_ONCE(cond)                                                                         \
	({                                                                                         \
		static constinit bool _keel_warned;                                                \
		bool _keel_c = !!(cond);                                                           \
		if (unlikely(_keel_c) &&                                                           \
		    !__atomic_exchange_n(&_keel_warned, true, __ATOMIC_RELAXED))                   \
			keel_port_warn(__FILE__, __LINE__, #cond);                                 \
		unlikely(_keel_c);                                                                 \
	})
/**
 * BUG_ON() - stop when @cond is true (Linux BUG_ON(): an oops)
 * @cond: a condition after which continuing would corrupt memory
 *
 * Context: any.
 */
#define BUG_ON(cond)                                                                               \
	do {                                                                                       \
		if (unlikely(cond))                                                                \
			keel_port_bug(__FILE__, __LINE__, #cond);                                  \
	} while (0)
/**
 * might_sleep() - complain when called in atomic context (Linux might_sleep())
 *
 * The first line of every function that may sleep, so that a call from a
 * callback or under a spinlock is reported even when it happens not to
 * sleep this time.
 *
 * Context: any (that is the point).
 */
#define might_sleep() keel_port_might_sleep(__FILE__, __LINE__)

#endif
