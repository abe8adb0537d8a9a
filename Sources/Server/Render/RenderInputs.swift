public import FlexLBAPI

/// One instance as the node should run it: the declaration plus what the cluster decided about it.
public struct DesiredInstance: Hashable, Sendable {
    /// Instance name (the same as `config.name`).
    public var name: String
    /// VRRP virtual router id, 1...255, allocated cluster-wide.
    public var virtualRouterID: Int
    /// The declared configuration.
    public var config: InstanceConfig
    /// False when the instance is stopped: its VIP is released and its HAProxy is not run.
    public var running: Bool

    /// Creates a desired instance; `name` defaults to `config.name`.
    public init(name: String? = nil, virtualRouterID: Int, config: InstanceConfig, running: Bool = true) {
        self.name = name ?? config.name
        self.virtualRouterID = virtualRouterID
        self.config = config
        self.running = running
    }
}

/// This node's VRRP settings, shared by all of its `vrrp_instance` blocks.
public struct NodeSettings: Hashable, Sendable {
    /// Keepalived `router_id`: the node name.
    public var routerID: String
    /// VRRP priority, 1...255. 255 makes this node the address owner: it takes the VIP at once, without
    /// waiting out the master-down timer (a single node); a cluster gives its nodes distinct priorities below 255.
    public var priority: Int
    /// Start as MASTER (a single node) rather than BACKUP.
    public var initialStateMaster: Bool
    /// Advertisement interval in seconds; VRRPv3 allows 0.01...40.95 in steps of 0.01.
    public var advertInterval: Double
    /// Source address of unicast adverts; keepalived picks one of the interface's addresses when nil.
    public var unicastSourceIP: String?
    /// Unicast peers; empty means multicast. May mix IPv4 and IPv6: each instance uses the peers of
    /// its VIP's family (keepalived refuses mixed families in one instance).
    public var unicastPeers: [String]
    /// `nopreempt` on every VRRP instance (they then start as BACKUP): a node that returns does not
    /// take its VIPs back, so a failure costs one move, not two.
    public var noPreempt: Bool = false
    /// Cluster mode: per VRRP group, this node's priority, unicast source and peers, and the health
    /// file keepalived tracks (a non-zero value puts the group in FAULT: the VIP is handed over with
    /// a priority-0 advert). Groups not listed use the node-wide values above.
    public var groups: [VRRPGroupKey: VRRPGroupSettings] = [:]

    /// Creates node settings with keepalived's usual defaults.
    public init(
        routerID: String,
        priority: Int = 100,
        initialStateMaster: Bool = false,
        advertInterval: Double = 1,
        unicastSourceIP: String? = nil,
        unicastPeers: [String] = []
    ) {
        self.routerID = routerID
        self.priority = priority
        self.initialStateMaster = initialStateMaster
        self.advertInterval = advertInterval
        self.unicastSourceIP = unicastSourceIP
        self.unicastPeers = unicastPeers
    }
}

/// One `vrrp_instance`: a VRID on an interface and address family.
public struct VRRPGroupKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var virtualRouterID: Int
    public var interface: String
    public var ipv4: Bool

    public init(virtualRouterID: Int, interface: String, ipv4: Bool) {
        self.virtualRouterID = virtualRouterID
        self.interface = interface
        self.ipv4 = ipv4
    }

    /// The placement key hashed by every node (`eth0/v4/5`).
    public var description: String { "\(interface)/\(ipv4 ? "v4" : "v6")/\(virtualRouterID)" }

    public static func < (lhs: VRRPGroupKey, rhs: VRRPGroupKey) -> Bool {
        (lhs.virtualRouterID, lhs.ipv4 ? 0 : 1, lhs.interface) < (rhs.virtualRouterID, rhs.ipv4 ? 0 : 1, rhs.interface)
    }
}

/// What cluster placement decided for one VRRP group on this node.
public struct VRRPGroupSettings: Hashable, Sendable {
    public var priority: Int
    public var unicastSourceIP: String?
    public var unicastPeers: [String]
    /// Absolute path of the group's health file (`track_file`), or nil.
    public var trackFile: String?
    /// This group's advert interval when it differs from the node's: a short one while a new group's
    /// first election runs on the node placement prefers (its master-down timer is three adverts),
    /// so a new VIP is up in about a tenth of a second instead of three tenths.
    public var advertInterval: Double?

    public init(priority: Int, unicastSourceIP: String? = nil, unicastPeers: [String] = [], trackFile: String? = nil, advertInterval: Double? = nil) {
        self.priority = priority
        self.unicastSourceIP = unicastSourceIP
        self.unicastPeers = unicastPeers
        self.trackFile = trackFile
        self.advertInterval = advertInterval
    }
}

/// HAProxy's privilege drop: the master stays root (it re-executes on reload and binds ports below
/// 1024), the workers chroot into an empty directory and switch to `user`/`group` once bound.
public struct HAProxyPrivileges: Hashable, Sendable {
    public var user: String
    public var group: String
    public var chroot: String

    public init(user: String, group: String, chroot: String) {
        self.user = user
        self.group = group
        self.chroot = chroot
    }
}

/// Every absolute path a rendered configuration refers to comes from here, so the caller (and tests)
/// decide where files live.
///
/// Paths must be absolute and use only `A-Z a-z 0-9 . _ - /`; a trailing `/` is ignored.
public struct RenderPaths: Hashable, Sendable {
    /// Directory of HAProxy runtime files: `<name>.sock` (stats/admin socket, in the config),
    /// `<name>-master.sock` (master CLI, passed with `-S`) and `<name>.pid` (passed with `-p`).
    public var haproxyRunDir: String
    /// Root of the PEM files; each instance owns `<pemDir>/<name>/`.
    public var pemDir: String
    /// FIFO that keepalived writes VRRP state changes to (`vrrp_notify_fifo`); none when nil.
    public var keepalivedNotifyFifo: String?
    /// Who HAProxy's workers become after binding (`user`, `group`, `chroot`); nil: they stay root.
    public var haproxyPrivileges: HAProxyPrivileges?

    /// Creates the set of paths.
    public init(haproxyRunDir: String, pemDir: String, keepalivedNotifyFifo: String? = nil) {
        self.haproxyRunDir = haproxyRunDir
        self.pemDir = pemDir
        self.keepalivedNotifyFifo = keepalivedNotifyFifo
    }

    /// The stats socket of an instance's HAProxy (`stats socket` in its config).
    public func statsSocket(instance: String) -> String { "\(trimmed(haproxyRunDir))/\(instance).sock" }
    /// The master CLI socket of an instance's HAProxy (`haproxy -W -S <path>`).
    public func masterSocket(instance: String) -> String { "\(trimmed(haproxyRunDir))/\(instance)-master.sock" }
    /// The pid file of an instance's HAProxy master (`haproxy -p <path>`).
    public func pidFile(instance: String) -> String { "\(trimmed(haproxyRunDir))/\(instance).pid" }
    /// The directory holding an instance's PEM files; delete it when the instance goes.
    public func pemDirectory(instance: String) -> String { "\(trimmed(pemDir))/\(instance)" }
    /// The absolute path of a ``RenderedFile``.
    public func absolutePath(of file: RenderedFile) -> String { "\(trimmed(pemDir))/\(file.relativePath)" }

    private func trimmed(_ path: String) -> String {
        var path = Substring(path)
        while path.count > 1, path.hasSuffix("/") { path = path.dropLast() }
        return String(path)
    }
}
