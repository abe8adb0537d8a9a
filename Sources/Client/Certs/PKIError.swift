/// Why a certificate could not be issued, loaded or written.
public struct PKIError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Code: Sendable, Equatable {
        case invalidIPAddress
        case noSubjectAlternativeNames
        case invalidValidity
        case keyMismatch
        case fileExists
        case io
    }

    private let code: Code
    /// A human-readable explanation.
    public let message: String

    private init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// An IP address given for a SAN did not parse as IPv4 or IPv6.
    public static func invalidIPAddress(_ text: String) -> Self {
        Self(.invalidIPAddress, "not an IPv4 or IPv6 address: \(text)")
    }

    /// A server certificate needs at least one DNS name or IP address.
    public static let noSubjectAlternativeNames = Self(
        .noSubjectAlternativeNames, "a server certificate needs at least one DNS name or IP address")

    /// A validity period outside 1...36500 days.
    public static func invalidValidity(_ days: Int) -> Self {
        Self(.invalidValidity, "validity must be between 1 and 36500 days, got \(days)")
    }

    /// A CA private key that does not belong to the CA certificate.
    public static let keyMismatch = Self(.keyMismatch, "the private key does not match the certificate")

    /// A file that would be overwritten without `force`.
    public static func fileExists(_ path: String) -> Self {
        Self(.fileExists, "\(path) already exists (use --force to overwrite)")
    }

    /// A system call failed while reading or writing a file.
    public static func io(_ operation: String, path: String, errno: Int32) -> Self {
        Self(.io, "\(operation) \(path): \(String(cString: strerror(errno)))")
    }

    /// A file operation failed for `reason`.
    public static func io(_ operation: String, path: String, reason: String) -> Self {
        Self(.io, "\(operation) \(path): \(reason)")
    }

    /// True when the error is about an existing file.
    public var isFileExists: Bool { code == .fileExists }

    public var description: String { message }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
