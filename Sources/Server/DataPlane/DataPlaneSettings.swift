import FlexLBRender
import Foundation

/// Where the data plane keeps its files and which binaries it runs. Every path lives under
/// `data_dir`, so flexlbd never touches a system keepalived's or HAProxy's files.
public struct DataPlaneSettings: Sendable {
    public var dataDir: String
    public var haproxyBinary: String
    public var keepalivedBinary: String
    public var node: NodeSettings
    /// How often the reconciler re-checks processes and files for drift, and refreshes observed state.
    public var tick: Duration
    /// keepalived reloads wait until no config change arrived for this long ...
    public var keepalivedQuietPeriod: Duration
    /// ... but never longer than this after the first pending change.
    public var keepalivedMaxDelay: Duration
    /// Set `net.ipv4/ipv6.ip_nonlocal_bind=1` in flexlbd's network namespace (off only in unit tests,
    /// which must not change the host's kernel settings).
    public var enableNonlocalBind: Bool
    /// The user and group HAProxy's workers run as after binding, chrooted into an empty directory
    /// (never the account of `haproxy -c`); nil keeps them root (only for tests that cannot rely on the
    /// user existing). flexlbd sets it from ``haproxyAccounts`` of its configuration.
    public var haproxyPrivileges: (user: String, group: String)? = ("haproxy", "haproxy")

    public init(
        dataDir: String,
        haproxyBinary: String = "/usr/sbin/haproxy",
        keepalivedBinary: String = "/usr/sbin/keepalived",
        node: NodeSettings,
        tick: Duration = .milliseconds(200),
        keepalivedQuietPeriod: Duration = .milliseconds(100),
        keepalivedMaxDelay: Duration = .seconds(1),
        enableNonlocalBind: Bool = true
    ) {
        self.dataDir = dataDir
        self.haproxyBinary = haproxyBinary
        self.keepalivedBinary = keepalivedBinary
        self.node = node
        self.tick = tick
        self.keepalivedQuietPeriod = keepalivedQuietPeriod
        self.keepalivedMaxDelay = keepalivedMaxDelay
        self.enableNonlocalBind = enableNonlocalBind
    }

    /// iproute2's `ip`, used only to remove stale VIPs before a fresh keepalived starts.
    public var ipBinary: String = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    } ?? "/usr/sbin/ip"

    public var haproxyConfigDir: String { dataDir + "/haproxy" }
    public var runDir: String { dataDir + "/run" }
    public var pemDir: String { dataDir + "/pem" }
    public var logDir: String { dataDir + "/log" }
    public var keepalivedDir: String { dataDir + "/keepalived" }
    /// The empty directory HAProxy's workers chroot into.
    public var haproxyChrootDir: String { dataDir + "/haproxy-chroot" }
    public var keepalivedConfig: String { keepalivedDir + "/keepalived.conf" }
    public var keepalivedPidFile: String { runDir + "/keepalived.pid" }
    public var keepalivedVRRPPidFile: String { runDir + "/keepalived-vrrp.pid" }
    public var keepalivedCheckersPidFile: String { runDir + "/keepalived-checkers.pid" }
    public var keepalivedNotifyFifo: String { runDir + "/keepalived.fifo" }

    public var renderPaths: RenderPaths {
        var paths = RenderPaths(haproxyRunDir: runDir, pemDir: pemDir, keepalivedNotifyFifo: keepalivedNotifyFifo)
        if let privileges = haproxyPrivileges {
            paths.haproxyPrivileges = HAProxyPrivileges(user: privileges.user, group: privileges.group, chroot: haproxyChrootDir)
        }
        return paths
    }

    public func haproxyConfig(instance: String) -> String { haproxyConfigDir + "/\(instance).cfg" }
    /// keepalived's stdout and stderr.
    public var keepalivedLog: String { logDir + "/" + LogRotation.keepalivedLog }
    /// An instance's HAProxy's stdout and stderr.
    public func haproxyLog(instance: String) -> String { logDir + "/" + LogRotation.haproxyLog(instance: instance) }
}
