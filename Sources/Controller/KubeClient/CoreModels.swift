/// `v1/Service`, the fields a load-balancer controller needs.
public struct Service: KubeObject, Hashable {
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?

    public struct Spec: Codable, Sendable, Hashable {
        public var type: String?
        public var ports: [Port]?
        public var selector: [String: String]?
        public var clusterIP: String?
        public var loadBalancerIP: String?
        public var loadBalancerClass: String?
        public var loadBalancerSourceRanges: [String]?
        public var externalTrafficPolicy: String?
        public var healthCheckNodePort: Int?
        public var ipFamilies: [String]?
        public var allocateLoadBalancerNodePorts: Bool?

        public init(type: String? = nil, ports: [Port]? = nil) {
            self.type = type
            self.ports = ports
        }
    }

    public struct Port: Codable, Sendable, Hashable {
        public var name: String?
        public var `protocol`: String?
        public var port: Int
        public var targetPort: IntOrString?
        public var nodePort: Int?

        public init(name: String? = nil, protocol: String? = "TCP", port: Int, nodePort: Int? = nil) {
            self.name = name
            self.protocol = `protocol`
            self.port = port
            self.nodePort = nodePort
        }
    }

    public struct Status: Codable, Sendable, Hashable {
        public var loadBalancer: LoadBalancerStatus?
        public var conditions: [Condition]?

        public init(loadBalancer: LoadBalancerStatus?, conditions: [Condition]? = nil) {
            self.loadBalancer = loadBalancer
            self.conditions = conditions
        }
    }

    public struct LoadBalancerStatus: Codable, Sendable, Hashable {
        public var ingress: [Ingress]?

        public init(ingress: [Ingress]?) { self.ingress = ingress }
    }

    public struct Ingress: Codable, Sendable, Hashable {
        public var ip: String?
        public var hostname: String?
        public var ipMode: String?

        public init(ip: String?, hostname: String? = nil, ipMode: String? = nil) {
            self.ip = ip
            self.hostname = hostname
            self.ipMode = ipMode
        }
    }

    public init(metadata: ObjectMeta, spec: Spec, status: Status? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

/// A value that is either an integer or a string (`targetPort`).
public enum IntOrString: Codable, Sendable, Hashable {
    case int(Int)
    case string(String)

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let i = try? c.decode(Int.self) { self = .int(i) } else { self = .string(try c.decode(String.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .int(let i): try c.encode(i)
        case .string(let s): try c.encode(s)
        }
    }
}

/// `v1/Node`: addresses, readiness, and labels.
public struct Node: KubeObject, Hashable {
    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: Status?

    public struct Spec: Codable, Sendable, Hashable {
        public var unschedulable: Bool?
        public var providerID: String?
    }

    public struct Status: Codable, Sendable, Hashable {
        public var addresses: [Address]?
        public var conditions: [NodeCondition]?

        public init(addresses: [Address]?, conditions: [NodeCondition]?) {
            self.addresses = addresses
            self.conditions = conditions
        }
    }

    public struct Address: Codable, Sendable, Hashable {
        /// InternalIP, ExternalIP, Hostname, InternalDNS, ExternalDNS.
        public var type: String
        public var address: String
        public init(type: String, address: String) {
            self.type = type
            self.address = address
        }
    }

    public struct NodeCondition: Codable, Sendable, Hashable {
        public var type: String
        public var status: String
        public init(type: String, status: String) {
            self.type = type
            self.status = status
        }
    }

    public init(metadata: ObjectMeta, spec: Spec? = nil, status: Status? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

/// `discovery.k8s.io/v1/EndpointSlice`.
public struct EndpointSlice: KubeObject, Hashable {
    public var metadata: ObjectMeta
    public var addressType: String
    public var endpoints: [Endpoint]?
    public var ports: [Port]?

    public struct Endpoint: Codable, Sendable, Hashable {
        public var addresses: [String]
        public var conditions: Conditions?
        public var nodeName: String?
        public var zone: String?
        public init(addresses: [String], ready: Bool?, nodeName: String?) {
            self.addresses = addresses
            self.conditions = Conditions(ready: ready)
            self.nodeName = nodeName
        }
    }

    public struct Conditions: Codable, Sendable, Hashable {
        public var ready: Bool?
        public var serving: Bool?
        public var terminating: Bool?
        public init(ready: Bool?, serving: Bool? = nil, terminating: Bool? = nil) {
            self.ready = ready
            self.serving = serving
            self.terminating = terminating
        }
    }

    public struct Port: Codable, Sendable, Hashable {
        public var name: String?
        public var port: Int?
        public var `protocol`: String?
        public var appProtocol: String?
    }

    /// The label that names the Service a slice belongs to.
    public static let serviceNameLabel = "kubernetes.io/service-name"

    public init(metadata: ObjectMeta, addressType: String = "IPv4", endpoints: [Endpoint]? = nil, ports: [Port]? = nil) {
        self.metadata = metadata
        self.addressType = addressType
        self.endpoints = endpoints
        self.ports = ports
    }
}

/// `coordination.k8s.io/v1/Lease`, the leader-election record.
public struct Lease: KubeObject, Hashable {
    public var metadata: ObjectMeta
    public var spec: Spec?

    public struct Spec: Codable, Sendable, Hashable {
        public var holderIdentity: String?
        public var leaseDurationSeconds: Int?
        public var acquireTime: String?
        public var renewTime: String?
        public var leaseTransitions: Int?

        public init(holderIdentity: String? = nil, leaseDurationSeconds: Int? = nil, acquireTime: String? = nil, renewTime: String? = nil, leaseTransitions: Int? = nil) {
            self.holderIdentity = holderIdentity
            self.leaseDurationSeconds = leaseDurationSeconds
            self.acquireTime = acquireTime
            self.renewTime = renewTime
            self.leaseTransitions = leaseTransitions
        }
    }

    public init(metadata: ObjectMeta, spec: Spec?) {
        self.metadata = metadata
        self.spec = spec
    }
}

/// `v1/Event` (the core group's form, which `kubectl describe` shows).
public struct Event: KubeObject, Hashable {
    public var metadata: ObjectMeta
    public var involvedObject: ObjectReference
    public var reason: String
    public var message: String
    /// Normal or Warning.
    public var type: String
    public var source: Source?
    public var firstTimestamp: String?
    public var lastTimestamp: String?
    public var count: Int?
    public var reportingComponent: String?

    public struct Source: Codable, Sendable, Hashable {
        public var component: String?
    }

    public init(metadata: ObjectMeta, involvedObject: ObjectReference, reason: String, message: String, type: String, component: String, time: String) {
        self.metadata = metadata
        self.involvedObject = involvedObject
        self.reason = reason
        self.message = message
        self.type = type
        self.source = Source(component: component)
        self.firstTimestamp = time
        self.lastTimestamp = time
        self.count = 1
        self.reportingComponent = component
    }
}

/// A reference to an object (Events' `involvedObject`).
public struct ObjectReference: Codable, Sendable, Hashable {
    public var apiVersion: String?
    public var kind: String?
    public var namespace: String?
    public var name: String?
    public var uid: String?
    public var resourceVersion: String?

    public init(apiVersion: String, kind: String, namespace: String?, name: String?, uid: String?) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
    }
}
