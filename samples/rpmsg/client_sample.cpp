// SPDX-License-Identifier: GPL-2.0
/*
 * Remote processor messaging, sample client driver (after Linux's
 * samples/rpmsg/rpmsg_client_sample.c): the same service name, message
 * and count, so that it works against any remote that echoes on
 * "rpmsg-client-sample" (OpenAMP's rpmsg-echo, our rpmsg_echo).
 */
#include <keel/log.h>
#include <keel/string.h>

#include "rpmsg_client_sample.h"

namespace rpmsg_sample {

using keel::Result;
using rpmsg::RpmsgDevice;

constinit keel::Atomic<u32> rpmsg_client_sample_done;

namespace {
keel::Span<const u8> msg()
{
	return keel::Span<const u8>(reinterpret_cast<const u8 *>(MSG), sizeof(MSG) - 1);
}
} // namespace

Result<keel::UniquePtr<RpmsgClientSample>> RpmsgClientSample::probe(RpmsgDevice &rpdev)
{
	dev_info(&rpdev, "new channel: 0x%x -> 0x%x!", rpdev.src(), rpdev.dst());
	keel::UniquePtr<RpmsgClientSample> idata =
		TRY(keel::make_unique<RpmsgClientSample>(GFP_KERNEL));
	/* Send a message to our remote processor. */
	Result<void> r = rpmsg::send(*rpdev.ept(), msg());
	if (r.is_error()) {
		dev_err(&rpdev, "rpmsg_send failed: %d", r.error().to_errno());
		return r.error();
	}
	return idata;
}

Result<void> RpmsgClientSample::on_message(RpmsgDevice &rpdev, keel::Span<const u8> data, u32 src)
{
	u32 n = m_rx_count.fetch_add(1) + 1;
	dev_info(&rpdev, "incoming msg %u (src: 0x%x)", n, src);
	dev_dbg(&rpdev, "rpmsg_client_sample: %.*s", int(data.size()),
		reinterpret_cast<const char *>(data.data()));
	/* Samples should not live forever. */
	if (n >= MSG_LIMIT) {
		dev_info(&rpdev, "goodbye!");
		rpmsg_client_sample_done.fetch_add(1);
		return keel::ok();
	}
	/* Send a new message now (in a callback this never waits: see <rpmsg/rpmsg.h>). */
	Result<void> r = rpmsg::send(*rpdev.ept(), msg());
	if (r.is_error())
		dev_err(&rpdev, "rpmsg_send failed: %d", r.error().to_errno());
	return r;
}

void RpmsgClientSample::remove(RpmsgDevice &rpdev)
{
	dev_info(&rpdev, "rpmsg sample client driver is removed");
}

} // namespace rpmsg_sample

using rpmsg_sample::RpmsgClientSample;
module_rpmsg_driver(RpmsgClientSample, "rpmsg_client_sample");
