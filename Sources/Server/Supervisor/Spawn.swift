#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a spawned process's standard output and error go.
enum SpawnOutput {
    /// Appended to this file (created 0600).
    case file(String)
    /// Written to this open descriptor.
    case descriptor(Int32)
}

/// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+; behind `__USE_GNU`, so not imported):
/// the child closes every descriptor from `from` up, with close_range(2), between fork and exec.
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
private func posixSpawnFileActionsAddClosefrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ from: Int32) -> Int32

/// glibc's `posix_spawn_file_actions_addchdir_np` (2.29+; behind `__USE_GNU`).
@_silgen_name("posix_spawn_file_actions_addchdir_np")
private func posixSpawnFileActionsAddChdir(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ path: UnsafePointer<CChar>) -> Int32

/// posix_spawn with the rules every FlexLB child follows: an argument vector (never a shell), stdin
/// from /dev/null, default signal dispositions and an empty mask (flexlbd traps SIGTERM and SIGHUP;
/// its children must not inherit that), a fixed minimal environment, and no inherited descriptors:
/// everything above stderr is closed in the child itself, so no descriptor another thread opens
/// concurrently (an accepted API connection) can leak into a long-lived HAProxy or keepalived.
/// - Parameter newSession: start a new session, so the child outlives flexlbd and no signal to
///   flexlbd's process group reaches it.
/// - Parameter directory: the child's working directory (default: flexlbd's).
func spawn(_ executable: String, _ arguments: [String], output: SpawnOutput, newSession: Bool, directory: String? = nil) throws -> pid_t {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var defaults = sigset_t()
    sigfillset(&defaults)
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setsigmask(&attributes, &empty)
    var flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK
    if newSession { flags |= PosixProcessLauncher.spawnSetSID }
    posix_spawnattr_setflags(&attributes, Int16(flags))

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    switch output {
    case .file(let path):
        posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
    case .descriptor(let fd):
        posix_spawn_file_actions_adddup2(&actions, fd, 1)
        posix_spawn_file_actions_adddup2(&actions, fd, 2)
    }
    if let directory { _ = posixSpawnFileActionsAddChdir(&actions, directory) }
    let closing = posixSpawnFileActionsAddClosefrom(&actions, 3)
    guard closing == 0 else { throw LaunchError("cannot start \(executable): closefrom: \(String(cString: strerror(closing)))") }

    let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    let envp: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), nil]
    defer { envp.forEach { free($0) } }

    var pid: pid_t = 0
    let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
    guard rc == 0 else { throw LaunchError("cannot start \(executable): \(String(cString: strerror(rc)))") }
    return pid
}
