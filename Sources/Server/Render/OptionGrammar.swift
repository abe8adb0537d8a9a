import FlexLBAPI

/// The argument shapes the option allowlist accepts, and a parser for "keyword args… keyword args…"
/// sequences. Pure; used by ``OptionAllowlist``.
enum ArgumentShape: Sendable {
    /// A decimal integer in a range.
    case int(ClosedRange<Int>)
    /// An HAProxy time: digits with an optional unit (`us`, `ms`, `s`, `m`, `h`, `d`).
    case time
    /// One of a fixed set of words.
    case oneOf(Set<String>)
    /// An IPv4 or IPv6 address literal (no `unix@`, no host name).
    case ipAddress
    /// A TCP port, 1...65535.
    case port
    /// A DNS host name.
    case hostname
    /// A short identifier.
    case identifier
    /// A comma-separated ALPN protocol list such as `h2,http/1.1`.
    case alpnList
    /// An OpenSSL cipher list or curve list; weak suites can only be excluded.
    case cipherList
    /// `TLSv1.2` or `TLSv1.3`: minimum and maximum versions cannot go below TLS 1.2.
    case tlsVersion
    /// Free text (a check string, a comment): any token the lexical check accepted.
    case text
    /// Even-length hexadecimal.
    case hex
    /// HTTP status codes and ranges: `200`, `200-399`, `200,301`.
    case statusList
    /// The SNI to send to a server: `str(<host name>)`, `ssl_fc_sni` or `req.hdr(host)`.
    case sniExpression
    /// A request URI path: starts with `/`.
    case uri
    /// An HTTP method in capitals.
    case method
    /// An HTTP version: `HTTP/1.0`, `HTTP/1.1`, `HTTP/2`, `HTTP/2.0`.
    case httpVersion
    /// An HTTP header name.
    case headerName
    /// An IP network: an address with an optional `/prefix`.
    case network

    var summary: String {
        switch self {
        case .int(let range): "an integer in \(range.lowerBound)...\(range.upperBound)"
        case .time: "a time such as 2s or 500ms"
        case .oneOf(let words): "one of \(words.sorted().joined(separator: ", "))"
        case .ipAddress: "an IP address"
        case .port: "a port in 1...65535"
        case .hostname: "a host name"
        case .identifier: "a name of A-Z a-z 0-9 . _ -"
        case .alpnList: "a comma-separated ALPN list such as h2,http/1.1"
        case .cipherList: "a cipher list (weak suites may only be excluded with ! or -)"
        case .tlsVersion: "TLSv1.2 or TLSv1.3"
        case .text: "text"
        case .hex: "an even number of hexadecimal digits"
        case .statusList: "status codes such as 200 or 200-399"
        case .sniExpression: "str(<host name>), ssl_fc_sni or req.hdr(host)"
        case .uri: "a path starting with /"
        case .method: "an HTTP method in capitals"
        case .httpVersion: "HTTP/1.0, HTTP/1.1 or HTTP/2"
        case .headerName: "a header name"
        case .network: "an IP address or network"
        }
    }

    func accepts(_ token: String) -> Bool {
        let bytes = Array(token.utf8)
        guard !bytes.isEmpty else { return false }
        switch self {
        case .int(let range):
            guard bytes.count <= 10, let value = Int(token) else { return false }
            return range.contains(value)
        case .time:
            let digits = bytes.prefix { $0 >= 0x30 && $0 <= 0x39 }
            guard !digits.isEmpty, digits.count <= 9 else { return false }
            let unit = String(decoding: bytes.dropFirst(digits.count), as: UTF8.self)
            return ["", "us", "ms", "s", "m", "h", "d"].contains(unit)
        case .oneOf(let words):
            return words.contains(token)
        case .ipAddress:
            return bytes.count <= 45 && Checks.isIPAddress(token)
        case .port:
            guard bytes.count <= 5, let value = Int(token) else { return false }
            return (1...65535).contains(value)
        case .hostname:
            return Self.isHostname(token)
        case .identifier:
            return bytes.count <= 64 && bytes.allSatisfy(Self.isIdentifierByte)
        case .alpnList:
            return bytes.count <= 128 && token.split(separator: ",", omittingEmptySubsequences: false).allSatisfy { part in
                !part.isEmpty && part.utf8.allSatisfy { Self.isIdentifierByte($0) || $0 == UInt8(ascii: "/") }
            }
        case .cipherList:
            return Self.isSafeCipherList(token)
        case .tlsVersion:
            return token == "TLSv1.2" || token == "TLSv1.3"
        case .text:
            return bytes.count <= 512
        case .hex:
            return bytes.count <= 1024 && bytes.count % 2 == 0 && bytes.allSatisfy(Self.isHexByte)
        case .statusList:
            return bytes.count <= 128 && token.split(separator: ",", omittingEmptySubsequences: false).allSatisfy { item in
                let ends = item.split(separator: "-", omittingEmptySubsequences: false)
                return (1...2).contains(ends.count) && ends.allSatisfy { $0.count == 3 && $0.allSatisfy(\.isASCII) && Int($0) != nil }
            }
        case .sniExpression:
            if token == "ssl_fc_sni" || token == "req.hdr(host)" { return true }
            guard token.hasPrefix("str("), token.hasSuffix(")") else { return false }
            return Self.isHostname(String(token.dropFirst(4).dropLast()))
        case .uri:
            return bytes.first == UInt8(ascii: "/") && bytes.count <= 512
        case .method:
            return bytes.count <= 16 && bytes.allSatisfy { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
        case .httpVersion:
            return ["HTTP/1.0", "HTTP/1.1", "HTTP/2", "HTTP/2.0"].contains(token)
        case .headerName:
            return bytes.count <= 64 && bytes.allSatisfy { Self.isIdentifierByte($0) }
        case .network:
            let parts = token.split(separator: "/", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), ArgumentShape.ipAddress.accepts(String(parts[0])) else { return false }
            if parts.count == 2 {
                guard let prefix = Int(parts[1]), (0...128).contains(prefix), parts[1].count <= 3 else { return false }
            }
            return true
        }
    }

    static func isIdentifierByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }

    static func isHexByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "A")...UInt8(ascii: "F"): true
        default: false
        }
    }

    static func isHostname(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        return value.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && label.first != "-" && label.last != "-"
                && label.utf8.allSatisfy { isIdentifierByte($0) && $0 != UInt8(ascii: ".") && $0 != UInt8(ascii: "_") }
        }
    }

    /// Cipher strings may name strong suites freely; anything weak may appear only negated.
    static func isSafeCipherList(_ value: String) -> Bool {
        guard value.utf8.count <= 512 else { return false }
        let weak = ["NULL", "EXP", "RC4", "DES", "MD5", "ANON", "ADH", "AECDH", "PSK", "SRP", "LOW", "ALL", "COMPLEMENTOF", "SSLV3"]
        for element in value.split(whereSeparator: { $0 == ":" || $0 == "," || $0 == " " }) {
            guard element.utf8.allSatisfy({ isIdentifierByte($0) || [UInt8(ascii: "+"), UInt8(ascii: "!"), UInt8(ascii: "@"), UInt8(ascii: "=")].contains($0) }) else {
                return false
            }
            if element.hasPrefix("!") || element.hasPrefix("-") { continue }
            if element.hasPrefix("@") {
                // @SECLEVEL=n may only raise the level.
                guard element.hasPrefix("@SECLEVEL="), let level = Int(element.dropFirst(10)), level >= 2 else { return false }
                continue
            }
            let upper = element.uppercased()
            if weak.contains(where: { upper.contains($0) }) { return false }
        }
        return true
    }
}

/// A "keyword args…" grammar: each keyword takes a fixed list of argument shapes.
struct KeywordTable: Sendable {
    /// What the keywords are options of, for messages ("bind option", "server option").
    let kind: String
    let keywords: [String: [ArgumentShape]]

    /// Parses `tokens[from...]` as a sequence of keywords with their arguments.
    func parse(_ tokens: ArraySlice<String>, at path: String) throws(RenderError) {
        var index = tokens.startIndex
        while index < tokens.endIndex {
            let keyword = tokens[index]
            guard let shapes = keywords[keyword] else {
                throw RenderError(.invalidValue, at: path, OptionAllowlist.refusal(keyword, kind: kind))
            }
            index += 1
            for shape in shapes {
                guard index < tokens.endIndex else {
                    throw RenderError(.invalidValue, at: path, "'\(keyword)' needs \(shape.summary)")
                }
                try OptionAllowlist.argument(tokens[index], of: keyword, shape: shape, at: path)
                index += 1
            }
        }
    }
}
