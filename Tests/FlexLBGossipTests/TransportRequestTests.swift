import NIOCore
import Testing

@testable import FlexLBGossip

@Suite("GossipTransport requests")
struct TransportRequestTests {
    @Test("a 5 MiB request and its answer round-trip")
    func largeRoundTrip() async throws {
        let payload = (0..<(5 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try await withTransport(keyring: ring(keyA)) { client in
            try await withTransport(keyring: ring(keyA), handler: { request, _ in request.reversed() }) { server in
                let answer = try await client.request(payload, to: server.address, timeout: .seconds(30))
                #expect(answer == payload.reversed())
                #expect(server.stats.requestsServed == 1)
            }
        }
    }

    @Test("the handler sees the client's address")
    func from() async throws {
        try await withTransport(keyring: ring(keyA)) { client in
            try await withTransport(keyring: ring(keyA), handler: { _, from in Array(from.utf8) }) { server in
                let answer = try await client.request([], to: server.address, timeout: .seconds(5))
                #expect(String(decoding: answer, as: UTF8.self).hasPrefix("127.0.0.1:"))
            }
        }
    }

    @Test("a request sealed with another key gets no answer and is counted")
    func wrongKey() async throws {
        try await withTransport(keyring: ring(keyB)) { stranger in
            try await withTransport(keyring: ring(keyA), handler: { request, _ in request }) { server in
                let error = await #expect(throws: GossipError.self) {
                    try await stranger.request([1, 2, 3], to: server.address, timeout: .seconds(5))
                }
                #expect(error?.code == .connectionClosed)
                #expect(await eventually { server.stats.rejectedFrames == 1 })
                #expect(server.stats.requestsServed == 0)
            }
        }
    }

    @Test("a nil answer closes without a response")
    func nilAnswer() async throws {
        try await withTransport(keyring: ring(keyA)) { server in
            let error = await #expect(throws: GossipError.self) {
                try await server.request([1], to: server.address, timeout: .seconds(5))
            }
            #expect(error?.code == .connectionClosed)
        }
    }

    @Test("a request to a silent peer times out")
    func timeout() async throws {
        let limits = GossipLimits(requestTimeout: .seconds(30))
        try await withTransport(keyring: ring(keyA), limits: limits, handler: { _, _ in
            try? await Task.sleep(for: .seconds(10))
            return nil
        }) { server in
            let start = ContinuousClock.now
            let error = await #expect(throws: GossipError.self) {
                try await server.request([1], to: server.address, timeout: .milliseconds(300))
            }
            #expect(error?.code == .timedOut)
            #expect(ContinuousClock.now - start < .seconds(3))
        }
    }

    @Test("a request frame drip-fed one byte at a time is still answered")
    func dripFedRequest() async throws {
        let keyring = try ring(keyA)
        let frame = try keyring.seal(Array("drip".utf8), kind: .request)
        let wire = Array(LengthPrefixedFrameDecoder.encode(frame, allocator: ByteBufferAllocator()).readableBytesView)
        // The drip takes ~2 ms per byte plus scheduling: on a loaded machine that exceeds the default 3 s
        // request timeout, which is not what this test is about.
        try await withTransport(keyring: keyring, limits: GossipLimits(requestTimeout: .seconds(30)), handler: { request, _ in request + [33] }) { server in
            let session = try await rawSession(port: server.port ?? 0, limit: .seconds(60)) { outbound in
                for byte in wire {
                    try await outbound.write(ByteBuffer(bytes: [byte]))
                    try await Task.sleep(for: .milliseconds(2))
                }
            }
            var response = ByteBuffer(bytes: session.received)
            let sealed = try #require(try LengthPrefixedFrameDecoder.nextFrame(from: &response, maxFrameBytes: 1 << 20))
            let opened = try keyring.open(Array(sealed.readableBytesView))
            #expect(opened.kind == .response)
            #expect(opened.plaintext == Array("drip!".utf8))
        }
    }

    @Test("a request to an address where nothing listens fails fast")
    func refused() async throws {
        try await withTransport(keyring: ring(keyA)) { client in
            let port = client.port ?? 0
            await client.stop()
            await #expect(throws: (any Error).self) {
                try await client.request([1], to: "127.0.0.1:\(port)", timeout: .seconds(5))
            }
        }
    }
}
