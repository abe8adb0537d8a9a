import Testing

@testable import FlexLBGossip

@Suite("GossipTransport datagrams")
struct TransportDatagramTests {
    @Test("a datagram from A reaches B decrypted, with A's address")
    func delivered() async throws {
        try await withTransport(keyring: ring(keyA)) { a in
            try await withTransport(keyring: ring(keyA)) { b in
                try a.send(datagram: Array("ping".utf8), to: b.address)
                let datagram = try #require(await firstDatagram(of: b.datagrams))
                #expect(datagram.payload == Array("ping".utf8))
                #expect(datagram.from == a.address)
                #expect(a.stats.datagramsSent == 1)
                #expect(b.stats.datagramsReceived == 1)
            }
        }
    }

    @Test("a datagram sealed with another key is dropped and counted")
    func wrongKeyDropped() async throws {
        try await withTransport(keyring: ring(keyA)) { a in
            try await withTransport(keyring: ring(keyB)) { stranger in
                try await withTransport(keyring: ring(keyA)) { b in
                    try stranger.send(datagram: [1, 2, 3], to: b.address)
                    #expect(await eventually { b.stats.rejectedFrames == 1 })
                    // The next datagram B sees is the good one: the bad one was never delivered.
                    try a.send(datagram: [4, 5, 6], to: b.address)
                    let datagram = try #require(await firstDatagram(of: b.datagrams))
                    #expect(datagram.payload == [4, 5, 6])
                    #expect(b.stats.datagramsReceived == 1)
                }
            }
        }
    }

    @Test("a key rotated in while running takes effect")
    func liveRotation() async throws {
        try await withTransport(keyring: ring(keyA)) { a in
            try await withTransport(keyring: ring(keyA)) { b in
                b.setKeyring(try ring(keyA, keyB))
                a.setKeyring(try ring(keyB, keyA))
                try a.send(datagram: [9], to: b.address)
                #expect(await firstDatagram(of: b.datagrams)?.payload == [9])
            }
        }
    }

    @Test("a payload that seals past the datagram limit is refused, not fragmented")
    func tooLarge() async throws {
        try await withTransport(keyring: ring(keyA)) { a in
            let limit = GossipLimits().maxDatagramBytes - GossipFrameFormat.overhead
            #expect(throws: Never.self) { try a.send(datagram: Array(repeating: 1, count: limit), to: a.address) }
            #expect(catching { try a.send(datagram: Array(repeating: 1, count: limit + 1), to: a.address) } == .datagramTooLarge)
            #expect(catching { try a.send(datagram: [1], to: "localhost:7946") } == .invalidAddress)
        }
    }

    @Test("sending before start or after stop is refused; stop finishes the stream")
    func lifecycle() async throws {
        let transport = GossipTransport(host: "127.0.0.1", port: 0, keyring: try ring(keyA), logger: quietLogger) { _, _ in nil }
        #expect(catching { try transport.send(datagram: [1], to: "127.0.0.1:9") } == .notRunning)
        try await transport.start()
        #expect(transport.port != nil)
        await #expect(throws: GossipError.self) { try await transport.start() }
        await transport.stop()
        await transport.stop()
        #expect(transport.port == nil)
        #expect(catching { try transport.send(datagram: [1], to: "127.0.0.1:9") } == .notRunning)
        var iterator = transport.datagrams.makeAsyncIterator()
        #expect(await iterator.next() == nil)
    }
}
