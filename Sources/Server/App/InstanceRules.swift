import FlexLBAPI
import FlexLBRender
import FlexLBStore

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
                // HAProxy's statistics name their summary rows FRONTEND and BACKEND: a server of that
                // name would be taken for one, and the instance's status would never be true.
                if ["FRONTEND", "BACKEND"].contains(server.name.uppercased()) {
                    found.append(Violation(
                        path: "$.endpoints[\(i)].backend_servers[\(k)].name",
                        message: "\(server.name) is reserved by HAProxy's statistics"
                    ))
                }
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
        // Option strings: an allowlist per field (they become configuration of a root process).
        found += OptionAllowlist.violations(of: config).map { Violation(path: $0.path, message: $0.message) }
        return found
    }

    /// Size limits of one instance (`limits.endpoints_per_instance`, `limits.servers_per_instance`).
    static func limitViolations(of config: InstanceConfig, limits: NodeConfiguration.Limits) -> [Violation] {
        var found: [Violation] = []
        if config.endpoints.count > limits.endpointsPerInstance {
            found.append(Violation(path: "$.endpoints", message: "has \(config.endpoints.count) endpoints; this node allows at most \(limits.endpointsPerInstance) per instance (limits.endpoints_per_instance)"))
        }
        let servers = config.endpoints.reduce(0) { $0 + $1.backendServers.count }
        if servers > limits.serversPerInstance {
            found.append(Violation(path: "$.endpoints", message: "has \(servers) backend servers; this node allows at most \(limits.serversPerInstance) per instance (limits.servers_per_instance)"))
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
