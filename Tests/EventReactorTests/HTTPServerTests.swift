import EventReactor
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `HTTPServer`: libevent's evhttp on a reactor, answering over real TCP on 127.0.0.1.
@Suite struct HTTPServerTests {
    /// Sends `request` to 127.0.0.1:`port` and reads until the server closes: the raw response.
    private func exchange(_ request: String, port: UInt16) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(connected == 0)
        let bytes = Array(request.utf8)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &chunk, chunk.count, 0)
            if count <= 0 { break }
            response += chunk[..<count]
        }
        return String(decoding: response, as: UTF8.self)
    }

    @Test func answersEachRequestOnTheReactorThreadWithTheHandlersStatusTypeAndBody() throws {
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        let server = try HTTPServer(reactor: reactor, host: "127.0.0.1", port: 0) { request in
            #expect(reactor.inLoop)
            return request.path == "/metrics"
                ? .init(status: 200, contentType: "text/plain; version=0.0.4", body: Array("up 1\n".utf8))
                : .init(status: 404, body: Array("no\n".utf8))
        }
        defer { server.close() }
        #expect(server.port != 0)
        let found = try exchange("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", port: server.port)
        #expect(found.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(found.contains("Content-Type: text/plain; version=0.0.4\r\n"))
        #expect(found.hasSuffix("\r\n\r\nup 1\n"))
        let missing = try exchange("GET /other HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", port: server.port)
        #expect(missing.hasPrefix("HTTP/1.1 404 "))
        // Only GET and HEAD are allowed: libevent answers the rest 501 before the handler runs.
        let post = try exchange("POST /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", port: server.port)
        #expect(post.hasPrefix("HTTP/1.1 501 "))
        // Garbage is libevent's parser's to refuse: a 400 or a closed connection, never the handler.
        let garbage = try exchange("\u{1}\u{2} nonsense\r\n\r\n", port: server.port)
        #expect(garbage.isEmpty || garbage.hasPrefix("HTTP/1.1 400 "))
    }

    @Test func aHeldPortOrANameInsteadOfAnAddressIsAnErrorAndCloseIsIdempotent() throws {
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        let first = try HTTPServer(reactor: reactor, host: "127.0.0.1", port: 0) { _ in .init(status: 200, body: []) }
        #expect(throws: ReactorError.self) {
            try HTTPServer(reactor: reactor, host: "127.0.0.1", port: first.port) { _ in .init(status: 200, body: []) }
        }
        #expect(throws: ReactorError.self) {
            try HTTPServer(reactor: reactor, host: "localhost", port: 0) { _ in .init(status: 200, body: []) }
        }
        first.close()
        first.close()
        // The port is free again once closed.
        let again = try HTTPServer(reactor: reactor, host: "127.0.0.1", port: first.port) { _ in .init(status: 200, body: []) }
        again.close()
    }
}
