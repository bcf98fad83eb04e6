// SPDX-License-Identifier: GPL-2.0
/*
 * Hosted kthreads on pthreads: kthread_run/kthread_stop/kthread_should_stop,
 * and the kernel's signal model for them: a kthread ignores signals unless
 * it called allow_signal(); a pending signal makes its interruptible waits
 * (and mutex_lock_interruptible()) fail until flush_signals().
 *
 * kthread_stop() also sets TIF_NOTIFY_SIGNAL on the target (6.1, 6.12):
 * from then on signal_pending() is true, allowed or not, flush_signals()
 * does not clear it, and every interruptible wait fails with -ERESTARTSYS.
 * stop() mirrors that with a sigpending that flush_signals() keeps, so a
 * hosted test that stops a thread still inside an interruptible wait sees
 * what the kernel run sees.
 *
 * The handle returned to the framework is the ThreadCtl itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "posix_internal.h"

namespace keel::posix {

namespace {

thread_local constinit ThreadCtl *t_self;

void *thread_main(void *arg)
{
	ThreadCtl *t = static_cast<ThreadCtl *>(arg);
	t_self = t;
	t->result = t->fn(t->arg);
	t_self = nullptr;
	return nullptr;
}

/* Wakes @t from whatever it sleeps on; @stop also counts as a wake-up (wake_up_process). */
void kick(ThreadCtl *t, bool stop)
{
	check_pthread(pthread_mutex_lock(&t->lock), "thread lock");
	if (stop)
		__atomic_fetch_add(&t->kicks, 1, __ATOMIC_SEQ_CST);
	if (t->blocker.kick)
		t->blocker.kick(t->blocker.obj);
	pthread_mutex_unlock(&t->lock);
}

} // namespace

ThreadCtl *current_thread()
{
	return t_self;
}

void set_blocker(ThreadCtl *t, void (*fn)(void *), void *obj)
{
	check_pthread(pthread_mutex_lock(&t->lock), "thread lock");
	t->blocker = { fn, obj };
	pthread_mutex_unlock(&t->lock);
}

void clear_blocker(ThreadCtl *t)
{
	check_pthread(pthread_mutex_lock(&t->lock), "thread lock");
	t->blocker = { nullptr, nullptr };
	pthread_mutex_unlock(&t->lock);
}

} // namespace keel::posix

using namespace keel::posix;

extern "C" void *keel_port_thread_run(int (*fn)(void *), void *arg, const char *name)
{
	auto *t = static_cast<ThreadCtl *>(calloc(1, sizeof(ThreadCtl)));
	if (!t)
		return nullptr;
	check_pthread(pthread_mutex_init(&t->lock, nullptr), "thread mutex_init");
	t->fn = fn;
	t->arg = arg;
	snprintf(t->name, sizeof(t->name), "%s", name ? name : "keel");
	if (pthread_create(&t->tid, nullptr, thread_main, t) != 0) {
		pthread_mutex_destroy(&t->lock);
		free(t);
		return nullptr;
	}
	/* Best effort (15 characters): names show up in gdb, top and TSan reports. */
	pthread_setname_np(t->tid, t->name);
	return t;
}

extern "C" int keel_port_thread_stop(void *thread)
{
	keel_port_might_sleep(__FILE__, __LINE__);
	ThreadCtl *t = static_cast<ThreadCtl *>(thread);
	if (t == current_thread()) [[unlikely]]
		keel_port_bug(__FILE__, __LINE__, "kthread_stop() on itself");
	__atomic_store_n(&t->should_stop, 1, __ATOMIC_SEQ_CST);
	/* TIF_NOTIFY_SIGNAL: set before the kick, so the woken sleeper sees it. */
	__atomic_store_n(&t->sigpending, 1, __ATOMIC_SEQ_CST);
	kick(t, true);
	check_pthread(pthread_join(t->tid, nullptr), "pthread_join");
	int result = t->result;
	pthread_mutex_destroy(&t->lock);
	free(t);
	return result;
}

extern "C" int keel_port_thread_should_stop(void)
{
	ThreadCtl *t = current_thread();
	return t && __atomic_load_n(&t->should_stop, __ATOMIC_SEQ_CST);
}

extern "C" void keel_port_thread_signal(void *thread)
{
	ThreadCtl *t = static_cast<ThreadCtl *>(thread);
	/* Like a kthread without allow_signal(): the signal is discarded. */
	if (!__atomic_load_n(&t->allow_signal, __ATOMIC_SEQ_CST))
		return;
	__atomic_store_n(&t->sigpending, 1, __ATOMIC_SEQ_CST);
	kick(t, false);
}

extern "C" void keel_port_thread_allow_signal(void)
{
	if (ThreadCtl *t = current_thread())
		__atomic_store_n(&t->allow_signal, 1, __ATOMIC_SEQ_CST);
}

extern "C" void keel_port_thread_flush_signals(void)
{
	ThreadCtl *t = current_thread();
	if (!t)
		return;
	__atomic_store_n(&t->sigpending, 0, __ATOMIC_SEQ_CST);
	/*
	 * A stop request's "signal" (TIF_NOTIFY_SIGNAL) is not flushed. Checked
	 * after the store: a stop() racing with us either set should_stop
	 * before this load (we restore it) or stores sigpending after our store.
	 */
	if (__atomic_load_n(&t->should_stop, __ATOMIC_SEQ_CST))
		__atomic_store_n(&t->sigpending, 1, __ATOMIC_SEQ_CST);
}

extern "C" int keel_port_signal_pending(void)
{
	return signal_pending(current_thread());
}
