// SPDX-License-Identifier: GPL-2.0
/*
 * Compile-time checks that the C shim and the C++ framework agree on the
 * values they share (no code is generated).
 */
#include <keel/new.h>
#include <keel/port.h>

#include "gfp.h"

static_assert(KEEL_GFP_ATOMIC == KEEL_LINUX_GFP_ATOMIC);
static_assert(KEEL_GFP_ZERO == KEEL_LINUX_GFP_ZERO);
static_assert(KEEL_GFP_NOWARN == KEEL_LINUX_GFP_NOWARN);
static_assert(KEEL_GFP_KERNEL == 0, "the shim maps 'no flag' to GFP_KERNEL");
static_assert(sizeof(keel_lock_key) >= 1);
