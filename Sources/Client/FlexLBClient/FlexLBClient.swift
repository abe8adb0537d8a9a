import FlexLBAPI
import Logging

/// A friendly client of the FlexLB API: one async method per operation, returning the model or
/// throwing ``FlexLBError``.
///
/// ```swift
/// let client = try FlexLBClient(configuration: .init(
///     endpoints: [try APIEndpoint(parsing: "https://10.0.0.2:8443")],
///     caFile: "ca.crt", certificateFile: "client.crt", privateKeyFile: "client.key"))
/// defer { Task { try await client.shutdown() } }
/// let created = try await client.create(config)
/// ```
///
/// Call ``shutdown()`` when done.
public struct FlexLBClient: Sendable {
    /// The generated client, for operations or details this type does not cover.
    public let api: APIClient
    private let ownedTransport: HTTPClientTransport?

    /// A client over ``HTTPClientTransport``.
    /// - Throws: ``FlexLBError`` of kind ``FlexLBError/Kind/configuration`` for unreadable
    ///   certificate files.
    public init(configuration: HTTPClientTransport.Configuration, logger: Logger = Logger(label: "flexlb.client")) throws {
        let transport = try HTTPClientTransport(configuration: configuration, logger: logger)
        self.api = APIClient(transport: transport)
        self.ownedTransport = transport
    }

    /// A client over any transport (for tests and custom transports); ``shutdown()`` does nothing.
    public init(transport: any ClientTransport) {
        self.api = APIClient(transport: transport)
        self.ownedTransport = nil
    }

    /// Shuts down the HTTP client this type created.
    public func shutdown() async throws {
        try await ownedTransport?.shutdown()
    }

    // MARK: - Instances

    /// Declares a new instance (`POST /instances`). Sent at most once unless no connection could be made.
    public func create(_ config: InstanceConfig) async throws(FlexLBError) -> Versioned<Instance> {
        switch try await call({ try await api.create(.init(body: config)) }) {
        case .ok(let instance, let etag): return Versioned(instance, etag: etag)
        case .badRequest(let e): throw FlexLBError(400, e)
        case .forbidden(let e): throw FlexLBError(403, e)
        case .conflict(let e): throw FlexLBError(409, e)
        case .contentTooLarge(let e): throw FlexLBError(413, e)
        case .unsupportedMediaType(let e): throw FlexLBError(415, e)
        case .internalServerError(let e): throw FlexLBError(500, e)
        }
    }

    /// Replaces an instance's configuration (`PUT /instances`); the name is in `config`.
    /// - Parameter ifMatch: apply only if the stored ETag matches (from ``get(_:)``), or `*`.
    public func modify(_ config: InstanceConfig, ifMatch: String? = nil) async throws(FlexLBError) -> Versioned<Instance> {
        switch try await call({ try await api.modify(.init(ifMatch: ifMatch, body: config)) }) {
        case .ok(let instance, let etag): return Versioned(instance, etag: etag)
        case .badRequest(let e): throw FlexLBError(400, e)
        case .forbidden(let e): throw FlexLBError(403, e)
        case .notFound(let e): throw FlexLBError(404, e)
        case .conflict(let e): throw FlexLBError(409, e)
        case .preconditionFailed(let e): throw FlexLBError(412, e)
        case .contentTooLarge(let e): throw FlexLBError(413, e)
        case .unsupportedMediaType(let e): throw FlexLBError(415, e)
        case .internalServerError(let e): throw FlexLBError(500, e)
        }
    }

    /// One instance (`GET /instances/{name}`), with its ETag.
    public func get(_ name: String) async throws(FlexLBError) -> Versioned<Instance> {
        switch try await call({ try await api.get(.init(name: name)) }) {
        case .ok(let instance, let etag): return Versioned(instance, etag: etag)
        case .badRequest(let e): throw FlexLBError(400, e)
        case .notFound(let e): throw FlexLBError(404, e)
        case .internalServerError(let e): throw FlexLBError(500, e)
        }
    }

    /// Instances sorted by name, optionally those whose name contains `nameContains` (`GET /instances`).
    public func list(nameContains: String? = nil) async throws(FlexLBError) -> [Instance] {
        switch try await call({ try await api.list(.init(name: nameContains)) }) {
        case .ok(let instances): return instances
        case .badRequest(let e): throw FlexLBError(400, e)
        case .internalServerError(let e): throw FlexLBError(500, e)
        }
    }

    /// Deletes an instance (`DELETE /instances/{name}`).
    public func delete(_ name: String, ifMatch: String? = nil) async throws(FlexLBError) {
        switch try await call({ try await api.delete(.init(name: name, ifMatch: ifMatch)) }) {
        case .ok: return
        case .badRequest(let e): throw FlexLBError(400, e)
        case .forbidden(let e): throw FlexLBError(403, e)
        case .notFound(let e): throw FlexLBError(404, e)
        case .preconditionFailed(let e): throw FlexLBError(412, e)
        case .internalServerError(let e): throw FlexLBError(500, e)
        }
    }

    /// Sets the desired state to running (`POST /instances/{name}/start`; FlexLB 0.4's "resume").
    public func start(_ name: String, ifMatch: String? = nil) async throws(FlexLBError) -> Versioned<Instance> {
        switch try await call({ try await api.start(.init(name: name, ifMatch: ifMatch)) }) {
        case .ok(let instance, let etag): return Versioned(instance, etag: etag)
        case .badRequest(let e): throw FlexLBError(400, e)
        case .forbidden(let e): throw FlexLBError(403, e)
        case .notFound(let e): throw FlexLBError(404, e)
        case .preconditionFailed(let e): throw FlexLBError(412, e)
        case .internalServerError(let e): throw FlexLBError(500, e)
        }
    }

    /// Sets the desired state to stopped (`POST /instances/{name}/stop`; FlexLB 0.4's "pause").
    public func stop(_ name: String, ifMatch: String? = nil) async throws(FlexLBError) -> Versioned<Instance> {
        switch try await call({ try await api.stop(.init(name: name, ifMatch: ifMatch)) }) {
        case .ok(let instance, let etag): return Versioned(instance, etag: etag)
        case .badRequest(let e): throw FlexLBError(400, e)
        case .forbidden(let e): throw FlexLBError(403, e)
        case .notFound(let e): throw FlexLBError(404, e)
        case .preconditionFailed(let e): throw FlexLBError(412, e)
        case .internalServerError(let e): throw FlexLBError(500, e)
        }
    }

    // MARK: - Nodes

    /// FlexLB 0.4's readiness map: node name → ready, not_ready or starting (`GET /readyz`).
    public func readyz() async throws(FlexLBError) -> ReadyzMap {
        switch try await call({ try await api.readyz() }) {
        case .ok(let map): return map
        case .internalServerError(let e): throw FlexLBError(500, e)
        }
    }

    /// The nodes the answering node knows (`GET /nodes`).
    public func nodes() async throws(FlexLBError) -> [Node] {
        switch try await call({ try await api.listNodes() }) {
        case .ok(let nodes): return nodes
        case .internalServerError(let e): throw FlexLBError(500, e)
        }
    }

    /// Drains a member (`POST /nodes/{name}/drain`): its VIPs move to the other nodes.
    public func drainNode(_ name: String) async throws(FlexLBError) -> Node {
        switch try await call({ try await api.drainNode(.init(name: name)) }) {
        case .ok(let node): return node
        case .badRequest(let e): throw FlexLBError(400, e)
        case .notFound(let e): throw FlexLBError(404, e)
        case .serviceUnavailable(let e): throw FlexLBError(503, e)
        case .internalServerError(let e): throw FlexLBError(500, e)
        }
    }

    /// Puts a drained member back into service (`POST /nodes/{name}/undrain`).
    public func undrainNode(_ name: String) async throws(FlexLBError) -> Node {
        switch try await call({ try await api.undrainNode(.init(name: name)) }) {
        case .ok(let node): return node
        case .badRequest(let e): throw FlexLBError(400, e)
        case .notFound(let e): throw FlexLBError(404, e)
        case .serviceUnavailable(let e): throw FlexLBError(503, e)
        case .internalServerError(let e): throw FlexLBError(500, e)
        }
    }

    /// Learns every live member's API address from `GET /nodes` and uses them as fallback endpoints
    /// after the configured ones (typically the cluster API VIP). Call it after connecting and now
    /// and then; returns the fallbacks set. A client made with a custom transport learns nothing.
    @discardableResult
    public func refreshFallbackEndpoints() async throws(FlexLBError) -> [APIEndpoint] {
        let members = try await nodes()
        var learned: [APIEndpoint] = []
        for member in members.sorted(by: { $0.name < $1.name }) where member.state == .alive || member.state == .suspect {
            if let address = member.apiAddress, let endpoint = try? APIEndpoint(parsing: "https://\(address)") {
                learned.append(endpoint)
            }
        }
        ownedTransport?.setFallbackEndpoints(learned)
        return learned
    }

    /// Whether the answering node is ready (`GET /ready`: 200 or 503), with its checks.
    public func ready() async throws(FlexLBError) -> Probe {
        switch try await call({ try await api.ready() }) {
        case .ok(let probe), .serviceUnavailable(let probe): return probe
        }
    }

    // MARK: - Private

    /// Runs a generated-client call, turning every failure into a ``FlexLBError``.
    private func call<Output>(_ body: () async throws -> Output) async throws(FlexLBError) -> Output {
        do {
            return try await body()
        } catch let error as FlexLBError {
            throw error
        } catch let error as UndocumentedResponse {
            // A proxy's 502 or a future status: keep the server's message if it sent an ErrorBody.
            if let body = try? ErrorBody.decode(jsonBytes: error.body, strict: false) {
                throw FlexLBError(status: error.status, message: body.message, violations: body.violations ?? [])
            }
            let text = String(decoding: error.body.prefix(256), as: UTF8.self)
            throw FlexLBError(
                status: error.status,
                message: "\(error.operationID): unexpected HTTP status \(error.status)\(text.isEmpty ? "" : ": \(text)")",
                violations: [])
        } catch let error as ResponseDecodingError {
            throw FlexLBError(
                kind: .invalidResponse, status: error.status,
                message: "\(error.operationID): the server's response does not match the API",
                violations: error.error.violations)
        } catch let error as CancellationError {
            throw FlexLBError(kind: .connection, message: "cancelled", underlying: error)
        } catch {
            throw FlexLBError(kind: .connection, message: "\(error)", underlying: error)
        }
    }
}

extension FlexLBError {
    /// An error from a documented error response.
    fileprivate init(_ status: Int, _ body: ErrorBody) {
        self.init(status: status, message: body.message, violations: body.violations ?? [])
    }
}
