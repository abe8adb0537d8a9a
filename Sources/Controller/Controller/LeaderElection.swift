/// The pure core of Lease-based leader election (client-go's rules), with monotonic time passed in.
///
/// Expiry is judged by when THIS replica last saw the lease record change, never by comparing
/// the holder's clock with ours: a record unchanged for `leaseDuration` is free to take.
/// A leader that could not renew within `renewDeadline` must stop acting.
public struct LeaderElection: Sendable {
    /// What the shell does with the Lease.
    public enum Decision: Sendable, Equatable {
        /// No Lease exists: create it holding it.
        case create
        /// We hold it: write a fresh renewTime.
        case renew
        /// It is free or expired: write ourselves as holder (a new transition).
        case takeOver
        /// Someone else holds it and it is alive.
        case follow(holder: String)
    }

    /// The part of a Lease record the rules look at.
    public struct Record: Sendable, Equatable {
        public var holder: String?
        public var renewTime: String?
        public init(holder: String?, renewTime: String?) {
            self.holder = holder
            self.renewTime = renewTime
        }
    }

    public let identity: String
    public let leaseDuration: Duration
    public let renewDeadline: Duration
    private var observed: Record?
    private var observedAt: Duration = .zero
    private var lastRenewal: Duration?

    public init(identity: String, leaseDuration: Duration, renewDeadline: Duration) {
        self.identity = identity
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
    }

    /// Decides what to do with the lease as just read (nil: it does not exist).
    public mutating func decide(current: Record?, now: Duration) -> Decision {
        guard let current else { return .create }
        if current != observed {
            observed = current
            observedAt = now
        }
        guard let holder = current.holder, !holder.isEmpty else { return .takeOver }
        if holder == identity { return .renew }
        if now - observedAt >= leaseDuration { return .takeOver }
        return .follow(holder: holder)
    }

    /// The write for `decision` succeeded at `now` with this record.
    public mutating func wrote(_ record: Record, now: Duration) {
        observed = record
        observedAt = now
        lastRenewal = now
    }

    /// The write failed or someone else holds the lease.
    public mutating func notHeld() {
        lastRenewal = nil
    }

    /// Whether we may act: we renewed within `renewDeadline`.
    public func isLeader(now: Duration) -> Bool {
        guard let lastRenewal else { return false }
        return now - lastRenewal < renewDeadline
    }
}
