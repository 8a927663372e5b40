import CSystemShims

/// DNS transaction ids from the kernel CSPRNG (`getrandom`), fetched 4 KiB at a time so that one
/// system call serves 2,048 ids. Loop-owned (one per engine shard).
///
/// Unpredictable ids (with random source ports) are what keeps an off-path attacker from
/// spoofing an answer (RFC 5452).
struct TransactionIDSource {
    private var pool: [UInt16]
    private var next: Int

    init() {
        pool = [UInt16](repeating: 0, count: 2048)
        next = pool.count
    }

    /// The next random 16-bit value.
    mutating func draw() -> UInt16 {
        if next == pool.count { refill() }
        defer { next += 1 }
        return pool[next]
    }

    /// 64 random bits (for 0x20 case masks).
    mutating func draw64() -> UInt64 {
        var value: UInt64 = 0
        for _ in 0..<4 { value = value << 16 | UInt64(draw()) }
        return value
    }

    private mutating func refill() {
        let filled = pool.withUnsafeMutableBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = evq_getrandom(raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
        if !filled {
            // getrandom cannot fail on Linux ≥ 3.17 once the pool is seeded; fall back to the
            // standard library's generator, which is getrandom-backed as well.
            var generator = SystemRandomNumberGenerator()
            for index in pool.indices { pool[index] = generator.next() }
        }
        next = 0
    }
}
