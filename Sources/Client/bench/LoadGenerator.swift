import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Synchronization

/// Hands out request indices to the workers until a count or a deadline is reached.
final class RequestTickets: Sendable {
    private let next: Atomic<Int>
    private let first: Int
    private let limit: Int?
    private let deadline: ContinuousClock.Instant?

    /// Indices `first..<limit`, or from `first` on until `deadline`, whichever ends first.
    init(first: Int, limit: Int?, deadline: ContinuousClock.Instant?) {
        precondition(limit != nil || deadline != nil, "tickets without an end")
        self.next = Atomic(first)
        self.first = first
        self.limit = limit
        self.deadline = deadline
    }

    /// The index of the next request, or nil when the run is over.
    func take() -> Int? {
        if let deadline, ContinuousClock.now >= deadline { return nil }
        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
        if let limit, index >= limit { return nil }
        return index
    }

    /// The first index not handed out yet.
    var upperBound: Int {
        let taken = next.load(ordering: .relaxed)
        return limit.map { min($0, taken) } ?? taken
    }

    /// How many indices were handed out.
    var taken: Int { upperBound - first }
}

/// What one worker observed.
struct WorkerTally: Sendable {
    var latencies: [Int64] = []
    var non2xx = 0
    var errors = 0
    var firstFailure: String?
    /// Indices whose request succeeded, so that a create run can delete what it made.
    var succeeded: [Int] = []

    mutating func merge(_ other: WorkerTally) {
        latencies += other.latencies
        non2xx += other.non2xx
        errors += other.errors
        firstFailure = firstFailure ?? other.firstFailure
        succeeded += other.succeeded
    }
}

/// Drives `concurrency` closed-loop workers through one shared `HTTPClient`, so connections are
/// kept alive and reused; each worker has at most one request in flight.
struct LoadGenerator: Sendable {
    let client: HTTPClient
    let baseURL: String
    let concurrency: Int
    let timeout: TimeAmount

    /// One untimed `GET /livez` per worker, all at once, so that every pooled connection has done
    /// its TLS handshake before measuring starts.
    func warmUp() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    let response = try await client.execute(
                        HTTPClientRequest(url: "\(baseURL)/flexlb/v1/livez"), timeout: timeout)
                    _ = try await response.body.collect(upTo: 1 << 20)
                }
            }
            try await group.waitForAll()
        }
    }

    /// Runs the workers until `tickets` runs out; returns their merged tally.
    func run(_ tickets: RequestTickets, makeRequest: @escaping @Sendable (Int) throws -> HTTPClientRequest) async -> WorkerTally {
        await withTaskGroup(of: WorkerTally.self) { group in
            for _ in 0..<concurrency {
                group.addTask { await worker(tickets, makeRequest: makeRequest) }
            }
            var total = WorkerTally()
            for await tally in group { total.merge(tally) }
            return total
        }
    }

    private func worker(_ tickets: RequestTickets, makeRequest: @Sendable (Int) throws -> HTTPClientRequest) async -> WorkerTally {
        var tally = WorkerTally()
        tally.latencies.reserveCapacity(1 << 16)
        let clock = ContinuousClock()
        while let index = tickets.take() {
            let request: HTTPClientRequest
            do {
                request = try makeRequest(index)
            } catch {
                tally.errors += 1
                tally.firstFailure = tally.firstFailure ?? "building request \(index): \(error)"
                continue
            }
            let start = clock.now
            do {
                let response = try await client.execute(request, timeout: timeout)
                let body = try await response.body.collect(upTo: 1 << 20)
                tally.latencies.append(start.duration(to: clock.now).nanoseconds)
                if (200..<300).contains(response.status.code) {
                    tally.succeeded.append(index)
                } else {
                    tally.non2xx += 1
                    if tally.firstFailure == nil {
                        tally.firstFailure = "HTTP \(response.status.code): \(String(buffer: body).prefix(200))"
                    }
                }
            } catch {
                tally.errors += 1
                tally.firstFailure = tally.firstFailure ?? "\(error)"
            }
        }
        return tally
    }
}
