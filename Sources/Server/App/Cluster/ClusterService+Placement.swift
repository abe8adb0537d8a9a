import FlexLBAPI
import FlexLBCluster
import FlexLBDataPlane
import FlexLBGossip
import FlexLBModel
import FlexLBRender
import Foundation

// MARK: Topology for the data plane

extension ClusterService: TopologySource {
    /// Every known member, dead and departed ones too (until membership forgets them, an hour
    /// later): a death, a leave or a return must change nobody's VRRP priorities or peers, since a
    /// keepalived reload at that moment could disturb the VIPs it holds. Also this node's drained
    /// flag and the endpoint.
    func topology() -> ClusterTopology? {
        // Members remembered from before a restart first, so unicast peers are known at once.
        var members = rememberedMembers()
        for member in membershipSnapshot() {
            if member.name == nodeName {
                members[nodeName] = metadata.addresses
            } else if let meta = try? NodeMetadata.decode(member.metadata) {
                members[member.name] = meta.addresses
            }
        }
        members[nodeName] = metadata.addresses
        return ClusterTopology(
            local: nodeName, members: members, drained: isDrained, endpoint: endpointDesired(),
            settled: hasHeardEveryone || now > 3 * settings.probeInterval + 2,
            heldElsewhere: heldByOthers()
        )
    }

    /// Joined, and holding an observed report from every live member: only then does this node know
    /// which VIPs others hold, and may start keepalived without taking any of them back.
    var hasHeardEveryone: Bool {
        guard hasJoined else { return false }
        let others = Set(liveMembers().map(\.name)).subtracting([nodeName])
        let reported = Set(remoteReports().map(\.node))
        return others.isSubset(of: reported)
    }

    /// Instances whose VIP another live member reports holding.
    func heldByOthers() -> Set<String> {
        let live = Set(liveMembers().map(\.name)).subtracting([nodeName])
        var held: Set<String> = []
        for report in remoteReports() where live.contains(report.node) {
            for (name, status) in report.statuses where status.vip == .master { held.insert(name) }
        }
        return held
    }

    /// The `cluster.name` instance: TCP passthrough from `cluster.endpoint` to every member's API
    /// (mTLS stays end to end), servers sorted by node name, so every node derives the same one.
    func endpointDesired() -> DesiredInstance? {
        guard let endpoint = endpointSettings else { return nil }
        var servers: [BackendServer] = []
        for member in membershipSnapshot().sorted(by: { $0.name < $1.name }) where member.status != .left {
            let meta = member.name == nodeName ? metadata : (try? NodeMetadata.decode(member.metadata))
            guard let api = meta?.apiAddress, let (host, port) = Self.split(api), port > 0 else { continue }
            // Health-checked, so a dead member is skipped within a second; redispatch retries a
            // connection that fails on a server not yet marked down.
            servers.append(BackendServer(name: String(member.name.prefix(32)), ipaddress: host, port: port, options: "check"))
        }
        guard !servers.isEmpty else { return nil }
        let config = InstanceConfig(
            name: clusterName,
            frontendInterface: endpoint.interface,
            frontendIpaddress: endpoint.address,
            frontendNetPrefix: endpoint.prefixLength,
            endpoints: [Endpoint(
                frontendPort: endpoint.port, mode: .tcp, balance: "roundrobin", backendOptions: ["redispatch"],
                backendDefaultServer: "inter 1s fastinter 250ms downinter 1s rise 2 fall 2",
                backendServers: servers
            )]
        )
        return DesiredInstance(name: clusterName, virtualRouterID: endpoint.virtualRouterID, config: config, running: true)
    }

    func endpointInstance() -> DesiredEndpoint? {
        endpointDesired().map { DesiredEndpoint(config: $0.config, virtualRouterID: $0.virtualRouterID, version: Reconciler.contentVersion($0)) }
    }

    static func split(_ hostPort: String) -> (String, Int)? {
        if hostPort.hasPrefix("["), let close = hostPort.firstIndex(of: "]") {
            let host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            return Int(hostPort[hostPort.index(close, offsetBy: 2)...]).map { (host, $0) }
        }
        guard let colon = hostPort.lastIndex(of: ":") else { return nil }
        return Int(hostPort[hostPort.index(after: colon)...]).map { (String(hostPort[..<colon]), $0) }
    }
}

// MARK: Drain

extension ClusterService {
    func setDrained(_ name: String, drained: Bool) async throws(DrainError) -> Node {
        if name == nodeName {
            do {
                try applyDrain(drained)
            } catch {
                throw DrainError(code: .unavailable, message: "cannot record the drained state: \(error)")
            }
            return members().first { $0.name == nodeName } ?? Node(name: nodeName, state: .alive)
        }
        guard let member = membershipSnapshot().first(where: { $0.name == name && $0.status != .left }) else {
            throw DrainError(code: .notFound, message: "node \(name) is not a member of this cluster")
        }
        guard member.status == .alive || member.status == .suspect else {
            throw DrainError(code: .unavailable, message: "node \(name) is \(member.status); it cannot be reached to \(drained ? "drain" : "undrain") it")
        }
        do {
            let answer = try SyncResponse.decode(
                try await transport.request(SyncRequest.drain(drained).encode(), to: member.address, timeout: .seconds(5))
            )
            guard case .accepted = answer else { throw DecodingFailure("unexpected answer") }
        } catch {
            throw DrainError(code: .unavailable, message: "node \(name) did not confirm: \(error)")
        }
        var node = members().first { $0.name == name } ?? Node(name: name, state: .alive)
        node.drained = drained
        return node
    }
}
