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

/**
 * swab16() - reverse the bytes of a 16-bit value (Linux swab16())
 * @v: the value
 *
 * Context: any (constexpr).
 * Return: @v with its bytes in the opposite order.
 */
constexpr u16 swab16(u16 v)
{
	return __builtin_bswap16(v);
}
/**
 * swab32() - reverse the bytes of a 32-bit value (Linux swab32())
 * @v: the value
 *
 * Context: any (constexpr).
 * Return: @v with its bytes in the opposite order.
 */
constexpr u32 swab32(u32 v)
{
	return __builtin_bswap32(v);
}
/**
 * swab64() - reverse the bytes of a 64-bit value (Linux swab64())
 * @v: the value
 *
 * Context: any (constexpr).
 * Return: @v with its bytes in the opposite order.
 */
constexpr u64 swab64(u64 v)
{
	return __builtin_bswap64(v);
}
/**
 * swab() - reverse the bytes of a 16-, 32- or 64-bit value
 * @v: the value
 *
 * Context: any (constexpr).
 * Return: @v with its bytes in the opposite order.
 */
template <typename T> constexpr T swab(T v)
{
	if constexpr (sizeof(T) == 2)
		return swab16(v);
	else if constexpr (sizeof(T) == 4)
		return swab32(v);
	else
		return swab64(v);
}

/**
 * class WireInt - an integer of a fixed byte order, as stored on the wire
 *
 * Layout-identical to T, in byte order Tag (LittleTag, VirtioTag), with no
 * implicit conversion in either direction: the only ways in and out are
 * the conversion functions below, so a wire field cannot be used as a
 * CPU-order number by mistake (Linux __le32 under sparse).
 */
template <typename T, typename Tag> class WireInt {
public:
	/**
	 * WireInt() - zero
	 *
	 * Context: any (constexpr).
	 */
	constexpr WireInt() = default;
	/**
	 * from_raw() - a wire integer holding the bits @raw, unconverted
	 * @raw: the stored bits
	 *
	 * For byte-image tests and hashing; real code converts
	 * (cpu_to_le32(), cpu_to_virtio32()).
	 *
	 * Context: any (constexpr).
	 * Return: the wire integer.
	 */
	static constexpr WireInt from_raw(T raw)
	{
		WireInt w;
		w.m_raw = raw;
		return w;
	}
	/**
	 * raw() - the stored bits, unconverted
	 *
	 * Context: any (constexpr).
	 * Return: the bits in wire order.
	 */
	constexpr T raw() const { return m_raw; }
	/**
	 * operator==() - the same bits? (equal values of the same order)
	 * @o: the other wire integer
	 *
	 * Context: any (constexpr).
	 * Return: true when equal.
	 */
	constexpr bool operator==(const WireInt &o) const { return m_raw == o.m_raw; }

private:
	T m_raw = 0;
};

/**
 * struct LittleTag - the byte order tag of little-endian wire integers
 */
struct LittleTag {};
/**
 * struct VirtioTag - the byte order tag of virtio-order wire integers
 *
 * Little endian with VIRTIO_F_VERSION_1, the host's own order for a
 * legacy device: only the device knows, so every conversion takes its
 * flag.
 */
struct VirtioTag {};
/**
 * typedef le16 - a little-endian 16-bit wire integer (Linux __le16)
 */
using le16 = WireInt<u16, LittleTag>;
/**
 * typedef le32 - a little-endian 32-bit wire integer (Linux __le32)
 */
using le32 = WireInt<u32, LittleTag>;
/**
 * typedef le64 - a little-endian 64-bit wire integer (Linux __le64)
 */
using le64 = WireInt<u64, LittleTag>;
/**
 * typedef virtio16 - a 16-bit integer in a virtio device's order (__virtio16)
 */
using virtio16 = WireInt<u16, VirtioTag>;
/**
 * typedef virtio32 - a 32-bit integer in a virtio device's order (__virtio32)
 */
using virtio32 = WireInt<u32, VirtioTag>;
/**
 * typedef virtio64 - a 64-bit integer in a virtio device's order (__virtio64)
 */
using virtio64 = WireInt<u64, VirtioTag>;
static_assert(sizeof(le16) == 2 && sizeof(le32) == 4 && sizeof(le64) == 8);
static_assert(alignof(le32) == 4 && alignof(le64) == 8);

/**
 * le_to_cpu_raw() - convert between little endian and the CPU's order
 * @v: the value, in either order (the conversion is its own inverse)
 *
 * Context: any (constexpr).
 * Return: @v, byte-swapped on a big-endian CPU.
 */
template <typename T> constexpr T le_to_cpu_raw(T v)
{
	return CPU_IS_LITTLE_ENDIAN ? v : swab(v);
}
/**
 * cpu_to_le16() - a CPU-order value as a little-endian wire integer
 * @v: the value
 *
 * Context: any (constexpr).
 * Return: the wire integer.
 */
constexpr le16 cpu_to_le16(u16 v)
{
	return le16::from_raw(le_to_cpu_raw(v));
}
/**
 * cpu_to_le32() - a CPU-order value as a little-endian wire integer
 * @v: the value
 *
 * Context: any (constexpr).
 * Return: the wire integer.
 */
constexpr le32 cpu_to_le32(u32 v)
{
	return le32::from_raw(le_to_cpu_raw(v));
}
/**
 * cpu_to_le64() - a CPU-order value as a little-endian wire integer
 * @v: the value
 *
 * Context: any (constexpr).
 * Return: the wire integer.
 */
constexpr le64 cpu_to_le64(u64 v)
{
	return le64::from_raw(le_to_cpu_raw(v));
}
/**
 * le16_to_cpu() - a little-endian wire integer in the CPU's order
 * @v: the wire integer
 *
 * Context: any (constexpr).
 * Return: the value.
 */
constexpr u16 le16_to_cpu(le16 v)
{
	return le_to_cpu_raw(v.raw());
}
/**
 * le32_to_cpu() - a little-endian wire integer in the CPU's order
 * @v: the wire integer
 *
 * Context: any (constexpr).
 * Return: the value.
 */
constexpr u32 le32_to_cpu(le32 v)
{
	return le_to_cpu_raw(v.raw());
}
/**
 * le64_to_cpu() - a little-endian wire integer in the CPU's order
 * @v: the wire integer
 *
 * Context: any (constexpr).
 * Return: the value.
 */
constexpr u64 le64_to_cpu(le64 v)
{
	return le_to_cpu_raw(v.raw());
}

/**
 * virtio_to_cpu_raw() - convert between a virtio device's order and the CPU's
 * @little_endian: the device negotiated VIRTIO_F_VERSION_1 (or is legacy on
 *	a little-endian host)
 * @v: the value, in either order (the conversion is its own inverse)
 *
 * Context: any (constexpr).
 * Return: @v, byte-swapped when the two orders differ.
 */
template <typename T> constexpr T virtio_to_cpu_raw(bool little_endian, T v)
{
	return little_endian == CPU_IS_LITTLE_ENDIAN ? v : swab(v);
}
/**
 * virtio16_to_cpu() - a virtio-order wire integer in the CPU's order
 * @le: the device's order is little endian (see virtio_to_cpu_raw())
 * @v: the wire integer
 *
 * Context: any (constexpr).
 * Return: the value.
 */
constexpr u16 virtio16_to_cpu(bool le, virtio16 v)
{
	return virtio_to_cpu_raw(le, v.raw());
}
/**
 * virtio32_to_cpu() - a virtio-order wire integer in the CPU's order
 * @le: the device's order is little endian (see virtio_to_cpu_raw())
 * @v: the wire integer
 *
 * Context: any (constexpr).
 * Return: the value.
 */
constexpr u32 virtio32_to_cpu(bool le, virtio32 v)
{
	return virtio_to_cpu_raw(le, v.raw());
}
/**
 * virtio64_to_cpu() - a virtio-order wire integer in the CPU's order
 * @le: the device's order is little endian (see virtio_to_cpu_raw())
 * @v: the wire integer
 *
 * Context: any (constexpr).
 * Return: the value.
 */
constexpr u64 virtio64_to_cpu(bool le, virtio64 v)
{
	return virtio_to_cpu_raw(le, v.raw());
}
/**
 * cpu_to_virtio16() - a CPU-order value as a virtio-order wire integer
 * @le: the device's order is little endian
 * @v: the value
 *
 * Context: any (constexpr).
 * Return: the wire integer.
 */
constexpr virtio16 cpu_to_virtio16(bool le, u16 v)
{
	return virtio16::from_raw(virtio_to_cpu_raw(le, v));
}
/**
 * cpu_to_virtio32() - a CPU-order value as a virtio-order wire integer
 * @le: the device's order is little endian
 * @v: the value
 *
 * Context: any (constexpr).
 * Return: the wire integer.
 */
constexpr virtio32 cpu_to_virtio32(bool le, u32 v)
{
	return virtio32::from_raw(virtio_to_cpu_raw(le, v));
}
/**
 * cpu_to_virtio64() - a CPU-order value as a virtio-order wire integer
 * @le: the device's order is little endian
 * @v: the value
 *
 * Context: any (constexpr).
 * Return: the wire integer.
 */
constexpr virtio64 cpu_to_virtio64(bool le, u64 v)
{
	return virtio64::from_raw(virtio_to_cpu_raw(le, v));
}

} // namespace keel

#endif
