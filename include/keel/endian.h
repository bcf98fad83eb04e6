/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Wire integer types. le16/le32/le64 hold little-endian values and have no
 * implicit conversion in either direction (Linux __le32 under sparse):
 * reading one is to_cpu(), writing one is cpu_to_le32(). virtio16/32/64 are
 * in the device's byte order, which is little endian with VIRTIO_F_VERSION_1
 * and the host's own order for legacy devices: convert with the device's
 * flag (virtio16_to_cpu(little_endian, v)).
 */
#ifndef KEEL_ENDIAN_H
#define KEEL_ENDIAN_H

#include <keel/types.h>

namespace keel {

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
inline constexpr bool CPU_IS_LITTLE_ENDIAN = true;
#else
inline constexpr bool CPU_IS_LITTLE_ENDIAN = false;
#endif

constexpr u16 swab16(u16 v)
{
	return __builtin_bswap16(v);
}
constexpr u32 swab32(u32 v)
{
	return __builtin_bswap32(v);
}
constexpr u64 swab64(u64 v)
{
	return __builtin_bswap64(v);
}
template <typename T> constexpr T swab(T v)
{
	if constexpr (sizeof(T) == 2)
		return swab16(v);
	else if constexpr (sizeof(T) == 4)
		return swab32(v);
	else
		return swab64(v);
}

/* A wire integer of byte order Tag; layout-identical to T. */
template <typename T, typename Tag> class WireInt {
public:
	constexpr WireInt() = default;
	/* The raw stored bits (no conversion): for byte-image tests and hashing. */
	static constexpr WireInt from_raw(T raw)
	{
		WireInt w;
		w.m_raw = raw;
		return w;
	}
	constexpr T raw() const { return m_raw; }
	constexpr bool operator==(const WireInt &o) const { return m_raw == o.m_raw; }

private:
	T m_raw = 0;
};

struct LittleTag {};
struct VirtioTag {};
using le16 = WireInt<u16, LittleTag>;
using le32 = WireInt<u32, LittleTag>;
using le64 = WireInt<u64, LittleTag>;
using virtio16 = WireInt<u16, VirtioTag>;
using virtio32 = WireInt<u32, VirtioTag>;
using virtio64 = WireInt<u64, VirtioTag>;
static_assert(sizeof(le16) == 2 && sizeof(le32) == 4 && sizeof(le64) == 8);
static_assert(alignof(le32) == 4 && alignof(le64) == 8);

template <typename T> constexpr T le_to_cpu_raw(T v)
{
	return CPU_IS_LITTLE_ENDIAN ? v : swab(v);
}
constexpr le16 cpu_to_le16(u16 v)
{
	return le16::from_raw(le_to_cpu_raw(v));
}
constexpr le32 cpu_to_le32(u32 v)
{
	return le32::from_raw(le_to_cpu_raw(v));
}
constexpr le64 cpu_to_le64(u64 v)
{
	return le64::from_raw(le_to_cpu_raw(v));
}
constexpr u16 le16_to_cpu(le16 v)
{
	return le_to_cpu_raw(v.raw());
}
constexpr u32 le32_to_cpu(le32 v)
{
	return le_to_cpu_raw(v.raw());
}
constexpr u64 le64_to_cpu(le64 v)
{
	return le_to_cpu_raw(v.raw());
}

/* @little_endian: the device negotiated VIRTIO_F_VERSION_1 (or is legacy on an LE host). */
template <typename T> constexpr T virtio_to_cpu_raw(bool little_endian, T v)
{
	return little_endian == CPU_IS_LITTLE_ENDIAN ? v : swab(v);
}
constexpr u16 virtio16_to_cpu(bool le, virtio16 v)
{
	return virtio_to_cpu_raw(le, v.raw());
}
constexpr u32 virtio32_to_cpu(bool le, virtio32 v)
{
	return virtio_to_cpu_raw(le, v.raw());
}
constexpr u64 virtio64_to_cpu(bool le, virtio64 v)
{
	return virtio_to_cpu_raw(le, v.raw());
}
constexpr virtio16 cpu_to_virtio16(bool le, u16 v)
{
	return virtio16::from_raw(virtio_to_cpu_raw(le, v));
}
constexpr virtio32 cpu_to_virtio32(bool le, u32 v)
{
	return virtio32::from_raw(virtio_to_cpu_raw(le, v));
}
constexpr virtio64 cpu_to_virtio64(bool le, u64 v)
{
	return virtio64::from_raw(virtio_to_cpu_raw(le, v));
}

} // namespace keel

#endif
