/// Running or stopped: what the operator asked for.
public enum DesiredState: String, Sendable, Hashable, CaseIterable {
    case running
    case stopped
}

/// A listening address an instance claims: canonical IP text plus port. No two live instances may
/// share one; see ``ListenerClaims``.
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

/// Which record of an instance is newer: the higher HLC version, then the higher origin name.
/// Every node applies the same rule, so any set of records merges to the same winner in any order.
public struct RecordStamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var version: HLCTimestamp
    public var origin: String

    public init(version: HLCTimestamp, origin: String) {
        self.version = version
        self.origin = origin
    }

    public static func < (lhs: RecordStamp, rhs: RecordStamp) -> Bool {
        (lhs.version, lhs.origin) < (rhs.version, rhs.origin)
    }

    public var description: String { "\(version.rawValue)@\(origin)" }
}

/// One instance's replicated desired state: the declaration, what was derived from it when it was
/// written, and the stamp that orders it against every other write of the same name. A delete is a
/// record too (a tombstone, `deleted == true`), so a node that missed it cannot bring the instance back.
public struct InstanceRecord: Sendable, Hashable {
    /// Instance name: the key.
    public var name: String
    /// The declared `InstanceConfig` as canonical JSON bytes (empty in a tombstone).
    public var config: [UInt8]
    /// Running or stopped.
    public var desiredState: DesiredState
    /// HLC version of the write; also the ETag and `applied_version`.
    public var version: HLCTimestamp
    /// The node that accepted the write.
    public var origin: String
    /// True for a delete.
    public var deleted: Bool
    /// VRRP virtual router id chosen by the origin node when the instance was created; records
    /// on one interface and address family with the same id share one VRRP instance.
    public var virtualRouterID: Int
    /// Interface and address family (`eth0/v4`): instances of one group may share a VRRP instance.
    public var vrrpGroup: String
    /// The VIP:port pairs the instance listens on (canonical addresses).
    public var listeners: Set<ListenerKey>
    /// Unix milliseconds of the write, for 0.4's `last_modified`.
    public var lastModified: Int64
    /// The stamp of the create that began this instance's life; modifies keep it. Orders claims on
    /// VIP:port (``ListenerClaims``), so a modify never changes who owns a contested listener.
    public var created: RecordStamp

    public init(
        name: String,
        config: [UInt8],
        desiredState: DesiredState,
        version: HLCTimestamp,
        origin: String,
        deleted: Bool = false,
        virtualRouterID: Int,
        vrrpGroup: String,
        listeners: Set<ListenerKey>,
        lastModified: Int64,
        created: RecordStamp? = nil
    ) {
        self.name = name
        self.config = config
        self.desiredState = desiredState
        self.version = version
        self.origin = origin
        self.deleted = deleted
        self.virtualRouterID = virtualRouterID
        self.vrrpGroup = vrrpGroup
        self.listeners = listeners
        self.lastModified = lastModified
        self.created = created ?? RecordStamp(version: version, origin: origin)
    }

    /// The stamp merge compares.
    public var stamp: RecordStamp { RecordStamp(version: version, origin: origin) }

    /// The total order merge uses; the greater record wins, on every node, in any order of arrival.
    ///
    /// 1. A later *life* wins: records compare first by their create stamp, so a re-create after a
    ///    delete, or the later of two concurrent creates, supersedes everything of the earlier life.
    /// 2. Within one life a delete is final: a tombstone beats every live record of the same life,
    ///    so a modify made concurrently with a delete (say, on the other side of a partition) can
    ///    never bring the instance back.
    /// 3. Otherwise the higher (version, origin) wins: last writer wins, with a deterministic tie-break.
    ///
    /// Equal keys are the same write, so merging is idempotent.
    public var mergeKey: MergeKey { MergeKey(created: created, deleted: deleted, stamp: stamp) }

    /// Whether `other` should replace `self` in a store.
    public func isSuperseded(by other: InstanceRecord) -> Bool { mergeKey < other.mergeKey }

    /// See ``InstanceRecord/mergeKey``.
    public struct MergeKey: Hashable, Comparable, Sendable {
        public var created: RecordStamp
        public var deleted: Bool
        public var stamp: RecordStamp

        public init(created: RecordStamp, deleted: Bool, stamp: RecordStamp) {
            self.created = created
            self.deleted = deleted
            self.stamp = stamp
        }

        public static func < (lhs: MergeKey, rhs: MergeKey) -> Bool {
            if lhs.created != rhs.created { return lhs.created < rhs.created }
            if lhs.deleted != rhs.deleted { return !lhs.deleted }
            return lhs.stamp < rhs.stamp
        }
    }

    /// A tombstone for this instance at `version`, written by `origin`.
    public func tombstone(version: HLCTimestamp, origin: String, now: Int64) -> InstanceRecord {
        InstanceRecord(
            name: name, config: [], desiredState: desiredState, version: version, origin: origin,
            deleted: true, virtualRouterID: virtualRouterID, vrrpGroup: vrrpGroup, listeners: [], lastModified: now,
            created: created
        )
    }
}

// MARK: Binary form (gossip frames)

extension InstanceRecord {
    /// Appends the record in its versioned binary form.
    public func encode(into writer: inout BinaryWriter) {
        writer.write(UInt8(1))  // record format version
        writer.write(name)
        writer.write(version.rawValue)
        writer.write(origin)
        writer.write(deleted)
        writer.write(desiredState == .running)
        writer.write(UInt16(clamping: virtualRouterID))
        writer.write(vrrpGroup)
        writer.write(lastModified)
        writer.write(created.version.rawValue)
        writer.write(created.origin)
        writer.write(UInt32(listeners.count))
        for listener in listeners.sorted() {
            writer.write(listener.address)
            writer.write(UInt16(clamping: listener.port))
        }
        writer.write(bytes: config)
    }

    /// Reads a record written by ``encode(into:)``.
    public static func decode(from reader: inout BinaryReader) throws(DecodingFailure) -> InstanceRecord {
        let format = try reader.readUInt8()
        guard format == 1 else { throw DecodingFailure("unknown record format \(format)") }
        let name = try reader.readString()
        let version = HLCTimestamp(rawValue: try reader.readInt64())
        let origin = try reader.readString()
        let deleted = try reader.readBool()
        let running = try reader.readBool()
        let vrid = Int(try reader.readUInt16())
        let group = try reader.readString()
        let lastModified = try reader.readInt64()
        let created = RecordStamp(version: HLCTimestamp(rawValue: try reader.readInt64()), origin: try reader.readString())
        let count = try reader.readCount(max: 4096)
        var listeners: Set<ListenerKey> = []
        for _ in 0..<count {
            let address = try reader.readString()
            listeners.insert(ListenerKey(address: address, port: Int(try reader.readUInt16())))
        }
        let config = try reader.readBytes()
        guard !name.isEmpty, name.utf8.count <= 64, !origin.isEmpty, version.rawValue > 0 else {
            throw DecodingFailure("record with an empty name or origin or a non-positive version")
        }
        return InstanceRecord(
            name: name, config: config, desiredState: running ? .running : .stopped, version: version,
            origin: origin, deleted: deleted, virtualRouterID: vrid, vrrpGroup: group, listeners: listeners,
            lastModified: lastModified, created: created
        )
    }
}
