/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The hosted remoteproc platform: the remote processor is a firmware
 * executable that the host starts as a process (the way remoteproc loads
 * and boots firmware), shares memory with (shmlink: a memfd region and
 * eventfd doorbells, brokered by an ivshmem-protocol server the host owns)
 * and watches:
 *
 *  - exit or kill is seen at once: the process's pidfd becomes readable and
 *    its control socket hangs up (and shmlink reports the peer gone), each
 *    a CrashReason::PeerGone report (the core counts the first);
 *  - the firmware sends a heartbeat every heartbeat period on its control
 *    socket; none for the watchdog timeout is a CrashReason::Watchdog crash;
 *  - the firmware can report its own fatal error (CrashReason::FatalError,
 *    with its message), then halts until the host stops it;
 *  - runtime PM: suspend tells the firmware to sleep (it stops serving, or
 *    refuses while it has work), resume wakes it.
 *
 * Two halves, one per process:
 *
 *  - HostedRproc (the host's platform driver): creates the broker, the
 *    host's shmlink client and the Rproc over them; its ops start, stop and
 *    watch the firmware process.
 *  - Firmware (the remote's runtime, in the firmware executable): reads
 *    what the host passed in its environment, connects to the region,
 *    runs an rpmsg remote role (RpmsgRemote) with the services its main()
 *    adds, beats, answers sleep/wake and reports fatal errors.
 *
 *	// host                                   // firmware's main()
 *	HostedRprocConfig c;                      Firmware *fw = TRY(Firmware::create(cfg));
 *	c.firmware = "/path/to/fw";               TRY(fw->add_service("echo", "rpmsg_echo"));
 *	auto h = TRY(HostedRproc::create(c));     return fw->run();
 *	TRY(h->rproc().boot());
 *
 * The control socket (a SOCK_SEQPACKET pair; the firmware's end is fd
 * FW_CTRL_FD) carries FwCtrlMsg records, fixed size, checked on receipt.
 *
 * Hosted only (POSIX processes, Linux pidfds).
 */
#ifndef KEEL_POSIX_REMOTEPROC_HOSTED_RPROC_H
#define KEEL_POSIX_REMOTEPROC_HOSTED_RPROC_H

#include <keel/alloc.h>
#include <keel/atomic.h>
#include <keel/error.h>
#include <keel/refcount.h>
#include <remoteproc/remoteproc.h>
#include <rpmsg/rpmsg_link.h>

#include <sys/types.h>

namespace rproc::hosted {

/* --- the control protocol --- */

/* The firmware's end of the control socket, in the firmware process. */
inline constexpr int FW_CTRL_FD = 3;
/* Environment the host passes to the firmware. */
inline constexpr const char *FW_ENV_SOCK = "KEEL_RPROC_SHM_SOCK";
inline constexpr const char *FW_ENV_VECTORS = "KEEL_RPROC_VECTORS";
inline constexpr const char *FW_ENV_HEARTBEAT_MS = "KEEL_RPROC_HEARTBEAT_MS";
inline constexpr const char *FW_ENV_NAME = "KEEL_RPROC_NAME";

enum FwCtrlType : u32 {
	/* firmware -> host */
	FW_HELLO = 1,	  /* @arg: the firmware's pid */
	FW_HEARTBEAT = 2, /* @arg: sequence number */
	FW_FATAL = 3,	  /* @text: what went wrong; the firmware halts */
	FW_SLEEP_ACK = 4,
	FW_SLEEP_NACK = 5, /* @arg: -errno (it has work) */
	FW_WAKE_ACK = 6,
	/* host -> firmware */
	HOST_SLEEP = 0x101,
	HOST_WAKE = 0x102,
	HOST_INJECT = 0x103, /* @arg: FwInject */
	HOST_EXIT = 0x104,   /* stop cleanly (shutdown) */
};

/* Misbehaviour the host can ask of the firmware (tests, the demo). */
enum FwInject : u32 {
	FW_INJECT_FATAL = 1, /* report a fatal error, then halt */
	FW_INJECT_HANG = 2,  /* stop beating and serving (the watchdog fires) */
	FW_INJECT_EXIT = 3,  /* exit at once (peer gone) */
	FW_INJECT_ABORT = 4, /* abort() (killed by a signal) */
};

struct FwCtrlMsg {
	u32 type;
	u32 arg;
	char text[56]; /* NUL-terminated within its size (forced on receipt) */
};
static_assert(sizeof(FwCtrlMsg) == 64);

/* --- the host's platform driver --- */

/**
 * struct HostedRprocConfig - one hosted remote processor
 * @name: the Rproc's name
 * @firmware: path of the firmware executable
 * @args: extra arguments for it (a null-terminated array, or null)
 * @region_size: bytes shared (a power of two)
 * @vectors: doorbell vectors per peer (shmlink)
 * @heartbeat_ms: the firmware beats this often
 * @watchdog_ms: no beat for this long is a watchdog crash (0: off)
 * @ctrl_timeout_ms: how long sleep/wake/exit requests wait for an answer
 *	(no answer: a watchdog crash)
 * @rproc: the core's settings (name, ops, priv, region and doorbell are
 *	filled in by HostedRproc)
 */
struct HostedRprocConfig {
	const char *name = "hosted-remote";
	const char *firmware = nullptr;
	const char *const *args = nullptr;
	size_t region_size = 1 << 20;
	u32 vectors = 3;
	u32 heartbeat_ms = 20;
	u32 watchdog_ms = 2000;
	u32 ctrl_timeout_ms = 2000;
	RprocConfig rproc;
};

/* Counters of the platform (the core's are Rproc::stats()). */
struct HostedStats {
	u64 starts;	      /* firmware processes started */
	u64 exits;	      /* ... seen gone (pidfd or hang-up) */
	u64 heartbeats;	      /* beats received */
	u64 watchdog_fired;   /* missed beats reported */
	u64 fatal_reports;    /* FW_FATAL received */
	u64 bad_ctrl;	      /* malformed control messages dropped */
	int last_exit_status; /* waitpid() status of the last process reaped */
};

/*
 * HostedRproc - the platform driver of one hosted remote processor.
 *
 * Context: everything may sleep. The watcher thread reports crashes.
 */
class HostedRproc : keel::NonMovable {
public:
	/**
	 * HostedRproc::create() - broker, region, host client and the Rproc (added, not booted)
	 * @cfg: the configuration (copied; @cfg.firmware and @cfg.args must
	 *	outlive the object)
	 *
	 * Context: may sleep.
	 * Return: the platform; -EINVAL for a bad configuration; errors of
	 * shmlink and of the Rproc.
	 */
	static Result<keel::UniquePtr<HostedRproc>> create(const HostedRprocConfig &cfg);
	/* del()s the Rproc (stopping the firmware), stops the broker. */
	~HostedRproc();

	Rproc &rproc() { return *m_rproc; }
	/* The running firmware's pid, 0 when none. Context: any. */
	pid_t pid() const { return m_pid.load(); }
	/**
	 * HostedRproc::inject() - ask the firmware to misbehave
	 * @what: FwInject
	 *
	 * Return: 0; -ENOTCONN without a running firmware.
	 */
	Result<void> inject(FwInject what);
	/**
	 * HostedRproc::kill_remote() - send @sig to the firmware process
	 * @sig: the signal (SIGKILL: a crash the host sees as peer gone)
	 *
	 * Return: 0; -ENOTCONN without a running firmware; -errno of kill().
	 */
	Result<void> kill_remote(int sig);
	HostedStats stats() const;

	struct Impl;

private:
	HostedRproc() = default;
	keel::UniquePtr<Impl> m_impl;
	keel::RefPtr<Rproc> m_rproc;
	keel::Atomic<pid_t> m_pid{ 0 };
};

/* --- the firmware's runtime --- */

/**
 * struct FirmwareConfig - the remote role of a firmware executable
 * @remote: the rpmsg remote role's numbers (name, vring size, buffers,
 *	link tunables); region and doorbell are filled in by Firmware
 * @connect_timeout_ms: how long to wait for the broker and the host
 */
struct FirmwareConfig {
	rpmsg::RpmsgRemoteConfig remote;
	u32 connect_timeout_ms = 10000;
};

/*
 * Firmware - the runtime of a firmware executable started by HostedRproc.
 *
 * Context: everything may sleep.
 */
class Firmware : keel::NonMovable {
public:
	/**
	 * Firmware::create() - connect to what the host passed (environment, FW_CTRL_FD)
	 * @cfg: the remote role's configuration
	 *
	 * Needs the rpmsg bus (rpmsg_init()) and the services' drivers
	 * registered. Says hello to the host.
	 * Return: the firmware; -ENOENT when not started by a HostedRproc;
	 * shmlink's and RpmsgRemote's errors.
	 */
	static Result<keel::UniquePtr<Firmware>> create(const FirmwareConfig &cfg);
	~Firmware();

	/* The remote role, for add_service() and friends. */
	rpmsg::RpmsgRemote &remote();
	/**
	 * Firmware::run() - publish the table, serve, beat, obey the host
	 *
	 * Returns when the host asks it to exit (0) or goes away (0: the
	 * broker is gone with it), or on an error (1).
	 * Return: the process's exit status.
	 */
	int run();
	/**
	 * Firmware::report_fatal() - tell the host of a fatal error and halt
	 * @msg: the message (truncated to 55 bytes)
	 *
	 * Stops serving and beating; the host's recovery kills the process.
	 * Does not return.
	 */
	[[noreturn]] void report_fatal(const char *msg);
	/* The remote role sleeps (HOST_SLEEP accepted). Context: any. */
	bool asleep() const;

	struct Impl;

private:
	Firmware() = default;
	keel::UniquePtr<Impl> m_impl;
};

} // namespace rproc::hosted

#endif
