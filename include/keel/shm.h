/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ShmRegion: a window of memory shared with another processor, the only way
 * the stack touches it. The peer is untrusted: every offset and length
 * derived from shared data is checked here (range_fits(), the one bounds
 * check of the stack), overflow-safe, and a bad one is -EINVAL, never an
 * out-of-bounds access.
 *
 * Addresses: the region has a CPU view (m_base) and a device view (the
 * address the remote uses for byte 0, m_da). Descriptors and resource-table
 * entries carry device addresses; da_to_offset() translates and checks them.
 *
 * Accesses: this file holds the one implementation of untorn shared-memory
 * loads and stores. A naturally aligned 1, 2, 4 or 8-byte field is one
 * access (READ_ONCE/WRITE_ONCE); anything larger, or misaligned, is copied
 * in the largest naturally aligned pieces, each one access. So a value
 * checked is the value used (read once into a local, check, then use the
 * local), and a word the peer writes concurrently is never seen torn.
 *
 * Cache maintenance (non-coherent ports): peer_read()/peer_write() are
 * read()/write() with the ownership transfer around them: invalidate the
 * field's lines before loading what the peer wrote, clean them after
 * storing what the peer will read. Maintenance works on whole cache lines,
 * so it is only correct when no line holds fields of both writers: layouts
 * that share memory give each writer its own lines (see
 * Documentation/shm-transport.rst, "Cache lines and writers").
 *
 * How a region is maintained is a property of its mapping: by default the
 * port's cache_clean()/cache_invalidate(); a region may instead carry its
 * own ShmCacheOps (memory the port maps differently, or a test's model of
 * a non-coherent cache or of a peer acting at an ownership transfer).
 * Sub-windows inherit them.
 */
#ifndef KEEL_SHM_H
#define KEEL_SHM_H

#include <keel/dma.h>
#include <keel/error.h>
#include <keel/string.h>
#include <keel/utility.h>

namespace keel {

/**
 * range_fits() - does [@off, @off + @len) lie inside [0, @size)?
 * @size: size of the window
 * @off: start of the range
 * @len: length of the range
 *
 * The one bounds check for data a peer controls: never overflows, whatever
 * the three values are.
 *
 * Context: any.
 * Return: true when the whole range is inside the window.
 */
constexpr bool range_fits(u64 size, u64 off, u64 len)
{
	return off <= size && len <= size - off;
}

/**
 * struct ShmCacheOps - how a region's memory is cleaned and invalidated
 * @clean: write back [@p, @p + @len) so that the peer sees it
 * @invalidate: drop stale copies of [@p, @p + @len) before reading what the
 *	peer wrote
 * @ctx: passed to both
 *
 * Both are called with a range inside the region, from any context the
 * access itself is made in: they must not sleep.
 */
struct ShmCacheOps {
	void (*clean)(void *ctx, const void *p, size_t len);
	void (*invalidate)(void *ctx, const void *p, size_t len);
	void *ctx;
};

/**
 * class ShmRegion - a checked window of shared memory
 *
 * A value type (copying it copies the window, not the memory). Every
 * accessor checks its range with range_fits() and returns -EINVAL outside
 * the window.
 *
 * Context: any; accessors never sleep or allocate.
 */
class ShmRegion {
public:
	/**
	 * ShmRegion() - an invalid (empty) region
	 *
	 * Context: any (constexpr).
	 */
	constexpr ShmRegion() = default;
	/**
	 * ShmRegion() - the window [@base, @base + @size)
	 * @base: the CPU's address of its first byte
	 * @size: its size
	 * @da: the device address of its first byte (what the peer calls it)
	 *
	 * Context: any.
	 */
	ShmRegion(void *base, size_t size, u64 da)
	    : m_base(static_cast<u8 *>(base)), m_size(size), m_da(da)
	{
	}
	/**
	 * ShmRegion() - the window [@base, @base + @size), constant-initialisable
	 * @base: the CPU's address of its first byte
	 * @size: its size
	 * @da: the device address of its first byte
	 *
	 * Context: any (constexpr: for constinit regions).
	 */
	constexpr ShmRegion(u8 *base, size_t size, u64 da) : m_base(base), m_size(size), m_da(da) {}

	/**
	 * base() - the CPU's address of the window
	 *
	 * Only for handing the memory to the port (mapping, freeing): every
	 * access goes through the accessors.
	 *
	 * Context: any.
	 * Return: the address, nullptr for an invalid region.
	 */
	u8 *base() const { return m_base; }
	/**
	 * size() - bytes of the window
	 *
	 * Context: any.
	 * Return: the size.
	 */
	size_t size() const { return m_size; }
	/**
	 * da() - the device address of the window's first byte
	 *
	 * Context: any.
	 * Return: the address.
	 */
	u64 da() const { return m_da; }
	/**
	 * valid() - is it a window at all?
	 *
	 * Context: any.
	 * Return: false for a default-constructed region.
	 */
	bool valid() const { return m_base != nullptr; }
	/**
	 * with_cache_ops() - the same window, maintained through @ops
	 * @ops: the cache maintenance; nullptr for the port's own
	 *
	 * Context: any.
	 * Return: the new region (this one is unchanged); @ops must outlive it.
	 */
	ShmRegion with_cache_ops(const ShmCacheOps *ops) const
	{
		ShmRegion r = *this;
		r.m_cache = ops;
		return r;
	}
	/**
	 * cache_ops() - the window's own cache maintenance
	 *
	 * Context: any.
	 * Return: the ops, or nullptr when the port's are used.
	 */
	const ShmCacheOps *cache_ops() const { return m_cache; }

	/**
	 * contains() - does [@off, @off + @len) lie inside the window?
	 * @off: offset of the range
	 * @len: its length
	 *
	 * Never overflows (range_fits()).
	 *
	 * Context: any.
	 * Return: true when inside.
	 */
	constexpr bool contains(size_t off, size_t len) const
	{
		return range_fits(m_size, off, len);
	}
	/**
	 * da_to_offset() - translate a device address range the peer gave
	 * @da: device address of the range
	 * @len: its length
	 *
	 * Context: any.
	 * Return: the offset of @da in the window, or -EINVAL when any byte of
	 * the range lies outside.
	 */
	Result<size_t> da_to_offset(u64 da, u64 len) const
	{
		if (da < m_da || !range_fits(m_size, da - m_da, len))
			return err(-EINVAL);
		return size_t(da - m_da);
	}
	/**
	 * offset_to_da() - the device address of a range of the window
	 * @off: offset of the range
	 * @len: its length
	 *
	 * Context: any.
	 * Return: the device address, or -EINVAL when the range is outside.
	 */
	Result<u64> offset_to_da(size_t off, size_t len) const
	{
		if (!contains(off, len))
			return err(-EINVAL);
		return m_da + off;
	}
	/**
	 * ptr() - the CPU's pointer to a checked range of the window
	 * @off: offset of the range
	 * @len: its length
	 *
	 * For memory that is ours while we use it (a buffer the peer handed
	 * over); fields the peer may write concurrently go through read().
	 *
	 * Context: any.
	 * Return: the pointer, or -EINVAL when the range is outside.
	 */
	Result<void *> ptr(size_t off, size_t len) const
	{
		if (!contains(off, len))
			return err(-EINVAL);
		return static_cast<void *>(m_base + off);
	}
	/**
	 * da_ptr() - the CPU's pointer to a range given by device address
	 * @da: device address of the range
	 * @len: its length
	 *
	 * Context: any.
	 * Return: the pointer, or -EINVAL when the range is outside.
	 */
	Result<void *> da_ptr(u64 da, u64 len) const
	{
		size_t off = TRY(da_to_offset(da, len));
		return static_cast<void *>(m_base + off);
	}
	/**
	 * offset_of() - the offset of a CPU pointer inside the window
	 * @p: the pointer
	 * @len: bytes from @p that must be inside too
	 *
	 * Context: any.
	 * Return: the offset, or -EINVAL when [@p, @p + @len) is outside.
	 */
	Result<size_t> offset_of(const void *p, size_t len) const
	{
		auto a = reinterpret_cast<uintptr_t>(p), b = reinterpret_cast<uintptr_t>(m_base);
		if (a < b || !contains(a - b, len))
			return err(-EINVAL);
		return size_t(a - b);
	}

	/**
	 * read() - one untorn load of a T at @off (see the file comment)
	 * @off: offset of the field
	 *
	 * No cache maintenance: for memory only we write, or after an
	 * explicit invalidate().
	 *
	 * Context: any.
	 * Return: the value, or -EINVAL when the field is outside the window.
	 */
	template <typename T> Result<T> read(size_t off) const
	{
		if (!contains(off, sizeof(T)))
			return err(-EINVAL);
		return load<T>(off);
	}
	/**
	 * write() - one untorn store of @v at @off
	 * @off: offset of the field
	 * @v: the value
	 *
	 * No cache maintenance (see peer_write()).
	 *
	 * Context: any.
	 * Return: 0, or -EINVAL when the field is outside the window.
	 */
	template <typename T> Result<void> write(size_t off, const T &v) const
	{
		if (!contains(off, sizeof(T)))
			return err(-EINVAL);
		store<T>(off, v);
		return ok();
	}
	/**
	 * peer_read() - read() of a field the peer wrote
	 * @off: offset of the field
	 *
	 * Invalidates the field's cache lines first (a no-op when coherent).
	 *
	 * Context: any.
	 * Return: the value, or -EINVAL when the field is outside the window.
	 */
	template <typename T> Result<T> peer_read(size_t off) const
	{
		if (!contains(off, sizeof(T)))
			return err(-EINVAL);
		do_invalidate(m_base + off, sizeof(T));
		return load<T>(off);
	}
	/**
	 * peer_write() - write() of a field the peer reads
	 * @off: offset of the field
	 * @v: the value
	 *
	 * Cleans the field's cache lines afterwards (a no-op when coherent).
	 *
	 * Context: any.
	 * Return: 0, or -EINVAL when the field is outside the window.
	 */
	template <typename T> Result<void> peer_write(size_t off, const T &v) const
	{
		if (!contains(off, sizeof(T)))
			return err(-EINVAL);
		store<T>(off, v);
		do_clean(m_base + off, sizeof(T));
		return ok();
	}
	/**
	 * write_unchecked() - write() at an offset the caller proved inside
	 * @off: offset of the field; [@off, @off + sizeof(T)) must lie inside
	 *	the window
	 * @v: the value
	 *
	 * For fixed layouts checked once against the window (a vring's parts
	 * at indices masked by its size): the per-access check is the one
	 * done at creation. Never for an offset the peer can influence. A
	 * word-sized T whose alignment is its size (an integer, a wire
	 * integer) must be naturally aligned there: one access, no alignment
	 * test. Any other T (a struct of smaller fields, such as a used
	 * element at a 4-byte boundary) is moved as write() moves it, in
	 * naturally aligned pieces.
	 *
	 * Context: any.
	 */
	template <typename T> void write_unchecked(size_t off, const T &v) const
	{
		if constexpr (is_aligned_word<T>)
			store_word(m_base + off,
				   __builtin_bit_cast(typename RawOf<sizeof(T)>::type, v));
		else
			store<T>(off, v);
	}
	/**
	 * peer_write_unchecked() - peer_write() at an offset the caller proved inside
	 * @off: offset of the field, inside and aligned as for write_unchecked()
	 * @v: the value
	 *
	 * Context: any.
	 */
	template <typename T> void peer_write_unchecked(size_t off, const T &v) const
	{
		write_unchecked(off, v);
		do_clean(m_base + off, sizeof(T));
	}
	/**
	 * peer_read_unchecked() - peer_read() at an offset the caller proved inside
	 * @off: offset of the field, inside and aligned as for write_unchecked()
	 *
	 * Context: any.
	 * Return: the value.
	 */
	template <typename T> T peer_read_unchecked(size_t off) const
	{
		do_invalidate(m_base + off, sizeof(T));
		return read_unchecked<T>(off);
	}
	/**
	 * read_unchecked() - read() at an offset the caller proved inside
	 * @off: offset of the field, inside and aligned as for write_unchecked()
	 *
	 * No cache maintenance: for a field the peer wrote, invalidate_unchecked()
	 * its range first (or use peer_read_unchecked()).
	 *
	 * Context: any.
	 * Return: the value.
	 */
	template <typename T> T read_unchecked(size_t off) const
	{
		if constexpr (is_aligned_word<T>)
			return __builtin_bit_cast(
				T, load_word<typename RawOf<sizeof(T)>::type>(m_base + off));
		else
			return load<T>(off);
	}
	/**
	 * clean_unchecked() - clean() of a range the caller proved inside
	 * @off: offset of the range
	 * @len: its length; [@off, @off + @len) must lie inside the window
	 *
	 * Context: any.
	 */
	void clean_unchecked(size_t off, size_t len) const { do_clean(m_base + off, len); }
	/**
	 * invalidate_unchecked() - invalidate() of a range the caller proved inside
	 * @off: offset of the range
	 * @len: its length; [@off, @off + @len) must lie inside the window
	 *
	 * Context: any.
	 */
	void invalidate_unchecked(size_t off, size_t len) const
	{
		do_invalidate(m_base + off, len);
	}
	/**
	 * read_fixed() - read() at an offset checked at compile time
	 *
	 * For fixed layouts of a region known to be at least MinSize bytes:
	 * a T at Off past MinSize does not compile (Rust's Io<SIZE>).
	 *
	 * Context: any.
	 * Return: the value.
	 */
	template <typename T, size_t Off, size_t MinSize> T read_fixed() const
	{
		static_assert(Off + sizeof(T) <= MinSize, "read_fixed: offset past the region");
		return load<T>(Off);
	}
	/**
	 * copy_from() - copy @len bytes at @off out of the window (memcpy_fromio())
	 * @dst: where to
	 * @off: offset in the window
	 * @len: bytes
	 *
	 * In untorn, naturally aligned pieces; no cache maintenance.
	 *
	 * Context: any.
	 * Return: 0, or -EINVAL when the range is outside (nothing copied).
	 */
	Result<void> copy_from(void *dst, size_t off, size_t len) const
	{
		if (!contains(off, len))
			return err(-EINVAL);
		copy_in(static_cast<u8 *>(dst), m_base + off, len);
		return ok();
	}
	/**
	 * copy_to() - copy @len bytes into the window at @off (memcpy_toio())
	 * @off: offset in the window
	 * @src: where from
	 * @len: bytes
	 *
	 * In untorn, naturally aligned pieces; no cache maintenance.
	 *
	 * Context: any.
	 * Return: 0, or -EINVAL when the range is outside (nothing copied).
	 */
	Result<void> copy_to(size_t off, const void *src, size_t len) const
	{
		if (!contains(off, len))
			return err(-EINVAL);
		copy_out(m_base + off, static_cast<const u8 *>(src), len);
		return ok();
	}
	/**
	 * zero() - clear @len bytes of the window at @off (memset_io())
	 * @off: offset in the window
	 * @len: bytes
	 *
	 * In untorn, naturally aligned pieces, as every write to memory that
	 * is read concurrently: a doorbell handler of the old session may
	 * still read the region while it is wiped, and sees old words or
	 * zeros, never torn ones. No cache maintenance.
	 *
	 * Context: any.
	 * Return: 0, or -EINVAL when the range is outside (nothing cleared).
	 */
	Result<void> zero(size_t off, size_t len) const
	{
		static constexpr u8 zeros[64] = {};
		if (!contains(off, len))
			return err(-EINVAL);
		for (size_t done = 0; done < len; done += sizeof(zeros))
			copy_out(m_base + off + done, zeros, min(len - done, sizeof(zeros)));
		return ok();
	}
	/**
	 * clean() - write [@off, @off + @len) back for the peer to read
	 * @off: offset of the range
	 * @len: its length
	 *
	 * A no-op on a coherent port.
	 *
	 * Context: any.
	 * Return: 0, or -EINVAL when the range is outside.
	 */
	Result<void> clean(size_t off, size_t len) const
	{
		if (!contains(off, len))
			return err(-EINVAL);
		do_clean(m_base + off, len);
		return ok();
	}
	/**
	 * invalidate() - drop stale copies of [@off, @off + @len) before reading it
	 * @off: offset of the range
	 * @len: its length
	 *
	 * A no-op on a coherent port.
	 *
	 * Context: any.
	 * Return: 0, or -EINVAL when the range is outside.
	 */
	Result<void> invalidate(size_t off, size_t len) const
	{
		if (!contains(off, len))
			return err(-EINVAL);
		do_invalidate(m_base + off, len);
		return ok();
	}
	/**
	 * sub() - the sub-window [@off, @off + @len)
	 * @off: its offset in this window
	 * @len: its size
	 *
	 * With its own device address (this one's plus @off) and this one's
	 * cache maintenance.
	 *
	 * Context: any.
	 * Return: the sub-window, or -EINVAL when it does not fit inside.
	 */
	Result<ShmRegion> sub(size_t off, size_t len) const
	{
		if (!contains(off, len))
			return err(-EINVAL);
		return window(off, len);
	}
	/**
	 * da_sub() - the sub-window at a device address range the peer gave
	 * @da: device address of its first byte
	 * @len: its size
	 *
	 * sub() of what da_to_offset() translates, with one check.
	 *
	 * Context: any.
	 * Return: the sub-window, or -EINVAL when any byte of the range lies
	 * outside this one.
	 */
	Result<ShmRegion> da_sub(u64 da, u64 len) const
	{
		size_t off = TRY(da_to_offset(da, len));
		return window(off, size_t(len));
	}

private:
	/* The sub-window [@off, @off + @len), already checked to be inside. */
	ShmRegion window(size_t off, size_t len) const
	{
		ShmRegion r(m_base + off, len, m_da + off);
		r.m_cache = m_cache;
		return r;
	}
	void do_clean(const u8 *p, size_t len) const
	{
		if (m_cache)
			m_cache->clean(m_cache->ctx, p, len);
		else
			cache_clean(p, len);
	}
	void do_invalidate(const u8 *p, size_t len) const
	{
		if (m_cache)
			m_cache->invalidate(m_cache->ctx, p, len);
		else
			cache_invalidate(p, len);
	}

	template <size_t N> struct RawOf;
	/* A scalar-sized T: accessed as one word when its address is naturally aligned. */
	template <typename T>
	static constexpr bool is_word = sizeof(T) <= 8 && (sizeof(T) & (sizeof(T) - 1)) == 0;
	/* A word that is naturally aligned wherever a T lives: one access, never torn. */
	template <typename T>
	static constexpr bool is_aligned_word = is_word<T> && alignof(T) == sizeof(T);

	template <typename W> static W load_word(const u8 *p)
	{
		/*
		 * A relaxed atomic load of a volatile word: the same single
		 * instruction as READ_ONCE, and ThreadSanitizer sees an atomic
		 * access rather than a race when both sides of a link run in
		 * one process. Ordering comes from the virt_* barriers.
		 */
		return __atomic_load_n(reinterpret_cast<const volatile W *>(p), __ATOMIC_RELAXED);
	}
	template <typename W> static void store_word(u8 *p, W v)
	{
		__atomic_store_n(reinterpret_cast<volatile W *>(p), v, __ATOMIC_RELAXED);
	}
	/* Bytes of the largest naturally aligned piece at @p that fits in @left. */
	static size_t piece(const u8 *p, size_t left)
	{
		auto a = reinterpret_cast<uintptr_t>(p);
		for (size_t n = 8; n > 1; n /= 2)
			if (left >= n && a % n == 0)
				return n;
		return 1;
	}
	/*
	 * The pieces piece() picks when @p is 4-byte aligned and @len a
	 * multiple of 4 (descriptors, used elements, rpmsg headers): a u32 to
	 * reach 8-byte alignment, u64s, a u32 for the rest; @f(offset, n)
	 * moves one. Hoisted out of the byte loop for the common case only:
	 * the same pieces, so the same rule.
	 */
	template <typename F> static __always_inline bool word_pieces(const u8 *p, size_t len, F f)
	{
		auto a = reinterpret_cast<uintptr_t>(p);
		if (((a | len) & 7) == 0) {
			/* All u64s (unrolled when @len is a constant). */
			for (size_t done = 0; done < len; done += 8)
				f(done, size_t(8));
			return true;
		}
		if ((a | len) & 3)
			return false;
		size_t done = 0;
		if ((a & 4) && len) {
			f(size_t(0), size_t(4));
			done = 4;
		}
		for (; len - done >= 8; done += 8)
			f(done, size_t(8));
		if (done < len)
			f(done, size_t(4));
		return true;
	}
	static __always_inline void copy_in(u8 *dst, const u8 *src, size_t len)
	{
		/* SAFETY: as in copy_pieces_in(). */
		if (word_pieces(src, len, [dst, src](size_t at, size_t n) {
			    if (n == 8) {
				    u64 v = load_word<u64>(src + at);
				    memcpy(dst + at, &v, 8);
			    } else {
				    u32 v = load_word<u32>(src + at);
				    memcpy(dst + at, &v, 4);
			    }
		    }))
			return;
		copy_pieces_in(dst, src, len);
	}
	static __noinline void copy_pieces_in(u8 *dst, const u8 *src, size_t len)
	{
		for (size_t done = 0; done < len;) {
			const u8 *s = src + done;
			size_t n = piece(s, len - done);
			/* SAFETY: in bounds (checked by the caller) and naturally aligned for n. */
			if (n == 8) {
				u64 v = load_word<u64>(s);
				memcpy(dst + done, &v, 8);
			} else if (n == 4) {
				u32 v = load_word<u32>(s);
				memcpy(dst + done, &v, 4);
			} else if (n == 2) {
				u16 v = load_word<u16>(s);
				memcpy(dst + done, &v, 2);
			} else {
				dst[done] = load_word<u8>(s);
			}
			done += n;
		}
	}
	static __always_inline void copy_out(u8 *dst, const u8 *src, size_t len)
	{
		/* SAFETY: as in copy_pieces_out(). */
		if (word_pieces(dst, len, [dst, src](size_t at, size_t n) {
			    if (n == 8) {
				    u64 v;
				    memcpy(&v, src + at, 8);
				    store_word<u64>(dst + at, v);
			    } else {
				    u32 v;
				    memcpy(&v, src + at, 4);
				    store_word<u32>(dst + at, v);
			    }
		    }))
			return;
		copy_pieces_out(dst, src, len);
	}
	static __noinline void copy_pieces_out(u8 *dst, const u8 *src, size_t len)
	{
		for (size_t done = 0; done < len;) {
			u8 *d = dst + done;
			size_t n = piece(d, len - done);
			/* SAFETY: in bounds (checked by the caller) and naturally aligned for n. */
			if (n == 8) {
				u64 v;
				memcpy(&v, src + done, 8);
				store_word<u64>(d, v);
			} else if (n == 4) {
				u32 v;
				memcpy(&v, src + done, 4);
				store_word<u32>(d, v);
			} else if (n == 2) {
				u16 v;
				memcpy(&v, src + done, 2);
				store_word<u16>(d, v);
			} else {
				store_word<u8>(d, src[done]);
			}
			done += n;
		}
	}

	template <typename T> T load(size_t off) const
	{
		static_assert(is_trivially_copyable_v<T>, "shared memory holds trivial types only");
		const u8 *p = m_base + off;
		T v;
		if constexpr (sizeof(T) == 1) {
			return __builtin_bit_cast(T, load_word<u8>(p));
		} else if constexpr (is_word<T>) {
			if (reinterpret_cast<uintptr_t>(p) % sizeof(T) == 0)
				return __builtin_bit_cast(
					T, load_word<typename RawOf<sizeof(T)>::type>(p));
			/*
			 * Misaligned: in pieces, as a larger field (a used
			 * element, two u32s at a 4-byte boundary).
			 */
			copy_in(reinterpret_cast<u8 *>(&v), p, sizeof(T));
		} else {
			copy_in(reinterpret_cast<u8 *>(&v), p, sizeof(T));
		}
		return v;
	}
	template <typename T> void store(size_t off, const T &v) const
	{
		static_assert(is_trivially_copyable_v<T>, "shared memory holds trivial types only");
		u8 *p = m_base + off;
		if constexpr (sizeof(T) == 1) {
			store_word(p, __builtin_bit_cast(u8, v));
		} else if constexpr (is_word<T>) {
			if (reinterpret_cast<uintptr_t>(p) % sizeof(T) == 0) {
				store_word(p,
					   __builtin_bit_cast(typename RawOf<sizeof(T)>::type, v));
				return;
			}
			copy_out(p, reinterpret_cast<const u8 *>(&v), sizeof(T));
		} else {
			copy_out(p, reinterpret_cast<const u8 *>(&v), sizeof(T));
		}
	}

	u8 *m_base = nullptr;
	size_t m_size = 0;
	u64 m_da = 0;
	const ShmCacheOps *m_cache = nullptr;
};

template <> struct ShmRegion::RawOf<1> {
	using type = u8;
};
template <> struct ShmRegion::RawOf<2> {
	using type = u16;
};
template <> struct ShmRegion::RawOf<4> {
	using type = u32;
};
template <> struct ShmRegion::RawOf<8> {
	using type = u64;
};

} // namespace keel

#endif
