/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Runtime power management (Linux include/linux/pm_runtime.h,
 * drivers/base/power/runtime.c), with Linux's semantics unless noted.
 *
 * States (RpmStatus): Suspended -> Resuming -> Active -> Suspending ->
 * Suspended. A device starts Suspended with runtime PM disabled (depth 1);
 * a driver typically calls pm_runtime_set_active() then pm_runtime_enable()
 * in probe, and pm_runtime_disable() in remove.
 *
 *  - usage_count: pm_runtime_get*() increments, pm_runtime_put*() decrements;
 *    a device is not suspended while it is above 0 (-EAGAIN).
 *  - child_count: children in the Active state; a parent is not suspended
 *    while it is above 0 (-EBUSY) unless it ignores its children. Resuming
 *    a child resumes its parent first; a child that suspends lets its parent
 *    go idle (asynchronously, as Linux does).
 *  - disabled (depth > 0): callbacks never run; resume reports success only
 *    if the device is already Active (else -EACCES), suspend fails -EACCES.
 *  - autosuspend: with pm_runtime_use_autosuspend(), a suspend with RPM_AUTO
 *    semantics (pm_runtime_put_autosuspend(), idle) waits until last_busy +
 *    delay, on a timer; pm_runtime_mark_last_busy() pushes it back. A negative
 *    delay prevents autosuspend.
 *  - callbacks: the bus's DevPmOps if it has one, else the bound driver's
 *    (DriverAdapter: T::runtime_suspend/resume/idle). A missing callback
 *    succeeds (Linux fails it with -ENOSYS; a bus without PM needs none).
 *    A callback failing with an error other than -EAGAIN/-EBUSY is recorded
 *    as runtime_error and stops runtime PM until set_active/set_suspended.
 *  - sync calls may sleep (and call the callbacks in the caller's context);
 *    pm_runtime_get(), pm_runtime_put(), pm_runtime_put_autosuspend(),
 *    pm_request_*() and the *_noidle/_noresume ones are callable from any
 *    context and queue work.
 *
 * The integer returns of Linux become Result<void> (1 = "already in that
 * state" is success). The puts return nothing: their outcome is the state.
 */
#ifndef KEEL_PM_RUNTIME_H
#define KEEL_PM_RUNTIME_H

#include <keel/device.h>

namespace keel {

/* Context: may sleep. */
Result<void> pm_runtime_resume(Device &dev);
Result<void> pm_runtime_suspend(Device &dev);
Result<void> pm_runtime_autosuspend(Device &dev);
Result<void> pm_runtime_idle(Device &dev);
/* Asynchronous requests. Context: any. */
Result<void> pm_request_resume(Device &dev);
Result<void> pm_request_idle(Device &dev);
Result<void> pm_request_autosuspend(Device &dev);

/* Usage count +1 and resume (async / sync). get_sync keeps the count on error. */
Result<void> pm_runtime_get(Device &dev);
Result<void> pm_runtime_get_sync(Device &dev);
/* Like get_sync, but drops the count again on error. */
Result<void> pm_runtime_resume_and_get(Device &dev);
void pm_runtime_get_noresume(Device &dev);

/* Usage count -1; at 0: idle (async / sync), or autosuspend. */
void pm_runtime_put(Device &dev);
void pm_runtime_put_sync(Device &dev);
void pm_runtime_put_autosuspend(Device &dev);
void pm_runtime_put_sync_autosuspend(Device &dev);
void pm_runtime_put_noidle(Device &dev);

void pm_runtime_enable(Device &dev);
/* Cancels pending requests and waits for a running callback. Context: may sleep. */
void pm_runtime_disable(Device &dev);
bool pm_runtime_enabled(Device &dev);
/* Only while disabled (-EAGAIN otherwise); set_active fails -EBUSY under a suspended, enabled parent. */
Result<void> pm_runtime_set_active(Device &dev);
Result<void> pm_runtime_set_suspended(Device &dev);
/* Cancels pending requests, waits for running callbacks. Context: may sleep. */
void pm_runtime_barrier(Device &dev);

void pm_runtime_mark_last_busy(Device &dev);
void pm_runtime_use_autosuspend(Device &dev);
void pm_runtime_dont_use_autosuspend(Device &dev);
void pm_runtime_set_autosuspend_delay(Device &dev, int delay_ms)
	KEEL_EXPORT_AS(keel_pm_runtime_set_autosuspend_delay);
void pm_suspend_ignore_children(Device &dev, bool enable);

RpmStatus pm_runtime_status(Device &dev);
inline bool pm_runtime_active(Device &dev)
{
	return pm_runtime_status(dev) == RpmStatus::Active;
}
inline bool pm_runtime_suspended(Device &dev)
{
	return pm_runtime_status(dev) == RpmStatus::Suspended;
}
inline int pm_runtime_usage_count(Device &dev)
{
	return dev.power().usage_count.load();
}
inline int pm_runtime_child_count(Device &dev)
{
	return dev.power().child_count.load();
}

} // namespace keel

#endif
