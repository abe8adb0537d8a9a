/// Bounds on what peers may cost a node. Every peer is untrusted until its frame opens.
public struct GossipLimits: Sendable, Hashable {
    /// Concurrent incoming TCP connections; excess connections are accepted and closed at once.
    public var maxConnections: Int
    /// Time a peer has, from connecting, to deliver its whole request frame; also the time it has to
    /// read the response. A slow or silent peer is disconnected when it runs out.
    public var requestTimeout: Duration
    /// Largest length-prefixed TCP frame accepted or sent (sealed size); a larger prefix closes the connection.
    public var maxFrameBytes: Int
    /// Largest sealed UDP datagram sent; larger payloads are refused rather than fragmented.
    public var maxDatagramBytes: Int
    /// Decrypted datagrams buffered for a slow consumer of ``GossipTransport/datagrams``; the oldest
    /// are dropped beyond it.
    public var datagramBufferSize: Int
    /// At most one warning per peer host per interval about frames that do not open.
    public var rejectionLogInterval: Duration

    /// Defaults: 64 connections, 3 s request timeout, 64 MiB frames, 1400-byte datagrams (fits a
    /// 1500-byte Ethernet MTU with IPv6 and UDP headers), 1024 buffered datagrams, 10 s between warnings.
    public init(
        maxConnections: Int = 64,
        requestTimeout: Duration = .seconds(3),
        maxFrameBytes: Int = 64 << 20,
        maxDatagramBytes: Int = 1400,
        datagramBufferSize: Int = 1024,
        rejectionLogInterval: Duration = .seconds(10)
    ) {
        self.maxConnections = maxConnections
        self.requestTimeout = requestTimeout
        self.maxFrameBytes = maxFrameBytes
        self.maxDatagramBytes = maxDatagramBytes
        self.datagramBufferSize = datagramBufferSize
        self.rejectionLogInterval = rejectionLogInterval
    }
}
