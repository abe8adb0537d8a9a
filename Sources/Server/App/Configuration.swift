import FlexLBAPI
import FlexLBDataPlane
import Foundation
import Logging
import Yams

/// flexlbd's configuration file (`/etc/flexlb/config.yaml` by default). Key names follow FlexLB 0.4
/// where a key means the same thing; unknown keys and bad values are startup errors naming the key.
public struct NodeConfiguration: Sendable, Equatable {
    /// Node name, shown in status maps (`name`; default: the host name).
    public var name: String
    /// Address the mTLS API listens on (`tls_host`; 0.4 key).
    public var tlsHost: String = "0.0.0.0"
    /// Port of the mTLS API (`tls_port`; 0.4 key; 0 picks a free port).
    public var tlsPort: Int = 8443
    /// PEM server certificate chain (`tls_cert`).
    public var tlsCert: String = "/etc/flexlb/certs/server.crt"
    /// PEM server private key (`tls_key`).
    public var tlsKey: String = "/etc/flexlb/certs/server.key"
    /// PEM CA that client certificates must chain to (`tls_ca_cert`). Mandatory: there is no plaintext listener.
    public var tlsCACert: String = "/etc/flexlb/certs/ca.crt"
    /// Directory of the durable store (`data_dir`; new). Created 0700.
    public var dataDir: String = "/var/lib/flexlb"
    /// Log level (`log_level`).
    public var logLevel: Logger.Level = .info
    /// Name of the cluster-endpoint instance (`cluster.name`; default `FLEXLB`); refused for writes.
    public var clusterName: String = "FLEXLB"
    /// Smallest VRRP virtual router id handed out (`keepalived.min_virtual_router_id`).
    public var minVirtualRouterID: Int = 1
    /// Largest VRRP virtual router id handed out (`keepalived.max_virtual_router_id`).
    public var maxVirtualRouterID: Int = 255
    /// Run keepalived and HAProxy for the stored instances (`data_plane.enabled`). With `false` the node
    /// serves the API and stores instances only (status stays `pending`).
    public var dataPlaneEnabled = true
    /// HAProxy binary (`haproxy.binary`).
    public var haproxyBinary = "/usr/sbin/haproxy"
    /// Check every create and modify with `haproxy -c` before storing it (`haproxy.check`).
    public var haproxyCheck = true
    /// User HAProxy's workers switch to after binding, chrooted into an empty directory (`haproxy.user`;
    /// 0.4's `haproxy.global.uid`). nil: `haproxy` when the node has that account (Debian's haproxy
    /// package creates it), else `nobody` with a warning. `root` keeps them root. See ``haproxyAccounts(workers:directory:)``.
    public var haproxyUser: String?
    /// Group of HAProxy's workers (`haproxy.group`); nil: `haproxy` with the `haproxy` account,
    /// `nogroup` with the `nobody` fallback, else the user's primary group.
    public var haproxyGroup: String?
    /// User `haproxy -c` runs tenants' configurations as when flexlbd is root (`haproxy.check_user`, a
    /// name or a numeric uid); nil: `nobody`. Never the workers' account.
    public var haproxyCheckUser: String?
    /// keepalived binary (`keepalived.binary`).
    public var keepalivedBinary = "/usr/sbin/keepalived"
    /// VRRP priority of this node (`keepalived.priority`, 1...255). The default 255 makes a single node the
    /// address owner, which takes a new VIP within milliseconds of a reload; clusters set distinct values below 255.
    public var vrrpPriority = 255
    /// Initial VRRP state (`keepalived.state`: `MASTER` for a single node or the preferred node, else `BACKUP`).
    public var vrrpInitialMaster = true
    /// VRRP advertisement interval in seconds (`keepalived.advert_int`; VRRPv3 allows sub-second).
    /// Default 1 s on a single node, 0.1 s in cluster mode (failover in 3 × 0.1 s + skew).
    public var vrrpAdvertInterval = 1.0
    /// Whether `keepalived.advert_int` was given (cluster mode otherwise defaults to 0.1 s).
    public var vrrpAdvertIntervalSet = false
    /// Cluster mode: let a node that returns take back the VIPs it ranks first for (`keepalived.preempt`).
    /// Default false (`nopreempt`): a failure costs one move, not two.
    public var vrrpPreempt = false
    /// Source address of unicast adverts (`keepalived.unicast_src_ip`).
    public var vrrpUnicastSourceIP: String?
    /// Unicast VRRP peers (`keepalived.unicast_peers`); empty means multicast.
    public var vrrpUnicastPeers: [String] = []
    /// Cluster mode (`cluster.advertize` set); nil runs a single node exactly as before.
    public var cluster: ClusterSettings?
    /// What VIPs, backends and check targets may be (`address_policy`).
    public var addressPolicy = AddressPolicy()
    /// Size limits (`limits`).
    public var limits = Limits()
    /// API connection limits and timeouts (`api`).
    public var connectionLimits = ConnectionLimits()
    /// Roles by client certificate common name (`roles`); nil: every certificate of the CA is an admin, as in 0.4.
    public var roles: Roles?
    /// Size-based rotation of keepalived's and HAProxy's logs in `data_dir/log` (`logs.max_bytes`, `logs.keep`).
    public var logRotation = LogRotationPolicy()

    /// How much one node and one instance may hold; a write past a limit is refused with 400 (or 409
    /// for the instance count) naming the limit.
    public struct Limits: Sendable, Equatable {
        /// Instances stored on the node (`limits.instances`).
        public var instances = 1000
        /// Endpoints of one instance (`limits.endpoints_per_instance`).
        public var endpointsPerInstance = 64
        /// Backend servers of one instance, over all its endpoints (`limits.servers_per_instance`).
        public var serversPerInstance = 1000
        public init() {}
    }

    /// Client roles. A certificate whose common name is listed under `admin` may do everything; under
    /// `read_only` only GETs; any other certificate of the CA is refused with 403.
    public struct Roles: Sendable, Equatable {
        public var admins: Set<String> = []
        public var readers: Set<String> = []
        public init() {}
    }

    /// Gossip settings. Keys keep FlexLB 0.4's names where they mean the same.
    public struct ClusterSettings: Sendable, Equatable {
        /// `host:port` this node gossips on, UDP and TCP (`cluster.advertize`, 0.4's spelling). Peers
        /// reach it there, so it must be an address of this node, not a wildcard.
        public var advertize: String
        /// Seeds to join through (`cluster.member`, comma-separated `host:port`s, as in 0.4).
        public var seeds: [String] = []
        /// Base64 AES keys (`cluster.secret_key`, then `cluster.secret_keys` for rotation): the first
        /// encrypts, every one decrypts. There is no default: cluster mode refuses to start without one.
        public var secretKeys: [String] = []
        /// SWIM probe interval in seconds (`cluster.probe_interval`).
        public var probeInterval: Double = 0.5
        /// Anti-entropy push/pull interval in seconds (`cluster.sync_interval`).
        public var syncInterval: Double = 2
        /// Gossip retransmit multiplier (`cluster.retransmit_mult`).
        public var retransmitMult: Int = 4
        /// How long tombstones are kept, in seconds (`cluster.tombstone_retention`; default 7 days).
        public var tombstoneRetention: Double = 7 * 24 * 3600
        /// VIP:port of the cluster API (`cluster.endpoint`, 0.4 key): the `cluster.name` instance.
        public var endpoint: String?
        /// Interface carrying the endpoint VIP (`cluster.endpoint_interface`); default: the interface
        /// with an address in the VIP's network.
        public var endpointInterface: String?

        public init(advertize: String) { self.advertize = advertize }
    }

    public init(name: String) {
        self.name = name
    }

    /// Path of the SQLite database.
    public var databasePath: String { (dataDir as NSString).appendingPathComponent("flexlb.db") }

    /// Loads and validates a configuration file.
    public static func load(path: String) throws -> NodeConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError("cannot read configuration file \(path): \(error.localizedDescription)")
        }
        return try parse(yaml: text, source: path)
    }

    /// Parses YAML text; `source` names it in errors.
    public static func parse(yaml: String, source: String = "config") throws -> NodeConfiguration {
        let node: Yams.Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigurationError("\(source): not valid YAML: \(error)")
        }
        var config = NodeConfiguration(name: ProcessInfo.processInfo.hostName)
        guard let node else { return config }
        let reader = KeyReader(source: source)
        try reader.mapping(node, path: "") { key, value, path in
            switch key {
            case "name": config.name = try reader.string(value, path, pattern: #"^[A-Za-z0-9\-_.]{1,64}$"#)
            case "tls_host": config.tlsHost = try reader.string(value, path)
            case "tls_port": config.tlsPort = try reader.int(value, path, in: 0...65535)
            case "tls_cert": config.tlsCert = try reader.string(value, path)
            case "tls_key": config.tlsKey = try reader.string(value, path)
            case "tls_ca_cert": config.tlsCACert = try reader.string(value, path)
            case "data_dir": config.dataDir = try reader.string(value, path)
            case "log_level":
                let level = try reader.string(value, path)
                guard let parsed = Logger.Level(rawValue: level) else {
                    throw reader.error(path, "must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                config.logLevel = parsed
            case "cluster":
                var settings = ClusterSettings(advertize: "")
                var clusterKeys: [String] = []
                try reader.mapping(value, path: path) { key, value, path in
                    if key != "name" { clusterKeys.append(path) }
                    switch key {
                    case "name": config.clusterName = try reader.string(value, path, pattern: #"^[A-Za-z0-9\-_.]{1,32}$"#)
                    case "advertize": settings.advertize = try reader.hostPort(value, path, wildcard: false)
                    case "member":
                        let text = value.scalar?.string ?? ""
                        let items = value.sequence.map { $0.map { $0.scalar?.string ?? "" } }
                            ?? text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                        settings.seeds = try items.enumerated().filter { !$1.isEmpty }.map { index, item in
                            try reader.hostPort(Yams.Node(item), "\(path)[\(index)]", wildcard: false)
                        }
                    case "secret_key": settings.secretKeys.insert(try reader.secretKey(value, path), at: 0)
                    case "secret_keys":
                        guard let items = value.sequence else { throw reader.error(path, "must be a list of base64 keys") }
                        settings.secretKeys += try items.enumerated().map { try reader.secretKey($1, "\(path)[\($0)]") }
                    case "probe_interval": settings.probeInterval = try reader.duration(value, path, in: 0.05...60)
                    case "sync_interval": settings.syncInterval = try reader.duration(value, path, in: 0.1...3600)
                    case "retransmit_mult": settings.retransmitMult = try reader.int(value, path, in: 1...16)
                    case "tombstone_retention": settings.tombstoneRetention = try reader.duration(value, path, in: 60...(365 * 24 * 3600))
                    case "endpoint": settings.endpoint = try reader.hostPort(value, path, wildcard: false)
                    case "endpoint_interface": settings.endpointInterface = try reader.string(value, path, pattern: #"^[A-Za-z0-9\-_.]{1,15}$"#)
                    default: throw reader.unknown(path)
                    }
                }
                if !clusterKeys.isEmpty {
                    guard !settings.advertize.isEmpty else {
                        throw reader.error("cluster.advertize", "is required for cluster mode (set because of \(clusterKeys.joined(separator: ", ")))")
                    }
                    guard !settings.secretKeys.isEmpty else {
                        throw reader.error(
                            "cluster.secret_key",
                            "is required for cluster mode: gossip is encrypted and there is no default key; generate one with `openssl rand -base64 32` and give every node the same"
                        )
                    }
                    config.cluster = settings
                }
            case "address_policy":
                try reader.mapping(value, path: path) { key, value, path in
                    switch key {
                    case "allow_loopback_vips": config.addressPolicy.allowLoopbackVIPs = try reader.bool(value, path)
                    case "allow_loopback_backends": config.addressPolicy.allowLoopbackBackends = try reader.bool(value, path)
                    case "allow_link_local_backends": config.addressPolicy.allowLinkLocalBackends = try reader.bool(value, path)
                    case "check_interfaces": config.addressPolicy.checkInterfaces = try reader.bool(value, path)
                    case "vip_ranges":
                        try reader.mapping(value, path: path) { interface, list, path in
                            guard let items = list.sequence else { throw reader.error(path, "must be a list of networks such as 10.0.0.0/24") }
                            config.addressPolicy.vipRanges[interface] = try items.enumerated().map { index, item in
                                guard let network = IPNetwork(try reader.string(item, "\(path)[\(index)]")) else {
                                    throw reader.error("\(path)[\(index)]", "must be a network such as 10.0.0.0/24")
                                }
                                return network
                            }
                        }
                    default: throw reader.unknown(path)
                    }
                }
            case "api":
                try reader.mapping(value, path: path) { key, value, path in
                    switch key {
                    case "max_connections": config.connectionLimits.maxConnections = try reader.int(value, path, in: 1...1_000_000)
                    case "handshake_timeout": config.connectionLimits.handshakeTimeout = try reader.duration(value, path, in: 0.1...600)
                    case "idle_timeout": config.connectionLimits.idleTimeout = try reader.duration(value, path, in: 0.1...3600)
                    case "request_head_timeout": config.connectionLimits.requestHeadTimeout = try reader.duration(value, path, in: 0.1...600)
                    default: throw reader.unknown(path)
                    }
                }
            case "limits":
                try reader.mapping(value, path: path) { key, value, path in
                    switch key {
                    case "instances": config.limits.instances = try reader.int(value, path, in: 1...100_000)
                    case "endpoints_per_instance": config.limits.endpointsPerInstance = try reader.int(value, path, in: 1...1000)
                    case "servers_per_instance": config.limits.serversPerInstance = try reader.int(value, path, in: 1...100_000)
                    default: throw reader.unknown(path)
                    }
                }
            case "roles":
                var roles = Roles()
                try reader.mapping(value, path: path) { key, value, path in
                    guard let items = value.sequence else { throw reader.error(path, "must be a list of certificate common names") }
                    let names = try items.enumerated().map { try reader.string($1, "\(path)[\($0)]") }
                    switch key {
                    case "admin": roles.admins.formUnion(names)
                    case "read_only": roles.readers.formUnion(names)
                    default: throw reader.unknown(path)
                    }
                }
                config.roles = roles
            case "logs":
                try reader.mapping(value, path: path) { key, value, path in
                    switch key {
                    case "max_bytes": config.logRotation.maxBytes = try reader.bytes(value, path, in: 4096...(1 << 40))
                    case "keep": config.logRotation.keep = try reader.int(value, path, in: 0...100)
                    default: throw reader.unknown(path)
                    }
                }
            case "data_plane":
                try reader.mapping(value, path: path) { key, value, path in
                    switch key {
                    case "enabled": config.dataPlaneEnabled = try reader.bool(value, path)
                    default: throw reader.unknown(path)
                    }
                }
            case "haproxy":
                try reader.mapping(value, path: path) { key, value, path in
                    switch key {
                    case "binary": config.haproxyBinary = try reader.string(value, path, pattern: "^/")
                    case "check": config.haproxyCheck = try reader.bool(value, path)
                    case "user": config.haproxyUser = try reader.string(value, path, pattern: #"^[a-z_][a-z0-9_-]{0,31}$"#)
                    case "group": config.haproxyGroup = try reader.string(value, path, pattern: #"^[a-z_][a-z0-9_-]{0,31}$"#)
                    case "check_user": config.haproxyCheckUser = try reader.string(value, path, pattern: #"^([a-z_][a-z0-9_-]{0,31}|[0-9]{1,10})$"#)
                    default: throw reader.unknown(path)
                    }
                }
            case "keepalived":
                try reader.mapping(value, path: path) { key, value, path in
                    switch key {
                    case "min_virtual_router_id": config.minVirtualRouterID = try reader.int(value, path, in: 1...255)
                    case "max_virtual_router_id": config.maxVirtualRouterID = try reader.int(value, path, in: 1...255)
                    case "binary": config.keepalivedBinary = try reader.string(value, path, pattern: "^/")
                    case "priority": config.vrrpPriority = try reader.int(value, path, in: 1...255)
                    case "state":
                        switch try reader.string(value, path) {
                        case "MASTER": config.vrrpInitialMaster = true
                        case "BACKUP": config.vrrpInitialMaster = false
                        default: throw reader.error(path, "must be MASTER or BACKUP")
                        }
                    case "advert_int":
                        guard let scalar = value.scalar, let seconds = Double(scalar.string), seconds >= 0.01, seconds <= 40.95 else {
                            throw reader.error(path, "must be a number of seconds in 0.01...40.95")
                        }
                        config.vrrpAdvertInterval = seconds
                        config.vrrpAdvertIntervalSet = true
                    case "preempt": config.vrrpPreempt = try reader.bool(value, path)
                    case "unicast_src_ip": config.vrrpUnicastSourceIP = try reader.ipAddress(value, path)
                    case "unicast_peers":
                        guard let items = value.sequence else { throw reader.error(path, "must be a list of IP addresses") }
                        config.vrrpUnicastPeers = try items.enumerated().map { try reader.ipAddress($1, "\(path)[\($0)]") }
                    default: throw reader.unknown(path)
                    }
                }
            default: throw reader.unknown(path)
            }
        }
        guard config.minVirtualRouterID <= config.maxVirtualRouterID else {
            throw reader.error("keepalived.min_virtual_router_id", "must not exceed keepalived.max_virtual_router_id")
        }
        do {
            try config.checkHAProxyAccountNames()
        } catch {
            throw ConfigurationError("\(source): \(error)")
        }
        return config
    }
}

/// A configuration problem; the message names the key.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Reads typed values out of a YAML tree, naming the key path in every error.
private struct KeyReader {
    var source: String

    func error(_ path: String, _ message: String) -> ConfigurationError {
        ConfigurationError("\(source): \(path): \(message)")
    }

    func unknown(_ path: String) -> ConfigurationError {
        ConfigurationError("\(source): unknown key \(path)")
    }

    func mapping(_ node: Yams.Node, path: String, _ body: (String, Yams.Node, String) throws -> Void) throws {
        guard let mapping = node.mapping else {
            throw error(path.isEmpty ? "(top level)" : path, "must be a mapping")
        }
        var seen = Set<String>()
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { throw error(path, "keys must be strings") }
            let full = path.isEmpty ? key : "\(path).\(key)"
            guard seen.insert(key).inserted else { throw error(full, "given twice") }
            try body(key, value, full)
        }
    }

    func string(_ node: Yams.Node, _ path: String, pattern: String? = nil) throws -> String {
        guard let scalar = node.scalar else { throw error(path, "must be a string") }
        let value = scalar.string
        guard !value.isEmpty else { throw error(path, "must not be empty") }
        guard value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            throw error(path, "must not contain control characters")
        }
        if let pattern, value.range(of: pattern, options: .regularExpression) == nil {
            throw error(path, "must match \(pattern)")
        }
        return value
    }

    func bool(_ node: Yams.Node, _ path: String) throws -> Bool {
        switch node.scalar?.string {
        case "true": true
        case "false": false
        default: throw error(path, "must be true or false")
        }
    }

    func ipAddress(_ node: Yams.Node, _ path: String) throws -> String {
        let value = try string(node, path)
        guard IPAddressText(value) != nil else { throw error(path, "must be an IP address") }
        return value
    }

    /// `host:port` (IPv6 as `[addr]:port`) with an IP address; no wildcard unless allowed.
    func hostPort(_ node: Yams.Node, _ path: String, wildcard: Bool) throws -> String {
        let value = try string(node, path)
        let host: Substring
        let port: Substring
        if value.hasPrefix("["), let close = value.firstIndex(of: "]") {
            host = value[value.index(after: value.startIndex)..<close]
            let rest = value[value.index(after: close)...]
            guard rest.hasPrefix(":") else { throw error(path, "must be host:port, IPv6 as [address]:port") }
            port = rest.dropFirst()
        } else {
            let parts = value.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw error(path, "must be host:port, IPv6 as [address]:port") }
            host = parts[0]
            port = parts[1]
        }
        guard let address = IPAddressText(String(host)) else { throw error(path, "\(host) is not an IP address") }
        guard let number = Int(port), (1...65535).contains(number) else { throw error(path, "port must be in 1...65535") }
        if !wildcard, address.canonical == "0.0.0.0" || address.canonical == "::" {
            throw error(path, "must be an address peers can reach, not a wildcard")
        }
        return value
    }

    /// A base64 AES key of 16, 24 or 32 bytes.
    func secretKey(_ node: Yams.Node, _ path: String) throws -> String {
        let value = try string(node, path)
        guard let bytes = Data(base64Encoded: value), [16, 24, 32].contains(bytes.count) else {
            throw error(path, "must be base64 of 16, 24 or 32 bytes (AES-128/192/256), e.g. from `openssl rand -base64 32`")
        }
        return value
    }

    /// Seconds as a number (`0.5`) or with a unit (`500ms`, `2s`, `1m`, `24h`).
    func duration(_ node: Yams.Node, _ path: String, in range: ClosedRange<Double>) throws -> Double {
        let text = try string(node, path)
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var seconds = Double(text)
        if seconds == nil, let unit = units.first(where: { text.hasSuffix($0.0) && Double(text.dropLast($0.0.count)) != nil }) {
            seconds = Double(text.dropLast(unit.0.count)).map { $0 * unit.1 }
        }
        guard let seconds, range.contains(seconds) else {
            throw error(path, "must be a duration in \(range.lowerBound)...\(range.upperBound) seconds (e.g. 500ms, 2s)")
        }
        return seconds
    }

    /// A size in bytes as a number (`1048576`) or with a binary unit (`64KiB`, `10MiB`, `1GiB`).
    func bytes(_ node: Yams.Node, _ path: String, in range: ClosedRange<Int64>) throws -> Int64 {
        let text = try string(node, path)
        let units: [(String, Int64)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30)]
        var value = Int64(text)
        if value == nil, let unit = units.first(where: { text.hasSuffix($0.0) }), let number = Int64(text.dropLast(unit.0.count)) {
            value = number.multipliedReportingOverflow(by: unit.1).overflow ? nil : number * unit.1
        }
        guard let value, range.contains(value) else {
            throw error(path, "must be a size in \(range.lowerBound)...\(range.upperBound) bytes, as a number or with KiB, MiB or GiB (e.g. 10MiB)")
        }
        return value
    }

    func int(_ node: Yams.Node, _ path: String, in range: ClosedRange<Int>) throws -> Int {
        guard let scalar = node.scalar, let value = Int(scalar.string) else {
            throw error(path, "must be an integer")
        }
        guard range.contains(value) else { throw error(path, "must be in \(range.lowerBound)...\(range.upperBound)") }
        return value
    }
}
