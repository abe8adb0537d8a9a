import Foundation
import GRDB

/// ``StateStore`` on SQLite in WAL mode with `synchronous=FULL`: a write returns only after its
/// transaction is on disk, so an acknowledged write survives kill -9 and power loss.
public final class SQLiteStateStore: StateStore {
    /// Range of VRRP virtual router ids handed out.
    public let virtualRouterIDs: ClosedRange<Int>
    private let pool: DatabasePool

    /// Opens (creating if needed) the database at `path`. The file and its WAL are made 0600.
    public init(path: String, virtualRouterIDs: ClosedRange<Int> = 1...255) throws {
        self.virtualRouterIDs = virtualRouterIDs
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        configuration.busyMode = .timeout(10)
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path + suffix)
        }
    }

    private static var migrator: DatabaseMigrator {
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
            // More instances than virtual router ids: instances on the same interface and address
            // family may share a VRID (one vrrp_instance, several VIPs). `vrrp_group` names that
            // compatibility class; the VRID is no longer unique.
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
        return migrator
    }

    public func list() async throws -> [StoredInstance] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM instances ORDER BY name").map(Self.instance(from:))
        }
    }

    public func revision() async throws -> Int64 {
        try await pool.read { db in try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'revision'") ?? 0 }
    }

    public func get(name: String) async throws -> StoredInstance? {
        try await pool.read { db in try Self.fetch(db, name: name) }
    }

    public func create(
        name: String,
        config: [UInt8],
        listeners: Set<ListenerKey>,
        vrrpGroup: String,
        desiredState: DesiredState,
        now: Int64
    ) async throws -> StoredInstance {
        let ids = virtualRouterIDs
        return try await pool.write { db in
            if try Self.fetch(db, name: name) != nil { throw StoreError.alreadyExists(name) }
            try Self.checkListeners(db, listeners, for: name)
            let vrid = try Self.allocateVirtualRouterID(db, ids, group: vrrpGroup, for: name)
            let instance = StoredInstance(
                name: name,
                virtualRouterID: vrid,
                config: config,
                desiredState: desiredState,
                version: try Self.nextRevision(db),
                lastModified: now
            )
            try db.execute(
                sql: "INSERT INTO instances (name, vrid, vrrp_group, config, desired_state, version, last_modified) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [name, vrid, vrrpGroup, Data(config), desiredState.rawValue, instance.version, now]
            )
            try Self.replaceListeners(db, listeners, for: name)
            return instance
        }
    }

    public func update(name: String, expectedVersion: Int64?, change: InstanceChange, now: Int64) async throws -> StoredInstance {
        try await pool.write { db in
            guard var instance = try Self.fetch(db, name: name) else { throw StoreError.notFound(name) }
            if let expectedVersion, expectedVersion != instance.version {
                throw StoreError.versionMismatch(name, current: instance.version)
            }
            if let listeners = change.listeners {
                try Self.checkListeners(db, listeners, for: name)
                try Self.replaceListeners(db, listeners, for: name)
            }
            if let group = change.vrrpGroup,
               try String.fetchOne(db, sql: "SELECT vrrp_group FROM instances WHERE name = ?", arguments: [name]) != group {
                // A VRID shared with others stays with them; an exclusive one moves with the instance.
                let members = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM instances WHERE vrid = ?", arguments: [instance.virtualRouterID]) ?? 1
                if members > 1 {
                    instance.virtualRouterID = try Self.allocateVirtualRouterID(db, virtualRouterIDs, group: group, for: name)
                }
                try db.execute(
                    sql: "UPDATE instances SET vrid = ?, vrrp_group = ? WHERE name = ?",
                    arguments: [instance.virtualRouterID, group, name]
                )
            }
            if let config = change.config { instance.config = config }
            if let desired = change.desiredState { instance.desiredState = desired }
            instance.version = try Self.nextRevision(db)
            instance.lastModified = now
            try db.execute(
                sql: "UPDATE instances SET config = ?, desired_state = ?, version = ?, last_modified = ? WHERE name = ?",
                arguments: [Data(instance.config), instance.desiredState.rawValue, instance.version, now, name]
            )
            return instance
        }
    }

    public func delete(name: String, expectedVersion: Int64?) async throws {
        try await pool.write { db in
            guard let instance = try Self.fetch(db, name: name) else { throw StoreError.notFound(name) }
            if let expectedVersion, expectedVersion != instance.version {
                throw StoreError.versionMismatch(name, current: instance.version)
            }
            try db.execute(sql: "DELETE FROM listeners WHERE instance = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM instances WHERE name = ?", arguments: [name])
            _ = try Self.nextRevision(db)
        }
    }

    /// Runs SQLite's own consistency check; "ok" when the file is sound.
    public func integrityCheck() async throws -> String {
        try await pool.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "no answer" }
    }

    // MARK: Rows

    private static func fetch(_ db: Database, name: String) throws -> StoredInstance? {
        try Row.fetchOne(db, sql: "SELECT * FROM instances WHERE name = ?", arguments: [name]).map(instance(from:))
    }

    private static func instance(from row: Row) throws -> StoredInstance {
        let state: String = row["desired_state"]
        guard let desired = DesiredState(rawValue: state) else {
            throw DatabaseError(message: "instance \(row["name"] as String): unknown desired_state \(state)")
        }
        let config: Data = row["config"]
        return StoredInstance(
            name: row["name"],
            virtualRouterID: row["vrid"],
            config: [UInt8](config),
            desiredState: desired,
            version: row["version"],
            lastModified: row["last_modified"]
        )
    }

    /// The lowest free VRID; when none is free, the VRID with the fewest members whose members are
    /// all in `group` (same interface and address family: they can share one vrrp_instance).
    private static func allocateVirtualRouterID(_ db: Database, _ ids: ClosedRange<Int>, group: String, for name: String) throws -> Int {
        let used = Set(try Int.fetchAll(db, sql: "SELECT DISTINCT vrid FROM instances WHERE name != ?", arguments: [name]))
        if let free = ids.first(where: { !used.contains($0) }) { return free }
        let shared = try Int.fetchOne(
            db,
            sql: """
                SELECT vrid FROM instances WHERE name != ? AND vrid BETWEEN ? AND ?
                GROUP BY vrid HAVING MIN(vrrp_group) = ? AND MAX(vrrp_group) = ?
                ORDER BY COUNT(*), vrid LIMIT 1
                """,
            arguments: [name, ids.lowerBound, ids.upperBound, group, group]
        )
        guard let shared else { throw StoreError.noFreeVirtualRouterID(name) }
        return shared
    }

    private static func nextRevision(_ db: Database) throws -> Int64 {
        try db.execute(sql: "UPDATE meta SET value = value + 1 WHERE key = 'revision'")
        return try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'revision'") ?? 1
    }

    private static func checkListeners(_ db: Database, _ listeners: Set<ListenerKey>, for name: String) throws {
        for key in listeners.sorted() {
            let owner = try String.fetchOne(
                db,
                sql: "SELECT instance FROM listeners WHERE address = ? AND port = ? AND instance != ?",
                arguments: [key.address, key.port, name]
            )
            if let owner { throw StoreError.listenerInUse(name, key, owner: owner) }
        }
    }

    private static func replaceListeners(_ db: Database, _ listeners: Set<ListenerKey>, for name: String) throws {
        try db.execute(sql: "DELETE FROM listeners WHERE instance = ?", arguments: [name])
        for key in listeners {
            try db.execute(
                sql: "INSERT INTO listeners (address, port, instance) VALUES (?, ?, ?)",
                arguments: [key.address, key.port, name]
            )
        }
    }
}
