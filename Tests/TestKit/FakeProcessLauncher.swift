import FlexLBSupervisor
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A ``ProcessLauncher`` that starts nothing: it hands out pids, remembers what was launched and
/// signalled, and lets a test "crash" a process. Signalling a pid it never launched (or one already
/// gone) is illegal use and is recorded, so every test also checks that the supervisor only ever
/// signals its own live processes.
public final class FakeProcessLauncher: ProcessLauncher, Sendable {
    public struct Signal: Sendable, Hashable {
        public var signal: Int32
        public var pid: Int32
    }

    private struct State {
        var nextPid: Int32 = 4_000_000
        var alive: [Int32: ProcessSpec] = [:]
        var launches: [(pid: Int32, spec: ProcessSpec)] = []
        var signals: [Signal] = []
        var illegal: [String] = []
    }

    private let state = Mutex(State())

    public init() {}

    public func launch(_ spec: ProcessSpec) throws -> Int32 {
        state.withLock { state in
            state.nextPid += 1
            state.alive[state.nextPid] = spec
            state.launches.append((state.nextPid, spec))
            return state.nextPid
        }
    }

    public func isRunning(pid: Int32, executable: String) -> Bool {
        state.withLock { $0.alive[pid]?.executable == executable }
    }

    public func signal(_ signal: Int32, to pid: Int32) -> Bool {
        state.withLock { state in
            guard state.alive[pid] != nil else {
                state.illegal.append("signal \(signal) to pid \(pid), which is not a live process it launched")
                return false
            }
            state.signals.append(Signal(signal: signal, pid: pid))
            if signal == SIGTERM || signal == SIGKILL { state.alive[pid] = nil }
            return true
        }
    }

    /// Simulates a crash: the process is gone without any signal from the supervisor.
    public func crash(_ pid: Int32) {
        _ = state.withLock { $0.alive.removeValue(forKey: pid) }
    }

    /// Live pids running `executable` whose arguments contain `argument`.
    public func livePids(_ executable: String, argument: String? = nil) -> [Int32] {
        state.withLock { state in
            state.alive.filter { $0.value.executable == executable && (argument.map($0.value.arguments.contains) ?? true) }
                .keys.sorted()
        }
    }

    /// Every launch of `executable`, in order.
    public func launches(of executable: String) -> [ProcessSpec] {
        state.withLock { $0.launches.filter { $0.spec.executable == executable }.map(\.spec) }
    }

    /// Signals sent to `pid`, in order.
    public func signals(to pid: Int32) -> [Int32] {
        state.withLock { $0.signals.filter { $0.pid == pid }.map(\.signal) }
    }

    /// Illegal uses seen so far; a test expects this to be empty.
    public var illegalUses: [String] { state.withLock { $0.illegal } }
}
