import FlexLBAPI
import FlexLBRender

/// Inputs shared by the golden, binary and behaviour tests.
enum Fixtures {
    static let paths = RenderPaths(
        haproxyRunDir: "/run/flexlb/haproxy",
        pemDir: "/var/lib/flexlb/pem",
        keepalivedNotifyFifo: "/run/flexlb/keepalived.fifo")

    /// Syntactically valid PEM placeholders: golden files hold paths, never key material. The binary
    /// tests overwrite the files with a certificate and key generated at test time.
    static let cert = "-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----\n"
    static let key = "-----BEGIN PRIVATE \("KEY")-----\nS0VZ\n-----END PRIVATE KEY-----\n"
    static let caCert = "-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n"

    /// `instance_template.json` from FlexLB 0.4 (release/hack), as a 0.4 user sends it.
    static let template04JSON = """
        {
          "name": "demo",
          "frontend_interface": "eth0",
          "frontend_ipaddress": "10.99.1.100",
          "frontend_net_prefix": 24,
          "endpoints": [
            {
              "frontend_port": 8080,
              "mode": "tcp",
              "balance": "roundrobin",
              "backend_options": ["httpchk GET /"],
              "backend_check_commands": {"check_type": "http-check", "commands": ["expect status 200"]},
              "backend_servers": [
                {"name": "web1", "ipaddress": "10.99.2.11", "port": 30080, "options": "check"},
                {"name": "web2", "ipaddress": "10.99.2.12", "port": 30080, "options": "check"},
                {"name": "web3", "ipaddress": "10.99.2.13", "port": 30080, "options": "check"}
              ]
            }
          ]
        }
        """

    static func template04() throws -> DesiredInstance {
        let config = try InstanceConfig.decode(jsonBytes: Array(template04JSON.utf8))
        return DesiredInstance(virtualRouterID: 51, config: config)
    }

    /// TLS termination with client-certificate verification, TLS backends with client certificates.
    static let tls = DesiredInstance(
        virtualRouterID: 52,
        config: InstanceConfig(
            name: "secure",
            frontendInterface: "eth0",
            frontendIpaddress: "10.99.1.101",
            frontendNetPrefix: 24,
            endpoints: [
                Endpoint(
                    frontendPort: 8443,
                    frontendOptions: "alpn h2,http/1.1",
                    frontendSslOptions: FrontendSSLOptions(serverCert: cert, serverKey: key, caCert: caCert, verify: .optional),
                    mode: .tcp,
                    balance: "leastconn",
                    backendOptions: ["tcp-check"],
                    backendServers: [
                        BackendServer(
                            name: "api1", ipaddress: "10.99.2.21", port: 30443, options: "ssl check",
                            checkSslOptions: CheckSSLOptions(clientCert: cert, clientKey: key, caCert: caCert)),
                        BackendServer(
                            name: "api2", ipaddress: "10.99.2.22", port: 30443, options: "ssl check",
                            checkSslOptions: CheckSSLOptions(clientCert: cert, clientKey: key, verify: CheckSSLOptions.Verify.none)),
                    ]),
                Endpoint(
                    frontendPort: 9443,
                    frontendSslOptions: FrontendSSLOptions(serverCert: cert, serverKey: key),
                    mode: .http,
                    balance: "roundrobin",
                    backendServers: [BackendServer(name: "web1", ipaddress: "10.99.2.23", port: 8080, options: "check")]),
            ]))

    /// HTTP mode on an IPv6 VIP with IPv6 and IPv4 backends.
    static let httpIPv6 = DesiredInstance(
        virtualRouterID: 53,
        config: InstanceConfig(
            name: "web6",
            frontendInterface: "eth0",
            frontendIpaddress: "fd00:99:1::100",
            frontendNetPrefix: 64,
            endpoints: [
                Endpoint(
                    frontendPort: 80,
                    mode: .http,
                    balance: "uri whole",
                    backendOptions: ["httpchk", "http-keep-alive"],
                    backendCheckCommands: BackendCheckCommands(
                        checkType: .httpCheck,
                        commands: ["send meth GET uri /healthz ver HTTP/1.1 hdr Host \"web6.example\"", "expect status 200-299"]),
                    backendDefaultServer: "inter 1s rise 2 fall 3",
                    backendServers: [
                        BackendServer(name: "v6a", ipaddress: "fd00:99:2::11", port: 8080, options: "check weight 10"),
                        BackendServer(name: "v4b", ipaddress: "10.99.2.12", port: 8080, options: "check backup"),
                    ]),
            ]))

    /// The same as the 0.4 template but stopped: no VRRP instance, so the VIP is released.
    static func stopped() throws -> DesiredInstance {
        var instance = try template04()
        instance.config.name = "paused"
        instance.name = "paused"
        instance.config.frontendIpaddress = "10.99.1.102"
        instance.virtualRouterID = 54
        instance.running = false
        return instance
    }

    static let singleNode = NodeSettings(routerID: "lb1", initialStateMaster: true)
    static let clusterNode = NodeSettings(
        routerID: "lb2", priority: 90, initialStateMaster: false, advertInterval: 0.1,
        unicastSourceIP: "10.99.0.11", unicastPeers: ["10.99.0.10", "10.99.0.12", "fd00:99::10", "fd00:99::12"])

    /// Cluster mode: per-group priorities, peers and health files from placement; nopreempt.
    static var clusterGroups: NodeSettings {
        var node = NodeSettings(routerID: "lb2", priority: 100, initialStateMaster: false, advertInterval: 0.1)
        node.noPreempt = true
        node.groups = [
            VRRPGroupKey(virtualRouterID: 51, interface: "eth0", ipv4: true): VRRPGroupSettings(
                priority: 250, unicastSourceIP: "10.99.1.11", unicastPeers: ["10.99.1.10", "10.99.1.12"],
                trackFile: "/run/flexlb/track/eth0_v4_51"),
            VRRPGroupKey(virtualRouterID: 52, interface: "eth0", ipv4: true): VRRPGroupSettings(
                priority: 248, unicastSourceIP: "10.99.1.11", unicastPeers: ["10.99.1.10", "10.99.1.12"],
                trackFile: "/run/flexlb/track/eth0_v4_52"),
            VRRPGroupKey(virtualRouterID: 53, interface: "eth0", ipv4: false): VRRPGroupSettings(
                priority: 249, unicastSourceIP: "fd00:99:1::11", unicastPeers: ["fd00:99:1::10"],
                trackFile: "/run/flexlb/track/eth0_v6_53"),
        ]
        return node
    }

    /// Every golden case: file name and how to render it.
    static func goldenCases() throws -> [GoldenCase] {
        let all = [try template04(), tls, httpIPv6, try stopped()]
        return [
            GoldenCase(file: "haproxy-template-0.4.cfg", haproxy: try template04()),
            GoldenCase(file: "haproxy-tls.cfg", haproxy: tls),
            GoldenCase(file: "haproxy-http-ipv6.cfg", haproxy: httpIPv6),
            GoldenCase(file: "keepalived-single-node.conf", keepalived: all, node: singleNode),
            GoldenCase(file: "keepalived-unicast-subsecond.conf", keepalived: all, node: clusterNode),
            GoldenCase(file: "keepalived-cluster-groups.conf", keepalived: all, node: clusterGroups),
        ]
    }
}

/// One golden file and the rendering it pins down.
struct GoldenCase: CustomStringConvertible, Sendable {
    enum Input: Sendable {
        case haproxy(DesiredInstance)
        case keepalived([DesiredInstance], NodeSettings)
    }

    let file: String
    let input: Input

    init(file: String, haproxy instance: DesiredInstance) {
        self.file = file
        self.input = .haproxy(instance)
    }

    init(file: String, keepalived instances: [DesiredInstance], node: NodeSettings) {
        self.file = file
        self.input = .keepalived(instances, node)
    }

    var description: String { file }

    /// The rendered text and the files it refers to.
    func render(paths: RenderPaths = Fixtures.paths) throws -> (text: String, files: [RenderedFile]) {
        switch input {
        case .haproxy(let instance):
            let rendered = try HAProxyRenderer.render(instance, paths: paths)
            return (rendered.config, rendered.files)
        case .keepalived(let instances, let node):
            return (try KeepalivedRenderer.render(instances: instances, node: node, paths: paths), [])
        }
    }
}
