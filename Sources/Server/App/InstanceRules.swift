import FlexLBAPI
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
