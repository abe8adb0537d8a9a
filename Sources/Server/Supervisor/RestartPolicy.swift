/// When to restart a crashed process: exponential backoff from `initial` up to `maximum`, reset once
/// the process has stayed up for `stableAfter`. Pure: time is passed in (seconds on a monotonic clock).
public struct RestartPolicy: Sendable, Hashable {
    public var initial: Double
    public var maximum: Double
    public var stableAfter: Double

    public init(initial: Double = 0.05, maximum: Double = 5, stableAfter: Double = 10) {
        self.initial = initial
        self.maximum = maximum
        self.stableAfter = stableAfter
    }
}

/// Restart bookkeeping of one supervised process.
public struct RestartState: Sendable, Hashable {
    public private(set) var consecutiveFailures = 0
    public private(set) var startedAt: Double?
    public private(set) var notBefore: Double = 0

    public init() {}

    /// Records a start at `now`.
    public mutating func started(at now: Double) {
        startedAt = now
    }

    /// Records that the process was found dead at `now`; returns when the next start may happen.
    @discardableResult
    public mutating func exited(at now: Double, policy: RestartPolicy) -> Double {
        if let startedAt, now - startedAt >= policy.stableAfter { consecutiveFailures = 0 }
        let delay = min(policy.maximum, policy.initial * Double(1 << min(consecutiveFailures, 20)))
        consecutiveFailures += 1
        startedAt = nil
        notBefore = now + delay
        return notBefore
    }

    /// Whether a start is allowed at `now`.
    public func mayStart(at now: Double) -> Bool { now >= notBefore }
}
