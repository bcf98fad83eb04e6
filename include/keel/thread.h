/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Threads (kthread_run / kthread_stop). Used by tests and by hosted
 * programs; kernel code uses work items unless it needs a dedicated thread.
 */
#ifndef KEEL_THREAD_H
#define KEEL_THREAD_H

#include <keel/error.h>
#include <keel/port.h>

namespace keel {

class Thread : NonMovable {
public:
	using Fn = int (*)(void *);
	/* Starts @fn(@arg) on a new thread. */
	static Result<Thread *> run(Fn fn, void *arg, const char *name)
	{
		void *t = keel_port_thread_run(fn, arg, name);
		if (!t)
			return err(-ENOMEM);
		return reinterpret_cast<Thread *>(t);
	}
	/* Sets should_stop(), wakes the thread, waits, frees it; returns fn's result. */
	int stop() { return keel_port_thread_stop(this); }
	/* Interrupts its interruptible waits (they return -ERESTARTSYS). */
	void signal() { keel_port_thread_signal(this); }

	static bool should_stop() { return keel_port_thread_should_stop() != 0; }
	static bool signal_pending() { return keel_port_signal_pending() != 0; }
	static void allow_signal() { keel_port_thread_allow_signal(); }
	static void flush_signals() { keel_port_thread_flush_signals(); }

private:
	Thread() = default;
};

} // namespace keel

#endif
