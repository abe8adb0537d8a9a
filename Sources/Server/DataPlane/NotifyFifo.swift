import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Reads keepalived's `vrrp_notify_fifo`: one line per VRRP state change, e.g.
/// `INSTANCE "flexlb_web" MASTER 255`. Each line wakes the reconciler, which re-reads the interface
/// addresses at once, so a VIP move shows in the instance status within milliseconds instead of
/// waiting for the next tick.
final class NotifyFifo: Sendable {
    let path: String
    let logger: Logger
    let onEvent: @Sendable (String) -> Void

    init(path: String, logger: Logger, onEvent: @escaping @Sendable (String) -> Void) {
        self.path = path
        self.logger = logger
        self.onEvent = onEvent
    }

    /// Creates the FIFO (0600) if needed and starts the reader thread. The read blocks in the kernel,
    /// so it runs on its own thread rather than on Swift's cooperative pool.
    func start() throws {
        let info = UnsafeMutablePointer<stat>.allocate(capacity: 1)
        defer { info.deallocate() }
        if lstat(path, info) == 0, info.pointee.st_mode & S_IFMT != S_IFIFO { unlink(path) }
        if lstat(path, info) != 0 {
            guard mkfifo(path, 0o600) == 0 else {
                throw ConfigFiles.WriteError(description: "cannot create FIFO \(path): \(String(cString: strerror(errno)))")
            }
        }
        let thread = Thread { [self] in self.readLoop() }
        thread.name = "flexlb-notify-fifo"
        thread.start()
    }

    private func readLoop() {
        // O_RDWR: the open never blocks and reads never see EOF when keepalived restarts.
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            logger.error("cannot open keepalived notify FIFO", metadata: ["flexlb.path": "\(path)"])
            return
        }
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                logger.error("keepalived notify FIFO read failed", metadata: ["error": "\(String(cString: strerror(errno)))"])
                return
            }
            pending.append(contentsOf: buffer[0..<n])
            while let newline = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                logger.info("VRRP state change", metadata: ["flexlb.vrrp": "\(line)"])
                onEvent(line)
            }
            if pending.count > 65536 { pending.removeAll() }
        }
    }
}
