/// An IPv4 address as a number, so that ranges can be walked.
public struct IPv4: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let value: UInt32

    public init(_ value: UInt32) { self.value = value }

    /// Parses dotted-quad text; nil for anything else (including IPv6).
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let byte = UInt8(part),
                part == "0" || !part.hasPrefix("0")
            else { return nil }
            value = value << 8 | UInt32(byte)
        }
        self.value = value
    }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }

    public static func < (a: IPv4, b: IPv4) -> Bool { a.value < b.value }
}

/// An IPv4 network, `10.0.0.0/24`.
public struct IPv4Network: Sendable, Hashable, CustomStringConvertible {
    public let address: IPv4
    public let prefix: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let address = IPv4(String(parts[0])), let prefix = Int(parts[1]), (0...32).contains(prefix) else {
            return nil
        }
        self.address = address
        self.prefix = prefix
    }

    private var mask: UInt32 { prefix == 0 ? 0 : UInt32.max << (32 - prefix) }

    public func contains(_ ip: IPv4) -> Bool { ip.value & mask == address.value & mask }

    public var description: String { "\(address)/\(prefix)" }
}

/// A FlexLBCluster pool, parsed and checked.
public struct AddressPool: Sendable, Hashable {
    public let cluster: String
    public let name: String
    public let interface: String
    public let netPrefix: Int
    public let start: IPv4
    public let end: IPv4
    public let backendNetwork: IPv4Network

    public init(cluster: String, name: String, interface: String, netPrefix: Int, start: IPv4, end: IPv4, backendNetwork: IPv4Network) {
        self.cluster = cluster
        self.name = name
        self.interface = interface
        self.netPrefix = netPrefix
        self.start = start
        self.end = end
        self.backendNetwork = backendNetwork
    }

    /// Whether `ip` is in `start...end` (both ends usable).
    public func contains(_ ip: IPv4) -> Bool { start <= ip && ip <= end }

    /// Number of addresses in the pool.
    public var size: Int { Int(end.value - start.value) + 1 }
}
