extension Membership {
    /// Protocol timing and sizing. All durations are seconds.
    ///
    /// The defaults target a LAN load-balancer tier where a failed node must be noticed within a few
    /// seconds: probes twice as often as memberlist's LAN profile (0.5 s instead of 1 s), a 0.2 s probe
    /// timeout, gossip every 0.1 s. Suspicion still follows Lifeguard, so the floor of the suspicion
    /// timeout is `suspicionMult × max(1, log10 N) × probeInterval` (1.5 s for up to 10 nodes, 3 s at 100).
    public struct Settings: Sendable, Hashable {
        /// Time between two probe rounds (scaled by local health + 1).
        public var probeInterval: Double = 0.5
        /// Time to wait for a direct ack before asking helpers for indirect probes (scaled by local health + 1).
        public var probeTimeout: Double = 0.2
        /// Number of helpers asked to probe a member indirectly (the SWIM `k`).
        public var indirectChecks: Int = 3
        /// Lifeguard: the suspicion timeout floor is `suspicionMult × max(1, log10 N) × probeInterval`.
        public var suspicionMult: Int = 3
        /// Lifeguard: a fresh suspicion starts at `suspicionMaxTimeoutMult ×` the floor and decays
        /// toward the floor as independent suspicions confirm it.
        public var suspicionMaxTimeoutMult: Int = 6
        /// A rumor is retransmitted `retransmitMult × ceil(log10(N + 1))` times.
        public var retransmitMult: Int = 4
        /// Time between two gossip rounds.
        public var gossipInterval: Double = 0.1
        /// Members a gossip round sends to.
        public var gossipNodes: Int = 3
        /// Dead members still receive gossip for this long, so a falsely declared node hears it and refutes.
        public var gossipToTheDead: Double = 5
        /// Lifeguard local health multiplier ceiling.
        public var maxLocalHealth: Int = 8
        /// Upper bound of one UDP datagram's payload (the encoded ``Membership/Message``).
        public var packetBudget: Int = 1200
        /// Period of the TCP push/pull state exchange with one random alive member.
        public var pushPullInterval: Double = 15
        /// Period of reconnect attempts (a push/pull to one random dead member), so a healed partition is noticed.
        public var reconnectInterval: Double = 2
        /// Period of join attempts (push/pull to every seed) until the node has heard from anyone.
        public var joinRetryInterval: Double = 1
        /// Dead and left members are forgotten this long after their last change.
        public var deadMemberRetention: Double = 3600
        /// Identities of delivered broadcasts are remembered this long to deliver each only once.
        public var broadcastMemory: Double = 60

        /// The LAN load-balancer defaults described above.
        public init() {}
    }
}
