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

/// Runs short-lived commands (`haproxy -c`, `keepalived -t`) from an argument vector and collects
/// their output. The blocking wait happens on a dispatch queue, never on the cooperative pool.
public struct CommandRunner: Sendable {
    public init() {}

    public func run(_ executable: String, _ arguments: [String]) async throws -> CommandResult {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try Self.runBlocking(executable, arguments) })
            }
        }
    }

    static func runBlocking(_ executable: String, _ arguments: [String]) throws -> CommandResult {
        var template = Array("/tmp/flexlb-cmd-XXXXXX".utf8CString)
        let outFD = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard outFD >= 0 else { throw LaunchError("cannot create a temporary file: \(String(cString: strerror(errno)))") }
        let outPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        unlink(outPath)
        defer { close(outFD) }

        let pid = try spawn(executable, arguments, output: .descriptor(outFD), newSession: false)

        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exitCode: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)

        lseek(outFD, 0, SEEK_SET)
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        while bytes.count < 65536 {
            let n = buffer.withUnsafeMutableBytes { read(outFD, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        return CommandResult(exitCode: exitCode, output: String(decoding: bytes.prefix(65536), as: UTF8.self))
    }
}
