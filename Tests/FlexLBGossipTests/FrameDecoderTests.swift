import NIOCore
import Testing

@testable import FlexLBGossip

@Suite("LengthPrefixedFrameDecoder")
struct FrameDecoderTests {
    static let bodies: [[UInt8]] = [[], [1], Array(repeating: 7, count: 5), Array(0...255), Array(repeating: 3, count: 70_000)]

    static func stream() -> [UInt8] {
        bodies.flatMap { Array(LengthPrefixedFrameDecoder.encode($0, allocator: ByteBufferAllocator()).readableBytesView) }
    }

    /// Feeds `chunks` the way ByteToMessageHandler does: append, then take frames until none is whole.
    static func decode(_ chunks: [ArraySlice<UInt8>], max: Int = 1 << 20) throws -> (frames: [[UInt8]], leftover: Int) {
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        var frames: [[UInt8]] = []
        for chunk in chunks {
            buffer.writeBytes(chunk)
            while let frame = try LengthPrefixedFrameDecoder.nextFrame(from: &buffer, maxFrameBytes: max) {
                frames.append(Array(frame.readableBytesView))
            }
        }
        return (frames, buffer.readableBytes)
    }

    @Test("byte-by-byte, batched and randomly chunked input give the same frames")
    func dripAndBatch() throws {
        let stream = Self.stream()
        let batched = try Self.decode([stream[...]])
        let dripped = try Self.decode(stream.indices.map { stream[$0...$0] })
        var generator = SystemRandomNumberGenerator()
        var chunks: [ArraySlice<UInt8>] = []
        var index = 0
        while index < stream.count {
            let end = min(stream.count, index + Int.random(in: 1...9000, using: &generator))
            chunks.append(stream[index..<end])
            index = end
        }
        let chunked = try Self.decode(chunks)
        #expect(batched.frames == Self.bodies)
        #expect(dripped.frames == Self.bodies)
        #expect(chunked.frames == Self.bodies)
        #expect(batched.leftover == 0 && dripped.leftover == 0 && chunked.leftover == 0)
    }

    @Test("an oversized length fails as soon as the prefix is in, before the body")
    func oversized() {
        var buffer = ByteBufferAllocator().buffer(capacity: 4)
        buffer.writeInteger(UInt32.max)
        #expect(catching { _ = try LengthPrefixedFrameDecoder.nextFrame(from: &buffer, maxFrameBytes: 64 << 20) } == .frameTooLarge)
        var atLimit = ByteBufferAllocator().buffer(capacity: 4)
        atLimit.writeInteger(UInt32(100))
        #expect(catching { _ = try LengthPrefixedFrameDecoder.nextFrame(from: &atLimit, maxFrameBytes: 100) } == nil)
    }

    @Test("a partial prefix or body waits for more")
    func partial() throws {
        let stream = Self.stream()
        #expect(try Self.decode([stream.prefix(3)]).frames.isEmpty)
        #expect(try Self.decode([stream.prefix(3)]).leftover == 3)
        let firstTwo = 4 + 4 + 1
        #expect(try Self.decode([stream.prefix(firstTwo + 2)]).frames == [[], [1]])
    }
}

@Suite("GossipAddress")
struct GossipAddressTests {
    @Test(
        "valid addresses",
        arguments: [
            ("10.0.0.1:7946", "10.0.0.1", 7946),
            ("[::1]:7946", "::1", 7946),
            ("[fd00::1:2]:1", "fd00::1:2", 1),
            ("127.0.0.1:65535", "127.0.0.1", 65535),
        ]
    )
    func valid(text: String, host: String, port: Int) throws {
        let address = try GossipAddress(text)
        #expect(address.host == host)
        #expect(address.port == port)
        #expect(address.description == text)
    }

    @Test(
        "invalid addresses",
        arguments: [
            "", "10.0.0.1", "10.0.0.1:", ":7946", "10.0.0.1:0", "10.0.0.1:65536", "10.0.0.1:+80", "10.0.0.1:080a",
            "10.0.0.1:7946:1", "::1:7946", "[::1]", "[::1]7946", "[::1:7946", "[10.0.0.1]:7946", "localhost:7946",
            "10.0.0:7946", "10.0.0.256:7946", " 10.0.0.1:7946", "10.0.0.1:7946 ", "[::1]:-1", "10.0.0.1:123456",
        ]
    )
    func invalid(text: String) {
        #expect(catching { _ = try GossipAddress(text) } == .invalidAddress)
    }
}

@Suite("RejectionLogPolicy")
struct RejectionLogPolicyTests {
    @Test("one line per host per interval, with the count of silenced ones")
    func rateLimit() {
        var policy = RejectionLogPolicy(interval: .seconds(10))
        let start = ContinuousClock.now
        #expect(policy.record(host: "10.0.0.1", now: start) == .log(suppressed: 0))
        #expect(policy.record(host: "10.0.0.1", now: start + .seconds(1)) == .suppress)
        #expect(policy.record(host: "10.0.0.1", now: start + .seconds(9)) == .suppress)
        #expect(policy.record(host: "10.0.0.2", now: start + .seconds(9)) == .log(suppressed: 0))
        #expect(policy.record(host: "10.0.0.1", now: start + .seconds(10)) == .log(suppressed: 2))
        #expect(policy.record(host: "10.0.0.1", now: start + .seconds(11)) == .suppress)
    }

    @Test("memory stays bounded under many hosts")
    func bounded() {
        var policy = RejectionLogPolicy(interval: .seconds(10), capacity: 2)
        let start = ContinuousClock.now
        #expect(policy.record(host: "a", now: start) == .log(suppressed: 0))
        #expect(policy.record(host: "b", now: start) == .log(suppressed: 0))
        #expect(policy.record(host: "c", now: start) == .suppress)
        #expect(policy.record(host: "c", now: start + .seconds(10)) == .log(suppressed: 0))
    }
}
