/// `crd.flexlb.flexlet.io/v1` FlexLBCluster: where a FlexLB cluster's API is and its IP pools.
public struct FlexLBClusterResource: KubeObject, Hashable {
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?

    public struct Spec: Codable, Sendable, Hashable {
        /// The FlexLB API (0.4: one address, normally the cluster VIP:8443).
        public var endpoint: String?
        /// More API addresses, tried in order with failover (new in 1.0).
        public var endpoints: [String]?
        public var ippools: [IPPool]?

        public init(endpoint: String?, endpoints: [String]? = nil, ippools: [IPPool]?) {
            self.endpoint = endpoint
            self.endpoints = endpoints
            self.ippools = ippools
        }

        /// `endpoint` then `endpoints`, without duplicates.
        public var allEndpoints: [String] {
            var seen: Set<String> = []
            return ([endpoint].compactMap { $0 } + (endpoints ?? [])).filter { !$0.isEmpty && seen.insert($0).inserted }
        }
    }

    /// One pool of VIPs (0.4's field names).
    public struct IPPool: Codable, Sendable, Hashable {
        public var name: String
        public var interface: String
        public var net_prefix: Int
        public var start: String
        public var end: String
        public var backend_network: String

        public init(name: String, interface: String, net_prefix: Int, start: String, end: String, backend_network: String) {
            self.name = name
            self.interface = interface
            self.net_prefix = net_prefix
            self.start = start
            self.end = end
            self.backend_network = backend_network
        }
    }

    public struct Status: Codable, Sendable, Hashable {
        /// ready or not_ready.
        public var cluster_status: String?
        /// The FlexLB `/readyz` map.
        public var node_status: [String: String]?
        public var message: String?

        public init(cluster_status: String?, node_status: [String: String]?, message: String?) {
            self.cluster_status = cluster_status
            self.node_status = node_status
            self.message = message
        }
    }

    public init(metadata: ObjectMeta, spec: Spec, status: Status? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

/// `crd.flexlb.flexlet.io/v1` FlexLBInstance: one FlexLB instance declared in Kubernetes.
public struct FlexLBInstanceResource: KubeObject, Hashable {
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?

    public struct Spec: Codable, Sendable, Hashable {
        public var cluster: String?
        public var ippool: String?
        /// A whole FlexLB `InstanceConfig`.
        public var config: KubeJSON

        public init(cluster: String?, ippool: String?, config: KubeJSON) {
            self.cluster = cluster
            self.ippool = ippool
            self.config = config
        }
    }

    public struct Status: Codable, Sendable, Hashable {
        /// cluster_not_ready, created, create_failed, modified, modify_failed, ready, not_ready.
        public var phase: String?
        /// FlexLB node name to instance state (up, down, pending).
        public var node_status: [String: String]?
        /// The FlexLB API's own message for the last failure, or a summary.
        public var message: String?
        /// `metadata.generation` this status describes.
        public var observedGeneration: Int64?
        /// The FlexLB version of the instance that was last applied.
        public var flexlbVersion: Int64?

        public init(phase: String?, node_status: [String: String]?, message: String?, observedGeneration: Int64?, flexlbVersion: Int64? = nil) {
            self.phase = phase
            self.node_status = node_status
            self.message = message
            self.observedGeneration = observedGeneration
            self.flexlbVersion = flexlbVersion
        }
    }

    public init(metadata: ObjectMeta, spec: Spec, status: Status? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}
