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

/// posix_spawn with the rules every FlexLB child follows: an argument vector (never a shell), stdin
/// from /dev/null, default signal dispositions and an empty mask (flexlbd traps SIGTERM and SIGHUP;
/// its children must not inherit that), a fixed minimal environment, and no inherited descriptors.
/// - Parameter newSession: start a new session, so the child outlives flexlbd and no signal to
///   flexlbd's process group reaches it.
func spawn(_ executable: String, _ arguments: [String], output: SpawnOutput, newSession: Bool) throws -> pid_t {
    PosixProcessLauncher.markDescriptorsCloseOnExec()

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

    let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    let envp: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), nil]
    defer { envp.forEach { free($0) } }

    var pid: pid_t = 0
    let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
    guard rc == 0 else { throw LaunchError("cannot start \(executable): \(String(cString: strerror(rc)))") }
    return pid
}
