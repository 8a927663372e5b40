/// The start-of-authority fields (RFC 1035 3.3.13).
public struct DNSSOA: Hashable, Sendable {
    /// The primary name server.
    public var mname: DNSName
    /// The responsible mailbox, as a name.
    public var rname: DNSName
    /// The zone serial.
    public var serial: UInt32
    /// Secondary refresh interval, seconds.
    public var refresh: UInt32
    /// Secondary retry interval, seconds.
    public var retry: UInt32
    /// Secondary expiry, seconds.
    public var expire: UInt32
    /// Negative-caching TTL (RFC 2308), seconds.
    public var minimum: UInt32

    /// Creates the SOA fields.
    public init(mname: DNSName, rname: DNSName, serial: UInt32, refresh: UInt32, retry: UInt32,
                expire: UInt32, minimum: UInt32) {
        self.mname = mname
        self.rname = rname
        self.serial = serial
        self.refresh = refresh
        self.retry = retry
        self.expire = expire
        self.minimum = minimum
    }
}
