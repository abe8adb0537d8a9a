import AsyncHTTPClient
import NIOCore
import NIOSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Tells errors that happened before a request could reach a server (safe to send elsewhere)
/// from those after which it may have been processed.
enum ConnectionFailure {
    /// The failover outcome of an error thrown by `HTTPClient.execute`.
    static func outcome(of error: any Error) -> FailoverPolicy.Outcome {
        isBeforeSending(error) ? .notSent : .maybeSent
    }

    /// Whether the error is one AsyncHTTPClient raises while establishing a connection. The pool
    /// is configured not to retry connection establishment, so these reach us directly.
    static func isBeforeSending(_ error: any Error) -> Bool {
        if let error = error as? HTTPClientError {
            return error == .connectTimeout || error == .tlsHandshakeTimeout
                || error == .getConnectionFromPoolTimeout
        }
        if let error = error as? ChannelError {
            if case .connectTimeout = error { return true }
            return false
        }
        if let error = error as? IOError {
            return [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, ETIMEDOUT, EADDRNOTAVAIL].contains(error.errnoCode)
        }
        if let error = error as? NIOSSLError {
            // Every NIOSSL error but an unclean shutdown comes from the handshake, which AsyncHTTPClient
            // completes before it hands the connection to a request.
            if case .uncleanShutdown = error { return false }
            return true
        }
        if error is NIOSSLExtraError {
            return true
        }
        // NIOPosix's happy-eyeballs connector reports refused or unreachable addresses as
        // `NIOConnectionError`; matched by name because this target does not depend on NIOPosix.
        return String(describing: type(of: error)) == "NIOConnectionError"
    }
}
