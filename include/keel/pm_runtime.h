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

/**
 * pm_runtime_resume() - resume @dev now, and its parent first
 * @dev: the device
 *
 * Runs the resume callback in the caller's context.
 *
 * Context: may sleep.
 * Return: 0 (also when already Active); -EACCES when runtime PM is
 * disabled and the device is not Active, -EINVAL after a recorded
 * callback error (runtime_error), -EBUSY when the parent could not be
 * resumed, or the callback's error.
 */
Result<void> pm_runtime_resume(Device &dev);
/**
 * pm_runtime_suspend() - suspend @dev now
 * @dev: the device
 *
 * Runs the suspend callback in the caller's context; on success the
 * parent's idle check is queued.
 *
 * Context: may sleep.
 * Return: 0 (also when already Suspended); -EAGAIN while the usage count
 * is positive, -EBUSY while children are Active (and not ignored),
 * -EACCES when runtime PM is disabled, -EINVAL after a recorded callback
 * error, or the callback's error (the device stays Active).
 */
Result<void> pm_runtime_suspend(Device &dev);
/**
 * pm_runtime_autosuspend() - suspend @dev once its autosuspend delay has
 * passed (Linux pm_runtime_autosuspend())
 * @dev: the device
 *
 * Before the delay has passed, arms the timer and returns.
 *
 * Context: may sleep.
 * Return: as pm_runtime_suspend(); -EAGAIN as well for a negative delay.
 */
Result<void> pm_runtime_autosuspend(Device &dev);
/**
 * pm_runtime_idle() - run @dev's idle check now: the idle callback, then an
 * (auto)suspend unless it objects
 * @dev: the device
 *
 * Context: may sleep.
 * Return: 0; -EAGAIN or -EBUSY when the device may not suspend (in use,
 * active children), -EACCES when disabled, or the idle callback's veto.
 */
Result<void> pm_runtime_idle(Device &dev);
/**
 * pm_request_resume() - queue an asynchronous resume of @dev
 * @dev: the device
 *
 * Context: any.
 * Return: 0 (queued, or already Active); -EACCES when disabled, -EINVAL
 * after a recorded callback error.
 */
Result<void> pm_request_resume(Device &dev);
/**
 * pm_request_idle() - queue an asynchronous idle check of @dev
 * @dev: the device
 *
 * Context: any.
 * Return: 0 when queued; -EAGAIN or -EBUSY when the device may not suspend
 * now, -EACCES when disabled.
 */
Result<void> pm_request_idle(Device &dev);
/**
 * pm_request_autosuspend() - queue an asynchronous autosuspend of @dev
 * @dev: the device
 *
 * Context: any.
 * Return: 0 when queued (or the timer armed); the errors of
 * pm_runtime_suspend() that are known without running the callback.
 */
Result<void> pm_request_autosuspend(Device &dev);

/**
 * pm_runtime_get() - take a usage reference and queue a resume
 * @dev: the device
 *
 * Context: any.
 * Return: as pm_request_resume(); the usage count stays raised either
 * way (drop it with a put).
 */
Result<void> pm_runtime_get(Device &dev);
/**
 * pm_runtime_get_sync() - take a usage reference and resume now
 * @dev: the device
 *
 * The count stays raised on error too (Linux): prefer
 * pm_runtime_resume_and_get().
 *
 * Context: may sleep.
 * Return: as pm_runtime_resume().
 */
Result<void> pm_runtime_get_sync(Device &dev);
/**
 * pm_runtime_resume_and_get() - pm_runtime_get_sync() that drops the usage
 * reference again on error
 * @dev: the device
 *
 * Context: may sleep.
 * Return: 0 with a usage reference held, or pm_runtime_resume()'s error
 * without one.
 */
Result<void> pm_runtime_resume_and_get(Device &dev);
/**
 * pm_runtime_get_noresume() - take a usage reference, nothing else
 * @dev: the device
 *
 * Context: any.
 */
void pm_runtime_get_noresume(Device &dev);

/**
 * pm_runtime_put() - drop a usage reference; at zero queue an idle check
 * @dev: the device
 *
 * Context: any.
 */
void pm_runtime_put(Device &dev);
/**
 * pm_runtime_put_sync() - drop a usage reference; at zero run the idle
 * check now
 * @dev: the device
 *
 * Context: may sleep.
 */
void pm_runtime_put_sync(Device &dev);
/**
 * pm_runtime_put_autosuspend() - drop a usage reference; at zero queue an
 * autosuspend
 * @dev: the device
 *
 * Context: any.
 */
void pm_runtime_put_autosuspend(Device &dev);
/**
 * pm_runtime_put_sync_autosuspend() - drop a usage reference; at zero
 * autosuspend now (or arm the timer)
 * @dev: the device
 *
 * Context: may sleep.
 */
void pm_runtime_put_sync_autosuspend(Device &dev);
/**
 * pm_runtime_put_noidle() - drop a usage reference, nothing else
 * @dev: the device
 *
 * Context: any.
 */
void pm_runtime_put_noidle(Device &dev);

/**
 * pm_runtime_enable() - undo one pm_runtime_disable()
 * @dev: the device
 *
 * Runtime PM acts once every disable is undone (a new device starts
 * disabled once). An unbalanced enable warns.
 *
 * Context: any.
 */
void pm_runtime_enable(Device &dev);
/**
 * pm_runtime_disable() - stop runtime PM for @dev (nests)
 * @dev: the device
 *
 * A pending resume request is honoured first; then pending requests are
 * cancelled and a running callback is waited for. The device keeps its
 * status.
 *
 * Context: may sleep.
 */
void pm_runtime_disable(Device &dev);
/**
 * pm_runtime_enabled() - is runtime PM enabled for @dev?
 * @dev: the device
 *
 * Context: any.
 * Return: true when every disable is undone.
 */
bool pm_runtime_enabled(Device &dev);
/**
 * pm_runtime_set_active() - declare @dev Active while runtime PM is disabled
 * @dev: the device
 *
 * Clears a recorded callback error; counts the device as an active child
 * of its parent. Typically in probe, before pm_runtime_enable().
 *
 * Context: any.
 * Return: 0; -EAGAIN while runtime PM is enabled, -EBUSY when the parent
 * is enabled, Suspended and does not ignore its children.
 */
Result<void> pm_runtime_set_active(Device &dev);
/**
 * pm_runtime_set_suspended() - declare @dev Suspended while runtime PM is
 * disabled
 * @dev: the device
 *
 * Clears a recorded callback error; the parent loses an active child and
 * gets an idle check.
 *
 * Context: any.
 * Return: 0, or -EAGAIN while runtime PM is enabled.
 */
Result<void> pm_runtime_set_suspended(Device &dev);
/**
 * pm_runtime_barrier() - flush @dev's runtime PM activity
 * @dev: the device
 *
 * Runs a pending resume, cancels the other pending requests and waits
 * for a running callback.
 *
 * Context: may sleep.
 */
void pm_runtime_barrier(Device &dev);

/**
 * pm_runtime_mark_last_busy() - note that @dev was just used
 * @dev: the device
 *
 * Pushes a pending autosuspend back by a full delay.
 *
 * Context: any.
 */
void pm_runtime_mark_last_busy(Device &dev);
/**
 * pm_runtime_set_use_autosuspend() - choose whether @dev's suspends wait
 * for the autosuspend delay (Linux __pm_runtime_use_autosuspend())
 * @dev: the device
 * @use: true: they wait; false: they are immediate again
 *
 * Context: any.
 */
void pm_runtime_set_use_autosuspend(Device &dev, bool use)
	KEEL_EXPORT_AS(keel_pm_runtime_set_use_autosuspend);
/**
 * pm_runtime_use_autosuspend() - make @dev's suspends wait for the
 * autosuspend delay
 * @dev: the device
 *
 * Context: any.
 */
inline void pm_runtime_use_autosuspend(Device &dev)
{
	pm_runtime_set_use_autosuspend(dev, true);
}
/**
 * pm_runtime_dont_use_autosuspend() - make @dev's suspends immediate again
 * @dev: the device
 *
 * Context: any.
 */
inline void pm_runtime_dont_use_autosuspend(Device &dev)
{
	pm_runtime_set_use_autosuspend(dev, false);
}
/**
 * pm_runtime_set_autosuspend_delay() - set @dev's autosuspend delay
 * @dev: the device
 * @delay_ms: the delay after the last busy mark; negative prevents
 *	autosuspend altogether
 *
 * Context: any.
 */
void pm_runtime_set_autosuspend_delay(Device &dev, int delay_ms)
	KEEL_EXPORT_AS(keel_pm_runtime_set_autosuspend_delay);
/**
 * pm_suspend_ignore_children() - let @dev suspend while children are Active
 * @dev: the device
 * @enable: true to ignore its children, false to count them again
 *
 * Context: any.
 */
void pm_suspend_ignore_children(Device &dev, bool enable);

/**
 * pm_runtime_status() - @dev's runtime PM status
 * @dev: the device
 *
 * Context: any.
 * Return: the status (stale as soon as read).
 */
RpmStatus pm_runtime_status(Device &dev);
/**
 * pm_runtime_active() - is @dev Active?
 * @dev: the device
 *
 * Context: any.
 * Return: true when Active.
 */
inline bool pm_runtime_active(Device &dev)
{
	return pm_runtime_status(dev) == RpmStatus::Active;
}
/**
 * pm_runtime_suspended() - is @dev Suspended?
 * @dev: the device
 *
 * Context: any.
 * Return: true when Suspended.
 */
inline bool pm_runtime_suspended(Device &dev)
{
	return pm_runtime_status(dev) == RpmStatus::Suspended;
}
/**
 * pm_runtime_usage_count() - @dev's usage count (tests and diagnostics)
 * @dev: the device
 *
 * Context: any.
 * Return: the count.
 */
inline int pm_runtime_usage_count(Device &dev)
{
	return dev.power().usage_count.load();
}
/**
 * pm_runtime_child_count() - @dev's count of Active children
 * @dev: the device
 *
 * Context: any.
 * Return: the count.
 */
inline int pm_runtime_child_count(Device &dev)
{
	return dev.power().child_count.load();
}

} // namespace keel

#endif
