/// One EDNS option (RFC 6891), kept raw.
public struct DNSEDNSOption: Hashable, Sendable {
    /// The option code.
    public var code: UInt16
    /// The option data.
    public var data: [UInt8]
    /// Creates an option.
    public init(code: UInt16, data: [UInt8]) {
        self.code = code
        self.data = data
    }
}
