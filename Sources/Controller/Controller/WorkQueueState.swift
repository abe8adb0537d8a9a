/// The pure core of the rate-limited work queue (client-go's workqueue semantics), with time
/// passed in:
/// - a key is queued at most once; a key being processed is never handed out again until
///   ``done(_:now:)`` — if it was added meanwhile it is queued again then ("dirty");
/// - ``retry(_:now:)`` re-adds after a per-key exponential backoff (``forget(_:)`` resets it);
/// - ``add(_:after:now:)`` delays an add (polling, resync).
public struct WorkQueueState<Key: Hashable & Sendable>: Sendable {
    private var queue: [Key] = []
    private var queued: Set<Key> = []
    private var processing: Set<Key> = []
    private var dirty: Set<Key> = []
    private var delayed: [Key: Duration] = [:]
    private var failures: [Key: Int] = [:]
    public let baseDelay: Duration
    public let maxDelay: Duration

    public init(baseDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(60)) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// Queues `key` now.
    public mutating func add(_ key: Key) {
        delayed[key] = nil
        if processing.contains(key) {
            dirty.insert(key)
        } else if queued.insert(key).inserted {
            queue.append(key)
        }
    }

    /// Queues `key` at `now + delay` (an earlier pending time wins).
    public mutating func add(_ key: Key, after delay: Duration, now: Duration) {
        guard delay > .zero else { return add(key) }
        if queued.contains(key) { return }
        let at = now + delay
        if let existing = delayed[key], existing <= at { return }
        delayed[key] = at
    }

    /// Re-adds a failed key after its backoff; returns the delay.
    @discardableResult
    public mutating func retry(_ key: Key, now: Duration) -> Duration {
        let n = failures[key, default: 0]
        failures[key] = n + 1
        var delay = baseDelay
        for _ in 0..<min(n, 20) where delay < maxDelay { delay = delay * 2 }
        delay = min(delay, maxDelay)
        add(key, after: delay, now: now)
        return delay
    }

    /// The key succeeded: reset its backoff.
    public mutating func forget(_ key: Key) {
        failures[key] = nil
    }

    /// Number of failures since the last ``forget(_:)``.
    public func failureCount(_ key: Key) -> Int { failures[key, default: 0] }

    /// Moves due delayed keys into the queue.
    public mutating func promote(now: Duration) {
        let due = delayed.filter { $0.value <= now }.sorted { $0.value < $1.value }
        for (key, _) in due { add(key) }
    }

    /// The next key to process, marked as processing; nil if none is ready.
    public mutating func next(now: Duration) -> Key? {
        promote(now: now)
        guard !queue.isEmpty else { return nil }
        let key = queue.removeFirst()
        queued.remove(key)
        processing.insert(key)
        return key
    }

    /// Processing of `key` ended; if it was added meanwhile, it is queued again.
    public mutating func done(_ key: Key) {
        processing.remove(key)
        if dirty.remove(key) != nil { add(key) }
    }

    /// Keys waiting now (not delayed, not processing).
    public var readyCount: Int { queue.count }
    /// The earliest delayed time, if any.
    public var nextDeadline: Duration? { delayed.values.min() }
    /// Keys in processing.
    public var processingCount: Int { processing.count }
    /// Whether `key` is being processed.
    public func isProcessing(_ key: Key) -> Bool { processing.contains(key) }
}
