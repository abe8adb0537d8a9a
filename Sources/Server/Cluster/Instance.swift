extension Membership {
    /// One node's membership state machine. Value type: copy it, drive it, compare it.
    ///
    /// Drive it with ``tick(now:)`` (every 10–50 ms, or at ``nextDeadline``), ``receive(_:from:now:)``
    /// for every decoded datagram and ``mergePushPull(_:now:)`` for every TCP state exchange, and
    /// execute the returned directives in order. `now` is seconds on a monotonic clock and must not
    /// go backwards.
    public struct Instance: Sendable {
        /// Protocol settings.
        public let settings: Settings
        /// The local node, as the rest of the cluster should see it.
        public internal(set) var local: Member
        /// Other members, by name, including dead and left ones until retention expires.
        var members: [String: Member] = [:]
        /// Lifeguard local health multiplier, 0 ... `settings.maxLocalHealth`.
        public internal(set) var localHealth = 0
        /// Gossip rounds that sent at least one datagram (for measurements).
        public internal(set) var gossipRounds = 0
        /// Whether the node has heard from the cluster (or had no seeds to join through).
        public internal(set) var joined: Bool
        /// Whether ``leave(now:)`` was called.
        public internal(set) var leaving = false

        let seeds: [String]
        var rng: SplitMix64
        var clock: Double
        var nextSequence: UInt64 = 1
        var probeOrder: [String] = []
        var probeCursor = 0
        var pendingProbe: PendingProbe?
        var forwards: [UInt64: IndirectForward] = [:]
        var suspicions: [String: Suspicion] = [:]
        var rumors = RumorQueue()
        var seenBroadcasts: [BroadcastID: Double] = [:]
        var broadcastSequence: UInt64 = 0
        var nextProbeAt: Double
        var nextGossipAt: Double
        var nextPushPullAt: Double
        var nextReconnectAt: Double
        var nextJoinAt: Double
        var nextReapAt: Double

        /// Creates a node's state machine.
        /// - Parameters:
        ///   - localName: unique node name, stable across restarts.
        ///   - localAddress: this node's gossip address, `host:port`.
        ///   - metadata: opaque application bytes published with the membership.
        ///   - seeds: addresses to join through; empty for the first node. Its own address is skipped.
        ///   - settings: protocol settings.
        ///   - now: current monotonic time in seconds.
        ///   - randomSeed: seed of the instance's generator (probe order, helpers, gossip targets).
        public init(localName: String, localAddress: String, metadata: [UInt8] = [], seeds: [String] = [], settings: Settings = Settings(), now: Double, randomSeed: UInt64) {
            self.settings = settings
            self.local = Member(name: localName, address: localAddress, metadata: metadata, status: .alive, incarnation: 0, lastChange: now)
            self.seeds = seeds.filter { $0 != localAddress }
            self.joined = self.seeds.isEmpty
            self.rng = SplitMix64(seed: randomSeed)
            self.clock = now
            // Random phases so the nodes of a cluster started together do not probe in lockstep.
            nextProbeAt = now + Double.random(in: 0..<settings.probeInterval, using: &rng)
            nextGossipAt = now + Double.random(in: 0..<settings.gossipInterval, using: &rng)
            nextPushPullAt = now + settings.pushPullInterval * Double.random(in: 0.5..<1.5, using: &rng)
            nextReconnectAt = now + settings.reconnectInterval
            nextJoinAt = now
            nextReapAt = now + 1
        }

        /// Every known member, the local node included, sorted by name.
        public func snapshot() -> [Member] {
            ([local] + members.values).sorted { $0.name < $1.name }
        }

        /// The local view of one member, the local node included.
        public func member(named name: String) -> Member? {
            name == local.name ? local : members[name]
        }

        /// Rumors and broadcasts still waiting to be piggybacked.
        public var pendingGossipCount: Int { rumors.count }

        /// The earliest time at which ``tick(now:)`` has something to do.
        public var nextDeadline: Double {
            var deadline = min(nextGossipAt, nextReapAt)
            if !leaving {
                deadline = min(deadline, nextProbeAt, nextPushPullAt, nextReconnectAt)
                if !joined { deadline = min(deadline, nextJoinAt) }
                if let probe = pendingProbe { deadline = min(deadline, probe.indirectSent ? probe.failAt : probe.indirectAt) }
                for forward in forwards.values { deadline = min(deadline, forward.nackAt) }
                for suspicion in suspicions.values { deadline = min(deadline, suspicion.deadline) }
            }
            return deadline
        }
    }
}

// MARK: - Bookkeeping types

extension Membership.Instance {
    /// The probe of the current protocol period.
    struct PendingProbe: Sendable {
        let sequence: UInt64
        let target: String
        let indirectAt: Double
        let failAt: Double
        var indirectSent = false
        var expectedNacks = 0
        var nacks = 0
    }

    /// A ping sent on behalf of another node's ping request.
    struct IndirectForward: Sendable {
        let requester: String
        let requesterSequence: UInt64
        let nackAt: Double
    }

    /// A broadcast's identity, to deliver it once.
    struct BroadcastID: Hashable, Sendable {
        let origin: String
        let sequence: UInt64
    }
}

// MARK: - Derived quantities

extension Membership.Instance {
    /// Members believed reachable (alive or suspect), the local node included.
    var liveCount: Int {
        1 + members.values.count { $0.status == .alive || $0.status == .suspect }
    }

    /// Lifeguard's scale for probe timeouts and intervals.
    var healthScale: Double { Double(localHealth + 1) }

    /// `retransmitMult × ceil(log10(N + 1))`.
    var retransmitLimit: Int {
        max(1, settings.retransmitMult * Arithmetic.ceilLog10(liveCount + 1))
    }

    mutating func adjustLocalHealth(by delta: Int) {
        localHealth = min(settings.maxLocalHealth, max(0, localHealth + delta))
    }

    mutating func takeSequence() -> UInt64 {
        defer { nextSequence &+= 1 }
        return nextSequence
    }

    /// Up to `count` distinct random members satisfying `filter`.
    mutating func randomMembers(_ count: Int, where filter: (Membership.Member) -> Bool) -> [Membership.Member] {
        var candidates = members.values.filter(filter).sorted { $0.name < $1.name }
        guard count < candidates.count else {
            candidates.shuffle(using: &rng)
            return candidates
        }
        var chosen: [Membership.Member] = []
        for _ in 0..<count {
            chosen.append(candidates.remove(at: Int.random(in: 0..<candidates.count, using: &rng)))
        }
        return chosen
    }
}
