import AsyncHTTPClient
import FlexLBAPI
import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// The ``ClientTransport`` of FlexLB's generated client over AsyncHTTPClient, with mutual TLS,
/// failover across several flexlbd endpoints and bounded retries of idempotent calls
/// (see ``FailoverPolicy`` for the rules).
///
/// Call ``shutdown()`` when done.
public final class HTTPClientTransport: ClientTransport, Sendable {
    /// How to reach and authenticate to flexlbd.
    public struct Configuration: Sendable {
        /// API endpoints, tried in order starting from the last one that answered.
        public var endpoints: [APIEndpoint]
        /// PEM file of the CA that signed the servers' certificates; nil for the system trust roots.
        public var caFile: String?
        /// PEM file of the client certificate (chain).
        public var certificateFile: String?
        /// PEM file of the client private key.
        public var privateKeyFile: String?
        /// Skip server-certificate verification. Off by default; for debugging only: anyone on the
        /// path can then impersonate the server.
        public var insecureSkipVerify: Bool
        /// Deadline of one attempt (connect, send, receive).
        public var timeout: Duration
        /// Deadline of establishing one connection (TCP and TLS).
        public var connectTimeout: Duration
        /// Extra rounds over all endpoints for idempotent calls.
        public var maxRetries: Int
        /// Pause before the first extra round; doubled each round.
        public var retryBackoff: Duration
        /// Largest response body accepted.
        public var maxResponseBytes: Int

        /// A configuration with verification on, a 10 s timeout, a 3 s connect timeout and two retries.
        public init(
            endpoints: [APIEndpoint] = [.default],
            caFile: String? = nil,
            certificateFile: String? = nil,
            privateKeyFile: String? = nil,
            insecureSkipVerify: Bool = false,
            timeout: Duration = .seconds(10),
            connectTimeout: Duration = .seconds(3),
            maxRetries: Int = 2,
            retryBackoff: Duration = .milliseconds(200),
            maxResponseBytes: Int = 64 << 20
        ) {
            self.endpoints = endpoints
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.privateKeyFile = privateKeyFile
            self.insecureSkipVerify = insecureSkipVerify
            self.timeout = timeout
            self.connectTimeout = connectTimeout
            self.maxRetries = maxRetries
            self.retryBackoff = retryBackoff
            self.maxResponseBytes = maxResponseBytes
        }
    }

    /// Operations whose 5xx status is the answer rather than a failure to route around.
    private static let statusIsAnswer: Set<String> = ["ready"]

    private let configuration: Configuration
    private let client: HTTPClient
    private let logger: Logger
    private let lastGood = Mutex(0)
    /// Endpoints learned from the cluster (``setFallbackEndpoints(_:)``), tried after the configured ones.
    private let fallbacks = Mutex<[APIEndpoint]>([])

    /// The configured endpoints, then the learned fallbacks not already among them.
    public var endpoints: [APIEndpoint] {
        let configured = configuration.endpoints
        let known = Set(configured.map(\.url))
        return configured + fallbacks.withLock { $0 }.filter { !known.contains($0.url) }
    }

    /// Sets the endpoints tried after the configured ones (for example every member's API address
    /// from `GET /nodes`, so that a client configured with the cluster API VIP still reaches the
    /// cluster while the VIP moves).
    public func setFallbackEndpoints(_ endpoints: [APIEndpoint]) {
        fallbacks.withLock { $0 = endpoints }
        lastGood.withLock { if $0 >= self.endpoints.count { $0 = 0 } }
    }

    /// Loads the certificate files and creates the HTTP client.
    /// - Throws: ``FlexLBError`` of kind ``FlexLBError/Kind/configuration`` when a file cannot be
    ///   read or parsed, or no endpoint is given.
    public init(configuration: Configuration, logger: Logger = Logger(label: "flexlb.client")) throws {
        guard !configuration.endpoints.isEmpty else {
            throw FlexLBError(kind: .configuration, message: "no endpoint given")
        }
        let tls = try Self.tlsConfiguration(configuration)
        var httpConfiguration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(connect: TimeAmount(configuration.connectTimeout), read: TimeAmount(configuration.timeout))
        )
        // Fail fast on a dead endpoint so that FailoverPolicy moves to the next one.
        httpConfiguration.connectionPool.retryConnectionEstablishment = false
        self.configuration = configuration
        self.logger = logger
        self.client = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup,
            configuration: httpConfiguration,
            backgroundActivityLogger: logger
        )
    }

    /// Closes all connections. Call exactly once, before the transport is released.
    public func shutdown() async throws {
        try await client.shutdown()
    }

    /// The endpoint requests start with: the one that answered last.
    public var preferredEndpoint: APIEndpoint {
        let all = endpoints
        return all[min(lastGood.withLock { $0 }, all.count - 1)]
    }

    /// Sends `request` to the preferred endpoint, failing over and retrying as ``FailoverPolicy``
    /// decides. Any HTTP response is returned (the generated client maps statuses).
    /// - Throws: ``FlexLBError`` of kind ``FlexLBError/Kind/connection`` when no attempt got a response.
    public func send(
        _ request: HTTPRequest,
        body: [UInt8]?,
        operationID: String,
        idempotent: Bool
    ) async throws -> (HTTPResponse, [UInt8]) {
        let endpoints = self.endpoints
        var policy = FailoverPolicy(
            endpointCount: endpoints.count,
            first: min(lastGood.withLock { $0 }, endpoints.count - 1),
            idempotent: idempotent,
            maxRetries: configuration.maxRetries,
            backoff: configuration.retryBackoff,
            retryOnStatus: !Self.statusIsAnswer.contains(operationID)
        )
        var directive = policy.start
        var lastResponse: (HTTPResponse, [UInt8])?
        var lastError: (any Error)?
        var lastEndpoint = endpoints[0]
        while true {
            switch directive {
            case .send(let index, let delay):
                if delay > .zero { try await Task.sleep(for: delay) }
                try Task.checkCancellation()
                let endpoint = endpoints[index]
                lastEndpoint = endpoint
                var logger = self.logger
                logger[metadataKey: "flexlb.endpoint"] = "\(endpoint)"
                logger[metadataKey: "flexlb.operation"] = "\(operationID)"
                do {
                    let response = try await execute(request, body: body, on: endpoint)
                    lastGood.withLock { $0 = index }
                    lastResponse = response
                    logger.debug("response", metadata: ["flexlb.status": "\(response.0.status.code)"])
                    directive = policy.next(after: .response(status: response.0.status.code))
                } catch {
                    if Task.isCancelled { throw CancellationError() }
                    lastError = error
                    let outcome = ConnectionFailure.outcome(of: error)
                    logger.debug("attempt failed", metadata: ["flexlb.error": "\(error)", "flexlb.outcome": "\(outcome)"])
                    directive = policy.next(after: outcome)
                }
            case .deliver:
                guard let lastResponse else { preconditionFailure("deliver without a response") }
                return lastResponse
            case .fail:
                if let lastResponse { return lastResponse }
                let reason = Self.describe(lastError)
                let message: String
                if let lastError, !ConnectionFailure.isBeforeSending(lastError), !idempotent {
                    message = "\(operationID): request to \(lastEndpoint) failed: \(reason) (not retried: the server may have applied it)"
                } else if endpoints.count > 1 {
                    let all = endpoints.map(\.url).joined(separator: ", ")
                    message = "\(operationID): cannot reach any of \(all); last error from \(lastEndpoint): \(reason)"
                } else {
                    message = "\(operationID): cannot reach \(lastEndpoint): \(reason)"
                }
                throw FlexLBError(kind: .connection, message: message, underlying: lastError)
            }
        }
    }

    // MARK: - Private

    private func execute(_ request: HTTPRequest, body: [UInt8]?, on endpoint: APIEndpoint) async throws -> (HTTPResponse, [UInt8]) {
        var outgoing = HTTPClientRequest(url: endpoint.url + request.path.orEmpty)
        outgoing.method = HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headerFields {
            outgoing.headers.add(name: field.name.rawName, value: field.value)
        }
        if let body {
            outgoing.body = .bytes(body)
        }
        let response = try await client.execute(outgoing, timeout: TimeAmount(configuration.timeout), logger: logger)
        let bytes = try await response.body.collect(upTo: configuration.maxResponseBytes)
        var fields = HTTPFields()
        for header in response.headers {
            if let name = HTTPField.Name(header.name) {
                fields.append(HTTPField(name: name, value: header.value))
            }
        }
        let status = HTTPResponse.Status(code: Int(response.status.code), reasonPhrase: response.status.reasonPhrase)
        return (HTTPResponse(status: status, headerFields: fields), Array(bytes.readableBytesView))
    }

    private static func tlsConfiguration(_ configuration: Configuration) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.certificateVerification = configuration.insecureSkipVerify ? .none : .fullVerification
        if let caFile = configuration.caFile {
            let roots = try load("CA certificate", caFile) { try NIOSSLCertificate.fromPEMFile($0) }
            tls.trustRoots = .certificates(roots)
        }
        if let certificateFile = configuration.certificateFile {
            let chain = try load("client certificate", certificateFile) { try NIOSSLCertificate.fromPEMFile($0) }
            tls.certificateChain = chain.map { .certificate($0) }
        }
        if let privateKeyFile = configuration.privateKeyFile {
            let key = try load("client key", privateKeyFile) { try NIOSSLPrivateKey(file: $0, format: .pem) }
            tls.privateKey = .privateKey(key)
        }
        if (configuration.certificateFile == nil) != (configuration.privateKeyFile == nil) {
            throw FlexLBError(kind: .configuration, message: "a client certificate needs its key, and a key its certificate")
        }
        return tls
    }

    private static func load<T>(_ what: String, _ path: String, _ body: (String) throws -> T) throws -> T {
        guard FileManager.default.isReadableFile(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "not readable" : "no such file"
            throw FlexLBError(kind: .configuration, message: "\(what) \(path): \(reason)")
        }
        do {
            return try body(path)
        } catch {
            throw FlexLBError(kind: .configuration, message: "\(what) \(path): not valid PEM (\(error))")
        }
    }

    private static func describe(_ error: (any Error)?) -> String {
        guard let error else { return "unknown error" }
        if let error = error as? HTTPClientError {
            if error == .connectTimeout { return "connect timed out" }
            if error == .deadlineExceeded || error == .readTimeout { return "request timed out" }
        }
        if let error = error as? NIOSSLError, case .handshakeFailed(let reason) = error {
            return "TLS handshake failed: \(reason)"
        }
        if error is BoringSSLError {
            return "TLS error (a rejected client certificate shows here): \(error)"
        }
        if let error = error as? IOError {
            return String(cString: strerror(error.errnoCode)).lowercased()
        }
        return "\(error)"
    }
}

extension Optional where Wrapped == String {
    fileprivate var orEmpty: String { self ?? "" }
}

extension TimeAmount {
    fileprivate init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
