/// The allocation ledger: which owner (a Service or a FlexLBInstance, by key) holds which VIP.
///
/// A pure value: the controller rebuilds it from the annotations on the cluster's objects at
/// start (``record(owner:address:)``), allocates through it under a lock, and records the
/// result on the Service before the FlexLB instance is created. Rules:
/// - an owner that holds an address keeps it (restarts, relists, pool edits never renumber);
/// - no address is held twice;
/// - every address of the pool, `end` included, can be allocated;
/// - a released address waits `quarantine` before anyone else gets it.
public struct IPLedger: Sendable {
    /// What an allocation gave.
    public enum Allocation: Sendable, Equatable {
        /// The owner holds `address`; `fresh` when it was just allocated.
        case assigned(IPv4, fresh: Bool)
        /// No free address in the pool (quarantined ones count as taken).
        case exhausted(poolSize: Int, quarantined: Int)
        /// The requested address is held by someone else.
        case requestedTaken(IPv4, owner: String)
        /// The requested address is quarantined after a release until `until`.
        case requestedQuarantined(IPv4, until: Duration)
        /// The requested address is not in the pool's range.
        case requestedOutsidePool(IPv4)
    }

    /// What a rebuild record found.
    public enum Record: Sendable, Equatable {
        case recorded
        /// Another owner already holds the address (a duplicate left by an older controller).
        case conflict(holder: String)
    }

    private var holders: [IPv4: String] = [:]
    private var addresses: [String: IPv4] = [:]
    private var released: [IPv4: Duration] = [:]
    public let quarantine: Duration

    public init(quarantine: Duration) {
        self.quarantine = quarantine
    }

    /// The address `owner` holds.
    public func address(of owner: String) -> IPv4? { addresses[owner] }

    /// Who holds `address`.
    public func holder(of address: IPv4) -> String? { holders[address] }

    /// Number of held addresses.
    public var count: Int { holders.count }

    /// Records an allocation found on the cluster's objects. An owner's newer record replaces its old one.
    public mutating func record(owner: String, address: IPv4) -> Record {
        if let holder = holders[address] {
            return holder == owner ? .recorded : .conflict(holder: holder)
        }
        if let old = addresses[owner] { holders[old] = nil }
        holders[address] = owner
        addresses[owner] = address
        released[address] = nil
        return .recorded
    }

    /// Gives `owner` an address from `pool`: the one it holds, else the requested one, else the
    /// lowest free one. A request for a different address than the one held moves the owner
    /// (the old one is released into quarantine) — the only way an address changes.
    public mutating func allocate(owner: String, pool: AddressPool, requested: IPv4?, now: Duration) -> Allocation {
        if let held = addresses[owner], requested == nil || requested == held {
            return .assigned(held, fresh: false)
        }
        if let requested {
            guard pool.contains(requested) else { return .requestedOutsidePool(requested) }
            if let holder = holders[requested], holder != owner { return .requestedTaken(requested, owner: holder) }
            if let at = released[requested], now < at + quarantine {
                return .requestedQuarantined(requested, until: at + quarantine)
            }
            release(owner: owner, now: now)
            take(requested, for: owner)
            return .assigned(requested, fresh: true)
        }
        var quarantined = 0
        var candidate = pool.start
        while true {
            if holders[candidate] == nil {
                if let at = released[candidate], now < at + quarantine {
                    quarantined += 1
                } else {
                    take(candidate, for: owner)
                    return .assigned(candidate, fresh: true)
                }
            }
            if candidate == pool.end { break }
            candidate = IPv4(candidate.value + 1)
        }
        return .exhausted(poolSize: pool.size, quarantined: quarantined)
    }

    /// Releases what `owner` holds; the address is quarantined from `now`.
    public mutating func release(owner: String, now: Duration) {
        guard let address = addresses.removeValue(forKey: owner) else { return }
        holders[address] = nil
        released[address] = now
    }

    /// Forgets quarantine entries that have expired (keeps the ledger small).
    public mutating func expireQuarantine(now: Duration) {
        released = released.filter { now < $0.value + quarantine }
    }

    private mutating func take(_ address: IPv4, for owner: String) {
        holders[address] = owner
        addresses[owner] = address
        released[address] = nil
    }
}
