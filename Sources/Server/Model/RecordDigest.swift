/// What a node holds, without the contents: every record's merge key, plus the tombstone
/// garbage-collection watermark. Two nodes exchange digests to find what either is missing.
public struct RecordDigest: Sendable, Hashable {
    /// Merge key of every record, tombstones included, by name.
    public var entries: [String: InstanceRecord.MergeKey]
    /// Tombstones whose version is at or below this were collected; see ``TombstonePolicy``.
    public var watermark: HLCTimestamp

    public init(entries: [String: InstanceRecord.MergeKey] = [:], watermark: HLCTimestamp = .zero) {
        self.entries = entries
        self.watermark = watermark
    }

    /// A 64-bit fingerprint of the entries (FNV-1a over the sorted entries); equal stores have
    /// equal fingerprints, so an idle anti-entropy round costs one small message each way.
    public var fingerprint: UInt64 {
        var hasher = FNV1a()
        for (name, key) in entries.sorted(by: { $0.key < $1.key }) {
            var writer = BinaryWriter()
            writer.write(name)
            Self.write(key, into: &writer)
            hasher.mix(writer.bytes)
        }
        return hasher.value
    }

    /// Names whose record here is newer than in `other` (or missing there): what to send.
    public func newer(than other: RecordDigest) -> [String] {
        entries.compactMap { name, key in
            if let theirs = other.entries[name], !(theirs < key) { return nil }
            return name
        }.sorted()
    }

    public func encode(into writer: inout BinaryWriter) {
        writer.write(UInt8(1))
        writer.write(watermark.rawValue)
        writer.write(UInt32(entries.count))
        for (name, key) in entries.sorted(by: { $0.key < $1.key }) {
            writer.write(name)
            Self.write(key, into: &writer)
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingFailure) -> RecordDigest {
        let format = try reader.readUInt8()
        guard format == 1 else { throw DecodingFailure("unknown digest format \(format)") }
        let watermark = HLCTimestamp(rawValue: try reader.readInt64())
        let count = try reader.readCount(max: 1_000_000)
        var entries: [String: InstanceRecord.MergeKey] = [:]
        for _ in 0..<count {
            let name = try reader.readString()
            let created = RecordStamp(version: HLCTimestamp(rawValue: try reader.readInt64()), origin: try reader.readString())
            let deleted = try reader.readBool()
            let stamp = RecordStamp(version: HLCTimestamp(rawValue: try reader.readInt64()), origin: try reader.readString())
            entries[name] = InstanceRecord.MergeKey(created: created, deleted: deleted, stamp: stamp)
        }
        return RecordDigest(entries: entries, watermark: watermark)
    }

    private static func write(_ key: InstanceRecord.MergeKey, into writer: inout BinaryWriter) {
        writer.write(key.created.version.rawValue)
        writer.write(key.created.origin)
        writer.write(key.deleted)
        writer.write(key.stamp.version.rawValue)
        writer.write(key.stamp.origin)
    }
}

/// When a tombstone may be forgotten. A tombstone exists so that a node which still holds the live
/// record cannot bring it back; it may go only once no such node can return. The rule (Cassandra's
/// `gc_grace_seconds`): tombstones older than `retention` are collected, and the node remembers the
/// newest version it collected as a *watermark*. A live record at or below the watermark that the
/// node does not hold is a ghost of a collected delete and is refused by ``decideMerge``; peers
/// adopt each other's watermark during anti-entropy. A node away longer than `retention` therefore
/// loses nothing acknowledged while it was reachable, and brings back nothing deleted while it was not.
public struct TombstonePolicy: Sendable, Hashable {
    /// How long a tombstone is kept (milliseconds). Default 7 days.
    public var retention: Int64

    public init(retention: Int64 = 7 * 24 * 3600 * 1000) { self.retention = retention }

    /// The version below which tombstones may be collected at wall time `now`.
    public func horizon(now: Int64) -> HLCTimestamp {
        HLCTimestamp(milliseconds: max(0, now - retention), counter: 0)
    }
}

/// The outcome of offering one remote record to a store.
public enum MergeDecision: Sendable, Hashable {
    /// Store it: it is new here or supersedes what is here.
    case apply
    /// Same write as the local one, or older: nothing to do.
    case ignoreOlder
    /// A live record at or below the watermark that is unknown here: a collected delete's ghost.
    case ignoreGhost
}

/// The merge rule in one place (the store calls it inside its write transaction).
public func decideMerge(local: InstanceRecord?, remote: InstanceRecord, watermark: HLCTimestamp) -> MergeDecision {
    guard let local else {
        return (!remote.deleted && remote.version <= watermark) ? .ignoreGhost : .apply
    }
    return local.isSuperseded(by: remote) ? .apply : .ignoreOlder
}
