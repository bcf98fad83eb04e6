/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ShmRegion: a window of memory shared with another processor, the only way
 * the stack touches it. The peer is untrusted: every offset and length
 * derived from shared data is checked here, overflow-safe, and a bad one is
 * -EINVAL, never an out-of-bounds access.
 *
 * Addresses: the region has a CPU view (m_base) and a device view (the
 * address the remote uses for byte 0, m_da). Descriptors and resource-table
 * entries carry device addresses; da_to_offset() translates and checks them.
 *
 * Loads of peer-written fields use read<T>() (one volatile access per field:
 * READ_ONCE), so a value checked is the value used: read once into a local,
 * check, then use the local.
 */
#ifndef KEEL_SHM_H
#define KEEL_SHM_H

#include <keel/error.h>
#include <keel/string.h>
#include <keel/utility.h>

namespace keel {

class ShmRegion {
public:
	constexpr ShmRegion() = default;
	ShmRegion(void *base, size_t size, u64 da) : m_base(static_cast<u8 *>(base)), m_size(size), m_da(da) {}
	/* Constant-initialisable (constinit) form. */
	constexpr ShmRegion(u8 *base, size_t size, u64 da) : m_base(base), m_size(size), m_da(da) {}

	u8 *base() const { return m_base; }
	size_t size() const { return m_size; }
	u64 da() const { return m_da; }
	bool valid() const { return m_base != nullptr; }

	/* True when [off, off+len) lies inside the region (no overflow). */
	constexpr bool contains(size_t off, size_t len) const
	{
		return off <= m_size && len <= m_size - off;
	}
	/* Device address of [da, da+len) -> offset; -EINVAL when outside. */
	Result<size_t> da_to_offset(u64 da, u64 len) const
	{
		if (da < m_da)
			return err(-EINVAL);
		u64 off = da - m_da;
		if (off > m_size || len > m_size - off)
			return err(-EINVAL);
		return size_t(off);
	}
	Result<u64> offset_to_da(size_t off, size_t len) const
	{
		if (!contains(off, len))
			return err(-EINVAL);
		return m_da + off;
	}
	/* CPU pointer to [off, off+len), checked. */
	Result<void *> ptr(size_t off, size_t len) const
	{
		if (!contains(off, len))
			return err(-EINVAL);
		return static_cast<void *>(m_base + off);
	}
	Result<void *> da_ptr(u64 da, u64 len) const
	{
		size_t off = TRY(da_to_offset(da, len));
		return static_cast<void *>(m_base + off);
	}
	/* Offset of a CPU pointer inside the region; -EINVAL if outside. */
	Result<size_t> offset_of(const void *p, size_t len) const
	{
		auto a = reinterpret_cast<uintptr_t>(p), b = reinterpret_cast<uintptr_t>(m_base);
		if (a < b || !contains(a - b, len))
			return err(-EINVAL);
		return size_t(a - b);
	}

	/* One untorn load of a T at @off (READ_ONCE for scalars; bytewise copy for structs). */
	template <typename T> Result<T> read(size_t off) const
	{
		if (!contains(off, sizeof(T)))
			return err(-EINVAL);
		return load<T>(off);
	}
	template <typename T> Result<void> write(size_t off, const T &v) const
	{
		if (!contains(off, sizeof(T)))
			return err(-EINVAL);
		store<T>(off, v);
		return ok();
	}
	/* Compile-time checked offsets (for fixed layouts of a region known to be large enough). */
	template <typename T, size_t Off, size_t MinSize> T read_fixed() const
	{
		static_assert(Off + sizeof(T) <= MinSize, "read_fixed: offset past the region");
		return load<T>(Off);
	}
	Result<void> copy_from(void *dst, size_t off, size_t len) const
	{
		if (!contains(off, len))
			return err(-EINVAL);
		memcpy(dst, m_base + off, len);
		return ok();
	}
	Result<void> copy_to(size_t off, const void *src, size_t len) const
	{
		if (!contains(off, len))
			return err(-EINVAL);
		memcpy(m_base + off, src, len);
		return ok();
	}
	/* A sub-window [off, off+len) with its own device address. */
	Result<ShmRegion> sub(size_t off, size_t len) const
	{
		if (!contains(off, len))
			return err(-EINVAL);
		return ShmRegion(m_base + off, len, m_da + off);
	}

private:
	template <size_t N> struct RawOf;
	/*
	 * A naturally aligned scalar-sized T is accessed as one word (a single
	 * untorn access). A struct of 8 bytes but 4-byte alignment is not: on
	 * 32-bit Arm a misaligned doubleword access faults.
	 */
	template <typename T>
	static constexpr bool is_word = sizeof(T) <= 8 && (sizeof(T) & (sizeof(T) - 1)) == 0 &&
					alignof(T) >= sizeof(T);

	template <typename T> T load(size_t off) const
	{
		static_assert(is_trivially_copyable_v<T>, "shared memory holds trivial types only");
		if constexpr (is_word<T>) {
			/* SAFETY: bounds checked by the caller; the layout keeps fields naturally aligned. */
			/*
			 * A relaxed atomic load of a volatile word: the same single
			 * instruction as READ_ONCE, and ThreadSanitizer sees an
			 * atomic access rather than a race when both sides of a
			 * link run in one process.
			 */
			auto r = __atomic_load_n(reinterpret_cast<const volatile typename RawOf<sizeof(T)>::type *>(m_base + off),
						 __ATOMIC_RELAXED);
			return __builtin_bit_cast(T, r);
		} else {
			T v;
			memcpy(static_cast<void *>(&v), m_base + off, sizeof(T));
			return v;
		}
	}
	template <typename T> void store(size_t off, const T &v) const
	{
		static_assert(is_trivially_copyable_v<T>, "shared memory holds trivial types only");
		if constexpr (is_word<T>) {
			auto r = __builtin_bit_cast(typename RawOf<sizeof(T)>::type, v);
			/* SAFETY: bounds checked by the caller. */
			__atomic_store_n(reinterpret_cast<volatile typename RawOf<sizeof(T)>::type *>(m_base + off), r,
					 __ATOMIC_RELAXED);
		} else {
			memcpy(m_base + off, static_cast<const void *>(&v), sizeof(T));
		}
	}

	u8 *m_base = nullptr;
	size_t m_size = 0;
	u64 m_da = 0;
};

template <> struct ShmRegion::RawOf<1> { using type = u8; };
template <> struct ShmRegion::RawOf<2> { using type = u16; };
template <> struct ShmRegion::RawOf<4> { using type = u32; };
template <> struct ShmRegion::RawOf<8> { using type = u64; };

} // namespace keel

#endif
