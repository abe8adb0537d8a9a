import FlexLBAPI

/// Private keys in instance configurations: stored, never returned, kept across a modify that omits them.
///
/// A client that reads an instance (list, get, any write's answer) gets its configuration without
/// `server_key` and `client_key`; sending that configuration back keeps the stored keys, matched by
/// frontend port (frontend TLS) and by frontend port and server name (backend TLS).
enum InstanceSecrets {
    /// `config` without private keys.
    static func redacted(_ config: InstanceConfig) -> InstanceConfig {
        var config = config
        for e in config.endpoints.indices {
            config.endpoints[e].frontendSslOptions?.serverKey = nil
            for s in config.endpoints[e].backendServers.indices {
                config.endpoints[e].backendServers[s].checkSslOptions?.clientKey = nil
            }
        }
        return config
    }

    /// `config` with every omitted key taken from `stored`; a key that is neither given nor stored is a violation.
    static func merged(_ config: InstanceConfig, stored: InstanceConfig?) -> (InstanceConfig, [Violation]) {
        var config = config
        var violations: [Violation] = []
        let storedEndpoints = Dictionary((stored?.endpoints ?? []).map { ($0.frontendPort, $0) }, uniquingKeysWith: { first, _ in first })
        for e in config.endpoints.indices {
            let endpoint = config.endpoints[e]
            let previous = storedEndpoints[endpoint.frontendPort]
            if endpoint.frontendSslOptions != nil, endpoint.frontendSslOptions?.serverKey == nil {
                if let key = previous?.frontendSslOptions?.serverKey {
                    config.endpoints[e].frontendSslOptions?.serverKey = key
                } else {
                    violations.append(Violation(path: "$.endpoints[\(e)].frontend_ssl_options.server_key", message: "is required (no stored key for frontend port \(endpoint.frontendPort))"))
                }
            }
            for s in endpoint.backendServers.indices {
                let server = endpoint.backendServers[s]
                guard server.checkSslOptions != nil, server.checkSslOptions?.clientKey == nil else { continue }
                if let key = previous?.backendServers.first(where: { $0.name == server.name })?.checkSslOptions?.clientKey {
                    config.endpoints[e].backendServers[s].checkSslOptions?.clientKey = key
                } else {
                    violations.append(Violation(path: "$.endpoints[\(e)].backend_servers[\(s)].check_ssl_options.client_key", message: "is required (no stored key for server \(server.name))"))
                }
            }
        }
        return (config, violations)
    }
}
