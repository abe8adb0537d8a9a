#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What to run: an executable and its argument vector. There is no shell anywhere: arguments are
/// passed as they are, so no user text can ever be interpreted as shell syntax.
public struct ProcessSpec: Sendable, Hashable {
    public var executable: String
    public var arguments: [String]
    /// File that receives the process's stdout and stderr (appended), or nil for /dev/null.
    public var logFile: String?

    public init(executable: String, arguments: [String], logFile: String? = nil) {
        self.executable = executable
        self.arguments = arguments
        self.logFile = logFile
    }
}

/// Starts, signals and watches processes. A protocol so the supervision logic can be tested with a fake.
public protocol ProcessLauncher: Sendable {
    /// Starts `spec` in a new session (so a signal to flexlbd's process group never reaches it and it
    /// outlives a kill -9 of flexlbd) and returns its pid.
    func launch(_ spec: ProcessSpec) throws -> Int32
    /// Whether `pid` is alive and still runs `executable` (guards against pid reuse). Reaps it when it
    /// is our own exited child.
    func isRunning(pid: Int32, executable: String) -> Bool
    /// Sends `signal` to `pid`; false when there is no such process.
    @discardableResult func signal(_ signal: Int32, to pid: Int32) -> Bool
}

/// A launch failure, naming the executable.
public struct LaunchError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// ``ProcessLauncher`` on posix_spawn with `POSIX_SPAWN_SETSID`.
public struct PosixProcessLauncher: ProcessLauncher {
    public init() {}

    /// glibc's `POSIX_SPAWN_SETSID` (2.26+), not exported to Swift because it is behind `__USE_GNU`.
    static let spawnSetSID: Int32 = 0x80

    public func launch(_ spec: ProcessSpec) throws -> Int32 {
        try spawn(spec.executable, spec.arguments, output: .file(spec.logFile ?? "/dev/null"), newSession: true)
    }

    public func isRunning(pid: Int32, executable: String) -> Bool {
        guard pid > 0 else { return false }
        // Reap our own exited children so they do not linger as zombies.
        var status: Int32 = 0
        let reaped = waitpid(pid, &status, WNOHANG)
        if reaped == pid { return false }
        // Only "no such process" means gone. Anything else that stops us from looking (EMFILE while
        // a flood of connections holds every descriptor) must never read as an exit: a supervisor
        // that believes HAProxy exited starts another master beside the running one.
        if kill(pid, 0) != 0 && errno == ESRCH { return false }
        guard let stat = Self.read("/proc/\(pid)/stat") else { return errno != ENOENT && errno != ESRCH }
        // The state letter follows the parenthesised command name; Z and X are dead.
        if let close = stat.lastIndex(of: ")") {
            let rest = stat[stat.index(after: close)...].drop { $0 == " " }
            if let state = rest.first, state == "Z" || state == "X" { return false }
        }
        guard let cmdline = Self.read("/proc/\(pid)/cmdline") else { return errno != ENOENT && errno != ESRCH }
        // An empty command line is a live process in the middle of execve: HAProxy's master
        // re-executes itself on every reload. It is still ours; the next check sees the new argv.
        if cmdline.isEmpty { return true }
        let argv0 = cmdline.split(separator: "\0", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return argv0 == executable || argv0.hasSuffix("/" + (executable.split(separator: "/").last.map(String.init) ?? executable))
    }

    @discardableResult
    public func signal(_ signal: Int32, to pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        return kill(pid, signal) == 0
    }

    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
            if bytes.count > 1 << 20 { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
