/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The echo service of the remote (OpenAMP's rpmsg-echo): every message is
 * sent back to its sender, unchanged, from the channel's address. Bound by
 * name through driver_override (RpmsgRemote::add_service(name,
 * "rpmsg_echo")), so one driver serves any service name.
 *
 * It shows the rule for answering from a callback: the answer is tried
 * without waiting; when no buffer is free, the received buffer is held
 * (zero copy) and the answer deferred to a work item that may wait, in
 * order: once one answer is deferred, the following ones queue behind it.
 * Nothing is lost unless the link's hold limit is reached (counted).
 */
#ifndef SAMPLES_RPMSG_RPMSG_ECHO_H
#define SAMPLES_RPMSG_RPMSG_ECHO_H

#include <keel/atomic.h>
#include <keel/spinlock.h>
#include <keel/workqueue.h>
#include <rpmsg/rpmsg.h>

namespace rpmsg_sample {

class RpmsgEcho : keel::NonMovable {
public:
	static keel::Result<keel::UniquePtr<RpmsgEcho>> probe(rpmsg::RpmsgDevice &rpdev);
	void remove(rpmsg::RpmsgDevice &rpdev);
	keel::Result<void> on_message(rpmsg::RpmsgDevice &rpdev, keel::Span<const u8> data,
				      u32 src);

	u64 echoed() const { return m_echoed.load(); }
	u64 deferred() const { return m_deferred.load(); }
	u64 dropped() const { return m_dropped.load(); }

	/* Deferred answers waiting at most (beyond: dropped, counted). */
	static constexpr u32 BACKLOG = 1024;

	explicit RpmsgEcho(rpmsg::RpmsgDevice &rpdev) : m_rpdev(rpdev) {}

private:
	struct Pending {
		rpmsg::RpmsgRxToken token;
		const u8 *data;
		u32 len;
		u32 src;
	};
	static void work_fn(keel::Work &w);
	void drain();

	rpmsg::RpmsgDevice &m_rpdev;
	keel::SpinLock m_lock{ "rpmsg_echo_lock", KEEL_LOCK_KEY() };
	Pending m_ring[BACKLOG] GUARDED_BY(m_lock);
	u32 m_head GUARDED_BY(m_lock) = 0;
	u32 m_count GUARDED_BY(m_lock) = 0;
	keel::Work m_work{ &RpmsgEcho::work_fn, "rpmsg_echo_work", KEEL_LOCK_KEY() };
	keel::Atomic<u64> m_echoed{ 0 };
	keel::Atomic<u64> m_deferred{ 0 };
	keel::Atomic<u64> m_dropped{ 0 };
};

} // namespace rpmsg_sample

extern rpmsg::RpmsgDriver RpmsgEcho_rpmsg_driver;

#endif
