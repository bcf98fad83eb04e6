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

class [[nodiscard]] Error {
public:
	/* @e is a negative errno; anything else is a bug and becomes -EINVAL. */
	static constexpr Error from_errno(int e)
	{
		if (e >= 0 || e < -MAX_ERRNO) [[unlikely]]
			return Error(-EINVAL);
		return Error(e);
	}
	constexpr int to_errno() const { return m_errno; }
	constexpr bool operator==(const Error &o) const = default;

private:
	constexpr explicit Error(int e) : m_errno(e) {}
	int m_errno;
};

/* Shorthand used everywhere: return err(-ENOMEM); */
constexpr Error err(int e)
{
	return Error::from_errno(e);
}

template <typename T> class [[nodiscard]] Result {
public:
	Result(const T &v) : m_ok(true) { new (&m_value) T(v); }
	Result(T &&v) : m_ok(true) { new (&m_value) T(move(v)); }
	template <typename U, typename = enable_if_t<!is_same_v<remove_cvref_t<U>, T> &&
						     !is_same_v<remove_cvref_t<U>, Error> &&
						     !is_same_v<remove_cvref_t<U>, Result>>>
	Result(U &&v) : m_ok(true)
	{
		new (&m_value) T(forward<U>(v));
	}
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

	bool is_ok() const { return m_ok; }
	bool is_error() const { return !m_ok; }
	Error error() const
	{
		if (m_ok) [[unlikely]]
			keel_port_bug(__FILE__, __LINE__, "Result::error() on a value");
		return m_error;
	}
	T &value()
	{
		if (!m_ok) [[unlikely]]
			keel_port_bug(__FILE__, __LINE__, "Result::value() on an error");
		return m_value;
	}
	const T &value() const
	{
		if (!m_ok) [[unlikely]]
			keel_port_bug(__FILE__, __LINE__, "Result::value() on an error");
		return m_value;
	}
	T release_value() { return move(value()); }
	T value_or(T other) { return m_ok ? move(m_value) : move(other); }

private:
	union {
		T m_value;
		Error m_error;
	};
	bool m_ok;
};

template <> class [[nodiscard]] Result<void> {
public:
	constexpr Result() : m_error(Error::from_errno(-EINVAL)), m_ok(true) {}
	constexpr Result(Error e) : m_error(e), m_ok(false) {}
	constexpr bool is_ok() const { return m_ok; }
	constexpr bool is_error() const { return !m_ok; }
	Error error() const
	{
		if (m_ok) [[unlikely]]
			keel_port_bug(__FILE__, __LINE__, "Result::error() on success");
		return m_error;
	}
	constexpr void release_value() const {}

private:
	Error m_error;
	bool m_ok;
};

/* Success for Result<void>. */
inline constexpr Result<void> ok()
{
	return Result<void>();
}

/* C boundary: 0 or a negative errno in, Result out; and back. */
inline Result<void> to_result(int ret)
{
	if (ret < 0)
		return Error::from_errno(ret);
	return ok();
}
inline int from_result(const Result<void> &r)
{
	return r.is_ok() ? 0 : r.error().to_errno();
}
/* The errno of a result, 0 on success (for tests and logs). */
template <typename T> inline int result_errno(const Result<T> &r)
{
	return r.is_ok() ? 0 : r.error().to_errno();
}

} // namespace keel

/*
 * TRY(expr): evaluate a Result; on error return the error from the enclosing
 * function, else yield the value (SerenityOS AK/Try.h; a GNU statement
 * expression, accepted by GCC and Clang).
 */
#define TRY(expr)                                                                                  \
	({                                                                                         \
		auto &&_keel_try = (expr);                                                         \
		if (_keel_try.is_error()) [[unlikely]]                                             \
			return _keel_try.error();                                                  \
		_keel_try.release_value();                                                         \
	})

#endif
