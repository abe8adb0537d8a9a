import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL

/// `flexlb-bench`: closed-loop load generator for one flexlbd API operation over mutual TLS.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flexlb-bench",
        abstract: "Measure requests/s and latency of one flexlbd API operation over mutual TLS.",
        discussion: """
            N workers each keep one request in flight over a shared keep-alive connection pool of N \
            connections. Every latency (send to last body byte) is recorded and sorted at the end. \
            Before measuring, each worker does one untimed GET /livez so TLS handshakes are not \
            counted. The run ends after --duration or --requests, whichever comes first (default 10 s). \
            flexlbd hands out VRRP ids 1-255, so at most 255 instances exist at a time: to create more, \
            use --batch N, which stops the clock after every N creates, deletes them and goes on.
            """
    )

    enum Operation: String, ExpressibleByArgument, CaseIterable {
        case get, create
    }

    @Option(help: "Base URL of flexlbd.")
    var endpoint = "https://127.0.0.1:8443"

    @Option(help: "PEM file of the CA that signed the server certificate (verified in full).")
    var ca: String

    @Option(help: "PEM file of the client certificate.")
    var cert: String

    @Option(help: "PEM file of the client private key.")
    var key: String

    @Option(help: "Operation to drive: get (one existing instance) or create (new instances).")
    var operation: Operation = .get

    @Option(help: "Number of concurrent workers and pooled connections.")
    var concurrency = 1

    @Option(help: "Seconds to measure (default 10 unless --requests is given).")
    var duration: Double?

    @Option(help: "Number of requests to measure.")
    var requests: Int?

    @Option(help: "get: the instance to fetch. create: the name prefix of created instances (<name>-<n>).")
    var name = "bench"

    @Option(help: "create: frontend port of created instances.")
    var frontendPort = 8080

    @Option(help: "create: after every N requests, pause the clock and delete what they created.")
    var batch: Int?

    @Flag(help: "create: delete the created instances at the end (untimed).")
    var cleanup = false

    @Option(help: "Per-request timeout in seconds.")
    var timeout = 30

    @Flag(help: "Print the result as JSON on stdout (the summary line goes to stderr).")
    var json = false

    func validate() throws {
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        if let duration, !(duration > 0) { throw ValidationError("--duration must be positive") }
        if let requests, requests < 1 { throw ValidationError("--requests must be at least 1") }
        if let batch {
            guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
            guard operation == .create else { throw ValidationError("--batch applies to create only") }
        }
    }

    func run() async throws {
        let baseURL = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        let workload: Workload = switch operation {
        case .get: .get(name: name)
        case .create: .create(prefix: name, frontendPort: frontendPort)
        }
        let measureFor: Duration? = (duration ?? (requests == nil ? 10 : nil)).map { .milliseconds(Int64($0 * 1000)) }

        let client = try makeClient()
        do {
            let generator = LoadGenerator(client: client, baseURL: baseURL, concurrency: concurrency, timeout: .seconds(Int64(timeout)))
            try await generator.warmUp()
            var total = WorkerTally()
            var elapsed = Duration.zero
            var sent = 0
            while measureFor.map({ elapsed < $0 }) ?? true, requests.map({ sent < $0 }) ?? true {
                let start = ContinuousClock.now
                let count = [batch, requests.map { $0 - sent }].compactMap { $0 }.min()
                let tickets = RequestTickets(
                    first: sent,
                    limit: count.map { sent + $0 },
                    deadline: measureFor.map { start + ($0 - elapsed) }
                )
                let tally = await generator.run(tickets) { try workload.request($0, baseURL: baseURL) }
                elapsed += start.duration(to: .now)
                sent += tickets.taken
                if batch != nil || cleanup {
                    try await delete(tally.succeeded, of: workload, baseURL: baseURL, using: generator)
                }
                total.merge(tally)
            }
            let summary = LatencySummary(
                operation: workload.operation,
                concurrency: concurrency,
                latencies: total.latencies,
                non2xx: total.non2xx,
                errors: total.errors,
                elapsed: elapsed,
                firstFailure: total.firstFailure
            )
            if json {
                printError(summary.line)
                let encoder = JSONEncoder()
                encoder.keyEncodingStrategy = .convertToSnakeCase
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(summary), as: UTF8.self))
            } else {
                print(summary.line)
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    /// Deletes what a create batch made, with the same workers, so the next batch starts from the
    /// same store size and VRRP ids are free again.
    private func delete(_ indices: [Int], of workload: Workload, baseURL: String, using generator: LoadGenerator) async throws {
        guard !indices.isEmpty else { return }
        let tickets = RequestTickets(first: 0, limit: indices.count, deadline: nil)
        let tally = await generator.run(tickets) { ticket in
            guard let request = workload.cleanupRequest(indices[ticket], baseURL: baseURL) else {
                throw ValidationError("nothing to clean up for \(workload.operation)")
            }
            return request
        }
        if tally.non2xx + tally.errors > 0 {
            printError("cleanup: \(tally.non2xx) non-2xx, \(tally.errors) errors; first: \(tally.firstFailure ?? "?")")
        }
    }

    /// One HTTP/1.1 client with full verification of the server certificate and a pool of
    /// `concurrency` keep-alive connections.
    private func makeClient() throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.certificateVerification = .fullVerification
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
        tls.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5), read: .seconds(Int64(timeout)))
        )
        configuration.httpVersion = .http1Only
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }
}

/// Writes a line to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
