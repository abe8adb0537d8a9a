import FlexLBModel
import Testing

/// The merge rule, event by event: any set of records merges to the same winner in any order.
@Suite struct MergeTests {
    static func record(
        _ name: String = "web", v: Int64, origin: String, deleted: Bool = false,
        created: (Int64, String)? = nil, port: Int = 80, config: String = "{}"
    ) -> InstanceRecord {
        InstanceRecord(
            name: name, config: deleted ? [] : Array(config.utf8), desiredState: .running,
            version: HLCTimestamp(milliseconds: v, counter: 0), origin: origin, deleted: deleted,
            virtualRouterID: 1, vrrpGroup: "eth0/v4",
            listeners: deleted ? [] : [ListenerKey(address: "10.0.0.1", port: port)], lastModified: v,
            created: created.map { RecordStamp(version: HLCTimestamp(milliseconds: $0.0, counter: 0), origin: $0.1) }
        )
    }

    /// Folds records into a one-name store with ``decideMerge``.
    static func merged(_ records: [InstanceRecord]) -> InstanceRecord? {
        var held: InstanceRecord?
        for record in records where decideMerge(local: held, remote: record, watermark: .zero) == .apply { held = record }
        return held
    }

    static func permutations<T>(_ items: [T]) -> [[T]] {
        guard items.count > 1 else { return [items] }
        return items.indices.flatMap { i in
            var rest = items
            let head = rest.remove(at: i)
            return permutations(rest).map { [head] + $0 }
        }
    }

    @Test func higherVersionWinsAndEqualWallClocksBreakTiesByOrigin() {
        let life = (Int64(100), "n1")
        let a = Self.record(v: 200, origin: "n1", created: life, config: #"{"a":1}"#)
        let b = Self.record(v: 200, origin: "n2", created: life, config: #"{"b":1}"#)
        let c = Self.record(v: 150, origin: "n3", created: life)
        for order in Self.permutations([a, b, c]) {
            #expect(Self.merged(order) == b, "order \(order.map(\.origin))")
        }
    }

    @Test func mergeIsIdempotent() {
        let a = Self.record(v: 200, origin: "n1")
        #expect(decideMerge(local: a, remote: a, watermark: .zero) == .ignoreOlder)
    }

    @Test func aDeleteBeatsAConcurrentModifyOfTheSameLife() {
        // Created at 100 on n1. Partition: n1 deletes at 300, n2 modifies at 400 (a later clock).
        let life = (Int64(100), "n1")
        let tombstone = Self.record(v: 300, origin: "n1", deleted: true, created: life)
        let modify = Self.record(v: 400, origin: "n2", created: life)
        for order in Self.permutations([tombstone, modify, Self.record(v: 100, origin: "n1", created: life)]) {
            #expect(Self.merged(order)?.deleted == true)
        }
    }

    @Test func aRecreateAfterADeleteIsANewLifeAndWins() {
        let tombstone = Self.record(v: 300, origin: "n1", deleted: true, created: (100, "n1"))
        let recreated = Self.record(v: 500, origin: "n2", created: (500, "n2"))
        for order in Self.permutations([tombstone, recreated]) {
            #expect(Self.merged(order) == recreated)
        }
        // And that life's own delete wins over it.
        let second = Self.record(v: 600, origin: "n3", deleted: true, created: (500, "n2"))
        for order in Self.permutations([tombstone, recreated, second]) {
            #expect(Self.merged(order) == second)
        }
    }

    @Test func concurrentCreatesOfOneNameEndInTheLaterCreate() {
        let first = Self.record(v: 100, origin: "n1", created: (100, "n1"))
        let second = Self.record(v: 100, origin: "n2", created: (100, "n2"))
        // An older life modified later still loses to the later life.
        let firstModified = Self.record(v: 900, origin: "n1", created: (100, "n1"))
        for order in Self.permutations([first, second, firstModified]) {
            #expect(Self.merged(order) == second)
        }
    }

    @Test func aLiveRecordBelowTheWatermarkThatIsUnknownHereIsAGhost() {
        let old = Self.record(v: 100, origin: "n1")
        #expect(decideMerge(local: nil, remote: old, watermark: HLCTimestamp(milliseconds: 100, counter: 0)) == .ignoreGhost)
        #expect(decideMerge(local: nil, remote: old, watermark: HLCTimestamp(milliseconds: 99, counter: 0)) == .apply)
        // A tombstone is never a ghost.
        let tomb = Self.record(v: 100, origin: "n1", deleted: true)
        #expect(decideMerge(local: nil, remote: tomb, watermark: HLCTimestamp(milliseconds: 500, counter: 0)) == .apply)
    }

    @Test func recordsRoundTripThroughTheBinaryForm() throws {
        let record = Self.record(v: 1_796_000_000_000, origin: "lb-2", created: (1_795_000_000_000, "lb-1"), config: #"{"name":"web"}"#)
        var writer = BinaryWriter()
        record.encode(into: &writer)
        var reader = BinaryReader(writer.bytes)
        #expect(try InstanceRecord.decode(from: &reader) == record)
        #expect(reader.isAtEnd)
        // Every truncation fails cleanly.
        for length in 0..<writer.bytes.count {
            var short = BinaryReader(Array(writer.bytes.prefix(length)))
            #expect(throws: DecodingFailure.self) { try InstanceRecord.decode(from: &short) }
        }
    }

    @Test func digestsFindWhatEachSideIsMissing() throws {
        let a = Self.record("a", v: 100, origin: "n1")
        let b1 = Self.record("b", v: 100, origin: "n1", created: (100, "n1"))
        let b2 = Self.record("b", v: 200, origin: "n2", created: (100, "n1"))
        let mine = RecordDigest(entries: ["a": a.mergeKey, "b": b1.mergeKey])
        let theirs = RecordDigest(entries: ["b": b2.mergeKey])
        #expect(mine.newer(than: theirs) == ["a"])
        #expect(theirs.newer(than: mine) == ["b"])
        #expect(mine.fingerprint != theirs.fingerprint)
        #expect(mine.fingerprint == RecordDigest(entries: ["b": b1.mergeKey, "a": a.mergeKey]).fingerprint)
        var writer = BinaryWriter()
        mine.encode(into: &writer)
        var reader = BinaryReader(writer.bytes)
        #expect(try RecordDigest.decode(from: &reader) == mine)
    }
}
