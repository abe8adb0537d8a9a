import NIOCore

/// A gossip peer address: `IPv4:port` or `[IPv6]:port`, parsed strictly.
///
/// Host names are refused on purpose: resolving them would block an event loop or the cooperative
/// pool on every send, and a name that resolves differently on two nodes makes membership flap.
/// Resolve names once, when reading the configuration.
public struct GossipAddress: Sendable, Hashable, CustomStringConvertible {
    /// The IP address as written, without brackets.
    public let host: String
    /// The port, 1...65535.
    public let port: Int
    let socketAddress: SocketAddress

    /// Parses `"10.0.0.1:7946"` or `"[fd00::1]:7946"`.
    /// - Throws: ``GossipError/Code/invalidAddress`` naming what is wrong.
    public init(_ text: String) throws(GossipError) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw GossipError(.invalidAddress, "address '\(text)' opens '[' without closing it")
            }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else {
                throw GossipError(.invalidAddress, "address '\(text)' has no ':port' after ']'")
            }
            portText = rest.dropFirst()
            guard host.contains(":") else {
                throw GossipError(.invalidAddress, "address '\(text)' has brackets around something that is not an IPv6 address")
            }
        } else {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw GossipError(
                    .invalidAddress,
                    parts.count > 2
                        ? "address '\(text)' looks like a bare IPv6 address; write it as [address]:port"
                        : "address '\(text)' has no ':port'"
                )
            }
            host = parts[0]
            portText = parts[1]
        }
        guard portText.count <= 5, !portText.isEmpty, portText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let port = Int(portText), (1...65535).contains(port)
        else {
            throw GossipError(.invalidAddress, "address '\(text)' has an invalid port (expected 1...65535)")
        }
        guard !host.isEmpty, let socketAddress = try? SocketAddress(ipAddress: String(host), port: port) else {
            throw GossipError(.invalidAddress, "address '\(text)' does not hold an IP address (host names are not accepted)")
        }
        self.host = String(host)
        self.port = port
        self.socketAddress = socketAddress
    }

    /// `host:port`, with brackets around an IPv6 host.
    public var description: String { Self.format(host: host, port: port) }

    static func format(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// How a remote socket address appears in logs, stats and the `from` of a datagram or request.
    static func describe(_ address: SocketAddress?) -> String {
        guard let address, let ip = address.ipAddress, let port = address.port else { return "unknown" }
        return format(host: ip, port: port)
    }
}
