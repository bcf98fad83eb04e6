/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Error and Result<T>: fallible functions return a value or a negative errno.
 *
 * Invariants: an Error always holds -MAX_ERRNO <= e < 0. At every C boundary
 * the mapping is 1:1 (to_errno() / to_result() / from_result()).
 */
#ifndef KEEL_ERROR_H
#define KEEL_ERROR_H

#include <keel/errno.h>
#include <keel/new.h>
#include <keel/utility.h>

extern "C" void keel_port_bug(const char *file, int line, const char *what)
	__attribute__((noreturn));

namespace keel {

/**
 * class Error - a negative errno, as a type
 *
 * What a fallible function returns on failure, inside a Result. Errno
 * values keep Linux's meaning (<keel/errno.h>); there are no other error
 * codes.
 *
 * Invariants: -MAX_ERRNO <= to_errno() < 0.
 */
class [[nodiscard]] Error {
public:
	/**
	 * from_errno() - the Error of errno @e
	 * @e: a negative errno
	 *
	 * Anything else (0, a positive value, below -MAX_ERRNO) is a bug in the
	 * caller and becomes -EINVAL, so that the invariant holds.
	 *
	 * Context: any (constexpr).
	 * Return: the Error.
	 */
	static constexpr Error from_errno(int e)
	{
		if (e >= 0 || e < -MAX_ERRNO) [[unlikely]]
			return Error(-EINVAL);
		return Error(e);
	}
	/**
	 * to_errno() - the negative errno, for a C caller or a log line
	 *
	 * Context: any.
	 * Return: the errno, in [-MAX_ERRNO, -1].
	 */
	constexpr int to_errno() const { return m_errno; }
	constexpr bool operator==(const Error &o) const = default;

private:
	constexpr explicit Error(int e) : m_errno(e) {}
	int m_errno;
};

/**
 * err() - shorthand for Error::from_errno(): "return err(-ENOMEM);"
 * @e: a negative errno
 *
 * Context: any (constexpr).
 * Return: the Error.
 */
constexpr Error err(int e)
{
	return Error::from_errno(e);
}

/**
 * class Result - a value of type T, or an Error (Rust's Result, Linux's
 * ERR_PTR() made a type)
 *
 * What every fallible function returns; [[nodiscard]], so an ignored
 * failure does not compile. Take it apart with TRY(), or check is_error()
 * before value(). Result<void> (below) is success or an Error. Movable,
 * not copyable: a Result is consumed once.
 *
 * Invariants: holds exactly one of a T (is_ok()) and an Error.
 */
template <typename T> class [[nodiscard]] Result {
public:
	/**
	 * Result() - success, holding a copy of @v
	 * @v: the value
	 *
	 * Context: any.
	 */
	Result(const T &v) : m_ok(true) { new (&m_value) T(v); }
	/**
	 * Result() - success, holding @v moved in
	 * @v: the value
	 *
	 * Context: any.
	 */
	Result(T &&v) : m_ok(true) { new (&m_value) T(move(v)); }
	/**
	 * Result() - success, holding a T made from @v
	 * @v: anything T converts from (a UniquePtr<Derived> for a
	 *	UniquePtr<Base>, say), other than a T, an Error or a Result
	 *
	 * Context: any.
	 */
	template <typename U, typename = enable_if_t<!is_same_v<remove_cvref_t<U>, T> &&
						     !is_same_v<remove_cvref_t<U>, Error> &&
						     !is_same_v<remove_cvref_t<U>, Result>>>
	Result(U &&v) : m_ok(true)
	{
		new (&m_value) T(forward<U>(v));
	}
	/**
	 * Result() - failure
	 * @e: the error
	 *
	 * Context: any.
	 */
	Result(Error e) : m_error(e), m_ok(false) {}
	Result(Result &&o) : m_ok(o.m_ok)
	{
		if (m_ok)
			new (&m_value) T(move(o.m_value));
		else
			m_error = o.m_error;
	}
	Result(const Result &) = delete;
	Result &operator=(const Result &) = delete;
	Result &operator=(Result &&o)
	{
		if (this != &o) {
			this->~Result();
			new (this) Result(move(o));
		}
		return *this;
	}
	~Result()
	{
		if (m_ok)
			m_value.~T();
	}

	/**
	 * is_ok() - does it hold a value?
	 *
	 * Context: any.
	 * Return: true on success.
	 */
	bool is_ok() const { return m_ok; }
	/**
	 * is_error() - does it hold an Error?
	 *
	 * Context: any.
	 * Return: true on failure.
	 */
	bool is_error() const { return !m_ok; }
	/**
	 * error() - the Error of a failed Result
	 *
	 * Calling it on a success is a bug (keel_port_bug(): BUG() on Linux).
	 *
	 * Context: any.
	 * Return: the error.
	 */
	Error error() const
	{
		if (m_ok) [[unlikely]]
			keel_port_bug(__FILE__, __LINE__, "Result::error() on a value");
		return m_error;
	}
	/**
	 * value() - the value of a successful Result
	 *
	 * Calling it on a failure is a bug (keel_port_bug()).
	 *
	 * Context: any.
	 * Return: a reference to the value held.
	 */
	T &value()
	{
		if (!m_ok) [[unlikely]]
			keel_port_bug(__FILE__, __LINE__, "Result::value() on an error");
		return m_value;
	}
	/**
	 * value() - the value of a successful Result, read-only
	 *
	 * Calling it on a failure is a bug (keel_port_bug()).
	 *
	 * Context: any.
	 * Return: a const reference to the value held.
	 */
	const T &value() const
	{
		if (!m_ok) [[unlikely]]
			keel_port_bug(__FILE__, __LINE__, "Result::value() on an error");
		return m_value;
	}
	/**
	 * release_value() - move the value out (what TRY() yields)
	 *
	 * Calling it on a failure is a bug (keel_port_bug()).
	 *
	 * Context: any.
	 * Return: the value; the Result holds a moved-from T afterwards.
	 */
	T release_value() { return move(value()); }
	/**
	 * value_or() - the value, or @other on failure
	 * @other: the fallback
	 *
	 * Context: any.
	 * Return: the value moved out, or @other.
	 */
	T value_or(T other) { return m_ok ? move(m_value) : move(other); }

private:
	union {
		T m_value;
		Error m_error;
	};
	bool m_ok;
};

/**
 * class Result<void> - success or an Error, nothing else
 *
 * What a fallible function without a value returns: "return ok();" or
 * "return err(-EINVAL);". Copyable (it is two words).
 */
template <> class [[nodiscard]] Result<void> {
public:
	/**
	 * Result() - success (what ok() returns)
	 *
	 * Context: any (constexpr).
	 */
	constexpr Result() : m_error(Error::from_errno(-EINVAL)), m_ok(true) {}
	/**
	 * Result() - failure
	 * @e: the error
	 *
	 * Context: any (constexpr).
	 */
	constexpr Result(Error e) : m_error(e), m_ok(false) {}
	/**
	 * is_ok() - did it succeed?
	 *
	 * Context: any.
	 * Return: true on success.
	 */
	constexpr bool is_ok() const { return m_ok; }
	/**
	 * is_error() - did it fail?
	 *
	 * Context: any.
	 * Return: true on failure.
	 */
	constexpr bool is_error() const { return !m_ok; }
	/**
	 * error() - the Error of a failure
	 *
	 * Calling it on a success is a bug (keel_port_bug()).
	 *
	 * Context: any.
	 * Return: the error.
	 */
	Error error() const
	{
		if (m_ok) [[unlikely]]
			keel_port_bug(__FILE__, __LINE__, "Result::error() on success");
		return m_error;
	}
	/**
	 * release_value() - nothing: lets TRY() take a Result<void> too
	 *
	 * Context: any.
	 */
	constexpr void release_value() const {}

private:
	Error m_error;
	bool m_ok;
};

/**
 * ok() - success, for a function returning Result<void>
 *
 * Context: any (constexpr).
 * Return: a successful Result<void>.
 */
inline constexpr Result<void> ok()
{
	return Result<void>();
}

/**
 * to_result() - the Result of a C call's return value
 * @ret: 0 (or any non-negative value) for success, else a negative errno
 *
 * The C boundary inward: a port or kernel call's int becomes a Result.
 *
 * Context: any.
 * Return: ok(), or the Error of @ret.
 */
inline Result<void> to_result(int ret)
{
	if (ret < 0)
		return Error::from_errno(ret);
	return ok();
}
/**
 * from_result() - the C return value of @r (for callbacks C calls)
 * @r: the result
 *
 * Context: any.
 * Return: 0 on success, else the negative errno.
 */
inline int from_result(const Result<void> &r)
{
	return r.is_ok() ? 0 : r.error().to_errno();
}
/**
 * result_errno() - the errno of any Result, 0 on success
 * @r: the result
 *
 * For tests and log lines, which compare or print the number.
 *
 * Context: any.
 * Return: 0, or the negative errno.
 */
template <typename T> inline int result_errno(const Result<T> &r)
{
	return r.is_ok() ? 0 : r.error().to_errno();
}

} // namespace keel

/**
 * TRY() - unwrap a Result, or return its error from the enclosing function
 * @expr: an expression of type Result<T>
 *
 * SerenityOS AK/Try.h; a GNU statement expression, accepted by GCC and
 * Clang. The enclosing function must return a Result (of any T): the
 * error converts to it. "u32 v = TRY(read32(off));"
 *
 * Context: any.
 * Return: the value moved out of @expr (nothing for Result<void>).
 */
#define TRY(expr)                                                                                  \
	({                                                                                         \
		auto &&_keel_try = (expr);                                                         \
		if (_keel_try.is_error()) [[unlikely]]                                             \
			return _keel_try.error();                                                  \
		_keel_try.release_value();                                                         \
	})

#endif
