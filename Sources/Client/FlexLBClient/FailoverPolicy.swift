/// Decides, attempt by attempt, which endpoint a request goes to next: the pure core of
/// ``HTTPClientTransport``'s failover and retries.
///
/// - A request that never reached a server (connect refused or timed out, TLS handshake failed)
///   moves on to the next endpoint, idempotent or not: nothing was sent.
/// - After the request may have reached a server, only an idempotent request is sent again.
/// - An idempotent request answered 502, 503 or 504 moves on too, unless the status is itself the
///   answer (``retryOnStatus`` false, as for the per-node `ready` probe).
/// - When every endpoint has been tried once, an idempotent request gets up to ``maxRetries``
///   more rounds, each after an exponentially growing pause.
struct FailoverPolicy: Sendable {
    /// What happened to one attempt.
    enum Outcome: Sendable, Equatable {
        /// A server answered with this status.
        case response(status: Int)
        /// The connection was never established; the request was not sent.
        case notSent
        /// The request may have reached a server (timeout or connection loss after sending).
        case maybeSent
    }

    /// What the transport does next.
    enum Directive: Sendable, Equatable {
        /// Send to the endpoint at this index, after sleeping `delay`.
        case send(endpoint: Int, delay: Duration)
        /// Hand the last response to the caller.
        case deliver
        /// Give up: deliver the latest response if any attempt got one, else throw the last error.
        case fail
    }

    let endpointCount: Int
    let idempotent: Bool
    let maxRetries: Int
    let backoff: Duration
    let retryOnStatus: Bool

    private var endpoint: Int
    private var triedInRound = 1
    private var round = 0

    init(endpointCount: Int, first: Int, idempotent: Bool, maxRetries: Int, backoff: Duration, retryOnStatus: Bool = true) {
        precondition(endpointCount > 0, "at least one endpoint")
        self.endpointCount = endpointCount
        self.idempotent = idempotent
        self.maxRetries = max(0, maxRetries)
        self.backoff = backoff
        self.retryOnStatus = retryOnStatus
        self.endpoint = ((first % endpointCount) + endpointCount) % endpointCount
    }

    /// The first attempt.
    var start: Directive { .send(endpoint: endpoint, delay: .zero) }

    /// The next step after an attempt ended with `outcome`.
    mutating func next(after outcome: Outcome) -> Directive {
        switch outcome {
        case .response(let status):
            guard idempotent, retryOnStatus, [502, 503, 504].contains(status) else { return .deliver }
            return advance(exhausted: .deliver)
        case .notSent:
            return advance(exhausted: .fail)
        case .maybeSent:
            return idempotent ? advance(exhausted: .fail) : .fail
        }
    }

    private mutating func advance(exhausted: Directive) -> Directive {
        endpoint = (endpoint + 1) % endpointCount
        if triedInRound < endpointCount {
            triedInRound += 1
            return .send(endpoint: endpoint, delay: .zero)
        }
        guard idempotent, round < maxRetries else { return exhausted }
        round += 1
        triedInRound = 1
        return .send(endpoint: endpoint, delay: backoff * (1 << (round - 1)))
    }
}
