import FlexLBAPI
import FlexLBModel
import FlexLBRender
import FlexLBStore
import FlexLBSupervisor

/// The data plane's decisions, as a pure state machine: the desired state, what runs, the cluster
/// and the time go in; file writes, checks, launches, signals and reloads come out as
/// ``DataPlaneAction``s; what came of each action goes back in as a ``DataPlaneEvent``, which may
/// call for follow-up actions (a written configuration → a reload). No I/O, no clock: the shell
/// (``Reconciler``) executes and observes, and tests drive it event by event with a manual clock.
///
/// A pass: ``begin(_:)`` → execute actions, feeding each event to ``handle(_:now:)`` and running
/// its follow-ups first → ``finish(now:)`` → execute → ``statuses(addresses:wallClockMillis:)``.
public struct DataPlanePlanner: Sendable {
    public struct Settings: Sendable {
        public var node: NodeSettings
        public var paths: RenderPaths
        /// Where VRRP groups' health files live (cluster mode).
        public var trackDirectory: String
        public var tick: Double
        /// A keepalived reload waits until no change arrived for this long …
        public var keepalivedQuietPeriod: Double
        /// … but never longer than this after the first pending change.
        public var keepalivedMaxDelay: Double
        public var restartPolicy = RestartPolicy()
        /// A change this long after the last reload reloads at once (leading edge); sooner ones coalesce.
        public var keepalivedQuietSpell = 0.3
        /// The advert interval of a new group on the node placement prefers, during its first election.
        public var fastElectionAdvert = 0.02
        /// How long a new group may keep the short interval (it ends as soon as this node holds the VIP).
        public var fastElectionWindow = 1.0
        /// How long a drained node keeps serving a handed-over VIP from `lo` for clients with a stale ARP entry.
        public var drainHold = 2.0

        public init(node: NodeSettings, paths: RenderPaths, trackDirectory: String, tick: Double, keepalivedQuietPeriod: Double, keepalivedMaxDelay: Double) {
            self.node = node
            self.paths = paths
            self.trackDirectory = trackDirectory
            self.tick = tick
            self.keepalivedQuietPeriod = keepalivedQuietPeriod
            self.keepalivedMaxDelay = keepalivedMaxDelay
        }
    }

    public struct ProcessRecord: Sendable, Hashable {
        public var pid: Int32?
        public var restart = RestartState()
        public var failure: String?
    }

    let settings: Settings

    // What runs.
    public private(set) var haproxy: [String: ProcessRecord] = [:]
    public private(set) var keepalived = ProcessRecord()
    var keepalivedPendingSince: Double?
    var keepalivedLastChange: Double?
    /// When keepalived last (re)read its configuration (start, adoption, reload): a change after a
    /// quiet spell reloads at once.
    var keepalivedLastReload: Double?
    public private(set) var appliedVersions: [String: Int64] = [:]
    public private(set) var adopted = false

    // Caches: decode and render once per stored version.
    var decoded: [String: (version: Int64, instance: DesiredInstance)] = [:]
    var rendered: [String: RenderedHAProxy] = [:]
    var keepalivedRendered: (versions: [String: Int64], groups: [VRRPGroupKey: VRRPGroupSettings], conf: String)?

    // Why instances cannot be served as stored.
    /// Damaged rows, undecodable configurations, VIP:port conflicts.
    public private(set) var problems: [String: String] = [:]
    /// Instances keepalived refused (at that version): left out of keepalived.conf so the others keep working.
    var keepalivedRefused: [String: (version: Int64, reason: String)] = [:]

    // Cluster mode.
    /// What each VRRP group's health file says on this node.
    public private(set) var health: [VRRPGroupKey: String] = [:]
    /// Before the node has heard from its peers: keepalived is not started yet.
    var holdKeepalived = false
    /// Groups that existed when this process first read the store: never deferred.
    var establishedGroups: Set<VRRPGroupKey>?
    /// When this process first saw each group created while it runs.
    var groupFirstSeen: [VRRPGroupKey: Double] = [:]
    /// Groups put into keepalived at least once: never deferred again.
    var loadedGroups: Set<VRRPGroupKey> = []
    /// New groups this node ranks first for, in their first election (short advert interval), until when.
    var fastElection: [VRRPGroupKey: Double] = [:]

    /// VIPs kept on `lo` after a drain handed them over, until when.
    var loopbackHolds: [String: Double] = [:]

    // Observations.
    var stats: [String: (at: Double, rows: [HAProxyStatRow])] = [:]
    var lastStatus: [String: NodeInstanceStatus] = [:]

    // The pass in progress.
    public private(set) var desired: [DesiredInstance] = []
    public private(set) var versions: [String: Int64] = [:]
    var conflicts: Set<String> = []
    var topology: ClusterTopology?
    var alive: Set<Int32> = []
    var addresses: Set<InterfaceAddresses.Entry> = []
    var groups: [VRRPGroupKey: VRRPGroupSettings] = [:]
    var vrrpInstances: [DesiredInstance] = []

    public init(settings: Settings) {
        self.settings = settings
    }

    /// Every pid the planner believes runs: the shell reports which are alive in ``PassInput/alive``.
    public var trackedPids: Set<Int32> {
        Set(haproxy.values.compactMap(\.pid) + [keepalived.pid].compactMap { $0 })
    }

    // MARK: A pass

    /// Starts a pass: derives the desired instances and returns the first actions.
    public mutating func begin(_ input: PassInput) -> [DataPlaneAction] {
        alive = input.alive
        addresses = input.addresses
        topology = input.topology
        derive(input.snapshot, now: input.now)
        if !adopted {
            var candidates = Set(desired.map(\.name))
            candidates.formUnion(problems.keys)
            return [.adopt(candidates: candidates.sorted())]
        }
        return plan(now: input.now)
    }

    /// Reads the stored records into the desired instances, their versions and their problems.
    private mutating func derive(_ snapshot: StoreSnapshot, now: Double) {
        let live = snapshot.live
        // VIP:port claimed by two instances (concurrent writes on two nodes): only the first claimant
        // is served, identically on every node; the other reports the conflict.
        let claimConflicts = ListenerClaims.conflicts(in: live)
        var desired: [DesiredInstance] = []
        var versions: [String: Int64] = [:]
        var problems: [String: String] = [:]
        for (name, reason) in snapshot.damaged {
            problems[name] = "stored record does not decode: \(reason)"
        }
        for record in live {
            versions[record.name] = record.version.rawValue
            if let conflict = claimConflicts[record.name] {
                problems[record.name] = conflict.message
                continue
            }
            if let cached = decoded[record.name], cached.version == record.version.rawValue {
                desired.append(cached.instance)
                continue
            }
            do {
                let config = try InstanceConfig.decode(jsonBytes: record.config, strict: false)
                let instance = DesiredInstance(
                    name: record.name, virtualRouterID: record.virtualRouterID, config: config, running: record.desiredState == .running
                )
                desired.append(instance)
                decoded[record.name] = (record.version.rawValue, instance)
                rendered[record.name] = nil
            } catch {
                problems[record.name] = "stored configuration does not decode: \(error)"
            }
        }
        // A record that does not decode is never treated as deleted: what was last applied keeps
        // running (its last decoded form), and its status carries the error.
        for name in problems.keys.sorted() where claimConflicts[name] == nil {
            if let last = decoded[name]?.instance, !desired.contains(where: { $0.name == name }) {
                desired.append(last)
            }
        }
        if let endpoint = topology?.endpoint {
            // Derived from membership, identically on every node; its version is its content's.
            desired.append(endpoint)
            versions[endpoint.name] = Self.contentVersion(endpoint)
        }
        self.desired = desired
        self.versions = versions
        self.problems = problems
        self.conflicts = Set(claimConflicts.keys)
        holdKeepalived = topology.map { !$0.settled } ?? false
    }

    /// The body of a pass, once running processes are known.
    private mutating func plan(now: Double) -> [DataPlaneAction] {
        var actions: [DataPlaneAction] = []
        if !keepalivedAlive {
            // No keepalived of ours runs (first start, or it was killed): VIPs still on the interfaces
            // are stale and would answer ARP beside the real master. The fresh keepalived re-adds what it owns.
            for instance in desired {
                let config = instance.config
                guard let vip = InterfaceAddresses.canonical(config.frontendIpaddress),
                      addresses.contains(.init(interface: config.frontendInterface, address: vip)) else { continue }
                actions.append(.removeStaleVIP(
                    instance: instance.name, interface: config.frontendInterface, address: vip, prefixLength: config.frontendNetPrefix
                ))
            }
        }
        // keepalived first: its configuration covers every instance at once, and a long series of
        // HAProxy starts (a burst of creates) must not hold back the VIPs or the coalesced reload.
        planVRRPGroups(now: now)
        if let install = keepalivedInstall() { actions.append(install) }
        actions.append(.superviseKeepalived)
        for instance in desired where instance.running {
            actions.append(contentsOf: planHAProxy(instance))
            actions.append(.superviseKeepalived)
        }
        let running = Set(desired.filter(\.running).map(\.name))
        for name in haproxy.keys.sorted() where !running.contains(name) {
            // Stop or delete: SIGTERM closes the listeners at once.
            if let record = haproxy.removeValue(forKey: name), let pid = record.pid {
                actions.append(.stopHAProxy(name: name, pid: pid))
            }
        }
        for instance in desired where !instance.running {
            appliedVersions[instance.name] = versions[instance.name]
        }
        // Damaged and undecodable records stay known: their files and processes are kept.
        let known = Set(desired.map(\.name)).union(problems.keys.filter { !conflicts.contains($0) })
        actions.append(.removeLeftovers(keeping: known))
        for name in Set(decoded.keys).subtracting(known) {
            decoded[name] = nil
            rendered[name] = nil
            stats[name] = nil
            appliedVersions[name] = nil
        }
        actions.append(.superviseKeepalived)
        return actions
    }

    /// The VRRP groups this node renders (cluster mode), leaving out new groups it should not elect first.
    private mutating func planVRRPGroups(now: Double) {
        vrrpInstances = desired
        guard let topology else {
            groups = [:]
            return
        }
        if establishedGroups == nil {
            // The groups this process found at start are not new: no deferral for them.
            establishedGroups = Set(desired.filter(\.running).map(VRRPGroupPlan.key(of:)))
        }
        groups = VRRPGroupPlan.groups(for: desired, topology: topology, trackDirectory: settings.trackDirectory)
        for key in groups.keys where groupFirstSeen[key] == nil && !loadedGroups.contains(key) && !(establishedGroups ?? []).contains(key) {
            groupFirstSeen[key] = now
        }
        let deferred = VRRPGroupPlan.deferred(groups: groups, instances: desired, topology: topology, firstSeen: groupFirstSeen, now: now)
        // Once loaded, a group stays loaded: taking it out again (say, because the node that held it
        // stopped reporting) would reload keepalived in the middle of a failover.
        for (key, group) in groups where !deferred.contains(key) {
            if !loadedGroups.contains(key), !(establishedGroups ?? []).contains(key), group.priority == VRRPPlacement.topPriority,
               settings.fastElectionAdvert < settings.node.advertInterval {
                fastElection[key] = now + settings.fastElectionWindow
            }
            loadedGroups.insert(key)
            groupFirstSeen[key] = nil
        }
        if !deferred.isEmpty {
            vrrpInstances = desired.filter { !deferred.contains(VRRPGroupPlan.key(of: $0)) }
            for key in deferred { groups[key] = nil }
        }
        // A new group's first election on the node placement prefers: a short advert interval makes
        // its master-down timer short. The other nodes load the group only after it is held here
        // and has settled (VRRPGroupPlan.deferred), by when it is back to the usual interval —
        // they never learn the short one, so a slow reload here cannot make them take over.
        var held: Set<VRRPGroupKey> = []
        for instance in desired where instance.running {
            if let vip = InterfaceAddresses.canonical(instance.config.frontendIpaddress),
               addresses.contains(.init(interface: instance.config.frontendInterface, address: vip)) {
                held.insert(VRRPGroupPlan.key(of: instance))
            }
        }
        fastElection = fastElection.filter { key, until in groups[key] != nil && now < until && !held.contains(key) }
        for key in fastElection.keys { groups[key]?.advertInterval = settings.fastElectionAdvert }
    }

    // MARK: keepalived

    var keepalivedAlive: Bool { keepalived.pid.map(alive.contains) ?? false }

    /// Since when keepalived has been acting on the current configuration: nil while a change is
    /// pending or none runs.
    var keepalivedActingSince: Double? {
        keepalived.pid != nil && keepalivedPendingSince == nil ? keepalivedLastReload : nil
    }

    /// The instances (and versions) that go into keepalived.conf: all but the refused ones.
    private mutating func keepalivedCandidates() -> ([DesiredInstance], [String: Int64]) {
        // A refusal lasts while the instance keeps the version it was refused at.
        keepalivedRefused = keepalivedRefused.filter { versions[$0.key] == $0.value.version }
        let kept = vrrpInstances.filter { keepalivedRefused[$0.name] == nil }
        return (kept, versions.filter { keepalivedRefused[$0.key] == nil })
    }

    /// keepalived.conf as wanted now, to be checked and written unless the file already holds it.
    private mutating func keepalivedInstall() -> DataPlaneAction? {
        let (instances, versions) = keepalivedCandidates()
        if let cached = keepalivedRendered, cached.versions == versions, cached.groups == groups {
            return .installKeepalived(conf: cached.conf)
        }
        var node = settings.node
        node.groups = groups
        do {
            let conf = try KeepalivedRenderer.render(instances: instances, node: node, paths: settings.paths)
            keepalivedRendered = (versions, groups, conf)
            return .installKeepalived(conf: conf)
        } catch {
            keepalived.failure = "cannot render keepalived.conf: \(error)"
            return nil
        }
    }

    /// Keeps keepalived running and sends the pending reload once the burst of changes is over
    /// (quiet period) or has lasted long enough (maximum delay).
    public mutating func superviseKeepalived(alive isAlive: Bool, now: Double) -> [DataPlaneAction] {
        if keepalived.pid == nil, holdKeepalived { return [] }
        if let pid = keepalived.pid, isAlive {
            alive.insert(pid)
            // The first change after a quiet spell (0.3 s) reloads at once (a single create is not held
            // back); the rest of a burst waits for the burst to pause (quiet period) or for the
            // maximum delay: one SIGHUP for many changes, as it disturbs every VRRP instance briefly.
            // (A microsecond of slack: the shell wakes exactly when the period ends.)
            let slack = 1e-6
            guard let since = keepalivedPendingSince, let last = keepalivedLastChange else { return [] }
            let afterQuietSpell = keepalivedLastReload.map { since - $0 >= settings.keepalivedQuietSpell - slack } ?? true
            guard afterQuietSpell || now - last >= settings.keepalivedQuietPeriod - slack
                  || now - since >= settings.keepalivedMaxDelay - slack else { return [] }
            keepalivedPendingSince = nil
            keepalivedLastChange = nil
            keepalivedLastReload = now
            return [.reloadKeepalived(pid: pid)]
        }
        if let pid = keepalived.pid {
            alive.remove(pid)
            keepalived.restart.exited(at: now, policy: settings.restartPolicy)
            keepalived.pid = nil
        }
        guard keepalived.restart.mayStart(at: now) else { return [] }
        return [.startKeepalived]
    }

    // MARK: HAProxy

    private mutating func planHAProxy(_ instance: DesiredInstance) -> [DataPlaneAction] {
        let name = instance.name
        let version = versions[name] ?? 0
        do {
            let output = try rendered[name] ?? HAProxyRenderer.render(instance, paths: settings.paths)
            rendered[name] = output
            return [.installHAProxy(name: name, version: version, instance: instance, rendered: output)]
        } catch {
            haproxy[name, default: ProcessRecord()].failure = "cannot render: \(error)"
            appliedVersions[name] = version
            return []
        }
    }

    /// After the files hold the wanted configuration: reload a running HAProxy that changed, start a
    /// missing one (with backoff after crashes).
    private mutating func afterInstall(_ name: String, changed: Bool, now: Double) -> [DataPlaneAction] {
        var record = haproxy[name] ?? ProcessRecord()
        defer { haproxy[name] = record }
        let version = versions[name] ?? 0
        record.failure = nil
        if let pid = record.pid, alive.contains(pid) {
            appliedVersions[name] = version
            // Master-worker reload: the new worker takes over the listening sockets, old workers finish
            // their connections. No connection is refused.
            return changed ? [.reloadHAProxy(name: name, pid: pid, version: version)] : []
        }
        if record.pid != nil {
            record.restart.exited(at: now, policy: settings.restartPolicy)
            record.pid = nil
        }
        guard record.restart.mayStart(at: now) else { return [] }
        return [.startHAProxy(name: name, version: version)]
    }

    // MARK: Events

    /// Folds what came of an action into the state; returns the follow-up actions, to run before
    /// the rest of the pass.
    public mutating func handle(_ event: DataPlaneEvent, now: Double) -> [DataPlaneAction] {
        switch event {
        case let .adopted(found, keepalivedPid):
            adopted = true
            for (name, pid) in found {
                haproxy[name, default: ProcessRecord()].pid = pid
                alive.insert(pid)
            }
            if let keepalivedPid {
                keepalived.pid = keepalivedPid
                keepalivedLastReload = now
                alive.insert(keepalivedPid)
            }
            return plan(now: now)
        case let .keepalivedInstalled(changed):
            // The file holds what is wanted and was accepted when written: an earlier failure is over.
            keepalived.failure = nil
            if changed {
                keepalivedPendingSince = keepalivedPendingSince ?? now
                keepalivedLastChange = now
            }
            return []
        case let .keepalivedRejected(output):
            let (instances, versions) = keepalivedCandidates()
            // Each instance alone, with its group's settings as in the whole file.
            var node = settings.node
            node.groups = groups
            let candidates = instances.filter(\.running).map { instance in
                KeepalivedCandidate(
                    name: instance.name, version: versions[instance.name] ?? 0,
                    conf: Result { () throws(RenderError) -> String in
                        try KeepalivedRenderer.render(instances: [instance], node: node, paths: settings.paths)
                    }
                )
            }
            keepalived.failure = "keepalived rejects the configuration: \(output.prefix(400))"
            return candidates.isEmpty ? [] : [.isolateKeepalived(candidates: candidates)]
        case let .keepalivedWriteFailed(reason):
            keepalived.failure = reason
            return []
        case let .keepalivedIsolated(refused):
            // Leave out only the instances that fail alone; the others go back in.
            guard !refused.isEmpty else { return [] }
            for (name, reason) in refused {
                keepalivedRefused[name] = (versions[name] ?? 0, reason)
            }
            return keepalivedInstall().map { [$0] } ?? []
        case let .keepalivedStarted(pid):
            keepalived.pid = pid
            keepalived.restart.started(at: now)
            alive.insert(pid)
            // A fresh keepalived reads the current file: nothing is pending any more.
            keepalivedPendingSince = nil
            keepalivedLastChange = nil
            keepalivedLastReload = now
            return []
        case let .keepalivedStartFailed(reason):
            keepalived.failure = reason
            keepalived.restart.exited(at: now, policy: settings.restartPolicy)
            return []
        case let .haproxyInstalled(name, changed):
            return afterInstall(name, changed: changed, now: now)
        case let .haproxyRejected(name, reason):
            haproxy[name, default: ProcessRecord()].failure = reason
            // This version was processed: its status is the failure, not "applying".
            appliedVersions[name] = versions[name]
            return []
        case let .haproxyWriteFailed(name, reason):
            haproxy[name, default: ProcessRecord()].failure = reason
            return []
        case let .haproxyStarted(name, pid):
            haproxy[name, default: ProcessRecord()].pid = pid
            haproxy[name]?.restart.started(at: now)
            alive.insert(pid)
            appliedVersions[name] = versions[name]
            return []
        case let .haproxyStartFailed(name, reason):
            haproxy[name, default: ProcessRecord()].failure = reason
            haproxy[name]?.restart.exited(at: now, policy: settings.restartPolicy)
            return []
        case let .healthWritten(key, value):
            health[key] = value
            return []
        case let .stats(name, rows):
            stats[name] = (now, rows)
            return []
        }
    }

    /// The end of a pass: health files (cluster mode) and the HAProxy stats the status needs.
    public mutating func finish(now: Double) -> [DataPlaneAction] {
        var actions = loopbackHoldActions(now: now)
        if let topology {
            var unhealthy: Set<String> = []
            for instance in desired where instance.running {
                let record = haproxy[instance.name]
                if record?.pid == nil || record?.failure != nil { unhealthy.insert(instance.name) }
            }
            let wanted = VRRPGroupPlan.health(groups: groups.keys, instances: desired, unhealthy: unhealthy, drained: topology.drained)
            for (key, value) in wanted.sorted(by: { $0.key < $1.key }) where health[key] != value {
                actions.append(.writeHealth(key: key, value: value))
            }
            health = health.filter { wanted[$0.key] != nil }
        }
        // Fresh while an instance is not serving yet, then at most once a second (longer with many
        // instances: 5 ms each, so idle cost stays flat); health changes are seconds apart anyway.
        let interval = max(1, 0.005 * Double(decoded.count))
        for instance in desired where instance.running {
            guard let record = haproxy[instance.name], record.pid != nil, record.failure == nil,
                  keepalivedRefused[instance.name] == nil, keepalived.failure == nil else { continue }
            let serving = lastStatus[instance.name]?.state == .up
            if serving, let cached = stats[instance.name], now - cached.at < interval { continue }
            actions.append(.readStats(name: instance.name))
        }
        return actions
    }

    /// A drain hands VIPs over with a priority-0 advert; for a moment clients still send to this node.
    /// Before the health files say so, every VIP this node holds is also put on `lo`, and taken off
    /// `drainHold` seconds later (or at once when found there with no hold: left by an earlier run).
    private mutating func loopbackHoldActions(now: Double) -> [DataPlaneAction] {
        var actions: [DataPlaneAction] = []
        let vips = Dictionary(desired.filter(\.running).compactMap { instance in
            InterfaceAddresses.canonical(instance.config.frontendIpaddress).map { ($0, instance.config.frontendInterface) }
        }, uniquingKeysWith: { first, _ in first })
        if topology?.drained == true {
            for (vip, interface) in vips.sorted(by: { $0.key < $1.key })
            where loopbackHolds[vip] == nil && addresses.contains(.init(interface: interface, address: vip)) {
                loopbackHolds[vip] = now + settings.drainHold
                actions.append(.holdOnLoopback(interface: interface, address: vip))
            }
        }
        for (vip, until) in loopbackHolds.sorted(by: { $0.key < $1.key }) where now >= until {
            loopbackHolds[vip] = nil
            actions.append(.releaseLoopback(address: vip))
        }
        for entry in addresses where entry.interface == "lo" && vips[entry.address] != nil && loopbackHolds[entry.address] == nil {
            actions.append(.releaseLoopback(address: entry.address))
        }
        return actions
    }

    /// How long the shell may wait for a wake-up before the next pass.
    public func nextWait(now: Double) -> Double {
        var due = now + settings.tick
        if let last = keepalivedLastChange, let since = keepalivedPendingSince {
            due = min(due, last + settings.keepalivedQuietPeriod, since + settings.keepalivedMaxDelay)
        }
        // A crashed process waiting out its backoff restarts when the backoff ends, not a tick later.
        for record in haproxy.values where record.pid == nil && record.restart.notBefore > now {
            due = min(due, record.restart.notBefore)
        }
        if keepalived.pid == nil, keepalived.restart.notBefore > now { due = min(due, keepalived.restart.notBefore) }
        // A fast election ends on time even when nothing else happens; so does a loopback hold.
        for until in fastElection.values { due = min(due, until) }
        for until in loopbackHolds.values { due = min(due, until) }
        return max(0.005, due - now)
    }

    /// A version for an instance that is derived, not stored: a hash of its configuration.
    public static func contentVersion(_ instance: DesiredInstance) -> Int64 {
        let hash = FNV1a.hash(instance.config.jsonBytes() + Array(String(instance.virtualRouterID).utf8))
        return Int64(bitPattern: hash & 0x3fff_ffff_ffff_ffff) | 1
    }
}
