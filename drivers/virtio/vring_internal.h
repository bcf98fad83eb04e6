/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private helpers of the two sides of the split ring (virtio_ring.cpp,
 * vringh.cpp): the log device. Both sides access the ring with
 * ShmRegion's *_unchecked() accessors at offsets their checked layout
 * gives. The broken state is detail::RingBroken (<virtio/virtio_ring.h>);
 * shared-memory accesses themselves are ShmRegion's (<keel/shm.h>), the
 * one implementation of untorn loads and stores.
 */
#ifndef DRIVERS_VIRTIO_VRING_INTERNAL_H
#define DRIVERS_VIRTIO_VRING_INTERNAL_H

#include <keel/log.h>
#include <keel/shm.h>
#include <virtio/virtio.h>
#include <virtio/virtio_ring.h>

namespace virtio::detail {

/* The device to log against for a queue of @vdev (nullptr: no device prefix). */
inline const keel::Device *vdev_log_device(const VirtioDevice *vdev)
{
	return vdev;
}

} // namespace virtio::detail

#endif
