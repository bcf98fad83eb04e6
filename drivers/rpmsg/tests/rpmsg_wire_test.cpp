// SPDX-License-Identifier: GPL-2.0
/*
 * The wire, checked against byte images written from the protocol facts
 * (Linux's struct rpmsg_hdr and rpmsg_ns_msg, virtio_rpmsg_bus.c's buffer
 * layout), not against our own encoder: headers and announcements in both
 * byte orders, and where the host role puts its buffers in the shared
 * region and what it writes there.
 */
#include <keel/test.h>

#include "rpmsg_fixture.h"

using namespace keel;
using namespace keel::test;
using namespace rpmsg;
using namespace rpmsg::test;

namespace {

void wire_constants_are_linux(Test &t)
{
	EXPECT_EQ(t, RPMSG_ADDR_ANY, 0xffffffffu);
	EXPECT_EQ(t, RPMSG_NS_ADDR, 53u);
	EXPECT_EQ(t, RPMSG_RESERVED_ADDRESSES, 1024u);
	EXPECT_EQ(t, RPMSG_NAME_SIZE, 32u);
	EXPECT_EQ(t, VIRTIO_RPMSG_F_NS, 0u);
	EXPECT_EQ(t, RPMSG_BUF_SIZE, 512u);
	EXPECT_EQ(t, MAX_RPMSG_NUM_BUFS, 512u);
	EXPECT_EQ(t, sizeof(RpmsgHdr), size_t(16));
	EXPECT_EQ(t, sizeof(RpmsgNsMsg), size_t(40));
	EXPECT_EQ(t, RPMSG_NS_CREATE, 0u);
	EXPECT_EQ(t, RPMSG_NS_DESTROY, 1u);
	EXPECT_EQ(t, sizeof(RpmsgDeviceId), size_t(32 + sizeof(unsigned long)));
	/* An endpoint fits its budget (make bench prints the figure). */
	EXPECT_LE(t, sizeof(RpmsgEndpoint), size_t(128));
}

void wire_header_little_and_big_endian(Test &t)
{
	/* clang-format off */
	const u8 le[] = { 0x44, 0x33, 0x22, 0x11, 0x88, 0x77, 0x66, 0x55, /* src, dst */
			  0, 0, 0, 0, 0xaa, 0x99, 0, 0 };  /* reserved, len, flags */
	const u8 be[] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
			  0, 0, 0, 0, 0x99, 0xaa, 0, 0 };
	/* clang-format on */
	RpmsgHdr h = rpmsg_hdr_encode(true, 0x11223344, 0x55667788, 0x99aa);
	EXPECT_MEMEQ(t, &h, le, sizeof(le));
	h = rpmsg_hdr_encode(false, 0x11223344, 0x55667788, 0x99aa);
	EXPECT_MEMEQ(t, &h, be, sizeof(be));
	/* Decoding the images. */
	RpmsgHdr d;
	memcpy(&d, le, sizeof(d));
	EXPECT_EQ(t, rpmsg32_to_cpu(true, d.src), 0x11223344u);
	EXPECT_EQ(t, rpmsg32_to_cpu(true, d.dst), 0x55667788u);
	EXPECT_EQ(t, rpmsg16_to_cpu(true, d.len), 0x99aau);
	memcpy(&d, be, sizeof(d));
	EXPECT_EQ(t, rpmsg32_to_cpu(false, d.src), 0x11223344u);
	EXPECT_EQ(t, rpmsg16_to_cpu(false, d.len), 0x99aau);
}

void wire_ns_message_little_and_big_endian(Test &t)
{
	u8 le[40] = {}, be[40] = {};
	memcpy(le, "rpmsg-client-sample", 19);
	memcpy(be, "rpmsg-client-sample", 19);
	/* addr 0x400, flags RPMSG_NS_DESTROY */
	const u8 tail_le[] = { 0x00, 0x04, 0, 0, 1, 0, 0, 0 };
	const u8 tail_be[] = { 0, 0, 0x04, 0x00, 0, 0, 0, 1 };
	memcpy(le + 32, tail_le, 8);
	memcpy(be + 32, tail_be, 8);
	RpmsgNsMsg m = {};
	memcpy(m.name, "rpmsg-client-sample", 19);
	m.addr = cpu_to_rpmsg32(true, 0x400);
	m.flags = cpu_to_rpmsg32(true, RPMSG_NS_DESTROY);
	EXPECT_MEMEQ(t, &m, le, 40);
	m.addr = cpu_to_rpmsg32(false, 0x400);
	m.flags = cpu_to_rpmsg32(false, RPMSG_NS_DESTROY);
	EXPECT_MEMEQ(t, &m, be, 40);
}

void wire_bufsz_config_space(Test &t)
{
	/* keel's extension: four u32 in the device's byte order, sizes first. */
	VirtioRpmsgConfig c;
	c.h2r_buf_size = cpu_to_rpmsg32(true, 1024);
	c.r2h_buf_size = cpu_to_rpmsg32(true, 2048);
	c.h2r_num = cpu_to_rpmsg32(true, 16);
	c.r2h_num = cpu_to_rpmsg32(true, 8);
	const u8 img[] = { 0, 4, 0, 0, 0, 8, 0, 0, 16, 0, 0, 0, 8, 0, 0, 0 };
	EXPECT_MEMEQ(t, &c, img, sizeof(img));
	EXPECT_EQ(t, VIRTIO_RPMSG_F_BUFSZ, 2u);
}

/* The descriptor @i of the host's vring @vring, from the region. */
struct Desc {
	u64 addr;
	u32 len;
	u16 flags;
};
Result<Desc> desc_at(RpmsgPair &p, u32 vring, u32 i)
{
	const rproc::RscVring &rv = p.host->table().vdevs[0].vring[vring];
	virtio::VringLayout l = TRY(virtio::VringLayout::compute(rv.num, rv.align));
	size_t off = TRY(p.region.da_to_offset(rv.da, l.size)) + l.desc_at(i);
	/* Legacy rings: the host's native order. */
	return Desc{ TRY(p.region.read<u64>(off)), TRY(p.region.read<u32>(off + 8)),
		     TRY(p.region.read<u16>(off + 12)) };
}
Result<u16> avail_idx(RpmsgPair &p, u32 vring)
{
	const rproc::RscVring &rv = p.host->table().vdevs[0].vring[vring];
	virtio::VringLayout l = TRY(virtio::VringLayout::compute(rv.num, rv.align));
	return p.region.read<u16>(TRY(p.region.da_to_offset(rv.da, l.size)) + l.avail_idx());
}

void wire_host_buffers_rx_half_then_tx_half_all_rx_posted(Test &t)
{
	PairConfig cfg;
	cfg.vring_num = 32;
	RpmsgPair *p = make_pair(t, cfg);
	ASSERT_NOT_NULL(t, p);
	RpmsgLink *hl = p->host_link();
	ASSERT_NOT_NULL(t, hl);
	/* Every rx buffer posted at probe, in order: one per entry, 512 bytes, device-writable. */
	auto idx = avail_idx(*p, 0);
	ASSERT_OK(t, idx);
	EXPECT_EQ(t, idx.value(), 32u);
	auto d0 = desc_at(*p, 0, 0);
	ASSERT_OK(t, d0);
	u64 base = d0.value().addr;
	for (u32 i = 0; i < 32; i++) {
		auto d = desc_at(*p, 0, i);
		ASSERT_OK(t, d);
		EXPECT_EQ(t, d.value().addr, base + 512u * i);
		EXPECT_EQ(t, d.value().len, 512u);
		EXPECT_EQ(t, d.value().flags, VRING_DESC_F_WRITE);
	}
	EXPECT_TRUE(t, p->region.contains(base, 64 * 512));
	/* The first send takes the first tx buffer: right after the rx half. */
	RpmsgChannelInfo ci = {};
	strscpy(ci.name, "wire-test", sizeof(ci.name)).release_value();
	ci.src = 0x500;
	ci.dst = 0x600;
	auto ch = hl->add_channel(ci, false, "none", false);
	ASSERT_OK(t, ch);
	log_set_echo(false);
	ASSERT_OK(t, trysendto(*ch.value()->ept(),
			       Span<const u8>(reinterpret_cast<const u8 *>("wire"), 4), 0x600));
	auto tidx = avail_idx(*p, 1);
	ASSERT_OK(t, tidx);
	EXPECT_EQ(t, tidx.value(), 1u);
	auto td = desc_at(*p, 1, 0);
	ASSERT_OK(t, td);
	EXPECT_EQ(t, td.value().addr, base + 32u * 512);
	EXPECT_EQ(t, td.value().len, 16u + 4);
	EXPECT_EQ(t, td.value().flags, 0u);
	/* What the remote reads there: Linux's header (native order: legacy), the payload. */
	u8 want[20];
	RpmsgHdr h = rpmsg_hdr_encode(CPU_IS_LITTLE_ENDIAN, 0x500, 0x600, 4);
	memcpy(want, &h, 16);
	memcpy(want + 16, "wire", 4);
	u8 got[20];
	ASSERT_OK(t, p->region.copy_from(got, size_t(td.value().addr), sizeof(got)));
	EXPECT_MEMEQ(t, got, want, sizeof(want));
	/* The remote drops it (no recipient there) and the host gets the buffer back. */
	EXPECT_TRUE(
		t, wait_for([&] { return p->remote->link().stats().rx_no_recipient.load() == 1; }));
	log_set_echo(true);
}

constinit Atomic<u32> s_svc_probes{ 0 };
struct WireSvc : NonMovable {
	static Result<UniquePtr<WireSvc>> probe(RpmsgDevice &)
	{
		s_svc_probes.fetch_add(1);
		return make_unique<WireSvc>(GFP_KERNEL);
	}
};
constinit RpmsgDriver s_wire_svc{ driver_for<WireSvc>, "rpmsg_wire_svc" };

void wire_remote_announcement_lands_in_the_first_rx_buffer(Test &t)
{
	PairConfig cfg;
	cfg.vring_num = 16;
	cfg.services[0] = { "wire-service", "rpmsg_wire_svc" };
	cfg.drivers[0] = &s_wire_svc;
	RpmsgPair *p = make_pair(t, cfg);
	ASSERT_NOT_NULL(t, p);
	RpmsgLink *hl = p->host_link();
	ASSERT_NOT_NULL(t, hl);
	ASSERT_TRUE(t, wait_for([&] { return hl->nr_channels() == 1; }));
	auto svc = p->remote->link().find_channel("wire-service", RPMSG_ADDR_ANY);
	ASSERT_TRUE(t, svc);
	{
		/* The host's rx pass that handled it (and re-posted the buffer) is over. */
		Guard g{ hl->m_rx_lock };
	}
	/* The remote wrote into the buffer of the first posted rx descriptor. */
	auto d0 = desc_at(*p, 0, 0);
	ASSERT_OK(t, d0);
	u8 want[56] = {};
	RpmsgHdr h = rpmsg_hdr_encode(CPU_IS_LITTLE_ENDIAN, svc->src(), RPMSG_NS_ADDR, 40);
	memcpy(want, &h, 16);
	memcpy(want + 16, "wire-service", 12);
	u32 addr = svc->src(), flags = RPMSG_NS_CREATE;
	memcpy(want + 48, &addr, 4);
	memcpy(want + 52, &flags, 4);
	u8 got[56];
	ASSERT_OK(t, p->region.copy_from(got, size_t(d0.value().addr), sizeof(got)));
	EXPECT_MEMEQ(t, got, want, sizeof(want));
	EXPECT_EQ(t, svc->src(), RPMSG_RESERVED_ADDRESSES);
}

const TestCase rpmsg_wire_cases[] = {
	KEEL_CASE(wire_constants_are_linux),
	KEEL_CASE(wire_header_little_and_big_endian),
	KEEL_CASE(wire_ns_message_little_and_big_endian),
	KEEL_CASE(wire_bufsz_config_space),
	KEEL_CASE(wire_host_buffers_rx_half_then_tx_half_all_rx_posted),
	KEEL_CASE(wire_remote_announcement_lands_in_the_first_rx_buffer),
	{},
};

const TestSuite rpmsg_wire_suite = { .name = "rpmsg_wire", .cases = rpmsg_wire_cases };

} // namespace

KEEL_TEST_SUITE(rpmsg_wire_suite);
