/// Why a configuration could not be rendered.
///
/// Rendering re-checks everything it writes (defence in depth: the API validated it once already), so
/// every error names the offending value with a JSON path such as `$.endpoints[0].frontend_options`
/// (input from ``InstanceConfig``) or `node.priority` / `paths.pemDir` (node-local settings).
public struct RenderError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The family of a ``RenderError``; compare with the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case invalidValue
            case unsupported
            case duplicate
        }

        private let base: Base

        private init(_ base: Base) { self.base = base }

        /// A value that may not appear in a configuration: a control character, `#`, a bad address…
        public static let invalidValue = Code(.invalidValue)
        /// A valid request the proxies cannot carry out, such as `mode: udp`.
        public static let unsupported = Code(.unsupported)
        /// Two values that must be unique within an instance are equal (ports, server names).
        public static let duplicate = Code(.duplicate)

        /// A short name of the code.
        public var description: String {
            switch base {
            case .invalidValue: "invalid value"
            case .unsupported: "unsupported"
            case .duplicate: "duplicate"
            }
        }
    }

    /// What kind of error this is.
    public let code: Code
    /// JSON path of the offending value, e.g. `$.endpoints[0].backend_servers[1].options`.
    public let path: String
    /// Why the value was refused, for humans.
    public let message: String

    init(_ code: Code, at path: String, _ message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    /// `path: message`.
    public var description: String { "\(path): \(message)" }
}
