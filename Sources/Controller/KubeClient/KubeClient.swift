import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// A small Kubernetes API client over AsyncHTTPClient: typed CRUD, JSON merge patches, and
/// watch streams. Verifies the server against the configured CA; authenticates with a client
/// certificate or a bearer token. Call ``shutdown()`` when done.
public final class KubeClient: Sendable {
    private let connection: KubeConnection
    private let http: HTTPClient
    private let logger: Logger
    private let requestTimeout: TimeAmount
    private let calls = Atomic<Int>(0)

    /// Creates the HTTP client with TLS set up from `connection`.
    public init(connection: KubeConnection, requestTimeout: Duration = .seconds(30), logger: Logger) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.certificateVerification = connection.insecureSkipVerify ? .none : .fullVerification
        do {
            if let ca = connection.caPEM {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(ca))
            }
            if let cert = connection.clientCertificatePEM, let key = connection.clientKeyPEM {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(cert).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
            }
        } catch {
            throw KubeError(status: nil, message: "kubernetes TLS material: \(error)")
        }
        // No read timeout on the client: watches are long-lived; each call sets its own deadline.
        let configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5), read: nil))
        self.http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration, backgroundActivityLogger: logger)
        self.connection = connection
        self.logger = logger
        let (s, a) = requestTimeout.components
        self.requestTimeout = .nanoseconds(s * 1_000_000_000 + a / 1_000_000_000)
    }

    /// Closes connections. Call exactly once.
    public func shutdown() async throws {
        try await http.shutdown()
    }

    /// Requests sent so far (for the benchmark of API calls per change).
    public var requestCount: Int { calls.load(ordering: .relaxed) }

    /// The namespace of the kubeconfig context or service account.
    public var defaultNamespace: String? { connection.namespace }

    // MARK: - Typed calls

    /// One object.
    public func get<T: KubeObject>(_ kind: ResourceKind, namespace: String?, name: String, as: T.Type = T.self) async throws -> T {
        try await send(.GET, kind.objectPath(namespace: namespace, name: name))
    }

    /// A list (one page; the controller's collections are small enough not to paginate).
    public func list<T: KubeObject>(
        _ kind: ResourceKind, namespace: String? = nil, labelSelector: String? = nil, as: T.Type = T.self
    ) async throws -> KubeList<T> {
        var query: [(String, String)] = []
        if let labelSelector { query.append(("labelSelector", labelSelector)) }
        return try await send(.GET, kind.collectionPath(namespace: namespace), query: query)
    }

    /// Creates an object and returns what the server stored.
    public func create<T: KubeObject>(_ kind: ResourceKind, namespace: String?, _ object: T) async throws -> T {
        try await send(.POST, kind.collectionPath(namespace: namespace), body: try JSONEncoder().encode(object))
    }

    /// Replaces an object (PUT); its `metadata.resourceVersion` makes it conditional.
    public func replace<T: KubeObject>(_ kind: ResourceKind, namespace: String?, _ object: T, subresource: String? = nil) async throws -> T {
        let path = kind.objectPath(namespace: namespace, name: object.metadata.name ?? "", subresource: subresource)
        return try await send(.PUT, path, body: try JSONEncoder().encode(object))
    }

    /// Applies a JSON merge patch (RFC 7386). A `metadata.resourceVersion` inside the patch makes
    /// it conditional: 409 if the object changed meanwhile.
    public func mergePatch<T: KubeObject>(
        _ kind: ResourceKind, namespace: String?, name: String, _ patch: KubeJSON, subresource: String? = nil, as: T.Type = T.self
    ) async throws -> T {
        try await send(
            .PATCH, kind.objectPath(namespace: namespace, name: name, subresource: subresource),
            body: patch.serialized(), contentType: "application/merge-patch+json")
    }

    /// Deletes an object (its finalizers may keep it for a while). A 404 is reported as an error.
    public func delete(_ kind: ResourceKind, namespace: String?, name: String) async throws {
        let _: KubeJSON = try await sendRaw(.DELETE, kind.objectPath(namespace: namespace, name: name))
    }

    /// Watches a collection from `resourceVersion`: the stream ends when the server closes it
    /// (after `timeoutSeconds`); ERROR events (410 Gone) are delivered as events.
    public func watch<T: KubeObject>(
        _ kind: ResourceKind, namespace: String? = nil, resourceVersion: String, timeoutSeconds: Int = 300, as: T.Type = T.self
    ) async throws -> AsyncThrowingStream<WatchEvent<T>, any Error> {
        let query = [
            ("watch", "1"), ("resourceVersion", resourceVersion), ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", String(timeoutSeconds)),
        ]
        let request = try makeRequest(.GET, kind.collectionPath(namespace: namespace), query: query, body: nil, contentType: nil)
        calls.add(1, ordering: .relaxed)
        let response = try await http.execute(request, timeout: .seconds(Int64(timeoutSeconds) + 30), logger: logger)
        guard response.status == .ok else {
            let body = try await response.body.collect(upTo: 1 << 20)
            throw Self.error(status: Int(response.status.code), body: Data(body.readableBytesView))
        }
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var splitter = LineSplitter()
                    for try await chunk in response.body {
                        for line in splitter.append(Array(chunk.readableBytesView)) {
                            continuation.yield(try Self.decodeEvent(line, as: T.self))
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    // MARK: - Plumbing

    private func send<T: Decodable>(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: Data? = nil,
        contentType: String = "application/json"
    ) async throws -> T {
        try await sendRaw(method, path, query: query, body: body, contentType: contentType)
    }

    private func sendRaw<T: Decodable>(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: Data? = nil,
        contentType: String = "application/json"
    ) async throws -> T {
        let request = try makeRequest(method, path, query: query, body: body, contentType: body == nil ? nil : contentType)
        calls.add(1, ordering: .relaxed)
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await http.execute(request, timeout: requestTimeout, logger: logger)
            bytes = try await response.body.collect(upTo: 64 << 20)
        } catch {
            throw KubeError(status: nil, message: "\(method) \(path): \(error)")
        }
        let data = Data(bytes.readableBytesView)
        guard (200..<300).contains(Int(response.status.code)) else {
            throw Self.error(status: Int(response.status.code), body: data)
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw KubeError(status: Int(response.status.code), message: "\(method) \(path): cannot decode the answer: \(error)")
        }
    }

    private func makeRequest(
        _ method: HTTPMethod, _ path: String, query: [(String, String)], body: Data?, contentType: String?
    ) throws -> HTTPClientRequest {
        var components = URLComponents()
        components.path = path
        if !query.isEmpty { components.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) } }
        guard let suffix = components.string else { throw KubeError(status: nil, message: "bad path \(path)") }
        var request = HTTPClientRequest(url: connection.server + suffix)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "flexlb-kube-controller/1.0")
        if let token = connection.currentToken(), !token.isEmpty {
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        if let body, let contentType {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return request
    }

    static func error(status: Int, body: Data) -> KubeError {
        if let decoded = try? JSONDecoder().decode(KubeStatus.self, from: body), decoded.kind == "Status" || decoded.message != nil {
            return KubeError(status: status, reason: decoded.reason, message: decoded.message ?? "HTTP \(status)")
        }
        return KubeError(status: status, message: String(decoding: body.prefix(512), as: UTF8.self))
    }

    /// Decodes one watch line: `{"type": ..., "object": ...}`.
    static func decodeEvent<T: KubeObject>(_ line: [UInt8], as: T.Type) throws -> WatchEvent<T> {
        let data = Data(line)
        let envelope = try JSONDecoder().decode(WatchEnvelope.self, from: data)
        let objectData = (envelope.object ?? .null).serialized()
        let rv = (try? JSONDecoder().decode(VersionOnly.self, from: objectData))?.metadata?.resourceVersion
        switch envelope.type {
        case "ERROR":
            let status = try? JSONDecoder().decode(KubeStatus.self, from: objectData)
            return WatchEvent(type: "ERROR", object: nil, status: status, resourceVersion: rv)
        case "BOOKMARK":
            return WatchEvent(type: "BOOKMARK", object: nil, status: nil, resourceVersion: rv)
        default:
            return WatchEvent(type: envelope.type, object: try JSONDecoder().decode(T.self, from: objectData), status: nil, resourceVersion: rv)
        }
    }
}

/// One watch line before the object is decoded.
private struct WatchEnvelope: Decodable {
    var type: String
    var object: KubeJSON?
}

/// Just `metadata.resourceVersion` of any object.
private struct VersionOnly: Decodable {
    struct Metadata: Decodable { var resourceVersion: String? }
    var metadata: Metadata?
}

/// Splits a byte stream into newline-terminated lines, across chunk boundaries.
struct LineSplitter {
    private var pending: [UInt8] = []

    /// Adds a chunk; returns the complete, non-empty lines it finished.
    mutating func append(_ chunk: [UInt8]) -> [[UInt8]] {
        pending.append(contentsOf: chunk)
        var lines: [[UInt8]] = []
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = Array(pending[..<newline])
            pending.removeSubrange(...newline)
            if !line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { lines.append(line) }
        }
        return lines
    }
}
