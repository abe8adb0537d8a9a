/// Throughput and latency distribution of one benchmark run, computed from every recorded latency.
struct LatencySummary: Codable, Sendable {
    var operation: String
    var concurrency: Int
    /// Requests that got a response (any status).
    var responses: Int
    /// Responses whose status was not 2xx.
    var non2xx: Int
    /// Requests that got no response (connection, TLS or timeout failures).
    var errors: Int
    /// Wall-clock time of the measured phase, in seconds.
    var seconds: Double
    var requestsPerSecond: Double
    var p50Milliseconds: Double
    var p90Milliseconds: Double
    var p99Milliseconds: Double
    var maxMilliseconds: Double
    /// The first non-2xx status or error seen, to make failures diagnosable.
    var firstFailure: String?

    /// Sorts `latencies` (nanoseconds) and takes nearest-rank percentiles.
    init(
        operation: String,
        concurrency: Int,
        latencies: [Int64],
        non2xx: Int,
        errors: Int,
        elapsed: Duration,
        firstFailure: String?
    ) {
        let sorted = latencies.sorted()
        let seconds = elapsed.seconds
        self.operation = operation
        self.concurrency = concurrency
        self.responses = sorted.count
        self.non2xx = non2xx
        self.errors = errors
        self.seconds = seconds
        self.requestsPerSecond = seconds > 0 ? Double(sorted.count) / seconds : 0
        self.p50Milliseconds = Self.percentile(0.50, of: sorted)
        self.p90Milliseconds = Self.percentile(0.90, of: sorted)
        self.p99Milliseconds = Self.percentile(0.99, of: sorted)
        self.maxMilliseconds = sorted.last.map { Double($0) / 1e6 } ?? 0
        self.firstFailure = firstFailure
    }

    /// One human-readable line.
    var line: String {
        var text = "\(operation) c=\(concurrency): \(responses) responses in \(format(seconds, 2)) s = \(format(requestsPerSecond, 1)) req/s;"
        text += " latency p50 \(format(p50Milliseconds)) ms, p90 \(format(p90Milliseconds)) ms,"
        text += " p99 \(format(p99Milliseconds)) ms, max \(format(maxMilliseconds)) ms;"
        text += " non-2xx \(non2xx), errors \(errors)"
        if let firstFailure { text += " (first: \(firstFailure))" }
        return text
    }

    /// Nearest-rank percentile of sorted nanoseconds, in milliseconds.
    static func percentile(_ fraction: Double, of sorted: [Int64]) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return Double(sorted[min(max(rank, 1), sorted.count) - 1]) / 1e6
    }
}

private func format(_ value: Double, _ digits: Int = 3) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = Int64((value * scale).rounded())
    let whole = scaled / Int64(scale)
    let fraction = String(scaled % Int64(scale))
    return "\(whole)." + String(repeating: "0", count: digits - fraction.count) + fraction
}

extension Duration {
    /// The duration in seconds as a floating-point number.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// The duration in whole nanoseconds.
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
