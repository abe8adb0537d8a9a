import FlexLBCluster
import Testing

/// Event-by-event tests of one instance's failure detector, with a manual clock.
@Suite struct ProbeTests {
    typealias Directive = Membership.Directive

    /// A node "a" that already knows `peers` as alive at incarnation 0.
    static func node(knowing peers: [String], settings: Membership.Settings = .init()) -> Membership.Instance {
        var instance = Membership.Instance(localName: "a", localAddress: "a:1", settings: settings, now: 0, randomSeed: 42)
        let states = peers.map { Membership.MemberState(name: $0, address: "\($0):1", status: .alive, incarnation: 0) }
        _ = instance.mergePushPull(states, now: 0)
        return instance
    }

    /// Ticks every 10 ms until a directive matches; returns it and the time.
    static func tick<T>(_ instance: inout Membership.Instance, from start: Double, limit: Double = 30, match: (Directive) -> T?) -> (T, Double)? {
        var now = start
        while now < start + limit {
            now += 0.01
            for directive in instance.tick(now: now) {
                if let found = match(directive) { return (found, now) }
            }
        }
        return nil
    }

    static func ping(_ directive: Directive) -> (sequence: UInt64, target: String)? {
        if case let .send(.ping(sequence, target, _), _) = directive { return (sequence, target) }
        return nil
    }

    @Test func directAckKeepsTheTargetAliveAndHealthLow() throws {
        var a = Self.node(knowing: ["b"])
        let (ping, sentAt) = try #require(Self.tick(&a, from: 0, match: Self.ping))
        #expect(ping.target == "b")
        _ = a.receive(.ack(sequence: ping.sequence, piggyback: []), from: "b:1", now: sentAt + 0.05)
        // Nothing further happens for b during the rest of the period: no ping request, no suspicion.
        var now = sentAt + 0.05
        while now < sentAt + 0.6 {
            now += 0.01
            for directive in a.tick(now: now) {
                if case .send(.pingRequest, _) = directive { Issue.record("unexpected indirect probe") }
            }
        }
        #expect(a.member(named: "b")?.status == .alive)
        #expect(a.localHealth == 0)
    }

    @Test func directTimeoutThenIndirectAckKeepsTheTargetAlive() throws {
        var a = Self.node(knowing: ["b", "c", "d", "e"])
        let (ping, sentAt) = try #require(Self.tick(&a, from: 0, match: Self.ping))
        var requests: [(helper: String, sequence: UInt64, target: String)] = []
        var now = sentAt
        while now < sentAt + 0.3 {
            now += 0.01
            for case let .send(.pingRequest(sequence, target, _, _), helper) in a.tick(now: now) {
                requests.append((helper, sequence, target))
            }
        }
        #expect(requests.count == 3)
        #expect(requests.allSatisfy { $0.target == ping.target && $0.sequence == ping.sequence && $0.helper != "\(ping.target):1" })
        #expect(now - sentAt >= 0.2)
        // One helper forwards the target's ack.
        _ = a.receive(.ack(sequence: ping.sequence, piggyback: []), from: requests[0].helper, now: now)
        for _ in 0..<50 {
            now += 0.01
            _ = a.tick(now: now)
        }
        #expect(a.member(named: ping.target)?.status == .alive)
    }

    @Test func helperForwardsAckOrNacks() throws {
        var helper = Self.node(knowing: ["b", "c"])
        let out = helper.receive(.pingRequest(sequence: 7, target: "b", targetAddress: "b:1", piggyback: []), from: "c:1", now: 1)
        guard case let .send(.ping(forwarded, "b", _), "b:1")? = out.first else {
            Issue.record("expected a forwarded ping, got \(out)")
            return
        }
        let acked = helper.receive(.ack(sequence: forwarded, piggyback: []), from: "b:1", now: 1.05)
        #expect(acked.contains { if case .send(.ack(7, _), "c:1") = $0 { true } else { false } })
        // A second request that the target never answers yields a nack after the probe timeout.
        _ = helper.receive(.pingRequest(sequence: 8, target: "b", targetAddress: "b:1", piggyback: []), from: "c:1", now: 2)
        let later = helper.tick(now: 2.25)
        #expect(later.contains { if case .send(.nack(8), "c:1") = $0 { true } else { false } })
    }

    @Test func unansweredProbesSuspectThenKillAfterTheLifeguardTimeout() throws {
        var a = Self.node(knowing: ["b", "c", "d", "e"])
        // Nobody answers anything.
        let (suspect, suspectedAt) = try #require(Self.tick(&a, from: 0) { directive -> Membership.Member? in
            if case let .memberChanged(member) = directive, member.status == .suspect { return member }
            return nil
        })
        #expect(a.localHealth > 0, "helpers that do not even nack raise local health")
        let (dead, deadAt) = try #require(Self.tick(&a, from: suspectedAt) { directive -> Membership.Member? in
            if case let .memberChanged(member) = directive, member.name == suspect.name, member.status == .dead { return member }
            return nil
        })
        // 5 members: floor = 3 × max(1, log10 5) × 0.5 = 1.5 s; no confirmations → 6 × 1.5 = 9 s.
        #expect(dead.incarnation == 0)
        #expect(abs((deadAt - suspectedAt) - 9) < 0.02, "took \(deadAt - suspectedAt) s")
    }

    @Test func independentConfirmationsShortenTheSuspicion() throws {
        var a = Self.node(knowing: ["b", "c", "d", "e"])
        let suspect = Membership.MemberState(name: "b", address: "b:1", status: .suspect, incarnation: 0)
        _ = a.receive(.gossip([.member(suspect, reporter: "c")]), from: "c:1", now: 1)
        #expect(a.member(named: "b")?.status == .suspect)
        // Independent confirmations (k = suspicionMult − 2 = 1 needed) bring the timeout down to the 1.5 s floor.
        _ = a.receive(.gossip([.member(suspect, reporter: "d"), .member(suspect, reporter: "e")]), from: "d:1", now: 1.1)
        var now = 1.1
        while a.member(named: "b")?.status == .suspect, now < 20 {
            now += 0.01
            _ = a.tick(now: now)
        }
        #expect(a.member(named: "b")?.status == .dead)
        #expect(abs(now - 2.5) < 0.02, "dead at \(now)")
    }

    @Test func suspicionIsRefutedWithAHigherIncarnation() throws {
        var b = Membership.Instance(localName: "b", localAddress: "b:1", settings: .init(), now: 0, randomSeed: 1)
        _ = b.mergePushPull([.init(name: "a", address: "a:1", status: .alive, incarnation: 0)], now: 0)
        let suspectB = Membership.MemberState(name: "b", address: "b:1", status: .suspect, incarnation: 0)
        let out = b.receive(.ping(sequence: 3, target: "b", piggyback: [.member(suspectB, reporter: "a")]), from: "a:1", now: 1)
        #expect(b.local.incarnation == 1)
        #expect(b.local.status == .alive)
        // The ack carries the refutation.
        guard case let .send(.ack(3, piggyback), "a:1")? = out.last else {
            Issue.record("expected an ack, got \(out)")
            return
        }
        let refutation = Membership.MemberState(name: "b", address: "b:1", status: .alive, incarnation: 1)
        #expect(piggyback.contains(.member(refutation, reporter: "b")))

        var a = Self.node(knowing: ["b", "c", "d"])
        _ = a.receive(.gossip([.member(suspectB, reporter: "c")]), from: "c:1", now: 1)
        #expect(a.member(named: "b")?.status == .suspect)
        _ = a.receive(.ack(sequence: 99, piggyback: piggyback), from: "b:1", now: 1.1)
        #expect(a.member(named: "b")?.status == .alive)
        #expect(a.member(named: "b")?.incarnation == 1)
        // The suspicion timer is gone: b stays alive long after the maximum timeout.
        _ = a.tick(now: 40)
        #expect(a.member(named: "b")?.status == .alive)
    }

    @Test(arguments: [
        // (held status, held incarnation, rumor status, rumor incarnation, resulting status)
        (Membership.Status.alive, UInt64(1), Membership.Status.alive, UInt64(1), Membership.Status.alive),
        (.suspect, 1, .alive, 1, .suspect),
        (.suspect, 1, .alive, 2, .alive),
        (.dead, 1, .alive, 1, .dead),
        (.dead, 1, .alive, 2, .alive),
        (.alive, 2, .suspect, 1, .alive),
        (.alive, 1, .suspect, 1, .suspect),
        (.dead, 1, .suspect, 1, .dead),
        (.alive, 1, .dead, 1, .dead),
        (.suspect, 2, .dead, 1, .suspect),
        (.dead, 1, .left, 1, .left),
        (.left, 1, .dead, 1, .left),
        (.left, 1, .alive, 1, .left),
        (.left, 1, .alive, 2, .alive),
    ])
    func precedence(held: Membership.Status, heldIncarnation: UInt64, rumor: Membership.Status, rumorIncarnation: UInt64, expected: Membership.Status) {
        var a = Self.node(knowing: ["c", "d", "e"])
        let heldState = Membership.MemberState(name: "b", address: "b:1", status: .alive, incarnation: heldIncarnation)
        var setup: [Membership.Gossip] = [.member(heldState, reporter: "b")]
        if held != .alive {
            var other = heldState
            other.status = held
            setup.append(.member(other, reporter: "c"))
        }
        _ = a.receive(.gossip(setup), from: "c:1", now: 1)
        #expect(a.member(named: "b")?.status == held)
        let rumorState = Membership.MemberState(name: "b", address: "b:1", status: rumor, incarnation: rumorIncarnation)
        _ = a.receive(.gossip([.member(rumorState, reporter: "d")]), from: "d:1", now: 2)
        #expect(a.member(named: "b")?.status == expected)
    }
}
