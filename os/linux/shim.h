/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private header of the Linux port's C shim (the .c files of os/linux): the kernel's
 * headers first, then <keel/port.h>, so that the compiler checks every shim
 * definition against the port interface.
 *
 * <keel/types.h> spells the 64-bit types with the compiler's __UINT64_TYPE__
 * (unsigned long on x86-64), Linux with unsigned long long: same size and
 * calling convention, but distinct types for C. The port header is therefore
 * read with its fixed-width names renamed to keel_u8..keel_s64; shim
 * definitions use those names where port.h has a 64-bit type.
 */
#ifndef KEEL_OS_LINUX_SHIM_H
#define KEEL_OS_LINUX_SHIM_H

#include <linux/build_bug.h>
#include <linux/types.h>

#define u8 keel_u8
#define u16 keel_u16
#define u32 keel_u32
#define u64 keel_u64
#define s8 keel_s8
#define s16 keel_s16
#define s32 keel_s32
#define s64 keel_s64
#include <keel/port.h>
#undef u8
#undef u16
#undef u32
#undef u64
#undef s8
#undef s16
#undef s32
#undef s64

/**
 * keel_linux_gfp() - translate keel allocation flags (KEEL_GFP_*) to gfp_t
 * @gfp: KEEL_GFP_* bits
 *
 * Return: the matching gfp_t.
 */
gfp_t keel_linux_gfp(unsigned int gfp);

/**
 * keel_dma_default_dev() - the DMA device used when a caller passes none
 *
 * Each module linking the shim registers a platform device "keel-dma.N" with
 * a 64-bit DMA mask at load (keel_linux_dma_init());
 * keel_port_dma_alloc_coherent(NULL, ...) allocates for it.
 *
 * Return: the device, or NULL before keel_linux_dma_init() / after exit.
 */
struct device *keel_dma_default_dev(void);
int keel_linux_dma_init(void);
void keel_linux_dma_exit(void);

/* os/linux/framework.cpp: the framework's module-exit cleanup. */
void keel_linux_framework_exit(void);

#endif
