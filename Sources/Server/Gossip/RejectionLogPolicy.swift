/// Decides which rejected frames get a warning line: at most one per peer host per interval, so a
/// misconfigured or hostile peer cannot flood the log. Pure: time is passed in.
struct RejectionLogPolicy {
    /// What to do with one rejection.
    enum Decision: Equatable {
        /// Log it, mentioning how many were silenced for this host since the last line.
        case log(suppressed: Int)
        case suppress
    }

    private struct Entry {
        var lastLogged: ContinuousClock.Instant
        var suppressed: Int
    }

    let interval: Duration
    /// Hosts remembered at once; beyond it, new hosts are silenced until old entries expire.
    let capacity: Int
    private var entries: [String: Entry] = [:]

    init(interval: Duration, capacity: Int = 1024) {
        self.interval = interval
        self.capacity = capacity
    }

    mutating func record(host: String, now: ContinuousClock.Instant) -> Decision {
        if var entry = entries[host] {
            guard now - entry.lastLogged >= interval else {
                entry.suppressed += 1
                entries[host] = entry
                return .suppress
            }
            entries[host] = Entry(lastLogged: now, suppressed: 0)
            return .log(suppressed: entry.suppressed)
        }
        if entries.count >= capacity {
            entries = entries.filter { now - $0.value.lastLogged < interval }
            guard entries.count < capacity else { return .suppress }
        }
        entries[host] = Entry(lastLogged: now, suppressed: 0)
        return .log(suppressed: 0)
    }
}
