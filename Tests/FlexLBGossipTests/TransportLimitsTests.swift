import NIOCore
import NIOPosix
import Testing

@testable import FlexLBGossip

#if canImport(Glibc)
import Glibc
#endif

@Suite("GossipTransport limits")
struct TransportLimitsTests {
    @Test("a client that connects and sends nothing is closed after requestTimeout")
    func silentClient() async throws {
        try await withTransport(keyring: ring(keyA), limits: GossipLimits(requestTimeout: .milliseconds(300))) { server in
            let session = try await rawSession(port: server.port ?? 0)
            // The server's clock starts at accept, which on a busy machine can be well before the
            // client's connect returns: the counter, not the client's stopwatch, proves the cause.
            #expect(session.elapsed < .seconds(3))
            #expect(session.received.isEmpty)
            #expect(await eventually { server.stats.requestsTimedOut == 1 && server.stats.activeConnections == 0 })
        }
    }

    @Test("drip-feeding a byte at a time does not extend requestTimeout")
    func dripFeeder() async throws {
        try await withTransport(keyring: ring(keyA), limits: GossipLimits(requestTimeout: .milliseconds(500))) { server in
            let session = try await rawSession(port: server.port ?? 0) { outbound in
                try await outbound.write(ByteBuffer(bytes: [0, 0, 1, 0]))  // announces 256 bytes
                while true {
                    try await outbound.write(ByteBuffer(bytes: [0]))
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            #expect(session.elapsed < .seconds(3))
            #expect(await eventually { server.stats.requestsTimedOut == 1 })
        }
    }

    @Test("a 4 GiB length prefix closes the connection at once")
    func hugePrefix() async throws {
        try await withTransport(keyring: ring(keyA), limits: GossipLimits(requestTimeout: .seconds(30))) { server in
            let session = try await rawSession(port: server.port ?? 0) { outbound in
                try await outbound.write(ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF]))
            }
            #expect(session.elapsed < .seconds(3))
            #expect(await eventually { server.stats.oversizedFrames == 1 })
        }
    }

    @Test("a frame that does not open closes the connection and is counted")
    func garbageFrame() async throws {
        try await withTransport(keyring: ring(keyA), limits: GossipLimits(requestTimeout: .seconds(30))) { server in
            let session = try await rawSession(port: server.port ?? 0) { outbound in
                try await outbound.write(ByteBuffer(bytes: [0, 0, 0, 40] + Array(repeating: 0x41, count: 40)))
            }
            #expect(session.elapsed < .seconds(3))
            #expect(session.received.isEmpty)
            #expect(await eventually { server.stats.rejectedFrames == 1 })
        }
    }

    @Test("connections beyond maxConnections are closed at once; freed slots serve again")
    func maxConnections() async throws {
        let limits = GossipLimits(maxConnections: 2, requestTimeout: .seconds(30))
        try await withTransport(keyring: ring(keyA)) { client in
            try await withTransport(keyring: ring(keyA), limits: limits, handler: { request, _ in request }) { server in
                let port = server.port ?? 0
                var held: [any Channel] = []
                defer { for channel in held { channel.close(promise: nil) } }
                for _ in 0..<2 {
                    held.append(try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get())
                }
                #expect(await eventually { server.stats.activeConnections == 2 })

                let excess = try await rawSession(port: port)
                #expect(excess.elapsed < .seconds(3))
                #expect(server.stats.connectionsRefused == 1)
                await #expect(throws: (any Error).self) {
                    try await client.request([1], to: server.address, timeout: .seconds(5))
                }

                try await held.removeFirst().close()
                #expect(await eventually { server.stats.activeConnections == 1 })
                #expect(try await client.request([7], to: server.address, timeout: .seconds(5)) == [7])
            }
        }
    }

    #if canImport(Glibc)
    @Test("every socket the transport opens (listeners, accepted, outgoing) is close-on-exec")
    func closeOnExec() async throws {
        let handlerEntered = AsyncStream<Void>.makeStream()
        let handler: @Sendable ([UInt8], String) async -> [UInt8]? = { request, _ in
            handlerEntered.continuation.yield()
            try? await Task.sleep(for: .milliseconds(300))
            return request
        }
        try await withTransport(keyring: ring(keyA), handler: handler) { transport in
            let port = try #require(transport.port)
            async let answer = transport.request([1], to: transport.address, timeout: .seconds(5))
            var entered = handlerEntered.stream.makeAsyncIterator()
            _ = await entered.next()
            // While the request is in flight: UDP and TCP listeners, the accepted and the outgoing socket.
            let sockets = socketsUsing(port: port)
            #expect(sockets.count == 4)
            for (fd, flags) in sockets {
                #expect(flags & FD_CLOEXEC != 0, "fd \(fd) is not close-on-exec")
            }
            #expect(try await answer == [1])
        }
    }

    /// Descriptor flags of every socket of this process bound or connected to 127.0.0.1:`port`.
    private func socketsUsing(port: Int) -> [(fd: Int32, flags: Int32)] {
        func boundPort(of fd: Int32, peer: Bool) -> Int? {
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let rc = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    peer ? getpeername(fd, $0, &length) : getsockname(fd, $0, &length)
                }
            }
            guard rc == 0, address.sin_family == sa_family_t(AF_INET) else { return nil }
            return Int(UInt16(bigEndian: address.sin_port))
        }
        var result: [(fd: Int32, flags: Int32)] = []
        for fd in Int32(0)..<4096 {
            var info = stat()
            guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else { continue }
            if boundPort(of: fd, peer: false) == port || boundPort(of: fd, peer: true) == port {
                result.append((fd, fcntl(fd, F_GETFD)))
            }
        }
        return result
    }
    #endif
}
