extension RFC3164Parser {
    /// The TAG of a line as a person reads it, from `start` (just after the HOSTNAME) to the message.
    ///
    /// Daemons write more than RFC 3164's `app[pid]:`. Read here: `app:`, `app[pid]:`, `app[pid]`
    /// without a colon, a bracket that holds no number (`app[worker]:`, no pid), punctuation in the
    /// name (`(sd-pam)[812]:`, `postfix/smtpd[9]:`, `org.gnome.Shell.desktop[5]:`), and a version
    /// after the name (`dhclient 4.4.3:`, `nginx 1.24.0[77]:`: the app is the name, the version is
    /// dropped). A first word that is none of these (`just some text`) is no tag: the message starts
    /// at `start` and the app is `nil`.
    static func tag(_ b: UnsafeBufferPointer<UInt8>, from start: Int)
        -> (app: Range<Int>?, pid: Int?, messageStart: Int)
    {
        let n = b.count
        let noTag = (app: Range<Int>?.none, pid: Int?.none, messageStart: start)
        let end = wordEnd(b, from: start)
        guard end > start else { return noTag }
        var after: Int
        if end < n, b[end] == UInt8(ascii: ":") {
            after = end + 1
        } else if b[end - 1] == UInt8(ascii: "]") {
            after = end
        } else if end < n, isVersion(b, from: end + 1) {
            // `name VERSION:` or `name VERSION[pid]` — the pid, if any, is in the version word.
            let versionEnd = wordEnd(b, from: end + 1)
            let colon = versionEnd < n && b[versionEnd] == UInt8(ascii: ":")
            guard colon || b[versionEnd - 1] == UInt8(ascii: "]") else { return noTag }
            let (_, pid) = splitPid(b, start: end + 1, end: versionEnd)
            after = colon ? versionEnd + 1 : versionEnd
            if after < n, b[after] == UInt8(ascii: " ") { after += 1 }
            return (start..<end, pid, after)
        } else {
            return noTag
        }
        let (name, pid) = splitPid(b, start: start, end: end)
        if after < n, b[after] == UInt8(ascii: " ") { after += 1 }
        return (name, pid, after)
    }

    /// The end of the word at `from`: the first space or colon (or the line's end).
    private static func wordEnd(_ b: UnsafeBufferPointer<UInt8>, from: Int) -> Int {
        var i = from
        while i < b.count, b[i] != UInt8(ascii: " "), b[i] != UInt8(ascii: ":") { i += 1 }
        return i
    }

    /// Whether a version number starts at `i`: a digit, or `v` and a digit.
    private static func isVersion(_ b: UnsafeBufferPointer<UInt8>, from i: Int) -> Bool {
        func digit(_ k: Int) -> Bool { k < b.count && (48...57).contains(b[k]) }
        return digit(i) || (i < b.count && b[i] == UInt8(ascii: "v") && digit(i + 1))
    }

    /// `name[pid]` into the name and the pid (nil when the bracket holds no number); a word with no
    /// bracket after its first byte is all name.
    private static func splitPid(_ b: UnsafeBufferPointer<UInt8>, start: Int, end: Int) -> (Range<Int>, Int?) {
        guard b[end - 1] == UInt8(ascii: "]") else { return (start..<end, nil) }
        var open = end - 2
        while open > start, b[open] != UInt8(ascii: "[") { open -= 1 }
        guard open > start, b[open] == UInt8(ascii: "[") else { return (start..<end, nil) }
        var value = 0
        let digits = end - 1 - (open + 1)
        guard (1...18).contains(digits) else { return (start..<open, nil) }
        for k in (open + 1)..<(end - 1) {
            guard (48...57).contains(b[k]) else { return (start..<open, nil) }
            value = value * 10 + Int(b[k] - 48)
        }
        return (start..<open, value)
    }
}
