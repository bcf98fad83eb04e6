/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The simulator's services on the wire: what the remote firmware
 * (tools/sim/firmware/) and the host's client drivers (tools/sim/engine/)
 * say to each other over rpmsg. One header for both sides, so that a
 * format changes in one place. Little endian, fixed layouts, every length
 * and field checked by the receiver (the parse helpers below), because
 * each side treats the other as untrusted.
 *
 *  - sim-echo: the samples' echo service (samples/rpmsg/echo.cpp). The
 *    host's payload is an EchoHdr (sender, sequence number, checksum of
 *    what follows) and a pattern that follows from (sender, seq), so every
 *    echo is checked on arrival: size, order, content.
 *  - sim-sensor: a sensor streaming samples at a rate. The host sends
 *    SensorCmd (start at a rate, stop, change the rate); the remote
 *    answers each with a SensorMsg ACK, then streams SensorMsg SAMPLEs,
 *    numbered from 0 in each stream, whose value follows from the number.
 *  - sim-console: a line console. The host sends a ConsoleMsg CMD with an
 *    id and a command line; the remote answers with one REPLY of the same
 *    id, and may print LOG lines of its own (a new session, a panic).
 */
#ifndef TOOLS_SIM_SIM_PROTO_H
#define TOOLS_SIM_SIM_PROTO_H

#include <keel/endian.h>
#include <keel/errno.h>
#include <keel/span.h>
#include <keel/string.h>
#include <keel/types.h>

namespace sim {

using keel::le32;
using keel::le64;
using keel::size_t;
using keel::Span;

/* The services' channel names, as the firmware announces them. */
inline constexpr const char *ECHO_SERVICE = "sim-echo";
inline constexpr const char *SENSOR_SERVICE = "sim-sensor";
inline constexpr const char *CONSOLE_SERVICE = "sim-console";
inline constexpr u32 NR_SERVICES = 3;

/* FNV-1a, 32 bits: the checksum of every format below. */
constexpr u32 fnv1a(const u8 *p, size_t n, u32 h = 2166136261u)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* --- sim-echo --- */

/**
 * struct EchoHdr - the start of an echo payload
 * @sender: the host-side sender (each has its own endpoint)
 * @seq: the sender's sequence number, from 0 in each session
 * @sum: fnv1a() of the bytes after the header
 */
struct EchoHdr {
	le32 sender;
	le32 seq;
	le32 sum;
};
static_assert(sizeof(EchoHdr) == 12);

/* Payload bytes of message @seq of @sender, header included: in [sizeof(EchoHdr), @max]. */
constexpr u32 echo_size(u32 sender, u32 seq, u32 max)
{
	u32 span = max - u32(sizeof(EchoHdr)) + 1;
	return u32(sizeof(EchoHdr)) + (seq * 7919u + sender * 131u) % span;
}

constexpr u8 echo_byte(u32 sender, u32 seq, u32 i)
{
	return u8(seq * 31u + sender * 17u + i * 7u);
}

/* Fill @buf (echo_size() bytes) with message @seq of @sender. */
inline void echo_fill(Span<u8> buf, u32 sender, u32 seq)
{
	EchoHdr h;
	for (size_t i = sizeof(h); i < buf.size(); i++)
		buf[i] = echo_byte(sender, seq, u32(i));
	h.sender = keel::cpu_to_le32(sender);
	h.seq = keel::cpu_to_le32(seq);
	h.sum = keel::cpu_to_le32(fnv1a(buf.data() + sizeof(h), buf.size() - sizeof(h)));
	memcpy(buf.data(), &h, sizeof(h));
}

/* What an echo holds, checked: 0, or -EINVAL for a payload not made by echo_fill(). */
struct EchoInfo {
	u32 sender;
	u32 seq;
};
inline int echo_parse(Span<const u8> data, u32 max, EchoInfo *out)
{
	EchoHdr h;
	if (data.size() < sizeof(h) || data.size() > max)
		return -EINVAL;
	memcpy(&h, data.data(), sizeof(h));
	u32 sender = keel::le32_to_cpu(h.sender);
	u32 seq = keel::le32_to_cpu(h.seq);
	if (data.size() != echo_size(sender, seq, max) ||
	    keel::le32_to_cpu(h.sum) != fnv1a(data.data() + sizeof(h), data.size() - sizeof(h)))
		return -EINVAL;
	for (size_t i = sizeof(h); i < data.size(); i++)
		if (data[i] != echo_byte(sender, seq, u32(i)))
			return -EINVAL;
	out->sender = sender;
	out->seq = seq;
	return 0;
}

/* --- sim-sensor --- */

enum SensorOp : u32 {
	SENSOR_START = 1, /* @arg: rate in Hz; a new stream, numbered from 0 */
	SENSOR_STOP = 2,
	SENSOR_RATE = 3, /* @arg: rate in Hz; the stream goes on */
};
inline constexpr u32 SENSOR_MIN_HZ = 1;
inline constexpr u32 SENSOR_MAX_HZ = 20000;

/**
 * struct SensorCmd - host to remote
 * @op: SensorOp
 * @arg: its argument
 */
struct SensorCmd {
	le32 op;
	le32 arg;
};
static_assert(sizeof(SensorCmd) == 8);

enum SensorMsgType : u32 {
	SENSOR_SAMPLE = 1,
	SENSOR_ACK = 2,
};

/**
 * struct SensorMsg - remote to host
 * @type: SensorMsgType
 * @stream: the stream (bumped by each START, from 1 at the firmware's boot)
 * @seq: SAMPLE: its number in the stream; ACK: the SensorOp answered
 * @rate_hz: the rate in force
 * @t_ns: the remote's clock when it was sent
 * @value: SAMPLE: sensor_value(@seq); ACK: 0 or a negative errno
 * @sum: fnv1a() of the bytes before it
 */
struct SensorMsg {
	le32 type;
	le32 stream;
	le32 seq;
	le32 rate_hz;
	le64 t_ns;
	le32 value;
	le32 sum;
};
static_assert(sizeof(SensorMsg) == 32);

/* The simulated reading: a triangle wave of the sample number. */
constexpr s32 sensor_value(u32 seq)
{
	u32 p = seq % 2000u;
	return p < 1000u ? s32(p) - 500 : 1500 - s32(p);
}

inline SensorMsg sensor_msg(u32 type, u32 stream, u32 seq, u32 rate, u64 t_ns, s32 value)
{
	SensorMsg m;
	m.type = keel::cpu_to_le32(type);
	m.stream = keel::cpu_to_le32(stream);
	m.seq = keel::cpu_to_le32(seq);
	m.rate_hz = keel::cpu_to_le32(rate);
	m.t_ns = keel::cpu_to_le64(t_ns);
	m.value = keel::cpu_to_le32(u32(value));
	m.sum = keel::cpu_to_le32(fnv1a(reinterpret_cast<const u8 *>(&m), sizeof(m) - 4));
	return m;
}

/* A checked SensorMsg in CPU order. */
struct SensorInfo {
	u32 type;
	u32 stream;
	u32 seq;
	u32 rate_hz;
	u64 t_ns;
	s32 value;
};
/* 0, or -EINVAL: wrong size, checksum, type, or a sample whose value is not sensor_value(). */
inline int sensor_parse(Span<const u8> data, SensorInfo *out)
{
	SensorMsg m;
	if (data.size() != sizeof(m))
		return -EINVAL;
	memcpy(&m, data.data(), sizeof(m));
	if (keel::le32_to_cpu(m.sum) != fnv1a(data.data(), sizeof(m) - 4))
		return -EINVAL;
	out->type = keel::le32_to_cpu(m.type);
	out->stream = keel::le32_to_cpu(m.stream);
	out->seq = keel::le32_to_cpu(m.seq);
	out->rate_hz = keel::le32_to_cpu(m.rate_hz);
	out->t_ns = keel::le64_to_cpu(m.t_ns);
	out->value = s32(keel::le32_to_cpu(m.value));
	if (out->type != SENSOR_SAMPLE && out->type != SENSOR_ACK)
		return -EINVAL;
	if (out->type == SENSOR_SAMPLE && out->value != sensor_value(out->seq))
		return -EINVAL;
	return 0;
}

/* 0, or -EINVAL for a command of the wrong size, an unknown op or a rate out of range. */
inline int sensor_cmd_parse(Span<const u8> data, u32 *op, u32 *arg)
{
	SensorCmd c;
	if (data.size() != sizeof(c))
		return -EINVAL;
	memcpy(&c, data.data(), sizeof(c));
	*op = keel::le32_to_cpu(c.op);
	*arg = keel::le32_to_cpu(c.arg);
	switch (*op) {
	case SENSOR_STOP:
		return 0;
	case SENSOR_START:
	case SENSOR_RATE:
		return *arg >= SENSOR_MIN_HZ && *arg <= SENSOR_MAX_HZ ? 0 : -EINVAL;
	default:
		return -EINVAL;
	}
}

/* --- sim-console --- */

enum ConsoleKind : u32 {
	CONSOLE_CMD = 1,   /* host -> remote: a command line */
	CONSOLE_REPLY = 2, /* remote -> host: the answer to CMD @id */
	CONSOLE_LOG = 3,   /* remote -> host: a line of its own (@id 0) */
};
/* Longest text of one console message (fits Linux's 496-byte MTU with the header). */
inline constexpr u32 CONSOLE_TEXT_MAX = 200;

/**
 * struct ConsoleHdr - the start of a console message; the text follows,
 * without a NUL, up to CONSOLE_TEXT_MAX bytes
 * @kind: ConsoleKind
 * @id: CMD: chosen by the host; REPLY: the CMD's; LOG: 0
 */
struct ConsoleHdr {
	le32 kind;
	le32 id;
};
static_assert(sizeof(ConsoleHdr) == 8);

/* Builds a message in @buf (sizeof(ConsoleHdr) + CONSOLE_TEXT_MAX); returns its length. */
inline u32 console_msg(u8 *buf, u32 kind, u32 id, const char *text)
{
	ConsoleHdr h = { keel::cpu_to_le32(kind), keel::cpu_to_le32(id) };
	memcpy(buf, &h, sizeof(h));
	u32 n = u32(strnlen(text, CONSOLE_TEXT_MAX));
	memcpy(buf + sizeof(h), text, n);
	return u32(sizeof(h)) + n;
}

/*
 * console_parse() - check a console message, copy its text NUL-terminated
 * @data: the message
 * @kind: filled with its ConsoleKind
 * @id: filled with its id
 * @text: CONSOLE_TEXT_MAX + 1 bytes; control characters become '?'
 * Return: 0; -EINVAL for a short or long message or an unknown kind.
 */
inline int console_parse(Span<const u8> data, u32 *kind, u32 *id, char *text)
{
	ConsoleHdr h;
	if (data.size() < sizeof(h) || data.size() > sizeof(h) + CONSOLE_TEXT_MAX)
		return -EINVAL;
	memcpy(&h, data.data(), sizeof(h));
	*kind = keel::le32_to_cpu(h.kind);
	*id = keel::le32_to_cpu(h.id);
	if (*kind < CONSOLE_CMD || *kind > CONSOLE_LOG)
		return -EINVAL;
	size_t n = data.size() - sizeof(h);
	for (size_t i = 0; i < n; i++) {
		u8 c = data[sizeof(h) + i];
		text[i] = c < 0x20 || c > 0x7e ? '?' : char(c);
	}
	text[n] = 0;
	return 0;
}

} // namespace sim

#endif
