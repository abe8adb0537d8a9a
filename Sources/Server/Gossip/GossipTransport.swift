import Logging
import NIOCore
import NIOPosix
import Synchronization

/// One decrypted UDP payload and the address it came from.
public struct GossipDatagram: Sendable, Hashable {
    /// The sender, as `host:port` (`[host]:port` for IPv6).
    public var from: String
    /// The opened payload.
    public var payload: [UInt8]

    /// A datagram from `from` carrying `payload`.
    public init(from: String, payload: [UInt8]) {
        self.from = from
        self.payload = payload
    }
}

/// The gossip network shell: encrypted, authenticated UDP datagrams and TCP request/response frames
/// on one host and port.
///
/// Every frame is sealed with the keyring's primary key and opened with any of its keys (see
/// ``GossipKeyring`` and ``GossipFrameFormat``). Frames that do not open are dropped and counted in
/// ``stats``. Explicit ``start()`` and ``stop()``; the application wraps it in a service.
public final class GossipTransport: Sendable {
    private enum State {
        case idle
        case starting
        case running(udp: any Channel, tcp: any Channel)
        case stopped
    }

    private let host: String
    private let requestedPort: Int
    let group: any EventLoopGroup
    let core: TransportCore
    private let state = Mutex<State>(.idle)

    /// A transport that will listen on `host:port` for UDP and TCP once started.
    ///
    /// - Parameters:
    ///   - host: an IP address to bind, such as `0.0.0.0`, `::` or `10.0.0.5`.
    ///   - port: the UDP and TCP port; 0 picks a free one (read it from ``port`` after ``start()``).
    ///   - keyring: the keys frames are sealed and opened with; replace it later with ``setKeyring(_:)``.
    ///   - logger: where warnings about rejected frames and misbehaving peers go.
    ///   - limits: bounds on what peers may cost this node.
    ///   - eventLoopGroup: where the sockets live; the shared singleton by default.
    ///   - requestHandler: answers an incoming TCP request given its payload and the peer's address;
    ///     returning nil closes the connection without an answer.
    public init(
        host: String,
        port: Int,
        keyring: GossipKeyring,
        logger: Logger,
        limits: GossipLimits = GossipLimits(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        requestHandler: @escaping @Sendable ([UInt8], _ from: String) async -> [UInt8]?
    ) {
        self.host = host
        self.requestedPort = port
        self.group = eventLoopGroup
        self.core = TransportCore(keyring: keyring, limits: limits, logger: logger, requestHandler: requestHandler)
    }

    /// Decrypted incoming datagrams, in arrival order. One consumer; the stream finishes on ``stop()``.
    public var datagrams: AsyncStream<GossipDatagram> { core.datagrams }

    /// Counters since creation.
    public var stats: GossipStats { core.stats }

    /// The bound port once started (the real one when 0 was asked for); nil before start and after stop.
    public var port: Int? {
        state.withLock { state in
            guard case .running(let udp, _) = state else { return nil }
            return udp.localAddress?.port
        }
    }

    /// Replaces the keyring, for key rotation while running. New frames are sealed with the new
    /// primary; frames in flight are opened with whichever ring is current when they arrive.
    public func setKeyring(_ keyring: GossipKeyring) {
        core.keyring = keyring
    }

    /// Binds UDP and TCP on the same port. A failed start can be retried.
    /// - Throws: ``GossipError/Code/alreadyStarted``, ``GossipError/Code/notRunning`` when
    ///   ``stop()`` ran meanwhile, or the bind error.
    public func start() async throws {
        try state.withLock { state in
            guard case .idle = state else {
                throw GossipError(.alreadyStarted, "the gossip transport was already started (a stopped transport cannot restart)")
            }
            state = .starting
        }
        // With port 0 the kernel picks a free UDP port that may be taken for TCP: try a few.
        let attempts = requestedPort == 0 ? 8 : 1
        var lastError: any Error = GossipError(.notRunning, "could not bind the gossip transport")
        for _ in 0..<attempts {
            let udp: any Channel
            let tcp: any Channel
            do {
                udp = try await bindUDP(port: requestedPort)
            } catch {
                lastError = error
                break
            }
            do {
                tcp = try await bindTCP(port: udp.localAddress?.port ?? requestedPort)
            } catch {
                lastError = error
                try? await udp.close()
                continue
            }
            let stillStarting = state.withLock { state in
                guard case .starting = state else { return false }
                state = .running(udp: udp, tcp: tcp)
                return true
            }
            guard stillStarting else {
                try? await tcp.close()
                try? await udp.close()
                throw GossipError(.notRunning, "the gossip transport was stopped while starting")
            }
            core.logger.info(
                "gossip transport listening",
                metadata: [
                    "flexlb.gossip.address": "\(GossipAddress.format(host: host, port: udp.localAddress?.port ?? 0))",
                    "flexlb.gossip.keys": "\(core.keyring.fingerprints.joined(separator: ","))",
                ]
            )
            return
        }
        state.withLock { state in
            if case .starting = state { state = .idle }
        }
        throw lastError
    }

    /// Closes both sockets and every incoming connection, and finishes ``datagrams``. Idempotent.
    public func stop() async {
        let previous = state.withLock { state in
            defer { state = .stopped }
            return state
        }
        if case .running(let udp, let tcp) = previous {
            try? await tcp.close()
            try? await udp.close()
        }
        core.closeAllConnections()
        core.finishDatagrams()
    }

    /// Seals and sends one UDP datagram; fire and forget.
    /// - Throws: ``GossipError/Code/invalidAddress``, ``GossipError/Code/datagramTooLarge`` when the
    ///   sealed datagram exceeds ``GossipLimits/maxDatagramBytes`` (it is never fragmented), or
    ///   ``GossipError/Code/notRunning``.
    public func send(datagram payload: [UInt8], to address: String) throws {
        let destination = try GossipAddress(address)
        let frame = try core.keyring.seal(payload, kind: .datagram)
        guard frame.count <= core.limits.maxDatagramBytes else {
            throw GossipError(
                .datagramTooLarge,
                "datagram of \(payload.count) bytes seals to \(frame.count), over the \(core.limits.maxDatagramBytes)-byte limit; send it as a request"
            )
        }
        let channel = try state.withLock { state throws(GossipError) -> any Channel in
            guard case .running(let udp, _) = state else { throw GossipError(.notRunning, "the gossip transport is not running") }
            return udp
        }
        let envelope = AddressedEnvelope(
            remoteAddress: destination.socketAddress,
            data: channel.allocator.buffer(bytes: frame)
        )
        let logger = core.logger
        channel.writeAndFlush(envelope).whenFailure { error in
            logger.debug(
                "could not send a gossip datagram",
                metadata: ["flexlb.gossip.peer": "\(destination)", "flexlb.gossip.reason": "\(error)"]
            )
        }
        core.counters.datagramsSent.increment()
    }

    // MARK: Binding

    private func bindUDP(port: Int) async throws -> any Channel {
        let core = self.core
        return try await DatagramBootstrap(group: group)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: max(2048, core.limits.maxDatagramBytes)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try CloseOnExec.mark(channel)
                    try channel.pipeline.syncOperations.addHandler(DatagramHandler(core: core))
                }
            }
            .bind(host: host, port: port)
            .get()
    }

    private func bindTCP(port: Int) async throws -> any Channel {
        let core = self.core
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try CloseOnExec.mark(channel) }
            }
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try CloseOnExec.mark(channel)
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(ConnectionGate(core: core))
                    try pipeline.addHandler(
                        ByteToMessageHandler(LengthPrefixedFrameDecoder(maxFrameBytes: core.limits.maxFrameBytes))
                    )
                    try pipeline.addHandler(IncomingRequestHandler(core: core))
                }
            }
            .bind(host: host, port: port)
            .get()
    }
}
