import FlexLBAPI
import FlexLBKube

/// Service → FlexLB instance: the pure translation (no I/O, no clock).
///
/// - One endpoint per TCP Service port: frontend `port` on the VIP, backends = the nodes'
///   addresses inside the pool's `backend_network` × the port's NodePort.
/// - Nodes: Ready, not labelled `exclude-from-external-load-balancers`, with an address in the
///   backend network (InternalIP preferred). No probe pods: `Node.status.addresses` is the source.
/// - `externalTrafficPolicy: Local`: only nodes with a ready endpoint in any of the Service's
///   EndpointSlices, health-checked on `healthCheckNodePort` (kube-proxy answers 200 there only
///   while the node has local endpoints).
/// - UDP and SCTP ports are skipped with a problem (FlexLB refuses UDP today).
public enum ServiceMapping {
    /// Something the user should know; `blocking` ones leave the Service without a load balancer.
    public struct Problem: Sendable, Hashable {
        public var reason: String
        public var message: String
        public var blocking: Bool
    }

    /// The translation's result.
    public struct Result: Sendable {
        /// The instance to declare, nil when a blocking problem prevents it.
        public var config: InstanceConfig?
        public var problems: [Problem]
    }

    /// Whether this controller handles the Service: `type: LoadBalancer` and our class (or none,
    /// when `handleUnsetClass`).
    public static func isManaged(_ service: Service, handleUnsetClass: Bool) -> Bool {
        guard service.spec.type == "LoadBalancer" else { return false }
        guard let lbClass = service.spec.loadBalancerClass else { return handleUnsetClass }
        return lbClass == Contract.loadBalancerClass
    }

    /// The address a user asked for (annotation first, then `spec.loadBalancerIP`); nil if none.
    /// Throws a problem when the text is not an IPv4 address.
    public static func requestedAddress(_ service: Service) -> (IPv4?, Problem?) {
        let text = service.metadata.annotations?[Contract.requestedIPAnnotation] ?? service.spec.loadBalancerIP
        guard let text, !text.isEmpty else { return (nil, nil) }
        guard let ip = IPv4(text) else {
            return (nil, Problem(reason: "InvalidRequestedIP", message: "requested address \(text) is not an IPv4 address", blocking: true))
        }
        return (ip, nil)
    }

    /// The nodes that carry traffic for the Service, sorted by name, with their backend address.
    public static func backendNodes(
        service: Service, nodes: [FlexLBKube.Node], slices: [EndpointSlice], backendNetwork: IPv4Network
    ) -> (nodes: [(name: String, address: IPv4)], problems: [Problem]) {
        var problems: [Problem] = []
        var withEndpoints: Set<String>?
        if service.spec.externalTrafficPolicy == "Local" {
            var names: Set<String> = []
            for slice in slices where slice.metadata.labels?[EndpointSlice.serviceNameLabel] == service.metadata.name {
                for endpoint in slice.endpoints ?? [] where endpoint.conditions?.ready ?? true {
                    if let node = endpoint.nodeName { names.insert(node) }
                }
            }
            withEndpoints = names
        }
        var result: [(String, IPv4)] = []
        var outside: [String] = []
        for node in nodes.sorted(by: { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }) {
            guard let name = node.metadata.name, isReady(node), node.metadata.labels?[Contract.excludeNodeLabel] == nil else { continue }
            if let withEndpoints, !withEndpoints.contains(name) { continue }
            let addresses = node.status?.addresses ?? []
            let ordered = addresses.filter { $0.type == "InternalIP" } + addresses.filter { $0.type == "ExternalIP" }
            if let address = ordered.compactMap({ IPv4($0.address) }).first(where: backendNetwork.contains) {
                result.append((name, address))
            } else {
                outside.append(name)
            }
        }
        if !outside.isEmpty {
            problems.append(Problem(
                reason: "NodeOutsideBackendNetwork",
                message: "nodes without an address in backend network \(backendNetwork): \(outside.joined(separator: ", "))",
                blocking: false))
        }
        return (result.map { (name: $0.0, address: $0.1) }, problems)
    }

    /// Ready=True, or no conditions reported at all.
    static func isReady(_ node: FlexLBKube.Node) -> Bool {
        guard let conditions = node.status?.conditions, !conditions.isEmpty else { return true }
        return conditions.contains { $0.type == "Ready" && $0.status == "True" }
    }

    /// The instance for `service` at `address` in `pool`.
    public static func instance(
        service: Service, nodes: [FlexLBKube.Node], slices: [EndpointSlice], pool: AddressPool, address: IPv4, name: String
    ) -> Result {
        var problems: [Problem] = []
        let (backends, nodeProblems) = backendNodes(service: service, nodes: nodes, slices: slices, backendNetwork: pool.backendNetwork)
        problems += nodeProblems
        let local = service.spec.externalTrafficPolicy == "Local"
        var endpoints: [Endpoint] = []
        var skipped: [String] = []
        for port in service.spec.ports ?? [] {
            let proto = port.protocol ?? "TCP"
            guard proto == "TCP" else {
                skipped.append("\(port.name ?? String(port.port))/\(proto)")
                continue
            }
            guard let nodePort = port.nodePort else {
                problems.append(Problem(
                    reason: "NoNodePort", message: "port \(port.port) has no nodePort (allocateLoadBalancerNodePorts: false?)", blocking: true))
                continue
            }
            let servers = backends.map { node in
                BackendServer(
                    name: InstanceNaming.serverName(node: node.name), ipaddress: node.address.description, port: nodePort,
                    options: local && service.spec.healthCheckNodePort != nil ? "check port \(service.spec.healthCheckNodePort!)" : "check")
            }
            var endpoint = Endpoint(frontendPort: port.port, backendServers: servers)
            if local, service.spec.healthCheckNodePort != nil {
                endpoint.backendOptions = ["httpchk GET /healthz"]
            }
            endpoints.append(endpoint)
        }
        if !skipped.isEmpty {
            problems.append(Problem(
                reason: "UnsupportedProtocol",
                message: "FlexLB carries TCP only; not load-balanced: \(skipped.joined(separator: ", "))", blocking: false))
        }
        if endpoints.isEmpty, !problems.contains(where: \.blocking) {
            problems.append(Problem(reason: "NoTCPPorts", message: "the Service has no TCP port to load-balance", blocking: true))
        }
        if backends.isEmpty {
            let why = local ? "no node has a ready endpoint of the Service (externalTrafficPolicy: Local)" : "no ready node has an address in \(pool.backendNetwork)"
            problems.append(Problem(reason: "NoBackends", message: why, blocking: true))
        }
        guard !problems.contains(where: \.blocking) else { return Result(config: nil, problems: problems) }
        let config = InstanceConfig(
            name: name, frontendInterface: pool.interface, frontendIpaddress: address.description, frontendNetPrefix: pool.netPrefix,
            endpoints: endpoints)
        return Result(config: config, problems: problems)
    }
}
