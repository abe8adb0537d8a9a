import FlexLBAPI
import FlexLBDataPlane
import FlexLBModel
import FlexLBRender
import FlexLBStore
import FlexLBSupervisor
import Testing

/// The planner event by event: records, liveness, addresses and a manual clock in; actions out;
/// outcomes back in. No files, no processes.
@Suite struct DataPlanePlannerTests {
    static let settings = DataPlanePlanner.Settings(
        node: NodeSettings(routerID: "n1", priority: 255, initialStateMaster: true),
        paths: RenderPaths(haproxyRunDir: "/d/run", pemDir: "/d/pem"),
        trackDirectory: "/d/run/track", tick: 0.2, keepalivedQuietPeriod: 0.1, keepalivedMaxDelay: 1
    )

    static func record(_ name: String, vip: String, vrid: Int = 1, version: Int64 = 1, state: DesiredState = .running, config: [UInt8]? = nil) -> InstanceRecord {
        let declared = InstanceConfig(
            name: name, frontendInterface: "eth1", frontendIpaddress: vip, frontendNetPrefix: 24,
            endpoints: [Endpoint(frontendPort: 80, backendServers: [BackendServer(name: "a", ipaddress: "10.99.2.21", port: 80)])]
        )
        return InstanceRecord(
            name: name, config: config ?? declared.jsonBytes(), desiredState: state, version: HLCTimestamp(rawValue: version), origin: "n1",
            virtualRouterID: vrid, vrrpGroup: "eth1/v4", listeners: [ListenerKey(address: vip, port: 80)], lastModified: 0
        )
    }

    static func snapshot(_ records: [InstanceRecord], revision: Int64 = 1, damaged: [String: String] = [:]) -> StoreSnapshot {
        StoreSnapshot(revision: revision, records: records.sorted { $0.name < $1.name }, damaged: damaged)
    }

    static func isStart(_ action: DataPlaneAction) -> Bool { if case .startHAProxy = action { true } else { false } }
    static func isKeepalivedStart(_ action: DataPlaneAction) -> Bool { if case .startKeepalived = action { true } else { false } }
    static func isKeepalivedReload(_ action: DataPlaneAction) -> Bool { if case .reloadKeepalived = action { true } else { false } }
    static func isHAProxyReload(_ action: DataPlaneAction) -> Bool { if case .reloadHAProxy = action { true } else { false } }

    @Test func theFirstPassAdoptsThenWritesKeepalivedFirstThenStartsEachHAProxy() {
        var world = PlannerWorld()
        world.pass(Self.snapshot([Self.record("web", vip: "10.88.0.200"), Self.record("api", vip: "10.88.0.201", vrid: 2)]))
        guard case .adopt(let candidates) = world.log.first else {
            Issue.record("the first action is not adoption: \(world.log)")
            return
        }
        #expect(candidates == ["api", "web"])
        let kinds = world.log.map { action -> String in
            switch action {
            case .installKeepalived: "keepalived.conf"
            case .startKeepalived: "start keepalived"
            case let .installHAProxy(name, _, _, _): "install \(name)"
            case let .startHAProxy(name, _): "start \(name)"
            default: ""
            }
        }.filter { !$0.isEmpty }
        #expect(kinds == ["keepalived.conf", "start keepalived", "install api", "start api", "install web", "start web"])
        // A second pass with nothing changed does nothing but look.
        world.log = []
        world.now = 0.2
        world.pass(Self.snapshot([Self.record("web", vip: "10.88.0.200"), Self.record("api", vip: "10.88.0.201", vrid: 2)]))
        #expect(world.count { Self.isStart($0) || Self.isKeepalivedStart($0) || Self.isKeepalivedReload($0) || Self.isHAProxyReload($0) } == 0)
    }

    @Test func aLoneChangeReloadsAtOnceAndABurstCoalesces() {
        var world = PlannerWorld()
        var records = [Self.record("i0", vip: "10.88.0.10", vrid: 1)]
        world.pass(Self.snapshot(records))
        // A lone create, long after keepalived started: reloaded in the same pass.
        world.now = 5
        records.append(Self.record("i1", vip: "10.88.0.11", vrid: 2))
        world.pass(Self.snapshot(records, revision: 2))
        #expect(world.count(Self.isKeepalivedReload) == 1)
        // Then a burst, 40 ms apart: no reload until 100 ms after the last change.
        world.log = []
        for index in 2...6 {
            world.now += 0.04
            records.append(Self.record("i\(index)", vip: "10.88.0.\(10 + index)", vrid: 1 + index))
            world.pass(Self.snapshot(records, revision: Int64(index + 1)))
            #expect(world.count(Self.isKeepalivedReload) == 0, "reloaded during the burst, at \(world.now)")
        }
        #expect(world.planner.nextWait(now: world.now) <= 0.1 + 1e-9)
        world.now += 0.1
        world.pass(Self.snapshot(records, revision: 7))
        #expect(world.count(Self.isKeepalivedReload) == 1)
        world.now += 1
        world.pass(Self.snapshot(records, revision: 7))
        #expect(world.count(Self.isKeepalivedReload) == 1)
    }

    @Test func changesThatNeverPauseStillReloadAfterTheMaximumDelay() {
        var world = PlannerWorld()
        var records = [Self.record("i0", vip: "10.88.0.10", vrid: 1)]
        world.pass(Self.snapshot(records))
        // keepalived was just started: the burst below is not after a quiet spell.
        var reloadedAt: Double?
        for index in 1...40 where reloadedAt == nil {
            world.now += 0.05
            records.append(Self.record("i\(index)", vip: "10.88.1.\(index)", vrid: 1 + index))
            world.pass(Self.snapshot(records, revision: Int64(index + 1)))
            if world.count(Self.isKeepalivedReload) > 0 { reloadedAt = world.now }
        }
        #expect(reloadedAt.map { $0 >= 1.0 && $0 < 1.1 } == true, "reloaded at \(String(describing: reloadedAt))")
    }

    @Test func aCrashedHAProxyRestartsWithBackoff() {
        var world = PlannerWorld()
        let records = [Self.record("web", vip: "10.88.0.200")]
        world.pass(Self.snapshot(records))
        let first = world.planner.haproxy["web"]?.pid
        #expect(first != nil)
        // It dies after running long enough to count as stable: restarted after the initial 50 ms
        // backoff, and the planner asks to be woken for it rather than waiting a whole tick.
        world.running.remove(first!)
        world.now = 20
        world.log = []
        world.pass(Self.snapshot(records))
        #expect(world.count(Self.isStart) == 0)
        #expect(abs(world.planner.nextWait(now: world.now) - 0.05) < 1e-9)
        world.now = 20.05
        world.pass(Self.snapshot(records))
        #expect(world.count(Self.isStart) == 1)
        let second = world.planner.haproxy["web"]?.pid
        #expect(second != nil && second != first)
        // It keeps dying at once: each restart waits longer.
        var starts: [Double] = []
        for step in 1...200 {
            world.now = 20 + Double(step) * 0.05
            if let pid = world.planner.haproxy["web"]?.pid { world.running.remove(pid) }
            world.log = []
            world.pass(Self.snapshot(records))
            if world.count(Self.isStart) > 0 { starts.append(world.now) }
        }
        let gaps = zip(starts.dropFirst(), starts).map { $0 - $1 }
        #expect(gaps.count >= 4)
        #expect(gaps.last! > gaps.first!, "backoff does not grow: \(gaps)")
        #expect(gaps.allSatisfy { $0 <= 5.05 })
    }

    @Test func aModifyReloadsHAProxyAndAStopEndsIt() throws {
        var world = PlannerWorld()
        world.pass(Self.snapshot([Self.record("web", vip: "10.88.0.200")]))
        let pid = try #require(world.planner.haproxy["web"]?.pid)
        var changed = InstanceConfig(
            name: "web", frontendInterface: "eth1", frontendIpaddress: "10.88.0.200", frontendNetPrefix: 24,
            endpoints: [Endpoint(frontendPort: 80, backendServers: [BackendServer(name: "b", ipaddress: "10.99.2.22", port: 80)])]
        )
        world.now = 1
        world.pass(Self.snapshot([Self.record("web", vip: "10.88.0.200", version: 2, config: changed.jsonBytes())], revision: 2))
        #expect(world.log.contains(.reloadHAProxy(name: "web", pid: pid, version: 2)))
        #expect(world.planner.appliedVersions["web"] == 2)
        changed.name = "web"
        world.now = 2
        world.pass(Self.snapshot([Self.record("web", vip: "10.88.0.200", version: 3, state: .stopped, config: changed.jsonBytes())], revision: 3))
        #expect(world.log.contains(.stopHAProxy(name: "web", pid: pid)))
        #expect(world.status("web")?.message == "stopped")
    }

    @Test func aConfigurationHAProxyRefusesIsReportedAndTheOthersServe() {
        var world = PlannerWorld()
        world.haproxyRefuses = ["bad"]
        world.pass(Self.snapshot([Self.record("bad", vip: "10.88.0.200"), Self.record("good", vip: "10.88.0.201", vrid: 2)]))
        world.pass(Self.snapshot([Self.record("bad", vip: "10.88.0.200"), Self.record("good", vip: "10.88.0.201", vrid: 2)]))
        let bad = world.status("bad")
        #expect(bad?.state == .down)
        #expect(bad?.message?.contains("HAProxy rejects") == true)
        #expect(bad?.appliedVersion == 1)
        #expect(world.planner.haproxy["bad"]?.pid == nil)
        #expect(world.status("good")?.state == .up)
    }

    @Test func anInstanceKeepalivedRefusesIsLeftOutAndTheOthersKeepTheirVIPs() throws {
        var world = PlannerWorld()
        world.keepalivedRefuses = ["10.88.0.66"]
        world.pass(Self.snapshot([Self.record("bad", vip: "10.88.0.66"), Self.record("good", vip: "10.88.0.201", vrid: 2)]))
        let conf = try #require(world.keepalivedConf)
        #expect(conf.contains("10.88.0.201"))
        #expect(!conf.contains("10.88.0.66"))
        world.pass(Self.snapshot([Self.record("bad", vip: "10.88.0.66"), Self.record("good", vip: "10.88.0.201", vrid: 2)]))
        #expect(world.status("bad")?.state == .down)
        #expect(world.status("bad")?.message?.contains("keepalived") == true)
        #expect(world.status("good")?.state == .up)
        // Fixed by a modify: the refusal ends with the version it was made at.
        world.keepalivedRefuses = []
        world.pass(Self.snapshot([Self.record("bad", vip: "10.88.0.67", version: 2), Self.record("good", vip: "10.88.0.201", vrid: 2)], revision: 2))
        #expect(world.keepalivedConf?.contains("10.88.0.67") == true)
    }

    @Test func withoutKeepalivedVIPsLeftOnTheInterfacesAreRemovedFirst() {
        var world = PlannerWorld()
        world.addresses = [.init(interface: "eth1", address: "10.88.0.200")]
        world.pass(Self.snapshot([Self.record("web", vip: "10.88.0.200")]))
        let removal = world.log.firstIndex(of: .removeStaleVIP(instance: "web", interface: "eth1", address: "10.88.0.200", prefixLength: 24))
        let start = world.log.firstIndex(where: Self.isKeepalivedStart)
        #expect(removal != nil && start != nil && removal! < start!)
        // keepalived runs now: a VIP on the interface is its own.
        world.log = []
        world.pass(Self.snapshot([Self.record("web", vip: "10.88.0.200")]))
        #expect(!world.log.contains { if case .removeStaleVIP = $0 { true } else { false } })
    }

    @Test func aSingleOwnerNodeWithoutItsVIPReportsDownOnceKeepalivedHadTimeToAct() {
        var world = PlannerWorld()
        let records = [Self.record("web", vip: "10.88.0.200")]
        world.pass(Self.snapshot(records))
        world.pass(Self.snapshot(records))
        #expect(world.status("web")?.state == .up, "judged before keepalived had time to add the VIP")
        world.now = 5
        world.pass(Self.snapshot(records))
        let status = world.status("web")
        #expect(status?.state == .down)
        #expect(status?.message?.contains("not on eth1") == true)
        world.addresses = [.init(interface: "eth1", address: "10.88.0.200")]
        #expect(world.status("web")?.state == .up)
        #expect(world.status("web")?.vip == .master)
    }

    @Test func aDamagedRecordKeepsServingItsLastAppliedVersion() {
        var world = PlannerWorld()
        world.pass(Self.snapshot([Self.record("web", vip: "10.88.0.200")]))
        let pid = world.planner.haproxy["web"]?.pid
        world.log = []
        world.pass(Self.snapshot([], revision: 2, damaged: ["web": "bad row"]))
        #expect(!world.log.contains { if case .stopHAProxy = $0 { true } else { false } })
        #expect(world.log.contains(.removeLeftovers(keeping: ["web"])))
        #expect(world.planner.haproxy["web"]?.pid == pid)
        #expect(world.status("web")?.message?.hasPrefix("serving the last applied version") == true)
    }

    // MARK: Cluster

    static let members: [String: [String: [String]]] = [
        "n1": ["eth1": ["10.88.0.11/24"]], "n2": ["eth1": ["10.88.0.12/24"]], "n3": ["eth1": ["10.88.0.13/24"]],
    ]

    /// A VRID whose group ranks `node` first, and one that does not.
    static func vrid(rankingFirst wanted: Bool, on node: String) -> Int {
        (1...200).first { vrid in
            let priority = VRRPPlacement.priority(group: "eth1/v4/\(vrid)", node: node, members: members.keys)
            return (priority == VRRPPlacement.topPriority) == wanted
        }!
    }

    @Test func aNewGroupWaitsOnNodesThatDoNotRankFirstUntilItIsHeldOrPatienceEnds() throws {
        var world = PlannerWorld()
        let topology = ClusterTopology(local: "n1", members: Self.members)
        world.pass(Self.snapshot([]), topology: topology)
        let theirs = Self.vrid(rankingFirst: false, on: "n1")
        let ours = Self.vrid(rankingFirst: true, on: "n1")
        let records = [Self.record("theirs", vip: "10.88.0.200", vrid: theirs), Self.record("ours", vip: "10.88.0.201", vrid: ours)]
        world.now = 1
        world.pass(Self.snapshot(records, revision: 2), topology: topology)
        var conf = try #require(world.keepalivedConf)
        #expect(conf.contains("10.88.0.201"))
        #expect(!conf.contains("10.88.0.200"), "a group another node should win was loaded at once")
        // Still HAProxy runs warm for both.
        #expect(world.planner.haproxy["theirs"]?.pid != nil)
        // Another node reports holding it: load it now (as backup).
        var held = topology
        held.heldElsewhere = ["theirs"]
        world.now = 1.5
        world.pass(Self.snapshot(records, revision: 2), topology: held)
        #expect(world.keepalivedConf?.contains("10.88.0.200") == false, "loaded before the first election settled")
        world.now = 2
        world.pass(Self.snapshot(records, revision: 2), topology: held)
        conf = try #require(world.keepalivedConf)
        #expect(conf.contains("10.88.0.200"))
        // Once loaded it stays, even when nobody reports it any more.
        world.now = 2.5
        world.pass(Self.snapshot(records, revision: 2), topology: topology)
        #expect(world.keepalivedConf?.contains("10.88.0.200") == true)
    }

    @Test func aDrainedNodeFaultsEveryGroupOnceAndUndrainRestoresThem() {
        var world = PlannerWorld()
        let records = [Self.record("web", vip: "10.88.0.200", vrid: 5)]
        var topology = ClusterTopology(local: "n1", members: Self.members)
        world.pass(Self.snapshot(records), topology: topology)
        let key = VRRPGroupKey(virtualRouterID: 5, interface: "eth1", ipv4: true)
        #expect(world.log.contains(.writeHealth(key: key, value: "0")))
        topology.drained = true
        world.log = []
        world.pass(Self.snapshot(records), topology: topology)
        #expect(world.log.contains(.writeHealth(key: key, value: "1")))
        world.log = []
        world.pass(Self.snapshot(records), topology: topology)
        #expect(!world.log.contains { if case .writeHealth = $0 { true } else { false } }, "health rewritten without a change")
        topology.drained = false
        world.pass(Self.snapshot(records), topology: topology)
        #expect(world.log.contains(.writeHealth(key: key, value: "0")))
    }

    @Test func aDrainKeepsTheHandedOverVIPOnLoopbackForAMoment() throws {
        var world = PlannerWorld()
        let records = [Self.record("web", vip: "10.88.0.200", vrid: 5), Self.record("other", vip: "10.88.0.201", vrid: 6)]
        var topology = ClusterTopology(local: "n1", members: Self.members)
        world.addresses = [.init(interface: "eth1", address: "10.88.0.200")]
        world.pass(Self.snapshot(records), topology: topology)
        #expect(!world.log.contains { if case .holdOnLoopback = $0 { true } else { false } })
        topology.drained = true
        world.log = []
        world.now = 1
        world.pass(Self.snapshot(records), topology: topology)
        let hold = try #require(world.log.firstIndex(of: .holdOnLoopback(interface: "eth1", address: "10.88.0.200")))
        let fault = try #require(world.log.firstIndex(of: .writeHealth(key: VRRPGroupKey(virtualRouterID: 5, interface: "eth1", ipv4: true), value: "1")))
        #expect(hold < fault, "the VIP must be on lo before keepalived gives it up")
        #expect(!world.log.contains(.holdOnLoopback(interface: "eth1", address: "10.88.0.201")), "a VIP this node does not hold")
        // keepalived gave it up; the hold lasts 2 s, then ends on a wake-up of its own.
        world.addresses = [.init(interface: "lo", address: "10.88.0.200")]
        world.log = []
        world.now = 2
        world.pass(Self.snapshot(records), topology: topology)
        #expect(!world.log.contains { if case .releaseLoopback = $0 { true } else { false } })
        #expect(abs(world.planner.nextWait(now: 2.9) - 0.1) < 1e-9)
        world.now = 3
        world.pass(Self.snapshot(records), topology: topology)
        #expect(world.log.contains(.releaseLoopback(address: "10.88.0.200")))
    }

    @Test func aVIPLeftOnLoopbackByAnEarlierRunIsReleased() {
        var world = PlannerWorld()
        world.addresses = [.init(interface: "lo", address: "10.88.0.200"), .init(interface: "lo", address: "127.0.0.1")]
        world.pass(Self.snapshot([Self.record("web", vip: "10.88.0.200", vrid: 5)]), topology: ClusterTopology(local: "n1", members: Self.members))
        #expect(world.log.contains(.releaseLoopback(address: "10.88.0.200")))
        #expect(!world.log.contains(.releaseLoopback(address: "127.0.0.1")))
    }

    @Test func aGroupWhoseHAProxyCannotServeIsFaultedHere() {
        var world = PlannerWorld()
        world.haproxyRefuses = ["web"]
        world.pass(Self.snapshot([Self.record("web", vip: "10.88.0.200", vrid: 5)]), topology: ClusterTopology(local: "n1", members: Self.members))
        #expect(world.log.contains(.writeHealth(key: VRRPGroupKey(virtualRouterID: 5, interface: "eth1", ipv4: true), value: "1")))
    }

    @Test func keepalivedWaitsUntilTheNodeHasHeardTheCluster() {
        var world = PlannerWorld()
        var topology = ClusterTopology(local: "n1", members: Self.members, settled: false)
        let records = [Self.record("web", vip: "10.88.0.200", vrid: 5)]
        world.pass(Self.snapshot(records), topology: topology)
        #expect(world.count(Self.isKeepalivedStart) == 0)
        #expect(world.count(Self.isStart) == 1, "HAProxy is not held back")
        topology.settled = true
        world.now = 1
        world.pass(Self.snapshot(records), topology: topology)
        #expect(world.count(Self.isKeepalivedStart) == 1)
    }

    @Test func aNewGroupThisNodeRanksFirstForStartsWithAShortAdvertUntilItHoldsTheVIP() throws {
        var world = PlannerWorld()
        let topology = ClusterTopology(local: "n1", members: Self.members)
        world.pass(Self.snapshot([]), topology: topology)
        let vrid = Self.vrid(rankingFirst: true, on: "n1")
        let records = [Self.record("web", vip: "10.88.0.200", vrid: vrid)]
        world.now = 5
        world.pass(Self.snapshot(records, revision: 2), topology: topology)
        #expect(world.keepalivedConf?.contains("advert_int 0.02") == true)
        #expect(world.count(Self.isKeepalivedReload) == 1, "the new group waits for a coalesced reload")
        // keepalived made this node master: back to the usual interval, in one more reload.
        world.addresses = [.init(interface: "eth1", address: "10.88.0.200")]
        world.now = 5.15
        world.pass(Self.snapshot(records, revision: 2), topology: topology)
        world.now = 5.3
        world.pass(Self.snapshot(records, revision: 2), topology: topology)
        #expect(world.keepalivedConf?.contains("advert_int 0.02") == false)
        #expect(world.keepalivedConf?.contains("advert_int 1\n") == true)
        #expect(world.count(Self.isKeepalivedReload) == 2)
    }

    @Test func aShortAdvertEndsAfterItsWindowEvenWithoutTheVIP() {
        var world = PlannerWorld()
        let topology = ClusterTopology(local: "n1", members: Self.members)
        world.pass(Self.snapshot([]), topology: topology)
        let records = [Self.record("web", vip: "10.88.0.200", vrid: Self.vrid(rankingFirst: true, on: "n1"))]
        world.now = 5
        world.pass(Self.snapshot(records, revision: 2), topology: topology)
        #expect(world.keepalivedConf?.contains("advert_int 0.02") == true)
        #expect(abs(world.planner.nextWait(now: 5.9) - 0.1) < 1e-9, "the end of the window is a wake-up")
        world.now = 6
        world.pass(Self.snapshot(records, revision: 2), topology: topology)
        #expect(world.keepalivedConf?.contains("advert_int 0.02") == false)
    }

    @Test func groupsFoundAtStartAndGroupsOthersRankFirstForKeepTheUsualAdvert() {
        var world = PlannerWorld()
        let topology = ClusterTopology(local: "n1", members: Self.members)
        let ours = Self.record("ours", vip: "10.88.0.200", vrid: Self.vrid(rankingFirst: true, on: "n1"))
        world.pass(Self.snapshot([ours]), topology: topology)
        #expect(world.keepalivedConf?.contains("advert_int 0.02") == false)
        var held = topology
        held.heldElsewhere = ["theirs"]
        let theirs = Self.record("theirs", vip: "10.88.0.201", vrid: Self.vrid(rankingFirst: false, on: "n1"))
        world.now = 1
        world.pass(Self.snapshot([ours, theirs], revision: 2), topology: held)
        world.now = 2.5
        world.pass(Self.snapshot([ours, theirs], revision: 2), topology: held)
        #expect(world.keepalivedConf?.contains("10.88.0.201") == true)
        #expect(world.keepalivedConf?.contains("advert_int 0.02") == false)
    }

    @Test func theClusterEndpointIsServedWithAContentVersion() {
        var world = PlannerWorld()
        let endpoint = DesiredInstance(
            virtualRouterID: 255,
            config: InstanceConfig(
                name: "FLEXLB", frontendInterface: "eth0", frontendIpaddress: "10.77.0.100", frontendNetPrefix: 24,
                endpoints: [Endpoint(frontendPort: 8443, backendServers: [BackendServer(name: "n1", ipaddress: "10.77.0.11", port: 8443)])]
            )
        )
        world.pass(Self.snapshot([]), topology: ClusterTopology(local: "n1", members: Self.members, endpoint: endpoint))
        #expect(world.planner.haproxy["FLEXLB"]?.pid != nil)
        #expect(world.planner.versions["FLEXLB"] == DataPlanePlanner.contentVersion(endpoint))
    }
}

