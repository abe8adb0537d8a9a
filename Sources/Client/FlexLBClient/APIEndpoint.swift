/// One flexlbd API address, `https://host:port`.
public struct APIEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// Host name or IP address (IPv6 without brackets).
    public let host: String
    /// TCP port.
    public let port: Int

    /// The default endpoint, `https://127.0.0.1:8443`.
    public static let `default` = APIEndpoint(host: "127.0.0.1", port: 8443)

    /// Creates an endpoint from its parts.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `https://host:port`, `https://[v6]:port`, or a bare `host:port` as FlexLB 0.4's
    /// `-host` flag took it. The port defaults to 8443; `http://` is refused because every
    /// listener requires mutual TLS.
    public init(parsing text: String) throws {
        var rest = Substring(text.trimmingWhitespace())
        if rest.hasPrefix("https://") {
            rest = rest.dropFirst("https://".count)
        } else if rest.contains("://") {
            throw FlexLBError(kind: .configuration, message: "endpoint \(text): only https:// is supported")
        }
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        let host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw FlexLBError(kind: .configuration, message: "endpoint \(text): missing ]")
            }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else {
                    throw FlexLBError(kind: .configuration, message: "endpoint \(text): expected :port after ]")
                }
                portText = after.dropFirst()
            }
        } else if let colon = rest.lastIndex(of: ":"), rest.firstIndex(of: ":") == colon {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            // No port, or an unbracketed IPv6 address.
            host = rest
        }
        guard !host.isEmpty, !host.contains("/") else {
            throw FlexLBError(kind: .configuration, message: "endpoint \(text): expected https://host:port")
        }
        var port = 8443
        if let portText {
            guard let parsed = Int(portText), (1...65535).contains(parsed) else {
                throw FlexLBError(kind: .configuration, message: "endpoint \(text): invalid port")
            }
            port = parsed
        }
        self.init(host: String(host), port: port)
    }

    /// `https://host:port`, with brackets around IPv6 addresses.
    public var url: String {
        host.contains(":") ? "https://[\(host)]:\(port)" : "https://\(host):\(port)"
    }

    public var description: String { url }
}

extension String {
    fileprivate func trimmingWhitespace() -> Substring {
        var s = Substring(self)
        while let first = s.first, first.isWhitespace { s = s.dropFirst() }
        while let last = s.last, last.isWhitespace { s = s.dropLast() }
        return s
    }
}
