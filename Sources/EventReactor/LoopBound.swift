/// A value that only one reactor's loop thread may touch: the rule "loop thread only" as a type
/// rather than a comment. Every access goes through `value`, which traps in debug builds when it
/// runs anywhere but on the owner's loop thread, or after that loop has stopped (then the thread
/// that saw it stop may finish up). In release builds the check and the reference to the reactor
/// are compiled out, so a `LoopBound` costs what its value costs.
///
/// It is `@unchecked Sendable` so that a Sendable object or closure may carry loop-bound state it
/// uses only on the loop (an engine's counters, a publisher's loop-side tally): that is sound
/// because no access bypasses `value`'s check. Like SwiftNIO's `NIOLoopBound`.
public struct LoopBound<Value>: @unchecked Sendable {
    #if DEBUG
    @usableFromInline unowned(unsafe) let owner: Reactor
    #endif
    @usableFromInline var storage: Value

    /// Binds `value` to `reactor`'s loop. Any thread (binding touches nothing on the loop).
    @inlinable
    public init(_ value: Value, reactor: Reactor) {
        #if DEBUG
        owner = reactor
        #endif
        storage = value
    }

    /// The value. The owner's loop thread only (or after its loop stopped); checked in debug builds.
    @inlinable
    public var value: Value {
        get {
            checkThread()
            return storage
        }
        _modify {
            checkThread()
            yield &storage
        }
    }

    /// The value without the thread check, where the loop cannot reach it whatever thread this is:
    /// in the deinit of the object that holds it (its last reference is gone, so the loop holds
    /// none). Anywhere else, `value`.
    @inlinable
    public var uncheckedValue: Value {
        get { storage }
        _modify { yield &storage }
    }

    @inlinable
    @inline(__always)
    func checkThread() {
        #if DEBUG
        assert(owner.inLoop || owner.hasStopped, "loop-bound state touched off its reactor's thread")
        #endif
    }
}
