/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside the remote processor core (Linux drivers/remoteproc/
 * remoteproc_internal.h): the state behind an Rproc, shared by
 * remoteproc_core.cpp (lifecycle, crashes, recovery), remoteproc_pm.cpp
 * (runtime PM) and remoteproc_trace.cpp (trace buffers).
 *
 * Locking (include/remoteproc/remoteproc.h has the order): @lock
 * serialises boot, shutdown, detach, recovery and del; @state_lock guards
 * every field marked so and is taken from any context (crash reports,
 * doorbell interrupts). Runtime PM callbacks take @state_lock only.
 */
#ifndef DRIVERS_REMOTEPROC_REMOTEPROC_INTERNAL_H
#define DRIVERS_REMOTEPROC_REMOTEPROC_INTERNAL_H

#include <keel/irq_work.h>
#include <remoteproc/remoteproc.h>
#include <remoteproc/rsc_table.h>

namespace rproc {

/* The bus that gives Rproc devices their runtime-PM callbacks (no drivers). */
extern keel::Bus rproc_bus;

struct Rproc::Core : keel::NonMovable {
	explicit Core(Rproc *r) : rp(r) {}

	/*
	 * Bell - the doorbell the transport uses: rings go to the platform's
	 * kick (or its doorbell), the platform's interrupts are delivered
	 * through it (Rproc::vq_interrupt()).
	 */
	class Bell final : public keel::Doorbell {
	public:
		Bell() : Doorbell(s_ops) {}

	private:
		static Result<void> ring_op(keel::Doorbell &db, u32 notifyid);
		static bool peer_alive_op(const keel::Doorbell &db);
		static const keel::DoorbellOps s_ops;
	};

	Rproc *rp;
	keel::Mutex lock{ "rproc_lock", KEEL_LOCK_KEY() };
	keel::SpinLock state_lock{ "rproc_state_lock", KEEL_LOCK_KEY() };
	RprocState state GUARDED_BY(state_lock) = RprocState::Offline;
	RprocStats stats GUARDED_BY(state_lock) = {};
	/* The last crash: why, when detected, the remote's words. */
	CrashReason crash_reason GUARDED_BY(state_lock) = CrashReason::PeerGone;
	s64 crash_ns GUARDED_BY(state_lock) = 0;
	char crash_msg[64] GUARDED_BY(state_lock) = {};
	/* Observers were told of the last crash. */
	bool crash_notified GUARDED_BY(state_lock) = true;
	/* Booting: the remote crashed while it booted (start_locked() fails with -EPIPE). */
	bool crash_pending GUARDED_BY(state_lock) = false;
	/* A recovery runs (events carry its number). */
	bool recovering GUARDED_BY(state_lock) = false;
	/* del() began: crash reports queue no work. */
	bool deleting GUARDED_BY(state_lock) = false;
	/* shutdown() is stopping the remote: its going away is no crash. */
	bool stopping GUARDED_BY(state_lock) = false;
	bool added GUARDED_BY(state_lock) = false;
	/* Running (not Attached): shutdown stops it. */
	bool started_by_us GUARDED_BY(state_lock) = false;
	u32 failed_attempts GUARDED_BY(state_lock) = 0;
	/* Runtime PM: the state to go back to at resume, and whether it is on. */
	RprocState suspended_from GUARDED_BY(state_lock) = RprocState::Running;
	bool pm_on GUARDED_BY(state_lock) = false;

	Bell bell;
	/* The platform's doorbell calls us (set in create()). */
	bool bell_wired = false;
	keel::WaitQueue state_wq{ "rproc_state_wq", KEEL_LOCK_KEY() };
	keel::Work crash_work{ &Core::crash_work_fn, "rproc_crash_work", KEEL_LOCK_KEY() };
	keel::DelayedWork pm_retry{ &Core::pm_retry_fn, "rproc_pm_retry", KEEL_LOCK_KEY() };
	keel::IrqWork break_irq{ &Core::break_irq_fn };
	keel::BlockingNotifierHead observers;

	/* Trace buffers: the crash-time copies (remoteproc_trace.cpp). */
	struct TraceDump {
		char *buf = nullptr;
		size_t len = 0;
		bool valid = false;
	};
	keel::SpinLock trace_lock{ "rproc_trace_lock", KEEL_LOCK_KEY() };
	TraceDump dumps[RSC_MAX_TRACES] GUARDED_BY(trace_lock);

	/* remoteproc_core.cpp */
	RprocState state_snapshot();
	void set_state(RprocState s);
	void notify(RprocEventType type, RprocState s, int error = 0, s64 duration_ns = 0);
	void report_crash_event();
	void break_transport();
	bool watching_restart();
	Result<void> start_locked(bool adopt);
	void remove_devices();
	void stop_remote();
	Result<void> boot_locked();
	void running(bool adopted);
	void shutdown_locked();
	Result<void> detach_locked();
	Result<void> recover_locked(bool manual);
	void release_transport();
	static void crash_work_fn(keel::Work &w);
	static void break_irq_fn(keel::IrqWork &w);
	static void platform_irq(void *ctx, u32 notifyid);
	static void platform_down(void *ctx);

	/* remoteproc_pm.cpp */
	void pm_start();
	void pm_stop();
	static Result<void> runtime_suspend(keel::Device &dev);
	static Result<void> runtime_resume(keel::Device &dev);
	static void pm_retry_fn(keel::DelayedWork &w);

	/* remoteproc_trace.cpp */
	void setup_traces();
	void snapshot_traces();
	void free_traces();
};

} // namespace rproc

#endif
