import Logging
import NIOCore
import Synchronization

/// What a ``GossipTransport`` and its channel handlers share: the keyring, limits, counters, the
/// open incoming connections and the datagram stream. Thread-safe; handlers on any event loop use it.
final class TransportCore: Sendable {
    typealias RequestHandler = @Sendable ([UInt8], _ from: String) async -> [UInt8]?

    let limits: GossipLimits
    let logger: Logger
    let counters = GossipCounters()
    let requestHandler: RequestHandler
    let datagrams: AsyncStream<GossipDatagram>
    private let datagramSink: AsyncStream<GossipDatagram>.Continuation
    private let keyringBox: Mutex<GossipKeyring>
    private let rejectionLog: Mutex<RejectionLogPolicy>
    private let connections = Mutex<[ObjectIdentifier: any Channel]>([:])

    init(keyring: GossipKeyring, limits: GossipLimits, logger: Logger, requestHandler: @escaping RequestHandler) {
        self.limits = limits
        self.logger = logger
        self.requestHandler = requestHandler
        self.keyringBox = Mutex(keyring)
        self.rejectionLog = Mutex(RejectionLogPolicy(interval: limits.rejectionLogInterval))
        (self.datagrams, self.datagramSink) = AsyncStream.makeStream(
            of: GossipDatagram.self,
            bufferingPolicy: .bufferingNewest(max(1, limits.datagramBufferSize))
        )
    }

    var keyring: GossipKeyring {
        get { keyringBox.withLock { $0 } }
        set { keyringBox.withLock { $0 = newValue } }
    }

    var stats: GossipStats {
        counters.snapshot(activeConnections: connections.withLock { $0.count })
    }

    // MARK: Datagrams

    func deliver(_ datagram: GossipDatagram) {
        // Counted before the yield, so a consumer that sees the datagram also sees it counted.
        counters.datagramsReceived.increment()
        if case .dropped = datagramSink.yield(datagram) { counters.datagramsDropped.increment() }
    }

    func finishDatagrams() { datagramSink.finish() }

    // MARK: Incoming connections

    /// Registers a new incoming connection, or refuses it when the limit is reached.
    func admit(_ channel: any Channel) -> Bool {
        let admitted = connections.withLock { open in
            guard open.count < limits.maxConnections else { return false }
            open[ObjectIdentifier(channel)] = channel
            return true
        }
        if !admitted { counters.connectionsRefused.increment() }
        return admitted
    }

    func release(_ channel: any Channel) {
        _ = connections.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    func closeAllConnections() {
        let open = connections.withLock { $0.values }
        for channel in open { channel.close(promise: nil) }
    }

    // MARK: Rejections

    /// Counts a frame that did not open and warns about it, at most once per peer host per interval.
    func reject(from peer: SocketAddress?, over transport: String, because error: any Error) {
        counters.rejectedFrames.increment()
        warn(from: peer, over: transport, "rejected a gossip frame that does not open (wrong key, tampered, or not a FlexLB peer); nothing in it is applied", error: error)
    }

    /// Warns about a misbehaving peer, rate-limited per peer host.
    func warn(from peer: SocketAddress?, over transport: String, _ message: String, error: any Error) {
        let host = peer?.ipAddress ?? "unknown"
        let decision = rejectionLog.withLock { $0.record(host: host, now: .now) }
        guard case .log(let suppressed) = decision else { return }
        logger.warning(
            "\(message)",
            metadata: [
                "flexlb.gossip.peer": "\(GossipAddress.describe(peer))",
                "flexlb.gossip.transport": "\(transport)",
                "flexlb.gossip.reason": "\(error)",
                "flexlb.gossip.suppressed": "\(suppressed)",
            ]
        )
    }
}
