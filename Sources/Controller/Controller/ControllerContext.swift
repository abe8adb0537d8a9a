import FlexLBKube
import Logging
import Synchronization

/// What the reconcilers share: the API client, the informers' caches, the ledger, the FlexLB
/// clients and the Event recorder.
final class ControllerContext: Sendable {
    let settings: ControllerSettings
    let kube: KubeClient
    let services: Informer<Service>
    let slices: Informer<EndpointSlice>
    let nodes: Informer<Node>
    let clusters: Informer<FlexLBClusterResource>
    let instances: Informer<FlexLBInstanceResource>
    let ledger: Mutex<IPLedger>
    let flexlb: FlexLBConnections
    let events: EventRecorder
    let logger: Logger
    /// Consecutive polls of FlexLBInstances that were not serving yet, by key (polls slow down).
    let notReadyPolls = Mutex<[String: Int]>([:])
    private let origin = ContinuousClock.now

    init(settings: ControllerSettings, kube: KubeClient, logger: Logger) {
        self.settings = settings
        self.kube = kube
        self.logger = logger
        services = Informer(client: kube, kind: .services, logger: logger)
        slices = Informer(client: kube, kind: .endpointSlices, logger: logger)
        nodes = Informer(client: kube, kind: .nodes, logger: logger)
        clusters = Informer(client: kube, kind: .flexlbClusters, namespace: settings.namespace, logger: logger)
        instances = Informer(client: kube, kind: .flexlbInstances, logger: logger)
        ledger = Mutex(IPLedger(quarantine: settings.quarantine))
        flexlb = FlexLBConnections(settings: settings, logger: logger)
        events = EventRecorder(client: kube, logger: logger)
    }

    /// Monotonic time since start, the clock of the pure cores.
    var now: Duration { ContinuousClock.now - origin }

    /// True once every informer has listed.
    var synced: Bool { services.synced && slices.synced && nodes.synced && clusters.synced && instances.synced }

    /// The pool `poolName` of FlexLBCluster `clusterName`, parsed; or why not.
    func pool(cluster clusterName: String, pool poolName: String) -> (FlexLBClusterResource?, AddressPool?, String?) {
        guard let cluster = clusters.get("\(settings.namespace)/\(clusterName)") else {
            return (nil, nil, "FlexLBCluster \(settings.namespace)/\(clusterName) not found")
        }
        guard let spec = cluster.spec.ippools?.first(where: { $0.name == poolName }) else {
            return (cluster, nil, "FlexLBCluster \(clusterName) has no ippool \(poolName)")
        }
        guard let start = IPv4(spec.start), let end = IPv4(spec.end), start <= end,
            let network = IPv4Network(spec.backend_network)
        else {
            return (cluster, nil, "ippool \(poolName) of FlexLBCluster \(clusterName): start/end must be IPv4 addresses with start <= end and backend_network a CIDR")
        }
        let pool = AddressPool(
            cluster: clusterName, name: poolName, interface: spec.interface, netPrefix: spec.net_prefix, start: start, end: end,
            backendNetwork: network)
        return (cluster, pool, nil)
    }

    /// Rebuilds the ledger from the cluster's objects: Services' `allocated-ip` annotations (oldest
    /// first, so a duplicate left by an older controller stays with the older Service), then
    /// FlexLBInstances not made for a Service. Returns the owners that lost a duplicate.
    @discardableResult
    func rebuildLedger() -> [String] {
        var conflicts: [String] = []
        let services = services.all().sorted { ($0.metadata.creationTimestamp ?? "", $0.metadata.key) < ($1.metadata.creationTimestamp ?? "", $1.metadata.key) }
        let instances = instances.all()
        ledger.withLock { ledger in
            for service in services {
                guard let text = service.metadata.annotations?[Contract.allocatedIPAnnotation], let ip = IPv4(text) else { continue }
                if case .conflict = ledger.record(owner: Self.owner(service: service.metadata.key), address: ip) {
                    conflicts.append(service.metadata.key)
                }
            }
            for instance in instances where instance.metadata.annotations?[Contract.serviceAnnotation] == nil {
                guard let text = instance.spec.config["frontend_ipaddress"]?.stringValue, let ip = IPv4(text) else { continue }
                _ = ledger.record(owner: Self.owner(instance: instance.metadata.key), address: ip)
            }
        }
        return conflicts
    }

    /// The delay before polling a not-yet-serving instance again: `readyPollInterval` for the first
    /// ten polls, then doubling up to 30 s (an instance stuck down should not cost requests forever).
    func nextPollDelay(_ key: String, ready: Bool) -> Duration {
        let n = notReadyPolls.withLock { polls -> Int in
            if ready {
                polls[key] = nil
                return 0
            }
            polls[key, default: 0] += 1
            return polls[key]!
        }
        if ready { return settings.resyncPeriod }
        return min(settings.readyPollInterval * (1 << min(max(0, n - 10), 8)), .seconds(30))
    }

    /// Ledger owner names.
    static func owner(service key: String) -> String { "Service:\(key)" }
    static func owner(instance key: String) -> String { "FlexLBInstance:\(key)" }
}
