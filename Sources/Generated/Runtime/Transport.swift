import HTTPTypes

/// A request as the generated router sees it: transport-neutral, body already collected.
public struct ServerRequest: Sendable {
    public var method: HTTPRequest.Method
    /// The path without the query string, still percent-encoded (e.g. `/flexlb/v1/instances/a`).
    public var path: String
    /// The raw query string without `?`, or nil.
    public var query: String?
    public var headerFields: HTTPFields
    public var body: [UInt8]

    public init(method: HTTPRequest.Method, path: String, query: String?, headerFields: HTTPFields, body: [UInt8]) {
        self.method = method
        self.path = path
        self.query = query
        self.headerFields = headerFields
        self.body = body
    }
}

/// A response produced by the generated router.
public struct ServerResponse: Sendable {
    public var status: HTTPResponse.Status
    public var headerFields: HTTPFields
    public var body: [UInt8]

    public init(status: HTTPResponse.Status, headerFields: HTTPFields = [:], body: [UInt8] = []) {
        self.status = status
        self.headerFields = headerFields
        self.body = body
    }
}

/// Sends one request of the generated client; implemented by FlexLBClient over AsyncHTTPClient,
/// and by fakes in tests.
public protocol ClientTransport: Sendable {
    /// - Parameters:
    ///   - request: method, path (base path and query included) and headers; no scheme or authority:
    ///     the transport picks the endpoint.
    ///   - body: the request body, if the operation has one.
    ///   - operationID: the operation's `operationId` in openapi.yaml.
    ///   - idempotent: whether the operation may be retried safely (GET, PUT, DELETE, or any
    ///     request carrying If-Match).
    func send(
        _ request: HTTPRequest,
        body: [UInt8]?,
        operationID: String,
        idempotent: Bool
    ) async throws -> (HTTPResponse, [UInt8])
}

/// The server answered with a status that openapi.yaml does not document for the operation.
public struct UndocumentedResponse: Error, Sendable, CustomStringConvertible {
    public var operationID: String
    public var status: Int
    public var body: [UInt8]

    public init(operationID: String, status: Int, body: [UInt8]) {
        self.operationID = operationID
        self.status = status
        self.body = body
    }

    public var description: String {
        "\(operationID): undocumented HTTP status \(status): \(String(decoding: body.prefix(512), as: UTF8.self))"
    }
}

/// The server's response body did not match the schema.
public struct ResponseDecodingError: Error, Sendable, CustomStringConvertible {
    public var operationID: String
    public var status: Int
    public var error: ValidationError

    public init(operationID: String, status: Int, error: ValidationError) {
        self.operationID = operationID
        self.status = status
        self.error = error
    }

    public var description: String { "\(operationID): response \(status) does not match the spec: \(error)" }
}
