import FlexLBAPI

/// An error from a FlexLB API call: the server's answer (``status`` set), a connection failure,
/// a bad client configuration, or a response that did not match the API.
///
/// New kinds may be added; compare ``kind`` against the static members of ``Kind`` or use the
/// `is…` accessors rather than matching exhaustively.
public struct FlexLBError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, coarsely.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Code: Sendable, Hashable {
            case badRequest, forbidden, notFound, conflict, preconditionFailed, contentTooLarge, serverError
            case unexpectedStatus, invalidResponse, connection, configuration
        }

        fileprivate let code: Code

        /// 400: malformed request or violated constraints; see ``FlexLBError/violations``.
        public static let badRequest = Kind(code: .badRequest)
        /// 403: not allowed on this instance (the cluster-endpoint instance).
        public static let forbidden = Kind(code: .forbidden)
        /// 404: no instance with that name.
        public static let notFound = Kind(code: .notFound)
        /// 409: the name or a VIP:port is already in use.
        public static let conflict = Kind(code: .conflict)
        /// 412: the If-Match ETag did not match.
        public static let preconditionFailed = Kind(code: .preconditionFailed)
        /// 413: the request body was too large.
        public static let contentTooLarge = Kind(code: .contentTooLarge)
        /// 5xx: a fault in the server.
        public static let serverError = Kind(code: .serverError)
        /// A status code the API does not document for the operation.
        public static let unexpectedStatus = Kind(code: .unexpectedStatus)
        /// The server's response did not match the API.
        public static let invalidResponse = Kind(code: .invalidResponse)
        /// No endpoint could be reached, or the connection failed.
        public static let connection = Kind(code: .connection)
        /// The client is misconfigured (endpoint URL, certificate files).
        public static let configuration = Kind(code: .configuration)

        public var description: String { "\(code)" }
    }

    /// What went wrong.
    public let kind: Kind
    /// The HTTP status, when a server answered.
    public let status: Int?
    /// A human-readable message (the server's `message` for API errors).
    public let message: String
    /// Every violated constraint the server reported, with its JSON path.
    public let violations: [Violation]
    /// The underlying error for connection failures, if any.
    public let underlying: (any Error)?

    /// Creates an error; mostly for tests and fakes.
    public init(
        kind: Kind,
        status: Int? = nil,
        message: String,
        violations: [Violation] = [],
        underlying: (any Error)? = nil
    ) {
        self.kind = kind
        self.status = status
        self.message = message
        self.violations = violations
        self.underlying = underlying
    }

    /// An error built from an `ErrorBody` the server sent with `status`.
    init(status: Int, message: String, violations: [Violation]) {
        let kind: Kind =
            switch status {
            case 400: .badRequest
            case 403: .forbidden
            case 404: .notFound
            case 409: .conflict
            case 412: .preconditionFailed
            case 413: .contentTooLarge
            case 500...599: .serverError
            default: .unexpectedStatus
            }
        self.init(kind: kind, status: status, message: message, violations: violations)
    }

    /// True when a server answered with an error status (as opposed to a connection or client failure).
    public var isAPIError: Bool { status != nil }
    /// True for 404.
    public var isNotFound: Bool { kind == .notFound }
    /// True for 409.
    public var isConflict: Bool { kind == .conflict }
    /// True for 412.
    public var isPreconditionFailed: Bool { kind == .preconditionFailed }
    /// True for 400.
    public var isBadRequest: Bool { kind == .badRequest }
    /// True for 403.
    public var isForbidden: Bool { kind == .forbidden }
    /// True when no server could be reached or the connection failed.
    public var isConnectionFailure: Bool { kind == .connection }

    /// The message, the status when known, and one line per violation (`  $.path: message`).
    public var description: String {
        var text = status.map { "\(message) (HTTP \($0))" } ?? message
        for violation in violations {
            text += "\n  \(violation.path): \(violation.message)"
        }
        return text
    }
}
