import EventReactor
import EvqueryTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `HTTPServer`: libevent's evhttp on a reactor, answering over real TCP on 127.0.0.1.
@Suite struct HTTPServerTests {
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
        let found = try Loopback.exchange("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", port: server.port)
        #expect(found.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(found.contains("Content-Type: text/plain; version=0.0.4\r\n"))
        #expect(found.hasSuffix("\r\n\r\nup 1\n"))
        let missing = try Loopback.exchange("GET /other HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", port: server.port)
        #expect(missing.hasPrefix("HTTP/1.1 404 "))
        // Only GET and HEAD are allowed: libevent answers the rest 501 before the handler runs.
        let post = try Loopback.exchange("POST /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", port: server.port)
        #expect(post.hasPrefix("HTTP/1.1 501 "))
        // Garbage is libevent's parser's to refuse: a 400 or a closed connection, never the handler.
        let garbage = try Loopback.exchange("\u{1}\u{2} nonsense\r\n\r\n", port: server.port)
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
