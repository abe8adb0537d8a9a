import FlexLBAPI
@testable import FlexLBServer
import Foundation
import HTTPTypes
import Testing

/// Pure parts of issue 9's hardening: the address policy, secrets, roles, 0.4-readable errors,
/// the connection cap, and the configuration keys.
@Suite struct HardeningTests {
    static func config(vip: String = "10.99.1.10", interface: String = "eth0", backend: String = "10.99.2.11", options: String = "check") -> InstanceConfig {
        InstanceConfig(
            name: "web", frontendInterface: interface, frontendIpaddress: vip, frontendNetPrefix: 24,
            endpoints: [Endpoint(frontendPort: 80, backendServers: [BackendServer(name: "b1", ipaddress: backend, port: 8080, options: options)])]
        )
    }

    static let facts = AddressPolicy.NodeFacts(
        hasInterface: { $0 == "eth0" || $0 == "lo" }, ownAddresses: ["10.99.0.10"], memberAddresses: ["10.99.0.11"]
    )

    @Test(arguments: [
        ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("127.0.0.1", "loopback"), ("::1", "loopback"),
        ("224.0.0.18", "multicast"), ("ff02::1", "multicast"), ("255.255.255.255", "broadcast"),
        ("169.254.1.1", "link-local"), ("fe80::1", "link-local"), ("10.99.0.10", "this node"), ("10.99.0.11", "member"),
        ("::ffff:127.0.0.1", "loopback"),
    ])
    func vipRules(vip: String, word: String) {
        let found = AddressPolicy().violations(of: Self.config(vip: vip), facts: Self.facts, dataPlaneEnabled: true)
        #expect(found.count == 1)
        #expect(found.first?.path == "$.frontend_ipaddress")
        #expect(found.first?.message.contains(word) == true, "\(found)")
    }

    @Test func anOrdinaryConfigPasses() {
        #expect(AddressPolicy().violations(of: Self.config(), facts: Self.facts, dataPlaneEnabled: true).isEmpty)
    }

    @Test(arguments: [(".", "not an interface"), ("..", "not an interface"), ("nosuch0", "no interface"), ("lo", "loopback")])
    func interfaceRules(interface: String, word: String) {
        let found = AddressPolicy().violations(of: Self.config(interface: interface), facts: Self.facts, dataPlaneEnabled: true)
        #expect(found.first?.path == "$.frontend_interface")
        #expect(found.first?.message.contains(word) == true, "\(found)")
    }

    @Test func interfacesAreCheckedOnlyWhereTheDataPlaneRunsUnlessConfigured() {
        #expect(AddressPolicy().violations(of: Self.config(interface: "nosuch0"), facts: Self.facts, dataPlaneEnabled: false).isEmpty)
        var policy = AddressPolicy()
        policy.checkInterfaces = true
        #expect(policy.violations(of: Self.config(interface: "nosuch0"), facts: Self.facts, dataPlaneEnabled: false).count == 1)
    }

    @Test func backendAndCheckTargets() {
        let policy = AddressPolicy()
        #expect(policy.violations(of: Self.config(backend: "169.254.169.254"), facts: Self.facts, dataPlaneEnabled: true).first?.message.contains("metadata") == true)
        #expect(policy.violations(of: Self.config(backend: "127.0.0.1"), facts: Self.facts, dataPlaneEnabled: true).first?.path == "$.endpoints[0].backend_servers[0].ipaddress")
        let check = policy.violations(of: Self.config(options: "check addr 127.0.0.1 port 22"), facts: Self.facts, dataPlaneEnabled: true)
        #expect(check.first?.path == "$.endpoints[0].backend_servers[0].options")
        var open = AddressPolicy()
        open.allowLoopbackBackends = true
        open.allowLinkLocalBackends = true
        #expect(open.violations(of: Self.config(backend: "127.0.0.1", options: "check addr 169.254.169.254"), facts: Self.facts, dataPlaneEnabled: true).isEmpty)
    }

    @Test func vipRanges() throws {
        var policy = AddressPolicy()
        policy.vipRanges["eth0"] = [try #require(IPNetwork("10.99.1.0/24")), try #require(IPNetwork("fd00::/64"))]
        #expect(policy.violations(of: Self.config(vip: "10.99.1.200"), facts: Self.facts, dataPlaneEnabled: true).isEmpty)
        #expect(policy.violations(of: Self.config(vip: "10.99.3.1"), facts: Self.facts, dataPlaneEnabled: true).first?.message.contains("10.99.1.0/24") == true)
        #expect(IPNetwork("10.0.0.0/33") == nil)
        #expect(IPNetwork("fd00::/64")?.contains(try #require(IPAddressBytes("fd00::5"))) == true)
        #expect(IPNetwork("10.0.0.0/9")?.contains(try #require(IPAddressBytes("10.128.0.1"))) == false)
    }

    static let pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    static let key = "-----BEGIN PRIVATE \("KEY")-----\nAAAA\n-----END PRIVATE \("KEY")-----\n"

    static func tlsConfig(keys: Bool) -> InstanceConfig {
        var config = Self.config()
        config.endpoints[0].frontendSslOptions = FrontendSSLOptions(serverCert: pem, serverKey: keys ? key : nil)
        config.endpoints[0].backendServers[0].checkSslOptions = CheckSSLOptions(clientCert: pem, clientKey: keys ? key : nil, verify: CheckSSLOptions.Verify.none)
        return config
    }

    @Test func keysAreRedactedAndKeptAcrossAModify() {
        let stored = Self.tlsConfig(keys: true)
        let shown = InstanceSecrets.redacted(stored)
        #expect(shown.endpoints[0].frontendSslOptions?.serverKey == nil)
        #expect(shown.endpoints[0].backendServers[0].checkSslOptions?.clientKey == nil)
        let (merged, violations) = InstanceSecrets.merged(shown, stored: stored)
        #expect(violations.isEmpty)
        #expect(merged == stored)
        let (_, missing) = InstanceSecrets.merged(shown, stored: nil)
        #expect(missing.map(\.path) == ["$.endpoints[0].frontend_ssl_options.server_key", "$.endpoints[0].backend_servers[0].check_ssl_options.client_key"])
    }

    @Test func rolesByCertificate() {
        var roles = NodeConfiguration.Roles()
        roles.admins = ["admin"]
        roles.readers = ["viewer"]
        let admin = ClientIdentity(subject: "CN=admin", commonName: "admin")
        let viewer = ClientIdentity(subject: "CN=viewer", commonName: "viewer")
        let stranger = ClientIdentity(subject: "CN=x", commonName: "x")
        #expect(ClientRole.of(stranger, roles: nil) == .admin)
        #expect(ClientRole.of(admin, roles: roles) == .admin)
        #expect(ClientRole.of(viewer, roles: roles).permits(method: "GET"))
        #expect(!ClientRole.of(viewer, roles: roles).permits(method: "POST"))
        #expect(!ClientRole.of(stranger, roles: roles).permits(method: "GET"))
    }

    @Test func errorBodiesAre04Readable() throws {
        typealias Responder = APIResponder<InstanceHandler>
        let notFound = Responder.compatible(Responder.error(.notFound, "instance x not found"))
        let body = try ErrorBody.decode(jsonBytes: notFound.body, strict: false)
        #expect(body.error == "instance x not found" && body.status == 404)
        let invalid = ServerResponse(status: .badRequest, body: ErrorBody(message: "request validation failed", violations: [
            Violation(path: "$.a", message: "is bad"), Violation(path: "$.b", message: "is worse"),
            Violation(path: "$.c", message: "c"), Violation(path: "$.d", message: "d"),
        ]).jsonBytes())
        let summarised = try ErrorBody.decode(jsonBytes: Responder.compatible(invalid).body, strict: false)
        #expect(summarised.message == "request validation failed: $.a: is bad; $.b: is worse; $.c: c (and 1 more)")
        #expect(summarised.violations?.count == 4)
    }

    @Test func newConfigurationKeys() throws {
        let config = try NodeConfiguration.parse(yaml: """
            name: n1
            address_policy: {allow_loopback_vips: true, check_interfaces: false, vip_ranges: {eth0: [10.0.0.0/24]}}
            limits: {instances: 5, endpoints_per_instance: 2, servers_per_instance: 3}
            roles: {admin: [ops], read_only: [dash]}
            api: {max_connections: 100, handshake_timeout: 2s, idle_timeout: 30s}
            haproxy: {user: haproxy, group: haproxy}
            """)
        #expect(config.addressPolicy.allowLoopbackVIPs && config.addressPolicy.checkInterfaces == false)
        #expect(config.addressPolicy.vipRanges["eth0"]?.first?.description == "10.0.0.0/24")
        #expect(config.limits.instances == 5 && config.limits.serversPerInstance == 3)
        #expect(config.roles?.admins == ["ops"] && config.roles?.readers == ["dash"])
        #expect(config.connectionLimits.maxConnections == 100 && config.connectionLimits.handshakeTimeout == 2)
        #expect(config.haproxyUser == "haproxy")
        #expect(throws: ConfigurationError.self) { try NodeConfiguration.parse(yaml: "address_policy: {vip_ranges: {eth0: [nonsense]}}") }
        #expect(throws: ConfigurationError.self) { try NodeConfiguration.parse(yaml: "api: {max_conns: 1}") }
    }
}
