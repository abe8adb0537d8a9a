/// The desired state of one instance as stored: the declaration plus what the store assigns.
public struct StoredInstance: Sendable, Hashable {
    /// Instance name (the primary key).
    public var name: String
    /// VRRP virtual router id, unique among stored instances.
    public var virtualRouterID: Int
    /// The declared `InstanceConfig`, as canonical JSON bytes (the store does not interpret it).
    public var config: [UInt8]
    /// Whether the instance should be running.
    public var desiredState: DesiredState
    /// Store revision of the last write to this instance; strictly increasing across the whole store,
    /// so a re-created instance never repeats an old version (and an old ETag never matches).
    public var version: Int64
    /// Unix milliseconds of the last write.
    public var lastModified: Int64

    public init(
        name: String,
        virtualRouterID: Int,
        config: [UInt8],
        desiredState: DesiredState,
        version: Int64,
        lastModified: Int64
    ) {
        self.name = name
        self.virtualRouterID = virtualRouterID
        self.config = config
        self.desiredState = desiredState
        self.version = version
        self.lastModified = lastModified
    }
}

/// Running or stopped: what the operator asked for.
public enum DesiredState: String, Sendable, Hashable, CaseIterable {
    case running
    case stopped
}

/// A listening address an instance claims: canonical IP text plus port. No two instances may share one.
public struct ListenerKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var address: String
    public var port: Int

    public init(address: String, port: Int) {
        self.address = address
        self.port = port
    }

    public var description: String {
        address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    public static func < (lhs: ListenerKey, rhs: ListenerKey) -> Bool {
        (lhs.address, lhs.port) < (rhs.address, rhs.port)
    }
}

/// What a write changes: the config bytes, the listeners and VRRP group they imply, and/or the desired state.
public struct InstanceChange: Sendable {
    public var config: [UInt8]?
    public var listeners: Set<ListenerKey>?
    /// Instances of one VRRP group (same interface and address family) may share a VRID.
    public var vrrpGroup: String?
    public var desiredState: DesiredState?

    public init(config: [UInt8]? = nil, listeners: Set<ListenerKey>? = nil, vrrpGroup: String? = nil, desiredState: DesiredState? = nil) {
        self.config = config
        self.listeners = listeners
        self.vrrpGroup = vrrpGroup
        self.desiredState = desiredState
    }
}

/// A refused write. A struct around a private code, so cases can be added without breaking callers.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case alreadyExists
        case notFound
        case versionMismatch(current: Int64)
        case listenerInUse(ListenerKey, owner: String)
        case noFreeVirtualRouterID
    }

    private let code: Code
    /// The instance the error is about.
    public let name: String

    private init(_ code: Code, name: String) {
        self.code = code
        self.name = name
    }

    public static func alreadyExists(_ name: String) -> StoreError { .init(.alreadyExists, name: name) }
    public static func notFound(_ name: String) -> StoreError { .init(.notFound, name: name) }
    public static func versionMismatch(_ name: String, current: Int64) -> StoreError {
        .init(.versionMismatch(current: current), name: name)
    }
    public static func listenerInUse(_ name: String, _ key: ListenerKey, owner: String) -> StoreError {
        .init(.listenerInUse(key, owner: owner), name: name)
    }
    public static func noFreeVirtualRouterID(_ name: String) -> StoreError { .init(.noFreeVirtualRouterID, name: name) }

    public var isAlreadyExists: Bool { code == .alreadyExists }
    public var isNotFound: Bool { code == .notFound }
    public var isVersionMismatch: Bool { if case .versionMismatch = code { true } else { false } }
    public var isConflict: Bool {
        switch code {
        case .alreadyExists, .listenerInUse, .noFreeVirtualRouterID: true
        default: false
        }
    }

    public var description: String {
        switch code {
        case .alreadyExists: "instance \(name) already exists"
        case .notFound: "instance \(name) not found"
        case .versionMismatch(let current): "instance \(name) has changed (current version \(current)); If-Match failed"
        case .listenerInUse(let key, let owner): "\(key) is already used by instance \(owner)"
        case .noFreeVirtualRouterID: "no free virtual router id for instance \(name)"
        }
    }
}

/// Durable storage of the desired state. Every method returns only after the write is durable.
public protocol StateStore: Sendable {
    /// All instances sorted by name.
    func list() async throws -> [StoredInstance]
    /// The store's revision: it increases with every write, so an unchanged value means an unchanged store.
    func revision() async throws -> Int64
    /// One instance, or nil.
    func get(name: String) async throws -> StoredInstance?
    /// Inserts a new instance; assigns a virtual router id (a free one, or, when all are taken, one
    /// shared with instances of the same `vrrpGroup`) and a version.
    func create(
        name: String,
        config: [UInt8],
        listeners: Set<ListenerKey>,
        vrrpGroup: String,
        desiredState: DesiredState,
        now: Int64
    ) async throws -> StoredInstance
    /// Applies `change` to an existing instance, only if its version is `expectedVersion` when given.
    func update(name: String, expectedVersion: Int64?, change: InstanceChange, now: Int64) async throws -> StoredInstance
    /// Removes an instance, only if its version is `expectedVersion` when given.
    func delete(name: String, expectedVersion: Int64?) async throws
}
