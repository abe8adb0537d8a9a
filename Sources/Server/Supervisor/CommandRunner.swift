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

        PosixProcessLauncher.markDescriptorsCloseOnExec()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outFD, 1)
        posix_spawn_file_actions_adddup2(&actions, outFD, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigfillset(&defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw LaunchError("cannot run \(executable): \(String(cString: strerror(rc)))") }

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
