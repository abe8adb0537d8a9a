/// By when an API connection must have made progress, or be closed. Pure: events and the time in,
/// a directive for the connection's one timer out; ``ConnectionGuardHandler`` carries them out.
///
/// - From accept, the TLS handshake must finish within the handshake timeout.
/// - After the handshake, and whenever the first bytes of a new request arrive after a response,
///   the request head must be complete within the request-head timeout. Dripping header bytes does
///   not extend it (HTTP's idle timeout only counts silence, so a byte a second would reset it).
/// - Between requests nothing is armed here: the idle timeout applies.
struct ConnectionDeadline {
    enum Phase: Equatable {
        case handshaking
        /// The head of the next request is due by the deadline.
        case awaitingHead
        /// Heads received whose responses have not all been sent.
        case serving(requests: Int)
        /// The last response was sent and no byte of another request has arrived yet.
        case betweenRequests
    }

    /// What to do with the connection's timer.
    enum Directive: Equatable {
        case none
        /// Replace the timer with one for this instant.
        case arm(ContinuousClock.Instant)
        case disarm
        /// The deadline passed: close the connection.
        case close
    }

    let handshakeTimeout: Duration
    let requestHeadTimeout: Duration
    private(set) var phase: Phase = .handshaking
    private(set) var deadline: ContinuousClock.Instant?

    init(handshakeTimeout: Duration, requestHeadTimeout: Duration) {
        self.handshakeTimeout = handshakeTimeout
        self.requestHeadTimeout = requestHeadTimeout
    }

    /// The connection was accepted.
    mutating func accepted(at now: ContinuousClock.Instant) -> Directive {
        phase = .handshaking
        return arm(now + handshakeTimeout)
    }

    mutating func handshakeCompleted(at now: ContinuousClock.Instant) -> Directive {
        guard phase == .handshaking else { return .none }
        phase = .awaitingHead
        return arm(now + requestHeadTimeout)
    }

    /// Application bytes arrived (decrypted, before HTTP decoding).
    mutating func bytesReceived(at now: ContinuousClock.Instant) -> Directive {
        guard phase == .betweenRequests else { return .none }
        phase = .awaitingHead
        return arm(now + requestHeadTimeout)
    }

    /// The HTTP decoder produced a complete request head.
    mutating func headReceived() -> Directive {
        switch phase {
        case .serving(let requests):
            phase = .serving(requests: requests + 1)
            return .none
        case .handshaking, .awaitingHead, .betweenRequests:
            phase = .serving(requests: 1)
            deadline = nil
            return .disarm
        }
    }

    /// The end of a response was written.
    mutating func responseCompleted() -> Directive {
        guard case .serving(let requests) = phase else { return .none }
        phase = requests > 1 ? .serving(requests: requests - 1) : .betweenRequests
        return .none
    }

    /// The timer fired.
    mutating func timerFired(at now: ContinuousClock.Instant) -> Directive {
        guard let deadline else { return .none }
        switch phase {
        case .handshaking, .awaitingHead: return now >= deadline ? .close : .arm(deadline)
        case .serving, .betweenRequests: return .none
        }
    }

    private mutating func arm(_ instant: ContinuousClock.Instant) -> Directive {
        deadline = instant
        return .arm(instant)
    }
}
