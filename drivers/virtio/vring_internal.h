/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private helpers of the two sides of the split ring (virtio_ring.cpp,
 * vringh.cpp): the device side's used-element store, the log device. The
 * driver side reads a used element with ShmRegion::peer_read_unchecked()
 * at an offset its checked layout gives. The broken
 * state is detail::RingBroken (<virtio/virtio_ring.h>); shared-memory
 * accesses themselves are ShmRegion's
 * (<keel/shm.h>), the one implementation of untorn loads and stores.
 */
#ifndef DRIVERS_VIRTIO_VRING_INTERNAL_H
#define DRIVERS_VIRTIO_VRING_INTERNAL_H

#include <keel/log.h>
#include <keel/shm.h>
#include <virtio/virtio.h>
#include <virtio/virtio_ring.h>

namespace virtio::detail {

/*
 * A used element: one bounds check and one cache maintenance call for its
 * 8 bytes, each field one untorn 32-bit access (the element is only 4-byte
 * aligned: ShmRegion moves it in naturally aligned pieces, never a torn
 * word).
 */
inline Result<void> used_store(const ShmRegion &r, size_t off, const VringUsedElem &e)
{
	return r.peer_write(off, e);
}

/* The device to log against for a queue of @vdev (nullptr: no device prefix). */
inline const keel::Device *vdev_log_device(const VirtioDevice *vdev)
{
	return vdev;
}

} // namespace virtio::detail

#endif
