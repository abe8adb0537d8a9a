@_exported public import FlexLBModel

/// What a local write changes: the config bytes, the listeners and VRRP group they imply, and/or the desired state.
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

/// Everything the store holds, read in one transaction: live records, tombstones, and rows that no
/// longer decode (never mistaken for deletes: the data plane keeps serving what it last applied).
public struct StoreSnapshot: Sendable {
    /// The store revision this snapshot was read at.
    public var revision: Int64
    /// Every record, tombstones included, sorted by name.
    public var records: [InstanceRecord]
    /// Rows that do not decode, by name, with the reason.
    public var damaged: [String: String]

    public init(revision: Int64, records: [InstanceRecord], damaged: [String: String]) {
        self.revision = revision
        self.records = records
        self.damaged = damaged
    }

    /// Live records only.
    public var live: [InstanceRecord] { records.filter { !$0.deleted } }
}

/// Where a change to the store came from.
public enum ChangeSource: Sendable, Hashable {
    /// An API write on this node.
    case local
    /// A record merged from a peer.
    case remote
}

/// One committed change, published on ``StateStore/changes()``.
public struct StoreChange: Sendable {
    public var source: ChangeSource
    /// The records as now stored (tombstones for deletes).
    public var records: [InstanceRecord]
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

/// Durable storage of the replicated desired state. Every write returns only after it is durable.
///
/// Local writes (create, update, delete) are checked against what this node knows and stamped with
/// the node's hybrid logical clock; ``merge(_:now:)`` takes records from peers under the rule in
/// ``InstanceRecord/mergeKey``. Deletes leave tombstones. Every committed change is published on
/// ``changes()``, whatever made it.
public protocol StateStore: Sendable {
    /// Live instances sorted by name (rows that do not decode are left out; see ``snapshot()``).
    func list() async throws -> [InstanceRecord]
    /// Records, tombstones and damaged rows in one read.
    func snapshot() async throws -> StoreSnapshot
    /// The store's revision: it increases with every change, so an unchanged value means an unchanged store.
    func revision() async throws -> Int64
    /// One live instance, or nil (also nil for a tombstone).
    func get(name: String) async throws -> InstanceRecord?
    /// Inserts a new instance (a new life if a tombstone exists); assigns a VRID and a version.
    func create(
        name: String,
        config: [UInt8],
        listeners: Set<ListenerKey>,
        vrrpGroup: String,
        desiredState: DesiredState,
        now: Int64
    ) async throws -> InstanceRecord
    /// Applies `change` to a live instance, only if its version is `expectedVersion` when given.
    func update(name: String, expectedVersion: Int64?, change: InstanceChange, now: Int64) async throws -> InstanceRecord
    /// Replaces a live instance with a tombstone, only if its version is `expectedVersion` when given.
    @discardableResult
    func delete(name: String, expectedVersion: Int64?, now: Int64) async throws -> InstanceRecord
    /// Merges records from a peer; returns those that changed this store.
    @discardableResult
    func merge(_ records: [InstanceRecord], now: Int64) async throws -> [InstanceRecord]
    /// Merge keys of every record and the tombstone watermark.
    func digest() async throws -> RecordDigest
    /// The records (tombstones included) with these names, where present.
    func records(named names: [String]) async throws -> [InstanceRecord]
    /// Collects tombstones older than the policy's horizon and raises the watermark; returns how many went.
    @discardableResult
    func collectTombstones(policy: TombstonePolicy, now: Int64) async throws -> Int
    /// Adopts a peer's watermark: tombstones at or below it are collected here too, and live records
    /// at or below it that the peer does not hold are ghosts of collected deletes and are removed.
    func adoptWatermark(_ watermark: HLCTimestamp, peerHolds: Set<String>) async throws
    /// A stream of committed changes, from now on.
    func changes() -> AsyncStream<StoreChange>
}
