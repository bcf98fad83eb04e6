/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KEEL_TIME_H
#define KEEL_TIME_H

#include <keel/port.h>
#include <keel/types.h>

namespace keel {

inline constexpr s64 NSEC_PER_USEC = 1000;
inline constexpr s64 NSEC_PER_MSEC = 1000 * 1000;
inline constexpr s64 NSEC_PER_SEC = 1000 * 1000 * 1000;
/* Wait forever (MAX_SCHEDULE_TIMEOUT). */
inline constexpr s64 TIMEOUT_INFINITE = KEEL_S64_MAX;

constexpr s64 ms_to_ns(s64 ms) { return ms * NSEC_PER_MSEC; }
constexpr s64 us_to_ns(s64 us) { return us * NSEC_PER_USEC; }
constexpr s64 ns_to_ms(s64 ns) { return ns / NSEC_PER_MSEC; }

/* Monotonic time in ns (ktime_get_ns()). */
inline ktime_t ktime_get_ns() { return keel_port_ktime_get_ns(); }
inline void msleep(unsigned int ms) { keel_port_msleep(ms); }
inline void udelay(unsigned int us) { keel_port_udelay(us); }
inline void cond_resched() { keel_port_cond_resched(); }
inline void cpu_relax() { keel_port_cpu_relax(); }

} // namespace keel

#endif
