/// An error from the gossip shell: a bad key, a frame that does not open, a bad address, a refused
/// datagram, a request that timed out.
///
/// Match on ``code``; read ``message`` for the specifics. New codes can be added without breaking
/// callers because ``Code`` is a struct, not an enum.
public struct GossipError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidKey
            case emptyKeyring
            case malformedFrame
            case unsupportedVersion
            case authenticationFailed
            case unexpectedKind
            case invalidAddress
            case datagramTooLarge
            case frameTooLarge
            case timedOut
            case connectionClosed
            case notRunning
            case alreadyStarted
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A key is not valid base64 or is not 16, 24 or 32 bytes long.
        public static let invalidKey = Code(.invalidKey)
        /// A keyring was built without any key.
        public static let emptyKeyring = Code(.emptyKeyring)
        /// A frame is too short, lacks the magic bytes or names an unknown kind.
        public static let malformedFrame = Code(.malformedFrame)
        /// A frame was written by a format version this build does not read.
        public static let unsupportedVersion = Code(.unsupportedVersion)
        /// No key in the ring opens the frame: wrong key, or the frame was altered.
        public static let authenticationFailed = Code(.authenticationFailed)
        /// A frame opened but has the wrong kind for where it arrived (say, a response sent as a request).
        public static let unexpectedKind = Code(.unexpectedKind)
        /// An address is not `IPv4:port` or `[IPv6]:port`.
        public static let invalidAddress = Code(.invalidAddress)
        /// A datagram would exceed the UDP size limit once sealed.
        public static let datagramTooLarge = Code(.datagramTooLarge)
        /// A length-prefixed frame exceeds the frame size limit.
        public static let frameTooLarge = Code(.frameTooLarge)
        /// A request did not complete within its timeout.
        public static let timedOut = Code(.timedOut)
        /// The peer closed the connection without answering.
        public static let connectionClosed = Code(.connectionClosed)
        /// The transport is not started, or already stopped.
        public static let notRunning = Code(.notRunning)
        /// ``GossipTransport/start()`` was called twice.
        public static let alreadyStarted = Code(.alreadyStarted)

        public var description: String { base.rawValue }
    }

    /// What kind of failure this is.
    public let code: Code
    /// A human-readable explanation. Never contains key material.
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
