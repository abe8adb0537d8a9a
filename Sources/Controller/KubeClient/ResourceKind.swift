/// Where a kind of object lives in the Kubernetes API.
public struct ResourceKind: Sendable, Hashable, CustomStringConvertible {
    /// API group; empty for the core group (`/api/v1`).
    public let group: String
    public let version: String
    /// Lower-case plural resource name (`services`).
    public let plural: String
    public let kind: String
    public let namespaced: Bool

    public init(group: String, version: String, plural: String, kind: String, namespaced: Bool) {
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
    }

    /// `v1` or `group/version`.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// The collection path, in one namespace or (nil) across all of them.
    public func collectionPath(namespace: String?) -> String {
        let root = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        if namespaced, let namespace { return "\(root)/namespaces/\(namespace)/\(plural)" }
        return "\(root)/\(plural)"
    }

    /// The path of one object, optionally of its subresource (`status`).
    public func objectPath(namespace: String?, name: String, subresource: String? = nil) -> String {
        let base = "\(collectionPath(namespace: namespace))/\(name)"
        return subresource.map { "\(base)/\($0)" } ?? base
    }

    public var description: String { group.isEmpty ? plural : "\(plural).\(group)" }

    public static let services = ResourceKind(group: "", version: "v1", plural: "services", kind: "Service", namespaced: true)
    public static let nodes = ResourceKind(group: "", version: "v1", plural: "nodes", kind: "Node", namespaced: false)
    public static let events = ResourceKind(group: "", version: "v1", plural: "events", kind: "Event", namespaced: true)
    public static let endpointSlices = ResourceKind(
        group: "discovery.k8s.io", version: "v1", plural: "endpointslices", kind: "EndpointSlice", namespaced: true)
    public static let leases = ResourceKind(group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease", namespaced: true)
    public static let flexlbClusters = ResourceKind(
        group: "crd.flexlb.flexlet.io", version: "v1", plural: "flexlbclusters", kind: "FlexLBCluster", namespaced: true)
    public static let flexlbInstances = ResourceKind(
        group: "crd.flexlb.flexlet.io", version: "v1", plural: "flexlbinstances", kind: "FlexLBInstance", namespaced: true)
}
