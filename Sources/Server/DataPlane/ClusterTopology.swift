import FlexLBAPI
import FlexLBModel
import FlexLBRender

/// What the data plane needs to know about the cluster, read once per pass: the members (every
/// known one, dead and departed included, so a death or a leave changes nobody's configuration) with
/// the addresses they published, whether this node is drained, and the cluster API endpoint
/// instance derived from membership. nil from a ``TopologySource`` means single-node mode.
public struct ClusterTopology: Sendable, Hashable {
    /// This node's name.
    public var local: String
    /// Member name → interface → `address/prefix`.
    public var members: [String: [String: [String]]]
    /// Drained: every VRRP group is put in FAULT here, so its VIPs move to other nodes.
    public var drained: Bool
    /// The `cluster.name` instance (TCP passthrough to every member's API), when `cluster.endpoint` is set.
    public var endpoint: DesiredInstance?
    /// False until this node has heard from the cluster (or waited long enough to know it is
    /// alone): keepalived is not started before, so a restarted node never elects itself master
    /// of VIPs another node holds because it did not know its peers yet.
    public var settled: Bool
    /// Instances whose VIP another live node reports holding (from its observed state).
    public var heldElsewhere: Set<String>

    public init(
        local: String, members: [String: [String: [String]]], drained: Bool = false, endpoint: DesiredInstance? = nil,
        settled: Bool = true, heldElsewhere: Set<String> = []
    ) {
        self.heldElsewhere = heldElsewhere
        self.local = local
        self.members = members
        self.drained = drained
        self.endpoint = endpoint
        self.settled = settled
    }
}

/// Supplies the current ``ClusterTopology`` (the gossip service in cluster mode).
public protocol TopologySource: Sendable {
    func topology() -> ClusterTopology?
}

/// Pure: VRRP settings of every group this node renders, from the desired instances and the topology.
public enum VRRPGroupPlan {
    /// The group of each running instance, and the settings of each group on this node.
    public static func groups(
        for instances: [DesiredInstance], topology: ClusterTopology, trackDirectory: String
    ) -> [VRRPGroupKey: VRRPGroupSettings] {
        // Published addresses are canonical text: compare VIPs in that form.
        let vips = Set(instances.map { InterfaceAddresses.canonical($0.config.frontendIpaddress) ?? $0.config.frontendIpaddress })
        var result: [VRRPGroupKey: VRRPGroupSettings] = [:]
        for instance in instances where instance.running {
            let config = instance.config
            let ipv4 = Subnet.parse(config.frontendIpaddress)?.count == 4
            let key = VRRPGroupKey(virtualRouterID: instance.virtualRouterID, interface: config.frontendInterface, ipv4: ipv4)
            guard result[key] == nil else { continue }
            let addresses = VRRPPeers.addresses(
                vip: config.frontendIpaddress, prefixLength: config.frontendNetPrefix,
                interface: config.frontendInterface, members: topology.members, vips: vips
            )
            let priority = VRRPPlacement.priority(group: key.description, node: topology.local, members: topology.members.keys)
            result[key] = VRRPGroupSettings(
                priority: priority,
                unicastSourceIP: addresses[topology.local],
                unicastPeers: addresses.filter { $0.key != topology.local }.sorted { $0.key < $1.key }.map { $0.value },
                trackFile: trackFile(for: key, in: trackDirectory)
            )
        }
        return result
    }

    /// Every node runs its groups as BACKUP with `nopreempt`, so the first election of a new group
    /// would go to whichever node loaded it first. To make it follow placement, a node that does not
    /// rank first for a group created while it runs waits before loading it: until some node reports
    /// holding one of the group's VIPs and `settle` seconds have passed since it first saw the group
    /// (the preferred node's first election, with its short advert interval, is over by then), or
    /// `patience` seconds after it first saw the group (the preferred node may be down or drained).
    /// The first-ranked node loads it at once.
    /// - Returns: the groups to leave out of keepalived for now.
    public static func deferred(
        groups: [VRRPGroupKey: VRRPGroupSettings], instances: [DesiredInstance], topology: ClusterTopology,
        firstSeen: [VRRPGroupKey: Double], now: Double, patience: Double = 3, settle: Double = 1
    ) -> Set<VRRPGroupKey> {
        var held: Set<VRRPGroupKey> = []
        for instance in instances where topology.heldElsewhere.contains(instance.name) { held.insert(key(of: instance)) }
        var result: Set<VRRPGroupKey> = []
        for (key, group) in groups where group.priority != VRRPPlacement.topPriority {
            guard let seen = firstSeen[key], now - seen < patience else { continue }
            if held.contains(key), now - seen >= settle { continue }
            result.insert(key)
        }
        return result
    }

    /// The health file of a group: `<dir>/<interface>_<v4|v6>_<vrid>`.
    public static func trackFile(for key: VRRPGroupKey, in directory: String) -> String {
        "\(directory)/\(key.interface)_\(key.ipv4 ? "v4" : "v6")_\(key.virtualRouterID)"
    }

    /// The group key of an instance.
    public static func key(of instance: DesiredInstance) -> VRRPGroupKey {
        VRRPGroupKey(
            virtualRouterID: instance.virtualRouterID, interface: instance.config.frontendInterface,
            ipv4: Subnet.parse(instance.config.frontendIpaddress)?.count == 4
        )
    }

    /// What each group's health file should say: `1` (fault: give the VIP up) when this node is
    /// drained or any running instance of the group cannot serve here, else `0`.
    public static func health(groups: some Sequence<VRRPGroupKey>, instances: [DesiredInstance], unhealthy: Set<String>, drained: Bool) -> [VRRPGroupKey: String] {
        var faulty: Set<VRRPGroupKey> = []
        for instance in instances where instance.running && unhealthy.contains(instance.name) {
            faulty.insert(key(of: instance))
        }
        return Dictionary(uniqueKeysWithValues: groups.map { ($0, drained || faulty.contains($0) ? "1" : "0") })
    }
}
