import FlexLBStore
import Foundation
import Testing

/// The store as a replica: merge, tombstones and their collection, digests, the change stream, and
/// durability of the clock. Real SQLite files in a temporary directory.
@Suite struct StoreReplicationTests {
    let directory: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("flexlb-repl-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func open(_ node: String) throws -> SQLiteStateStore {
        try SQLiteStateStore(path: "\(directory)/\(node).db", nodeName: node)
    }

    func create(_ store: SQLiteStateStore, _ name: String, port: Int = 80, now: Int64 = 1_000) async throws -> InstanceRecord {
        try await store.create(
            name: name, config: Array(#"{"name":"\#(name)"}"#.utf8),
            listeners: [ListenerKey(address: "10.0.0.1", port: port)], vrrpGroup: "eth0/v4",
            desiredState: .running, now: now
        )
    }

    /// Full anti-entropy between two stores, both ways.
    func sync(_ a: SQLiteStateStore, _ b: SQLiteStateStore, now: Int64) async throws {
        let (da, db) = (try await a.digest(), try await b.digest())
        try await b.merge(try await a.records(named: da.newer(than: db)), now: now)
        try await a.merge(try await b.records(named: db.newer(than: da)), now: now)
    }

    @Test func localWritesAreStampedWithTheNodeAndAnHLCVersion() async throws {
        let store = try open("n1")
        let a = try await create(store, "a", now: 1_796_000_000_000)
        #expect(a.origin == "n1")
        #expect(a.version.milliseconds == 1_796_000_000_000)
        #expect(a.created == a.stamp)
        let stopped = try await store.update(name: "a", expectedVersion: nil, change: InstanceChange(desiredState: .stopped), now: 1_796_000_000_000)
        #expect(stopped.version > a.version)
        #expect(stopped.created == a.created)
    }

    @Test func theClockSurvivesARestartEvenIfWallTimeGoesBack() async throws {
        let store = try open("n1")
        let a = try await create(store, "a", now: 5_000)
        let reopened = try open("n1")
        let b = try await create(reopened, "b", port: 81, now: 1_000)
        #expect(b.version > a.version)
    }

    @Test func aDeleteLeavesATombstoneThatReplicatesAndIsNotListed() async throws {
        let (n1, n2) = (try open("n1"), try open("n2"))
        _ = try await create(n1, "a", now: 1_000)
        try await sync(n1, n2, now: 1_100)
        #expect(try await n2.get(name: "a") != nil)
        let tomb = try await n1.delete(name: "a", expectedVersion: nil, now: 2_000)
        #expect(tomb.deleted)
        #expect(try await n1.get(name: "a") == nil)
        #expect(try await n1.list().isEmpty)
        try await sync(n1, n2, now: 2_100)
        #expect(try await n2.get(name: "a") == nil)
        #expect(try await n2.digest() == n1.digest())
        // The tombstone frees the listener and the name for a new life.
        let again = try await create(n2, "a", now: 3_000)
        #expect(again.created.origin == "n2")
        try await sync(n1, n2, now: 3_100)
        #expect(try await n1.get(name: "a") == again)
    }

    @Test func partitionedDeleteAndModifyConvergeToTheDelete() async throws {
        let (n1, n2, n3) = (try open("n1"), try open("n2"), try open("n3"))
        _ = try await create(n1, "web", now: 1_000)
        try await sync(n1, n2, now: 1_100)
        try await sync(n2, n3, now: 1_100)
        // {n1} | {n2, n3}: delete on n1, modify later (by wall clock) on n2.
        try await n1.delete(name: "web", expectedVersion: nil, now: 2_000)
        _ = try await n2.update(name: "web", expectedVersion: nil, change: InstanceChange(config: Array("{}".utf8)), now: 9_000)
        try await sync(n2, n3, now: 9_100)
        // Heal, in both directions and orders.
        try await sync(n3, n1, now: 10_000)
        try await sync(n1, n2, now: 10_000)
        for store in [n1, n2, n3] {
            #expect(try await store.get(name: "web") == nil)
        }
        #expect(try await n1.digest() == n2.digest())
        #expect(try await n2.digest() == n3.digest())
    }

    @Test func mergeIsIdempotentAndPublishesOnlyRealChanges() async throws {
        let (n1, n2) = (try open("n1"), try open("n2"))
        let a = try await create(n1, "a")
        var changes = n2.changes().makeAsyncIterator()
        let revision = try await n2.revision()
        #expect(try await n2.merge([a], now: 2_000) == [a])
        #expect(try await n2.merge([a], now: 2_000).isEmpty)
        #expect(try await n2.revision() == revision + 1)
        let change = await changes.next()
        #expect(change?.source == .remote)
        #expect(change?.records == [a])
        // A later local write on n2 orders after the merged record.
        let modified = try await n2.update(name: "a", expectedVersion: nil, change: InstanceChange(desiredState: .stopped), now: 10)
        #expect(modified.version > a.version)
    }

    @Test func tombstonesAreCollectedAfterRetentionAndGhostsAreRefused() async throws {
        let (n1, n2) = (try open("n1"), try open("n2"))
        let day: Int64 = 24 * 3600 * 1000
        let live = try await create(n1, "a", now: 1_000)
        try await sync(n1, n2, now: 1_000)
        // n2 goes away holding the live record. n1 deletes and, after retention, collects.
        try await n1.delete(name: "a", expectedVersion: nil, now: 2_000)
        let policy = TombstonePolicy(retention: 7 * day)
        #expect(try await n1.collectTombstones(policy: policy, now: 3 * day) == 0)
        #expect(try await n1.collectTombstones(policy: policy, now: 8 * day) == 1)
        let digest = try await n1.digest()
        #expect(digest.entries.isEmpty)
        #expect(digest.watermark >= HLCTimestamp(milliseconds: 2_000, counter: 0))
        // n2 returns and pushes its stale live copy: a ghost, refused.
        #expect(try await n1.merge([live], now: 8 * day).isEmpty)
        #expect(try await n1.get(name: "a") == nil)
        // n2 adopts n1's watermark: its stale copy goes too, announced as a delete.
        var changes = n2.changes().makeAsyncIterator()
        try await n2.adoptWatermark(digest.watermark, peerHolds: Set(digest.entries.keys))
        #expect(try await n2.get(name: "a") == nil)
        #expect(await changes.next()?.records.first?.deleted == true)
        // A record newer than the watermark is of course accepted.
        let fresh = try await create(n2, "b", port: 81, now: 8 * day)
        #expect(try await n1.merge([fresh], now: 8 * day) == [fresh])
    }

    @Test func aRowThatDoesNotDecodeIsReportedNotDropped() async throws {
        let store = try open("n1")
        _ = try await create(store, "good", port: 80)
        _ = try await create(store, "bad", port: 81)
        // Damage one row behind the store's back (a downgrade, a hand edit).
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        sqlite.arguments = ["\(directory)/n1.db", "UPDATE records SET desired_state = 'paused' WHERE name = 'bad'"]
        try sqlite.run()
        sqlite.waitUntilExit()
        #expect(sqlite.terminationStatus == 0)
        let snapshot = try await store.snapshot()
        #expect(snapshot.records.map(\.name) == ["good"])
        #expect(snapshot.damaged.keys.sorted() == ["bad"])
        #expect(snapshot.damaged["bad"]?.contains("paused") == true)
        #expect(try await store.list().map(\.name) == ["good"])
    }
}
