/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Storage sizes of the hosted port's OS objects (os/posix/). Each size is
 * checked with static_assert against the real types in the os/posix sources.
 */
#ifndef KEEL_PORT_TYPES_H
#define KEEL_PORT_TYPES_H

#define KEEL_PORT_NAME "posix"
#define KEEL_PORT_HOSTED 1

/* Timeouts cross the port in ns: a tick is 1 ns. */
#define KEEL_TICK_NS 1
#define KEEL_TICKS_INFINITE KEEL_S64_MAX

#define KEEL_LOCK_KEY_SIZE 1
#define KEEL_LOCK_KEY_ALIGN 1
/* An atomic word plus owner bookkeeping for atomic-context tracking. */
#define KEEL_SPINLOCK_SIZE 16
#define KEEL_SPINLOCK_ALIGN 8
/* pthread_mutex_t (40 bytes on glibc x86-64/arm64 is 40/48) plus an owner. */
#define KEEL_MUTEX_SIZE 64
#define KEEL_MUTEX_ALIGN 8
/* pthread_mutex_t + pthread_cond_t + a sequence word. */
#define KEEL_WAITQ_SIZE 112
#define KEEL_WAITQ_ALIGN 8
#define KEEL_WAIT_ENTRY_SIZE 16
#define KEEL_WAIT_ENTRY_ALIGN 8
/* A callback entry: next, function, context. */
#define KEEL_WAIT_FUNC_SIZE 24
#define KEEL_WAIT_FUNC_ALIGN 8
#define KEEL_WORK_SIZE 64
#define KEEL_WORK_ALIGN 8
#define KEEL_DELAYED_WORK_SIZE 96
#define KEEL_DELAYED_WORK_ALIGN 8
/* Handler, state word and a queue link (os/posix/irq_work.cpp). */
#define KEEL_IRQ_WORK_SIZE 32
#define KEEL_IRQ_WORK_ALIGN 8

#endif
