import FlexLBAPI
import FlexLBRender
import Testing

/// No user string may reach a configuration with a line break, a comment or an escape: each such value
/// is refused with a ``RenderError`` naming its JSON path, and nothing is rendered.
@Suite struct InjectionTests {
    /// Every user-controlled string that ends up in haproxy.cfg.
    enum Field: String, CaseIterable, Sendable, CustomStringConvertible {
        case instanceName, frontendOptions, backendOption, checkCommand, defaultServer, serverOptions, balance, serverName, serverAddress

        var path: String {
            switch self {
            case .instanceName: "$.name"
            case .frontendOptions: "$.endpoints[0].frontend_options"
            case .backendOption: "$.endpoints[0].backend_options[0]"
            case .checkCommand: "$.endpoints[0].backend_check_commands.commands[0]"
            case .defaultServer: "$.endpoints[0].backend_default_server"
            case .serverOptions: "$.endpoints[0].backend_servers[1].options"
            case .balance: "$.endpoints[0].balance"
            case .serverName: "$.endpoints[0].backend_servers[1].name"
            case .serverAddress: "$.endpoints[0].backend_servers[1].ipaddress"
            }
        }

        /// Appends `payload` to the field's valid value.
        func inject(_ payload: String, into instance: inout DesiredInstance) {
            switch self {
            case .instanceName:
                instance.name += payload
                instance.config.name = instance.name
            case .frontendOptions: instance.config.endpoints[0].frontendOptions += payload
            case .backendOption: instance.config.endpoints[0].backendOptions![0] += payload
            case .checkCommand: instance.config.endpoints[0].backendCheckCommands!.commands[0] += payload
            case .defaultServer: instance.config.endpoints[0].backendDefaultServer += payload
            case .serverOptions: instance.config.endpoints[0].backendServers[1].options += payload
            case .balance: instance.config.endpoints[0].balance += payload
            case .serverName: instance.config.endpoints[0].backendServers[1].name += payload
            case .serverAddress: instance.config.endpoints[0].backendServers[1].ipaddress += payload
            }
        }

        var description: String { rawValue }
    }

    static let lineBreaksAndComments = [
        "\nbackend evil\n    server x 1.2.3.4:22", "\r\nglobal", "\n", "\r", " # trailing", "#", "\0", "\u{0}x", "\t", " \u{85}", " é",
    ]

    @Test(arguments: Field.allCases, lineBreaksAndComments)
    func controlCharactersAndCommentsAreRefused(field: Field, payload: String) throws {
        var instance = try Fixtures.template04()
        field.inject(payload, into: &instance)
        let error = #expect(throws: RenderError.self) { try HAProxyRenderer.render(instance, paths: Fixtures.paths) }
        #expect(error?.path == field.path)
        #expect(error?.code == .invalidValue)
    }

    /// Single-line tricks specific to HAProxy's parser, in every option-like field.
    @Test(arguments: [Field.frontendOptions, .backendOption, .checkCommand, .defaultServer, .serverOptions, .balance], [
        " \"$HOME\"", " \"${FLEXLB_SECRET}\"", " \\x0a", " \\n", " \\r", " \\t", " \\", " \"unterminated", " 'unterminated",
        " crt /etc/shadow", " \"crt\" /etc/shadow", " c\\rt /etc/shadow", " ca-file /etc/ssl/private/x.pem", " crl-file /x",
        // An escaped '#' or control character (found by the fuzzer: the escaped byte skipped the checks).
        " \\#", " weight 1\\\\\\#x", " \\\n", " \\\u{1}",
    ])
    func haproxyParserTricksAreRefused(field: Field, payload: String) throws {
        var instance = try Fixtures.template04()
        field.inject(payload, into: &instance)
        let error = #expect(throws: RenderError.self) { try HAProxyRenderer.render(instance, paths: Fixtures.paths) }
        #expect(error?.path == field.path)
    }

    @Test(arguments: [
        "check inter 3s", "check port 8081 addr 10.0.0.1", "check 'weight' \"10\"", "ssl check verifyhost \"api.example\"", "",
    ])
    func ordinaryOptionsPass(options: String) throws {
        var instance = try Fixtures.template04()
        instance.config.endpoints[0].backendServers[0].options = options
        let rendered = try HAProxyRenderer.render(instance, paths: Fixtures.paths)
        #expect(rendered.config.contains("server web1 10.99.2.11:30080\(options.isEmpty ? "" : " " + options)\n"))
    }

    @Test(arguments: [".", "..", "...", "a/b", "a b", String(repeating: "n", count: 33), ""])
    func unsafeNamesAreRefused(name: String) throws {
        var instance = try Fixtures.template04()
        instance.name = name
        instance.config.name = name
        let error = #expect(throws: RenderError.self) { try HAProxyRenderer.render(instance, paths: Fixtures.paths) }
        #expect(error?.path == "$.name")
        #expect(throws: RenderError.self) { try KeepalivedRenderer.render(instances: [instance], node: Fixtures.singleNode, paths: Fixtures.paths) }
    }

    /// Values that reach keepalived.conf.
    @Test(arguments: ["\n", "\r", "#", "\0", " ", "}", "%eth0"])
    func keepalivedValuesAreRefused(payload: String) throws {
        let cases: [(String, (inout DesiredInstance) -> Void)] = [
            ("$.name", { $0.name += payload; $0.config.name = $0.name }),
            ("$.frontend_interface", { $0.config.frontendInterface += payload }),
            ("$.frontend_ipaddress", { $0.config.frontendIpaddress += payload }),
        ]
        for (path, mutate) in cases {
            var instance = try Fixtures.template04()
            mutate(&instance)
            let error = #expect(throws: RenderError.self) {
                try KeepalivedRenderer.render(instances: [instance], node: Fixtures.singleNode, paths: Fixtures.paths)
            }
            #expect(error?.path == path)
        }
        var node = Fixtures.singleNode
        node.routerID += payload
        let error = #expect(throws: RenderError.self) {
            try KeepalivedRenderer.render(instances: [], node: node, paths: Fixtures.paths)
        }
        #expect(error?.path == "node.routerID")
    }

    @Test(arguments: ["relative/dir", "/run/flex lb", "/run/flexlb\n", "/run/../etc", "/run/#x"])
    func unsafePathsAreRefused(path: String) throws {
        let paths = RenderPaths(haproxyRunDir: path, pemDir: "/var/lib/flexlb/pem", keepalivedNotifyFifo: path)
        let error = #expect(throws: RenderError.self) { try HAProxyRenderer.render(try Fixtures.template04(), paths: paths) }
        #expect(error?.path == "paths.haproxyRunDir")
        let kaError = #expect(throws: RenderError.self) {
            try KeepalivedRenderer.render(instances: [], node: Fixtures.singleNode, paths: paths)
        }
        #expect(kaError?.path == "paths.keepalivedNotifyFifo")
    }

    @Test func pemTextCannotSmuggleBinary() throws {
        var instance = Fixtures.tls
        instance.config.endpoints[0].frontendSslOptions!.serverKey = "-----BEGIN PRIVATE \("KEY")-----\nS0VZ\0\n-----END PRIVATE KEY-----\n"
        let error = #expect(throws: RenderError.self) { try HAProxyRenderer.render(instance, paths: Fixtures.paths) }
        #expect(error?.path == "$.endpoints[0].frontend_ssl_options.server_key")
    }
}
