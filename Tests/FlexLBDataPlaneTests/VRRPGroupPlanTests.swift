import FlexLBAPI
import FlexLBModel
import FlexLBDataPlane
import FlexLBRender
import Testing

@Suite struct VRRPGroupPlanTests {
    static func instance(_ name: String, vip: String, vrid: Int, running: Bool = true) -> DesiredInstance {
        DesiredInstance(
            virtualRouterID: vrid,
            config: InstanceConfig(
                name: name, frontendInterface: "eth1", frontendIpaddress: vip, frontendNetPrefix: 24,
                endpoints: [Endpoint(frontendPort: 80, backendServers: [BackendServer(name: "a", ipaddress: "10.99.2.21", port: 80)])]
            ),
            running: running
        )
    }

    static let members: [String: [String: [String]]] = [
        "n1": ["eth1": ["10.88.0.11/24"]], "n2": ["eth1": ["10.88.0.12/24"]], "n3": ["eth1": ["10.88.0.13/24"]],
    ]

    @Test func groupsGetPlacementPeersAndAHealthFile() throws {
        let web = Self.instance("web", vip: "10.88.0.200", vrid: 5)
        let topology = ClusterTopology(local: "n2", members: Self.members)
        let groups = VRRPGroupPlan.groups(for: [web, Self.instance("off", vip: "10.88.0.201", vrid: 6, running: false)], topology: topology, trackDirectory: "/run/t")
        let key = VRRPGroupKey(virtualRouterID: 5, interface: "eth1", ipv4: true)
        #expect(Array(groups.keys) == [key])
        let group = try #require(groups[key])
        #expect(group.unicastSourceIP == "10.88.0.12")
        #expect(group.unicastPeers == ["10.88.0.11", "10.88.0.13"])
        #expect(group.trackFile == "/run/t/eth1_v4_5")
        #expect(group.priority == VRRPPlacement.priority(group: "eth1/v4/5", node: "n2", members: ["n1", "n2", "n3"]))
    }

    @Test func aDeadOrDepartedMemberChangesNobodysPriority() {
        let web = Self.instance("web", vip: "10.88.0.200", vrid: 5)
        let all = VRRPGroupPlan.groups(for: [web], topology: ClusterTopology(local: "n1", members: Self.members), trackDirectory: "/t")
        // The topology keeps dead and left members; only forgetting one changes ranks.
        var fewer = Self.members
        fewer["n3"] = nil
        let without = VRRPGroupPlan.groups(for: [web], topology: ClusterTopology(local: "n1", members: fewer), trackDirectory: "/t")
        #expect(all.values.first?.unicastPeers == ["10.88.0.12", "10.88.0.13"])
        #expect(without.values.first?.unicastPeers == ["10.88.0.12"])
    }

    @Test func healthFaultsADrainedNodeAndAGroupWithAnInstanceThatCannotServe() {
        let a = Self.instance("a", vip: "10.88.0.200", vrid: 5)
        let b = Self.instance("b", vip: "10.88.0.201", vrid: 5)  // shares a's VRRP group
        let c = Self.instance("c", vip: "10.88.0.202", vrid: 6)
        let keys = [a, c].map(VRRPGroupPlan.key(of:))
        let healthy = VRRPGroupPlan.health(groups: keys, instances: [a, b, c], unhealthy: [], drained: false)
        #expect(healthy.values.allSatisfy { $0 == "0" })
        let broken = VRRPGroupPlan.health(groups: keys, instances: [a, b, c], unhealthy: ["b"], drained: false)
        #expect(broken[keys[0]] == "1")
        #expect(broken[keys[1]] == "0")
        let drained = VRRPGroupPlan.health(groups: keys, instances: [a, b, c], unhealthy: [], drained: true)
        #expect(drained.values.allSatisfy { $0 == "1" })
    }

    @Test func aNewGroupWaitsOnNodesThatDoNotRankFirstUntilItIsHeldOrPatienceRunsOut() throws {
        // Find a group n1 does not rank first for.
        let vrid = try #require((1...50).first { VRRPPlacement.ranking(group: "eth1/v4/\($0)", members: ["n1", "n2", "n3"])[0] != "n1" })
        let web = Self.instance("web", vip: "10.88.0.200", vrid: vrid)
        let key = VRRPGroupPlan.key(of: web)
        var topology = ClusterTopology(local: "n1", members: Self.members)
        let groups = VRRPGroupPlan.groups(for: [web], topology: topology, trackDirectory: "/t")
        #expect(VRRPGroupPlan.deferred(groups: groups, instances: [web], topology: topology, firstSeen: [key: 10], now: 11) == [key])
        #expect(VRRPGroupPlan.deferred(groups: groups, instances: [web], topology: topology, firstSeen: [key: 10], now: 13.5).isEmpty)
        // Groups this process found at start have no first-seen time: never deferred.
        #expect(VRRPGroupPlan.deferred(groups: groups, instances: [web], topology: topology, firstSeen: [:], now: 11).isEmpty)
        // Held by another node: loaded once the preferred node's first election has settled.
        topology.heldElsewhere = ["web"]
        #expect(VRRPGroupPlan.deferred(groups: groups, instances: [web], topology: topology, firstSeen: [key: 10], now: 10.5) == [key])
        #expect(VRRPGroupPlan.deferred(groups: groups, instances: [web], topology: topology, firstSeen: [key: 10], now: 11).isEmpty)
        // The node that ranks first loads it at once.
        let top = VRRPPlacement.ranking(group: key.description, members: ["n1", "n2", "n3"])[0]
        let topGroups = VRRPGroupPlan.groups(for: [web], topology: ClusterTopology(local: top, members: Self.members), trackDirectory: "/t")
        #expect(VRRPGroupPlan.deferred(groups: topGroups, instances: [web], topology: ClusterTopology(local: top, members: Self.members), firstSeen: [key: 10], now: 10).isEmpty)
    }
}
