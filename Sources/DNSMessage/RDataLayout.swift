/// How the RDATA of a type is laid out, field by field: what lets the parser find (and decompress)
/// the names inside the RDATA of types it keeps as bytes, and the printer show those bytes as dig
/// does. Types without a layout are shown as RFC 3597 generic data.
struct RDataLayout {
    /// One field of RDATA.
    enum Field {
        /// Unsigned integers, printed in decimal.
        case u8, u16, u32
        /// A domain name. Read through compression pointers wherever it sits: RFC 3597 section 4
        /// lets receivers meet compression in NS, MD, MF, CNAME, SOA, MB, MG, MR, PTR, MINFO, MX and
        /// asks them to decompress RP, AFSDB, RT, SIG, PX, NXT, NAPTR and SRV too; for the later
        /// types that forbid it (RRSIG, NSEC, KX, DNAME, …) a compressed name is read all the same.
        case name
        /// A character-string (length byte, bytes), printed quoted.
        case string
        /// Character-strings up to the end, at least one.
        case strings
        /// An IPv4 address.
        case ipv4
        /// The rest as base64 (DNSKEY's key, RRSIG's signature), one word.
        case base64
        /// The rest as upper-case hex (DS's digest), one word; at least one byte.
        case hex
        /// A length byte and that many bytes, as hex; `-` when empty (NSEC3's salt).
        case salt
        /// A length byte and that many bytes, as base32hex (NSEC3's next hashed owner).
        case base32
        /// The rest: an RFC 4034 section 4.1.2 type bitmap, printed as type names.
        case typeBitmap
        /// A 16-bit type, printed as its name.
        case type
        /// A 32-bit time in seconds since 1970, printed `YYYYMMDDHHmmSS` in UTC.
        case time
        /// The rest as one quoted string (URI's target).
        case text
        /// 6 or 8 bytes as `xx-xx-…` (EUI48, EUI64).
        case eui48, eui64
        /// 8 bytes as four hex groups `x:x:x:x` (NID, L64).
        case locator64
        /// The whole RDATA of LOC (RFC 1876).
        case location
        /// The rest: SVCB/HTTPS parameters (RFC 9460).
        case serviceParameters
    }

    let fields: [Field]

    /// Whether a field is a name: such a type's RDATA is walked and its names decompressed on read.
    var hasNames: Bool { fields.contains { if case .name = $0 { true } else { false } } }

    private init(_ fields: Field...) { self.fields = fields }

    /// The layout of `type`, or nil when it is printed as generic data. A, AAAA, CNAME, NS, PTR, MX,
    /// TXT, SRV, SOA and CAA are decoded into their own `DNSRecordData` cases and need none.
    static func of(_ type: DNSType) -> RDataLayout? { table[type.rawValue] }

    private static let table: [UInt16: RDataLayout] = {
        let key = RDataLayout(.u16, .u8, .u8, .base64)
        let digest = RDataLayout(.u16, .u8, .u8, .hex)
        let signature = RDataLayout(.type, .u8, .u8, .u32, .time, .time, .u16, .name, .base64)
        let oneName = RDataLayout(.name)
        let twoNames = RDataLayout(.name, .name)
        let preferenceName = RDataLayout(.u16, .name)
        let strings = RDataLayout(.strings)
        let certificate = RDataLayout(.u8, .u8, .u8, .hex)
        let service = RDataLayout(.u16, .name, .serviceParameters)
        return [
            3: oneName, 4: oneName, 7: oneName, 8: oneName, 9: oneName,  // MD MF MB MG MR
            13: RDataLayout(.string, .string),  // HINFO
            14: twoNames,  // MINFO
            17: twoNames,  // RP
            18: preferenceName,  // AFSDB
            19: RDataLayout(.string),  // X25
            20: strings,  // ISDN
            21: preferenceName,  // RT
            23: oneName,  // NSAP-PTR
            24: signature,  // SIG
            25: key,  // KEY
            26: RDataLayout(.u16, .name, .name),  // PX
            27: RDataLayout(.string, .string, .string),  // GPOS
            29: RDataLayout(.location),  // LOC
            30: RDataLayout(.name, .hex),  // NXT (its old bitmap printed as hex)
            35: RDataLayout(.u16, .u16, .string, .string, .string, .name),  // NAPTR
            36: preferenceName,  // KX
            39: oneName,  // DNAME
            43: digest,  // DS
            44: RDataLayout(.u8, .u8, .hex),  // SSHFP
            46: signature,  // RRSIG
            47: RDataLayout(.name, .typeBitmap),  // NSEC
            48: key,  // DNSKEY
            49: RDataLayout(.base64),  // DHCID
            50: RDataLayout(.u8, .u8, .u16, .salt, .base32, .typeBitmap),  // NSEC3
            51: RDataLayout(.u8, .u8, .u16, .salt),  // NSEC3PARAM
            52: certificate,  // TLSA
            53: certificate,  // SMIMEA
            57: key,  // RKEY
            58: twoNames,  // TALINK
            59: digest,  // CDS
            60: key,  // CDNSKEY
            61: RDataLayout(.base64),  // OPENPGPKEY
            62: RDataLayout(.u32, .u16, .typeBitmap),  // CSYNC
            63: RDataLayout(.u32, .u8, .u8, .hex),  // ZONEMD
            64: service, 65: service,  // SVCB HTTPS
            66: RDataLayout(.type, .u8, .u16, .name),  // DSYNC
            99: strings,  // SPF
            104: RDataLayout(.u16, .locator64),  // NID
            105: RDataLayout(.u16, .ipv4),  // L32
            106: RDataLayout(.u16, .locator64),  // L64
            107: preferenceName,  // LP
            108: RDataLayout(.eui48),  // EUI48
            109: RDataLayout(.eui64),  // EUI64
            256: RDataLayout(.u16, .u16, .text),  // URI
            258: strings,  // AVC
            261: strings,  // RESINFO
            262: strings,  // WALLET
            32768: digest,  // TA
            32769: digest,  // DLV
        ]
    }()
}
