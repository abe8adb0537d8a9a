import FlexLBCluster
import FlexLBModel
import Testing

/// The datagram and push/pull codecs: round trips, every truncation, garbage.
@Suite struct CodecTests {
    static let alive = Membership.MemberState(name: "lb-1", address: "[fd00::1]:7946", metadata: [1, 2, 3], status: .alive, incarnation: 7)
    static let suspect = Membership.MemberState(name: "lb-2", address: "10.0.0.2:7946", status: .suspect, incarnation: .max)
    static let piggyback: [Membership.Gossip] = [
        .member(alive, reporter: "lb-1"),
        .member(suspect, reporter: "lb-3"),
        .broadcast(.init(key: "record/web", payload: Array(0...255), origin: "lb-1", sequence: 42)),
        .broadcast(.init(key: "", payload: [], origin: "ünïcode", sequence: 0)),
    ]

    static let messages: [Membership.Message] = [
        .ping(sequence: 1, target: "lb-2", piggyback: piggyback),
        .ping(sequence: 0, target: "", piggyback: []),
        .pingRequest(sequence: .max, target: "lb-2", targetAddress: "10.0.0.2:7946", piggyback: piggyback),
        .ack(sequence: 9, piggyback: piggyback),
        .ack(sequence: 9, piggyback: []),
        .nack(sequence: 12),
        .gossip(piggyback),
        .gossip([]),
    ]

    @Test(arguments: messages)
    func roundTrip(_ message: Membership.Message) throws {
        let bytes = message.encode()
        #expect(bytes.first == Membership.Message.formatVersion)
        #expect(try Membership.Message.decode(bytes) == message)
    }

    @Test(arguments: messages)
    func everyProperPrefixThrows(_ message: Membership.Message) {
        let bytes = message.encode()
        for length in 0..<bytes.count {
            #expect(throws: DecodingFailure.self) { try Membership.Message.decode(Array(bytes.prefix(length))) }
        }
        #expect(throws: DecodingFailure.self) { try Membership.Message.decode(bytes + [0]) }
    }

    @Test func unknownVersionKindTagAndStatusThrow() {
        var bytes = Membership.Message.nack(sequence: 1).encode()
        bytes[0] = 2
        #expect(throws: DecodingFailure.self) { try Membership.Message.decode(bytes) }
        bytes = Membership.Message.nack(sequence: 1).encode()
        bytes[1] = 99
        #expect(throws: DecodingFailure.self) { try Membership.Message.decode(bytes) }
        // gossip with one item whose tag is unknown
        #expect(throws: DecodingFailure.self) { try Membership.Message.decode([1, 5, 0, 0, 0, 1, 9]) }
        // a member state with status 4
        var state = Membership.Message.gossip([.member(Self.suspect, reporter: "x")]).encode()
        let statusOffset = 2 + 4 + 1 + (4 + 4) + (4 + 13) + 4
        #expect(state[statusOffset] == 1)
        state[statusOffset] = 4
        #expect(throws: DecodingFailure.self) { try Membership.Message.decode(state) }
    }

    @Test func hostileCountsAndLengthsThrowWithoutAllocating() {
        // gossip claiming 4 billion items, ping with a 4 GiB target name, an over-long field.
        #expect(throws: DecodingFailure.self) { try Membership.Message.decode([1, 5, 0xFF, 0xFF, 0xFF, 0xFF]) }
        #expect(throws: DecodingFailure.self) { try Membership.Message.decode([1, 5, 0, 0, 0x0F, 0xFF]) }
        #expect(throws: DecodingFailure.self) { try Membership.Message.decode([1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF]) }
        #expect(throws: DecodingFailure.self) { try Membership.MemberState.decodeList([1, 0xFF, 0xFF, 0xFF, 0xFF]) }
    }

    @Test func randomBytesNeverCrash() {
        var rng = Membership.SplitMix64(seed: 2024)
        var decoded = 0
        for round in 0..<20_000 {
            let length = Int.random(in: 0..<64, using: &rng)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            // Half the inputs get a valid version and kind so the fuzzing reaches the field decoders.
            if round.isMultiple(of: 2), bytes.count >= 2 {
                bytes[0] = 1
                bytes[1] = UInt8(1 + round % 5)
            }
            if (try? Membership.Message.decode(bytes)) != nil { decoded += 1 }
            _ = try? Membership.MemberState.decodeList(bytes)
        }
        // Mutations of a valid frame: flip one byte at a time.
        let valid = Membership.Message.pingRequest(sequence: 5, target: "b", targetAddress: "b:1", piggyback: Self.piggyback).encode()
        for index in valid.indices {
            var mutated = valid
            mutated[index] ^= 0xA5
            _ = try? Membership.Message.decode(mutated)
        }
        #expect(decoded < 20_000)
    }

    @Test func pushPullListRoundTripsAndRejectsTruncation() throws {
        let states = [Self.alive, Self.suspect, .init(name: "lb-3", address: "x:1", status: .left, incarnation: 3)]
        let bytes = Membership.MemberState.encodeList(states)
        #expect(try Membership.MemberState.decodeList(bytes) == states)
        for length in 0..<bytes.count {
            #expect(throws: DecodingFailure.self) { try Membership.MemberState.decodeList(Array(bytes.prefix(length))) }
        }
    }

    @Test func datagramsStayWithinThePacketBudget() {
        // A node with many pending rumors still fills each datagram only up to the budget.
        var a = Membership.Instance(localName: "a", localAddress: "a:1", settings: .init(), now: 0, randomSeed: 3)
        let states = (0..<200).map {
            Membership.MemberState(name: "node-\($0)", address: "10.0.\($0 / 256).\($0 % 256):7946", metadata: Array(repeating: 1, count: 40), status: .alive, incarnation: 0)
        }
        _ = a.mergePushPull(states, now: 0)
        var now = 0.0
        var sizes: [Int] = []
        while now < 2 {
            now += 0.01
            for case let .send(message, _) in a.tick(now: now) { sizes.append(message.encode().count) }
        }
        #expect(!sizes.isEmpty)
        #expect(sizes.allSatisfy { $0 <= 1200 })
        #expect(sizes.max()! > 1000, "datagrams should be packed")
    }
}
