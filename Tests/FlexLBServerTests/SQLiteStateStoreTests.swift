import FlexLBStore
import Foundation
import Testing

@Suite struct SQLiteStateStoreTests {
    let directory: String
    let store: SQLiteStateStore

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("flexlb-store-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        store = try SQLiteStateStore(path: directory + "/flexlb.db", nodeName: "n1", virtualRouterIDs: 1...3)
    }

    private func create(_ name: String, port: Int = 80, address: String = "10.0.0.1", group: String = "eth0/v4") async throws -> InstanceRecord {
        try await store.create(
            name: name,
            config: Array("{\"name\":\"\(name)\"}".utf8),
            listeners: [ListenerKey(address: address, port: port)],
            vrrpGroup: group,
            desiredState: .running,
            now: 1000
        )
    }

    @Test func createAssignsLowestFreeVirtualRouterIDAndIncreasingVersions() async throws {
        let a = try await create("a", port: 1)
        let b = try await create("b", port: 2)
        #expect(a.virtualRouterID == 1)
        #expect(b.virtualRouterID == 2)
        #expect(b.version > a.version)
        try await store.delete(name: "a", expectedVersion: nil, now: 1)
        let c = try await create("c", port: 3)
        #expect(c.virtualRouterID == 1)
        #expect(c.version > b.version)
        #expect(try await store.list().map(\.name) == ["b", "c"])
    }

    @Test func revisionMovesWithEveryWriteAndOnlyThen() async throws {
        let start = try await store.revision()
        _ = try await create("a")
        let afterCreate = try await store.revision()
        #expect(afterCreate > start)
        _ = try await store.list()
        #expect(try await store.revision() == afterCreate)
        await #expect(throws: StoreError.self) { try await create("a") }
        #expect(try await store.revision() == afterCreate)
        try await store.delete(name: "a", expectedVersion: nil, now: 1)
        #expect(try await store.revision() > afterCreate)
    }

    @Test func duplicateNameIsRefused() async throws {
        _ = try await create("a", port: 1)
        await #expect(throws: StoreError.alreadyExists("a")) { try await create("a", port: 2) }
    }

    @Test func listenerOfAnotherInstanceIsRefusedAndNothingIsWritten() async throws {
        _ = try await create("a", port: 80)
        await #expect(throws: StoreError.listenerInUse("b", ListenerKey(address: "10.0.0.1", port: 80), owner: "a")) {
            try await create("b", port: 80)
        }
        #expect(try await store.get(name: "b") == nil)
        // The same instance may keep its own listener across modifies.
        let updated = try await store.update(
            name: "a",
            expectedVersion: nil,
            change: InstanceChange(config: Array("{}".utf8), listeners: [ListenerKey(address: "10.0.0.1", port: 80)]),
            now: 2000
        )
        #expect(updated.lastModified == 2000)
        // Releasing a listener on modify frees it for others.
        _ = try await store.update(
            name: "a", expectedVersion: nil,
            change: InstanceChange(listeners: [ListenerKey(address: "10.0.0.1", port: 81)]), now: 3000
        )
        _ = try await create("b", port: 80)
    }

    @Test func whenVirtualRouterIDsRunOutInstancesOfOneGroupShareThem() async throws {
        for i in 1...3 { _ = try await create("i\(i)", port: i) }
        // All three ids are taken: the next instances share, spreading evenly, lowest id first.
        #expect(try await create("i4", port: 4).virtualRouterID == 1)
        #expect(try await create("i5", port: 5).virtualRouterID == 2)
        // Another interface or address family cannot join those VRRP instances.
        await #expect(throws: StoreError.noFreeVirtualRouterID("v6")) { try await create("v6", port: 6, group: "eth0/v6") }
        // Moving a sharing instance to another group gives it a compatible id, or refuses.
        await #expect(throws: StoreError.noFreeVirtualRouterID("i4")) {
            try await store.update(name: "i4", expectedVersion: nil, change: InstanceChange(vrrpGroup: "eth1/v4"), now: 1)
        }
        #expect(try await store.get(name: "i4")?.virtualRouterID == 1)
        // An instance alone on its id keeps it when its group changes.
        try await store.delete(name: "i4", expectedVersion: nil, now: 1)
        let moved = try await store.update(name: "i1", expectedVersion: nil, change: InstanceChange(vrrpGroup: "eth1/v4"), now: 1)
        #expect(moved.virtualRouterID == 1)
    }

    @Test func conditionalWritesCheckTheVersion() async throws {
        let a = try await create("a")
        await #expect(throws: StoreError.versionMismatch("a", current: a.version.rawValue)) {
            try await store.update(name: "a", expectedVersion: a.version.rawValue + 100, change: InstanceChange(desiredState: .stopped), now: 1)
        }
        let stopped = try await store.update(name: "a", expectedVersion: a.version.rawValue, change: InstanceChange(desiredState: .stopped), now: 1)
        #expect(stopped.desiredState == .stopped)
        await #expect(throws: StoreError.versionMismatch("a", current: stopped.version.rawValue)) {
            try await store.delete(name: "a", expectedVersion: a.version.rawValue, now: 1)
        }
        try await store.delete(name: "a", expectedVersion: stopped.version.rawValue, now: 1)
        await #expect(throws: StoreError.notFound("a")) { try await store.delete(name: "a", expectedVersion: nil, now: 1) }
    }

    @Test func dataSurvivesReopenAndFilesArePrivate() async throws {
        _ = try await create("a")
        let reopened = try SQLiteStateStore(path: directory + "/flexlb.db", nodeName: "n1")
        #expect(try await reopened.get(name: "a")?.config == Array("{\"name\":\"a\"}".utf8))
        #expect(try await reopened.integrityCheck() == "ok")
        let mode = try FileManager.default.attributesOfItem(atPath: directory + "/flexlb.db")[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }
}
