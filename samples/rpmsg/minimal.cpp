// SPDX-License-Identifier: GPL-2.0
/*
 * The smallest useful rpmsg client driver, shown whole in
 * Documentation/rpmsg.rst: it binds to the "rpmsg-minimal" service, says
 * hello, and echoes whatever the remote sends. Built by the hosted build
 * and, with rpmsg_minimal_main.c, as its own kernel module.
 */
#include <keel/log.h>
#include <rpmsg/rpmsg.h>

namespace {

class RpmsgMinimal : keel::NonMovable {
public:
	/* The service names this driver binds to. */
	static constexpr rpmsg::RpmsgDeviceId id_table[] = { { "rpmsg-minimal" }, {} };

	/* A channel of that name appeared: set up, and say hello (may sleep). */
	static keel::Result<keel::UniquePtr<RpmsgMinimal>> probe(rpmsg::RpmsgDevice &rpdev)
	{
		keel::UniquePtr<RpmsgMinimal> me = TRY(keel::make_unique<RpmsgMinimal>(GFP_KERNEL));
		static constexpr u8 hello[] = { 'h', 'e', 'l', 'l', 'o' };
		TRY(rpmsg::send(*rpdev.ept(), keel::Span<const u8>(hello)));
		return me;
	}

	/* A message for the channel (atomic context: never sleeps, never waits). */
	keel::Result<void> on_message(rpmsg::RpmsgDevice &rpdev, keel::Span<const u8> data, u32 src)
	{
		m_received++;
		return rpmsg::trysendto(*rpdev.ept(), data, src);
	}

	/* The channel or the driver goes away; no on_message() runs any more. */
	void remove(rpmsg::RpmsgDevice &rpdev) { dev_info(&rpdev, "%u messages", m_received); }

private:
	u32 m_received = 0;
};

} // namespace

module_rpmsg_driver(RpmsgMinimal, "rpmsg_minimal");
