// SPDX-License-Identifier: GPL-2.0
/*
 * The firmware's sim-sensor service (see fw.h).
 */
#include <keel/log.h>
#include <keel/time.h>

#include "fw.h"

namespace sim::fw {

namespace {
/* How long one send may wait for a buffer before the sample waits for the next tick. */
constexpr s64 SEND_TIMEOUT_NS = 100 * keel::NSEC_PER_MSEC;
/* How long the thread sleeps with nothing to do (it is woken by commands). */
constexpr s64 IDLE_NS = 50 * keel::NSEC_PER_MSEC;
/* Falling further behind than this drops the backlog of ticks instead of bursting. */
constexpr s64 MAX_LAG_NS = 100 * keel::NSEC_PER_MSEC;
} // namespace

Result<void> SensorService::start()
{
	m_thread = TRY(keel::Thread::run(&SensorService::thread_fn, this, "sim-sensor"));
	return keel::ok();
}

void SensorService::stop()
{
	/* The thread may be in a send, which fails or times out. */
	m_thread->stop();
}

int SensorService::thread_fn(void *arg)
{
	static_cast<SensorService *>(arg)->run();
	return 0;
}

/* Process context: answer, then change the stream. */
void SensorService::apply(const SensorCmd &c)
{
	rpmsg::RpmsgEndpoint &ept = *m_rpdev.ept();
	u32 stream = m_stream.id;
	u32 rate = m_stream.rate;
	if (c.op == SENSOR_START) {
		stream = m_stream.id + 1;
		rate = c.arg;
	} else if (c.op == SENSOR_RATE) {
		rate = c.arg;
	}
	SensorMsg ack = sensor_msg(SENSOR_ACK, stream, c.op, rate, u64(keel::ktime_get_ns()), 0);
	Result<void> r = rpmsg::sendto_timeout(
		ept, keel::Span<const u8>(reinterpret_cast<const u8 *>(&ack), sizeof(ack)), c.src,
		SEND_TIMEOUT_NS);
	if (r.is_error()) {
		/* The host did not hear the answer: it will ask again in its next session. */
		dev_warn_ratelimited(&m_rpdev, "sensor: ack to 0x%x failed: %d", c.src,
				     r.error().to_errno());
		m_streaming = false;
		return;
	}
	switch (c.op) {
	case SENSOR_START:
		m_stream = { .id = stream,
			     .rate = rate,
			     .dst = c.src,
			     .session = fw_sessions(),
			     .seq = 0,
			     .next_ns = keel::ktime_get_ns() };
		m_streaming = true;
		g_ctx->sensor_streams.fetch_add(1);
		break;
	case SENSOR_STOP:
		m_streaming = false;
		break;
	}
	m_stream.rate = rate;
}

void SensorService::stream_one(s64 now)
{
	Stream &s = m_stream;
	SensorMsg m = sensor_msg(SENSOR_SAMPLE, s.id, s.seq, s.rate, u64(now), sensor_value(s.seq));
	Result<void> r = rpmsg::sendto_timeout(
		*m_rpdev.ept(), keel::Span<const u8>(reinterpret_cast<const u8 *>(&m), sizeof(m)),
		s.dst, SEND_TIMEOUT_NS);
	if (r.is_error()) {
		int e = r.error().to_errno();
		/* No buffer in time: the same sample goes at the next tick. */
		if (e == -ETIMEDOUT || e == -ENOMEM)
			return;
		/* The session ended (-ENOTCONN, -EPIPE) or the service goes: stop. */
		m_streaming = false;
		return;
	}
	g_ctx->sensor_samples.fetch_add(1, keel::MemoryOrder::Relaxed);
	s.seq++;
	s64 period = keel::NSEC_PER_SEC / s64(s.rate);
	s.next_ns += period;
	if (now - s.next_ns > MAX_LAG_NS)
		s.next_ns = now + period;
}

void SensorService::run()
{
	while (!keel::Thread::should_stop()) {
		SensorCmd c;
		while (m_cmds.pop(&c))
			apply(c);
		/* A new host session: the stream of the old one ends with it. */
		if (m_streaming && fw_sessions() != m_stream.session)
			m_streaming = false;
		s64 now = keel::ktime_get_ns();
		s64 wait = IDLE_NS;
		if (m_streaming && !fw_asleep()) {
			if (now >= m_stream.next_ns) {
				stream_one(now);
				continue;
			}
			wait = m_stream.next_ns - now;
		}
		(void)m_wq.wait_event_timeout(
			[this] { return !m_cmds.empty() || keel::Thread::should_stop(); }, wait);
	}
}

} // namespace sim::fw

using sim::fw::SensorService;
module_rpmsg_driver(SensorService, "sim_sensor");
