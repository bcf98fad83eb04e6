/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KEEL_TIME_H
#define KEEL_TIME_H

#include <keel/math.h>
#include <keel/port.h>
#include <keel/types.h>

namespace keel {

inline constexpr s64 NSEC_PER_USEC = 1000;
inline constexpr s64 NSEC_PER_MSEC = 1000 * 1000;
inline constexpr s64 NSEC_PER_SEC = 1000 * 1000 * 1000;
/* Wait forever (MAX_SCHEDULE_TIMEOUT). */
inline constexpr s64 TIMEOUT_INFINITE = KEEL_S64_MAX;

/**
 * ns_to_ticks() - a timeout in ns as port ticks (jiffies), never shorter
 * @ns: nanoseconds; TIMEOUT_INFINITE or more waits forever
 * @tick_ns: length of a tick (KEEL_TICK_NS)
 * @infinite: the port's "forever" (KEEL_TICKS_INFINITE)
 *
 * Rounded up, plus one tick where a tick is coarse (> 1 ns), as msleep()
 * counts: a timer N jiffies ahead fires after N - 1 full jiffies plus what
 * is left of the current one, and keel promises at least the time asked for
 * (a short nonzero timeout never becomes "now").
 *
 * Context: any (constexpr).
 * Return: 0 for @ns <= 0, @infinite for an infinite timeout, else at most
 * @infinite - 1.
 */
constexpr s64 ns_to_ticks(s64 ns, u32 tick_ns, s64 infinite)
{
	if (ns <= 0)
		return 0;
	if (ns >= TIMEOUT_INFINITE)
		return infinite;
	u32 rem;
	s64 ticks = s64(div_u64_rem(u64(ns), tick_ns, &rem)) + (rem != 0) + (tick_ns > 1);
	return ticks < infinite ? ticks : infinite - 1;
}
/**
 * ns_to_ticks() - a timeout in ns as this port's ticks, never shorter
 * @ns: nanoseconds; TIMEOUT_INFINITE or more waits forever
 *
 * Context: any (constexpr).
 * Return: as ns_to_ticks(@ns, KEEL_TICK_NS, KEEL_TICKS_INFINITE).
 */
constexpr s64 ns_to_ticks(s64 ns)
{
	return ns_to_ticks(ns, KEEL_TICK_NS, KEEL_TICKS_INFINITE);
}

/**
 * ticks_to_ns() - @ticks of @tick_ns each, in ns
 * @ticks: a tick count, not negative
 * @tick_ns: length of a tick
 *
 * Context: any (constexpr).
 * Return: the nanoseconds, saturated at TIMEOUT_INFINITE.
 */
constexpr s64 ticks_to_ns(s64 ticks, u32 tick_ns)
{
	return u64(ticks) > div_u64(u64(TIMEOUT_INFINITE), tick_ns) ? TIMEOUT_INFINITE
								    : ticks * tick_ns;
}
/**
 * ticks_to_ns() - this port's @ticks in ns
 * @ticks: a tick count, not negative
 *
 * Context: any (constexpr).
 * Return: the nanoseconds, saturated at TIMEOUT_INFINITE.
 */
constexpr s64 ticks_to_ns(s64 ticks)
{
	return ticks_to_ns(ticks, KEEL_TICK_NS);
}

/**
 * ms_to_ns() - milliseconds in ns
 * @ms: milliseconds (no overflow check: keep it below about 292 years)
 *
 * Context: any (constexpr).
 * Return: @ms * NSEC_PER_MSEC.
 */
constexpr s64 ms_to_ns(s64 ms)
{
	return ms * NSEC_PER_MSEC;
}
/**
 * us_to_ns() - microseconds in ns
 * @us: microseconds
 *
 * Context: any (constexpr).
 * Return: @us * NSEC_PER_USEC.
 */
constexpr s64 us_to_ns(s64 us)
{
	return us * NSEC_PER_USEC;
}
/**
 * ns_to_ms() - nanoseconds in whole ms, truncated toward zero
 * @ns: nanoseconds
 *
 * Context: any (constexpr).
 * Return: the milliseconds.
 */
constexpr s64 ns_to_ms(s64 ns)
{
	return div_s64(ns, NSEC_PER_MSEC);
}

/**
 * ktime_get_ns() - the monotonic clock (Linux ktime_get_ns())
 *
 * Context: any.
 * Return: nanoseconds since an arbitrary start; never goes back.
 */
inline ktime_t ktime_get_ns()
{
	return keel_port_ktime_get_ns();
}
/**
 * msleep() - sleep at least @ms milliseconds (Linux msleep())
 * @ms: milliseconds
 *
 * Context: may sleep.
 */
inline void msleep(unsigned int ms)
{
	keel_port_msleep(ms);
}
/**
 * udelay() - busy-wait at least @us microseconds (Linux udelay())
 * @us: microseconds; keep it short
 *
 * Context: any.
 */
inline void udelay(unsigned int us)
{
	keel_port_udelay(us);
}
/**
 * cond_resched() - let other threads run if one should (Linux cond_resched())
 *
 * For long loops in process context.
 *
 * Context: may sleep.
 */
inline void cond_resched()
{
	keel_port_cond_resched();
}
/**
 * cpu_relax() - a pause in a busy-wait loop (Linux cpu_relax())
 *
 * Context: any.
 */
inline void cpu_relax()
{
	keel_port_cpu_relax();
}
/**
 * spin_yield() - let the scheduler in during a long busy-wait
 *
 * Call it every few microseconds of a spin: it lets another runnable task
 * have the CPU where that costs the spinner nothing it needs
 * (keel_port_spin_yield()).
 *
 * Context: any.
 * Return: true when the spin should end (the scheduler wants the CPU).
 */
inline bool spin_yield()
{
	return keel_port_spin_yield() != 0;
}

} // namespace keel

#endif
