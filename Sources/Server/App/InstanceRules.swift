import FlexLBAPI
import FlexLBStore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Rules that span several fields and so cannot be written in openapi.yaml. The generated code has
/// already checked every per-field constraint when these run.
enum InstanceRules {
    /// Every cross-field violation of `config`, with JSON paths.
    static func violations(of config: InstanceConfig) -> [Violation] {
        var found: [Violation] = []
        if let address = IPAddressText(config.frontendIpaddress), address.isIPv4, config.frontendNetPrefix > 32 {
            found.append(Violation(path: "$.frontend_net_prefix", message: "must be <= 32 for an IPv4 address"))
        }
        var ports: [Int: Int] = [:]
        for (i, endpoint) in config.endpoints.enumerated() {
            let port = Int(endpoint.frontendPort)
            if let first = ports[port] {
                found.append(Violation(
                    path: "$.endpoints[\(i)].frontend_port",
                    message: "port \(port) is already used by $.endpoints[\(first)]"
                ))
            } else {
                ports[port] = i
            }
            if endpoint.mode == .udp {
                found.append(Violation(
                    path: "$.endpoints[\(i)].mode",
                    message: "udp is not supported: HAProxy cannot proxy UDP; use tcp or http"
                ))
            }
            var names: [String: Int] = [:]
            for (k, server) in endpoint.backendServers.enumerated() {
                if let first = names[server.name] {
                    found.append(Violation(
                        path: "$.endpoints[\(i)].backend_servers[\(k)].name",
                        message: "name \(server.name) is already used by $.endpoints[\(i)].backend_servers[\(first)]"
                    ))
                } else {
                    names[server.name] = k
                }
            }
        }
        return found
    }

    /// Which instances may share a VRRP instance (and so a VRID): same interface, same address family.
    static func vrrpGroup(of config: InstanceConfig) -> String {
        let family = IPAddressText(config.frontendIpaddress)?.isIPv4 == false ? "v6" : "v4"
        return "\(config.frontendInterface)/\(family)"
    }

    /// The VIP:port pairs the instance listens on, with the VIP in canonical form so that
    /// `2001:db8::1` and `2001:DB8:0::1` collide.
    static func listeners(of config: InstanceConfig) -> Set<ListenerKey> {
        let address = IPAddressText(config.frontendIpaddress)?.canonical ?? config.frontendIpaddress
        return Set(config.endpoints.map { ListenerKey(address: address, port: Int($0.frontendPort)) })
    }
}

/// An IP address parsed by the C library (no zone, no whitespace), with its canonical text.
struct IPAddressText: Sendable, Hashable {
    let isIPv4: Bool
    let canonical: String

    init?(_ text: String) {
        var v4 = in_addr()
        var v6 = in6_addr()
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        if inet_pton(AF_INET, text, &v4) == 1 {
            guard inet_ntop(AF_INET, &v4, &buffer, socklen_t(buffer.count)) != nil else { return nil }
            isIPv4 = true
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            guard inet_ntop(AF_INET6, &v6, &buffer, socklen_t(buffer.count)) != nil else { return nil }
            isIPv4 = false
        } else {
            return nil
        }
        canonical = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
