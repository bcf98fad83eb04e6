/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The simulator's remote firmware: an executable that the host's hosted
 * remoteproc platform starts as a process (os/posix/remoteproc), running
 * the rpmsg remote role with three services:
 *
 *	sim-echo     samples/rpmsg/echo.cpp (driver "rpmsg_echo")
 *	sim-sensor   SensorService (driver "sim_sensor"): streams samples
 *	sim-console  ConsoleService (driver "sim_console"): a command line
 *
 * The formats are in ../sim_proto.h. Each service is a remote-side rpmsg
 * driver, bound by name to its channel (RpmsgRemote::add_service()); the
 * channels live as long as the process and are announced again at every
 * host session.
 *
 * Hosted only.
 */
#ifndef TOOLS_SIM_FIRMWARE_FW_H
#define TOOLS_SIM_FIRMWARE_FW_H

#include <keel/atomic.h>
#include <keel/thread.h>
#include <keel/wait.h>
#include <keel/workqueue.h>
#include <rpmsg/rpmsg.h>

#include "../fifo.h"
#include "../sim_proto.h"

namespace rproc::hosted {
class Firmware;
}
namespace rpmsg {
class RpmsgRemote;
}

namespace sim::fw {

using keel::Result;

/*
 * FwContext - what the services know of the firmware they run in: set up
 * by main() before the services are added, never freed before they are
 * removed.
 */
struct FwContext {
	rproc::hosted::Firmware *fw = nullptr;
	rpmsg::RpmsgRemote *remote = nullptr;
	s64 boot_ns = 0;
	/* The echo service's channel, for the console's "stats". */
	rpmsg::RpmsgDevice *echo = nullptr;
	keel::Atomic<u64> sensor_samples{ 0 };
	keel::Atomic<u64> sensor_streams{ 0 };
	keel::Atomic<u64> console_cmds{ 0 };
	keel::Atomic<u64> bad_msgs{ 0 };
};
extern FwContext *g_ctx;

/* Host sessions so far (0 before the first). Context: any. */
u32 fw_sessions();
/* The firmware sleeps (runtime PM): services hold their traffic. Context: any. */
bool fw_asleep();

/*
 * SensorService - sim-sensor: a thread streams SensorMsg samples at the
 * rate the host asked for. Commands arrive in the callback (atomic), are
 * queued and carried out by the thread (process context), which answers
 * each with an ACK before the stream changes. A sample that cannot go out
 * (no buffer within its timeout) is sent again at the next tick with the
 * same number: the host sees a slower stream, never a gap. The stream ends
 * with the host session (a send fails, or the session count moved).
 */
class SensorService : keel::NonMovable {
public:
	static Result<keel::UniquePtr<SensorService>> probe(rpmsg::RpmsgDevice &rpdev);
	void remove(rpmsg::RpmsgDevice &rpdev);
	Result<void> on_message(rpmsg::RpmsgDevice &rpdev, keel::Span<const u8> data, u32 src);

	explicit SensorService(rpmsg::RpmsgDevice &rpdev) : m_rpdev(rpdev) {}

private:
	struct Cmd {
		u32 op;
		u32 arg;
		u32 src;
	};
	static constexpr u32 CMD_QUEUE = 16;
	static int thread_fn(void *arg);
	void run();
	void apply(const Cmd &c);
	void stream_one(s64 now);

	rpmsg::RpmsgDevice &m_rpdev;
	Fifo<Cmd, CMD_QUEUE> m_cmds{ "sim_sensor_lock", KEEL_LOCK_KEY() };
	keel::WaitQueue m_wq{ "sim_sensor_wq", KEEL_LOCK_KEY() };
	keel::Thread *m_thread = nullptr;
	/* The thread's own state. */
	bool m_streaming = false;
	u32 m_stream = 0;
	u32 m_seq = 0;
	u32 m_rate = 0;
	u32 m_dst = 0;
	u32 m_session = 0;
	s64 m_next_ns = 0;
};

/*
 * ConsoleService - sim-console: commands arrive in the callback, are
 * copied into a queue and answered from a work item (process context,
 * where a send may wait for a buffer), in order.
 *
 *	help, version, uptime, stats, panic <why>
 *
 * "uptime" says the firmware's pid, its age and the host session, which is
 * how the host sees that the remote lived through a host restart; "panic"
 * prints a LOG line and reports a fatal error to the host (the remote's
 * own crash report).
 */
class ConsoleService : keel::NonMovable {
public:
	static Result<keel::UniquePtr<ConsoleService>> probe(rpmsg::RpmsgDevice &rpdev);
	void remove(rpmsg::RpmsgDevice &rpdev);
	Result<void> on_message(rpmsg::RpmsgDevice &rpdev, keel::Span<const u8> data, u32 src);

	explicit ConsoleService(rpmsg::RpmsgDevice &rpdev) : m_rpdev(rpdev) {}

private:
	struct Cmd {
		u32 id;
		u32 src;
		char text[CONSOLE_TEXT_MAX + 1];
	};
	static constexpr u32 CMD_QUEUE = 8;
	static void work_fn(keel::Work &w);
	void drain();
	void execute(const Cmd &c);
	void reply(u32 kind, u32 id, u32 dst, const char *text);

	rpmsg::RpmsgDevice &m_rpdev;
	Fifo<Cmd, CMD_QUEUE> m_cmds{ "sim_console_lock", KEEL_LOCK_KEY() };
	keel::Work m_work{ &ConsoleService::work_fn, "sim_console_work", KEEL_LOCK_KEY() };
};

} // namespace sim::fw

extern rpmsg::RpmsgDriver SensorService_rpmsg_driver;
extern rpmsg::RpmsgDriver ConsoleService_rpmsg_driver;

#endif
