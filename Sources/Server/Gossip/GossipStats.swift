import Synchronization

/// Counters of a ``GossipTransport`` since it was created.
public struct GossipStats: Sendable, Hashable {
    /// Datagrams that opened and were handed to ``GossipTransport/datagrams``.
    public var datagramsReceived = 0
    /// Datagrams handed to the socket.
    public var datagramsSent = 0
    /// Datagrams that opened but were dropped because the consumer fell behind.
    public var datagramsDropped = 0
    /// UDP or TCP frames that did not open (wrong key, altered, wrong magic, version or kind).
    public var rejectedFrames = 0
    /// TCP frames whose length prefix exceeded ``GossipLimits/maxFrameBytes``.
    public var oversizedFrames = 0
    /// Requests answered by the request handler.
    public var requestsServed = 0
    /// Connections closed because the peer did not send its request (or read the answer) in time.
    public var requestsTimedOut = 0
    /// Connections closed at once because ``GossipLimits/maxConnections`` were already open.
    public var connectionsRefused = 0
    /// Incoming TCP connections open now.
    public var activeConnections = 0

    /// All zero.
    public init() {}
}

/// Lock-free counters behind ``GossipStats``.
final class GossipCounters: Sendable {
    let datagramsReceived = Atomic<Int>(0)
    let datagramsSent = Atomic<Int>(0)
    let datagramsDropped = Atomic<Int>(0)
    let rejectedFrames = Atomic<Int>(0)
    let oversizedFrames = Atomic<Int>(0)
    let requestsServed = Atomic<Int>(0)
    let requestsTimedOut = Atomic<Int>(0)
    let connectionsRefused = Atomic<Int>(0)

    func snapshot(activeConnections: Int) -> GossipStats {
        var stats = GossipStats()
        stats.datagramsReceived = datagramsReceived.load(ordering: .relaxed)
        stats.datagramsSent = datagramsSent.load(ordering: .relaxed)
        stats.datagramsDropped = datagramsDropped.load(ordering: .relaxed)
        stats.rejectedFrames = rejectedFrames.load(ordering: .relaxed)
        stats.oversizedFrames = oversizedFrames.load(ordering: .relaxed)
        stats.requestsServed = requestsServed.load(ordering: .relaxed)
        stats.requestsTimedOut = requestsTimedOut.load(ordering: .relaxed)
        stats.connectionsRefused = connectionsRefused.load(ordering: .relaxed)
        stats.activeConnections = activeConnections
        return stats
    }
}

extension Atomic<Int> {
    func increment() { wrappingAdd(1, ordering: .relaxed) }
}
