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

/*
 * Lockdep class key: one static object per lock declaration site. @storage
 * (first) is the OS's key (Linux: struct lock_class_key). @name is the one
 * name string of the class: the first one a lock of this class was
 * initialised with (keel_lock_class_name()). lockdep insists on one name
 * pointer per key, and a name literal in a header exists once per object file.
 */
struct keel_lock_key {
	unsigned char storage[KEEL_LOCK_KEY_SIZE] __attribute__((aligned(KEEL_LOCK_KEY_ALIGN)));
	const char *name;
};

/* The class's name for a lock initialised with @key and @name. */
static inline const char *keel_lock_class_name(struct keel_lock_key *key, const char *name)
{
	const char *first = 0;

	if (__atomic_compare_exchange_n(&key->name, &first, name, 0, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE))
		return name;
	return first;
}

/* --- memory --- */
void *keel_port_kmalloc(__SIZE_TYPE__ size, unsigned int gfp);
void keel_port_kfree(const void *p);

/* --- diagnostics --- */
void keel_port_bug(const char *file, int line, const char *what) __attribute__((noreturn));
void keel_port_warn(const char *file, int line, const char *what);
/* Complain (once per site) if the caller is in atomic context. */
void keel_port_might_sleep(const char *file, int line);
/* Log one formatted line; @msg has no trailing newline. */
void keel_port_log(int level, const char *msg);
int keel_port_vsnprintf(char *buf, __SIZE_TYPE__ size, const char *fmt, __builtin_va_list ap);

/* --- spinlocks (IRQ-safe) --- */
void keel_port_spin_init(void *lock, const char *name, struct keel_lock_key *key);
void keel_port_spin_lock(void *lock);
void keel_port_spin_unlock(void *lock);
unsigned long keel_port_spin_lock_irqsave(void *lock);
void keel_port_spin_unlock_irqrestore(void *lock, unsigned long flags);
int keel_port_spin_trylock(void *lock);
/* Nonzero while the calling context may not sleep (spinlock, IRQ). */
int keel_port_in_atomic(void);

/* --- mutexes --- */
void keel_port_mutex_init(void *m, const char *name, struct keel_lock_key *key);
void keel_port_mutex_destroy(void *m);
void keel_port_mutex_lock(void *m);
void keel_port_mutex_lock_nested(void *m, unsigned int subclass);
int keel_port_mutex_lock_interruptible(void *m);
int keel_port_mutex_trylock(void *m);
void keel_port_mutex_unlock(void *m);
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
void keel_port_waitq_init(void *wq, const char *name, struct keel_lock_key *key);
void keel_port_waitq_destroy(void *wq);
void keel_port_wake_up(void *wq);
void keel_port_wait_prepare(void *wq, void *entry, int interruptible);
s64 keel_port_wait_sleep(void *wq, void *entry, s64 timeout_ticks, int interruptible);
void keel_port_wait_finish(void *wq, void *entry);
int keel_port_signal_pending(void);
/* A callback entry's function (keel_port_waitq_add_func()). */
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
typedef void (*keel_port_work_fn)(void *work);
void keel_port_work_init(void *work, keel_port_work_fn fn, const char *name,
			 struct keel_lock_key *key);
void keel_port_delayed_work_init(void *dwork, keel_port_work_fn fn, const char *name,
				 struct keel_lock_key *key);
/* @wq: a queue from keel_port_workqueue_create(), or NULL for the system queue. */
int keel_port_queue_work(void *wq, void *work);
int keel_port_queue_delayed_work(void *wq, void *dwork, s64 delay_ticks);
int keel_port_mod_delayed_work(void *wq, void *dwork, s64 delay_ticks);
int keel_port_cancel_work_sync(void *work);
int keel_port_flush_work(void *work);
int keel_port_cancel_delayed_work(void *dwork);
int keel_port_cancel_delayed_work_sync(void *dwork);
int keel_port_flush_delayed_work(void *dwork);
int keel_port_work_pending(void *work);
int keel_port_delayed_work_pending(void *dwork);
/* @ordered: at most one item runs at a time, in queueing order. */
void *keel_port_workqueue_create(const char *name, int ordered);
void keel_port_workqueue_destroy(void *wq);
void keel_port_workqueue_flush(void *wq);

/*
 * --- interrupt-context work (Linux irq_work) ---
 * @work is the storage of a struct keel_port_irq_work. queue() may be called
 * from any context and returns 0 if the item was already pending; @fn then
 * runs in hard-interrupt context (hosted: an interrupt thread that marks the
 * context atomic, so might_sleep() complains as in a real IRQ). An item
 * re-queued while it runs runs again. sync() waits until it is idle.
 */
typedef void (*keel_port_irq_work_fn)(void *work);
void keel_port_irq_work_init(void *work, keel_port_irq_work_fn fn);
int keel_port_irq_work_queue(void *work);
void keel_port_irq_work_sync(void *work);

/* --- threads (kthread) --- */
void *keel_port_thread_run(int (*fn)(void *), void *arg, const char *name);
/* Asks the thread to stop, wakes it, waits for it; returns fn's result. */
int keel_port_thread_stop(void *thread);
int keel_port_thread_should_stop(void);
/* Makes the thread's current and next interruptible waits fail with -ERESTARTSYS. */
void keel_port_thread_signal(void *thread);
/* Lets the calling thread receive keel_port_thread_signal() (kernel threads ignore signals). */
void keel_port_thread_allow_signal(void);
void keel_port_thread_flush_signals(void);

/* --- time --- */
s64 keel_port_ktime_get_ns(void);
void keel_port_msleep(unsigned int ms);
void keel_port_udelay(unsigned int us);
void keel_port_cond_resched(void);
void keel_port_cpu_relax(void);
/*
 * @dividend / @divisor, the remainder in *@rem: a 64-bit '/' compiles to a
 * libgcc call on 32-bit targets, which the kernel does not link (Linux:
 * div_u64_rem()). Used through keel::div_u64_rem() only where a long is 32
 * bits.
 */
u64 keel_port_div_u64_rem(u64 dividend, u32 divisor, u32 *rem);

/*
 * --- DMA-coherent memory ---
 * @os_dev: the port's DMA-capable device (Linux: a struct device with a DMA
 * mask), or NULL where the port has no such notion (hosted).
 */
void *keel_port_dma_alloc_coherent(void *os_dev, __SIZE_TYPE__ size, u64 *dma_handle,
				   unsigned int gfp);
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
int keel_port_dma_map(void *os_dev, void *cpu, __SIZE_TYPE__ size, u64 *dma_handle);
void keel_port_dma_unmap(void *os_dev, u64 dma_handle, __SIZE_TYPE__ size);
void keel_port_dma_sync_for_device(void *os_dev, u64 dma_handle, __SIZE_TYPE__ off,
				   __SIZE_TYPE__ len);
void keel_port_dma_sync_for_cpu(void *os_dev, u64 dma_handle, __SIZE_TYPE__ off, __SIZE_TYPE__ len);
int keel_port_dma_coherent(void *os_dev);

/*
 * --- cache maintenance for non-coherent shared memory ---
 * Clean (write back) before handing a range to the other side; invalidate
 * before reading what the other side wrote. No-ops on coherent ports.
 */
void keel_port_cache_clean(const void *addr, __SIZE_TYPE__ size);
void keel_port_cache_invalidate(const void *addr, __SIZE_TYPE__ size);

/* --- randomness (for tests, hashing) --- */
u32 keel_port_get_random_u32(void);

#ifdef __cplusplus
}
#endif

#endif
