import CLibevent

#if canImport(Glibc)
import Glibc
#endif

/// The single C trampoline through which libevent calls back into Swift: the event's argument
/// is an unretained `LibeventEvent`; the event owns a +1 on itself until `free()`. After each
/// callback the reactor runs the jobs that arrived meanwhile (see `Reactor.afterCallback`).
private let libeventTrampoline: @convention(c) (Int32, Int16, UnsafeMutableRawPointer?) -> Void = { fd, what, arg in
    guard let arg else { return }
    let event = Unmanaged<LibeventEvent>.fromOpaque(arg).takeUnretainedValue()
    event.reactor.callbackStarting()
    // A one-shot event is no longer pending once it fired: the reactor's count says so first.
    if !event.persistent { event.didFireOnce() }
    event.handler(fd, LibeventEvent.Readiness(rawValue: what))
    event.reactor.afterCallback()
}

/// One libevent `struct event` on a reactor's base: an fd watcher, a timer, or a manually
/// activated event. Loop-bound: create, arm, disarm and free it on the reactor's thread only.
/// Internal: the modules above see `FDWatcher`, `LoopTimer` and `DeferredJob`.
///
/// The event keeps itself alive (one `Unmanaged` retain passed to libevent as the callback
/// argument) from creation until `free()`, so libevent never calls back into freed memory.
/// Every armed event is counted in the reactor's `eventsRegistered` counter.
final class LibeventEvent {
    typealias Readiness = EventReactor.Readiness

    fileprivate let handler: (Int32, Readiness) -> Void
    fileprivate unowned let reactor: Reactor
    fileprivate let persistent: Bool
    private var raw: OpaquePointer?
    private var armed = false

    /// Creates (but does not arm) an event. Pass `fd: -1` for a pure timer.
    /// - Parameters:
    ///   - reactor: the loop the event belongs to; call on its thread.
    ///   - fd: the descriptor watched, or -1 for a timer.
    ///   - interest: `.read` and/or `.write`; empty for a timer.
    ///   - persistent: stays armed after firing (`EV_PERSIST`).
    ///   - handler: runs on the reactor thread with the fd and what happened.
    /// The corresponding C function is `event_new`.
    init(
        reactor: Reactor, fd: Int32, interest: Readiness, persistent: Bool,
        handler: @escaping (Int32, Readiness) -> Void
    ) {
        reactor.assertInLoop()
        self.reactor = reactor
        self.handler = handler
        self.persistent = persistent
        var flags = interest.rawValue
        if persistent { flags |= Int16(EV_PERSIST) }
        let context = Unmanaged.passRetained(self).toOpaque()
        guard let event = event_new(reactor.base.pointer, fd, flags, libeventTrampoline, context) else {
            Unmanaged<LibeventEvent>.fromOpaque(context).release()
            fatalError("event_new failed: out of memory")
        }
        raw = event
    }

    /// Arms the event, optionally with a timeout in nanoseconds. Re-arming an armed event
    /// replaces its timeout. The corresponding C function is `event_add`.
    func arm(timeoutNanos: UInt64? = nil) {
        reactor.assertInLoop()
        guard let raw else { preconditionFailure("arm after free") }
        let rc: Int32
        if let timeoutNanos {
            var tv = timeval(tv_sec: Int(timeoutNanos / 1_000_000_000),
                             tv_usec: Int((timeoutNanos % 1_000_000_000) / 1000))
            rc = event_add(raw, &tv)
        } else {
            rc = event_add(raw, nil)
        }
        precondition(rc == 0, "event_add failed")
        if !armed {
            armed = true
            reactor.counters.eventArmed()
        }
    }

    /// Makes the event active now, as if it had fired, without a system call.
    /// The corresponding C function is `event_active`.
    func activate(_ readiness: Readiness = .read) {
        reactor.assertInLoop()
        guard let raw else { preconditionFailure("activate after free") }
        event_active(raw, Int32(readiness.rawValue), 0)
    }

    /// Removes the event from the loop (idempotent). The corresponding C function is `event_del`.
    func disarm() {
        reactor.assertInLoop()
        guard let raw, armed else { return }
        event_del(raw)
        armed = false
        reactor.counters.eventDisarmed()
    }

    /// Notes that a non-persistent event fired and is no longer pending, so that the reactor's count
    /// stays exact; the trampoline calls it before a one-shot event's handler.
    func didFireOnce() {
        if armed {
            armed = false
            reactor.counters.eventDisarmed()
        }
    }

    /// Whether the event is armed.
    var isArmed: Bool { armed }

    /// Disarms and frees the event, and drops the retain libevent held (idempotent). Safe to
    /// call from inside the event's own handler. The corresponding C function is `event_free`.
    func free() {
        reactor.assertInLoop()
        guard let event = raw else { return }
        disarm()
        event_free(event)
        raw = nil
        Unmanaged.passUnretained(self).release()
    }
}
