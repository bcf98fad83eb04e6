// SPDX-License-Identifier: GPL-2.0
/*
 * Resource table parser and builder. See include/remoteproc/rsc_table.h and
 * Documentation/shm-transport.rst ("What is validated").
 *
 * Linux walks the table in rsc_table_for_each_entry() and checks the vdev
 * entry in rproc_handle_vdev()/rproc_parse_vring(); this parser applies the
 * same checks plus the ones Linux leaves out (power-of-two vring sizes,
 * aligned offsets, offsets that overlap the header, device addresses inside
 * the shared region), and works on a snapshot so that nothing checked can
 * change before it is used.
 */
#include <keel/log.h>
#include <keel/string.h>
#include <remoteproc/rsc_table.h>
#include <virtio/virtio_ring.h>

namespace rproc {

using keel::err;
using keel::ok;

namespace {

/* Loads a wire struct at @off of @t; the caller has checked the bounds. */
template <typename T> T load(Span<const u8> t, size_t off)
{
	T v;
	memcpy(&v, t.data() + off, sizeof(T));
	return v;
}

u32 le(le32 v)
{
	return keel::le32_to_cpu(v);
}

void copy_name(char *dst, const u8 *src)
{
	/* Names are u8[32] and need not be terminated (rpmsg_ns.c clamps the same way). */
	keel::strscpy_untrusted(dst, 33, reinterpret_cast<const char *>(src), 32);
}

struct Parser {
	Span<const u8> t;
	const keel::ShmRegion *region;
	RscTableInfo *out;
	const keel::Device *dev;

	Result<void> vring(RscVring *v, size_t off, u32 vdev_idx, u32 i);
	Result<void> vdev(size_t off, size_t avail);
	Result<void> carveout(size_t off, size_t avail);
	Result<void> trace(size_t off, size_t avail);
	Result<void> entry(u32 i);
	template <typename W> Result<W> load_entry(size_t off, size_t avail, const char *what);
};

/* The wire struct of a @what entry at @off: -EINVAL when the table ends first. */
template <typename W> Result<W> Parser::load_entry(size_t off, size_t avail, const char *what)
{
	if (avail < sizeof(W)) {
		dev_err(dev, "rsc: %s entry truncated", what);
		return err(-EINVAL);
	}
	return load<W>(t, off);
}

Result<void> Parser::vring(RscVring *v, size_t off, u32 vdev_idx, u32 i)
{
	FwRscVdevVring w = load<FwRscVdevVring>(t, off);
	*v = { le(w.da), le(w.align), le(w.num), le(w.notifyid), le(w.pa) };

	auto layout = virtio::VringLayout::compute(v->num, v->align);
	if (layout.is_error()) {
		dev_err(dev, "rsc: vdev%u vring%u: num %u align %u break the vring rule", vdev_idx,
			i, v->num, v->align);
		return layout.error();
	}
	if (v->da != FW_RSC_ADDR_ANY && region) {
		if (v->da % v->align) {
			dev_err(dev, "rsc: vdev%u vring%u: da 0x%x not aligned to %u", vdev_idx, i,
				v->da, v->align);
			return err(-EINVAL);
		}
		if (region->da_to_offset(v->da, layout.value().size).is_error()) {
			dev_err(dev,
				"rsc: vdev%u vring%u: da 0x%x size %zu outside the shared region",
				vdev_idx, i, v->da, layout.value().size);
			return err(-EINVAL);
		}
	}
	return ok();
}

Result<void> Parser::vdev(size_t off, size_t avail)
{
	u32 idx = out->num_vdevs;
	if (avail < sizeof(FwRscVdev)) {
		dev_err(dev, "rsc: vdev%u entry truncated", idx);
		return err(-EINVAL);
	}
	FwRscVdev w = load<FwRscVdev>(t, off);
	if (w.reserved[0] || w.reserved[1]) {
		/* Linux refuses these too (rproc_handle_vdev). */
		dev_err(dev, "rsc: vdev%u has non-zero reserved bytes", idx);
		return err(-EINVAL);
	}
	if (w.num_of_vrings == 0 || w.num_of_vrings > RVDEV_NUM_VRINGS) {
		dev_err(dev, "rsc: vdev%u has %u vrings (1..%u)", idx, w.num_of_vrings,
			RVDEV_NUM_VRINGS);
		return err(-EINVAL);
	}
	size_t rings = sizeof(FwRscVdev) + size_t(w.num_of_vrings) * sizeof(FwRscVdevVring);
	if (rings > avail) {
		dev_err(dev, "rsc: vdev%u vrings past the end of the table", idx);
		return err(-EINVAL);
	}
	u32 config_len = le(w.config_len);
	if (config_len > RSC_MAX_CONFIG_LEN || config_len > avail - rings) {
		dev_err(dev, "rsc: vdev%u config_len %u past the end of the table", idx,
			config_len);
		return err(-EINVAL);
	}
	if (idx >= RSC_MAX_VDEVS) {
		dev_err(dev, "rsc: more than %u vdevs", RSC_MAX_VDEVS);
		return err(-EINVAL);
	}
	RscVdev *v = &out->vdevs[idx];
	*v = {};
	v->id = le(w.id);
	v->notifyid = le(w.notifyid);
	v->dfeatures = le(w.dfeatures);
	v->gfeatures = le(w.gfeatures);
	v->config_len = config_len;
	v->status = w.status;
	v->num_of_vrings = w.num_of_vrings;
	v->offset = u32(off);
	v->config_offset = u32(off + rings);
	for (u32 i = 0; i < w.num_of_vrings; i++)
		TRY(vring(&v->vring[i], off + sizeof(FwRscVdev) + i * sizeof(FwRscVdevVring), idx,
			  i));
	out->num_vdevs++;
	return ok();
}

Result<void> Parser::carveout(size_t off, size_t avail)
{
	FwRscCarveout w = TRY(load_entry<FwRscCarveout>(off, avail, "carveout"));
	if (out->num_carveouts >= RSC_MAX_CARVEOUTS) {
		dev_err(dev, "rsc: more than %u carveouts", RSC_MAX_CARVEOUTS);
		return err(-EINVAL);
	}
	RscCarveout c = { le(w.da), le(w.pa), le(w.len), le(w.flags), u32(off), {} };
	copy_name(c.name, w.name);
	if (c.da != FW_RSC_ADDR_ANY && region && region->da_to_offset(c.da, c.len).is_error()) {
		dev_err(dev, "rsc: carveout '%s' da 0x%x len 0x%x outside the shared region",
			c.name, c.da, c.len);
		return err(-EINVAL);
	}
	out->carveouts[out->num_carveouts++] = c;
	return ok();
}

Result<void> Parser::trace(size_t off, size_t avail)
{
	FwRscTrace w = TRY(load_entry<FwRscTrace>(off, avail, "trace"));
	if (out->num_traces >= RSC_MAX_TRACES) {
		/* Linux registers any number; a bounded record is enough for us. */
		dev_warn(dev, "rsc: more than %u trace entries, ignoring the rest", RSC_MAX_TRACES);
		out->num_skipped++;
		return ok();
	}
	RscTrace tr = { le(w.da), le(w.len), u32(off), {} };
	copy_name(tr.name, w.name);
	out->traces[out->num_traces++] = tr;
	return ok();
}

Result<void> Parser::entry(u32 i)
{
	size_t size = t.size();
	size_t hdr_end = sizeof(ResourceTable) + size_t(out->num) * sizeof(u32);
	u32 off = le(load<le32>(t, sizeof(ResourceTable) + size_t(i) * sizeof(u32)));

	/* Linux checks offset >= sizeof(*table); an entry inside the offset array is no better. */
	if (off < hdr_end || !keel::range_fits(size, off, sizeof(FwRscHdr))) {
		dev_err(dev, "rsc: entry %u offset 0x%x outside the table (0x%zx..0x%zx)", i, off,
			hdr_end, size);
		return err(-EINVAL);
	}
	if (off % 4) {
		/* Stricter than Linux: every real table is an array of u32-aligned structs. */
		dev_err(dev, "rsc: entry %u offset 0x%x is not 4-byte aligned", i, off);
		return err(-EINVAL);
	}
	u32 type = le(load<le32>(t, off));
	size_t payload = off + sizeof(FwRscHdr);
	size_t avail = size - payload;

	switch (type) {
	case RSC_VDEV:
		return vdev(payload, avail);
	case RSC_CARVEOUT:
		return carveout(payload, avail);
	case RSC_TRACE:
		return trace(payload, avail);
	case RSC_DEVMEM:
		/* An IOMMU mapping request: nothing to map on a shared-memory link. */
		dev_warn(dev, "rsc: entry %u: devmem ignored (no IOMMU on this link)", i);
		break;
	default:
		/*
		 * Linux warns and skips both unknown standard types and
		 * unhandled vendor types (rproc_handle_rsc_entry()); so do we,
		 * so that a firmware with a vendor entry still boots.
		 */
		dev_warn(dev, "rsc: entry %u: unsupported resource type %u, skipped", i, type);
		break;
	}
	out->num_skipped++;
	return ok();
}

} // namespace

Result<void> rsc_table_parse(Span<const u8> table, const keel::ShmRegion *region, RscTableInfo *out,
			     const keel::Device *dev)
{
	*out = {};
	size_t size = table.size();
	if (size < sizeof(ResourceTable)) {
		dev_err(dev, "rsc: table of %zu bytes is smaller than its header", size);
		return err(-EINVAL);
	}
	if (size > 0xFFFFFFFFu) {
		dev_err(dev, "rsc: table of %zu bytes is too large", size);
		return err(-EINVAL);
	}
	ResourceTable h = load<ResourceTable>(table, 0);
	u32 ver = le(h.ver), num = le(h.num);
	if (ver != RSC_TABLE_VERSION) {
		dev_err(dev, "rsc: unsupported table version %u", ver);
		return err(-EINVAL);
	}
	if (num > RSC_MAX_ENTRIES ||
	    !keel::range_fits(size, sizeof(ResourceTable), size_t(num) * sizeof(u32))) {
		dev_err(dev, "rsc: %u entries do not fit a table of %zu bytes (max %u)", num, size,
			RSC_MAX_ENTRIES);
		return err(-EINVAL);
	}
	/* Reserved words are ignored, as Linux does: old firmware leaves garbage there. */
	out->size = u32(size);
	out->num = num;
	Parser p{ table, region, out, dev };
	for (u32 i = 0; i < num; i++) {
		Result<void> r = p.entry(i);
		if (r.is_error()) {
			*out = {};
			return r;
		}
	}
	return ok();
}

Result<size_t> rsc_table_check_vring(const keel::ShmRegion &region, u32 da, u32 num, u32 align,
				     u32 line, const keel::Device *dev)
{
	auto layout = virtio::VringLayout::compute(num, align, line);
	if (layout.is_error()) {
		dev_err_ratelimited(dev,
				    "rsc: vring num %u align %u break the vring rule (line %u)",
				    num, align, line);
		return layout.error();
	}
	if (da == FW_RSC_ADDR_ANY || da % align) {
		dev_err_ratelimited(dev, "rsc: vring da 0x%x unset or not aligned to %u", da,
				    align);
		return err(-EINVAL);
	}
	Result<size_t> off = region.da_to_offset(da, layout.value().size);
	if (off.is_error()) {
		dev_err_ratelimited(dev, "rsc: vring da 0x%x size %zu outside the shared region",
				    da, layout.value().size);
		return err(-EINVAL);
	}
	return off;
}

/* --- builder --- */

RscTableBuilder::RscTableBuilder(Span<u8> buf, u32 max_entries) : m_buf(buf), m_max(max_entries)
{
	m_pos = keel::align_up<size_t>(sizeof(ResourceTable) + size_t(max_entries) * sizeof(u32),
				       8);
	if (max_entries > RSC_MAX_ENTRIES || m_pos > buf.size())
		m_broken = true;
	else
		memset(buf.data(), 0, m_pos);
}

Result<size_t> RscTableBuilder::begin_entry(u32 type, size_t payload_len)
{
	size_t start = keel::align_up<size_t>(m_pos, 8);
	if (m_broken || m_num >= m_max ||
	    !keel::range_fits(m_buf.size(), start, sizeof(FwRscHdr) + payload_len))
		return err(-ENOSPC);
	memset(m_buf.data() + m_pos, 0, start + sizeof(FwRscHdr) + payload_len - m_pos);
	le32 off = keel::cpu_to_le32(u32(start)), ty = keel::cpu_to_le32(type);
	memcpy(m_buf.data() + sizeof(ResourceTable) + m_num * sizeof(u32), &off, sizeof(off));
	memcpy(m_buf.data() + start, &ty, sizeof(ty));
	m_num++;
	m_pos = start + sizeof(FwRscHdr) + payload_len;
	return start + sizeof(FwRscHdr);
}

/* An entry's wire name: @name's bytes, NUL-padded, not necessarily terminated (as Linux's). */
template <size_t N> void put_name(u8 (&dst)[N], const char *name)
{
	if (name)
		memcpy(dst, name, strnlen(name, N));
}

Result<size_t> RscTableBuilder::add_carveout(u32 da, u32 pa, u32 len, u32 flags, const char *name)
{
	FwRscCarveout c = { keel::cpu_to_le32(da),
			    keel::cpu_to_le32(pa),
			    keel::cpu_to_le32(len),
			    keel::cpu_to_le32(flags),
			    {},
			    {} };
	put_name(c.name, name);
	return add_raw(RSC_CARVEOUT, &c, sizeof(c));
}

Result<size_t> RscTableBuilder::add_trace(u32 da, u32 len, const char *name)
{
	FwRscTrace tr = { keel::cpu_to_le32(da), keel::cpu_to_le32(len), {}, {} };
	put_name(tr.name, name);
	return add_raw(RSC_TRACE, &tr, sizeof(tr));
}

Result<size_t> RscTableBuilder::add_vdev(const VdevSpec &s)
{
	if (s.num_of_vrings == 0 || s.num_of_vrings > RVDEV_NUM_VRINGS ||
	    s.config_len > RSC_MAX_CONFIG_LEN)
		return err(-EINVAL);
	size_t len = sizeof(FwRscVdev) + s.num_of_vrings * sizeof(FwRscVdevVring) + s.config_len;
	size_t off = TRY(begin_entry(RSC_VDEV, len));
	FwRscVdev v = {};
	v.id = keel::cpu_to_le32(s.id);
	v.notifyid = keel::cpu_to_le32(s.notifyid);
	v.dfeatures = keel::cpu_to_le32(s.dfeatures);
	v.config_len = keel::cpu_to_le32(s.config_len);
	v.num_of_vrings = s.num_of_vrings;
	memcpy(m_buf.data() + off, &v, sizeof(v));
	for (u32 i = 0; i < s.num_of_vrings; i++) {
		const RscVring &r = s.vring[i];
		FwRscVdevVring w = { keel::cpu_to_le32(r.da), keel::cpu_to_le32(r.align),
				     keel::cpu_to_le32(r.num), keel::cpu_to_le32(r.notifyid),
				     keel::cpu_to_le32(r.pa ? r.pa : FW_RSC_ADDR_ANY) };
		memcpy(m_buf.data() + vdev_vring_off(off, i), &w, sizeof(w));
	}
	if (s.config && s.config_len)
		memcpy(m_buf.data() + vdev_vring_off(off, s.num_of_vrings), s.config, s.config_len);
	return off;
}

Result<size_t> RscTableBuilder::add_raw(u32 type, const void *payload, size_t len)
{
	size_t off = TRY(begin_entry(type, len));
	if (payload && len)
		memcpy(m_buf.data() + off, payload, len);
	return off;
}

Result<size_t> RscTableBuilder::finish()
{
	if (m_broken)
		return err(-ENOSPC);
	ResourceTable h = {};
	h.ver = keel::cpu_to_le32(RSC_TABLE_VERSION);
	h.num = keel::cpu_to_le32(m_num);
	memcpy(m_buf.data(), &h, sizeof(h));
	/* Unused offset slots would read as 0 (inside the header); the table says num, not max. */
	return m_pos;
}

} // namespace rproc
