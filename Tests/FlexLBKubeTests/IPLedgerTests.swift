import FlexLBKubeController
import Testing

@Suite struct IPLedgerTests {
    static let pool = AddressPool(
        cluster: "default", name: "default", interface: "eth0", netPrefix: 24,
        start: IPv4("10.0.0.10")!, end: IPv4("10.0.0.12")!, backendNetwork: IPv4Network("10.1.0.0/24")!)

    @Test func wholeRangeIncludingEndIsUsableAndNeverDuplicated() {
        var ledger = IPLedger(quarantine: .seconds(60))
        let got = (1...3).map { ledger.allocate(owner: "s\($0)", pool: Self.pool, requested: nil, now: .zero) }
        #expect(got == [.assigned(IPv4("10.0.0.10")!, fresh: true), .assigned(IPv4("10.0.0.11")!, fresh: true), .assigned(IPv4("10.0.0.12")!, fresh: true)])
        #expect(ledger.allocate(owner: "s4", pool: Self.pool, requested: nil, now: .zero) == .exhausted(poolSize: 3, quarantined: 0))
    }

    @Test func anOwnerKeepsItsAddressAcrossCallsAndPoolEdits() {
        var ledger = IPLedger(quarantine: .zero)
        _ = ledger.allocate(owner: "a", pool: Self.pool, requested: nil, now: .zero)
        #expect(ledger.allocate(owner: "b", pool: Self.pool, requested: nil, now: .zero) == .assigned(IPv4("10.0.0.11")!, fresh: true))
        // The pool is edited to a range that no longer holds b's address: b keeps it anyway.
        let edited = AddressPool(
            cluster: "default", name: "default", interface: "eth0", netPrefix: 24,
            start: IPv4("10.0.0.10")!, end: IPv4("10.0.0.10")!, backendNetwork: IPv4Network("10.1.0.0/24")!)
        #expect(ledger.allocate(owner: "b", pool: edited, requested: nil, now: .seconds(1)) == .assigned(IPv4("10.0.0.11")!, fresh: false))
    }

    @Test func rebuildFromRecordsGivesTheSameAddressesAndSkipsTaken() {
        var first = IPLedger(quarantine: .zero)
        for owner in ["a", "b", "c"] { _ = first.allocate(owner: owner, pool: Self.pool, requested: nil, now: .zero) }
        // "Restart": a new ledger fed from the recorded annotations, in another order.
        var second = IPLedger(quarantine: .zero)
        for owner in ["c", "a", "b"] {
            #expect(second.record(owner: owner, address: first.address(of: owner)!) == .recorded)
        }
        for owner in ["a", "b", "c"] {
            #expect(second.allocate(owner: owner, pool: Self.pool, requested: nil, now: .zero) == .assigned(first.address(of: owner)!, fresh: false))
        }
        // A duplicate record (left by a buggy older controller) is refused.
        #expect(second.record(owner: "d", address: IPv4("10.0.0.10")!) == .conflict(holder: "a"))
    }

    @Test func releasedAddressesWaitInQuarantine() {
        var ledger = IPLedger(quarantine: .seconds(30))
        _ = ledger.allocate(owner: "a", pool: Self.pool, requested: nil, now: .zero)
        ledger.release(owner: "a", now: .seconds(10))
        #expect(ledger.allocate(owner: "b", pool: Self.pool, requested: nil, now: .seconds(11)) == .assigned(IPv4("10.0.0.11")!, fresh: true))
        #expect(ledger.allocate(owner: "c", pool: Self.pool, requested: IPv4("10.0.0.10"), now: .seconds(20))
            == .requestedQuarantined(IPv4("10.0.0.10")!, until: .seconds(40)))
        #expect(ledger.allocate(owner: "c", pool: Self.pool, requested: nil, now: .seconds(20)) == .assigned(IPv4("10.0.0.12")!, fresh: true))
        #expect(ledger.allocate(owner: "d", pool: Self.pool, requested: nil, now: .seconds(39)) == .exhausted(poolSize: 3, quarantined: 1))
        #expect(ledger.allocate(owner: "d", pool: Self.pool, requested: nil, now: .seconds(40)) == .assigned(IPv4("10.0.0.10")!, fresh: true))
    }

    @Test func requestedAddresses() {
        var ledger = IPLedger(quarantine: .zero)
        #expect(ledger.allocate(owner: "a", pool: Self.pool, requested: IPv4("10.0.0.12"), now: .zero) == .assigned(IPv4("10.0.0.12")!, fresh: true))
        #expect(ledger.allocate(owner: "b", pool: Self.pool, requested: IPv4("10.0.0.12"), now: .zero) == .requestedTaken(IPv4("10.0.0.12")!, owner: "a"))
        #expect(ledger.allocate(owner: "b", pool: Self.pool, requested: IPv4("10.0.0.99"), now: .zero) == .requestedOutsidePool(IPv4("10.0.0.99")!))
        // Asking for another address moves the owner; the old one is released.
        #expect(ledger.allocate(owner: "a", pool: Self.pool, requested: IPv4("10.0.0.11"), now: .zero) == .assigned(IPv4("10.0.0.11")!, fresh: true))
        #expect(ledger.holder(of: IPv4("10.0.0.12")!) == nil)
        #expect(ledger.count == 1)
    }

    @Test func manyOwnersNeverShareAnAddress() {
        let big = AddressPool(
            cluster: "c", name: "p", interface: "eth0", netPrefix: 16, start: IPv4("10.2.0.0")!, end: IPv4("10.2.3.231")!,
            backendNetwork: IPv4Network("10.1.0.0/16")!)
        var ledger = IPLedger(quarantine: .seconds(1))
        var seen: Set<IPv4> = []
        for i in 0..<1000 {
            guard case .assigned(let ip, true) = ledger.allocate(owner: "s\(i)", pool: big, requested: nil, now: .zero) else {
                Issue.record("allocation \(i) failed")
                return
            }
            #expect(seen.insert(ip).inserted)
        }
        #expect(ledger.count == 1000)
        #expect(big.size == 1000)
    }
}

@Suite struct AddressTests {
    @Test(arguments: ["10.0.0.1", "0.0.0.0", "255.255.255.255"]) func parsesIPv4(_ text: String) {
        #expect(IPv4(text)?.description == text)
    }

    @Test(arguments: ["10.0.0", "10.0.0.256", "01.0.0.1", "::1", "10.0.0.1 ", ""]) func refusesOthers(_ text: String) {
        #expect(IPv4(text) == nil)
    }

    @Test func networkContainment() {
        let net = IPv4Network("10.99.2.0/24")!
        #expect(net.contains(IPv4("10.99.2.200")!))
        #expect(!net.contains(IPv4("10.99.3.1")!))
        #expect(IPv4Network("10.0.0.0/33") == nil)
    }
}
