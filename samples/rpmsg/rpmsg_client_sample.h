/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rpmsg client sample (Linux samples/rpmsg/rpmsg_client_sample.c):
 * binds to the "rpmsg-client-sample" service, sends "hello world!", and
 * answers each reply with another until it has received a fixed number
 * (100), then says goodbye. The remote's side is rpmsg_echo.
 */
#ifndef SAMPLES_RPMSG_RPMSG_CLIENT_SAMPLE_H
#define SAMPLES_RPMSG_RPMSG_CLIENT_SAMPLE_H

#include <keel/atomic.h>
#include <rpmsg/rpmsg.h>

namespace rpmsg_sample {

/* Linux's MSG and MSG_LIMIT. */
inline constexpr char MSG[] = "hello world!";
inline constexpr u32 MSG_LIMIT = 100;

class RpmsgClientSample : keel::NonMovable {
public:
	static constexpr rpmsg::RpmsgDeviceId id_table[] = { { "rpmsg-client-sample" }, {} };

	static keel::Result<keel::UniquePtr<RpmsgClientSample>> probe(rpmsg::RpmsgDevice &rpdev);
	void remove(rpmsg::RpmsgDevice &rpdev);
	/* Atomic context: the answer is sent without waiting (the rpmsg.h rule). */
	keel::Result<void> on_message(rpmsg::RpmsgDevice &rpdev, keel::Span<const u8> data,
				      u32 src);

	u32 rx_count() const { return m_rx_count.load(); }

private:
	keel::Atomic<u32> m_rx_count{ 0 };
};

/* Instances that completed their exchange ("goodbye!"), for tests. */
extern keel::Atomic<u32> rpmsg_client_sample_done;

} // namespace rpmsg_sample

extern rpmsg::RpmsgDriver RpmsgClientSample_rpmsg_driver;

#endif
