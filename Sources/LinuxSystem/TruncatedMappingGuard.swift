import CSystemShims

/// Makes reading a mapped file window safe when the file is truncated under it: a page past the new
/// end raises SIGBUS, which would end the process (ripgrep's `--mmap` accepts that; a library on a
/// shared event loop cannot). The guard's SIGBUS handler maps a page of zeros over the faulting page
/// when the address lies in a window registered here, counts it (`zeroFills`) and returns, so the
/// read goes on and sees zeros; the reader then asks the file for its size (`fstat`) and drops what
/// lies past it. A SIGBUS at any other address goes to the handler that was installed before the
/// guard (the Swift runtime's backtracer, or the default action: the process stops).
///
/// The handler is C (`CSystemShims/mapping_guard.c`, async-signal-safe: atomics and `mmap` only),
/// installed once, by the first `register`. Up to `slotCount` windows can be registered at once (one
/// per mapped scanner); `register` returns `nil` when all are taken. Any thread.
/// The corresponding Windows mechanism is a structured exception handler around reads of a view
/// (`EXCEPTION_IN_PAGE_ERROR`).
public enum TruncatedMappingGuard {
    /// Windows that can be registered at the same time.
    public static let slotCount = Int(evq_mapguard_slot_count())

    /// Pages of zeros mapped so far over windows of truncated files (every window, every scanner): a
    /// reader that sees it change while it read a window checks the file's size.
    public static var zeroFills: Int { evq_mapguard_zero_fills() }

    /// Registers the mapped range `base..<base + length` (before any read of it).
    /// - Returns: the slot to pass to `unregister`, or `nil` when every slot is taken or the handler
    ///   could not be installed (then the range must not be read through the mapping).
    public static func register(_ base: UnsafeRawPointer, length: Int) -> Int? {
        guard length > 0 else { return nil }
        let slot = evq_mapguard_register(base, length)
        return slot >= 0 ? Int(slot) : nil
    }

    /// Frees `slot` (before the range is unmapped).
    public static func unregister(_ slot: Int) {
        evq_mapguard_unregister(Int32(slot))
    }

    /// Whether `address` lies in a registered range.
    public static func isRegistered(_ address: UInt) -> Bool {
        evq_mapguard_covers(UnsafeRawPointer(bitPattern: address)) != 0
    }
}
