/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KEEL_COMPILER_H
#define KEEL_COMPILER_H

#include <keel/types.h>

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define __keel_stringify(x) #x
#define KEEL_STRINGIFY(x) __keel_stringify(x)
#define __keel_concat(a, b) a##b
#define KEEL_CONCAT(a, b) __keel_concat(a, b)

#define barrier() __asm__ __volatile__("" ::: "memory")

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __cold __attribute__((cold))
#define __noreturn __attribute__((noreturn))
/* glibc's <sys/cdefs.h> defines the same (and #undefs ours first). */
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#define __noinline __attribute__((noinline))
#define __used __attribute__((used))
#define __packed __attribute__((packed))

/*
 * KEEL_EXPORT_AS(name): the symbol name of a function or static data member,
 * instead of its mangled name. Put it at the end of the first declaration,
 * before any attribute (Clang insists: EXCLUDES(), __printf() follow it):
 *
 *	Result<void> device_driver_attach(const Driver &drv, Device &dev)
 *		KEEL_EXPORT_AS(keel_device_driver_attach);
 *
 * Every caller and the definition then use that name. keel.ko exports its
 * API from C, and with CONFIG_MODVERSIONS a module can import only names of
 * at most 55 characters: scripts/gen_exports.sh fails the build on a longer
 * exported name and says which declaration needs this. The name is C-style,
 * unique in the kernel, readable in oops backtraces; its MODVERSIONS CRC
 * follows the declaration (Documentation/cxx-in-kernel.rst, "Export names").
 */
#define KEEL_EXPORT_AS(name) __asm__(#name)

/* KEEL_TSAN: built with ThreadSanitizer (GCC or Clang spelling). */
#if defined(__SANITIZE_THREAD__)
#define KEEL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define KEEL_TSAN 1
#endif
#endif
#ifndef KEEL_TSAN
#define KEEL_TSAN 0
#endif

/*
 * Clang thread-safety analysis (Zircon's TA_* macros). No-ops on GCC, which
 * builds the kernel port; the hosted port is also built with Clang and
 * -Wthread-safety -Werror so the annotations are checked.
 */
#if defined(__clang__)
#define KEEL_TA(x) __attribute__((x))
#else
#define KEEL_TA(x)
#endif
#define CAPABILITY(x) KEEL_TA(capability(x))
#define SCOPED_CAPABILITY KEEL_TA(scoped_lockable)
#define GUARDED_BY(x) KEEL_TA(guarded_by(x))
#define PT_GUARDED_BY(x) KEEL_TA(pt_guarded_by(x))
#define ACQUIRED_BEFORE(...) KEEL_TA(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) KEEL_TA(acquired_after(__VA_ARGS__))
#define REQUIRES(...) KEEL_TA(requires_capability(__VA_ARGS__))
#define ACQUIRE(...) KEEL_TA(acquire_capability(__VA_ARGS__))
#define RELEASE(...) KEEL_TA(release_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) KEEL_TA(try_acquire_capability(__VA_ARGS__))
#define EXCLUDES(...) KEEL_TA(locks_excluded(__VA_ARGS__))
#define RETURN_CAPABILITY(x) KEEL_TA(lock_returned(x))
#define NO_THREAD_SAFETY_ANALYSIS KEEL_TA(no_thread_safety_analysis)

/*
 * READ_ONCE()/WRITE_ONCE(): one untorn access the compiler may not merge,
 * repeat or elide. Used for every load of memory another CPU (or another
 * processor, through shared memory) may write.
 */
namespace keel {
template <typename T> __always_inline T read_once(const T &x)
{
	static_assert(sizeof(T) <= sizeof(u64), "read_once: type too large");
	return *static_cast<const volatile T *>(&x);
}
template <typename T, typename V> __always_inline void write_once(T &x, V v)
{
	static_assert(sizeof(T) <= sizeof(u64), "write_once: type too large");
	*static_cast<volatile T *>(&x) = static_cast<T>(v);
}
} // namespace keel
#define READ_ONCE(x) ::keel::read_once(x)
#define WRITE_ONCE(x, v) ::keel::write_once(x, v)

/* container_of() for intrusive members: pointer-to-member keeps it typed. */
namespace keel {
template <typename T, typename M> __always_inline T *container_of(M *member, M T::*field)
{
	/*
	 * SAFETY: @member points at the @field of a live T. The offset is taken
	 * on suitably aligned storage (no object is created or accessed).
	 */
	alignas(T) static constexpr char probe[sizeof(T)] = {};
	const T *t = reinterpret_cast<const T *>(probe);
	const auto off = reinterpret_cast<const char *>(&(t->*field)) - probe;
	return reinterpret_cast<T *>(reinterpret_cast<char *>(member) - off);
}
} // namespace keel

#endif
