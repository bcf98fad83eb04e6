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

/**
 * class Thread - a thread of its own (Linux kthread)
 * @Fn: the thread function: runs until it returns or should_stop() turns
 *	true; its int result is what stop() returns
 *
 * An opaque handle to the port's thread: made by run(), freed by stop().
 */
class Thread : NonMovable {
public:
	using Fn = int (*)(void *);
	/**
	 * run() - start @fn(@arg) on a new thread (Linux kthread_run())
	 * @fn: the thread function
	 * @arg: its argument
	 * @name: the thread's name (shown by ps on Linux)
	 *
	 * Context: may sleep.
	 * Return: the thread, or -ENOMEM when it could not be started. Every
	 * thread must be stop()ped.
	 */
	static Result<Thread *> run(Fn fn, void *arg, const char *name)
	{
		void *t = keel_port_thread_run(fn, arg, name);
		if (!t)
			return err(-ENOMEM);
		return reinterpret_cast<Thread *>(t);
	}
	/**
	 * stop() - stop the thread and free it (Linux kthread_stop())
	 *
	 * Makes should_stop() true, wakes the thread, waits for its function to
	 * return. The handle is gone afterwards.
	 *
	 * Context: may sleep; not from the thread itself.
	 * Return: the thread function's result.
	 */
	int stop() { return keel_port_thread_stop(this); }
	/**
	 * signal() - interrupt the thread's interruptible waits
	 *
	 * Its current and next interruptible waits return -ERESTARTSYS, once it
	 * allow_signal()ed, until it flush_signals().
	 *
	 * Context: any.
	 */
	void signal() { keel_port_thread_signal(this); }

	/**
	 * should_stop() - has stop() been called on the calling thread?
	 *
	 * Context: a Thread's function.
	 * Return: true when it should return.
	 */
	static bool should_stop() { return keel_port_thread_should_stop() != 0; }
	/**
	 * signal_pending() - does the calling thread have a signal pending?
	 *
	 * Context: process context.
	 * Return: true when one is.
	 */
	static bool signal_pending() { return keel_port_signal_pending() != 0; }
	/**
	 * allow_signal() - let signal() interrupt the calling thread
	 *
	 * Kernel threads ignore signals unless they ask (Linux allow_signal()).
	 *
	 * Context: a Thread's function.
	 */
	static void allow_signal() { keel_port_thread_allow_signal(); }
	/**
	 * flush_signals() - clear the calling thread's pending signals
	 *
	 * Context: a Thread's function.
	 */
	static void flush_signals() { keel_port_thread_flush_signals(); }

private:
	Thread() = default;
};

} // namespace keel

#endif
