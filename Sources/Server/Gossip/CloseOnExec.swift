import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// SwiftNIO opens and accepts sockets without `SOCK_CLOEXEC`, so a child that flexlbd spawns
/// (HAProxy, keepalived) would inherit them: an inherited gossip listener keeps the port bound after
/// flexlbd exits, an inherited connection never sees its FIN. Every channel of the transport is
/// marked in its initializer, microseconds after its socket was created.
enum CloseOnExec {
    static func mark(_ channel: any Channel) throws {
        _ = try channel.pipeline.syncOperations.withUnsafeTransportIfAvailable(of: NIOBSDSocket.Handle.self) { fd in
            let flags = fcntl(fd, F_GETFD)
            guard flags >= 0, fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == 0 else {
                throw IOError(errnoCode: errno, reason: "fcntl(F_SETFD, FD_CLOEXEC)")
            }
        }
    }
}
