// SPDX-License-Identifier: GPL-2.0
/*
 * Logging: format once into a line, keep it in a small lock-free history the
 * tests can query, and hand it to the port (printk / stderr).
 */
#include <keel/log.h>
#include <keel/string.h>
#include <keel/time.h>

namespace keel {

/* Provided by the driver core: the device's name for the prefix. */
const char *dev_name(const Device *dev);

namespace {

constexpr size_t LINE_MAX = 256;
constexpr u32 HISTORY = 64; /* power of two */

/*
 * One history slot, written under a per-slot sequence count (odd while the
 * writer is inside), so readers never see a torn line as a whole one.
 */
struct Slot {
	u32 seq = 0;
	int level = 0;
	u64 id = 0;
	char line[LINE_MAX] = {};
};

constinit Slot s_history[HISTORY] = {};
constinit u64 s_next_id;
constinit u64 s_count_by_level[8] = {};
constinit bool s_echo = true;

void record(int level, const char *line)
{
	u64 id = __atomic_fetch_add(&s_next_id, 1, __ATOMIC_RELAXED);
	Slot &s = s_history[id & (HISTORY - 1)];
	/*
	 * Claim the slot (even -> odd). A writer HISTORY lines behind may still
	 * be inside it: then this line stays out of the history (it is printed
	 * and counted) rather than two writers sharing the slot.
	 */
	u32 seq = __atomic_load_n(&s.seq, __ATOMIC_RELAXED);
	if (!(seq & 1) && __atomic_compare_exchange_n(&s.seq, &seq, seq + 1, false,
						      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		s.level = level;
		s.id = id;
		strscpy_untrusted(s.line, sizeof(s.line), line, LINE_MAX);
		__atomic_fetch_add(&s.seq, 1, __ATOMIC_RELEASE);
	}
	__atomic_fetch_add(&s_count_by_level[level & 7], 1, __ATOMIC_RELAXED);
}

/* Copies a consistent slot; false if it is being written. */
bool read_slot(const Slot &s, Slot *out)
{
	u32 before = __atomic_load_n(&s.seq, __ATOMIC_ACQUIRE);
	if (before & 1)
		return false;
	out->level = s.level;
	out->id = s.id;
	memcpy(out->line, s.line, sizeof(out->line));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&s.seq, __ATOMIC_RELAXED) == before;
}

bool contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++)
		if (strncmp(hay, needle, n) == 0)
			return true;
	return n == 0;
}

} // namespace

void vlog(int level, const Device *dev, const char *fmt, __builtin_va_list ap)
{
	char line[LINE_MAX];
	size_t off = 0;
	if (dev) {
		int n = snprintf(line, sizeof(line), "%s: ", dev_name(dev));
		off = n > 0 ? min(size_t(n), sizeof(line) - 1) : 0;
	}
	keel_port_vsnprintf(line + off, sizeof(line) - off, fmt, ap);
	/* Lines carry no newline; drop one if the caller added it. */
	size_t len = strlen(line);
	if (len && line[len - 1] == '\n')
		line[len - 1] = '\0';
	record(level, line);
	if (__atomic_load_n(&s_echo, __ATOMIC_RELAXED) || level <= KEEL_LOGLEVEL_EMERG)
		keel_port_log(level, line);
}

void log(int level, const Device *dev, const char *fmt, ...)
{
	__builtin_va_list ap;
	__builtin_va_start(ap, fmt);
	vlog(level, dev, fmt, ap);
	__builtin_va_end(ap);
}

/* Bumped by ratelimit_reset_all(); a RateLimit of another epoch starts afresh. */
static u32 s_ratelimit_epoch;

void ratelimit_reset_all()
{
	__atomic_add_fetch(&s_ratelimit_epoch, 1, __ATOMIC_RELAXED);
}

bool RateLimit::allow()
{
	s64 now = ktime_get_ns();
	u32 e = __atomic_load_n(&s_ratelimit_epoch, __ATOMIC_RELAXED);
	if (__atomic_exchange_n(&epoch, e, __ATOMIC_RELAXED) != e) {
		/* Reset since our window began: a fresh one, nothing to report. */
		__atomic_store_n(&missed, 0u, __ATOMIC_RELAXED);
		__atomic_store_n(&this->begin, 0, __ATOMIC_RELAXED);
	}
	s64 begin = __atomic_load_n(&this->begin, __ATOMIC_RELAXED);
	if (begin == 0 || now - begin >= interval_ns) {
		/* New window: whoever wins the exchange reports what was missed. */
		if (__atomic_compare_exchange_n(&this->begin, &begin, now, false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED)) {
			u32 missed = __atomic_exchange_n(&this->missed, 0u, __ATOMIC_RELAXED);
			__atomic_store_n(&printed, 0u, __ATOMIC_RELAXED);
			if (missed)
				pr_warn("%u messages suppressed (rate limit)", missed);
		}
	}
	if (__atomic_add_fetch(&printed, 1, __ATOMIC_RELAXED) <= burst)
		return true;
	__atomic_add_fetch(&missed, 1, __ATOMIC_RELAXED);
	return false;
}

u64 log_count(int max_level)
{
	u64 n = 0;
	for (int l = 0; l <= max_level && l < 8; l++)
		n += __atomic_load_n(&s_count_by_level[l], __ATOMIC_RELAXED);
	return n;
}

void log_last(char *buf, size_t size, int max_level)
{
	if (size == 0)
		return;
	buf[0] = '\0';
	u64 next = __atomic_load_n(&s_next_id, __ATOMIC_ACQUIRE);
	for (u64 i = 0; i < HISTORY && i < next; i++) {
		Slot copy;
		u64 id = next - 1 - i;
		if (!read_slot(s_history[id & (HISTORY - 1)], &copy) || copy.id != id)
			continue;
		if (copy.level <= max_level) {
			strscpy_untrusted(buf, size, copy.line, sizeof(copy.line));
			return;
		}
	}
}

bool log_contains_since(u64 since, const char *needle, int max_level)
{
	/* @since is a log_count(KEEL_LOGLEVEL_DEBUG)-style sequence: compare line ids. */
	u64 next = __atomic_load_n(&s_next_id, __ATOMIC_ACQUIRE);
	for (u64 i = 0; i < HISTORY && i < next; i++) {
		Slot copy;
		u64 id = next - 1 - i;
		if (id < since)
			break;
		if (!read_slot(s_history[id & (HISTORY - 1)], &copy) || copy.id != id)
			continue;
		if (copy.level <= max_level && contains(copy.line, needle))
			return true;
	}
	return false;
}

u64 log_seq()
{
	return __atomic_load_n(&s_next_id, __ATOMIC_ACQUIRE);
}

void log_set_echo(bool echo)
{
	__atomic_store_n(&s_echo, echo, __ATOMIC_RELAXED);
}

} // namespace keel
