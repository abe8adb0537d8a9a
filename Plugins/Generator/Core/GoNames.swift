/// Go naming rules, in one place.
///
/// - Exported identifiers: MixedCaps of the words of the JSON name (split on `_`, `-`, `.`, `/` and
///   spaces), with Go's initialisms upper-cased (`frontend_ipaddress` → `FrontendIPAddress`,
///   `ca_cert` → `CACert`, `http-check` → `HTTPCheck`); an existing capital run is kept
///   (`FrontendSSLOptions`, `getOpenAPI` → `GetOpenAPI`).
/// - Nested enums: owner type + property (`Endpoint.mode` → `EndpointMode`); constants: type + value
///   (`EndpointModeTCP`).
/// - Locals and parameters: the exported name with its leading capital run lower-cased
///   (`IfMatch` → `ifMatch`, `ID` → `id`); Go keywords get a `Value` suffix.
enum GoNames {
    static let initialisms: [String: String] = [
        "api": "API", "ca": "CA", "etag": "ETag", "http": "HTTP", "https": "HTTPS", "id": "ID", "ids": "IDs", "ip": "IP",
        "ipaddress": "IPAddress", "ipv4": "IPv4", "ipv6": "IPv6", "json": "JSON", "ok": "OK", "openapi": "OpenAPI",
        "pem": "PEM", "ssl": "SSL", "tcp": "TCP", "tls": "TLS", "udp": "UDP", "uri": "URI", "url": "URL",
        "vip": "VIP", "vrrp": "VRRP", "yaml": "YAML",
    ]

    static let keywords: Set<String> = [
        "break", "case", "chan", "const", "continue", "default", "defer", "else", "fallthrough", "for", "func",
        "go", "goto", "if", "import", "interface", "map", "package", "range", "return", "select", "struct",
        "switch", "type", "var",
    ]

    static func exported(_ s: String) -> String {
        var name = Names.words(s).map { initialisms[$0.lowercased()] ?? Names.upperFirst($0) }.joined()
        if let c = name.first, !c.isLetter { name = "X" + name }
        return name.isEmpty ? "X" : name
    }

    static func local(_ s: String) -> String {
        let e = Array(exported(s))
        var upperRun = 0
        while upperRun < e.count, e[upperRun].isUppercase { upperRun += 1 }
        // `IPAddress` → `ipAddress`: the capital that starts the next word stays.
        let lowerCount = upperRun == e.count || upperRun <= 1 ? upperRun : upperRun - 1
        let name = String(e.prefix(lowerCount)).lowercased() + String(e.dropFirst(lowerCount))
        return keywords.contains(name) ? name + "Value" : name
    }
}

/// Go source text helpers.
enum Go {
    /// An interpreted Go string literal holding `s` exactly.
    static func literal(_ s: String) -> String {
        quotedLiteral(s) { value in
            let hex = String(value, radix: 16)
            return "\\x" + (hex.count == 1 ? "0" + hex : hex)
        }
    }

    /// A raw string literal when `s` allows one (regular expressions read better raw).
    static func rawLiteral(_ s: String) -> String {
        if s.contains("`") || s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) { return literal(s) }
        return "`" + s + "`"
    }

    static func literal(_ value: IRLiteral, enumType: String?) -> String {
        switch value {
        case .string(let s): literal(s)
        case .integer(let i): String(i)
        case .bool(let b): String(b)
        case .double(let d): String(d)
        case .enumCase(let c): (enumType ?? "") + c
        }
    }
}

/// A tiny indenting text builder for Go (tabs, `//` comments).
struct GoWriter {
    private(set) var text = ""
    private var level = 0

    mutating func line(_ s: String = "") {
        text += s.isEmpty ? "\n" : String(repeating: "\t", count: level) + s + "\n"
    }

    /// A comment block; blank lines inside become `//` lines.
    mutating func comment(_ s: String?) {
        guard let s else { return }
        var previousEmpty = true
        for l in s.split(separator: "\n", omittingEmptySubsequences: false).map({ String($0) }).trimmingTrailingEmpty() {
            let trimmed = l.replacingTrailingWhitespace()
            // gofmt keeps one empty comment line between paragraphs, none first.
            if trimmed.isEmpty && previousEmpty { continue }
            previousEmpty = trimmed.isEmpty
            line(trimmed.isEmpty ? "//" : "// " + trimmed)
        }
    }

    mutating func block(_ opener: String, close: String = "}", _ body: (inout GoWriter) -> Void) {
        line(opener + " {")
        level += 1
        body(&self)
        level -= 1
        line(close)
    }
}
