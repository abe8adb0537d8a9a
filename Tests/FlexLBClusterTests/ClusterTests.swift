import FlexLBCluster
import Testing

/// Small clusters on the simulated network: join, restart, leave, metadata, broadcasts.
@Suite struct ClusterTests {
    static func converged(_ network: SimulatedNetwork, _ names: [String], status: Membership.Status = .alive) -> Bool {
        names.allSatisfy { observer in names.allSatisfy { network.status(of: $0, at: observer) == status } }
    }

    /// Three nodes, b and c joining through a.
    static func trio() -> SimulatedNetwork {
        var network = SimulatedNetwork()
        network.start("a")
        network.start("b", seeds: ["a"])
        network.start("c", seeds: ["a"])
        return network
    }

    @Test func joinThroughASeedRetriesUntilTheSeedAnswers() throws {
        var network = SimulatedNetwork()
        network.start("a")
        network.kill("a")
        network.start("b", seeds: ["a"])
        var b = try #require(network.node("b"))
        #expect(b.tick(now: 0.001).contains(.pushPull(to: "a:7946")))
        network.run(for: 2.5)
        #expect(network.node("b")?.joined == false)
        #expect(network.node("b")?.member(named: "a") == nil)
        network.start("a")
        let took = network.run(until: { Self.converged($0, ["a", "b"]) }, limit: 2)
        #expect(took != nil && took! <= 1.01, "join took \(String(describing: took))")
        #expect(network.node("b")?.joined == true)
    }

    @Test func threeNodesConvergeAndStayAlive() {
        var network = Self.trio()
        #expect(network.run(until: { Self.converged($0, ["a", "b", "c"]) }, limit: 3) != nil)
        network.run(for: 20)
        #expect(Self.converged(network, ["a", "b", "c"]))
        #expect(["a", "b", "c"].allSatisfy { network.node($0)?.localHealth == 0 })
    }

    @Test func deadNodeRestartsWithAHigherIncarnationAndRejoins() throws {
        var network = Self.trio()
        network.run(for: 3)
        network.kill("c")
        let detected = network.run(until: { net in ["a", "b"].allSatisfy { net.status(of: "c", at: $0) == .dead } }, limit: 30)
        #expect(detected != nil)
        let deadIncarnation = try #require(network.node("a")?.member(named: "c")?.incarnation)
        // A fresh process with the same name, incarnation 0, joining through b.
        network.start("c", seeds: ["b"])
        let rejoined = network.run(until: { Self.converged($0, ["a", "b", "c"]) }, limit: 5)
        #expect(rejoined != nil, "c did not rejoin")
        let incarnation = try #require(network.node("c")?.local.incarnation)
        #expect(incarnation > deadIncarnation)
        #expect(network.node("a")?.member(named: "c")?.incarnation == incarnation)
    }

    @Test func partitionedNodesAreDeclaredDeadAndRecoverWhenItHeals() {
        var network = Self.trio()
        network.run(for: 3)
        network.cut = [["a:7946", "c:7946"], ["b:7946", "c:7946"]]
        let split = network.run(until: { net in
            net.status(of: "c", at: "a") == .dead && net.status(of: "a", at: "c") == .dead
        }, limit: 40)
        #expect(split != nil)
        network.cut = []
        let healed = network.run(until: { Self.converged($0, ["a", "b", "c"]) }, limit: 10)
        #expect(healed != nil, "partition did not heal")
    }

    @Test func gracefulLeaveIsLeftNotDead() {
        var network = Self.trio()
        network.run(for: 3)
        let now = network.now
        network.perform("c") { $0.leave(now: now) }
        network.run(for: 0.5)
        network.kill("c")
        #expect(network.status(of: "c", at: "a") == .left)
        #expect(network.status(of: "c", at: "b") == .left)
        network.run(for: 30)
        #expect(network.status(of: "c", at: "a") == .left)
        #expect(network.status(of: "c", at: "b") == .left)
    }

    @Test func metadataUpdatePropagates() {
        var network = Self.trio()
        network.run(for: 3)
        network.perform("a") { $0.updateMetadata([10, 0, 0, 1]) }
        let took = network.run(until: { net in
            ["b", "c"].allSatisfy { net.node($0)?.member(named: "a")?.metadata == [10, 0, 0, 1] }
        }, limit: 2)
        #expect(took != nil)
        #expect(network.node("b")?.member(named: "a")?.incarnation == 1)
    }

    @Test func broadcastWithTheSameKeyReplacesTheQueuedOne() {
        var network = Self.trio()
        network.run(for: 3)
        network.run(until: { net in net.liveNames.allSatisfy { net.node($0)?.pendingGossipCount == 0 } }, limit: 10)
        network.perform("a") { instance in
            instance.broadcast(key: "record/web", payload: [1]) + instance.broadcast(key: "record/web", payload: [2])
        }
        #expect(network.node("a")?.pendingGossipCount == 1)
        network.run(for: 2)
        for name in ["b", "c"] {
            #expect(network.deliveries["\(name):7946"]?.map(\.payload) == [[2]])
        }
    }

    @Test func aBroadcastWithATimeGoesOutAtOnce() throws {
        var network = Self.trio()
        network.run(for: 3)
        network.run(until: { net in net.liveNames.allSatisfy { net.node($0)?.pendingGossipCount == 0 } }, limit: 10)
        var a = try #require(network.node("a"))
        let directives = a.broadcast(key: "record/web", payload: [1], now: 3)
        let targets = directives.compactMap { directive -> String? in
            if case let .send(.gossip(items), to) = directive, !items.isEmpty { return to }
            return nil
        }
        #expect(Set(targets) == ["b:7946", "c:7946"])
        // Without a time it waits for the next gossip round.
        #expect(a.broadcast(key: "record/api", payload: [2]).isEmpty)
    }

    @Test func oversizedBroadcastAsksForATCPPush() throws {
        var network = Self.trio()
        network.run(for: 3)
        var a = try #require(network.node("a"))
        let queuedBefore = a.pendingGossipCount
        let directives = a.broadcast(key: "big", payload: Array(repeating: 7, count: 5000))
        #expect(a.pendingGossipCount == queuedBefore)
        guard case let .pushLarge(key, payload, to)? = directives.first else {
            Issue.record("expected pushLarge, got \(directives)")
            return
        }
        #expect(key == "big" && payload.count == 5000)
        #expect(Set(to) == ["b:7946", "c:7946"])
    }
}
