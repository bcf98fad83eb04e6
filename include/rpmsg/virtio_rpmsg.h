/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The virtio rpmsg wire protocol, bit for bit what Linux's
 * drivers/rpmsg/virtio_rpmsg_bus.c and include/linux/rpmsg/ns.h put on the
 * wire, and what OpenAMP and RPMsg-Lite firmware expect:
 *
 *  - every buffer starts with a 16-byte struct rpmsg_hdr (src, dst,
 *    reserved, len, flags), the payload follows;
 *  - the name service listens at RPMSG_NS_ADDR (53) and takes 40-byte
 *    struct rpmsg_ns_msg announcements (name[32], addr, flags);
 *  - fields are in the device's byte order: little endian when
 *    VIRTIO_F_VERSION_1 is negotiated, else the host's own (legacy), which
 *    is why they are virtio16/virtio32 and converted with the link's flag
 *    (Linux's __rpmsg16/__rpmsg32 and rpmsg16_to_cpu()).
 *
 * One extension, off unless both ends offer it: VIRTIO_RPMSG_F_BUFSZ lets
 * the remote publish the buffer sizes and counts it wants in the vdev's
 * config space (struct VirtioRpmsgConfig). Linux's driver never
 * acknowledges the bit, so with a Linux host both ends use the defaults.
 * Documentation/rpmsg.rst describes the protocol as implemented.
 */
#ifndef RPMSG_VIRTIO_RPMSG_H
#define RPMSG_VIRTIO_RPMSG_H

#include <keel/endian.h>
#include <keel/types.h>

namespace rpmsg {

using keel::size_t;

/* Feature bits of the virtio rpmsg device (VIRTIO_ID_RPMSG = 7). */
inline constexpr unsigned int VIRTIO_RPMSG_F_NS = 0;	/* the remote has a name service */
inline constexpr unsigned int VIRTIO_RPMSG_F_BUFSZ = 2; /* keel: sizes in config space */

/**
 * struct RpmsgHdr - the header of every message (struct rpmsg_hdr)
 * @src: the sender's address
 * @dst: the receiver's address
 * @reserved: zero
 * @len: payload bytes that follow
 * @flags: zero (Linux defines none it uses)
 *
 * The payload follows. Linux declares it __packed; every field is
 * naturally aligned, so the layout is the same without (asserted below),
 * and we only memcpy it.
 */
struct RpmsgHdr {
	keel::virtio32 src;
	keel::virtio32 dst;
	keel::virtio32 reserved;
	keel::virtio16 len;
	keel::virtio16 flags;
};
static_assert(sizeof(RpmsgHdr) == 16);
static_assert(__builtin_offsetof(RpmsgHdr, src) == 0 && __builtin_offsetof(RpmsgHdr, dst) == 4);
static_assert(__builtin_offsetof(RpmsgHdr, reserved) == 8 &&
	      __builtin_offsetof(RpmsgHdr, len) == 12);
static_assert(__builtin_offsetof(RpmsgHdr, flags) == 14);

inline constexpr u32 RPMSG_HDR_SIZE = sizeof(RpmsgHdr);

/* struct rpmsg_ns_msg: a name service announcement, sent to RPMSG_NS_ADDR. */
inline constexpr unsigned int RPMSG_NS_NAME_SIZE = 32;
/**
 * struct RpmsgNsMsg - a name service announcement (struct rpmsg_ns_msg)
 * @name: the service name, not necessarily NUL-terminated (clamped on
 *	receipt)
 * @addr: the announcing endpoint's address
 * @flags: RPMSG_NS_CREATE or RPMSG_NS_DESTROY (only bit 0 is read)
 *
 * Sent to RPMSG_NS_ADDR.
 */
struct RpmsgNsMsg {
	char name[RPMSG_NS_NAME_SIZE];
	keel::virtio32 addr;
	keel::virtio32 flags;
};
static_assert(sizeof(RpmsgNsMsg) == 40);
static_assert(__builtin_offsetof(RpmsgNsMsg, addr) == 32 &&
	      __builtin_offsetof(RpmsgNsMsg, flags) == 36);

/**
 * enum RpmsgNsFlags - what an announcement says (enum rpmsg_ns_flags)
 * @RPMSG_NS_CREATE: the service is up
 * @RPMSG_NS_DESTROY: the service is gone
 *
 * Linux tests bit 0 only; so do we.
 */
enum RpmsgNsFlags : u32 {
	RPMSG_NS_CREATE = 0,
	RPMSG_NS_DESTROY = 1,
};

/**
 * struct VirtioRpmsgConfig - the VIRTIO_RPMSG_F_BUFSZ config space (keel)
 * @h2r_buf_size: bytes per host-to-remote buffer (the host's tx, the
 *	remote's rx), the 16-byte header included
 * @r2h_buf_size: bytes per remote-to-host buffer
 * @h2r_num: host-to-remote buffers
 * @r2h_num: remote-to-host buffers
 *
 * The remote's wishes, in the device's byte order; a keel host takes them
 * within RPMSG_MIN_BUF_SIZE..RPMSG_MAX_BUF_SIZE.
 */
struct VirtioRpmsgConfig {
	keel::virtio32 h2r_buf_size;
	keel::virtio32 r2h_buf_size;
	keel::virtio32 h2r_num;
	keel::virtio32 r2h_num;
};
static_assert(sizeof(VirtioRpmsgConfig) == 16);

/* Linux's defaults: 512-byte buffers, at most 512 of them (half each way). */
inline constexpr u32 RPMSG_BUF_SIZE = 512;
inline constexpr u32 MAX_RPMSG_NUM_BUFS = 512;
/* Limits on configured buffers: a payload length is a u16 on the wire. */
inline constexpr u32 RPMSG_MIN_BUF_SIZE = RPMSG_HDR_SIZE + 16;
inline constexpr u32 RPMSG_MAX_BUF_SIZE = RPMSG_HDR_SIZE + 0xffff;

/* __rpmsg16/32 conversions: @le is the link's byte order (see above). */
/**
 * rpmsg16_to_cpu() - a 16-bit header field in CPU order (Linux rpmsg16_to_cpu())
 * @le: the link is little endian
 * @v: the wire field
 *
 * Context: any (constexpr).
 * Return: the value.
 */
constexpr u16 rpmsg16_to_cpu(bool le, keel::virtio16 v)
{
	return keel::virtio16_to_cpu(le, v);
}
/**
 * rpmsg32_to_cpu() - a 32-bit header field in CPU order (Linux rpmsg32_to_cpu())
 * @le: the link is little endian
 * @v: the wire field
 *
 * Context: any (constexpr).
 * Return: the value.
 */
constexpr u32 rpmsg32_to_cpu(bool le, keel::virtio32 v)
{
	return keel::virtio32_to_cpu(le, v);
}
/**
 * cpu_to_rpmsg16() - a value as a 16-bit header field (Linux cpu_to_rpmsg16())
 * @le: the link is little endian
 * @v: the value
 *
 * Context: any (constexpr).
 * Return: the wire field.
 */
constexpr keel::virtio16 cpu_to_rpmsg16(bool le, u16 v)
{
	return keel::cpu_to_virtio16(le, v);
}
/**
 * cpu_to_rpmsg32() - a value as a 32-bit header field (Linux cpu_to_rpmsg32())
 * @le: the link is little endian
 * @v: the value
 *
 * Context: any (constexpr).
 * Return: the wire field.
 */
constexpr keel::virtio32 cpu_to_rpmsg32(bool le, u32 v)
{
	return keel::cpu_to_virtio32(le, v);
}

} // namespace rpmsg

#endif
