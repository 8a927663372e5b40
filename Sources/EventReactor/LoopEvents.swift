import LinuxSystem

/// Watches an fd on a reactor's loop: its handler runs on the loop thread each time the fd is ready
/// for what it watches (level-triggered), until `disarm()` or `free()`. Loop-bound: create, arm,
/// disarm and free it on the reactor's thread. Armed, it counts in the reactor's registered
/// events (the exactly-once audit's "events back to baseline").
public final class FDWatcher {
    private let event: LibeventEvent

    /// A watcher of `fd` for `interest` (`.read` and/or `.write`), not yet armed.
    public init(reactor: Reactor, fd: Int32, interest: Readiness, handler: @escaping () -> Void) {
        event = LibeventEvent(reactor: reactor, fd: fd, interest: interest, persistent: true) { _, _ in handler() }
    }

    /// Starts watching (idempotent).
    public func arm() { event.arm() }

    /// Stops watching (idempotent); `arm()` starts again.
    public func disarm() { event.disarm() }

    /// Whether it is watching.
    public var isArmed: Bool { event.isArmed }

    /// Stops watching for good and releases the watcher's hold on its handler (idempotent; safe
    /// inside the handler). The fd is not closed.
    public func free() { event.free() }
}

/// A one-shot timer on a reactor's loop: after `arm(after:)`, its handler runs once on the loop
/// thread when the delay has passed, unless disarmed first. Loop-bound like `FDWatcher`; armed, it
/// counts in the reactor's registered events until it fires or is disarmed.
public final class LoopTimer {
    private let event: LibeventEvent

    /// A timer, not yet armed.
    public init(reactor: Reactor, handler: @escaping () -> Void) {
        event = LibeventEvent(reactor: reactor, fd: -1, interest: [], persistent: false) { _, _ in handler() }
    }

    /// Arms the timer to fire `delay` from now (a negative delay fires at the loop's next turn);
    /// arming an armed timer moves its deadline.
    public func arm(after delay: Duration) {
        event.arm(timeoutNanos: delay.clampedNanoseconds)
    }

    /// Disarms the timer (idempotent): its handler does not run.
    public func disarm() { event.disarm() }

    /// Whether it is armed and has not fired yet.
    public var isArmed: Bool { event.isArmed }

    /// Disarms the timer for good and releases its hold on the handler (idempotent; safe inside the
    /// handler).
    public func free() { event.free() }
}

/// A job run on a reactor's loop after the current callback, before the loop waits again:
/// `schedule()` from inside a loop callback batches work (several schedules, one run). Loop-bound
/// like `FDWatcher`; never counts as a registered event.
public final class DeferredJob {
    private let event: LibeventEvent

    /// A job, not yet scheduled.
    public init(reactor: Reactor, handler: @escaping () -> Void) {
        event = LibeventEvent(reactor: reactor, fd: -1, interest: [], persistent: false) { _, _ in handler() }
    }

    /// Runs the job once after the current callback (scheduling a scheduled job is a no-op). No
    /// system call.
    public func schedule() { event.activate() }

    /// Drops the job for good (idempotent; safe inside the job): a pending run does not happen.
    public func free() { event.free() }
}
