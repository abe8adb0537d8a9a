import FlexLBAPI

/// The address family of a checked IP address.
enum AddressFamily: Sendable {
    case ipv4
    case ipv6
}

/// Re-validation of every value before it is written into a configuration.
///
/// The API has checked these values already; the renderer checks them again because a configuration
/// line is a security boundary: no user string may open a new directive, section or comment.
enum InputCheck {
    /// Keywords that make HAProxy read a file: the renderer manages TLS files itself, and user options
    /// must not point HAProxy (running as root) at arbitrary files on the node.
    static let fileKeywords: Set<String> = [
        "crt", "crt-list", "ca-file", "crl-file", "ca-verify-file", "ca-sign-file", "issuers-chain-path",
    ]

    /// `^[A-Za-z0-9._-]{1,maxLength}$`, and not `.` or `..` (names become path components).
    static func name(_ value: String, maxLength: Int = 32, at path: String) throws(RenderError) {
        let bytes = Array(value.utf8)
        guard !bytes.isEmpty, bytes.count <= maxLength else {
            throw RenderError(.invalidValue, at: path, "must be 1 to \(maxLength) characters")
        }
        for byte in bytes where !isNameByte(byte) {
            throw RenderError(.invalidValue, at: path, "may contain only A-Z a-z 0-9 . _ - (found \(describe(byte)))")
        }
        if bytes.allSatisfy({ $0 == UInt8(ascii: ".") }) {
            throw RenderError(.invalidValue, at: path, "must not consist of dots only")
        }
    }

    /// An IPv4 or IPv6 address without zone or whitespace; returns its family.
    @discardableResult
    static func ipAddress(_ value: String, at path: String) throws(RenderError) -> AddressFamily {
        guard value.utf8.count <= 45, Checks.isIPAddress(value) else {
            throw RenderError(.invalidValue, at: path, "must be an IPv4 or IPv6 address")
        }
        return value.utf8.contains(UInt8(ascii: ":")) ? .ipv6 : .ipv4
    }

    /// A TCP/UDP port, 1...65535.
    static func port(_ value: Int, at path: String) throws(RenderError) {
        guard (1...65535).contains(value) else {
            throw RenderError(.invalidValue, at: path, "must be in 1...65535")
        }
    }

    /// An absolute path made of `A-Z a-z 0-9 . _ - /` only, at most 255 bytes.
    static func absolutePath(_ value: String, at path: String) throws(RenderError) {
        let bytes = Array(value.utf8)
        guard bytes.first == UInt8(ascii: "/"), bytes.count <= 255 else {
            throw RenderError(.invalidValue, at: path, "must be an absolute path of at most 255 bytes")
        }
        for byte in bytes where !(isNameByte(byte) || byte == UInt8(ascii: "/")) {
            throw RenderError(.invalidValue, at: path, "may contain only A-Z a-z 0-9 . _ - / (found \(describe(byte)))")
        }
        if value.split(separator: "/").contains("..") {
            throw RenderError(.invalidValue, at: path, "must not contain '..'")
        }
    }

    /// A user string rendered as the arguments of one HAProxy directive.
    ///
    /// Rules: printable ASCII (0x20–0x7E) only, so no line break, NUL or tab; no `#` anywhere (HAProxy
    /// starts a comment there); quotes balanced; no backslash escape that HAProxy turns into a control
    /// character (`\x`, `\r`, `\n`, `\t`) and no trailing backslash; no `$` inside double quotes
    /// (HAProxy would expand an environment variable of the daemon there); and when
    /// `allowFileKeywords` is false, no argument naming a file keyword (`crt`, `ca-file`, …).
    @discardableResult
    static func optionLine(_ value: String, at path: String, allowFileKeywords: Bool = false) throws(RenderError) -> [String] {
        let bytes = Array(value.utf8)
        guard bytes.count <= 1024 else {
            throw RenderError(.invalidValue, at: path, "must be at most 1024 characters")
        }
        var tokens: [String] = []
        var token: [UInt8] = []
        var inToken = false
        var quote: UInt8? = nil
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard (0x20...0x7E).contains(byte) else {
                throw RenderError(.invalidValue, at: path, "must be one line of printable ASCII (found \(describe(byte)) at offset \(index))")
            }
            if byte == UInt8(ascii: "#") {
                throw RenderError(.invalidValue, at: path, "must not contain '#' (HAProxy starts a comment there)")
            }
            if quote == UInt8(ascii: "'") {
                if byte == UInt8(ascii: "'") { quote = nil } else { token.append(byte) }
                index += 1
                continue
            }
            switch byte {
            case UInt8(ascii: "\\"):
                guard index + 1 < bytes.count else {
                    throw RenderError(.invalidValue, at: path, "must not end with a backslash")
                }
                let next = bytes[index + 1]
                // The escaped byte passes the same checks as any other: `\#` and a backslash before a
                // control character must not slip a comment or a line break through.
                guard (0x20...0x7E).contains(next) else {
                    throw RenderError(.invalidValue, at: path, "must be one line of printable ASCII (found \(describe(next)) at offset \(index + 1))")
                }
                if next == UInt8(ascii: "#") {
                    throw RenderError(.invalidValue, at: path, "must not contain '#' (HAProxy starts a comment there)")
                }
                if [UInt8(ascii: "x"), UInt8(ascii: "r"), UInt8(ascii: "n"), UInt8(ascii: "t")].contains(next | 0x20) {
                    throw RenderError(.invalidValue, at: path, "must not contain the escape '\\\(Character(Unicode.Scalar(next)))' (it yields a control character)")
                }
                token.append(next)
                inToken = true
                index += 2
                continue
            case UInt8(ascii: "$") where quote == UInt8(ascii: "\""):
                throw RenderError(.invalidValue, at: path, "must not contain '$' inside double quotes (HAProxy expands environment variables there)")
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                if quote == nil { quote = byte } else if quote == byte { quote = nil } else { token.append(byte) }
                inToken = true
            case UInt8(ascii: " ") where quote == nil:
                if inToken { tokens.append(String(decoding: token, as: UTF8.self)) }
                token.removeAll()
                inToken = false
            default:
                token.append(byte)
                inToken = true
            }
            index += 1
        }
        if quote != nil {
            throw RenderError(.invalidValue, at: path, "has an unmatched quote")
        }
        if inToken { tokens.append(String(decoding: token, as: UTF8.self)) }
        if !allowFileKeywords, let keyword = tokens.first(where: { fileKeywords.contains($0) }) {
            throw RenderError(.invalidValue, at: path, "must not use '\(keyword)': FlexLB writes TLS files itself (use the *_ssl_options fields)")
        }
        return tokens
    }

    /// The `balance` algorithm: an option line that starts with a lower-case algorithm name.
    static func balance(_ value: String, at path: String) throws(RenderError) {
        try optionLine(value, at: path)
        guard let first = value.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) else {
            throw RenderError(.invalidValue, at: path, "must start with an algorithm name such as roundrobin")
        }
    }

    /// PEM text destined for a file: printable ASCII and line breaks only, starting with a BEGIN line.
    /// Returns the text with a final newline.
    static func pem(_ value: String, at path: String) throws(RenderError) -> String {
        guard value.utf8.count <= 65536 else {
            throw RenderError(.invalidValue, at: path, "must be at most 65536 bytes")
        }
        for byte in value.utf8 where !((0x20...0x7E).contains(byte) || byte == 0x0A || byte == 0x0D) {
            throw RenderError(.invalidValue, at: path, "must be PEM text (found \(describe(byte)))")
        }
        guard value.hasPrefix("-----BEGIN "), value.contains("-----END ") else {
            throw RenderError(.invalidValue, at: path, "must be one or more PEM blocks")
        }
        return value.hasSuffix("\n") ? value : value + "\n"
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }

    private static func describe(_ byte: UInt8) -> String {
        if (0x21...0x7E).contains(byte) { return "'\(Character(Unicode.Scalar(byte)))'" }
        let hex = String(byte, radix: 16, uppercase: true)
        return "byte 0x\(hex.count == 1 ? "0" + hex : hex)"
    }
}
