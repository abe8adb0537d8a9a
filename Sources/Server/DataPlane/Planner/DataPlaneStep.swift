import FlexLBAPI
import FlexLBRender
import FlexLBStore
import FlexLBSupervisor

/// What the planner asks the shell to do. Each action is one side effect (or one observation the
/// plan depends on); the shell reports what came of it as a ``DataPlaneEvent``.
public enum DataPlaneAction: Sendable, Hashable {
    /// First pass of this process: find the HAProxy and keepalived processes a previous flexlbd
    /// left running (pid files, checked against /proc) and end orphans none accounts for.
    /// → ``DataPlaneEvent/adopted(haproxy:keepalived:)``
    case adopt(candidates: [String])
    /// Remove a VIP left on an interface without a keepalived of ours (one killed with SIGKILL
    /// leaves its addresses): it would answer ARP beside the real master. No event.
    case removeStaleVIP(instance: String, interface: String, address: String, prefixLength: Int)
    /// Check (`keepalived -t`) and write keepalived.conf unless the file already holds `conf`.
    /// → `keepalivedConfig(…)`
    case installKeepalived(conf: String)
    /// Check each of these single-instance configurations alone: which instances does keepalived refuse?
    /// → ``DataPlaneEvent/keepalivedIsolated(refused:)``
    case isolateKeepalived(candidates: [KeepalivedCandidate])
    /// → `keepalivedStarted` or `keepalivedStartFailed`
    case startKeepalived
    /// SIGHUP: keepalived re-reads its configuration. No event.
    case reloadKeepalived(pid: Int32)
    /// The shell reports whether the planner's keepalived is alive and hands the answer to
    /// ``DataPlanePlanner/superviseKeepalived(alive:now:)``; asked again after each HAProxy change so
    /// a coalesced reload is not held back by a long burst of starts.
    case superviseKeepalived
    /// Write the instance's PEM files and, after `haproxy -c` accepts it, its configuration, unless
    /// the files already hold them. → `haproxyInstalled`, `haproxyRejected` or `haproxyWriteFailed`
    case installHAProxy(name: String, version: Int64, instance: DesiredInstance, rendered: RenderedHAProxy)
    /// → `haproxyStarted` or `haproxyStartFailed`
    case startHAProxy(name: String, version: Int64)
    /// SIGUSR2: master-worker reload, no connection refused. No event.
    case reloadHAProxy(name: String, pid: Int32, version: Int64)
    /// SIGTERM (SIGKILL after a grace period). No event.
    case stopHAProxy(name: String, pid: Int32)
    /// Delete files (and end processes) of instances not in `keeping`. No event.
    case removeLeftovers(keeping: Set<String>)
    /// Write a VRRP group's health file. → `healthWritten` or nothing when it fails.
    case writeHealth(key: VRRPGroupKey, value: String)
    /// Read `show stat` from the instance's HAProxy. → `stats`
    case readStats(name: String)
    /// Before a drain hands a VIP over: keep it as a host address on `lo` (and stop `interface` from
    /// answering ARP for addresses it does not carry), so a request a client sends to this node in the
    /// moment before it takes the new holder's gratuitous ARP is still served here. No event.
    case holdOnLoopback(interface: String, address: String)
    /// The hold is over (or left from an earlier run). No event.
    case releaseLoopback(address: String)
}

/// One instance rendered alone into keepalived.conf, to find which instances keepalived refuses.
public struct KeepalivedCandidate: Sendable, Hashable {
    public var name: String
    public var version: Int64
    /// The configuration with only this instance, or why it cannot be rendered.
    public var conf: Result<String, RenderError>
}

/// What came of an action, as the shell saw it.
public enum DataPlaneEvent: Sendable, Hashable {
    case adopted(haproxy: [String: Int32], keepalived: Int32?)
    /// keepalived.conf holds the wanted text; `changed` when it was just written.
    case keepalivedInstalled(changed: Bool)
    /// `keepalived -t` refused the whole configuration.
    case keepalivedRejected(output: String)
    case keepalivedWriteFailed(reason: String)
    /// Instances keepalived refuses on their own, with why.
    case keepalivedIsolated(refused: [String: String])
    case keepalivedStarted(pid: Int32)
    case keepalivedStartFailed(reason: String)
    /// The instance's files hold the wanted configuration; `changed` when something was written.
    case haproxyInstalled(name: String, changed: Bool)
    case haproxyRejected(name: String, reason: String)
    case haproxyWriteFailed(name: String, reason: String)
    case haproxyStarted(name: String, pid: Int32)
    case haproxyStartFailed(name: String, reason: String)
    case healthWritten(key: VRRPGroupKey, value: String)
    case stats(name: String, rows: [HAProxyStatRow])
}

/// What the shell reads before a pass: the stored records, the cluster, and what runs.
public struct PassInput: Sendable {
    public var snapshot: StoreSnapshot
    /// nil on a single node.
    public var topology: ClusterTopology?
    /// Seconds on a monotonic clock.
    public var now: Double
    /// Which of ``DataPlanePlanner/trackedPids`` are alive (ours, not a reused pid).
    public var alive: Set<Int32>
    /// The addresses on this node's interfaces.
    public var addresses: Set<InterfaceAddresses.Entry>

    public init(snapshot: StoreSnapshot, topology: ClusterTopology?, now: Double, alive: Set<Int32>, addresses: Set<InterfaceAddresses.Entry>) {
        self.snapshot = snapshot
        self.topology = topology
        self.now = now
        self.alive = alive
        self.addresses = addresses
    }
}
