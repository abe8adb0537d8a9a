import FlexLBAPI
import FlexLBDataPlane

/// What the API handlers need to know about the other nodes: the membership and the status each
/// node reports for each instance. Single-node mode uses ``SingleNodeView``; cluster mode the gossip
/// service, which keeps both as soft state that disappears with the node.
protocol ClusterView: Sendable {
    /// Every member, this node included, sorted by name.
    func members() -> [Node]
    /// What the other live members report for `instance`, by node name (this node is not included).
    func remoteStatus(of instance: String) -> [String: NodeInstanceStatus]
    /// Drains or undrains a member (this node or another, reached over gossip).
    func setDrained(_ node: String, drained: Bool) async throws(DrainError) -> Node
    /// The cluster API endpoint instance derived from membership, when `cluster.endpoint` is set.
    func endpointInstance() -> DesiredEndpoint?
}

/// The cluster endpoint instance as the API shows it.
struct DesiredEndpoint: Sendable {
    var config: InstanceConfig
    var virtualRouterID: Int
    var version: Int64
}

/// Why a drain or undrain could not be carried out.
struct DrainError: Error, Sendable {
    enum Code: Sendable { case notFound, unavailable, unsupported }
    var code: Code
    var message: String
}

/// A cluster of one.
struct SingleNodeView: ClusterView {
    var node: Node

    func members() -> [Node] { [node] }
    func remoteStatus(of instance: String) -> [String: NodeInstanceStatus] { [:] }
    func endpointInstance() -> DesiredEndpoint? { nil }

    func setDrained(_ name: String, drained: Bool) async throws(DrainError) -> Node {
        guard name == node.name else { throw DrainError(code: .notFound, message: "node \(name) not found") }
        throw DrainError(code: .unsupported, message: "drain needs cluster mode: a single node has nowhere to move its VIPs")
    }
}
