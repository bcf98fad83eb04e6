/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hosted-port extras: hooks the simulator, the hosted test runner and hosted
 * tools use on top of <keel/port.h>. Nothing in the framework or its unit
 * tests includes this header (they must build unchanged in the kernel).
 *
 * Clean C and C++.
 */
#ifndef KEEL_POSIX_H
#define KEEL_POSIX_H

#include <keel/port.h>

#ifdef __cplusplus
extern "C" {
#endif

/* keel_port_warn() calls so far (WARN_ON, might_sleep and GFP misuse included). */
unsigned long keel_posix_warn_count(void);

/*
 * Interrupt-like context: the simulator's doorbell (notification) threads
 * bracket each handler call with these, so that might_sleep(), GFP_KERNEL
 * allocations and mutexes complain there as they would in a hard IRQ.
 * Nests; keel_port_in_atomic() is true in between.
 */
void keel_posix_irq_enter(void);
void keel_posix_irq_exit(void);
int keel_posix_in_irq(void);
/*
 * The same, for a thread that serves one interrupt source only (a link's
 * doorbell notification thread, Linux's threaded IRQ handler): the handler
 * may busy-wait briefly before the thread sleeps again, which delays no
 * other interrupt (keel_port_irq_may_spin() is true in between). The
 * shared irq_work thread uses keel_posix_irq_enter().
 */
void keel_posix_threaded_irq_enter(void);
void keel_posix_threaded_irq_exit(void);

/*
 * Fault injection for hosted tests of -ENOMEM paths: the @nth allocation
 * (kmalloc or dma_alloc_coherent, any thread) from now on fails, counting
 * from 1; 0 disables.
 */
void keel_posix_fail_nth_alloc(unsigned long nth);

/*
 * Framework allocations live now (kmalloc family, new (gfp) and
 * DMA-coherent blocks not yet freed), for leak checks of whole programs
 * (the simulator compares it before set-up and after teardown); -1 where
 * it cannot be counted (ThreadSanitizer builds, whose runtime supplies the
 * global deletes).
 */
long keel_posix_live_allocs(void);

/* Seeds keel_port_get_random_u32() for reproducible runs (else from getrandom()). */
void keel_posix_random_seed(u64 seed);

#ifdef __cplusplus
}
#endif

#endif
