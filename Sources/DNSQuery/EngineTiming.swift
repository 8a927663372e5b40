import LinuxSystem

/// The configuration's durations in nanoseconds, converted once when a shard is made: the loop reads
/// these on every start, send and timeout, where a `Duration` would cost a 128-bit division.
struct EngineTiming: Sendable {
    /// `Configuration.timeout`.
    let timeout: UInt64
    /// `Configuration.retransmitInterval`.
    let retransmit: UInt64
    /// `Configuration.maxRetransmitInterval`.
    let maxRetransmit: UInt64
    /// `Configuration.tcpTimeout`.
    let tcpTimeout: UInt64
    /// `Configuration.serverPenalty`.
    let serverPenalty: UInt64
    /// `Configuration.quarantine`.
    let quarantine: UInt64
    /// `Configuration.answeredQuarantine`.
    let answeredQuarantine: UInt64

    init(_ configuration: DNSQueryEngine.Configuration) {
        timeout = configuration.timeout.clampedNanoseconds
        retransmit = configuration.retransmitInterval.clampedNanoseconds
        maxRetransmit = configuration.maxRetransmitInterval.clampedNanoseconds
        tcpTimeout = configuration.tcpTimeout.clampedNanoseconds
        serverPenalty = configuration.serverPenalty.clampedNanoseconds
        quarantine = configuration.quarantine.clampedNanoseconds
        answeredQuarantine = configuration.answeredQuarantine.clampedNanoseconds
    }
}
