import FlexLBModel
import Testing

@Suite struct PlacementTests {
    let nodes = ["n1", "n2", "n3"]

    @Test func everyNodeGetsADistinctPriorityAndEveryNodeComputesTheSame() {
        for vrid in 1...50 {
            let group = "eth1/v4/\(vrid)"
            let priorities = nodes.map { VRRPPlacement.priority(group: group, node: $0, members: nodes) }
            #expect(Set(priorities).count == 3)
            #expect(priorities.max() == VRRPPlacement.topPriority)
            // Order of the member list does not matter.
            #expect(nodes.reversed().map { VRRPPlacement.priority(group: group, node: $0, members: nodes.reversed()) } == priorities.reversed())
        }
    }

    @Test func topRanksSpreadOverTheNodes() {
        var owners: [String: Int] = [:]
        for vrid in 1...300 {
            owners[VRRPPlacement.ranking(group: "eth1/v4/\(vrid)", members: nodes)[0], default: 0] += 1
        }
        // 300 groups over 3 nodes: each within ±25 % of 100.
        for node in nodes { #expect((75...125).contains(owners[node] ?? 0), "\(owners)") }
    }

    @Test func aJoiningNodeTakesOnlyTheGroupsItRanksFirstFor() {
        let before = (1...300).map { VRRPPlacement.ranking(group: "g\($0)", members: nodes) }
        let after = (1...300).map { VRRPPlacement.ranking(group: "g\($0)", members: nodes + ["n4"]) }
        for (old, new) in zip(before, after) {
            // Relative order of the old members never changes.
            #expect(new.filter { $0 != "n4" } == old)
            if new[0] != "n4" { #expect(new[0] == old[0]) }
        }
        let moved = zip(before, after).filter { $0.0[0] != $0.1[0] }.count
        #expect((45...105).contains(moved), "about a quarter of 300 groups move to the new node, moved \(moved)")
    }

    @Test func subnetsContainTheirAddressesOnly() throws {
        let v4 = try #require(Subnet(cidr: "10.88.0.11/24"))
        #expect(v4.contains("10.88.0.200"))
        #expect(!v4.contains("10.88.1.1"))
        #expect(!v4.contains("fd00::1"))
        let v6 = try #require(Subnet(cidr: "fd00:88::11/64"))
        #expect(v6.contains("fd00:88::ffff"))
        #expect(!v6.contains("fd00:89::1"))
        #expect(try #require(Subnet("10.1.2.3", prefixLength: 0)).contains("192.0.2.1"))
        #expect(Subnet(cidr: "10.0.0.1/33") == nil)
        #expect(Subnet(cidr: "not/24") == nil)
    }

    @Test func peersAreEachMembersAddressOnTheVIPsNetworkNeverAVIP() {
        let members: [String: [String: [String]]] = [
            "n1": ["eth0": ["10.77.0.11/24"], "eth1": ["10.88.0.200/24", "10.88.0.11/24"]],  // holds VIP .200 right now
            "n2": ["eth0": ["10.77.0.12/24"], "eth1": ["10.88.0.12/24"]],
            "n3": ["eth0": ["10.77.0.13/24"], "ens4": ["10.88.0.13/24"]],  // another interface name
            "n4": ["eth0": ["10.77.0.14/24"]],  // not on the VIP's network
        ]
        let peers = VRRPPeers.addresses(vip: "10.88.0.201", prefixLength: 24, interface: "eth1", members: members, vips: ["10.88.0.200", "10.88.0.201"])
        #expect(peers == ["n1": "10.88.0.11", "n2": "10.88.0.12", "n3": "10.88.0.13"])
        // A /32 VIP: the member's address of the family on the VIP's interface.
        let host = VRRPPeers.addresses(vip: "192.0.2.7", prefixLength: 32, interface: "eth1", members: members, vips: ["10.88.0.200"])
        #expect(host == ["n1": "10.88.0.11", "n2": "10.88.0.12"])
    }
}
