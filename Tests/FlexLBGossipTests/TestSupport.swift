import Logging
import NIOCore
import NIOPosix

@testable import FlexLBGossip

/// A logger that discards everything: tests assert on stats and results, never on log lines.
let quietLogger = Logger(label: "flexlb.gossip.tests", factory: { _ in SwiftLogNoOpLogHandler() })

let keyA = GossipKeyring.generateKey()
let keyB = GossipKeyring.generateKey()

func ring(_ keys: String...) throws -> GossipKeyring { try GossipKeyring(base64Keys: keys) }

/// Starts a transport on 127.0.0.1 port 0, runs `body`, and stops it even when `body` throws.
func withTransport<T>(
    keyring: GossipKeyring,
    limits: GossipLimits = GossipLimits(),
    handler: @escaping @Sendable ([UInt8], String) async -> [UInt8]? = { _, _ in nil },
    _ body: (GossipTransport) async throws -> T
) async throws -> T {
    let transport = GossipTransport(
        host: "127.0.0.1", port: 0, keyring: keyring, logger: quietLogger, limits: limits, requestHandler: handler
    )
    try await transport.start()
    do {
        let result = try await body(transport)
        await transport.stop()
        return result
    } catch {
        await transport.stop()
        throw error
    }
}

extension GossipTransport {
    /// `127.0.0.1:<bound port>`.
    var address: String { "127.0.0.1:\(port ?? 0)" }
}

/// The first datagram of `stream`, or nil if none arrives within `timeout`.
func firstDatagram(of stream: AsyncStream<GossipDatagram>, within timeout: Duration = .seconds(5)) async -> GossipDatagram? {
    await withTaskGroup(of: GossipDatagram?.self) { group in
        group.addTask {
            var iterator = stream.makeAsyncIterator()
            return await iterator.next()
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func eventually(within timeout: Duration = .seconds(5), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}

/// What a raw TCP client saw before the server closed the connection.
struct RawSession {
    var received: [UInt8]
    /// From connecting to seeing the connection closed.
    var elapsed: Duration
}

/// Connects a raw TCP client to `port`, runs `send` concurrently with reading, and returns once the
/// server closes the connection (or `limit` passes, which the caller treats as "never closed").
func rawSession(
    port: Int,
    limit: Duration = .seconds(10),
    send: @escaping @Sendable (NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws -> Void = { _ in }
) async throws -> RawSession {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    let start = ContinuousClock.now
    return try await channel.executeThenClose { inbound, outbound in
        try await withThrowingTaskGroup(of: RawSession?.self) { group in
            group.addTask {
                try? await send(outbound)
                try await Task.sleep(for: .seconds(3600))
                return nil
            }
            group.addTask {
                try await Task.sleep(for: limit)
                return RawSession(received: [], elapsed: .seconds(3600))
            }
            group.addTask {
                var received: [UInt8] = []
                do {
                    for try await chunk in inbound { received += Array(chunk.readableBytesView) }
                } catch {
                    // A reset counts as closed too.
                }
                return RawSession(received: received, elapsed: ContinuousClock.now - start)
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            return RawSession(received: [], elapsed: .seconds(3600))
        }
    }
}
