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
#include <keel/log.h>
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
 * CmdService - what the firmware's command services share: the endpoint
 * callback (atomic context) reads each message into a CmdT and queues it;
 * T's own process context (a thread, a work item) carries the queue out
 * in order. The rpmsg driver's probe(), remove() and on_message() are
 * these. CmdT provides::
 *
 *	static constexpr const char *SERVICE;    in log lines: "sensor"
 *	int parse(Span<const u8> data, u32 src); < 0: a bad message
 *
 * and T (with CmdService as a friend)::
 *
 *	Result<void> start();   after construction, in probe()
 *	void stop();            in remove(): no callback runs any more
 *	void kick();            atomic context: a command was queued
 */
template <typename T, typename CmdT, u32 QUEUE> class CmdService : keel::NonMovable {
public:
	explicit CmdService(rpmsg::RpmsgDevice &rpdev) : m_rpdev(rpdev) {}

	static Result<keel::UniquePtr<T>> probe(rpmsg::RpmsgDevice &rpdev)
	{
		auto s = TRY(keel::make_unique<T>(GFP_KERNEL, rpdev));
		TRY(s->start());
		dev_info(&rpdev, "%s service at 0x%x", CmdT::SERVICE, rpdev.src());
		return s;
	}

	void remove(rpmsg::RpmsgDevice &rpdev)
	{
		static_cast<T *>(this)->stop();
		dev_info(&rpdev, "%s service removed", CmdT::SERVICE);
	}

	Result<void> on_message(rpmsg::RpmsgDevice &rpdev, keel::Span<const u8> data, u32 src)
	{
		CmdT c;
		if (c.parse(data, src) < 0) {
			g_ctx->bad_msgs.fetch_add(1);
			dev_warn_ratelimited(&rpdev, "bad %s command (%zu bytes) from 0x%x",
					     CmdT::SERVICE, data.size(), src);
			return keel::err(-EINVAL);
		}
		if (!m_cmds.push(c)) {
			dev_warn_ratelimited(&rpdev, "%s: command dropped, queue full",
					     CmdT::SERVICE);
			return keel::err(-ENOBUFS);
		}
		static_cast<T *>(this)->kick();
		return keel::ok();
	}

protected:
	rpmsg::RpmsgDevice &m_rpdev;
	Fifo<CmdT, QUEUE> m_cmds{ "sim_cmd_lock", KEEL_LOCK_KEY() };
};

/* A command to the sensor's thread. */
struct SensorCmd {
	static constexpr const char *SERVICE = "sensor";
	u32 op;
	u32 arg;
	u32 src;

	/* Context: any. Return: 0; -EINVAL for a bad message. */
	int parse(keel::Span<const u8> data, u32 from)
	{
		src = from;
		return sensor_cmd_parse(data, &op, &arg);
	}
};

/*
 * SensorService - sim-sensor: a thread streams SensorMsg samples at the
 * rate the host asked for. Commands are carried out by the thread, which
 * answers each with an ACK before the stream changes. A sample that
 * cannot go out (no buffer within its timeout) is sent again at the next
 * tick with the same number: the host sees a slower stream, never a gap.
 * The stream ends with the host session (a send fails, or the session
 * count moved).
 */
class SensorService : public CmdService<SensorService, SensorCmd, 16> {
public:
	using CmdService::CmdService;

private:
	friend CmdService;
	Result<void> start();
	void stop();
	void kick() { m_wq.wake_up(); }

	/* A stream of samples, from its SENSOR_START. */
	struct Stream {
		u32 id;	     /* the START's number (they count up) */
		u32 rate;    /* samples per second */
		u32 dst;     /* the host's address */
		u32 session; /* the host session it belongs to */
		u32 seq;     /* the next sample's number */
		s64 next_ns; /* when that sample is due */
	};
	static int thread_fn(void *arg);
	void run();
	void apply(const SensorCmd &c);
	void stream_one(s64 now);

	keel::WaitQueue m_wq{ "sim_sensor_wq", KEEL_LOCK_KEY() };
	keel::Thread *m_thread = nullptr;
	/* The thread's own state: the last stream, and whether it still runs. */
	Stream m_stream = {};
	bool m_streaming = false;
};

/* A command line for the console's work item. */
struct ConsoleCmd {
	static constexpr const char *SERVICE = "console";
	u32 id;
	u32 src;
	char text[CONSOLE_TEXT_MAX + 1];

	/* Context: any. Return: 0; -EINVAL for a bad message or not a CONSOLE_CMD. */
	int parse(keel::Span<const u8> data, u32 from)
	{
		u32 kind;
		src = from;
		if (console_parse(data, &kind, &id, text) < 0 || kind != CONSOLE_CMD)
			return -EINVAL;
		return 0;
	}
};

/*
 * ConsoleService - sim-console: commands are answered from a work item
 * (process context, where a send may wait for a buffer), in order.
 *
 *	help, version, uptime, stats, panic <why>
 *
 * "uptime" says the firmware's pid, its age and the host session, which is
 * how the host sees that the remote lived through a host restart; "panic"
 * prints a LOG line and reports a fatal error to the host (the remote's
 * own crash report).
 */
class ConsoleService : public CmdService<ConsoleService, ConsoleCmd, 8> {
public:
	using CmdService::CmdService;

private:
	friend CmdService;
	Result<void> start() { return keel::ok(); }
	/* What is queued is dropped with the work. */
	void stop() { m_work.cancel_sync(); }
	void kick() { (void)m_work.schedule(); }

	static void work_fn(keel::Work &w);
	void drain();
	void execute(const ConsoleCmd &c);
	void reply(u32 kind, u32 id, u32 dst, const char *text);

	keel::Work m_work{ &ConsoleService::work_fn, "sim_console_work", KEEL_LOCK_KEY() };
};

} // namespace sim::fw

extern rpmsg::RpmsgDriver SensorService_rpmsg_driver;
extern rpmsg::RpmsgDriver ConsoleService_rpmsg_driver;

#endif
