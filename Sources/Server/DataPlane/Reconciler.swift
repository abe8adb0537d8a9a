import FlexLBAPI
import FlexLBModel
import FlexLBRender
import FlexLBStore
import FlexLBSupervisor
import Foundation
import Logging
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// Makes the stored desired state real on this node, level-triggered and idempotent: each pass
/// renders every instance, rewrites files that differ (whoever changed them), starts, reloads or
/// stops processes, and records what it observes. A pass runs after every write (``poke()``) and
/// every `tick`, so drift — a killed HAProxy, an edited or deleted file — is corrected within a tick.
public final class Reconciler: Service, Sendable {
    private let store: any StateStore
    let settings: DataPlaneSettings
    private let launcher: any ProcessLauncher
    private let observed: ObservedStatus
    private let logger: Logger
    /// The cluster (membership, drain, the API endpoint instance); nil on a single node.
    private let topologySource: (any TopologySource)?
    private let wakeup = Wakeup()
    let runner = CommandRunner()

    public init(
        store: any StateStore,
        settings: DataPlaneSettings,
        launcher: any ProcessLauncher = PosixProcessLauncher(),
        observed: ObservedStatus,
        topology: (any TopologySource)? = nil,
        logger: Logger
    ) {
        self.topologySource = topology
        self.store = store
        self.settings = settings
        self.launcher = launcher
        self.observed = observed
        self.logger = logger
    }

    /// Asks for a pass as soon as possible (after a write). Cheap; bursts coalesce.
    public func poke() { wakeup.notify() }

    public func run() async throws {
        try prepare()
        try NotifyFifo(path: settings.keepalivedNotifyFifo, logger: logger) { [wakeup] _ in wakeup.notify() }.start()
        // Whatever changes the store — an API write, a record merged from a peer — wakes a pass.
        let changes = store.changes()
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { [wakeup] in
                for await _ in changes.cancelOnGracefulShutdown() { wakeup.notify() }
            }
            var state = PassState(clock: ContinuousClock())
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                do {
                    try await pass(&state)
                } catch is CancellationError {
                    break
                } catch {
                    logger.error("reconcile pass failed", metadata: ["error": "\(error)"])
                }
                await wakeup.wait(timeout: state.nextWait(settings: settings))
            }
            group.cancelAll()
        }
        // Processes keep running on shutdown: a restarted flexlbd adopts them without dropping traffic.
        logger.notice("data plane stopped; keepalived and HAProxy keep serving until flexlbd returns")
    }

    private func prepare() throws {
        for directory in [settings.dataDir, settings.haproxyConfigDir, settings.runDir, settings.pemDir, settings.logDir, settings.keepalivedDir, settings.haproxyChrootDir] {
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

    // MARK: One pass

    struct ProcessRecord {
        var pid: Int32?
        var restart = RestartState()
        var failure: String?
    }

    struct PassState {
        let clock: ContinuousClock
        let started: ContinuousClock.Instant
        var haproxy: [String: ProcessRecord] = [:]
        var keepalived = ProcessRecord()
        var keepalivedPendingSince: ContinuousClock.Instant?
        var keepalivedLastChange: ContinuousClock.Instant?
        var appliedVersions: [String: Int64] = [:]
        var stats: [String: (at: ContinuousClock.Instant, rows: [HAProxyStatRow])] = [:]
        var decoded: [String: (version: Int64, instance: DesiredInstance)] = [:]
        var rendered: [String: RenderedHAProxy] = [:]
        var files = FileStamps()
        var stored: StoreSnapshot?
        /// Instances that cannot be served as stored (damaged rows, undecodable configs, VIP:port conflicts), with why.
        var problems: [String: String] = [:]
        var keepalivedRendered: (versions: [String: Int64], groups: [VRRPGroupKey: VRRPGroupSettings], conf: String)?
        /// What each VRRP group's health file says on this node (cluster mode).
        var health: [VRRPGroupKey: String] = [:]
        /// Cluster mode, before the node has heard from its peers: do not start keepalived yet.
        var holdKeepalived = false
        /// VRRP groups that existed when this process first read the store (cluster mode).
        var establishedGroups: Set<VRRPGroupKey>?
        /// When this process first saw each group created while it runs (cluster mode).
        var groupFirstSeen: [VRRPGroupKey: Double] = [:]
        /// Groups this process has put into keepalived at least once (never deferred again).
        var loadedGroups: Set<VRRPGroupKey> = []
        /// Instances keepalived refused (at that version): left out of keepalived.conf so the others keep working.
        var keepalivedRefused: [String: (version: Int64, reason: String)] = [:]
        var adopted = false

        init(clock: ContinuousClock) {
            self.clock = clock
            self.started = clock.now
        }

        var seconds: Double {
            let elapsed = clock.now - started
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }

        func nextWait(settings: DataPlaneSettings) -> Duration {
            guard let last = keepalivedLastChange, keepalivedPendingSince != nil else { return settings.tick }
            let due = last + settings.keepalivedQuietPeriod
            let remaining = due - clock.now
            return max(.milliseconds(5), min(settings.tick, remaining))
        }
    }

    private func pass(_ state: inout PassState) async throws {
        observed.count { $0.passes += 1 }
        // Most passes are drift checks with nothing written since the last one: skip the full read.
        let revision = try await store.revision()
        let snapshot: StoreSnapshot
        if let cached = state.stored, cached.revision == revision {
            snapshot = cached
        } else {
            snapshot = try await store.snapshot()
            state.stored = snapshot
        }
        let live = snapshot.live
        // VIP:port claimed by two instances (concurrent writes on two nodes): only the first claimant
        // is served, identically on every node; the other reports the conflict.
        let conflicts = ListenerClaims.conflicts(in: live)
        var desired: [DesiredInstance] = []
        var versions: [String: Int64] = [:]
        var problems: [String: String] = [:]
        for (name, reason) in snapshot.damaged {
            problems[name] = "stored record does not decode: \(reason)"
        }
        for instance in live {
            versions[instance.name] = instance.version.rawValue
            if let conflict = conflicts[instance.name] {
                problems[instance.name] = conflict.message
                continue
            }
            // Decoding and rendering happen once per stored version, not once per pass.
            if let cached = state.decoded[instance.name], cached.version == instance.version.rawValue {
                desired.append(cached.instance)
                continue
            }
            do {
                let config = try InstanceConfig.decode(jsonBytes: instance.config, strict: false)
                let decoded = DesiredInstance(
                    name: instance.name,
                    virtualRouterID: instance.virtualRouterID,
                    config: config,
                    running: instance.desiredState == .running
                )
                desired.append(decoded)
                state.decoded[instance.name] = (instance.version.rawValue, decoded)
                state.rendered[instance.name] = nil
            } catch {
                problems[instance.name] = "stored configuration does not decode: \(error)"
                logger.error("stored instance does not decode", metadata: ["flexlb.instance": "\(instance.name)", "error": "\(error)"])
            }
        }
        // A record that does not decode is never treated as deleted: what was last applied keeps
        // running (its last decoded form), and its status carries the error.
        for name in problems.keys.sorted() where conflicts[name] == nil {
            if let last = state.decoded[name]?.instance, !desired.contains(where: { $0.name == name }) {
                desired.append(last)
            }
        }
        state.problems = problems
        let topology = topologySource?.topology()
        state.holdKeepalived = topology.map { !$0.settled } ?? false
        if let endpoint = topology?.endpoint {
            // Derived from membership, identically on every node; its version is its content's.
            desired.append(endpoint)
            versions[endpoint.name] = Self.contentVersion(endpoint)
        }
        if !state.adopted {
            await adoptRunningProcesses(&state, names: desired.map(\.name))
            state.adopted = true
        }
        if !keepalivedAlive(state) {
            // No keepalived of ours runs (first start, or it was killed): VIPs still on the
            // interfaces are stale — a keepalived killed with SIGKILL leaves them — and would answer
            // ARP beside the real master. Remove them; the fresh keepalived re-adds what it owns.
            await removeStaleVIPs(desired)
        }
        // keepalived first: its config covers every instance at once, and a long series of HAProxy
        // starts (a burst of creates) must not hold back the VIPs or the coalesced reload.
        if topology != nil, state.establishedGroups == nil {
            // The groups this process found at start are not new: no deferral for them.
            state.establishedGroups = Set(desired.filter(\.running).map(VRRPGroupPlan.key(of:)))
        }
        var groups = topology.map {
            VRRPGroupPlan.groups(for: desired, topology: $0, trackDirectory: settings.runDir + "/track")
        } ?? [:]
        var vrrpInstances = desired
        if let topology {
            let now = state.seconds
            for key in groups.keys where state.groupFirstSeen[key] == nil && !state.loadedGroups.contains(key)
                && !(state.establishedGroups ?? []).contains(key) {
                state.groupFirstSeen[key] = now
            }
            let deferred = VRRPGroupPlan.deferred(
                groups: groups, instances: desired, topology: topology, firstSeen: state.groupFirstSeen, now: now
            )
            // Once loaded, a group stays loaded: taking it out again (say, because the node that
            // held it stopped reporting) would reload keepalived in the middle of a failover.
            for key in groups.keys where !deferred.contains(key) {
                state.loadedGroups.insert(key)
                state.groupFirstSeen[key] = nil
            }
            if !deferred.isEmpty {
                vrrpInstances = desired.filter { !deferred.contains(VRRPGroupPlan.key(of: $0)) }
                for key in deferred { groups[key] = nil }
            }
        }
        await writeKeepalivedConfig(vrrpInstances, versions: versions, groups: groups, state: &state)
        superviseKeepalived(&state)
        for instance in desired where instance.running {
            await applyHAProxy(instance, version: versions[instance.name] ?? 0, state: &state)
            superviseKeepalived(&state)
        }
        let running = Set(desired.filter(\.running).map(\.name))
        // Damaged and undecodable records stay known: their files and processes are kept.
        let known = Set(desired.map(\.name)).union(state.problems.keys.filter { conflicts[$0] == nil })
        for name in state.haproxy.keys.sorted() where !running.contains(name) {
            await stopHAProxy(name, state: &state)
        }
        for instance in desired where !instance.running {
            state.appliedVersions[instance.name] = versions[instance.name]
        }
        await removeLeftovers(keeping: known, state: &state)
        for name in Set(state.decoded.keys).subtracting(known) {
            state.decoded[name] = nil
            state.rendered[name] = nil
            state.stats[name] = nil
            state.appliedVersions[name] = nil
        }
        superviseKeepalived(&state)
        if let topology { writeHealth(groups: groups.keys, desired: desired, drained: topology.drained, state: &state) }
        observe(desired, versions: versions, state: &state)
    }

    // MARK: HAProxy

    private func adoptRunningProcesses(_ state: inout PassState, names: [String]) async {
        let paths = settings.renderPaths
        var candidates = Set(names)
        for file in ConfigFiles.list(settings.haproxyConfigDir) where file.hasSuffix(".cfg") {
            candidates.insert(String(file.dropLast(4)))
        }
        for name in candidates {
            guard let pid = readPid(paths.pidFile(instance: name)),
                  await isOurs(pid: pid, executable: settings.haproxyBinary, argument: settings.haproxyConfig(instance: name)) else { continue }
            state.haproxy[name] = ProcessRecord(pid: pid)
            logger.notice("adopted running HAProxy", metadata: ["flexlb.instance": "\(name)", "flexlb.pid": "\(pid)"])
        }
        if let pid = readPid(settings.keepalivedPidFile),
           await isOurs(pid: pid, executable: settings.keepalivedBinary, argument: settings.keepalivedConfig) {
            state.keepalived.pid = pid
            logger.notice("adopted running keepalived", metadata: ["flexlb.pid": "\(pid)"])
        }
        await endOrphans(accounted: Set(state.haproxy.values.compactMap(\.pid) + [state.keepalived.pid].compactMap { $0 }))
    }

    /// Ends HAProxy and keepalived processes of this data directory that no pid file accounts for.
    private func endOrphans(accounted: Set<Int32>) async {
        let orphans = OrphanSweep.orphans(
            in: OrphanSweep.scan(), accounted: accounted, haproxyBinary: settings.haproxyBinary,
            haproxyConfigDir: settings.haproxyConfigDir, keepalivedBinary: settings.keepalivedBinary, keepalivedConfig: settings.keepalivedConfig
        )
        for orphan in orphans {
            let haproxy = orphan.argv.first?.hasSuffix("haproxy") == true
            logger.warning("ending orphaned process", metadata: ["flexlb.pid": "\(orphan.pid)", "flexlb.argv": "\(orphan.argv.joined(separator: " "))"])
            await terminate(pid: orphan.pid, executable: haproxy ? settings.haproxyBinary : settings.keepalivedBinary)
        }
    }

    private func applyHAProxy(_ instance: DesiredInstance, version: Int64, state: inout PassState) async {
        let name = instance.name
        var record = state.haproxy[name] ?? ProcessRecord()
        defer { state.haproxy[name] = record }
        let paths = settings.renderPaths
        let rendered: RenderedHAProxy
        do {
            if let cached = state.rendered[name] {
                rendered = cached
            } else {
                rendered = try HAProxyRenderer.render(instance, paths: paths)
                state.rendered[name] = rendered
            }
        } catch {
            record.failure = "cannot render: \(error)"
            state.appliedVersions[name] = version
            return
        }
        let configPath = settings.haproxyConfig(instance: name)
        var changed = false
        do {
            changed = try syncPEMFiles(name, rendered.files, state: &state)
            if !state.files.matches(configPath, rendered.config) {
                // Validate the candidate before it replaces the file a restart would read.
                let candidate = configPath + ".candidate"
                try ConfigFiles.writeAtomically(candidate, rendered.config)
                defer { ConfigFiles.remove(candidate) }
                let check = try await runner.run(settings.haproxyBinary, ["-c", "-f", candidate])
                guard check.succeeded else {
                    record.failure = "HAProxy rejects the configuration: " + HAProxyConfigCheck.summarize(check.output, scratch: settings.haproxyConfigDir)
                    // This version was processed: its status is the failure, not "applying".
                    state.appliedVersions[name] = version
                    logger.error("HAProxy rejects rendered configuration", metadata: ["flexlb.instance": "\(name)", "flexlb.output": "\(check.output)"])
                    return
                }
                try ConfigFiles.writeAtomically(configPath, rendered.config)
                state.files.remember(configPath, rendered.config)
                changed = true
            }
        } catch {
            record.failure = "cannot write configuration: \(error)"
            logger.error("cannot write HAProxy files", metadata: ["flexlb.instance": "\(name)", "error": "\(error)"])
            return
        }
        record.failure = nil
        let now = state.seconds
        if let pid = record.pid, launcher.isRunning(pid: pid, executable: settings.haproxyBinary) {
            if changed {
                // Master-worker reload: the master re-executes, the new worker takes over the listening
                // sockets, old workers finish their connections. No connection is refused.
                launcher.signal(SIGUSR2, to: pid)
                observed.count { $0.haproxyReloads += 1 }
                logger.info("reloaded HAProxy", metadata: ["flexlb.instance": "\(name)", "flexlb.version": "\(version)"])
            }
            state.appliedVersions[name] = version
            return
        }
        if let pid = record.pid {
            record.restart.exited(at: now, policy: RestartPolicy())
            record.pid = nil
            logger.warning("HAProxy exited; restarting with backoff", metadata: ["flexlb.instance": "\(name)", "flexlb.pid": "\(pid)"])
        }
        guard record.restart.mayStart(at: now) else { return }
        let spec = ProcessSpec(
            executable: settings.haproxyBinary,
            arguments: ["-W", "-f", configPath, "-p", paths.pidFile(instance: name), "-S", paths.masterSocket(instance: name)],
            logFile: settings.haproxyLog(instance: name)
        )
        do {
            let pid = try launcher.launch(spec)
            record.pid = pid
            record.restart.started(at: now)
            state.appliedVersions[name] = version
            observed.count { $0.haproxyStarts += 1 }
            logger.info("started HAProxy", metadata: ["flexlb.instance": "\(name)", "flexlb.pid": "\(pid)"])
        } catch {
            record.failure = "\(error)"
            record.restart.exited(at: now, policy: RestartPolicy())
            logger.error("cannot start HAProxy", metadata: ["flexlb.instance": "\(name)", "error": "\(error)"])
        }
    }

    /// Stops an instance's HAProxy (stop or delete): SIGTERM closes the listeners at once.
    private func stopHAProxy(_ name: String, state: inout PassState) async {
        guard let record = state.haproxy.removeValue(forKey: name), let pid = record.pid else { return }
        await terminate(pid: pid, executable: settings.haproxyBinary)
        ConfigFiles.remove(settings.renderPaths.pidFile(instance: name))
        logger.info("stopped HAProxy", metadata: ["flexlb.instance": "\(name)", "flexlb.pid": "\(pid)"])
    }

    /// SIGTERM, then SIGKILL after 3 s; waits by sleeping the task, never blocking a thread of
    /// the cooperative pool.
    private func terminate(pid: Int32, executable: String) async {
        launcher.signal(SIGTERM, to: pid)
        let deadline = ContinuousClock.now + .seconds(3)
        while launcher.isRunning(pid: pid, executable: executable) {
            if ContinuousClock.now > deadline {
                launcher.signal(SIGKILL, to: pid)
                break
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Writes the instance's PEM files (0600) and removes ones it no longer uses.
    private func syncPEMFiles(_ name: String, _ files: [RenderedFile], state: inout PassState) throws -> Bool {
        let paths = settings.renderPaths
        let directory = paths.pemDirectory(instance: name)
        var changed = false
        var wanted: Set<String> = []
        if !files.isEmpty { try ConfigFiles.makeDirectory(directory) }
        for file in files {
            let path = paths.absolutePath(of: file)
            try ConfigFiles.makeDirectory((path as NSString).deletingLastPathComponent)
            wanted.insert(path)
            if try state.files.write(path, file.contents) { changed = true }
        }
        for entry in ConfigFiles.list(directory) where !wanted.contains(directory + "/" + entry) {
            ConfigFiles.removeTree(directory + "/" + entry)
            changed = true
        }
        if files.isEmpty { ConfigFiles.removeTree(directory) }
        return changed
    }

    /// Deletes the files of instances that no longer exist; nothing of a deleted instance remains.
    private func removeLeftovers(keeping known: Set<String>, state: inout PassState) async {
        let paths = settings.renderPaths
        for file in ConfigFiles.list(settings.haproxyConfigDir) where file.hasSuffix(".cfg") {
            let name = String(file.dropLast(4))
            guard !known.contains(name) else { continue }
            if let pid = readPid(paths.pidFile(instance: name)),
               await isOurs(pid: pid, executable: settings.haproxyBinary, argument: settings.haproxyConfig(instance: name)) {
                await terminate(pid: pid, executable: settings.haproxyBinary)
            }
            ConfigFiles.remove(settings.haproxyConfigDir + "/" + file)
            ConfigFiles.remove(paths.pidFile(instance: name))
            ConfigFiles.remove(paths.statsSocket(instance: name))
            ConfigFiles.remove(paths.masterSocket(instance: name))
            ConfigFiles.removeTree(paths.pemDirectory(instance: name))
            state.files.forget(prefix: paths.pemDirectory(instance: name) + "/")
            state.files.forget(prefix: settings.haproxyConfigDir + "/" + file)
            logger.info("removed files of deleted instance", metadata: ["flexlb.instance": "\(name)"])
        }
        for entry in ConfigFiles.list(settings.pemDir) where !known.contains(entry) {
            ConfigFiles.removeTree(settings.pemDir + "/" + entry)
        }
    }

    // MARK: keepalived

    /// Renders keepalived.conf; a changed config is checked (`keepalived -t`), written, and marked
    /// for a coalesced reload.
    private func writeKeepalivedConfig(
        _ all: [DesiredInstance], versions allVersions: [String: Int64], groups: [VRRPGroupKey: VRRPGroupSettings], state: inout PassState
    ) async {
        let (desired, versions) = keepalivedCandidates(all, versions: allVersions, state: &state)
        let conf: String
        do {
            if let cached = state.keepalivedRendered, cached.versions == versions, cached.groups == groups {
                conf = cached.conf
            } else {
                var node = settings.node
                node.groups = groups
                if !groups.isEmpty { try ConfigFiles.makeDirectory(settings.runDir + "/track") }
                conf = try KeepalivedRenderer.render(instances: desired, node: node, paths: settings.renderPaths)
                state.keepalivedRendered = (versions, groups, conf)
            }
        } catch {
            state.keepalived.failure = "cannot render keepalived.conf: \(error)"
            logger.error("cannot render keepalived.conf", metadata: ["error": "\(error)"])
            return
        }
        let now = state.clock.now
        // The file on disk is what is wanted and was accepted when written: an earlier failure is over.
        if state.files.matches(settings.keepalivedConfig, conf) { state.keepalived.failure = nil }
        if !state.files.matches(settings.keepalivedConfig, conf) {
            do {
                let candidate = settings.keepalivedConfig + ".candidate"
                try ConfigFiles.writeAtomically(candidate, conf)
                defer { ConfigFiles.remove(candidate) }
                let check = try await runner.run(settings.keepalivedBinary, ["-t", "-f", candidate])
                guard check.succeeded else {
                    logger.error("keepalived rejects rendered configuration", metadata: ["flexlb.output": "\(check.output)"])
                    // Find the instances that make it fail and leave only them out.
                    if await isolateKeepalivedFailures(desired, versions: versions, state: &state) {
                        await writeKeepalivedConfig(all, versions: allVersions, groups: groups, state: &state)
                    } else {
                        state.keepalived.failure = "keepalived rejects the configuration: \(check.output.prefix(400))"
                    }
                    return
                }
                try ConfigFiles.writeAtomically(settings.keepalivedConfig, conf)
                state.files.remember(settings.keepalivedConfig, conf)
                state.keepalived.failure = nil
                state.keepalivedPendingSince = state.keepalivedPendingSince ?? now
                state.keepalivedLastChange = now
            } catch {
                state.keepalived.failure = "\(error)"
                logger.error("cannot write keepalived.conf", metadata: ["error": "\(error)"])
                return
            }
        }
    }

    /// Keeps keepalived running and sends the pending reload once the burst of changes is over
    /// (quiet period) or has lasted long enough (maximum delay). Cheap: called after every HAProxy
    /// change within a pass.
    private func superviseKeepalived(_ state: inout PassState) {
        let now = state.clock.now
        if state.keepalived.pid == nil, state.holdKeepalived {
            return
        }
        let seconds = state.seconds
        if let pid = state.keepalived.pid, launcher.isRunning(pid: pid, executable: settings.keepalivedBinary) {
            if let since = state.keepalivedPendingSince, let last = state.keepalivedLastChange,
               now - last >= settings.keepalivedQuietPeriod || now - since >= settings.keepalivedMaxDelay {
                // One SIGHUP for a burst of changes: it disturbs every VRRP instance briefly.
                launcher.signal(SIGHUP, to: pid)
                observed.count { $0.keepalivedReloads += 1 }
                state.keepalivedPendingSince = nil
                state.keepalivedLastChange = nil
                logger.info("reloaded keepalived")
            }
            return
        }
        if let pid = state.keepalived.pid {
            state.keepalived.restart.exited(at: seconds, policy: RestartPolicy())
            state.keepalived.pid = nil
            logger.warning("keepalived exited; restarting with backoff", metadata: ["flexlb.pid": "\(pid)"])
        }
        guard state.keepalived.restart.mayStart(at: seconds) else { return }
        let spec = ProcessSpec(
            executable: settings.keepalivedBinary,
            arguments: [
                "--dont-fork", "--log-console", "--log-detail", "--vrrp",
                "--use-file", settings.keepalivedConfig,
                "--pid", settings.keepalivedPidFile,
                "--vrrp_pid", settings.keepalivedVRRPPidFile,
                "--checkers_pid", settings.keepalivedCheckersPidFile,
            ],
            logFile: settings.logDir + "/keepalived.log"
        )
        do {
            let pid = try launcher.launch(spec)
            state.keepalived.pid = pid
            state.keepalived.restart.started(at: seconds)
            // A fresh keepalived reads the current file: nothing is pending any more.
            state.keepalivedPendingSince = nil
            state.keepalivedLastChange = nil
            observed.count { $0.keepalivedStarts += 1 }
            logger.info("started keepalived", metadata: ["flexlb.pid": "\(pid)"])
        } catch {
            state.keepalived.failure = "\(error)"
            state.keepalived.restart.exited(at: seconds, policy: RestartPolicy())
            logger.error("cannot start keepalived", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Observation

    private func observe(_ desired: [DesiredInstance], versions: [String: Int64], state: inout PassState) {
        let addresses = InterfaceAddresses.current()
        let keepalivedUp = state.keepalived.pid != nil
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var all: [String: NodeInstanceStatus] = [:]
        for instance in desired {
            let record = state.haproxy[instance.name]
            let vipHeld = InterfaceAddresses.canonical(instance.config.frontendIpaddress).map {
                addresses.contains(.init(interface: instance.config.frontendInterface, address: $0))
            } ?? false
            var status = NodeInstanceStatus(state: .pending, observedAt: now)
            status.appliedVersion = state.appliedVersions[instance.name]
            status.vip = vipHeld ? .master : (keepalivedUp ? .backup : .unknown)
            if !instance.running {
                status.state = .down
                status.haproxy = .stopped
                status.message = "stopped"
            } else if let failure = record?.failure ?? state.keepalivedRefused[instance.name]?.reason ?? state.keepalived.failure {
                status.state = .down
                status.haproxy = record?.pid == nil ? .failed : .running
                status.message = failure
            } else if record?.pid != nil {
                status.haproxy = .running
                let rows = stats(of: instance.name, serving: observed.status(of: instance.name)?.state == .up, state: &state)
                let frontends = rows.filter { $0.service == "FRONTEND" }
                status.servers = rows.compactMap { row -> ServerStatus? in
                    guard row.service != "FRONTEND", row.service != "BACKEND",
                          row.proxy.hasPrefix("be_"), let port = Int(row.proxy.dropFirst(3)) else { return nil }
                    return ServerStatus(frontendPort: port, name: row.service, status: row.status)
                }
                let applied = state.appliedVersions[instance.name] == versions[instance.name]
                if applied && !frontends.isEmpty && frontends.allSatisfy({ $0.status == "OPEN" }) {
                    status.state = .up
                    let healthy = status.servers?.filter { $0.status.hasPrefix("UP") || $0.status == "no check" }.count ?? 0
                    status.message = "serving; \(healthy)/\(status.servers?.count ?? 0) servers up"
                } else {
                    status.message = applied ? "waiting for HAProxy listeners" : "applying version \(versions[instance.name] ?? 0)"
                }
            } else {
                status.haproxy = .stopped
                status.message = "starting HAProxy"
            }
            all[instance.name] = status
        }
        for (name, problem) in state.problems {
            var status = all[name] ?? NodeInstanceStatus(state: .down, vip: .unknown, observedAt: now, haproxy: .stopped)
            if all[name] != nil {
                // Still serving what it last applied; say so, and why the stored version is not applied.
                status.message = "serving the last applied version; \(problem)"
            } else {
                status.state = .down
                status.message = problem
            }
            all[name] = status
        }
        observed.replace(all)
    }

    /// `show stat` of an instance's HAProxy: fresh while it is not serving yet, then at most once a
    /// second (longer with many instances); health changes are seconds apart anyway.
    private func stats(of name: String, serving: Bool, state: inout PassState) -> [HAProxyStatRow] {
        let now = state.clock.now
        // Once a second, stretched with the instance count (5 ms each) so idle cost stays flat.
        let interval = max(Duration.seconds(1), .milliseconds(5 * state.decoded.count))
        if serving, let cached = state.stats[name], now - cached.at < interval { return cached.rows }
        let rows = (try? UnixSocketClient.exchange(
            path: settings.renderPaths.statsSocket(instance: name),
            command: "show stat",
            timeoutMilliseconds: 200
        )).map(HAProxyStatRow.parse) ?? []
        state.stats[name] = (now, rows)
        return rows
    }

    // MARK: Stale VIPs

    private func keepalivedAlive(_ state: PassState) -> Bool {
        guard let pid = state.keepalived.pid else { return false }
        return launcher.isRunning(pid: pid, executable: settings.keepalivedBinary)
    }

    private func removeStaleVIPs(_ desired: [DesiredInstance]) async {
        let held = InterfaceAddresses.current()
        for instance in desired {
            let config = instance.config
            guard let vip = InterfaceAddresses.canonical(config.frontendIpaddress),
                  held.contains(.init(interface: config.frontendInterface, address: vip)) else { continue }
            do {
                let result = try await runner.run(settings.ipBinary, ["addr", "del", "\(vip)/\(config.frontendNetPrefix)", "dev", config.frontendInterface])
                logger.warning("removed a stale VIP left without keepalived", metadata: [
                    "flexlb.instance": "\(instance.name)", "flexlb.vip": "\(vip)", "flexlb.output": "\(result.output)",
                ])
            } catch {
                logger.error("cannot remove a stale VIP", metadata: ["flexlb.vip": "\(vip)", "error": "\(error)"])
            }
        }
    }

    // MARK: Cluster health

    /// Writes each VRRP group's health file when its value changes; keepalived watches the files
    /// (inotify) and moves a faulty group's VIP away at once with a priority-0 advert.
    private func writeHealth(groups: some Sequence<VRRPGroupKey>, desired: [DesiredInstance], drained: Bool, state: inout PassState) {
        var unhealthy: Set<String> = []
        for instance in desired where instance.running {
            let record = state.haproxy[instance.name]
            if record?.pid == nil || record?.failure != nil { unhealthy.insert(instance.name) }
        }
        let wanted = VRRPGroupPlan.health(groups: groups, instances: desired, unhealthy: unhealthy, drained: drained)
        for (key, value) in wanted where state.health[key] != value {
            let path = VRRPGroupPlan.trackFile(for: key, in: settings.runDir + "/track")
            do {
                try ConfigFiles.writeAtomically(path, value + "\n")
                state.health[key] = value
                if value != "0" {
                    logger.warning("giving up VIPs of a VRRP group", metadata: [
                        "flexlb.group": "\(key)", "flexlb.reason": "\(drained ? "node drained" : "an instance cannot serve here")",
                    ])
                }
            } catch {
                logger.error("cannot write VRRP health file", metadata: ["flexlb.path": "\(path)", "error": "\(error)"])
            }
        }
        for key in Array(state.health.keys) where wanted[key] == nil { state.health[key] = nil }
    }

    /// A version for an instance that is derived, not stored: a hash of its configuration.
    public static func contentVersion(_ instance: DesiredInstance) -> Int64 {
        let hash = FNV1a.hash(instance.config.jsonBytes() + Array(String(instance.virtualRouterID).utf8))
        return Int64(bitPattern: hash & 0x3fff_ffff_ffff_ffff) | 1
    }

    // MARK: Pid files

    private func readPid(_ path: String) -> Int32? {
        ConfigFiles.read(path).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Whether `pid` is a live `executable` started with `argument` (our config path): never signal
    /// a process that merely reused a pid.
    private func isOurs(pid: Int32, executable: String, argument: String) async -> Bool {
        // The command line reads empty while a master re-executes itself (a reload): ask again.
        for _ in 0..<50 {
            guard launcher.isRunning(pid: pid, executable: executable),
                  let cmdline = ConfigFiles.read("/proc/\(pid)/cmdline") else { return false }
            if !cmdline.isEmpty { return cmdline.split(separator: "\0").contains { $0 == argument } }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}
