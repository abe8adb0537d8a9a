import FlexLBCluster
import Testing

/// 100 nodes on a simulated network losing 10 % of datagrams, default settings, fixed seeds.
@Suite struct SimulationTests {
    static let size = 100
    static let names = (0..<size).map { "n\($0)" }

    @Test func hundredNodesWithTenPercentLoss() throws {
        try Self.simulate(seed: 7)
    }

    /// Runs the scenario; returns (seconds to disseminate, seconds to detect).
    @discardableResult
    static func simulate(seed: UInt64, settings: Membership.Settings = .init()) throws -> (Double, Double) {
        var network = SimulatedNetwork(settings: settings, lossRate: 0.10, seed: seed)
        network.start(Self.names[0])
        for name in Self.names.dropFirst() { network.start(name, seeds: [Self.names[0]]) }

        // Everyone learns everyone.
        let joined = network.run(until: { net in
            net.liveNames.allSatisfy { net.node($0)?.snapshot().count(where: { $0.status == .alive }) == Self.size }
        }, limit: 30)
        print("[simulation] \(Self.size) nodes, 10% loss: full membership view after \(Self.format(joined)) s")
        try #require(joined != nil)
        network.run(until: { net in net.liveNames.allSatisfy { net.node($0)?.pendingGossipCount == 0 } }, limit: 20)
        network.run(for: 2)

        // (a) One application broadcast reaches every node.
        let origin = "n37"
        let interval = network.settings.gossipInterval
        let datagramsBefore = network.datagrams
        network.perform(origin) { $0.broadcast(key: "record/web", payload: Array("v1".utf8)) }
        let disseminated = network.run(until: { net in
            net.liveNames.allSatisfy { $0 == origin || net.deliveries["\($0):7946"]?.contains { $0.key == "record/web" } == true }
        }, limit: 10)
        let rounds = disseminated.map { Int(($0 / interval).rounded(.up)) }
        print("[simulation] broadcast delivered to all \(Self.size - 1) peers after \(Self.format(disseminated)) s = \(rounds.map(String.init) ?? "-") gossip rounds, \(network.datagrams - datagramsBefore) datagrams cluster-wide meanwhile")
        let spread = try #require(disseminated)
        #expect(spread < 2)
        #expect(network.liveNames.allSatisfy { name in
            (network.deliveries["\(name):7946"] ?? []).count(where: { $0.key == "record/web" }) <= 1
        }, "each broadcast is delivered once")

        // (b) A killed node is declared dead by every live node.
        network.run(for: 2)
        let victim = "n73"
        network.kill(victim)
        let suspected = network.run(until: { net in
            net.liveNames.contains { net.status(of: victim, at: $0) == .suspect }
        }, limit: 30)
        print("[simulation] killed \(victim): first suspected after \(Self.format(suspected)) s")
        let detected = network.run(until: { net in
            net.liveNames.allSatisfy { net.status(of: victim, at: $0) == .dead }
        }, limit: 30)
        let afterSuspicion = try #require(detected)
        let detection = (suspected ?? 0) + afterSuspicion
        print("[simulation] killed \(victim): dead at all \(Self.size - 1) live nodes \(Self.format(afterSuspicion)) s after the first suspicion, \(Self.format(detection)) s after the kill")
        // The Lifeguard floor alone is suspicionMult × log10(100) × probeInterval = 3 s with the
        // defaults; before it, SWIM needs some node to probe the victim and wait out a period
        // (0.2–1.5 s across seeds). With suspicionMult 4 seeds 1...4 and 7 measured 4.5–5.7 s,
        // which is why the default is 3 (3.9 s here).
        #expect(afterSuspicion < 3 + 1)
        #expect(detection < 5)

        // No live node was wrongly declared dead along the way.
        let wronglyDead = network.liveNames.flatMap { observer in
            network.liveNames.filter { network.status(of: $0, at: observer) == .dead }.map { "\($0) at \(observer)" }
        }
        #expect(wronglyDead.isEmpty, "false positives: \(wronglyDead.prefix(5))")
        let maxHealth = network.liveNames.compactMap { network.node($0)?.localHealth }.max() ?? 0
        print("[simulation] max local health multiplier at the end: \(maxHealth)")
        return (spread, (suspected ?? 0) + detection)
    }

    static func format(_ seconds: Double?) -> String {
        guard let seconds else { return "never" }
        return String(Int((seconds * 100).rounded())) .paddedHundredths
    }
}

extension String {
    /// "123" (hundredths) → "1.23".
    fileprivate var paddedHundredths: String {
        let digits = count < 3 ? String(repeating: "0", count: 3 - count) + self : self
        return "\(digits.dropLast(2)).\(digits.suffix(2))"
    }
}
