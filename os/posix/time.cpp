// SPDX-License-Identifier: GPL-2.0
/* Hosted time: CLOCK_MONOTONIC in ns, sleeps and busy delays. */
#include <sched.h>
#include <time.h>

#include "posix_internal.h"

namespace keel::posix {

s64 now_ns()
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return s64(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

struct timespec ns_to_timespec(s64 ns)
{
	struct timespec ts;
	ts.tv_sec = time_t(ns / 1000000000);
	ts.tv_nsec = long(ns % 1000000000);
	return ts;
}

bool deadline_after(s64 timeout_ns, s64 *deadline)
{
	/* Anything past ~100 years is "forever" (MAX_SCHEDULE_TIMEOUT and friends). */
	constexpr s64 FOREVER = 100LL * 365 * 24 * 3600 * 1000000000;
	if (timeout_ns >= FOREVER)
		return false;
	*deadline = now_ns() + (timeout_ns > 0 ? timeout_ns : 0);
	return true;
}

void cond_init_monotonic(pthread_cond_t *c)
{
	pthread_condattr_t attr;
	check_pthread(pthread_condattr_init(&attr), "condattr_init");
	check_pthread(pthread_condattr_setclock(&attr, CLOCK_MONOTONIC), "condattr_setclock");
	check_pthread(pthread_cond_init(c, &attr), "cond_init");
	pthread_condattr_destroy(&attr);
}

} // namespace keel::posix

using namespace keel::posix;

/* A sched_yield() that took longer than this ran another task (keel_port_spin_yield()). */
constexpr s64 SPIN_YIELD_RAN_OTHER_NS = 3000;

extern "C" s64 keel_port_ktime_get_ns(void)
{
	return now_ns();
}

extern "C" u64 keel_port_div_u64_rem(u64 dividend, u32 divisor, u32 *rem)
{
	*rem = u32(dividend % divisor);
	return dividend / divisor;
}

extern "C" void keel_port_msleep(unsigned int ms)
{
	keel_port_might_sleep(__FILE__, __LINE__);
	struct timespec ts = ns_to_timespec(now_ns() + s64(ms) * 1000000);
	/* Absolute deadline: an EINTR restart does not stretch the sleep. */
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
	}
}

extern "C" void keel_port_udelay(unsigned int us)
{
	/* Busy-waits, like the kernel's udelay(): allowed in atomic context. */
	s64 end = now_ns() + s64(us) * 1000;
	while (now_ns() < end)
		keel_port_cpu_relax();
}

extern "C" void keel_port_cond_resched(void)
{
	keel_port_might_sleep(__FILE__, __LINE__);
	sched_yield();
}

extern "C" int keel_port_spin_yield(void)
{
	/*
	 * need_resched() for a process: sched_yield() returns at once when
	 * nobody else is runnable here, and late when it ran someone (a yield
	 * takes well under a microsecond; another task's turn takes longer).
	 * Someone did: the CPUs are oversubscribed, and a spin only takes
	 * time from whoever it waits for. End it.
	 */
	s64 t0 = now_ns();
	sched_yield();
	return now_ns() - t0 > SPIN_YIELD_RAN_OTHER_NS;
}

extern "C" void keel_port_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}
