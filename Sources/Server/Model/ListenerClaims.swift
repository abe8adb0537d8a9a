/// Cluster-wide uniqueness of VIP:port. One node checks new writes against what it knows, but two
/// nodes can accept conflicting writes concurrently; when both records meet, every node must reach
/// the same verdict. The rule: a listener belongs to the live record that claimed it first — the
/// earliest create stamp (version, origin) among the records claiming it. Later claimants are *conflicted*: stored
/// and listed (nothing acknowledged is lost), not served, with the reason in their status, and they
/// take over automatically once the owner releases the listener.
public enum ListenerClaims {
    /// A record that may not be served, and why.
    public struct Conflict: Sendable, Hashable {
        public var listener: ListenerKey
        public var owner: String

        public init(listener: ListenerKey, owner: String) {
            self.listener = listener
            self.owner = owner
        }

        public var message: String { "\(listener) is also claimed by instance \(owner), which claimed it first; this instance is not served until that is resolved" }
    }

    /// The conflicted records among `records` (tombstones ignored), keyed by instance name.
    ///
    /// Records are visited oldest first; a record that loses any of its listeners loses them all
    /// (an instance is served whole or not at all) and claims none, so it blocks nobody.
    public static func conflicts(in records: some Sequence<InstanceRecord>) -> [String: Conflict] {
        var owners: [ListenerKey: String] = [:]
        var conflicts: [String: Conflict] = [:]
        // Claims date from the instance's create, so modifying the owner never hands its listener
        // to a conflicted instance. Names break ties between identical stamps (impossible in practice).
        for record in records.filter({ !$0.deleted }).sorted(by: { ($0.created, $0.name) < ($1.created, $1.name) }) {
            if let taken = record.listeners.sorted().first(where: { owners[$0] != nil }) {
                conflicts[record.name] = Conflict(listener: taken, owner: owners[taken]!)
                continue
            }
            for listener in record.listeners { owners[listener] = record.name }
        }
        return conflicts
    }
}
