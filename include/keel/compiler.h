/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KEEL_COMPILER_H
#define KEEL_COMPILER_H

#include <keel/types.h>

/**
 * likely() - tell the compiler that @x is usually true
 * @x: a condition
 *
 * Context: any.
 * Return: @x as a bool.
 */
#define likely(x) __builtin_expect(!!(x), 1)
/**
 * unlikely() - tell the compiler that @x is usually false
 * @x: a condition
 *
 * Context: any.
 * Return: @x as a bool.
 */
#define unlikely(x) __builtin_expect(!!(x), 0)
#define __keel_stringify(x) #x
/**
 * KEEL_STRINGIFY() - a string literal of @x after macro expansion
 * @x: the tokens to quote
 *
 * Context: any (preprocessor).
 * Return: the literal ("KEEL_STRINGIFY(__LINE__)" gives "42", not
 * "__LINE__").
 */
#define KEEL_STRINGIFY(x) __keel_stringify(x)
#define __keel_concat(a, b) a##b
/**
 * KEEL_CONCAT() - paste @a and @b into one token after macro expansion
 * @a: first part
 * @b: second part
 *
 * Context: any (preprocessor).
 * Return: the pasted token.
 */
#define KEEL_CONCAT(a, b) __keel_concat(a, b)

/**
 * barrier() - a compiler barrier (Linux barrier())
 *
 * The compiler may not move memory accesses across it, nor keep a value
 * read before it in a register after it. The CPU may still reorder: for
 * that, the barriers of <keel/barrier.h>.
 *
 * Context: any.
 */
#define barrier() __asm__ __volatile__("" ::: "memory")

/**
 * ARRAY_SIZE() - the number of elements of the array @a
 * @a: an array (not a pointer)
 *
 * Context: any (a constant expression).
 * Return: the element count, a size_t.
 */
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

/**
 * KEEL_EXPORT_AS() - give a function or static data member a symbol name
 * @name: the symbol name, a C identifier (keel_<subsystem>_<function>)
 *
 * Replaces the mangled name. Put it at the end of the first declaration,
 * before any attribute (Clang insists: EXCLUDES(), __printf() follow it)::
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
 *
 * Context: a declaration.
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
 * -Wthread-safety -Werror so the annotations are checked. Each is an
 * attribute: it goes where Clang's attribute of the same name goes, and
 * has no effect at run time.
 */
#if defined(__clang__)
/**
 * KEEL_TA() - a Clang thread-safety attribute, nothing on GCC
 * @x: the attribute, without __attribute__((...))
 *
 * Context: a declaration.
 */
#define KEEL_TA(x) __attribute__((x))
#else
#define KEEL_TA(x)
#endif
/**
 * CAPABILITY() - declare a class to be a lock (a capability)
 * @x: the kind, shown in diagnostics ("spinlock", "mutex")
 *
 * Context: a class declaration.
 */
#define CAPABILITY(x) KEEL_TA(capability(x))
#define SCOPED_CAPABILITY KEEL_TA(scoped_lockable)
/**
 * GUARDED_BY() - a data member that may be used only with @x held
 * @x: the lock
 *
 * Context: a data member's declaration.
 */
#define GUARDED_BY(x) KEEL_TA(guarded_by(x))
/**
 * PT_GUARDED_BY() - a pointer whose target may be used only with @x held
 * @x: the lock
 *
 * Context: a pointer member's declaration.
 */
#define PT_GUARDED_BY(x) KEEL_TA(pt_guarded_by(x))
/**
 * ACQUIRED_BEFORE() - this lock is taken before the listed ones
 * @...: the locks that nest inside this one
 *
 * Context: a lock member's declaration.
 */
#define ACQUIRED_BEFORE(...) KEEL_TA(acquired_before(__VA_ARGS__))
/**
 * ACQUIRED_AFTER() - this lock is taken after the listed ones
 * @...: the locks this one nests inside
 *
 * Context: a lock member's declaration.
 */
#define ACQUIRED_AFTER(...) KEEL_TA(acquired_after(__VA_ARGS__))
/**
 * REQUIRES() - the function must be called with the listed locks held
 * @...: the locks
 *
 * Context: a function declaration.
 */
#define REQUIRES(...) KEEL_TA(requires_capability(__VA_ARGS__))
/**
 * ACQUIRE() - the function returns with the listed locks held
 * @...: the locks (none: the object the method is called on)
 *
 * Context: a function declaration.
 */
#define ACQUIRE(...) KEEL_TA(acquire_capability(__VA_ARGS__))
/**
 * RELEASE() - the function returns with the listed locks released
 * @...: the locks (none: the object the method is called on)
 *
 * Context: a function declaration.
 */
#define RELEASE(...) KEEL_TA(release_capability(__VA_ARGS__))
/**
 * TRY_ACQUIRE() - the function takes the lock when it returns a value
 * @...: that return value, then the locks (none: the object itself)
 *
 * Context: a function declaration.
 */
#define TRY_ACQUIRE(...) KEEL_TA(try_acquire_capability(__VA_ARGS__))
/**
 * EXCLUDES() - the function must be called without the listed locks held
 * @...: the locks (it takes them itself)
 *
 * Context: a function declaration.
 */
#define EXCLUDES(...) KEEL_TA(locks_excluded(__VA_ARGS__))
/**
 * RETURN_CAPABILITY() - the function returns (a reference to) lock @x
 * @x: the lock
 *
 * Context: a function declaration.
 */
#define RETURN_CAPABILITY(x) KEEL_TA(lock_returned(x))
#define NO_THREAD_SAFETY_ANALYSIS KEEL_TA(no_thread_safety_analysis)

/*
 * READ_ONCE()/WRITE_ONCE(): one untorn access the compiler may not merge,
 * repeat or elide. Used for every load of memory another CPU (or another
 * processor, through shared memory) may write.
 */
namespace keel {
/**
 * read_once() - load @x once, untorn (Linux READ_ONCE())
 * @x: a scalar of at most 64 bits
 *
 * One volatile access: the compiler neither repeats it (a later use sees
 * the value checked, not a second load) nor merges it with another.
 * Orders nothing against other CPUs: pair with a barrier or an atomic.
 *
 * Context: any.
 * Return: the value loaded.
 */
template <typename T> __always_inline T read_once(const T &x)
{
	static_assert(sizeof(T) <= sizeof(u64), "read_once: type too large");
	return *static_cast<const volatile T *>(&x);
}
/**
 * write_once() - store @v into @x once, untorn (Linux WRITE_ONCE())
 * @x: a scalar of at most 64 bits
 * @v: the value, converted to @x's type
 *
 * Context: any.
 */
template <typename T, typename V> __always_inline void write_once(T &x, V v)
{
	static_assert(sizeof(T) <= sizeof(u64), "write_once: type too large");
	*static_cast<volatile T *>(&x) = static_cast<T>(v);
}
} // namespace keel
/**
 * READ_ONCE() - Linux's spelling of keel::read_once()
 * @x: a scalar of at most 64 bits
 *
 * Context: any.
 * Return: the value loaded.
 */
#define READ_ONCE(x) ::keel::read_once(x)
/**
 * WRITE_ONCE() - Linux's spelling of keel::write_once()
 * @x: a scalar of at most 64 bits
 * @v: the value to store
 *
 * Context: any.
 */
#define WRITE_ONCE(x, v) ::keel::write_once(x, v)

namespace keel {
/**
 * container_of() - the object that contains @member (Linux container_of())
 * @member: points at the @field member of a live T
 * @field: pointer to the member, e.g. &Endpoint::m_node
 *
 * A pointer-to-member keeps it typed (a wrong member type does not
 * compile) and works on types that are not standard-layout, where
 * offsetof() is not allowed (Documentation/cxx-in-kernel.rst).
 *
 * Context: any.
 * Return: the containing object.
 */
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
