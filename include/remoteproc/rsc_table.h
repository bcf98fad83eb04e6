/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The remoteproc resource table: wire structs, a builder (the remote
 * publishes a table) and a validating parser (the host reads one).
 *
 * Layout is Linux's include/linux/rsc_table.h and OpenAMP's
 * remoteproc.h bit for bit: a 16-byte header {ver, num, reserved[2]}, then
 * num u32 offsets (from the start of the table) to entries, each of which
 * begins with a u32 type. Linux declares the fields as native u32; every
 * processor that shares such a table in practice is little endian, so the
 * wire structs here are le32 and convert explicitly (a big-endian build
 * stays correct against a little-endian peer).
 *
 * The table is written by the remote and therefore untrusted. The parser
 * works on a private snapshot (never on the shared bytes, which the remote
 * could change between check and use) and checks every offset, count and
 * length against the table size, overflow-safe. What it checks, and the
 * choices where we differ from Linux, are listed in
 * Documentation/shm-transport.rst.
 */
#ifndef REMOTEPROC_RSC_TABLE_H
#define REMOTEPROC_RSC_TABLE_H

#include <keel/endian.h>
#include <keel/error.h>
#include <keel/shm.h>
#include <keel/span.h>

namespace keel {
class Device;
}

namespace rproc {

using keel::le32;
using keel::Result;
using keel::size_t;
using keel::Span;

/* enum fw_resource_type */
enum : u32 {
	RSC_CARVEOUT = 0,
	RSC_DEVMEM = 1,
	RSC_TRACE = 2,
	RSC_VDEV = 3,
	RSC_LAST = 4,
	RSC_VENDOR_START = 128,
	RSC_VENDOR_END = 512,
};

/* "Allocate it for me": a da or pa the host fills in. */
inline constexpr u32 FW_RSC_ADDR_ANY = 0xFFFFFFFFu;
/* Linux's RVDEV_NUM_VRINGS: a vdev has at most two vrings (rpmsg: rx, tx). */
inline constexpr u32 RVDEV_NUM_VRINGS = 2;
/* Only version 1 exists. */
inline constexpr u32 RSC_TABLE_VERSION = 1;

/**
 * struct ResourceTable - the table's header (struct resource_table)
 * @ver: the version, RSC_TABLE_VERSION
 * @num: the number of entries; u32 offset[num] follows the header
 * @reserved: zero
 */
struct ResourceTable {
	le32 ver;
	le32 num;
	le32 reserved[2];
};

/**
 * struct FwRscHdr - the start of every entry (struct fw_rsc_hdr)
 * @type: the entry's type (RSC_*); its payload follows
 */
struct FwRscHdr {
	le32 type;
};

/**
 * struct FwRscCarveout - a carveout entry, after the type word (struct
 * fw_rsc_carveout)
 * @da: the device address the remote wants, or FW_RSC_ADDR_ANY
 * @pa: the physical address, or FW_RSC_ADDR_ANY (the host fills it in)
 * @len: its length
 * @flags: IOMMU protection flags
 * @reserved: zero
 * @name: a name, not necessarily NUL-terminated
 */
struct FwRscCarveout {
	le32 da;
	le32 pa;
	le32 len;
	le32 flags;
	le32 reserved;
	u8 name[32];
};

/**
 * typedef FwRscDevmem - a devmem entry (struct fw_rsc_devmem)
 *
 * A request to map device memory through an IOMMU, with exactly a
 * carveout's fields (Linux declares the two alike). Parsed entries of this
 * type are skipped: a shared-memory link has no IOMMU to program.
 */
using FwRscDevmem = FwRscCarveout;

/**
 * struct FwRscTrace - a trace buffer entry (struct fw_rsc_trace)
 * @da: the buffer's device address
 * @len: its length
 * @reserved: zero
 * @name: a name, not necessarily NUL-terminated
 */
struct FwRscTrace {
	le32 da;
	le32 len;
	le32 reserved;
	u8 name[32];
};

/**
 * struct FwRscVdevVring - a vring of a vdev entry (struct fw_rsc_vdev_vring)
 * @da: the vring's device address, or FW_RSC_ADDR_ANY for the host to place
 * @align: the used ring's alignment
 * @num: its entries
 * @notifyid: the notify id (the host assigns it)
 * @pa: the physical address (unused here)
 */
struct FwRscVdevVring {
	le32 da;
	le32 align;
	le32 num;
	le32 notifyid;
	le32 pa;
};

/**
 * struct FwRscVdev - a virtio device entry (struct fw_rsc_vdev)
 * @id: the virtio device id (VIRTIO_ID_*)
 * @notifyid: the notify id of config changes
 * @dfeatures: the device's features (written by the remote)
 * @gfeatures: the features the host's driver acknowledged (written by the host)
 * @config_len: bytes of config space after the vrings
 * @status: the virtio status byte (written by the host)
 * @num_of_vrings: vrings that follow (1..RVDEV_NUM_VRINGS)
 * @reserved: zero (Linux refuses anything else)
 *
 * FwRscVdevVring vring[num_of_vrings] and the config space follow.
 */
struct FwRscVdev {
	le32 id;
	le32 notifyid;
	le32 dfeatures;
	le32 gfeatures;
	le32 config_len;
	u8 status;
	u8 num_of_vrings;
	u8 reserved[2];
};

/* Sizes and offsets of Linux 6.1 include/linux/rsc_table.h (all __packed). */
static_assert(sizeof(ResourceTable) == 16);
static_assert(sizeof(FwRscHdr) == 4);
static_assert(sizeof(FwRscCarveout) == 52 && __builtin_offsetof(FwRscCarveout, name) == 20);
static_assert(sizeof(FwRscTrace) == 44 && __builtin_offsetof(FwRscTrace, name) == 12);
static_assert(sizeof(FwRscVdevVring) == 20 && __builtin_offsetof(FwRscVdevVring, notifyid) == 12 &&
	      __builtin_offsetof(FwRscVdevVring, pa) == 16);
static_assert(sizeof(FwRscVdev) == 24 && __builtin_offsetof(FwRscVdev, gfeatures) == 12 &&
	      __builtin_offsetof(FwRscVdev, config_len) == 16 &&
	      __builtin_offsetof(FwRscVdev, status) == 20 &&
	      __builtin_offsetof(FwRscVdev, num_of_vrings) == 21);

/*
 * Offsets, relative to the start of the table, of the fields inside a vdev
 * entry the host writes back (@vdev_off is the offset of the FwRscVdev, i.e.
 * of the entry plus sizeof(FwRscHdr)).
 */
/**
 * vdev_field_gfeatures() - offset of a vdev entry's gfeatures
 * @vdev_off: offset of the FwRscVdev in the table
 *
 * Context: any (constexpr).
 * Return: the offset in the table.
 */
constexpr size_t vdev_field_gfeatures(size_t vdev_off)
{
	return vdev_off + __builtin_offsetof(FwRscVdev, gfeatures);
}
/**
 * vdev_field_status() - offset of a vdev entry's status byte
 * @vdev_off: offset of the FwRscVdev in the table
 *
 * Context: any (constexpr).
 * Return: the offset in the table.
 */
constexpr size_t vdev_field_status(size_t vdev_off)
{
	return vdev_off + __builtin_offsetof(FwRscVdev, status);
}
/**
 * vdev_vring_off() - offset of vring @i of a vdev entry
 * @vdev_off: offset of the FwRscVdev in the table
 * @i: the vring's index
 *
 * Context: any (constexpr).
 * Return: the offset of its FwRscVdevVring in the table.
 */
constexpr size_t vdev_vring_off(size_t vdev_off, u32 i)
{
	return vdev_off + sizeof(FwRscVdev) + i * sizeof(FwRscVdevVring);
}
/**
 * vdev_vring_field_da() - offset of vring @i's da
 * @vdev_off: offset of the FwRscVdev in the table
 * @i: the vring's index
 *
 * Context: any (constexpr).
 * Return: the offset in the table.
 */
constexpr size_t vdev_vring_field_da(size_t vdev_off, u32 i)
{
	return vdev_vring_off(vdev_off, i);
}
/**
 * vdev_vring_field_notifyid() - offset of vring @i's notifyid
 * @vdev_off: offset of the FwRscVdev in the table
 * @i: the vring's index
 *
 * Context: any (constexpr).
 * Return: the offset in the table.
 */
constexpr size_t vdev_vring_field_notifyid(size_t vdev_off, u32 i)
{
	return vdev_vring_off(vdev_off, i) + __builtin_offsetof(FwRscVdevVring, notifyid);
}

/* Limits of one parse: fixed, so parsing never allocates. */
inline constexpr u32 RSC_MAX_ENTRIES = 32;
inline constexpr u32 RSC_MAX_VDEVS = 4;
inline constexpr u32 RSC_MAX_CARVEOUTS = 8;
inline constexpr u32 RSC_MAX_TRACES = 2;
/* A vdev's config space larger than this is refused (virtio config spaces are small). */
inline constexpr u32 RSC_MAX_CONFIG_LEN = 4096;

/**
 * struct RscVring - a validated vring entry, in CPU order
 * @da: device address, or FW_RSC_ADDR_ANY
 * @align: used-ring alignment (passes the vring rule)
 * @num: entries (passes the vring rule)
 * @notifyid: notify id
 * @pa: physical address
 */
struct RscVring {
	u32 da, align, num, notifyid, pa;
};

/**
 * struct RscVdev - a validated vdev entry, in CPU order
 * @id: virtio device id
 * @notifyid: notify id of config changes
 * @dfeatures: the device's features
 * @gfeatures: the features acknowledged (as read)
 * @config_len: bytes of config space
 * @status: the status byte (as read)
 * @num_of_vrings: vrings in @vring (1..RVDEV_NUM_VRINGS)
 * @offset: offset in the table of the FwRscVdev (past the type word)
 * @config_offset: offset in the table of the config space (config_len
 *	bytes, all inside the table)
 * @vring: the vrings
 */
struct RscVdev {
	u32 id;
	u32 notifyid;
	u32 dfeatures;
	u32 gfeatures;
	u32 config_len;
	u8 status;
	u8 num_of_vrings;
	/* Offset in the table of the FwRscVdev (past the type word). */
	u32 offset;
	/* Offset in the table of the config space (config_len bytes, all inside the table). */
	u32 config_offset;
	RscVring vring[RVDEV_NUM_VRINGS];
};

/**
 * struct RscCarveout - a validated carveout entry, in CPU order
 * @da: device address, or FW_RSC_ADDR_ANY; otherwise inside the region
 * @pa: physical address
 * @len: length
 * @flags: flags
 * @offset: offset in the table of the FwRscCarveout
 * @name: its name, NUL-terminated
 */
struct RscCarveout {
	u32 da, pa, len, flags;
	u32 offset;
	char name[33];
};

/**
 * struct RscTrace - a validated trace entry, in CPU order
 * @da: device address of the buffer
 * @len: its length
 * @offset: offset in the table of the FwRscTrace
 * @name: its name, NUL-terminated
 */
struct RscTrace {
	u32 da, len;
	u32 offset;
	char name[33];
};

/**
 * struct RscTableInfo - the whole validated table, in CPU order
 * @size: bytes of the table that were validated
 * @num: entries in the table, skipped ones included
 * @num_vdevs: entries in @vdevs
 * @num_carveouts: entries in @carveouts
 * @num_traces: entries in @traces
 * @num_skipped: devmem, unknown and vendor entries, skipped with a log line
 * @vdevs: the vdev entries, in table order
 * @carveouts: the carveout entries
 * @traces: the trace entries (those past RSC_MAX_TRACES are skipped)
 *
 * Fixed-size: parsing never allocates.
 */
struct RscTableInfo {
	u32 size; /* bytes of the table that were validated */
	u32 num;  /* entries in the table, including skipped ones */
	u32 num_vdevs;
	u32 num_carveouts;
	u32 num_traces;
	u32 num_skipped; /* devmem, unknown and vendor entries, skipped with a log line */
	RscVdev vdevs[RSC_MAX_VDEVS];
	RscCarveout carveouts[RSC_MAX_CARVEOUTS];
	RscTrace traces[RSC_MAX_TRACES];
};

/**
 * rsc_table_parse() - validate a resource table snapshot
 * @table: the table's bytes, a private copy (not shared memory)
 * @region: when not null, the shared region the remote's device addresses
 *	refer to: every vring and carveout da other than FW_RSC_ADDR_ANY must
 *	lie inside it, with the whole vring
 * @out: filled on success
 * @dev: device for the log line (may be null)
 *
 * Context: any (does not sleep, does not allocate).
 * Return: 0 or -EINVAL with one log line naming the bad field.
 */
Result<void> rsc_table_parse(Span<const u8> table, const keel::ShmRegion *region, RscTableInfo *out,
			     const keel::Device *dev = nullptr)
	KEEL_EXPORT_AS(keel_rsc_table_parse);

/**
 * rsc_table_check_vring() - check where a vring is placed
 * @region: the shared region device addresses refer to
 * @da: the vring's device address
 * @num: its entries
 * @align: its used-ring alignment
 * @line: the writeback granule of @region (1: coherent), see
 *	virtio::VringLayout::compute()
 * @dev: device for the log line (may be null)
 *
 * @num and @align must pass the vring rule (VringLayout::compute()), @da
 * must be aligned to @align and the whole ring must lie inside @region.
 *
 * Context: any.
 * Return: the offset of the vring in @region, or -EINVAL (logged).
 */
Result<size_t> rsc_table_check_vring(const keel::ShmRegion &region, u32 da, u32 num, u32 align,
				     u32 line = 1, const keel::Device *dev = nullptr)
	KEEL_EXPORT_AS(keel_rsc_table_check_vring);

/**
 * struct VdevSpec - what the remote declares for one vdev
 * @id: virtio device id (VIRTIO_ID_RPMSG = 7)
 * @notifyid: for config changes; FW_RSC_ADDR_ANY when none
 * @dfeatures: device features (the low 32 bits: the table has no room for
 *	more)
 * @config_len: bytes of config space
 * @config: the initial config space, or nullptr for zeroes
 * @num_of_vrings: vrings (1..RVDEV_NUM_VRINGS)
 * @vring: each vring's da (or FW_RSC_ADDR_ANY), align, num and notifyid;
 *	a pa of 0 is written as FW_RSC_ADDR_ANY
 */
struct VdevSpec {
	u32 id = 0;			/* virtio device id (VIRTIO_ID_RPMSG = 7) */
	u32 notifyid = FW_RSC_ADDR_ANY; /* for config changes; FW_RSC_ADDR_ANY when none */
	u32 dfeatures = 0; /* device features (low 32 bits: the table has no room for more) */
	u32 config_len = 0;
	const void *config = nullptr; /* initial config space, or null for zeroes */
	u8 num_of_vrings = 0;
	RscVring vring[RVDEV_NUM_VRINGS] = {}; /* pa is written as FW_RSC_ADDR_ANY when 0 */
};

/**
 * class RscTableBuilder - lays out a table in a caller-provided buffer
 *
 * The way a firmware's static table looks (header, offsets, entries in
 * order)::
 *
 *	RscTableBuilder b(buf, 2);
 *	TRY(b.add_carveout(...));
 *	size_t vdev_off = TRY(b.add_vdev(spec));
 *	size_t size = TRY(b.finish());
 *
 * @max_entries is the number of entries that will be added: the offset array
 * is reserved up front. Entries start 8-byte aligned (as a C struct of u32s
 * with a u64 neighbour would).
 */
class RscTableBuilder {
public:
	/**
	 * RscTableBuilder() - start a table of at most @max_entries in @buf
	 * @buf: the buffer (the header and offset array are zeroed now)
	 * @max_entries: entries that will be added (at most RSC_MAX_ENTRIES)
	 *
	 * A buffer too small for the header, or too many entries, makes every
	 * later call fail with -ENOSPC.
	 *
	 * Context: any.
	 */
	RscTableBuilder(Span<u8> buf, u32 max_entries);

	/**
	 * add_carveout() - add a carveout entry
	 * @da: device address, or FW_RSC_ADDR_ANY
	 * @pa: physical address, or FW_RSC_ADDR_ANY
	 * @len: length
	 * @flags: flags
	 * @name: a name (at most 32 bytes are kept), or nullptr
	 *
	 * Context: any.
	 * Return: the offset of the entry's payload (past the type word), or
	 * -ENOSPC when the buffer or the entry count is exhausted.
	 */
	Result<size_t> add_carveout(u32 da, u32 pa, u32 len, u32 flags, const char *name);
	/**
	 * add_trace() - add a trace buffer entry
	 * @da: the buffer's device address
	 * @len: its length
	 * @name: a name (at most 32 bytes are kept), or nullptr
	 *
	 * Context: any.
	 * Return: the payload's offset, or -ENOSPC.
	 */
	Result<size_t> add_trace(u32 da, u32 len, const char *name);
	/**
	 * add_vdev() - add a vdev entry with its vrings and config space
	 * @spec: the device
	 *
	 * Context: any.
	 * Return: the payload's offset (of the FwRscVdev); -EINVAL for no or
	 * too many vrings or a config space above RSC_MAX_CONFIG_LEN,
	 * -ENOSPC.
	 */
	Result<size_t> add_vdev(const VdevSpec &spec);
	/**
	 * add_raw() - add an entry of any type with an opaque payload
	 * @type: the entry's type
	 * @payload: its bytes, or nullptr for zeroes
	 * @len: their length
	 *
	 * For tests and vendor resources.
	 *
	 * Context: any.
	 * Return: the payload's offset, or -ENOSPC.
	 */
	Result<size_t> add_raw(u32 type, const void *payload, size_t len);
	/**
	 * finish() - write the header
	 *
	 * Context: any.
	 * Return: the table's size in bytes, or -ENOSPC when the buffer was too
	 * small for the header.
	 */
	Result<size_t> finish();

private:
	Result<size_t> begin_entry(u32 type, size_t payload_len);

	Span<u8> m_buf;
	u32 m_max;
	u32 m_num = 0;
	size_t m_pos;
	bool m_broken = false;
};

} // namespace rproc

#endif
