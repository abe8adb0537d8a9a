import FlexLBAPI
import FlexLBModel
import FlexLBRender
import FlexLBStore
import FlexLBSupervisor
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// Makes the stored desired state real on this node, level-triggered and idempotent: each pass
/// renders every instance, rewrites files that differ (whoever changed them), starts, reloads or
/// stops processes, and records what it observes. A pass runs after every write (``poke()``) and
/// every `tick`, so drift — a killed HAProxy, an edited or deleted file — is corrected within a tick.
///
/// The decisions are ``DataPlanePlanner``'s (pure, tested event by event); this type is the shell that
/// reads the store, the cluster, the processes and the interfaces, executes the planner's actions and
/// reports their outcomes. It runs on a thread of its own, never on Swift's cooperative pool: file
/// writes, /proc reads and stats-socket exchanges block.
public final class Reconciler: Service, Sendable {
    private let store: any StateStore
    let settings: DataPlaneSettings
    private let observed: ObservedStatus
    private let logger: Logger
    /// The cluster (membership, drain, the API endpoint instance); nil on a single node.
    private let topologySource: (any TopologySource)?
    private let wakeup = Wakeup()
    private let launcher: any ProcessLauncher
    private let configCheck: HAProxyConfigCheck?

    /// - Parameter configCheck: validates each new HAProxy configuration before it replaces the running
    ///   one — unprivileged, bounded, in scratch files. nil runs `haproxy -c` on the candidate file
    ///   directly (tests with stand-in binaries).
    public init(
        store: any StateStore,
        settings: DataPlaneSettings,
        launcher: any ProcessLauncher = PosixProcessLauncher(),
        observed: ObservedStatus,
        topology: (any TopologySource)? = nil,
        configCheck: HAProxyConfigCheck? = nil,
        logger: Logger
    ) {
        self.topologySource = topology
        self.store = store
        self.settings = settings
        self.observed = observed
        self.logger = logger
        self.launcher = launcher
        self.configCheck = configCheck
    }

    /// Asks for a pass as soon as possible (after a write). Cheap; bursts coalesce.
    public func poke() { wakeup.notify() }

    public func run() async throws {
        try prepare()
        try NotifyFifo(path: settings.keepalivedNotifyFifo, logger: logger) { [wakeup] _ in wakeup.notify() }.start()
        let thread = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let shell = ReconcileShell(
            loop: thread.next(), store: store, settings: settings, topology: topologySource, launcher: launcher,
            configCheck: configCheck, observed: observed, logger: logger
        )
        // Whatever changes the store — an API write, a record merged from a peer — wakes a pass.
        let changes = store.changes()
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { [wakeup] in
                for await _ in changes.cancelOnGracefulShutdown() { wakeup.notify() }
            }
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let wait: Duration
                do {
                    wait = try await shell.pass()
                } catch is CancellationError {
                    break
                } catch {
                    logger.error("reconcile pass failed", metadata: ["error": "\(error)"])
                    wait = settings.tick
                }
                await wakeup.wait(timeout: wait)
            }
            group.cancelAll()
        }
        try? await thread.shutdownGracefully()
        // Processes keep running on shutdown: a restarted flexlbd adopts them without dropping traffic.
        logger.notice("data plane stopped; keepalived and HAProxy keep serving until flexlbd returns")
    }

    private func prepare() throws {
        for directory in [
            settings.dataDir, settings.haproxyConfigDir, settings.runDir, settings.runDir + "/track", settings.pemDir,
            settings.logDir, settings.keepalivedDir, settings.haproxyChrootDir,
        ] {
            try ConfigFiles.makeDirectory(directory)
        }
        // HAProxy binds VIPs this node does not (yet) hold, so it runs warm on every node and a VIP
        // move is only a VRRP event.
        // promote_secondaries: removing the VIP that became an interface's primary address in its prefix
        // must not take every other VIP of that prefix with it.
        for knob in ["/proc/sys/net/ipv4/ip_nonlocal_bind", "/proc/sys/net/ipv6/ip_nonlocal_bind", "/proc/sys/net/ipv4/conf/all/promote_secondaries"]
        where settings.enableNonlocalBind {
            do {
                try ConfigFiles.writeSysctl(knob, "1")
            } catch {
                logger.warning("cannot enable non-local bind", metadata: ["flexlb.sysctl": "\(knob)", "error": "\(error)"])
            }
        }
    }

    /// A version for an instance that is derived, not stored: a hash of its configuration.
    public static func contentVersion(_ instance: DesiredInstance) -> Int64 {
        DataPlanePlanner.contentVersion(instance)
    }
}

/// The pass loop's state, on a dedicated thread: the planner, the cached store snapshot and the clock.
actor ReconcileShell {
    private let loop: any EventLoop
    private let store: any StateStore
    let settings: DataPlaneSettings
    private let topologySource: (any TopologySource)?
    let launcher: any ProcessLauncher
    let configCheck: HAProxyConfigCheck?
    let observed: ObservedStatus
    let logger: Logger
    let runner = CommandRunner()
    /// What this process wrote, so unchanged files are not re-read every pass.
    var files = FileStamps()
    private var planner: DataPlanePlanner
    private var reportedProblems: [String: String] = [:]
    private var stored: StoreSnapshot?
    private let clock = ContinuousClock()
    private let started: ContinuousClock.Instant

    nonisolated var unownedExecutor: UnownedSerialExecutor { loop.executor.asUnownedSerialExecutor() }

    init(
        loop: any EventLoop, store: any StateStore, settings: DataPlaneSettings, topology: (any TopologySource)?,
        launcher: any ProcessLauncher, configCheck: HAProxyConfigCheck?, observed: ObservedStatus, logger: Logger
    ) {
        self.loop = loop
        self.store = store
        self.settings = settings
        self.topologySource = topology
        self.launcher = launcher
        self.configCheck = configCheck
        self.observed = observed
        self.logger = logger
        self.started = clock.now
        self.planner = DataPlanePlanner(settings: .init(
            node: settings.node, paths: settings.renderPaths, trackDirectory: settings.runDir + "/track",
            tick: settings.tick.seconds, keepalivedQuietPeriod: settings.keepalivedQuietPeriod.seconds,
            keepalivedMaxDelay: settings.keepalivedMaxDelay.seconds
        ))
    }

    private var now: Double { (clock.now - started).seconds }

    /// One pass; returns how long to wait for a wake-up before the next.
    func pass() async throws -> Duration {
        observed.count { $0.passes += 1 }
        // Most passes are drift checks with nothing written since the last one: skip the full read.
        let revision = try await store.revision()
        let snapshot: StoreSnapshot
        if let cached = stored, cached.revision == revision {
            snapshot = cached
        } else {
            snapshot = try await store.snapshot()
            stored = snapshot
        }
        let input = PassInput(
            snapshot: snapshot, topology: topologySource?.topology(), now: now,
            alive: alive(haproxy: planner.haproxy.values.compactMap(\.pid), keepalived: planner.keepalived.pid),
            addresses: InterfaceAddresses.current()
        )
        let actions = planner.begin(input)
        reportProblems()
        await run(actions)
        await run(planner.finish(now: now))
        let statuses = planner.statuses(
            addresses: InterfaceAddresses.current(), now: now, wallClockMillis: Int64(Date().timeIntervalSince1970 * 1000)
        )
        observed.replace(statuses)
        return .milliseconds(Int64(planner.nextWait(now: now) * 1000))
    }

    /// Executes actions in order; each outcome's follow-ups run before the rest.
    private func run(_ actions: [DataPlaneAction]) async {
        var stack = Array(actions.reversed())
        while let action = stack.popLast() {
            let followUps: [DataPlaneAction]
            if case .superviseKeepalived = action {
                let alive = planner.keepalived.pid.map { launcher.isRunning(pid: $0, executable: settings.keepalivedBinary) } ?? false
                followUps = planner.superviseKeepalived(alive: alive, now: now)
            } else {
                var next: [DataPlaneAction] = []
                for event in await execute(action) {
                    next += planner.handle(event, now: now)
                }
                followUps = next
            }
            stack.append(contentsOf: followUps.reversed())
        }
    }

    /// Which of these pids are alive and still the program we started.
    private func alive(haproxy: [Int32], keepalived: Int32?) -> Set<Int32> {
        var result = Set(haproxy.filter { launcher.isRunning(pid: $0, executable: settings.haproxyBinary) })
        if let keepalived, launcher.isRunning(pid: keepalived, executable: settings.keepalivedBinary) { result.insert(keepalived) }
        return result
    }

    /// Logs each stored record that cannot be served, once per reason.
    private func reportProblems() {
        for (name, problem) in planner.problems.sorted(by: { $0.key < $1.key }) where reportedProblems[name] != problem {
            logger.error("stored instance cannot be served as stored", metadata: ["flexlb.instance": "\(name)", "error": "\(problem)"])
        }
        reportedProblems = planner.problems
    }
}
