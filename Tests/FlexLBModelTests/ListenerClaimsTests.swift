import FlexLBModel
import Testing

/// VIP:port accepted concurrently by two nodes: one deterministic owner everywhere.
@Suite struct ListenerClaimsTests {
    @Test func theFirstCreatedClaimantOwnsTheListenerOnEveryNode() {
        let a = MergeTests.record("a", v: 100, origin: "n1", created: (100, "n1"), port: 80)
        let b = MergeTests.record("b", v: 100, origin: "n2", created: (100, "n2"), port: 80)
        for order in MergeTests.permutations([a, b]) {
            let conflicts = ListenerClaims.conflicts(in: order)
            #expect(Array(conflicts.keys) == ["b"])
            #expect(conflicts["b"]?.owner == "a")
        }
    }

    @Test func modifyingTheOwnerDoesNotHandTheListenerOver() {
        let a = MergeTests.record("a", v: 900, origin: "n1", created: (100, "n1"), port: 80)
        let b = MergeTests.record("b", v: 200, origin: "n2", created: (200, "n2"), port: 80)
        #expect(ListenerClaims.conflicts(in: [a, b]).keys.sorted() == ["b"])
    }

    @Test func aConflictedInstanceBlocksNobodyAndTakesOverWhenTheOwnerGoes() {
        let a = MergeTests.record("a", v: 100, origin: "n1", created: (100, "n1"), port: 80)
        var b = MergeTests.record("b", v: 200, origin: "n2", created: (200, "n2"), port: 80)
        b.listeners.insert(ListenerKey(address: "10.0.0.1", port: 443))
        let c = MergeTests.record("c", v: 300, origin: "n3", created: (300, "n3"), port: 443)
        // b loses :80 so claims nothing; c keeps :443.
        #expect(ListenerClaims.conflicts(in: [a, b, c]).keys.sorted() == ["b"])
        // a deleted: b now owns both, c conflicts on :443.
        let tomb = a.tombstone(version: HLCTimestamp(milliseconds: 400, counter: 0), origin: "n1", now: 400)
        #expect(ListenerClaims.conflicts(in: [tomb, b, c]).keys.sorted() == ["c"])
    }
}
