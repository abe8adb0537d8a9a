/// A hybrid logical clock timestamp packed into an Int64 (Kulkarni et al. 2014): the high 48 bits are
/// Unix milliseconds, the low 16 bits a logical counter. It stays close to wall time, never goes
/// backwards on one node, and orders every write in the cluster when paired with the origin node's
/// name as a tie-break. Being a plain positive Int64 it keeps the JSON type of 0.4's `version`.
public struct HLCTimestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The packed value: `milliseconds << 16 | counter`.
    public let rawValue: Int64

    public static let counterBits: Int64 = 16
    public static let counterMask: Int64 = (1 << counterBits) - 1
    public static let zero = HLCTimestamp(rawValue: 0)

    public init(rawValue: Int64) { self.rawValue = rawValue }

    public init(milliseconds: Int64, counter: Int64) {
        rawValue = (milliseconds << Self.counterBits) | (counter & Self.counterMask)
    }

    /// Unix milliseconds of the physical part.
    public var milliseconds: Int64 { rawValue >> Self.counterBits }
    /// The logical counter.
    public var counter: Int64 { rawValue & Self.counterMask }

    public static func < (lhs: HLCTimestamp, rhs: HLCTimestamp) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "\(milliseconds).\(counter)" }
}

/// The clock itself: a value type, time passed in, so tests drive it event by event.
public struct HybridLogicalClock: Sendable, Hashable {
    /// The last timestamp issued or observed.
    public private(set) var last: HLCTimestamp
    /// Remote timestamps further ahead of our wall clock than this are not adopted (a peer with a
    /// wildly wrong clock must not drag every version into the future); they still order correctly.
    public var maxForwardDrift: Int64

    public init(last: HLCTimestamp = .zero, maxForwardDrift: Int64 = 60_000) {
        self.last = last
        self.maxForwardDrift = maxForwardDrift
    }

    /// A new timestamp for a local event at wall time `now` (Unix ms); strictly greater than any
    /// timestamp issued or observed before.
    public mutating func tick(now: Int64) -> HLCTimestamp {
        if now > last.milliseconds {
            last = HLCTimestamp(milliseconds: now, counter: 0)
        } else if last.counter < HLCTimestamp.counterMask {
            last = HLCTimestamp(milliseconds: last.milliseconds, counter: last.counter + 1)
        } else {
            // Counter exhausted within one millisecond: borrow the next millisecond.
            last = HLCTimestamp(milliseconds: last.milliseconds + 1, counter: 0)
        }
        return last
    }

    /// Takes a remote timestamp into account so that the next local tick orders after it.
    /// Returns false (and ignores it) when it is more than `maxForwardDrift` ahead of `now`.
    @discardableResult
    public mutating func observe(_ remote: HLCTimestamp, now: Int64) -> Bool {
        guard remote.milliseconds <= now + maxForwardDrift else { return false }
        if remote > last { last = remote }
        return true
    }
}
