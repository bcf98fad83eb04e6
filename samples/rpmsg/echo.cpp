// SPDX-License-Identifier: GPL-2.0
/*
 * The remote's echo service (see rpmsg_echo.h).
 */
#include <keel/log.h>

#include "rpmsg_echo.h"

namespace rpmsg_sample {

using keel::Guard;
using keel::Result;
using rpmsg::RpmsgDevice;

Result<keel::UniquePtr<RpmsgEcho>> RpmsgEcho::probe(RpmsgDevice &rpdev)
{
	keel::UniquePtr<RpmsgEcho> e = TRY(keel::make_unique<RpmsgEcho>(GFP_KERNEL, rpdev));
	dev_info(&rpdev, "echo service at 0x%x", rpdev.src());
	return e;
}

Result<void> RpmsgEcho::on_message(RpmsgDevice &rpdev, keel::Span<const u8> data, u32 src)
{
	rpmsg::RpmsgEndpoint &ept = *rpdev.ept();
	{
		Guard g{ m_lock };
		/* Behind a deferred answer: queue, or the answers would overtake each other. */
		if (m_count == 0) {
			Result<void> r = rpmsg::trysendto(ept, data, src);
			if (r.is_ok()) {
				m_echoed.fetch_add(1, keel::MemoryOrder::Relaxed);
				return r;
			}
			if (r.error().to_errno() != -ENOMEM)
				return r;
		}
		if (m_count < BACKLOG) {
			Result<rpmsg::RpmsgRxToken> t = rpmsg::hold_rx_buffer(ept);
			if (t.is_ok()) {
				m_ring[(m_head + m_count) % BACKLOG] = { t.value(), data.data(),
									 u32(data.size()), src };
				m_count++;
				m_deferred.fetch_add(1, keel::MemoryOrder::Relaxed);
				(void)m_work.schedule();
				return keel::ok();
			}
		}
	}
	m_dropped.fetch_add(1, keel::MemoryOrder::Relaxed);
	dev_warn_ratelimited(&rpdev, "echo to 0x%x dropped: backlog full", src);
	return keel::err(-ENOBUFS);
}

void RpmsgEcho::work_fn(keel::Work &w)
{
	keel::container_of(&w, &RpmsgEcho::m_work)->drain();
}

/* Process context: send the deferred answers in order, waiting for buffers as needed. */
void RpmsgEcho::drain()
{
	rpmsg::RpmsgEndpoint &ept = *m_rpdev.ept();
	for (;;) {
		Pending p;
		{
			Guard g{ m_lock };
			if (m_count == 0)
				return;
			p = m_ring[m_head];
		}
		Result<void> r = rpmsg::sendto(ept, keel::Span<const u8>(p.data, p.len), p.src);
		(void)rpmsg::release_rx_buffer(ept, p.token);
		if (r.is_ok())
			m_echoed.fetch_add(1, keel::MemoryOrder::Relaxed);
		else
			m_dropped.fetch_add(1, keel::MemoryOrder::Relaxed);
		/* Dequeued only now: the callback queues behind it until it is sent. */
		Guard g{ m_lock };
		m_head = (m_head + 1) % BACKLOG;
		m_count--;
	}
}

void RpmsgEcho::remove(RpmsgDevice &rpdev)
{
	/* No callback runs any more (the core stopped them before remove). */
	m_work.cancel_sync();
	rpmsg::RpmsgEndpoint &ept = *rpdev.ept();
	Guard g{ m_lock };
	for (; m_count; m_count--, m_head = (m_head + 1) % BACKLOG) {
		(void)rpmsg::release_rx_buffer(ept, m_ring[m_head].token);
		m_dropped.fetch_add(1, keel::MemoryOrder::Relaxed);
	}
	dev_info(&rpdev, "echo service removed: %llu echoed, %llu deferred, %llu dropped",
		 (unsigned long long)m_echoed.load(), (unsigned long long)m_deferred.load(),
		 (unsigned long long)m_dropped.load());
}

} // namespace rpmsg_sample

using rpmsg_sample::RpmsgEcho;
module_rpmsg_driver(RpmsgEcho, "rpmsg_echo");
