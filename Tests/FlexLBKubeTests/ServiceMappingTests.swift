import FlexLBAPI
import FlexLBKube
import FlexLBKubeController
import Testing

@Suite struct ServiceMappingTests {
    static let pool = AddressPool(
        cluster: "default", name: "default", interface: "eth0", netPrefix: 24,
        start: IPv4("10.99.1.100")!, end: IPv4("10.99.1.110")!, backendNetwork: IPv4Network("10.99.2.0/24")!)

    static func node(_ name: String, _ addresses: [(String, String)], ready: Bool = true, labels: [String: String]? = nil) -> FlexLBKube.Node {
        FlexLBKube.Node(
            metadata: ObjectMeta(name: name, labels: labels),
            status: .init(
                addresses: addresses.map { FlexLBKube.Node.Address(type: $0.0, address: $0.1) },
                conditions: [.init(type: "Ready", status: ready ? "True" : "False")]))
    }

    static let nodes = [
        node("n2", [("InternalIP", "10.99.2.12")]),
        node("n1", [("ExternalIP", "192.0.2.1"), ("InternalIP", "10.99.2.11")]),
        node("n3", [("InternalIP", "172.16.0.3")]),
        node("n4", [("InternalIP", "10.99.2.14")], ready: false),
        node("n5", [("InternalIP", "10.99.2.15")], labels: [Contract.excludeNodeLabel: ""]),
    ]

    static func service(ports: [Service.Port], local: Bool = false, hcnp: Int? = nil) -> Service {
        var spec = Service.Spec(type: "LoadBalancer", ports: ports)
        if local { spec.externalTrafficPolicy = "Local" }
        spec.healthCheckNodePort = hcnp
        return Service(metadata: ObjectMeta(name: "web", namespace: "shop"), spec: spec)
    }

    @Test func onePortPerEndpointBackendsAreNodesInTheBackendNetwork() throws {
        let svc = Self.service(ports: [.init(name: "http", port: 80, nodePort: 30080), .init(name: "https", port: 443, nodePort: 30443)])
        let result = ServiceMapping.instance(service: svc, nodes: Self.nodes, slices: [], pool: Self.pool, address: IPv4("10.99.1.100")!, name: "shop.web")
        let config = try #require(result.config)
        #expect(config.name == "shop.web")
        #expect(config.frontendIpaddress == "10.99.1.100")
        #expect(config.frontendInterface == "eth0")
        #expect(config.frontendNetPrefix == 24)
        #expect(config.endpoints.map(\.frontendPort) == [80, 443])
        #expect(config.endpoints[0].backendServers.map { "\($0.name)=\($0.ipaddress):\($0.port)" } == ["n1=10.99.2.11:30080", "n2=10.99.2.12:30080"])
        #expect(config.endpoints[1].backendServers.map(\.port) == [30443, 30443])
        // n3 has no address in the backend network: reported, not blocking.
        #expect(result.problems.map(\.reason) == ["NodeOutsideBackendNetwork"])
        // The server-side validation FlexLB applies accepts it.
        #expect(throws: Never.self) { try InstanceConfig.decode(jsonBytes: config.jsonBytes()) }
    }

    @Test func udpPortsAreSkippedWithAProblem() throws {
        let svc = Self.service(ports: [.init(name: "dns", protocol: "UDP", port: 53, nodePort: 30053), .init(name: "http", port: 80, nodePort: 30080)])
        let result = ServiceMapping.instance(service: svc, nodes: Self.nodes, slices: [], pool: Self.pool, address: IPv4("10.99.1.100")!, name: "x")
        #expect(try #require(result.config).endpoints.map(\.frontendPort) == [80])
        #expect(result.problems.contains { $0.reason == "UnsupportedProtocol" && !$0.blocking && $0.message.contains("dns/UDP") })

        let udpOnly = Self.service(ports: [.init(name: "dns", protocol: "UDP", port: 53, nodePort: 30053)])
        let blocked = ServiceMapping.instance(service: udpOnly, nodes: Self.nodes, slices: [], pool: Self.pool, address: IPv4("10.99.1.100")!, name: "x")
        #expect(blocked.config == nil)
        #expect(blocked.problems.contains { $0.reason == "NoTCPPorts" && $0.blocking })
    }

    @Test func localPolicyUsesNodesWithReadyEndpointsInAnySliceAndTheHealthCheckPort() throws {
        let svc = Self.service(ports: [.init(port: 80, nodePort: 30080)], local: true, hcnp: 32000)
        let label = [EndpointSlice.serviceNameLabel: "web"]
        let slices = [
            EndpointSlice(metadata: ObjectMeta(name: "web-a", namespace: "shop", labels: label), endpoints: [
                .init(addresses: ["10.244.1.5"], ready: false, nodeName: "n1")
            ]),
            // The second slice (0.4 only read the first one).
            EndpointSlice(metadata: ObjectMeta(name: "web-b", namespace: "shop", labels: label), endpoints: [
                .init(addresses: ["10.244.2.5"], ready: true, nodeName: "n2")
            ]),
            EndpointSlice(metadata: ObjectMeta(name: "other", namespace: "shop", labels: [EndpointSlice.serviceNameLabel: "other"]), endpoints: [
                .init(addresses: ["10.244.1.9"], ready: true, nodeName: "n1")
            ]),
        ]
        let result = ServiceMapping.instance(service: svc, nodes: Self.nodes, slices: slices, pool: Self.pool, address: IPv4("10.99.1.100")!, name: "x")
        let endpoint = try #require(result.config?.endpoints.first)
        #expect(endpoint.backendServers.map(\.name) == ["n2"])
        #expect(endpoint.backendServers[0].options == "check port 32000")
        #expect(endpoint.backendOptions == ["httpchk GET /healthz"])

        let none = ServiceMapping.instance(service: svc, nodes: Self.nodes, slices: [], pool: Self.pool, address: IPv4("10.99.1.100")!, name: "x")
        #expect(none.config == nil)
        #expect(none.problems.contains { $0.reason == "NoBackends" })
    }

    @Test func classAndTypeDecideOwnership() {
        var svc = Self.service(ports: [.init(port: 80, nodePort: 30080)])
        #expect(ServiceMapping.isManaged(svc, handleUnsetClass: true))
        #expect(!ServiceMapping.isManaged(svc, handleUnsetClass: false))
        svc.spec.loadBalancerClass = Contract.loadBalancerClass
        #expect(ServiceMapping.isManaged(svc, handleUnsetClass: false))
        svc.spec.loadBalancerClass = "example.com/other"
        #expect(!ServiceMapping.isManaged(svc, handleUnsetClass: true))
        svc.spec.loadBalancerClass = nil
        svc.spec.type = "NodePort"
        #expect(!ServiceMapping.isManaged(svc, handleUnsetClass: true))
    }

    @Test func requestedAddressFromAnnotationOrSpec() {
        var svc = Self.service(ports: [])
        svc.spec.loadBalancerIP = "10.99.1.105"
        #expect(ServiceMapping.requestedAddress(svc).0 == IPv4("10.99.1.105"))
        svc.metadata.annotations = [Contract.requestedIPAnnotation: "10.99.1.106"]
        #expect(ServiceMapping.requestedAddress(svc).0 == IPv4("10.99.1.106"))
        svc.metadata.annotations = [Contract.requestedIPAnnotation: "nope"]
        #expect(ServiceMapping.requestedAddress(svc).1?.reason == "InvalidRequestedIP")
    }
}

@Suite struct InstanceNamingTests {
    /// FlexLB's name rule.
    static func valid(_ name: String) -> Bool {
        (1...32).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    @Test func shortNamesAreReadable() {
        #expect(InstanceNaming.instanceName(namespace: "default", name: "web") == "default.web")
    }

    @Test func longNamesFitAndStayDistinctAndStable() throws {
        let a = InstanceNaming.instanceName(namespace: "a-very-long-namespace-name", name: "and-a-long-service-name")
        let b = InstanceNaming.instanceName(namespace: "a-very-long-namespace-name", name: "and-a-long-service-namf")
        #expect(a.count <= 32 && b.count <= 32)
        #expect(a != b)
        #expect(a == InstanceNaming.instanceName(namespace: "a-very-long-namespace-name", name: "and-a-long-service-name"))
        #expect(Self.valid(a))
        // The dot keeps ns/name pairs apart that a dash would merge.
        #expect(InstanceNaming.instanceName(namespace: "a-b", name: "c") != InstanceNaming.instanceName(namespace: "a", name: "b-c"))
    }

    @Test func nodeNamesBecomeValidServerNames() throws {
        let long = String(repeating: "node-", count: 20) + "x.example.com"
        let name = InstanceNaming.serverName(node: long)
        #expect(Self.valid(name))
        #expect(InstanceNaming.serverName(node: "worker-1") == "worker-1")
    }
}
