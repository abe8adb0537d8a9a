/// Everything the controller is told at start (flags of `flexlb-kube-controller`).
public struct ControllerSettings: Sendable {
    /// Where FlexLBClusters and the leader Lease live.
    public var namespace: String
    /// This replica's name in the Lease (pod name).
    public var identity: String
    public var leaderElect = true
    public var leaseName = "flexlb-kube-controller"
    public var leaseDuration: Duration = .seconds(15)
    public var renewDeadline: Duration = .seconds(10)
    public var retryPeriod: Duration = .seconds(2)
    /// Every object is reconciled again this often (0.4's `--refresh-interval`).
    public var resyncPeriod: Duration = .seconds(60)
    /// How often a FlexLBInstance that is not serving yet is polled.
    public var readyPollInterval: Duration = .milliseconds(250)
    /// Concurrent reconciles (never two of the same key).
    public var workers = 4
    /// How long a released address waits before it is given out again.
    public var quarantine: Duration = .seconds(300)
    /// Handle LoadBalancer Services without `spec.loadBalancerClass`.
    public var handleUnsetClass = true
    /// FlexLB API endpoints overriding the FlexLBClusters' `spec.endpoint(s)` (empty: use those).
    public var flexlbEndpoints: [String] = []
    /// Mutual TLS towards FlexLB (verification always on).
    public var flexlbCAFile: String?
    public var flexlbCertificateFile: String?
    public var flexlbKeyFile: String?
    public var flexlbTimeout: Duration = .seconds(10)

    public init(namespace: String, identity: String) {
        self.namespace = namespace
        self.identity = identity
    }
}

/// What a work-queue key names.
public enum WorkKey: Hashable, Sendable, CustomStringConvertible {
    /// A Service, `namespace/name`.
    case service(String)
    /// A FlexLBInstance, `namespace/name`.
    case instance(String)
    /// A FlexLBCluster, `namespace/name` (status refresh).
    case cluster(String)

    public var description: String {
        switch self {
        case .service(let key): "service \(key)"
        case .instance(let key): "flexlbinstance \(key)"
        case .cluster(let key): "flexlbcluster \(key)"
        }
    }
}

/// How a reconcile ended.
public enum ReconcileOutcome: Sendable, Equatable {
    /// Converged (or waiting for a change that will enqueue the key again).
    case done
    /// Look again after this delay (polling for readiness).
    case requeue(after: Duration)
}

/// Splits `namespace/name`.
func splitKey(_ key: String) -> (namespace: String, name: String) {
    guard let slash = key.firstIndex(of: "/") else { return ("", key) }
    return (String(key[..<slash]), String(key[key.index(after: slash)...]))
}
