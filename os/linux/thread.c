// SPDX-License-Identifier: GPL-2.0
/*
 * Linux port: kernel threads. keel's Thread handle is the task_struct. A
 * reference is held from run() to stop(), so that stop() is safe even when
 * the thread function already returned (kthread_stop() needs the task).
 *
 * keel's contract is that the function always runs and stop() returns its
 * result; kthread_stop() on a thread that has not been scheduled yet returns
 * -EINTR without ever calling it. run() therefore waits until the thread has
 * entered keel_linux_thread_main().
 *
 * Kernel threads ignore signals unless they allow them: keel's thread
 * "signal" is SIGINT, let through by keel_port_thread_allow_signal(), and
 * sent unforced (SEND_SIG_NOINFO) so that a thread that did not allow it
 * does ignore it.
 */
#include <linux/completion.h>
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>

#include "shim.h"

struct keel_linux_thread_start {
	int (*fn)(void *arg);
	void *arg;
	struct completion started;
};

static int keel_linux_thread_main(void *p)
{
	struct keel_linux_thread_start *start = p;
	int (*fn)(void *arg) = start->fn;
	void *arg = start->arg;

	/* @start lives on run()'s stack: not touched after this. */
	complete(&start->started);
	return fn(arg);
}

void *keel_port_thread_run(int (*fn)(void *), void *arg, const char *name)
{
	struct keel_linux_thread_start start = { .fn = fn, .arg = arg };
	struct task_struct *t;

	init_completion(&start.started);
	t = kthread_run(keel_linux_thread_main, &start, "%s", name);
	if (IS_ERR(t))
		return NULL;
	get_task_struct(t);
	wait_for_completion(&start.started);
	return t;
}

int keel_port_thread_stop(void *thread)
{
	int ret = kthread_stop(thread);

	put_task_struct(thread);
	return ret;
}

int keel_port_thread_should_stop(void)
{
	return kthread_should_stop();
}

void keel_port_thread_signal(void *thread)
{
	send_sig(SIGINT, thread, 0);
}

void keel_port_thread_allow_signal(void)
{
	allow_signal(SIGINT);
}

void keel_port_thread_flush_signals(void)
{
	flush_signals(current);
}
