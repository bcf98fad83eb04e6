/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private helpers shared by the two roles of the shared-memory virtio
 * transport (virtio_shm_host.cpp, virtio_shm_remote.cpp).
 */
#ifndef DRIVERS_REMOTEPROC_VIRTIO_SHM_INTERNAL_H
#define DRIVERS_REMOTEPROC_VIRTIO_SHM_INTERNAL_H

#include <keel/shm.h>
#include <virtio/virtio_ring.h>
#include <virtio/virtio_shm.h>

namespace virtio::detail {

/* The names both roles use unqualified (with "using namespace detail"). */
using keel::err;
using keel::Guard;
using keel::ok;
using rproc::FW_RSC_ADDR_ANY;

/* Hosted and kernel ports use 4 KiB pages; vrings and carveouts are page aligned as in Linux. */
inline constexpr size_t SHM_PAGE = 4096;

inline Result<u32> shm_read32(const keel::ShmRegion &r, size_t off)
{
	return keel::le32_to_cpu(TRY(r.peer_read<keel::le32>(off)));
}

inline Result<void> shm_write32(const keel::ShmRegion &r, size_t off, u32 v)
{
	return r.peer_write(off, keel::cpu_to_le32(v));
}

/*
 * Bytes of a vring under the one vring rule (VringLayout::compute()), with
 * the transport's cache line: -EINVAL when the driver's and the device's
 * parts of the ring would share a line.
 */
inline Result<size_t> ring_bytes(u32 num, u32 align)
{
	return TRY(VringLayout::compute(num, align, SHM_CACHE_LINE)).size;
}

} // namespace virtio::detail

#endif
