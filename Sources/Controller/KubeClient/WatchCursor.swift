/// The pure core of list + watch: where to resume after each outcome.
///
/// - Start with a list; watch from the list's resourceVersion.
/// - Every event and BOOKMARK advances the cursor, so a watch that ends (server timeout,
///   connection loss) resumes where it was, without a relist.
/// - 410 Gone (the version was compacted away) → relist at once.
/// - Other failures → wait with exponential backoff, then resume (or list, if there is no
///   version yet). A successful list or an event resets the backoff.
public struct WatchCursor: Sendable, Equatable {
    /// What the shell does next.
    public enum Directive: Sendable, Equatable {
        /// List the collection (after waiting `after`).
        case list(after: Duration)
        /// Watch from this resourceVersion (after waiting `after`).
        case watch(from: String, after: Duration)
    }

    /// The last resourceVersion seen, nil before the first list or after a 410.
    public private(set) var resourceVersion: String?
    private var failures = 0
    private let initialBackoff: Duration
    private let maxBackoff: Duration

    public init(initialBackoff: Duration = .milliseconds(500), maxBackoff: Duration = .seconds(30)) {
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
    }

    /// The first step.
    public mutating func start() -> Directive {
        resourceVersion = nil
        return .list(after: .zero)
    }

    /// A list succeeded at `resourceVersion`.
    public mutating func listed(resourceVersion: String) -> Directive {
        self.resourceVersion = resourceVersion
        failures = 0
        return .watch(from: resourceVersion, after: .zero)
    }

    /// An ADDED/MODIFIED/DELETED event or a BOOKMARK arrived.
    public mutating func observed(resourceVersion: String?) {
        if let resourceVersion, !resourceVersion.isEmpty { self.resourceVersion = resourceVersion }
        failures = 0
    }

    /// The watch ended cleanly (the server's timeout): resume from the cursor.
    public mutating func streamEnded() -> Directive {
        guard let resourceVersion else { return .list(after: .zero) }
        return .watch(from: resourceVersion, after: .zero)
    }

    /// The list or watch failed; `gone` for 410 (as a status or an ERROR event).
    public mutating func failed(gone: Bool) -> Directive {
        if gone {
            resourceVersion = nil
            return .list(after: .zero)
        }
        let delay = backoff()
        failures += 1
        guard let resourceVersion else { return .list(after: delay) }
        return .watch(from: resourceVersion, after: delay)
    }

    private func backoff() -> Duration {
        var delay = initialBackoff
        for _ in 0..<min(failures, 16) {
            delay = delay * 2
            if delay >= maxBackoff { return maxBackoff }
        }
        return delay
    }
}
