import LinuxSystem

extension DNSServer {
    /// A non-blocking, close-on-exec socket `connect()`ed to this server (`Socket.connected`): UDP
    /// from a kernel-chosen random port, or TCP (the connect may still be in progress). Asks for
    /// `receiveBuffer`/`sendBuffer` bytes of socket buffer when not 0; bound first to `source`
    /// (its port ignored: the kernel picks one) when given. The one way the DNS engine and the
    /// floor engine open a socket to a server.
    /// - Throws: `SystemError` of `socket`, `bind` or `connect`; no fd is left open.
    package func connectedSocket(stream: Bool, receiveBuffer: Int, sendBuffer: Int = 0,
                                 from source: DNSServer? = nil) throws(SystemError) -> Int32 {
        var local = source?.socketAddress
        local?.port = 0
        return try Socket.connected(ipv6: isIPv6, stream: stream, receiveBuffer: receiveBuffer, sendBuffer: sendBuffer,
                                    source: local) { body in withSockaddr(body) }
    }

    /// Binds a UDP socket to this address (port 0) once and closes it: whether this host has the
    /// address, to refuse a source address before any query is sent.
    /// - Throws: `SystemError` of `bind` (`Cannot assign requested address`).
    public func checkSourceAddress() throws(SystemError) {
        var local = socketAddress
        local.port = 0
        Socket.close(try Socket.bound(local, stream: false, reusePort: false))
    }
}
