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

/* struct resource_table (header; u32 offset[num] follows). */
struct ResourceTable {
	le32 ver;
	le32 num;
	le32 reserved[2];
};

/* struct fw_rsc_hdr */
struct FwRscHdr {
	le32 type;
};

/* struct fw_rsc_carveout (after the type word) */
struct FwRscCarveout {
	le32 da;
	le32 pa;
	le32 len;
	le32 flags;
	le32 reserved;
	u8 name[32];
};

/*
 * struct fw_rsc_devmem: a request to map device memory through an IOMMU,
 * with exactly a carveout's fields (Linux declares the two alike).
 */
using FwRscDevmem = FwRscCarveout;

/* struct fw_rsc_trace */
struct FwRscTrace {
	le32 da;
	le32 len;
	le32 reserved;
	u8 name[32];
};

/* struct fw_rsc_vdev_vring */
struct FwRscVdevVring {
	le32 da;
	le32 align;
	le32 num;
	le32 notifyid;
	le32 pa;
};

/* struct fw_rsc_vdev (FwRscVdevVring vring[num_of_vrings] and config space follow) */
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
constexpr size_t vdev_field_gfeatures(size_t vdev_off)
{
	return vdev_off + __builtin_offsetof(FwRscVdev, gfeatures);
}
constexpr size_t vdev_field_status(size_t vdev_off)
{
	return vdev_off + __builtin_offsetof(FwRscVdev, status);
}
constexpr size_t vdev_vring_off(size_t vdev_off, u32 i)
{
	return vdev_off + sizeof(FwRscVdev) + i * sizeof(FwRscVdevVring);
}
constexpr size_t vdev_vring_field_da(size_t vdev_off, u32 i)
{
	return vdev_vring_off(vdev_off, i);
}
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

/* A validated vring entry, in CPU order. */
struct RscVring {
	u32 da;
	u32 align;
	u32 num;
	u32 notifyid;
	u32 pa;
};

/* A validated vdev entry, in CPU order. */
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

struct RscCarveout {
	u32 da, pa, len, flags;
	u32 offset;
	char name[33];
};

struct RscTrace {
	u32 da, len;
	u32 offset;
	char name[33];
};

/* The whole validated table. */
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

/*
 * rsc_table_parse() - validate a resource table snapshot.
 * @table: the table's bytes, a private copy (not shared memory).
 * @region: when not null, the shared region the remote's device addresses
 *	refer to: every vring and carveout da other than FW_RSC_ADDR_ANY must
 *	lie inside it, with the whole vring.
 * @out: filled on success.
 * @dev: device for the log line (may be null).
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

/* What the remote declares for one vdev. */
struct VdevSpec {
	u32 id = 0;			/* virtio device id (VIRTIO_ID_RPMSG = 7) */
	u32 notifyid = FW_RSC_ADDR_ANY; /* for config changes; FW_RSC_ADDR_ANY when none */
	u32 dfeatures = 0; /* device features (low 32 bits: the table has no room for more) */
	u32 config_len = 0;
	const void *config = nullptr; /* initial config space, or null for zeroes */
	u8 num_of_vrings = 0;
	RscVring vring[RVDEV_NUM_VRINGS] = {}; /* pa is written as FW_RSC_ADDR_ANY when 0 */
};

/*
 * RscTableBuilder: lays out a table in a caller-provided buffer, the way a
 * firmware's static table looks (header, offsets, entries in order).
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
	RscTableBuilder(Span<u8> buf, u32 max_entries);

	/* Each returns the offset of the entry's payload (past the type word). */
	Result<size_t> add_carveout(u32 da, u32 pa, u32 len, u32 flags, const char *name);
	Result<size_t> add_trace(u32 da, u32 len, const char *name);
	Result<size_t> add_vdev(const VdevSpec &spec);
	/* An entry of any type with an opaque payload (for tests and vendor resources). */
	Result<size_t> add_raw(u32 type, const void *payload, size_t len);
	/* Writes the header; returns the table's size in bytes. */
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
