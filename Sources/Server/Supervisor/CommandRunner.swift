import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The outcome of a short-lived command.
public struct CommandResult: Sendable, Hashable {
    public var exitCode: Int32
    /// stdout and stderr interleaved, at most 64 KiB.
    public var output: String
    public var succeeded: Bool { exitCode == 0 }
}

/// glibc's `memfd_create` (behind `__USE_GNU`, so not imported).
@_silgen_name("memfd_create")
private func memfdCreate(_ name: UnsafePointer<CChar>, _ flags: UInt32) -> Int32

/// Runs short-lived commands (`haproxy -c`, `keepalived -t`) from an argument vector and collects
/// their output. The blocking wait happens on a dispatch queue, never on the cooperative pool.
/// Output goes to an anonymous memory file (no scratch file in /tmp), and a command that outlives its
/// timeout is killed.
public struct CommandRunner: Sendable {
    /// Longest a command may run.
    public var timeout: Duration

    public init(timeout: Duration = .seconds(30)) {
        self.timeout = timeout
    }

    /// Runs `executable` with `arguments`, in `directory` when given.
    public func run(_ executable: String, _ arguments: [String], directory: String? = nil) async throws -> CommandResult {
        let timeout = self.timeout
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try Self.runBlocking(executable, arguments, timeout: timeout, directory: directory) })
            }
        }
    }

    static func runBlocking(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(30), directory: String? = nil) throws -> CommandResult {
        let outFD = memfdCreate("flexlb-cmd", 1 /* MFD_CLOEXEC */)
        guard outFD >= 0 else { throw LaunchError("cannot create an output buffer: \(String(cString: strerror(errno)))") }
        defer { close(outFD) }

        let pid = try spawn(executable, arguments, output: .descriptor(outFD), newSession: false, directory: directory)

        var status: Int32 = 0
        let deadline = ContinuousClock.now + timeout
        var timedOut = false
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { break }
            if reaped < 0 && errno != EINTR { break }
            if ContinuousClock.now >= deadline {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                timedOut = true
                break
            }
            usleep(2000)
        }
        let exitCode: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)

        lseek(outFD, 0, SEEK_SET)
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        while bytes.count < 65536 {
            let n = buffer.withUnsafeMutableBytes { read(outFD, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        var output = String(decoding: bytes.prefix(65536), as: UTF8.self)
        if timedOut { output += "\n[ALERT] timed out after \(timeout) and was killed" }
        return CommandResult(exitCode: timedOut ? 124 : exitCode, output: output)
    }
}
