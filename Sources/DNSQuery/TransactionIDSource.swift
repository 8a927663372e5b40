import LinuxSystem

/// DNS transaction ids from the kernel CSPRNG (`getrandom`), fetched 4 KiB at a time so that one
/// system call serves 2,048 ids. Loop-owned (one per engine shard).
///
/// Unpredictable ids (with random source ports) are what keeps an off-path attacker from
/// spoofing an answer (RFC 5452).
final class TransactionIDSource {
    private static let poolSize = 2048
    /// A reference with its pool in raw memory, so drawing an id is two loads and a store, with no
    /// exclusivity check on the shard's property or copy-on-write check on an array.
    private let pool = UnsafeMutablePointer<UInt16>.allocate(capacity: poolSize)
    private var next = poolSize

    deinit { pool.deallocate() }

    /// The next random 16-bit value.
    func draw() -> UInt16 {
        if next == Self.poolSize { refill() }
        let value = pool[next]
        next += 1
        return value
    }

    /// 64 random bits (for 0x20 case masks).
    func draw64() -> UInt64 {
        var value: UInt64 = 0
        for _ in 0..<4 { value = value << 16 | UInt64(draw()) }
        return value
    }

    private func refill() {
        let bytes = Self.poolSize * MemoryLayout<UInt16>.stride
        if !ProcessCalls.fillRandom(UnsafeMutableRawBufferPointer(start: pool, count: bytes)) {
            // getrandom cannot fail on Linux ≥ 3.17 once the pool is seeded; fall back to the
            // standard library's generator, which is getrandom-backed as well.
            var generator = SystemRandomNumberGenerator()
            for index in 0..<Self.poolSize { pool[index] = generator.next() }
        }
        next = 0
    }
}
