/// The shell of ``WorkQueueState``: workers wait in ``next()`` without polling; a ticker
/// (``promoteDue()``) moves delayed keys in.
public actor WorkQueue<Key: Hashable & Sendable> {
    private var state: WorkQueueState<Key>
    private var waiters: [CheckedContinuation<Key?, Never>] = []
    private var shutDown = false
    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant

    public init(baseDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(60)) {
        state = WorkQueueState(baseDelay: baseDelay, maxDelay: maxDelay)
        origin = ContinuousClock.now
    }

    private var now: Duration { clock.now - origin }

    public func add(_ key: Key) {
        state.add(key)
        wake()
    }

    public func add(_ key: Key, after delay: Duration) {
        state.add(key, after: delay, now: now)
        wake()
    }

    /// Re-adds after the key's backoff; returns the delay.
    @discardableResult
    public func retry(_ key: Key) -> Duration { state.retry(key, now: now) }

    public func forget(_ key: Key) { state.forget(key) }

    public func done(_ key: Key) {
        state.done(key)
        wake()
    }

    /// Moves due delayed keys in and wakes workers; called by a ticker.
    public func promoteDue() {
        state.promote(now: now)
        wake()
    }

    /// Number of keys waiting or in processing (for idle checks and benchmarks).
    public var depth: Int { state.readyCount + state.processingCount }

    /// The next key, waiting until there is one; nil once shut down.
    public func next() async -> Key? {
        if shutDown { return nil }
        if let key = state.next(now: now) { return key }
        return await withCheckedContinuation { waiters.append($0) }
    }

    /// Releases every waiting worker with nil.
    public func shutdown() {
        shutDown = true
        let all = waiters
        waiters = []
        for waiter in all { waiter.resume(returning: nil) }
    }

    private func wake() {
        while !waiters.isEmpty, let key = state.next(now: now) {
            waiters.removeFirst().resume(returning: key)
        }
    }
}
