/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The port interface: everything OS-specific the framework calls, as plain C
 * functions. Each port (os/linux: a thin C shim over kernel calls; os/posix:
 * pthreads, futexes, a thread pool) implements all of them. No logic belongs
 * in a port beyond mapping one call onto the OS's own.
 *
 * Opaque OS objects (spinlock_t, struct mutex, wait_queue_head_t, ...) are
 * stored inside framework objects as aligned byte arrays. Their sizes come
 * from <keel/port_types.h>, which each port provides (the Linux port
 * generates it from the configured kernel, asm-offsets style, and checks it
 * with static_assert).
 *
 * This header is clean C and C++.
 */
#ifndef KEEL_PORT_H
#define KEEL_PORT_H

#include <keel/port_types.h>
#include <keel/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Allocation flags (keel::Gfp values), as the ports' C code sees them. */
#define KEEL_GFP_KERNEL 0x0u
#define KEEL_GFP_ATOMIC 0x1u
#define KEEL_GFP_ZERO 0x100u
#define KEEL_GFP_NOWARN 0x200u

/* Log levels (printk's). */
#define KEEL_LOGLEVEL_EMERG 0
#define KEEL_LOGLEVEL_ERR 3
#define KEEL_LOGLEVEL_WARNING 4
#define KEEL_LOGLEVEL_NOTICE 5
#define KEEL_LOGLEVEL_INFO 6
#define KEEL_LOGLEVEL_DEBUG 7

/**
 * struct keel_lock_key - a lockdep class key: one static object per lock
 * declaration site
 * @storage: the OS's key (Linux: struct lock_class_key), first
 * @name: the one name string of the class: the first one a lock of this
 *	class was initialised with (keel_lock_class_name()). lockdep insists
 *	on one name pointer per key, and a name literal in a header exists
 *	once per object file.
 */
struct keel_lock_key {
	unsigned char storage[KEEL_LOCK_KEY_SIZE] __attribute__((aligned(KEEL_LOCK_KEY_ALIGN)));
	const char *name;
};

/**
 * keel_lock_class_name() - the class name of a lock initialised with @key
 * @key: the class key of the lock's declaration site
 * @name: the name this lock was given
 *
 * The first name any lock of the class was initialised with wins: lockdep
 * insists on one name pointer per key.
 *
 * Context: any.
 * Return: the class's one name.
 */
static inline const char *keel_lock_class_name(struct keel_lock_key *key, const char *name)
{
	const char *first = 0;

	if (__atomic_compare_exchange_n(&key->name, &first, name, 0, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE))
		return name;
	return first;
}

/* --- memory --- */
/**
 * keel_port_kmalloc() - allocate @size bytes (Linux kmalloc())
 * @size: bytes wanted
 * @gfp: KEEL_GFP_* flags (KEEL_GFP_ZERO zeroes the memory)
 *
 * Context: may sleep with KEEL_GFP_KERNEL; any with KEEL_GFP_ATOMIC.
 * Return: the memory, aligned for any type, or NULL.
 */
void *keel_port_kmalloc(__SIZE_TYPE__ size, unsigned int gfp);
/**
 * keel_port_kfree() - free what keel_port_kmalloc() returned (Linux kfree())
 * @p: the memory, or NULL
 *
 * Context: any.
 */
void keel_port_kfree(const void *p);

/* --- diagnostics --- */
/**
 * keel_port_bug() - stop on a broken invariant (Linux BUG())
 * @file: the source file
 * @line: the line
 * @what: what was found broken
 *
 * Never returns: the kernel oopses, a hosted program aborts.
 *
 * Context: any.
 */
void keel_port_bug(const char *file, int line, const char *what) __attribute__((noreturn));
/**
 * keel_port_warn() - report a bug with a backtrace and go on (Linux WARN())
 * @file: the source file
 * @line: the line
 * @what: the condition that held
 *
 * Context: any.
 */
void keel_port_warn(const char *file, int line, const char *what);
/**
 * keel_port_might_sleep() - complain (once per site) in atomic context
 * @file: the caller's source file
 * @line: the caller's line
 *
 * Linux: __might_sleep(); hosted: the port's own atomic-context tracking
 * (spinlocks held, interrupt threads).
 *
 * Context: any (that is the point).
 */
void keel_port_might_sleep(const char *file, int line);
/**
 * keel_port_log() - print one formatted line (printk)
 * @level: a KEEL_LOGLEVEL_*
 * @msg: the line, without a trailing newline
 *
 * Context: any.
 */
void keel_port_log(int level, const char *msg);
/**
 * keel_port_vsnprintf() - format into a buffer (Linux vsnprintf())
 * @buf: the buffer, always terminated (unless @size is 0)
 * @size: bytes of @buf
 * @fmt: the format (the kernel's printf subset)
 * @ap: its arguments
 *
 * Context: any.
 * Return: the length the whole output would have had.
 */
int keel_port_vsnprintf(char *buf, __SIZE_TYPE__ size, const char *fmt, __builtin_va_list ap);

/* --- spinlocks (IRQ-safe) --- */
/**
 * keel_port_spin_init() - initialise a spinlock (Linux spin_lock_init())
 * @lock: KEEL_SPINLOCK_SIZE bytes of storage
 * @name: the lockdep class name
 * @key: the lockdep class key
 *
 * Context: any.
 */
void keel_port_spin_init(void *lock, const char *name, struct keel_lock_key *key);
/**
 * keel_port_spin_lock() - take a spinlock (spin_lock())
 * @lock: the lock
 *
 * Context: any.
 */
void keel_port_spin_lock(void *lock);
/**
 * keel_port_spin_unlock() - release a spinlock (spin_unlock())
 * @lock: the lock
 *
 * Context: the holder.
 */
void keel_port_spin_unlock(void *lock);
/**
 * keel_port_spin_lock_irqsave() - disable interrupts, take a spinlock
 * @lock: the lock
 *
 * Context: any.
 * Return: the interrupt state, for keel_port_spin_unlock_irqrestore().
 */
unsigned long keel_port_spin_lock_irqsave(void *lock);
/**
 * keel_port_spin_unlock_irqrestore() - release a spinlock, restore interrupts
 * @lock: the lock
 * @flags: what keel_port_spin_lock_irqsave() returned
 *
 * Context: the holder.
 */
void keel_port_spin_unlock_irqrestore(void *lock, unsigned long flags);
/**
 * keel_port_spin_trylock() - take a spinlock if it is free (spin_trylock())
 * @lock: the lock
 *
 * Context: any.
 * Return: nonzero when taken.
 */
int keel_port_spin_trylock(void *lock);
/**
 * keel_port_spin_trylock_irqsave() - take a spinlock if it is free, with
 * interrupts disabled (spin_trylock_irqsave())
 * @lock: the lock
 * @flags: the interrupt state is stored here when taken, for
 *	keel_port_spin_unlock_irqrestore()
 *
 * Context: any.
 * Return: nonzero when taken (interrupts then stay disabled), else 0
 * (the interrupt state is as before).
 */
int keel_port_spin_trylock_irqsave(void *lock, unsigned long *flags);
/**
 * keel_port_in_atomic() - may the calling context not sleep?
 *
 * Context: any.
 * Return: nonzero while it may not (a spinlock held, interrupt context).
 */
int keel_port_in_atomic(void);
/**
 * keel_port_irq_may_spin() - may this interrupt handler busy-wait briefly?
 *
 * True in an interrupt handler that runs on a thread dedicated to its one
 * interrupt source (hosted: a link's doorbell notification thread), where
 * a brief busy-wait before sleeping delays nothing else. False everywhere
 * else, hard-IRQ context in particular: there nothing may busy-wait.
 *
 * Context: any.
 * Return: nonzero when it may.
 */
int keel_port_irq_may_spin(void);

/* --- mutexes --- */
/**
 * keel_port_mutex_init() - initialise a mutex (Linux mutex_init())
 * @m: KEEL_MUTEX_SIZE bytes of storage
 * @name: the lockdep class name
 * @key: the lockdep class key
 *
 * Context: any.
 */
void keel_port_mutex_init(void *m, const char *name, struct keel_lock_key *key);
/**
 * keel_port_mutex_destroy() - tear down an unlocked mutex (mutex_destroy())
 * @m: the mutex
 *
 * Context: any.
 */
void keel_port_mutex_destroy(void *m);
/**
 * keel_port_mutex_lock() - take a mutex (mutex_lock())
 * @m: the mutex
 *
 * Context: may sleep.
 */
void keel_port_mutex_lock(void *m);
/**
 * keel_port_mutex_lock_nested() - take a mutex nested in one of its class
 * @m: the mutex
 * @subclass: the lockdep subclass (nesting level)
 *
 * Context: may sleep.
 */
void keel_port_mutex_lock_nested(void *m, unsigned int subclass);
/**
 * keel_port_mutex_novalidate() - exempt a mutex from lock-order validation
 * @m: the mutex, initialised and not held
 *
 * Linux lockdep_set_novalidate_class(), which Linux's driver core applies
 * to every device mutex: locks of many devices of one class, nested by the
 * device tree, defeat a class-based validator. A no-op where the port has
 * no validator.
 *
 * Context: process context, before the mutex is first taken.
 */
void keel_port_mutex_novalidate(void *m);
/**
 * keel_port_mutex_lock_interruptible() - take a mutex unless a signal comes
 * @m: the mutex
 *
 * Context: may sleep.
 * Return: 0 when taken, -EINTR when a signal came first.
 */
int keel_port_mutex_lock_interruptible(void *m);
/**
 * keel_port_mutex_trylock() - take a mutex if it is free (mutex_trylock())
 * @m: the mutex
 *
 * Context: process context.
 * Return: nonzero when taken.
 */
int keel_port_mutex_trylock(void *m);
/**
 * keel_port_mutex_unlock() - release a mutex (mutex_unlock())
 * @m: the mutex
 *
 * Context: the holder.
 */
void keel_port_mutex_unlock(void *m);
/**
 * keel_port_mutex_is_locked() - is the mutex held by anyone?
 * @m: the mutex
 *
 * Context: any.
 * Return: nonzero when held.
 */
int keel_port_mutex_is_locked(void *m);

/*
 * --- time in ticks ---
 * Timeouts and delays cross the port in the port's own ticks of
 * KEEL_TICK_NS nanoseconds each (<keel/port_types.h>: jiffies on Linux, 1 ns
 * hosted); KEEL_TICKS_INFINITE waits forever (MAX_SCHEDULE_TIMEOUT).
 * <keel/time.h> converts (ns_to_ticks(), ticks_to_ns()): the port does no
 * arithmetic.
 *
 * --- wait queues ---
 * A wait is prepare() / check the condition / sleep() / ... / finish(). The
 * port guarantees that a wake_up() between prepare() and sleep() is not lost.
 * sleep() returns the remaining timeout in ticks (>= 1) when woken, 0 on
 * timeout, -ERESTARTSYS when interruptible and a signal is pending (or the
 * remaining ticks: a woken waiter checks its condition before the signal).
 */
/**
 * keel_port_waitq_init() - initialise a wait queue (init_waitqueue_head())
 * @wq: KEEL_WAITQ_SIZE bytes of storage
 * @name: the class name of its lock
 * @key: the class key of its lock
 *
 * Context: any.
 */
void keel_port_waitq_init(void *wq, const char *name, struct keel_lock_key *key);
/**
 * keel_port_waitq_destroy() - tear down a wait queue nobody waits on
 * @wq: the wait queue
 *
 * Context: any.
 */
void keel_port_waitq_destroy(void *wq);
/**
 * keel_port_wake_up() - wake every waiter of @wq (wake_up_all())
 * @wq: the wait queue
 *
 * Context: any.
 */
void keel_port_wake_up(void *wq);
/**
 * keel_port_wait_prepare() - queue @entry on @wq before checking the
 * condition (prepare_to_wait())
 * @wq: the wait queue
 * @entry: KEEL_WAIT_ENTRY_SIZE bytes of storage on the waiter's stack
 * @interruptible: nonzero for an interruptible sleep
 *
 * Context: may sleep (later).
 */
void keel_port_wait_prepare(void *wq, void *entry, int interruptible);
/**
 * keel_port_wait_sleep() - sleep until woken, the timeout or a signal
 * @wq: the wait queue
 * @entry: the prepared entry
 * @timeout_ticks: the longest sleep in ticks (KEEL_TICKS_INFINITE: none)
 * @interruptible: nonzero for an interruptible sleep
 *
 * Context: may sleep.
 * Return: the ticks left (>= 1) when woken, 0 on timeout, -ERESTARTSYS
 * when interruptible and a signal is pending.
 */
s64 keel_port_wait_sleep(void *wq, void *entry, s64 timeout_ticks, int interruptible);
/**
 * keel_port_wait_finish() - take @entry off @wq (finish_wait())
 * @wq: the wait queue
 * @entry: the entry
 *
 * Context: process context.
 */
void keel_port_wait_finish(void *wq, void *entry);
/**
 * keel_port_signal_pending() - does the calling thread have a signal pending?
 *
 * Context: process context.
 * Return: nonzero when it does.
 */
int keel_port_signal_pending(void);
/**
 * typedef keel_port_wait_fn - a callback entry's function
 * @ctx: the context given to keel_port_waitq_add_func()
 */
typedef void (*keel_port_wait_fn)(void *ctx);
/**
 * keel_port_waitq_add_func() - hear @wq's wake-ups through a function
 * @wq: the wait queue
 * @entry: KEEL_WAIT_FUNC_SIZE bytes of storage, until removed
 * @fn: called with @ctx on every wake_up() of @wq, in the waker's context
 *	with @wq's lock held: it must not sleep, nor add or remove entries of
 *	@wq (Linux init_waitqueue_func_entry() and add_wait_queue())
 * @ctx: passed to @fn
 *
 * Context: any.
 */
void keel_port_waitq_add_func(void *wq, void *entry, keel_port_wait_fn fn, void *ctx);
/**
 * keel_port_waitq_remove_func() - take a callback entry off @wq
 * @wq: the wait queue it was added to
 * @entry: the entry
 *
 * Once it returns, the entry's function is not running and will not run
 * again (remove_wait_queue() takes the queue's lock).
 *
 * Context: any.
 */
void keel_port_waitq_remove_func(void *wq, void *entry);

/*
 * --- deferred work ---
 * @work is the storage of a struct keel_port_work; @fn is called with it.
 * @name and @key name the item's lockdep class ("(work_completion)" of
 * Linux's INIT_WORK(), which makes flush_work() under a lock that the item
 * takes a reported deadlock): one static key per declaration site, as for
 * locks.
 */
/**
 * typedef keel_port_work_fn - a work item's function
 * @work: the item's storage, as given to its init call
 */
typedef void (*keel_port_work_fn)(void *work);
/**
 * keel_port_work_init() - initialise a work item (INIT_WORK())
 * @work: KEEL_WORK_SIZE bytes of storage
 * @fn: called with @work, in process context
 * @name: the item's lockdep class name
 * @key: its class key
 *
 * Context: any.
 */
void keel_port_work_init(void *work, keel_port_work_fn fn, const char *name,
			 struct keel_lock_key *key);
/**
 * keel_port_delayed_work_init() - initialise a delayed work item
 * @dwork: KEEL_DELAYED_WORK_SIZE bytes of storage
 * @fn: called with @dwork, in process context
 * @name: the item's lockdep class name
 * @key: its class key
 *
 * Context: any.
 */
void keel_port_delayed_work_init(void *dwork, keel_port_work_fn fn, const char *name,
				 struct keel_lock_key *key);
/**
 * keel_port_queue_work() - queue a work item (queue_work())
 * @wq: a queue from keel_port_workqueue_create(), or NULL for the system queue
 * @work: the item
 *
 * Context: any.
 * Return: nonzero when queued, 0 when already pending.
 */
int keel_port_queue_work(void *wq, void *work);
/**
 * keel_port_queue_delayed_work() - queue a delayed item after @delay_ticks
 * @wq: a queue, or NULL for the system queue
 * @dwork: the item
 * @delay_ticks: the delay in the port's ticks
 *
 * Context: any.
 * Return: nonzero when armed, 0 when already pending.
 */
int keel_port_queue_delayed_work(void *wq, void *dwork, s64 delay_ticks);
/**
 * keel_port_mod_delayed_work() - (re)arm a delayed item (mod_delayed_work())
 * @wq: a queue, or NULL for the system queue
 * @dwork: the item
 * @delay_ticks: the new delay
 *
 * A cancel in progress wins: nothing is queued.
 *
 * Context: any.
 * Return: nonzero when it was pending.
 */
int keel_port_mod_delayed_work(void *wq, void *dwork, s64 delay_ticks);
/**
 * keel_port_cancel_work_sync() - unqueue an item, wait for it to finish
 * @work: the item
 *
 * Context: may sleep.
 * Return: nonzero when it was pending.
 */
int keel_port_cancel_work_sync(void *work);
/**
 * keel_port_flush_work() - wait for an item's last queueing to finish
 * @work: the item
 *
 * Context: may sleep.
 * Return: nonzero when it waited.
 */
int keel_port_flush_work(void *work);
/**
 * keel_port_cancel_delayed_work() - disarm a delayed item, without waiting
 * @dwork: the item
 *
 * Context: any.
 * Return: nonzero when it was pending.
 */
int keel_port_cancel_delayed_work(void *dwork);
/**
 * keel_port_cancel_delayed_work_sync() - disarm a delayed item, wait for it
 * @dwork: the item
 *
 * Context: may sleep.
 * Return: nonzero when it was pending.
 */
int keel_port_cancel_delayed_work_sync(void *dwork);
/**
 * keel_port_flush_delayed_work() - run a pending delayed item now, wait for it
 * @dwork: the item
 *
 * Context: may sleep.
 * Return: nonzero when it waited.
 */
int keel_port_flush_delayed_work(void *dwork);
/**
 * keel_port_work_pending() - is the item queued and not yet started?
 * @work: the item
 *
 * Context: any.
 * Return: nonzero when pending.
 */
int keel_port_work_pending(void *work);
/**
 * keel_port_delayed_work_pending() - is the delayed item armed or queued?
 * @dwork: the item
 *
 * Context: any.
 * Return: nonzero when pending.
 */
int keel_port_delayed_work_pending(void *dwork);
/**
 * keel_port_workqueue_create() - make a work queue (alloc_workqueue())
 * @name: its name
 * @ordered: nonzero: at most one item runs at a time, in queueing order
 *
 * Context: may sleep.
 * Return: the queue, or NULL.
 */
void *keel_port_workqueue_create(const char *name, int ordered);
/**
 * keel_port_workqueue_destroy() - drain and free a queue (destroy_workqueue())
 * @wq: the queue
 *
 * Context: may sleep.
 */
void keel_port_workqueue_destroy(void *wq);
/**
 * keel_port_workqueue_flush() - wait for every item queued so far
 * @wq: the queue
 *
 * Context: may sleep.
 */
void keel_port_workqueue_flush(void *wq);

/*
 * --- interrupt-context work (Linux irq_work) ---
 * @work is the storage of a struct keel_port_irq_work. queue() may be called
 * from any context and returns 0 if the item was already pending; @fn then
 * runs in hard-interrupt context (hosted: an interrupt thread that marks the
 * context atomic, so might_sleep() complains as in a real IRQ). An item
 * re-queued while it runs runs again. sync() waits until it is idle.
 */
/**
 * typedef keel_port_irq_work_fn - an irq_work's function
 * @work: the item's storage, as given to keel_port_irq_work_init()
 */
typedef void (*keel_port_irq_work_fn)(void *work);
/**
 * keel_port_irq_work_init() - initialise an irq_work (init_irq_work())
 * @work: KEEL_IRQ_WORK_SIZE bytes of storage
 * @fn: called with @work, in hard-interrupt context
 *
 * Context: any.
 */
void keel_port_irq_work_init(void *work, keel_port_irq_work_fn fn);
/**
 * keel_port_irq_work_queue() - run an irq_work soon (irq_work_queue())
 * @work: the item
 *
 * Context: any.
 * Return: 0 when it was already pending, nonzero when queued.
 */
int keel_port_irq_work_queue(void *work);
/**
 * keel_port_irq_work_sync() - wait until an irq_work is idle (irq_work_sync())
 * @work: the item
 *
 * Context: may sleep.
 */
void keel_port_irq_work_sync(void *work);

/* --- threads (kthread) --- */
/**
 * keel_port_thread_run() - start @fn(@arg) on a new thread (kthread_run())
 * @fn: the thread function
 * @arg: its argument
 * @name: the thread's name
 *
 * Context: may sleep.
 * Return: the thread, or NULL.
 */
void *keel_port_thread_run(int (*fn)(void *), void *arg, const char *name);
/**
 * keel_port_thread_stop() - stop a thread and free it (kthread_stop())
 * @thread: the thread
 *
 * Asks the thread to stop, wakes it, waits for it.
 *
 * Context: may sleep.
 * Return: the thread function's result.
 */
int keel_port_thread_stop(void *thread);
/**
 * keel_port_thread_should_stop() - has the calling thread been asked to stop?
 *
 * Context: a thread started by keel_port_thread_run().
 * Return: nonzero when it has.
 */
int keel_port_thread_should_stop(void);
/**
 * keel_port_thread_signal() - interrupt a thread's interruptible waits
 * @thread: the thread
 *
 * Its current and next interruptible waits fail with -ERESTARTSYS.
 *
 * Context: any.
 */
void keel_port_thread_signal(void *thread);
/**
 * keel_port_thread_allow_signal() - let keel_port_thread_signal() reach the
 * calling thread (kernel threads ignore signals otherwise)
 *
 * Context: a thread started by keel_port_thread_run().
 */
void keel_port_thread_allow_signal(void);
/**
 * keel_port_thread_flush_signals() - clear the calling thread's signals
 *
 * Context: a thread started by keel_port_thread_run().
 */
void keel_port_thread_flush_signals(void);

/* --- time --- */
/**
 * keel_port_ktime_get_ns() - the monotonic clock (ktime_get_ns())
 *
 * Context: any.
 * Return: nanoseconds since an arbitrary start.
 */
s64 keel_port_ktime_get_ns(void);
/**
 * keel_port_msleep() - sleep at least @ms milliseconds (msleep())
 * @ms: milliseconds
 *
 * Context: may sleep.
 */
void keel_port_msleep(unsigned int ms);
/**
 * keel_port_udelay() - busy-wait at least @us microseconds (udelay())
 * @us: microseconds
 *
 * Context: any.
 */
void keel_port_udelay(unsigned int us);
/**
 * keel_port_cond_resched() - yield if another thread should run
 *
 * Context: may sleep.
 */
void keel_port_cond_resched(void);
/**
 * keel_port_cpu_relax() - pause in a busy-wait loop (cpu_relax())
 *
 * Context: any.
 */
void keel_port_cpu_relax(void);
/**
 * keel_port_spin_yield() - let the scheduler in during a long busy-wait
 *
 * For busy-wait loops that may last microseconds (a few calls per spin):
 * gives the CPU to another runnable task where that costs the spinner
 * nothing it needs (hosted: sched_yield(), which returns at once when
 * nobody else is runnable), and says whether the spin should end because
 * the scheduler wants the CPU (kernel: need_resched(), as the kernel's own
 * busy-poll loops check; hosted: the yield ran another task).
 *
 * Context: any.
 * Return: nonzero when the spin should end.
 */
int keel_port_spin_yield(void);
/**
 * keel_port_div_u64_rem() - unsigned 64-by-32 division (Linux div_u64_rem())
 * @dividend: the dividend
 * @divisor: the divisor, not 0
 * @rem: the remainder is stored here
 *
 * A 64-bit '/' compiles to a libgcc call on 32-bit targets, which the
 * kernel does not link. Used through keel::div_u64_rem() only where a
 * long is 32 bits.
 *
 * Context: any.
 * Return: @dividend / @divisor.
 */
u64 keel_port_div_u64_rem(u64 dividend, u32 divisor, u32 *rem);

/*
 * --- DMA-coherent memory ---
 * @os_dev: the port's DMA-capable device (Linux: a struct device with a DMA
 * mask), or NULL where the port has no such notion (hosted).
 */
/**
 * keel_port_dma_alloc_coherent() - allocate zeroed coherent memory
 * (dma_alloc_coherent())
 * @os_dev: the port's DMA-capable device, or NULL
 * @size: bytes wanted
 * @dma_handle: out: the device's address of the memory
 * @gfp: KEEL_GFP_* flags
 *
 * Context: may sleep with KEEL_GFP_KERNEL.
 * Return: the CPU's address, or NULL.
 */
void *keel_port_dma_alloc_coherent(void *os_dev, __SIZE_TYPE__ size, u64 *dma_handle,
				   unsigned int gfp);
/**
 * keel_port_dma_free_coherent() - free coherent memory (dma_free_coherent())
 * @os_dev: the device it was allocated for
 * @size: its size
 * @cpu: the CPU's address
 * @dma_handle: the device's address
 *
 * Context: may sleep (Linux: not in interrupt context).
 */
void keel_port_dma_free_coherent(void *os_dev, __SIZE_TYPE__ size, void *cpu, u64 dma_handle);

/*
 * --- streaming DMA mappings (Linux dma_map_single(), DMA_BIDIRECTIONAL) ---
 * Cacheable memory shared with a device that may not snoop the CPU's
 * caches: mapped once, then each ownership transfer of a range is synced:
 * for_device writes the CPU's copy back (clean), for_cpu drops stale lines
 * (invalidate). Both are no-ops for a coherent device. @cpu must be memory
 * the port can map (Linux: the linear map, kmalloc or pages).
 * map returns 0 or -ENOMEM (no mapping); coherent returns 1 when the device
 * snoops (the syncs do nothing), 0 when they maintain the caches.
 */
/**
 * keel_port_dma_map() - map memory for streaming DMA (dma_map_single())
 * @os_dev: the port's DMA device
 * @cpu: the memory
 * @size: its size
 * @dma_handle: out: the device's address of it
 *
 * Context: may sleep.
 * Return: 0, or -ENOMEM when no mapping could be made.
 */
int keel_port_dma_map(void *os_dev, void *cpu, __SIZE_TYPE__ size, u64 *dma_handle);
/**
 * keel_port_dma_unmap() - undo keel_port_dma_map() (dma_unmap_single())
 * @os_dev: the device
 * @dma_handle: the mapping's device address
 * @size: its size
 *
 * Context: may sleep.
 */
void keel_port_dma_unmap(void *os_dev, u64 dma_handle, __SIZE_TYPE__ size);
/**
 * keel_port_dma_sync_for_device() - clean a mapped range for the device
 * (dma_sync_single_range_for_device())
 * @os_dev: the device
 * @dma_handle: the mapping's device address
 * @off: offset of the range in the mapping
 * @len: its length
 *
 * Context: any.
 */
void keel_port_dma_sync_for_device(void *os_dev, u64 dma_handle, __SIZE_TYPE__ off,
				   __SIZE_TYPE__ len);
/**
 * keel_port_dma_sync_for_cpu() - invalidate a mapped range for the CPU
 * (dma_sync_single_range_for_cpu())
 * @os_dev: the device
 * @dma_handle: the mapping's device address
 * @off: offset of the range in the mapping
 * @len: its length
 *
 * Context: any.
 */
void keel_port_dma_sync_for_cpu(void *os_dev, u64 dma_handle, __SIZE_TYPE__ off, __SIZE_TYPE__ len);
/**
 * keel_port_dma_coherent() - does @os_dev snoop the CPU's caches?
 * @os_dev: the device
 *
 * Context: any.
 * Return: 1 when coherent (the syncs do nothing), 0 when they maintain
 * the caches.
 */
int keel_port_dma_coherent(void *os_dev);

/*
 * --- cache maintenance for non-coherent shared memory ---
 * Clean (write back) before handing a range to the other side; invalidate
 * before reading what the other side wrote. No-ops on coherent ports.
 */
/**
 * keel_port_cache_clean() - write a range back to memory for the other side
 * @addr: the range's start
 * @size: its length
 *
 * Context: any.
 */
void keel_port_cache_clean(const void *addr, __SIZE_TYPE__ size);
/**
 * keel_port_cache_invalidate() - drop stale cached copies of a range
 * @addr: the range's start
 * @size: its length
 *
 * Context: any.
 */
void keel_port_cache_invalidate(const void *addr, __SIZE_TYPE__ size);

/* --- randomness (for tests, hashing) --- */
/**
 * keel_port_get_random_u32() - a random number (get_random_u32())
 *
 * Not for secrets on the hosted port.
 *
 * Context: any.
 * Return: 32 random bits.
 */
u32 keel_port_get_random_u32(void);

#ifdef __cplusplus
}
#endif

#endif
