/// `metadata` of every Kubernetes object (the fields the controller reads or writes).
public struct ObjectMeta: Codable, Sendable, Hashable {
    public var name: String?
    public var generateName: String?
    public var namespace: String?
    public var uid: String?
    public var resourceVersion: String?
    public var generation: Int64?
    public var creationTimestamp: String?
    public var deletionTimestamp: String?
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public var finalizers: [String]?

    /// Metadata naming an object.
    public init(name: String? = nil, namespace: String? = nil, labels: [String: String]? = nil, annotations: [String: String]? = nil) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
    }

    /// True once a delete was requested (the object waits for its finalizers).
    public var isDeleting: Bool { deletionTimestamp != nil }

    /// Whether `finalizer` is listed.
    public func hasFinalizer(_ finalizer: String) -> Bool { finalizers?.contains(finalizer) ?? false }

    /// `namespace/name`, or `name` for cluster-scoped objects.
    public var key: String {
        if let namespace, !namespace.isEmpty { return "\(namespace)/\(name ?? "")" }
        return name ?? ""
    }
}

/// `metadata` of a list.
public struct ListMeta: Codable, Sendable, Hashable {
    public var resourceVersion: String?
    public var `continue`: String?
}

/// A list response (`kind: ServiceList` and so on).
public struct KubeList<Item: Codable & Sendable>: Codable, Sendable {
    public var metadata: ListMeta?
    public var items: [Item]
}

/// One line of a watch stream.
public struct WatchEvent<Object: Codable & Sendable>: Sendable {
    /// ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.
    public var type: String
    /// The object; nil for ERROR (see ``status``).
    public var object: Object?
    /// The `Status` of an ERROR event.
    public var status: KubeStatus?
    /// `metadata.resourceVersion` of the object (BOOKMARKs carry only this).
    public var resourceVersion: String?
}

/// The `Status` object the API server sends with errors.
public struct KubeStatus: Codable, Sendable, Hashable {
    public var kind: String?
    public var status: String?
    public var message: String?
    public var reason: String?
    public var code: Int?
}

/// A condition as in `metav1.Condition` (Service `status.conditions`, our CRDs).
public struct Condition: Codable, Sendable, Hashable {
    public var type: String
    /// "True", "False" or "Unknown".
    public var status: String
    public var reason: String
    public var message: String
    public var lastTransitionTime: String
    public var observedGeneration: Int64?

    public init(type: String, status: String, reason: String, message: String, lastTransitionTime: String, observedGeneration: Int64? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
        self.observedGeneration = observedGeneration
    }
}

/// What every object the controller caches has in common.
public protocol KubeObject: Codable, Sendable {
    /// The object's metadata.
    var metadata: ObjectMeta { get }
}
