/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers of the rpmsg tests: a thread that runs one function and
 * signals completion, bounded waits for a condition, and objects that live
 * as long as a case. Framework only.
 */
#ifndef RPMSG_TESTS_RPMSG_TEST_UTIL_H
#define RPMSG_TESTS_RPMSG_TEST_UTIL_H

#include <keel/span.h>
#include <keel/string.h>
#include <keel/test.h>
#include <keel/thread.h>
#include <keel/time.h>
#include <keel/wait.h>

namespace rpmsg::test {

/*
 * A new T for @t, deleted when the case ends: null (and the case failed,
 * naming @what) without memory.
 */
template <typename T> T *new_for_case(keel::test::Test &t, const char *what)
{
	T *p = new (GFP_KERNEL) T;
	if (!p || t.add_cleanup([](void *x) { delete static_cast<T *>(x); }, p).is_error()) {
		delete p;
		EXPECT_FAIL(t, "no memory for %s", what);
		return nullptr;
	}
	return p;
}

/*
 * A new T for @t as new_for_case(), set up by T::setup(@args): null (and
 * the case failed, naming @what) when either fails.
 */
template <typename T, typename... Args>
T *setup_for_case(keel::test::Test &t, const char *what, const Args &...args)
{
	T *p = new_for_case<T>(t, what);
	if (!p)
		return nullptr;
	keel::Result<void> r = p->setup(args...);
	if (r.is_error()) {
		EXPECT_FAIL(t, "%s: set-up failed: %d", what, r.error().to_errno());
		return nullptr;
	}
	return p;
}

/* A C string's bytes (without the NUL) as a Span. */
inline keel::Span<const u8> bytes_of(const char *s)
{
	return keel::Span<const u8>(reinterpret_cast<const u8 *>(s), strlen(s));
}

/*
 * Runner - runs @fn(@arg) on a thread. wait() for it (bounded), then the
 * destructor joins the thread (interrupting its waits if it still runs).
 */
class Runner : keel::NonMovable {
public:
	using Fn = void (*)(void *arg);
	~Runner() { join(); }
	keel::Result<void> start(Fn fn, void *arg)
	{
		m_fn = fn;
		m_arg = arg;
		m_thread = TRY(keel::Thread::run(&Runner::main, this, "rpmsg-test"));
		return keel::ok();
	}
	bool wait(s64 timeout_ns)
	{
		return m_done.wait_timeout(timeout_ns) > 0 || m_finished.load();
	}
	bool finished() const { return m_finished.load(); }
	void join()
	{
		if (m_thread)
			(void)m_thread->stop();
		m_thread = nullptr;
	}

private:
	static int main(void *p)
	{
		Runner *r = static_cast<Runner *>(p);
		r->m_fn(r->m_arg);
		r->m_finished.store(true);
		r->m_done.complete();
		return 0;
	}
	Fn m_fn = nullptr;
	void *m_arg = nullptr;
	keel::Thread *m_thread = nullptr;
	keel::Atomic<bool> m_finished{ false };
	keel::Completion m_done{ "rpmsg_test_runner", KEEL_LOCK_KEY() };
};

/* Polls @cond every millisecond for up to @timeout_ns; true once it holds. */
template <typename Cond> bool wait_for(Cond cond, s64 timeout_ns = keel::ms_to_ns(5000))
{
	s64 deadline = keel::ktime_get_ns() + timeout_ns;
	while (!cond()) {
		if (keel::ktime_get_ns() > deadline)
			return false;
		keel::msleep(1);
	}
	return true;
}

} // namespace rpmsg::test

#endif
