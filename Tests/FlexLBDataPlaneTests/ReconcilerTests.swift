import FlexLBAPI
import FlexLBDataPlane
import FlexLBRender
import FlexLBStore
import FlexLBSupervisor
import FlexLBTestKit
import Foundation
import Logging
import Testing

/// The reconciler against a real store and real files, with processes faked: `haproxy -c` and
/// `keepalived -t` run `/bin/true` and `/usr/bin/true`, and the launcher records instead of starting.
@Suite(.serialized) struct ReconcilerTests {
    static let haproxy = "/bin/true"
    static let keepalived = "/usr/bin/true"

    let directory: String
    let store: SQLiteStateStore
    let launcher = FakeProcessLauncher()
    let settings: DataPlaneSettings

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("flexlb-rec-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        store = try SQLiteStateStore(path: directory + "/flexlb.db", nodeName: "node1")
        settings = DataPlaneSettings(
            dataDir: directory + "/data",
            haproxyBinary: Self.haproxy,
            keepalivedBinary: Self.keepalived,
            node: NodeSettings(routerID: "test", priority: 255, initialStateMaster: true),
            tick: .milliseconds(20),
            enableNonlocalBind: false
        )
    }

    /// Runs a reconciler for the duration of `body`, then cancels it and removes the files.
    private func withReconciler(_ body: (Reconciler) async throws -> Void) async throws {
        let reconciler = Reconciler(store: store, settings: settings, launcher: launcher, observed: ObservedStatus(), logger: Logger(label: "test"))
        let task = Task { try await reconciler.run() }
        defer {
            task.cancel()
            try? FileManager.default.removeItem(atPath: directory)
        }
        try await body(reconciler)
        #expect(launcher.illegalUses == [])
    }

    private func config(_ name: String, vip: String, weight: Int = 100) -> InstanceConfig {
        InstanceConfig(
            name: name,
            frontendInterface: "eth0",
            frontendIpaddress: vip,
            frontendNetPrefix: 24,
            endpoints: [Endpoint(frontendPort: 80, backendServers: [
                BackendServer(name: "web1", ipaddress: "10.1.2.3", port: 8080, options: "check weight \(weight)"),
            ])]
        )
    }

    @discardableResult
    private func create(_ name: String, vip: String) async throws -> InstanceRecord {
        try await store.create(
            name: name, config: config(name, vip: vip).jsonBytes(),
            listeners: [ListenerKey(address: vip, port: 80)], vrrpGroup: "eth0/v4", desiredState: .running, now: 0
        )
    }

    private func until(_ what: String, timeout: Duration = .seconds(5), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting for \(what)")
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    private func keepalivedConf() -> String {
        (try? String(contentsOfFile: settings.keepalivedConfig, encoding: .utf8)) ?? ""
    }

    private func haproxyPid(_ name: String) -> Int32? {
        launcher.livePids(Self.haproxy, argument: settings.haproxyConfig(instance: name)).first
    }

    @Test func startsOneHAProxyPerInstanceAndOneKeepalivedWithPrivateFiles() async throws {
        try await withReconciler { reconciler in
            for (i, name) in ["a", "b", "c"].enumerated() { try await create(name, vip: "10.9.0.\(i + 1)") }
            reconciler.poke()
            try await until("three HAProxy processes") { launcher.livePids(Self.haproxy).count == 3 }
            try await until("three VIPs in keepalived.conf") { (1...3).allSatisfy { keepalivedConf().contains("10.9.0.\($0)/24 dev eth0") } }
            #expect(launcher.livePids(Self.keepalived).count == 1)
            let spec = try #require(launcher.launches(of: Self.haproxy).first)
            #expect(spec.arguments.starts(with: ["-W", "-f"]))
            let mode = try FileManager.default.attributesOfItem(atPath: settings.haproxyConfig(instance: "a"))[.posixPermissions] as? Int
            #expect(mode == 0o600)
        }
    }

    @Test func aBurstOfWritesCostsFewKeepalivedReloads() async throws {
        try await withReconciler { reconciler in
            try await create("first", vip: "10.9.1.1")
            reconciler.poke()
            try await until("keepalived running") { !launcher.livePids(Self.keepalived).isEmpty }
            let keepalivedPid = try #require(launcher.livePids(Self.keepalived).first)
            for i in 2...30 {
                try await create("burst\(i)", vip: "10.9.1.\(i)")
                reconciler.poke()
            }
            try await until("every VIP in keepalived.conf") { keepalivedConf().contains("10.9.1.30/24") }
            try await until("the pending reload") { launcher.signals(to: keepalivedPid).contains(SIGHUP) }
            try await Task.sleep(for: .milliseconds(300))
            let reloads = launcher.signals(to: keepalivedPid).filter { $0 == SIGHUP }.count
            #expect(reloads >= 1 && reloads <= 5, "30 writes caused \(reloads) keepalived reloads")
            #expect(launcher.livePids(Self.keepalived) == [keepalivedPid])
        }
    }

    @Test func modifyReloadsCrashRestartsStopAndDeleteCleanUp() async throws {
        try await withReconciler { reconciler in
            try await create("web", vip: "10.9.2.1")
            try await create("gone", vip: "10.9.2.2")
            reconciler.poke()
            try await until("both running") { haproxyPid("web") != nil && haproxyPid("gone") != nil }
            let web = try #require(haproxyPid("web"))

            // A modify is a hitless reload of the same master.
            _ = try await store.update(
                name: "web", expectedVersion: nil,
                change: InstanceChange(config: config("web", vip: "10.9.2.1", weight: 7).jsonBytes()), now: 1
            )
            reconciler.poke()
            try await until("SIGUSR2") { launcher.signals(to: web).contains(SIGUSR2) }
            #expect(haproxyPid("web") == web)
            let cfg = try String(contentsOfFile: settings.haproxyConfig(instance: "web"), encoding: .utf8)
            #expect(cfg.contains("check weight 7"))

            // A crash is noticed on the next tick and the instance is started again.
            launcher.crash(web)
            try await until("restart after a crash") { haproxyPid("web").map { $0 != web } ?? false }

            // Drift: a deleted config file is written again.
            try FileManager.default.removeItem(atPath: settings.haproxyConfig(instance: "web"))
            try await until("config rewritten") { FileManager.default.fileExists(atPath: settings.haproxyConfig(instance: "web")) }

            // Stop: SIGTERM, VIP out of keepalived.conf, declaration kept.
            let gone = try #require(haproxyPid("gone"))
            _ = try await store.update(name: "gone", expectedVersion: nil, change: InstanceChange(desiredState: .stopped), now: 2)
            reconciler.poke()
            try await until("stopped") { launcher.signals(to: gone) == [SIGTERM] && !keepalivedConf().contains("10.9.2.2/") }
            #expect(FileManager.default.fileExists(atPath: settings.haproxyConfig(instance: "gone")))

            // Delete: nothing of it remains.
            try await store.delete(name: "gone", expectedVersion: nil, now: 3)
            reconciler.poke()
            try await until("files removed") { !FileManager.default.fileExists(atPath: settings.haproxyConfig(instance: "gone")) }
            #expect(haproxyPid("gone") == nil)
            #expect(!keepalivedConf().contains("gone"))
        }
    }
}
