import DNSMessage

/// What `/etc/resolv.conf` says, for the engine's defaults when no servers are given.
///
/// Understands `nameserver`, `search`, `domain` and `options` (`timeout:N`, `attempts:N`,
/// `rotate`, `ndots:N`) as resolv.conf(5) defines them, with glibc's defaults and caps
/// (timeout ≤ 30 s, attempts ≤ 5, ndots ≤ 15, at most 3 name servers); other lines and options
/// are ignored. Windows counterpart: the adapter's DNS server list that `DnsQueryEx` uses when
/// `pDnsServerList` is NULL.
public struct ResolvConf: Sendable, Equatable {
    /// The `nameserver` lines (at most 3, as glibc uses), port 53.
    public var servers: [DNSServer] = []
    /// The search list (`search`, or the `domain` line), without trailing dots.
    public var search: [String] = []
    /// `options ndots:N` (default 1): names with fewer dots are tried with the search list first.
    public var ndots = 1
    /// `options timeout:N` in seconds (default 5): the first attempt's wait.
    public var timeoutSeconds = 5
    /// `options attempts:N` (default 2): rounds over the server list.
    public var attempts = 2
    /// `options rotate`: spread queries over the servers instead of always starting at the first.
    public var rotate = false

    /// The defaults (no server: glibc then asks 127.0.0.1).
    public init() {}

    /// Parses resolv.conf text. Never fails: malformed lines are skipped, as the C resolver does.
    public init(parsing text: String) {
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.prefix { $0 != "#" && $0 != ";" }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let keyword = words.first else { continue }
            let arguments = words.dropFirst()
            switch keyword {
            case "nameserver":
                // An IPv6 scope (`fe80::1%eth0`) is dropped: link-local servers are not supported.
                // Bracketed: a nameserver line has no port, so `2001:db8::1:53` is an address.
                if let text = arguments.first, servers.count < 3,
                    let server = DNSServer("[\(text.split(separator: "%").first ?? text)]")
                {
                    servers.append(server)
                }
            case "search":
                search = arguments.map { String($0.hasSuffix(".") ? $0.dropLast() : $0) }
            case "domain":
                if let domain = arguments.first { search = [String(domain.hasSuffix(".") ? domain.dropLast() : domain)] }
            case "options":
                for option in arguments { apply(option: option) }
            default:
                continue
            }
        }
    }

    private mutating func apply(option: Substring) {
        let parts = option.split(separator: ":", maxSplits: 1)
        let value = parts.count == 2 ? Int(parts[1]) : nil
        switch parts[0] {
        case "timeout": if let value, value >= 1 { timeoutSeconds = min(value, 30) }
        case "attempts": if let value, value >= 1 { attempts = min(value, 5) }
        case "ndots": if let value, value >= 0 { ndots = min(value, 15) }
        case "rotate": rotate = true
        default: break
        }
    }

    /// Reads and parses a file (default `/etc/resolv.conf`); the defaults if it cannot be read.
    public static func load(path: String = "/etc/resolv.conf") -> ResolvConf {
        guard let text = readText(path) else { return ResolvConf() }
        return ResolvConf(parsing: text)
    }

    /// The names to try for a relative `name` (given as if absolute), in order (resolv.conf(5)):
    /// with at least `ndots` dots, the name as given first, then with each search domain; with
    /// fewer, each search domain first, then the name as given. Domains that make the name too
    /// long are skipped.
    public func candidates(for name: DNSName) -> [DNSName] {
        guard !search.isEmpty else { return [name] }
        let dots = max(name.labelCount - 1, 0)
        let expanded = search.compactMap { domain -> DNSName? in
            guard let suffix = try? DNSName(parsing: domain + ".") else { return nil }
            return name.appending(suffix)
        }
        return dots >= ndots ? [name] + expanded : expanded + [name]
    }
}

#if canImport(Glibc)
import Glibc
#endif

private func readText(_ path: String) -> String? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = fread(&chunk, 1, chunk.count, file)
        if n <= 0 { break }
        bytes.append(contentsOf: chunk.prefix(n))
        if bytes.count > 1 << 20 { break }
    }
    return String(decoding: bytes, as: UTF8.self)
}
