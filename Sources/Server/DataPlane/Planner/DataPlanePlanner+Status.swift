import FlexLBAPI
import FlexLBRender
import FlexLBSupervisor

/// Instance status, computed in one place from what the planner knows and the shell observed.
extension DataPlanePlanner {
    /// Each instance's status on this node. `addresses` are the interface addresses read after the
    /// pass; `now` the monotonic seconds; `wallClockMillis` stamps `observed_at`.
    public mutating func statuses(addresses: Set<InterfaceAddresses.Entry>, now: Double, wallClockMillis: Int64) -> [String: NodeInstanceStatus] {
        let keepalivedUp = keepalived.pid != nil
        var all: [String: NodeInstanceStatus] = [:]
        for instance in desired {
            let record = haproxy[instance.name]
            let vip = InterfaceAddresses.canonical(instance.config.frontendIpaddress)
            let vipHeld = vip.map { addresses.contains(.init(interface: instance.config.frontendInterface, address: $0)) } ?? false
            var status = NodeInstanceStatus(state: .pending, observedAt: wallClockMillis)
            status.appliedVersion = appliedVersions[instance.name]
            status.vip = vipHeld ? .master : (keepalivedUp ? .backup : .unknown)
            if !instance.running {
                status.state = .down
                status.haproxy = .stopped
                status.message = "stopped"
            } else if let failure = record?.failure ?? keepalivedRefused[instance.name]?.reason ?? keepalived.failure {
                status.state = .down
                status.haproxy = record?.pid == nil ? .failed : .running
                status.message = failure
            } else if record?.pid != nil {
                status.haproxy = .running
                let rows = stats[instance.name]?.rows ?? []
                let frontends = rows.filter { $0.service == "FRONTEND" }
                status.servers = rows.compactMap { row -> ServerStatus? in
                    guard row.service != "FRONTEND", row.service != "BACKEND",
                          row.proxy.hasPrefix("be_"), let port = Int(row.proxy.dropFirst(3)) else { return nil }
                    return ServerStatus(frontendPort: port, name: row.service, status: row.status)
                }
                let applied = appliedVersions[instance.name] == versions[instance.name]
                if applied && !frontends.isEmpty && frontends.allSatisfy({ $0.status == "OPEN" }) {
                    if !vipHeld, let missing = missingOwnedVIP(instance, now: now) {
                        status.state = .down
                        status.message = missing
                    } else {
                        status.state = .up
                        let healthy = status.servers?.filter { $0.status.hasPrefix("UP") || $0.status == "no check" }.count ?? 0
                        status.message = "serving; \(healthy)/\(status.servers?.count ?? 0) servers up"
                    }
                } else {
                    status.message = applied ? "waiting for HAProxy listeners" : "applying version \(versions[instance.name] ?? 0)"
                }
            } else {
                status.haproxy = .stopped
                status.message = "starting HAProxy"
            }
            all[instance.name] = status
        }
        for (name, problem) in problems {
            var status = all[name] ?? NodeInstanceStatus(state: .down, vip: .unknown, observedAt: wallClockMillis, haproxy: .stopped)
            if all[name] != nil {
                // Still serving what it last applied; say so, and why the stored version is not applied.
                status.message = "serving the last applied version; \(problem)"
            } else {
                status.state = .down
                status.message = problem
            }
            all[name] = status
        }
        lastStatus = all
        return all
    }

    /// A single node with priority 255 is the VRRP address owner of every VIP it renders: once its
    /// keepalived has had time to act on the current configuration, a VIP missing from the kernel
    /// means the instance is not reachable, whatever HAProxy says. In a cluster (or below 255) a
    /// missing VIP is a backup's normal state.
    private func missingOwnedVIP(_ instance: DesiredInstance, now: Double) -> String? {
        guard topology == nil, settings.node.priority == 255, let since = keepalivedActingSince,
              now - since >= max(2, 3 * settings.node.advertInterval) else { return nil }
        return "VIP \(instance.config.frontendIpaddress) is not on \(instance.config.frontendInterface), "
            + "although this node is its VRRP address owner (priority 255)"
    }
}
