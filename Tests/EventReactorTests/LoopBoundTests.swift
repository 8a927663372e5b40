import EventReactor
import Testing

/// `LoopBound`: its value is reachable on its reactor's loop, and (debug builds) touching it from
/// another thread while the loop runs traps rather than racing.
@Suite struct LoopBoundTests {
    @Test func aLoopBoundValueChangesOnItsLoopAndReadsBackThereAndAfterTheLoopStopped() throws {
        let reactor = try Reactor()
        let box = Locked(LoopBound(0, reactor: reactor))
        let read = reactor.syncOnLoop {
            box.withLock { $0.value += 41 }
            return box.withLock { $0.value + 1 }
        }
        #expect(read == 42)
        reactor.shutdown()
        #expect(box.withLock { $0.value } == 41)
    }

    #if DEBUG
    @Test func touchingALoopBoundValueOffItsLoopTrapsInDebugBuilds() async {
        await #expect(processExitsWith: .failure) {
            let reactor = try Reactor()
            let bound = LoopBound(0, reactor: reactor)
            _ = bound.value
        }
    }
    #endif
}
