import Foundation
import GRDB

/// The SQLite schema, its migrations (the schema version is the list of applied migrations, kept by
/// GRDB in `grdb_migrations`) and the row mapping. Every statement runs inside a caller's transaction.
enum StoreSchema {
    static func migrator(nodeName: String) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE instances (
                        name TEXT PRIMARY KEY NOT NULL,
                        vrid INTEGER NOT NULL UNIQUE,
                        config BLOB NOT NULL,
                        desired_state TEXT NOT NULL,
                        version INTEGER NOT NULL,
                        last_modified INTEGER NOT NULL
                    );
                    CREATE TABLE listeners (
                        address TEXT NOT NULL,
                        port INTEGER NOT NULL,
                        instance TEXT NOT NULL REFERENCES instances(name) ON DELETE CASCADE,
                        PRIMARY KEY (address, port)
                    );
                    CREATE INDEX listeners_instance ON listeners(instance);
                    CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL);
                    INSERT INTO meta (key, value) VALUES ('revision', 0);
                    """
            )
        }
        migrator.registerMigration("v2-shared-vrids") { db in
            try db.execute(
                sql: """
                    CREATE TABLE instances_v2 (
                        name TEXT PRIMARY KEY NOT NULL,
                        vrid INTEGER NOT NULL,
                        vrrp_group TEXT NOT NULL DEFAULT '',
                        config BLOB NOT NULL,
                        desired_state TEXT NOT NULL,
                        version INTEGER NOT NULL,
                        last_modified INTEGER NOT NULL
                    );
                    INSERT INTO instances_v2 (name, vrid, config, desired_state, version, last_modified)
                        SELECT name, vrid, config, desired_state, version, last_modified FROM instances;
                    DROP TABLE instances;
                    ALTER TABLE instances_v2 RENAME TO instances;
                    CREATE INDEX instances_vrid ON instances(vrid);
                    """
            )
        }
        migrator.registerMigration("v3-replicated-records") { db in
            // Replication: every record carries its HLC version, origin node, create stamp and a
            // tombstone flag. Versions written by earlier releases were a local counter (small
            // integers): they stay as they are, below any HLC version, so they order before every
            // later write and old ETags simply stop matching. Their origin is this node.
            try db.execute(
                sql: """
                    CREATE TABLE records (
                        name TEXT PRIMARY KEY NOT NULL,
                        vrid INTEGER NOT NULL,
                        vrrp_group TEXT NOT NULL,
                        config BLOB NOT NULL,
                        desired_state TEXT NOT NULL,
                        version INTEGER NOT NULL,
                        origin TEXT NOT NULL,
                        deleted INTEGER NOT NULL DEFAULT 0,
                        last_modified INTEGER NOT NULL,
                        created_version INTEGER NOT NULL,
                        created_origin TEXT NOT NULL
                    );
                    INSERT INTO records (name, vrid, vrrp_group, config, desired_state, version, origin, deleted,
                                         last_modified, created_version, created_origin)
                        SELECT name, vrid, vrrp_group, config, desired_state, version, :origin, 0,
                               last_modified, version, :origin FROM instances;
                    CREATE TABLE claims (
                        address TEXT NOT NULL,
                        port INTEGER NOT NULL,
                        instance TEXT NOT NULL
                    );
                    INSERT INTO claims (address, port, instance) SELECT address, port, instance FROM listeners;
                    DROP TABLE listeners;
                    DROP TABLE instances;
                    CREATE INDEX claims_listener ON claims(address, port);
                    CREATE INDEX claims_instance ON claims(instance);
                    CREATE INDEX records_vrid ON records(vrid);
                    INSERT INTO meta (key, value) VALUES ('hlc', 0), ('watermark', 0);
                    """,
                arguments: ["origin": nodeName.isEmpty ? "local" : nodeName]
            )
        }
        return migrator
    }

    // MARK: Rows

    static func fetch(_ db: Database, name: String) throws -> InstanceRecord? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM records WHERE name = ?", arguments: [name]) else { return nil }
        return try record(from: row, listeners: try listeners(db, of: name))
    }

    static func record(from row: Row) throws -> InstanceRecord {
        try record(from: row, listeners: nil)
    }

    private static func record(from row: Row, listeners: Set<ListenerKey>?) throws -> InstanceRecord {
        let state: String = row["desired_state"]
        guard let desired = DesiredState(rawValue: state) else {
            throw DatabaseError(message: "instance \(row["name"] as String): unknown desired_state \(state)")
        }
        let config: Data = row["config"]
        let name: String = row["name"]
        return InstanceRecord(
            name: name,
            config: [UInt8](config),
            desiredState: desired,
            version: HLCTimestamp(rawValue: row["version"]),
            origin: row["origin"],
            deleted: row["deleted"],
            virtualRouterID: row["vrid"],
            vrrpGroup: row["vrrp_group"],
            listeners: listeners ?? [],
            lastModified: row["last_modified"],
            created: RecordStamp(version: HLCTimestamp(rawValue: row["created_version"]), origin: row["created_origin"])
        )
    }

    /// All rows with their listeners (one extra query for all claims, not one per row).
    static func allRecords(_ db: Database) throws -> (records: [InstanceRecord], damaged: [String: String]) {
        var claims: [String: Set<ListenerKey>] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT address, port, instance FROM claims") {
            claims[row["instance"], default: []].insert(ListenerKey(address: row["address"], port: row["port"]))
        }
        var records: [InstanceRecord] = []
        var damaged: [String: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT * FROM records ORDER BY name") {
            let name: String = row["name"]
            do {
                records.append(try record(from: row, listeners: claims[name] ?? []))
            } catch {
                damaged[name] = "\(error)"
            }
        }
        return (records, damaged)
    }

    static func listeners(_ db: Database, of name: String) throws -> Set<ListenerKey> {
        Set(try Row.fetchAll(db, sql: "SELECT address, port FROM claims WHERE instance = ?", arguments: [name]).map {
            ListenerKey(address: $0["address"], port: $0["port"])
        })
    }

    /// Inserts or replaces the record and its listener claims (a tombstone claims none).
    static func upsert(_ db: Database, _ record: InstanceRecord) throws {
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO records (name, vrid, vrrp_group, config, desired_state, version, origin, deleted,
                                                last_modified, created_version, created_origin)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                record.name, record.virtualRouterID, record.vrrpGroup, Data(record.config), record.desiredState.rawValue,
                record.version.rawValue, record.origin, record.deleted, record.lastModified,
                record.created.version.rawValue, record.created.origin,
            ]
        )
        try db.execute(sql: "DELETE FROM claims WHERE instance = ?", arguments: [record.name])
        guard !record.deleted else { return }
        for key in record.listeners {
            try db.execute(
                sql: "INSERT INTO claims (address, port, instance) VALUES (?, ?, ?)",
                arguments: [key.address, key.port, record.name]
            )
        }
    }

    static func bumpRevision(_ db: Database) throws {
        try db.execute(sql: "UPDATE meta SET value = value + 1 WHERE key = 'revision'")
    }

    static func watermark(_ db: Database) throws -> HLCTimestamp {
        HLCTimestamp(rawValue: try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'watermark'") ?? 0)
    }

    /// Removes tombstones at or below `horizon` and raises the watermark to the newest one removed
    /// (or to `horizon` itself when adopting a peer's). With `ghostsExcept`, live records at or below
    /// the horizon that are not in the set are removed too (a peer's collected deletes).
    static func collect(_ db: Database, upTo horizon: HLCTimestamp, ghostsExcept peerHolds: Set<String>?) throws -> Int {
        var names = try String.fetchAll(
            db, sql: "SELECT name FROM records WHERE deleted = 1 AND version <= ?", arguments: [horizon.rawValue]
        )
        var newest = try Int64.fetchOne(
            db, sql: "SELECT MAX(version) FROM records WHERE deleted = 1 AND version <= ?", arguments: [horizon.rawValue]
        ) ?? 0
        if let peerHolds {
            names += try String.fetchAll(
                db, sql: "SELECT name FROM records WHERE deleted = 0 AND version <= ?", arguments: [horizon.rawValue]
            ).filter { !peerHolds.contains($0) }
            newest = horizon.rawValue
        }
        guard !names.isEmpty || newest > 0 else { return 0 }
        for name in names {
            try db.execute(sql: "DELETE FROM records WHERE name = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM claims WHERE instance = ?", arguments: [name])
        }
        try db.execute(sql: "UPDATE meta SET value = MAX(value, ?) WHERE key = 'watermark'", arguments: [newest])
        if !names.isEmpty { try bumpRevision(db) }
        return names.count
    }

    // MARK: Local checks

    static func checkListeners(_ db: Database, _ listeners: Set<ListenerKey>, for name: String) throws {
        for key in listeners.sorted() {
            let owner = try String.fetchOne(
                db,
                sql: "SELECT instance FROM claims WHERE address = ? AND port = ? AND instance != ? ORDER BY instance LIMIT 1",
                arguments: [key.address, key.port, name]
            )
            if let owner { throw StoreError.listenerInUse(name, key, owner: owner) }
        }
    }

    /// The lowest VRID no live instance uses; when none is free, the VRID with the fewest members
    /// whose members are all in `group` (same interface and address family: they can share one
    /// vrrp_instance). Two nodes choosing concurrently may pick the same VRID for instances of one
    /// group: they then share a VRRP instance, which is valid; see the keepalived renderer.
    static func allocateVirtualRouterID(_ db: Database, _ ids: ClosedRange<Int>, group: String, for name: String) throws -> Int {
        let used = Set(try Int.fetchAll(db, sql: "SELECT DISTINCT vrid FROM records WHERE deleted = 0 AND name != ?", arguments: [name]))
        if let free = ids.first(where: { !used.contains($0) }) { return free }
        let shared = try Int.fetchOne(
            db,
            sql: """
                SELECT vrid FROM records WHERE deleted = 0 AND name != ? AND vrid BETWEEN ? AND ?
                GROUP BY vrid HAVING MIN(vrrp_group) = ? AND MAX(vrrp_group) = ?
                ORDER BY COUNT(*), vrid LIMIT 1
                """,
            arguments: [name, ids.lowerBound, ids.upperBound, group, group]
        )
        guard let shared else { throw StoreError.noFreeVirtualRouterID(name) }
        return shared
    }
}
