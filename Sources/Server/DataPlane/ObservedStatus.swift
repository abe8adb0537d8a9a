import FlexLBAPI
import Synchronization

/// What this node observes of each instance, written by the reconciler and read by the API.
public final class ObservedStatus: Sendable {
    private let entries = Mutex<[String: NodeInstanceStatus]>([:])
    private let tallies = Mutex<Counters>(Counters())

    /// Counts of data-plane actions, for benchmarks and tests.
    public struct Counters: Sendable, Hashable {
        public var keepalivedReloads = 0
        public var keepalivedStarts = 0
        public var haproxyStarts = 0
        public var haproxyReloads = 0
        public var passes = 0
    }

    public init() {}

    public func status(of instance: String) -> NodeInstanceStatus? {
        entries.withLock { $0[instance] }
    }

    func replace(_ all: [String: NodeInstanceStatus]) {
        entries.withLock { $0 = all }
    }

    public var counters: Counters { tallies.withLock { $0 } }

    func count(_ update: (inout Counters) -> Void) {
        tallies.withLock { update(&$0) }
    }
}
