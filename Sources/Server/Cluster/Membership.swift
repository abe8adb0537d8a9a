/// SWIM-style cluster membership with the Lifeguard refinements, as a pure state machine.
///
/// ``Membership/Instance`` holds one node's view of the cluster. It does no I/O, reads no clock and
/// owns no entropy source: the shell passes the time in (`now`, seconds on a monotonic clock, any
/// origin, as a `Double`), feeds it received ``Membership/Message``s, and executes the
/// ``Membership/Directive``s it returns (UDP sends, TCP push/pull exchanges, notifications to the app).
/// Randomness comes from a seedable ``Membership/SplitMix64`` so tests and simulations are deterministic.
public enum Membership {}

extension Membership {
    /// What a node believes about a member's liveness.
    public enum Status: UInt8, Sendable, Hashable, CustomStringConvertible {
        /// Answering probes, or not yet suspected at its current incarnation.
        case alive = 0
        /// Missed a probe round; will be declared dead unless it refutes before the suspicion timeout.
        case suspect = 1
        /// Declared failed. Still probed now and then (push/pull) so a healed partition is noticed.
        case dead = 2
        /// Left gracefully; final for that incarnation (a restart with a higher incarnation rejoins).
        case left = 3

        public var description: String {
            switch self {
            case .alive: "alive"
            case .suspect: "suspect"
            case .dead: "dead"
            case .left: "left"
            }
        }
    }

    /// The replicated part of a member: what gossip and push/pull carry about it.
    public struct MemberState: Sendable, Hashable {
        /// Unique node name; the identity of a member across restarts.
        public var name: String
        /// Gossip address, `host:port` (IPv6 hosts in brackets: `[::1]:7946`).
        public var address: String
        /// Opaque bytes the application publishes (API address, per-network addresses, ...).
        public var metadata: [UInt8]
        /// Liveness as asserted by this state.
        public var status: Status
        /// The member's own version counter; only the member itself raises it (refutation, metadata).
        public var incarnation: UInt64

        /// Creates a member state.
        public init(name: String, address: String, metadata: [UInt8] = [], status: Status, incarnation: UInt64) {
            self.name = name
            self.address = address
            self.metadata = metadata
            self.status = status
            self.incarnation = incarnation
        }
    }

    /// A member as seen by the local node: its replicated state plus when it last changed here.
    public struct Member: Sendable, Hashable, CustomStringConvertible {
        /// Unique node name.
        public var name: String
        /// Gossip address, `host:port`.
        public var address: String
        /// Opaque application metadata.
        public var metadata: [UInt8]
        /// Current status in the local view.
        public var status: Status
        /// Highest incarnation known for this member.
        public var incarnation: UInt64
        /// Local monotonic time (the `now` passed in) of the last status, incarnation or metadata change.
        public var lastChange: Double

        /// Creates a member.
        public init(name: String, address: String, metadata: [UInt8], status: Status, incarnation: UInt64, lastChange: Double) {
            self.name = name
            self.address = address
            self.metadata = metadata
            self.status = status
            self.incarnation = incarnation
            self.lastChange = lastChange
        }

        /// The replicated part, as gossip and push/pull carry it.
        public var state: MemberState {
            MemberState(name: name, address: address, metadata: metadata, status: status, incarnation: incarnation)
        }

        public var description: String { "\(name)@\(address) \(status)#\(incarnation)" }
    }

    /// An application broadcast as it travels: the key and payload the app gave, plus an identity
    /// (origin node, per-origin sequence) used to deliver each broadcast once.
    public struct AppBroadcast: Sendable, Hashable {
        /// Application key; a newer broadcast with the same key replaces a queued older one.
        public var key: String
        /// Application bytes.
        public var payload: [UInt8]
        /// Name of the node that broadcast it.
        public var origin: String
        /// Per-origin sequence number, increasing.
        public var sequence: UInt64

        /// Creates a broadcast.
        public init(key: String, payload: [UInt8], origin: String, sequence: UInt64) {
            self.key = key
            self.payload = payload
            self.origin = origin
            self.sequence = sequence
        }
    }

    /// One piggybacked item: a membership rumor or an application broadcast.
    public enum Gossip: Sendable, Hashable {
        /// A member's state. `reporter` names the node that declared a suspicion or death (used to
        /// count independent confirmations); it is the member itself for alive and left.
        case member(MemberState, reporter: String)
        /// An application broadcast.
        case broadcast(AppBroadcast)
    }
}
