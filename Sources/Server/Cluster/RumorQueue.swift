extension Membership {
    /// Rumors and broadcasts waiting to be piggybacked, each sent a bounded number of times
    /// (the transmit-limited queue of memberlist). One entry per member name or broadcast key: a
    /// newer item replaces the queued one, so a superseded record or state is never sent again.
    struct RumorQueue: Sendable {
        enum Key: Hashable, Sendable {
            case member(String)
            case broadcast(String)
        }

        struct Entry: Sendable {
            var item: Gossip
            var size: Int
            var transmits: Int
            var order: UInt64
        }

        /// Bounds memory if rumors arrive faster than they can be sent; the most-sent ones go first.
        static let maxEntries = 4096

        private(set) var entries: [Key: Entry] = [:]
        private var counter: UInt64 = 0

        var isEmpty: Bool { entries.isEmpty }
        var count: Int { entries.count }

        /// Queues `item`, replacing the entry with the same key. A broadcast does not replace a
        /// queued broadcast of the same key from the same origin with a higher sequence.
        mutating func enqueue(_ item: Gossip) {
            let key: Key
            switch item {
            case let .member(state, _):
                key = .member(state.name)
            case let .broadcast(broadcast):
                key = .broadcast(broadcast.key)
                if case let .broadcast(queued)? = entries[key]?.item,
                   queued.origin == broadcast.origin, queued.sequence > broadcast.sequence {
                    return
                }
            }
            counter += 1
            entries[key] = Entry(item: item, size: item.encodedSize, transmits: 0, order: counter)
            if entries.count > Self.maxEntries { dropMostTransmitted() }
        }

        /// Takes items that fit in `budget` bytes, least transmitted (then newest) first. Items about
        /// `priorityMember` go first whatever their count, so a suspected node hears it and refutes.
        /// Items reaching `limit` transmissions are removed.
        mutating func take(budget: Int, limit: Int, priorityMember: String? = nil) -> [Gossip] {
            guard !entries.isEmpty, budget > 0 else { return [] }
            var remaining = budget
            var taken: [Gossip] = []
            var takenKeys: [Key] = []
            if let name = priorityMember, let entry = entries[.member(name)], entry.size <= remaining {
                taken.append(entry.item)
                takenKeys.append(.member(name))
                remaining -= entry.size
            }
            let ordered = entries.sorted { lhs, rhs in
                lhs.value.transmits != rhs.value.transmits
                    ? lhs.value.transmits < rhs.value.transmits
                    : lhs.value.order > rhs.value.order
            }
            for (key, entry) in ordered where entry.size <= remaining {
                if let name = priorityMember, key == .member(name) { continue }
                taken.append(entry.item)
                takenKeys.append(key)
                remaining -= entry.size
                if remaining < 16 { break }
            }
            for key in takenKeys {
                guard var entry = entries[key] else { continue }
                entry.transmits += 1
                entries[key] = entry.transmits >= limit ? nil : entry
            }
            return taken
        }

        private mutating func dropMostTransmitted() {
            let excess = entries.count - Self.maxEntries
            guard excess > 0 else { return }
            let victims = entries.sorted { lhs, rhs in
                lhs.value.transmits != rhs.value.transmits
                    ? lhs.value.transmits > rhs.value.transmits
                    : lhs.value.order < rhs.value.order
            }.prefix(excess)
            for (key, _) in victims { entries[key] = nil }
        }
    }

    /// A Lifeguard suspicion timer: starts at `maxTimeout` and shrinks logarithmically toward
    /// `minTimeout` as independent nodes confirm the suspicion.
    struct Suspicion: Sendable {
        let incarnation: UInt64
        let start: Double
        let expectedConfirmations: Int
        let minTimeout: Double
        let maxTimeout: Double
        private(set) var reporters: Set<String>
        private(set) var confirmations = 0

        init(incarnation: UInt64, start: Double, reporter: String, expectedConfirmations: Int, minTimeout: Double, maxTimeout: Double) {
            self.incarnation = incarnation
            self.start = start
            self.reporters = [reporter]
            self.expectedConfirmations = expectedConfirmations
            self.minTimeout = minTimeout
            self.maxTimeout = maxTimeout
        }

        /// Counts `reporter` once; returns whether it was a new confirmation.
        mutating func confirm(by reporter: String) -> Bool {
            guard confirmations < expectedConfirmations, reporters.insert(reporter).inserted else { return false }
            confirmations += 1
            return true
        }

        var deadline: Double {
            guard expectedConfirmations > 0 else { return start + minTimeout }
            let fraction = Arithmetic.naturalLog(Double(confirmations) + 1) / Arithmetic.naturalLog(Double(expectedConfirmations) + 1)
            return start + max(minTimeout, maxTimeout - (maxTimeout - minTimeout) * fraction)
        }
    }
}
