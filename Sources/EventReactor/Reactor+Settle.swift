extension Reactor {
    /// Waits until the callbacks libevent has queued on the loop so far have run, and those they
    /// queued in turn — a stream connection closed on the loop (`StreamConnection.close`) is
    /// finalized in two such passes, and counts as added events until then — so that an audit taken
    /// next sees the loop at rest. Any thread but the reactor's; returns at once when the loop has
    /// stopped.
    public func settle() {
        precondition(!inLoop, "settle from the loop would deadlock")
        let done = ResultBox<Bool>()
        execute { [unowned self] in
            guard inLoop else { return done.set(false) }  // run after the loop exited
            // Activated now, the job runs after every callback already active (FIFO, one priority);
            // activated again from there, after every callback those queued.
            let holder = JobHolder()
            holder.job = DeferredJob(reactor: self) {
                holder.passes += 1
                guard holder.passes == 2 else {
                    holder.job?.schedule()
                    return
                }
                holder.job?.free()
                holder.job = nil
                done.set(true)
            }
            holder.job?.schedule()
        }
        _ = done.wait()
    }
}

/// Holds a deferred job that frees itself on its second run.
private final class JobHolder {
    var job: DeferredJob?
    var passes = 0
}
