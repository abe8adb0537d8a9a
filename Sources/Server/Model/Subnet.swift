#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IP prefix (`10.0.0.0/24`, `fd00::/64`) and membership tests, so a node can find each peer's
/// address on the network of a VIP from the addresses the peer published.
public struct Subnet: Sendable, Hashable {
    public let bytes: [UInt8]
    public let prefixLength: Int

    /// `address/prefix` or an address with an explicit prefix length.
    public init?(_ address: String, prefixLength: Int) {
        guard let bytes = Subnet.parse(address), (0...(bytes.count * 8)).contains(prefixLength) else { return nil }
        self.bytes = bytes
        self.prefixLength = prefixLength
    }

    /// `address/prefix` text as published by nodes.
    public init?(cidr: String) {
        let parts = cidr.split(separator: "/")
        guard parts.count == 2, let length = Int(parts[1]) else { return nil }
        self.init(String(parts[0]), prefixLength: length)
    }

    public var isIPv4: Bool { bytes.count == 4 }

    /// Whether `address` lies inside this prefix (same family).
    public func contains(_ address: String) -> Bool {
        guard let other = Subnet.parse(address), other.count == bytes.count else { return false }
        var remaining = prefixLength
        for (a, b) in zip(bytes, other) {
            guard remaining > 0 else { return true }
            let mask: UInt8 = remaining >= 8 ? 0xff : ~(0xff >> UInt8(remaining))
            if a & mask != b & mask { return false }
            remaining -= 8
        }
        return true
    }

    /// The address bytes, or nil when `text` is not an IPv4 or IPv6 address.
    public static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// The address part of `address/prefix` text.
    public static func address(ofCIDR cidr: String) -> String {
        String(cidr.split(separator: "/").first ?? Substring(cidr))
    }
}

/// Picks, for every member, the address VRRP should use to reach it for a VIP: the member's address
/// inside the VIP's prefix; failing that (a /32 VIP, say), its first address of the VIP's family on
/// the interface that carries the VIP.
public enum VRRPPeers {
    /// - Parameters:
    ///   - vip: the VIP and its prefix length as configured on the instance.
    ///   - interface: the instance's `frontend_interface`.
    ///   - members: every member's published addresses, by member name, then by interface name (`address/prefix`).
    ///   - vips: every VIP of every instance: a node may hold some of them right now, and a VIP is
    ///     never a node's own address.
    /// - Returns: member name → address, for members that have one.
    public static func addresses(
        vip: String, prefixLength: Int, interface: String, members: [String: [String: [String]]], vips: Set<String> = []
    ) -> [String: String] {
        guard let network = Subnet(vip, prefixLength: prefixLength) else { return [:] }
        let excluded = vips.union([vip])
        var result: [String: String] = [:]
        for (member, interfaces) in members {
            let all = interfaces.sorted { $0.key < $1.key }.flatMap(\.value).map(Subnet.address(ofCIDR:))
            if let inside = all.first(where: { network.contains($0) && !excluded.contains($0) }) {
                result[member] = inside
                continue
            }
            let family = (interfaces[interface] ?? []).map(Subnet.address(ofCIDR:)).filter {
                (Subnet.parse($0)?.count == 4) == network.isIPv4 && !excluded.contains($0)
            }
            if let first = family.first { result[member] = first }
        }
        return result
    }
}
