import Foundation
import GRDB
import Synchronization

/// ``StateStore`` on SQLite in WAL mode with `synchronous=FULL`: a write returns only after its
/// transaction is on disk, so an acknowledged write survives kill -9 and power loss.
public final class SQLiteStateStore: StateStore {
    /// Range of VRRP virtual router ids handed out.
    public let virtualRouterIDs: ClosedRange<Int>
    /// This node's name: the origin of its local writes.
    public let nodeName: String
    private let pool: DatabasePool
    private let clock: Mutex<HybridLogicalClock>
    private let broadcaster = ChangeBroadcaster()
    /// Wall time source for HLC ticks inside merges (tests inject their own `now` on writes).
    private let wallClock: @Sendable () -> Int64

    /// Opens (creating if needed) the database at `path`, upgrading a database written by an
    /// earlier release in place. The file and its WAL are made 0600.
    /// - Throws: when the database was written by a newer release (its schema is unknown here).
    public init(
        path: String,
        nodeName: String,
        virtualRouterIDs: ClosedRange<Int> = 1...255,
        wallClock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) throws {
        self.virtualRouterIDs = virtualRouterIDs
        self.nodeName = nodeName
        self.wallClock = wallClock
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        configuration.busyMode = .timeout(10)
        pool = try DatabasePool(path: path, configuration: configuration)
        let migrator = StoreSchema.migrator(nodeName: nodeName)
        if try pool.read({ try migrator.hasBeenSuperseded($0) }) {
            throw DatabaseError(message: "\(path) was written by a newer flexlbd (unknown schema migrations); refusing to open it")
        }
        try migrator.migrate(pool)
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path + suffix)
        }
        let last = try pool.read { db in
            max(
                try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'hlc'") ?? 0,
                try Int64.fetchOne(db, sql: "SELECT MAX(version) FROM records") ?? 0
            )
        }
        clock = Mutex(HybridLogicalClock(last: HLCTimestamp(rawValue: last)))
    }

    /// The schema migrations applied to the open database, oldest first (the schema version).
    public func appliedMigrations() async throws -> [String] {
        try await pool.read { db in try StoreSchema.migrator(nodeName: "").appliedMigrations(db) }
    }

    // MARK: Reads

    public func list() async throws -> [InstanceRecord] {
        try await snapshot().live
    }

    public func snapshot() async throws -> StoreSnapshot {
        try await pool.read { db in
            let (records, damaged) = try StoreSchema.allRecords(db)
            let revision = try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'revision'") ?? 0
            return StoreSnapshot(revision: revision, records: records, damaged: damaged)
        }
    }

    /// The VIPs of every live instance, read synchronously (start-up, before any task runs).
    public func liveVIPs() throws -> Set<String> {
        try pool.read { db in
            Set(try StoreSchema.allRecords(db).records.filter { !$0.deleted }.flatMap { $0.listeners.map(\.address) })
        }
    }

    public func revision() async throws -> Int64 {
        try await pool.read { db in try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'revision'") ?? 0 }
    }

    public func get(name: String) async throws -> InstanceRecord? {
        try await pool.read { db in try StoreSchema.fetch(db, name: name).flatMap { $0.deleted ? nil : $0 } }
    }

    public func records(named names: [String]) async throws -> [InstanceRecord] {
        try await pool.read { db in try names.compactMap { try StoreSchema.fetch(db, name: $0) } }
    }

    public func digest() async throws -> RecordDigest {
        try await pool.read { db in
            var entries: [String: InstanceRecord.MergeKey] = [:]
            let rows = try Row.fetchAll(
                db, sql: "SELECT name, version, origin, deleted, created_version, created_origin FROM records"
            )
            for row in rows {
                entries[row["name"]] = InstanceRecord.MergeKey(
                    created: RecordStamp(version: HLCTimestamp(rawValue: row["created_version"]), origin: row["created_origin"]),
                    deleted: row["deleted"],
                    stamp: RecordStamp(version: HLCTimestamp(rawValue: row["version"]), origin: row["origin"])
                )
            }
            return RecordDigest(entries: entries, watermark: try StoreSchema.watermark(db))
        }
    }

    public func changes() -> AsyncStream<StoreChange> { broadcaster.subscribe() }

    // MARK: Local writes

    public func create(
        name: String,
        config: [UInt8],
        listeners: Set<ListenerKey>,
        vrrpGroup: String,
        desiredState: DesiredState,
        now: Int64
    ) async throws -> InstanceRecord {
        let ids = virtualRouterIDs
        let record = try await pool.write { [self] db in
            if let existing = try StoreSchema.fetch(db, name: name), !existing.deleted { throw StoreError.alreadyExists(name) }
            try StoreSchema.checkListeners(db, listeners, for: name)
            let vrid = try StoreSchema.allocateVirtualRouterID(db, ids, group: vrrpGroup, for: name)
            let version = try tick(db, now: now)
            let record = InstanceRecord(
                name: name, config: config, desiredState: desiredState, version: version, origin: nodeName,
                virtualRouterID: vrid, vrrpGroup: vrrpGroup, listeners: listeners, lastModified: now
            )
            try StoreSchema.upsert(db, record)
            return record
        }
        broadcaster.publish(StoreChange(source: .local, records: [record]))
        return record
    }

    public func update(name: String, expectedVersion: Int64?, change: InstanceChange, now: Int64) async throws -> InstanceRecord {
        let ids = virtualRouterIDs
        let record = try await pool.write { [self] db in
            guard var record = try StoreSchema.fetch(db, name: name), !record.deleted else { throw StoreError.notFound(name) }
            if let expectedVersion, expectedVersion != record.version.rawValue {
                throw StoreError.versionMismatch(name, current: record.version.rawValue)
            }
            if let listeners = change.listeners {
                try StoreSchema.checkListeners(db, listeners, for: name)
                record.listeners = listeners
            }
            if let group = change.vrrpGroup, group != record.vrrpGroup {
                // A VRID shared with others stays with them; an exclusive one moves with the instance.
                let members = try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM records WHERE deleted = 0 AND vrid = ? AND name != ?",
                    arguments: [record.virtualRouterID, name]
                ) ?? 0
                if members > 0 {
                    record.virtualRouterID = try StoreSchema.allocateVirtualRouterID(db, ids, group: group, for: name)
                }
                record.vrrpGroup = group
            }
            if let config = change.config { record.config = config }
            if let desired = change.desiredState { record.desiredState = desired }
            record.version = try tick(db, now: now)
            record.origin = nodeName
            record.lastModified = now
            try StoreSchema.upsert(db, record)
            return record
        }
        broadcaster.publish(StoreChange(source: .local, records: [record]))
        return record
    }

    @discardableResult
    public func delete(name: String, expectedVersion: Int64?, now: Int64) async throws -> InstanceRecord {
        let tombstone = try await pool.write { [self] db in
            guard let record = try StoreSchema.fetch(db, name: name), !record.deleted else { throw StoreError.notFound(name) }
            if let expectedVersion, expectedVersion != record.version.rawValue {
                throw StoreError.versionMismatch(name, current: record.version.rawValue)
            }
            let tombstone = record.tombstone(version: try tick(db, now: now), origin: nodeName, now: now)
            try StoreSchema.upsert(db, tombstone)
            return tombstone
        }
        broadcaster.publish(StoreChange(source: .local, records: [tombstone]))
        return tombstone
    }

    // MARK: Replication

    @discardableResult
    public func merge(_ records: [InstanceRecord], now: Int64) async throws -> [InstanceRecord] {
        guard !records.isEmpty else { return [] }
        let applied = try await pool.write { [self] db in
            let watermark = try StoreSchema.watermark(db)
            var applied: [InstanceRecord] = []
            for remote in records {
                switch decideMerge(local: try StoreSchema.fetch(db, name: remote.name), remote: remote, watermark: watermark) {
                case .apply:
                    try StoreSchema.upsert(db, remote)
                    applied.append(remote)
                case .ignoreOlder, .ignoreGhost:
                    continue
                }
            }
            if !applied.isEmpty {
                // Later local writes order after everything merged (within the drift bound).
                let last = clock.withLock { clock in
                    for record in applied { clock.observe(record.version, now: now) }
                    return clock.last
                }
                try db.execute(sql: "UPDATE meta SET value = ? WHERE key = 'hlc'", arguments: [last.rawValue])
                try StoreSchema.bumpRevision(db)
            }
            return applied
        }
        if !applied.isEmpty { broadcaster.publish(StoreChange(source: .remote, records: applied)) }
        return applied
    }

    @discardableResult
    public func collectTombstones(policy: TombstonePolicy, now: Int64) async throws -> Int {
        let horizon = policy.horizon(now: now)
        return try await pool.write { db in
            try StoreSchema.collect(db, upTo: horizon, ghostsExcept: nil)
        }
    }

    public func adoptWatermark(_ watermark: HLCTimestamp, peerHolds: Set<String>) async throws {
        let removed = try await pool.write { db -> [InstanceRecord] in
            guard watermark > (try StoreSchema.watermark(db)) else { return [] }
            let ghosts = try StoreSchema.allRecords(db).records.filter {
                !$0.deleted && $0.version <= watermark && !peerHolds.contains($0.name)
            }
            _ = try StoreSchema.collect(db, upTo: watermark, ghostsExcept: peerHolds)
            return ghosts
        }
        if !removed.isEmpty {
            // Announce the removals as tombstones so the data plane lets go of them.
            broadcaster.publish(StoreChange(source: .remote, records: removed.map {
                $0.tombstone(version: $0.version, origin: $0.origin, now: $0.lastModified)
            }))
        }
    }

    /// Runs SQLite's own consistency check; "ok" when the file is sound.
    public func integrityCheck() async throws -> String {
        try await pool.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "no answer" }
    }

    /// The next local version, persisted in the same transaction so a restart (even with a clock
    /// that went backwards) never issues a version lower than one already handed out.
    private func tick(_ db: Database, now: Int64) throws -> HLCTimestamp {
        let version = clock.withLock { $0.tick(now: now) }
        try db.execute(sql: "UPDATE meta SET value = ? WHERE key = 'hlc'", arguments: [version.rawValue])
        try StoreSchema.bumpRevision(db)
        return version
    }
}

/// Fans committed changes out to every subscriber (the reconciler, cluster sync).
final class ChangeBroadcaster: Sendable {
    private let continuations = Mutex<[Int: AsyncStream<StoreChange>.Continuation]>([:])
    private let counter = Atomic<Int>(0)

    func subscribe() -> AsyncStream<StoreChange> {
        let id = counter.add(1, ordering: .relaxed).newValue
        let (stream, continuation) = AsyncStream<StoreChange>.makeStream(bufferingPolicy: .bufferingNewest(1024))
        continuation.onTermination = { [weak self] _ in
            _ = self?.continuations.withLock { $0.removeValue(forKey: id) }
        }
        continuations.withLock { $0[id] = continuation }
        return stream
    }

    func publish(_ change: StoreChange) {
        for continuation in continuations.withLock({ Array($0.values) }) { continuation.yield(change) }
    }
}
