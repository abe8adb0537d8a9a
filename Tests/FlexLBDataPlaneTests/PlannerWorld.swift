import FlexLBAPI
import FlexLBDataPlane
import FlexLBModel
import FlexLBRender
import FlexLBStore
import FlexLBSupervisor

/// A stand-in for the shell: answers every action with a scripted outcome and records what it was asked.
struct PlannerWorld {
    var planner = DataPlanePlanner(settings: DataPlanePlannerTests.settings)
    var now = 0.0
    var nextPid: Int32 = 100
    var running: Set<Int32> = []
    var addresses: Set<InterfaceAddresses.Entry> = []
    var keepalivedConf: String?
    var files: [String: String] = [:]
    /// Instance names whose HAProxy configuration `haproxy -c` refuses.
    var haproxyRefuses: Set<String> = []
    /// VIPs keepalived refuses (its `-t` fails when the configuration names one).
    var keepalivedRefuses: Set<String> = []
    var log: [DataPlaneAction] = []

    mutating func pass(_ snapshot: StoreSnapshot, topology: ClusterTopology? = nil) {
        let tracked = planner.trackedPids
        run(planner.begin(PassInput(snapshot: snapshot, topology: topology, now: now, alive: tracked.intersection(running), addresses: addresses)))
        run(planner.finish(now: now))
    }

    mutating func run(_ actions: [DataPlaneAction]) {
        var stack = Array(actions.reversed())
        while let action = stack.popLast() {
            log.append(action)
            var follow: [DataPlaneAction] = []
            if case .superviseKeepalived = action {
                follow = planner.superviseKeepalived(alive: planner.keepalived.pid.map(running.contains) ?? false, now: now)
            } else {
                for event in outcome(of: action) { follow += planner.handle(event, now: now) }
            }
            stack.append(contentsOf: follow.reversed())
        }
    }

    mutating func outcome(of action: DataPlaneAction) -> [DataPlaneEvent] {
        switch action {
        case .adopt:
            return [.adopted(haproxy: [:], keepalived: nil)]
        case let .installKeepalived(conf):
            if keepalivedRefuses.contains(where: conf.contains) { return [.keepalivedRejected(output: "bad interface")] }
            defer { keepalivedConf = conf }
            return [.keepalivedInstalled(changed: keepalivedConf != conf)]
        case let .isolateKeepalived(candidates):
            var refused: [String: String] = [:]
            for candidate in candidates {
                let conf = (try? candidate.conf.get()) ?? ""
                if keepalivedRefuses.contains(where: conf.contains) { refused[candidate.name] = "keepalived rejects this instance" }
            }
            return [.keepalivedIsolated(refused: refused)]
        case .startKeepalived:
            nextPid += 1
            running.insert(nextPid)
            return [.keepalivedStarted(pid: nextPid)]
        case let .installHAProxy(name, _, _, rendered):
            if haproxyRefuses.contains(name) { return [.haproxyRejected(name: name, reason: "HAProxy rejects the configuration: no")] }
            defer { files[name] = rendered.config }
            return [.haproxyInstalled(name: name, changed: files[name] != rendered.config)]
        case let .startHAProxy(name, _):
            nextPid += 1
            running.insert(nextPid)
            return [.haproxyStarted(name: name, pid: nextPid)]
        case let .stopHAProxy(_, pid):
            running.remove(pid)
            return []
        case let .writeHealth(key, value):
            return [.healthWritten(key: key, value: value)]
        case let .readStats(name):
            return [.stats(name: name, rows: [
                HAProxyStatRow(proxy: "fe_80", service: "FRONTEND", status: "OPEN"),
                HAProxyStatRow(proxy: "be_80", service: "a", status: "UP"),
            ].filter { _ in !name.isEmpty })]
        case .removeStaleVIP, .reloadKeepalived, .reloadHAProxy, .removeLeftovers, .superviseKeepalived, .holdOnLoopback, .releaseLoopback:
            return []
        }
    }

    func count(_ match: (DataPlaneAction) -> Bool) -> Int { log.filter(match).count }

    mutating func status(_ name: String) -> NodeInstanceStatus? {
        planner.statuses(addresses: addresses, now: now, wallClockMillis: 0)[name]
    }
}
