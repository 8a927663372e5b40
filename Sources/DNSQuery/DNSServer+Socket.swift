import LinuxSystem

extension DNSServer {
    /// A non-blocking, close-on-exec socket `connect()`ed to this server (`Socket.connected`): UDP
    /// from a kernel-chosen random port, or TCP (the connect may still be in progress). Asks for
    /// `receiveBuffer`/`sendBuffer` bytes of socket buffer when not 0. The one way the DNS engine
    /// and the floor engine open a socket to a server.
    /// - Throws: `SystemError` of `socket` or `connect`; no fd is left open.
    package func connectedSocket(stream: Bool, receiveBuffer: Int, sendBuffer: Int = 0) throws(SystemError) -> Int32 {
        try Socket.connected(ipv6: isIPv6, stream: stream, receiveBuffer: receiveBuffer, sendBuffer: sendBuffer) {
            body in withSockaddr(body)
        }
    }
}
