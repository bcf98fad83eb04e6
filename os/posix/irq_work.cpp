// SPDX-License-Identifier: GPL-2.0
/*
 * Hosted irq_work: one "interrupt" thread, started on first use, runs
 * queued items in order, each bracketed by keel_posix_irq_enter/exit so the
 * framework's atomic-context checks fire there as in a hard IRQ.
 *
 * State word (Linux's irq_work flags): PENDING while queued, BUSY from
 * queueing until the run that consumed the last queueing has returned.
 */
#include <keel/port.h>
#include <keel/posix.h>

#include <pthread.h>

namespace {

enum : unsigned { PENDING = 1, BUSY = 2 };

struct PIrqWork {
	keel_port_irq_work_fn fn;
	unsigned flags;
	PIrqWork *next;
};
static_assert(sizeof(PIrqWork) <= KEEL_IRQ_WORK_SIZE && alignof(PIrqWork) <= KEEL_IRQ_WORK_ALIGN);

pthread_once_t s_once = PTHREAD_ONCE_INIT;
pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t s_more = PTHREAD_COND_INITIALIZER;
pthread_cond_t s_done = PTHREAD_COND_INITIALIZER;
PIrqWork *s_head;
PIrqWork *s_tail;
pthread_t s_thread;

void *irq_thread(void *)
{
	pthread_mutex_lock(&s_lock);
	for (;;) {
		while (!s_head)
			pthread_cond_wait(&s_more, &s_lock);
		PIrqWork *w = s_head;
		s_head = w->next;
		if (!s_head)
			s_tail = nullptr;
		w->next = nullptr;
		pthread_mutex_unlock(&s_lock);

		/* From here a new queue() queues it again (runs once more). */
		__atomic_fetch_and(&w->flags, ~unsigned(PENDING), __ATOMIC_ACQ_REL);
		keel_posix_irq_enter();
		w->fn(w);
		keel_posix_irq_exit();
		/* Idle unless re-queued meanwhile (then it is PENDING | BUSY). */
		unsigned busy = BUSY;
		__atomic_compare_exchange_n(&w->flags, &busy, 0u, false, __ATOMIC_ACQ_REL,
					    __ATOMIC_ACQUIRE);

		pthread_mutex_lock(&s_lock);
		pthread_cond_broadcast(&s_done);
	}
	return nullptr;
}

void start_thread()
{
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&s_thread, &attr, irq_thread, nullptr) != 0)
		keel_port_bug(__FILE__, __LINE__, "cannot start the irq_work thread");
	pthread_attr_destroy(&attr);
}

} // namespace

extern "C" void keel_port_irq_work_init(void *work, keel_port_irq_work_fn fn)
{
	auto *w = static_cast<PIrqWork *>(work);
	w->fn = fn;
	w->flags = 0;
	w->next = nullptr;
}

extern "C" int keel_port_irq_work_queue(void *work)
{
	auto *w = static_cast<PIrqWork *>(work);
	unsigned old = __atomic_load_n(&w->flags, __ATOMIC_ACQUIRE);
	do {
		if (old & PENDING)
			return 0;
	} while (!__atomic_compare_exchange_n(&w->flags, &old, old | PENDING | BUSY, false,
					      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	pthread_once(&s_once, start_thread);
	pthread_mutex_lock(&s_lock);
	if (s_tail)
		s_tail->next = w;
	else
		s_head = w;
	s_tail = w;
	pthread_cond_signal(&s_more);
	pthread_mutex_unlock(&s_lock);
	return 1;
}

extern "C" void keel_port_irq_work_sync(void *work)
{
	auto *w = static_cast<PIrqWork *>(work);
	keel_port_might_sleep(__FILE__, __LINE__);
	pthread_mutex_lock(&s_lock);
	while (__atomic_load_n(&w->flags, __ATOMIC_ACQUIRE) & BUSY)
		pthread_cond_wait(&s_done, &s_lock);
	pthread_mutex_unlock(&s_lock);
}
