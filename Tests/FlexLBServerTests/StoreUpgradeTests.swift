import FlexLBStore
import Foundation
import Testing

/// A database written by the previous release (flexlbd 0.5.0-dev at commit 23883d7, made by
/// Tests/FlexLBServerTests/Fixtures/README.md's program with that commit's store) opens, upgrades in
/// place and keeps every instance, VRID, listener and version.
@Suite struct StoreUpgradeTests {
    @Test func aDatabaseFromThePreviousReleaseUpgradesInPlace() async throws {
        let fixture = try #require(Bundle.module.path(forResource: "flexlb-0.5.0-dev", ofType: "db", inDirectory: "Fixtures"))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flexlb-upgrade-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/flexlb.db"
        try FileManager.default.copyItem(atPath: fixture, toPath: path)

        let store = try SQLiteStateStore(path: path, nodeName: "lb1")
        #expect(try await store.appliedMigrations() == ["v1", "v2-shared-vrids", "v3-replicated-records"])
        let records = try await store.list()
        #expect(records.map(\.name) == ["api", "web"])
        let web = try #require(records.first { $0.name == "web" })
        let api = try #require(records.first { $0.name == "api" })
        #expect(web.desiredState == .running)
        #expect(api.desiredState == .stopped)
        #expect(web.virtualRouterID == 1)
        #expect(api.virtualRouterID == 2)
        #expect(web.origin == "lb1")
        #expect(web.listeners == [ListenerKey(address: "10.0.0.100", port: 80)])
        #expect(api.listeners == [ListenerKey(address: "10.0.0.101", port: 443)])
        #expect(web.lastModified == 1_700_000_000_000)
        // Versions (and so ETags) are kept: an If-Match read before the upgrade still matches.
        #expect(web.version.rawValue == 1)
        #expect(api.version.rawValue == 3)
        let modified = try await store.update(
            name: "web", expectedVersion: 1, change: InstanceChange(desiredState: .stopped), now: 1_796_000_000_000
        )
        #expect(modified.version > api.version)
        // The old listener index still guards uniqueness.
        await #expect(throws: StoreError.listenerInUse("new", ListenerKey(address: "10.0.0.101", port: 443), owner: "api")) {
            try await store.create(
                name: "new", config: [], listeners: [ListenerKey(address: "10.0.0.101", port: 443)],
                vrrpGroup: "eth0/v4", desiredState: .running, now: 1_796_000_000_000
            )
        }
        // Opening again is a no-op.
        #expect(try await SQLiteStateStore(path: path, nodeName: "lb1").list().count == 2)
        #expect(try await store.integrityCheck() == "ok")
    }
}
