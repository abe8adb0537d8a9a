/// A failed Kubernetes API call: the HTTP status and the server's `Status` message, or a
/// transport or decoding failure (status nil).
public struct KubeError: Error, Sendable, CustomStringConvertible {
    /// HTTP status, nil when no response arrived.
    public let status: Int?
    /// `Status.reason` (NotFound, Conflict, AlreadyExists, Expired, ...).
    public let reason: String?
    public let message: String

    public init(status: Int?, reason: String? = nil, message: String) {
        self.status = status
        self.reason = reason
        self.message = message
    }

    public var isNotFound: Bool { status == 404 }
    /// 409: a stale resourceVersion, or AlreadyExists on create.
    public var isConflict: Bool { status == 409 }
    public var isAlreadyExists: Bool { status == 409 && reason == "AlreadyExists" }
    /// 410 Gone: the resourceVersion is too old to watch from; relist.
    public var isGone: Bool { status == 410 || reason == "Expired" || reason == "Gone" }

    public var description: String {
        status.map { "\(message) (HTTP \($0)\(reason.map { ", \($0)" } ?? ""))" } ?? message
    }
}
