import FlexLBAPI
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
    /// keepalived binary (`keepalived.binary`).
    public var keepalivedBinary = "/usr/sbin/keepalived"
    /// VRRP priority of this node (`keepalived.priority`, 1...255). The default 255 makes a single node the
    /// address owner, which takes a new VIP within milliseconds of a reload; clusters set distinct values below 255.
    public var vrrpPriority = 255
    /// Initial VRRP state (`keepalived.state`: `MASTER` for a single node or the preferred node, else `BACKUP`).
    public var vrrpInitialMaster = true
    /// VRRP advertisement interval in seconds (`keepalived.advert_int`; VRRPv3 allows sub-second).
    public var vrrpAdvertInterval = 1.0
    /// Source address of unicast adverts (`keepalived.unicast_src_ip`).
    public var vrrpUnicastSourceIP: String?
    /// Unicast VRRP peers (`keepalived.unicast_peers`); empty means multicast.
    public var vrrpUnicastPeers: [String] = []

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
        var reader = KeyReader(source: source)
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
                try reader.mapping(value, path: path) { key, value, path in
                    switch key {
                    case "name": config.clusterName = try reader.string(value, path, pattern: #"^[A-Za-z0-9\-_.]{1,32}$"#)
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

    func int(_ node: Yams.Node, _ path: String, in range: ClosedRange<Int>) throws -> Int {
        guard let scalar = node.scalar, let value = Int(scalar.string) else {
            throw error(path, "must be an integer")
        }
        guard range.contains(value) else { throw error(path, "must be in \(range.lowerBound)...\(range.upperBound)") }
        return value
    }
}
