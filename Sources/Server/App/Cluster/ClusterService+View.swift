import FlexLBAPI
import FlexLBCluster
import FlexLBModel
import Foundation

// MARK: ClusterView

extension ClusterService {
    func members() -> [Node] {
        let snapshot = membershipSnapshot()
        let heardAt = heardSnapshot()
        return snapshot.map { member in
            let isSelf = member.name == nodeName
            let meta = isSelf ? metadata : (try? NodeMetadata.decode(member.metadata))
            let host = (try? GossipHost.of(member.address)) ?? member.address
            return Node(
                name: member.name,
                apiAddress: meta?.apiAddress,
                gossipAddress: member.address,
                state: Node.State(member.status),
                readiness: member.status == .alive || member.status == .suspect ? .ready : .notReady,
                incarnation: Int64(clamping: member.incarnation),
                lastHeard: isSelf ? wallMillisecondsNow : heardAt[host],
                addresses: meta?.addresses,
                drained: meta?.drained ?? false,
                isSelf: isSelf,
                version: meta?.version
            )
        }.sorted { $0.name < $1.name }
    }

    func remoteStatus(of instance: String) -> [String: NodeInstanceStatus] {
        let live = Set(liveMembers().map(\.name)).subtracting([nodeName])
        return remoteStatuses(of: instance, from: live)
    }

    /// Members that answer (alive or suspect), this node included.
    func liveMembers() -> [Membership.Member] {
        membershipSnapshot().filter { $0.status == .alive || $0.status == .suspect }
    }
}

enum GossipHost {
    /// The host part of `host:port` / `[v6]:port`.
    static func of(_ address: String) throws -> String {
        if address.hasPrefix("["), let close = address.firstIndex(of: "]") {
            return String(address[address.index(after: address.startIndex)..<close])
        }
        guard let colon = address.lastIndex(of: ":") else { return address }
        return String(address[..<colon])
    }
}

extension Node.State {
    init(_ status: Membership.Status) {
        switch status {
        case .alive: self = .alive
        case .suspect: self = .suspect
        case .dead: self = .dead
        case .left: self = .left
        }
    }
}
