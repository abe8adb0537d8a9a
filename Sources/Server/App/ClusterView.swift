import FlexLBAPI

/// What the API handlers need to know about the other nodes: the membership and the status each
/// node reports for each instance. Single-node mode uses ``SingleNodeView``; cluster mode the gossip
/// service, which keeps both as soft state that disappears with the node.
protocol ClusterView: Sendable {
    /// Every member, this node included, sorted by name.
    func members() -> [Node]
    /// What the other live members report for `instance`, by node name (this node is not included).
    func remoteStatus(of instance: String) -> [String: NodeInstanceStatus]
}

/// A cluster of one.
struct SingleNodeView: ClusterView {
    var node: Node

    func members() -> [Node] { [node] }
    func remoteStatus(of instance: String) -> [String: NodeInstanceStatus] { [:] }
}
