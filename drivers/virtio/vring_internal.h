/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private helpers shared by the two sides of the split ring
 * (virtio_ring.cpp, vringh.cpp): shared-memory accesses with the cache
 * maintenance of an ownership transfer, and the broken-ring log line.
 */
#ifndef DRIVERS_VIRTIO_VRING_INTERNAL_H
#define DRIVERS_VIRTIO_VRING_INTERNAL_H

#include <keel/dma.h>
#include <keel/log.h>
#include <keel/shm.h>
#include <virtio/virtio.h>
#include <virtio/virtio_ring.h>

namespace virtio::detail {

template <size_t N> struct RawWord;
template <> struct RawWord<2> { using type = u16; };
template <> struct RawWord<4> { using type = u32; };

/* Ring indices and used fields: 16/32-bit, naturally aligned (checked at create()). */
template <typename T> constexpr bool is_ring_word = sizeof(T) == 2 || sizeof(T) == 4;

/*
 * Load a field the peer wrote: invalidate exactly its bytes (non-coherent
 * ports), then one untorn load (READ_ONCE). Ring words are loaded as
 * relaxed atomics through a volatile pointer: the same single instruction
 * as READ_ONCE, and visible to ThreadSanitizer as the intended race with the
 * peer that it is (ordering comes from the virt_* barriers). The caller
 * checks the value before using it and never loads it again.
 */
template <typename T> Result<T> shm_load(const ShmRegion &r, size_t off)
{
	void *p = TRY(r.ptr(off, sizeof(T)));
	keel::cache_invalidate(p, sizeof(T));
	if constexpr (is_ring_word<T>) {
		using Raw = typename RawWord<sizeof(T)>::type;
		if (reinterpret_cast<keel::uintptr_t>(p) % sizeof(T) == 0) {
			/* SAFETY: in bounds (ptr() checked it) and naturally aligned. */
			Raw raw = __atomic_load_n(static_cast<volatile Raw *>(p), __ATOMIC_RELAXED);
			return __builtin_bit_cast(T, raw);
		}
	}
	return r.read<T>(off);
}

/* Store a field we publish (WRITE_ONCE, as above), then clean exactly its bytes towards the peer. */
template <typename T> Result<void> shm_store(const ShmRegion &r, size_t off, const T &v)
{
	void *p = TRY(r.ptr(off, sizeof(T)));
	bool done = false;
	if constexpr (is_ring_word<T>) {
		using Raw = typename RawWord<sizeof(T)>::type;
		if (reinterpret_cast<keel::uintptr_t>(p) % sizeof(T) == 0) {
			/* SAFETY: in bounds (ptr() checked it) and naturally aligned. */
			__atomic_store_n(static_cast<volatile Raw *>(p), __builtin_bit_cast(Raw, v), __ATOMIC_RELAXED);
			done = true;
		}
	}
	if (!done)
		TRY(r.write<T>(off, v));
	keel::cache_clean(p, sizeof(T));
	return keel::ok();
}

/*
 * A used element, field by field: each is one untorn 32-bit access (the
 * element is only 4-byte aligned, so it is never accessed as one u64).
 */
inline Result<VringUsedElem> used_load(const ShmRegion &r, size_t off)
{
	VringUsedElem e;
	e.id = TRY(shm_load<keel::virtio32>(r, off));
	e.len = TRY(shm_load<keel::virtio32>(r, off + 4));
	return e;
}
inline Result<void> used_store(const ShmRegion &r, size_t off, const VringUsedElem &e)
{
	TRY(shm_store(r, off, e.id));
	return shm_store(r, off + 4, e.len);
}

/* Logs "<name>: <message>" once for a queue turning broken (Linux BAD_RING). */
void vring_log_bad(const keel::Device *dev, const char *name, const char *fmt, __builtin_va_list ap)
	__printf(3, 0);

/* The device to log against for a queue of @vdev (nullptr: no device prefix). */
inline const keel::Device *vdev_log_device(const VirtioDevice *vdev)
{
	return vdev;
}

} // namespace virtio::detail

#endif
