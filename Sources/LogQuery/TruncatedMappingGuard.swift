import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Makes reading a mapped file window safe when the file is truncated under it: a page past the new
/// end raises SIGBUS, which would end the process (ripgrep's `--mmap` accepts that; a library on a
/// shared event loop cannot). The guard's SIGBUS handler maps a page of zeros over the faulting page
/// when the address lies in a window registered here, counts it (`zeroFills`) and returns, so the
/// read goes on and sees zeros; the reader then asks the file for its size (`fstat`) and drops what
/// lies past it. A SIGBUS at any other address goes to the handler that was installed before the
/// guard (the Swift runtime's backtracer, or the default action: the process stops).
///
/// The handler is installed once, by the first `register`; it is async-signal-safe: it reads atomics
/// and calls `mmap` (a plain system call on Linux), nothing else. Up to `slotCount` windows can be
/// registered at once (one per mapped scanner); `register` returns `nil` when all are taken.
/// The corresponding Windows mechanism is a structured exception handler around reads of a view
/// (`EXCEPTION_IN_PAGE_ERROR`).
enum TruncatedMappingGuard {
    /// Windows that can be registered at the same time.
    static let slotCount = 64

    /// The registered address ranges (0 = a free slot) and the zero-page count, lock-free.
    private final class Table: Sendable {
        let starts: InlineArray<64, Atomic<UInt>> = InlineArray { _ in Atomic<UInt>(0) }
        let ends: InlineArray<64, Atomic<UInt>> = InlineArray { _ in Atomic<UInt>(0) }
        let zeroFills = Atomic<Int>(0)
    }

    private static let table = Table()
    private static let pageSize = UInt(sysconf(Int32(_SC_PAGESIZE)))
    /// The action before the guard's; written once, before the guard's handler is installed.
    nonisolated(unsafe) private static var previous = sigaction()
    private static let installed: Bool = install()

    /// Pages of zeros mapped so far over windows of truncated files (every window, every scanner): a
    /// reader that sees it change while it read a window checks the file's size.
    static var zeroFills: Int { table.zeroFills.load(ordering: .acquiring) }

    /// Registers the mapped range `base..<base + length` (before any read of it).
    /// - Returns: the slot to pass to `unregister`, or `nil` when every slot is taken or the handler
    ///   could not be installed (then the range must not be read through the mapping).
    static func register(_ base: UnsafeRawPointer, length: Int) -> Int? {
        guard installed, length > 0 else { return nil }
        let start = UInt(bitPattern: base)
        for slot in 0..<slotCount
        where table.starts[slot].compareExchange(expected: 0, desired: start, ordering: .acquiringAndReleasing)
            .exchanged
        {
            table.ends[slot].store(start + UInt(length), ordering: .releasing)
            return slot
        }
        return nil
    }

    /// Frees `slot` (before the range is unmapped).
    static func unregister(_ slot: Int) {
        table.ends[slot].store(0, ordering: .releasing)
        table.starts[slot].store(0, ordering: .releasing)
    }

    private static func install() -> Bool {
        // Everything the handler reads is initialised here, not lazily inside the handler.
        _ = table
        guard pageSize > 0 else { return false }
        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = handle
        action.sa_flags = SA_SIGINFO | Int32(SA_ONSTACK) | Int32(SA_NODEFER)
        sigemptyset(&action.sa_mask)
        return sigaction(SIGBUS, &action, &previous) == 0
    }

    /// Whether `address` lies in a registered range.
    static func isRegistered(_ address: UInt) -> Bool {
        for slot in 0..<slotCount {
            let start = table.starts[slot].load(ordering: .acquiring)
            guard start != 0, address >= start else { continue }
            if address < table.ends[slot].load(ordering: .acquiring) { return true }
        }
        return false
    }

    private static let handle: @convention(c) (Int32, UnsafeMutablePointer<siginfo_t>?, UnsafeMutableRawPointer?)
        -> Void = { signal, info, context in
            if let info {
                let address = UInt(bitPattern: info.pointee._sifields._sigfault.si_addr)
                if isRegistered(address) {
                    let page = UnsafeMutableRawPointer(bitPattern: address & ~(pageSize - 1))
                    let zeros = mmap(
                        page, Int(pageSize), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)
                    if zeros != MAP_FAILED {
                        table.zeroFills.add(1, ordering: .releasing)
                        return
                    }
                }
            }
            forward(signal, info, context)
        }

    /// Hands a SIGBUS that is not the guard's to the action before it. The default action (or an
    /// ignored SIGBUS, which the kernel does not honour for a fault) is restored, so that the access
    /// faults again when the handler returns and the process stops as it would have without the guard.
    private static func forward(
        _ signal: Int32, _ info: UnsafeMutablePointer<siginfo_t>?, _ context: UnsafeMutableRawPointer?
    ) {
        if previous.sa_flags & SA_SIGINFO != 0, let action = previous.__sigaction_handler.sa_sigaction {
            action(signal, info, context)
            return
        }
        let handler = previous.__sigaction_handler.sa_handler
        let raw = unsafeBitCast(handler, to: Int.self)
        if let handler, raw != 1 {  // neither SIG_DFL (nil) nor SIG_IGN (1)
            handler(signal)
            return
        }
        var fallback = sigaction()
        fallback.__sigaction_handler.sa_handler = nil
        sigemptyset(&fallback.sa_mask)
        sigaction(SIGBUS, &fallback, nil)
    }
}
