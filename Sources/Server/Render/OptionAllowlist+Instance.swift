import FlexLBAPI

extension OptionAllowlist {
    /// Every option string of `config` checked against its field's allowlist; empty when all pass.
    public static func violations(of config: InstanceConfig) -> [RenderError] {
        var found: [RenderError] = []
        for (e, endpoint) in config.endpoints.enumerated() {
            found += collect(of: endpoint, at: "$.endpoints[\(e)]")
        }
        return found
    }

    /// Throws the first violation of one endpoint (the renderer's defence in depth).
    static func checkOptions(of endpoint: Endpoint, at path: String) throws(RenderError) {
        if let first = collect(of: endpoint, at: path).first { throw first }
    }

    private static func collect(of endpoint: Endpoint, at path: String) -> [RenderError] {
        var checks: [(String, Field, String)] = [
            (endpoint.frontendOptions, .bind, "\(path).frontend_options"),
            (endpoint.balance, .balance, "\(path).balance"),
            (endpoint.backendDefaultServer, .server, "\(path).backend_default_server"),
        ]
        for (o, option) in (endpoint.backendOptions ?? []).enumerated() {
            checks.append((option, .backendOption, "\(path).backend_options[\(o)]"))
        }
        if let commands = endpoint.backendCheckCommands {
            let field: Field = commands.checkType == .httpCheck ? .httpCheck : .tcpCheck
            for (c, command) in commands.commands.enumerated() {
                checks.append((command, field, "\(path).backend_check_commands.commands[\(c)]"))
            }
        }
        for (s, server) in endpoint.backendServers.enumerated() {
            checks.append((server.options, .server, "\(path).backend_servers[\(s)].options"))
        }
        var found: [RenderError] = []
        for (value, field, path) in checks {
            do {
                try check(value, field: field, at: path)
            } catch {
                found.append(error)
            }
        }
        return found
    }
}
