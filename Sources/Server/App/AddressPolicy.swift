import FlexLBAPI
import FlexLBRender
#if canImport(Glibc)
import Glibc
#endif

/// What a VIP, a backend and a health-check target may be (`address_policy` in the node's
/// configuration). Pure: the node's facts (its interfaces and addresses, the members' addresses, the
/// VIPs FlexLB itself manages) are passed in.
///
/// By default a VIP may not be unspecified, loopback, multicast, broadcast, link-local, an address of
/// this node or of another member; a backend or check target may not be unspecified, multicast,
/// loopback or link-local (169.254.169.254 included). Loopback and link-local can be allowed, and VIPs
/// can be confined to ranges per interface.
public struct AddressPolicy: Sendable, Equatable {
    /// Allow VIPs in 127.0.0.0/8 and ::1, and the interface `lo` (`address_policy.allow_loopback_vips`).
    public var allowLoopbackVIPs = false
    /// Allow loopback backends and check targets (`address_policy.allow_loopback_backends`).
    public var allowLoopbackBackends = false
    /// Allow link-local backends and check targets (`address_policy.allow_link_local_backends`).
    public var allowLinkLocalBackends = false
    /// Refuse interfaces this node does not have (`address_policy.check_interfaces`; default: on when
    /// the data plane is enabled, since only then does this node carry VIPs).
    public var checkInterfaces: Bool?
    /// When an interface has ranges, its VIPs must lie in one of them (`address_policy.vip_ranges`).
    public var vipRanges: [String: [IPNetwork]] = [:]

    public init() {}

    /// What the policy compares against.
    struct NodeFacts: Sendable {
        /// Whether this node has an interface of that name.
        var hasInterface: @Sendable (String) -> Bool
        /// This node's own addresses (canonical), VIPs it manages excluded.
        var ownAddresses: Set<String>
        /// Other members' addresses (canonical).
        var memberAddresses: Set<String>
    }

    func violations(of config: InstanceConfig, facts: NodeFacts, dataPlaneEnabled: Bool) -> [Violation] {
        var found: [Violation] = []
        let interface = config.frontendInterface
        if interface.allSatisfy({ $0 == "." }) {
            found.append(Violation(path: "$.frontend_interface", message: "'\(interface)' is not an interface name"))
        } else if interface == "lo" && !allowLoopbackVIPs {
            found.append(Violation(path: "$.frontend_interface", message: "the loopback interface cannot carry a VIP (address_policy.allow_loopback_vips)"))
        } else if checkInterfaces ?? dataPlaneEnabled, !facts.hasInterface(interface) {
            found.append(Violation(path: "$.frontend_interface", message: "this node has no interface \(interface)"))
        }
        if let vip = IPAddressBytes(config.frontendIpaddress) {
            let canonical = IPAddressText(config.frontendIpaddress)?.canonical ?? config.frontendIpaddress
            let rule: String? =
                if vip.isUnspecified { "must not be the unspecified address" }
                else if vip.isMulticast || vip.isBroadcast { "must not be a multicast or broadcast address" }
                else if vip.isLinkLocal { "must not be a link-local address" }
                else if vip.isLoopback && !allowLoopbackVIPs { "must not be a loopback address (address_policy.allow_loopback_vips)" }
                else if facts.ownAddresses.contains(canonical) { "must not be an address of this node (deleting the instance would remove it)" }
                else if facts.memberAddresses.contains(canonical) { "must not be an address of another cluster member" }
                else if let ranges = vipRanges[interface], !ranges.contains(where: { $0.contains(vip) }) {
                    "must lie in a range allowed on \(interface): \(ranges.map(\.description).joined(separator: ", ")) (address_policy.vip_ranges)"
                } else { nil }
            if let rule { found.append(Violation(path: "$.frontend_ipaddress", message: rule)) }
        }
        for (e, endpoint) in config.endpoints.enumerated() {
            for (s, server) in endpoint.backendServers.enumerated() {
                let at = "$.endpoints[\(e)].backend_servers[\(s)]"
                if let rule = backendRule(server.ipaddress) {
                    found.append(Violation(path: "\(at).ipaddress", message: rule))
                }
                for target in OptionAllowlist.connectTargets(server.options, field: .server) {
                    if let rule = backendRule(target) {
                        found.append(Violation(path: "\(at).options", message: "check target \(target) \(rule)"))
                    }
                }
            }
            for (c, command) in (endpoint.backendCheckCommands?.commands ?? []).enumerated() {
                for target in OptionAllowlist.connectTargets(command, field: endpoint.backendCheckCommands?.checkType == .httpCheck ? .httpCheck : .tcpCheck) {
                    if let rule = backendRule(target) {
                        found.append(Violation(path: "$.endpoints[\(e)].backend_check_commands.commands[\(c)]", message: "check target \(target) \(rule)"))
                    }
                }
            }
            for target in OptionAllowlist.connectTargets(endpoint.backendDefaultServer, field: .server) {
                if let rule = backendRule(target) {
                    found.append(Violation(path: "$.endpoints[\(e)].backend_default_server", message: "check target \(target) \(rule)"))
                }
            }
        }
        return found
    }

    /// Why `address` may not be a backend or check target, or nil.
    func backendRule(_ address: String) -> String? {
        guard let ip = IPAddressBytes(address) else { return nil }
        if ip.isUnspecified { return "must not be the unspecified address" }
        if ip.isMulticast || ip.isBroadcast { return "must not be a multicast or broadcast address" }
        if ip.isLoopback && !allowLoopbackBackends { return "must not be a loopback address (address_policy.allow_loopback_backends)" }
        if ip.isLinkLocal && !allowLinkLocalBackends {
            return "must not be a link-local address such as the cloud metadata service (address_policy.allow_link_local_backends)"
        }
        return nil
    }
}

/// An IP network `address/prefix`.
public struct IPNetwork: Sendable, Equatable, CustomStringConvertible {
    let address: IPAddressBytes
    let prefix: Int

    /// Parses `10.0.0.0/24` or `fd00::/64`; nil when malformed.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddressBytes(String(parts[0])), let prefix = Int(parts[1]),
              prefix >= 0, prefix <= address.bytes.count * 8 else { return nil }
        self.address = address
        self.prefix = prefix
    }

    func contains(_ ip: IPAddressBytes) -> Bool {
        guard ip.bytes.count == address.bytes.count else { return false }
        var remaining = prefix
        for (a, b) in zip(address.bytes, ip.bytes) where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if a & mask != b & mask { return false }
            remaining -= bits
        }
        return true
    }

    public var description: String { "\(address.text)/\(prefix)" }
}

/// An IP address as bytes (4 or 16; IPv4-mapped IPv6 is taken as IPv4).
struct IPAddressBytes: Sendable, Equatable {
    let bytes: [UInt8]
    let text: String

    init?(_ text: String) {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: v4) { Array($0) }
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            let all = withUnsafeBytes(of: v6) { Array($0) }
            bytes = all.prefix(10).allSatisfy { $0 == 0 } && all[10] == 0xFF && all[11] == 0xFF ? Array(all.suffix(4)) : all
        } else {
            return nil
        }
        self.text = text
    }

    var isV4: Bool { bytes.count == 4 }
    var isUnspecified: Bool { bytes.allSatisfy { $0 == 0 } || (isV4 && bytes[0] == 0) }
    var isLoopback: Bool { isV4 ? bytes[0] == 127 : bytes.dropLast().allSatisfy { $0 == 0 } && bytes[15] == 1 }
    var isMulticast: Bool { isV4 ? (224...239).contains(bytes[0]) : bytes[0] == 0xFF }
    var isBroadcast: Bool { isV4 && bytes.allSatisfy { $0 == 0xFF } }
    var isLinkLocal: Bool { isV4 ? bytes[0] == 169 && bytes[1] == 254 : bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 }
}
