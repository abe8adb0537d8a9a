import FlexLBAPI
import FlexLBDataPlane
import FlexLBModel
import FlexLBRender
import FlexLBStore
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

/// The composition root: turns a ``NodeConfiguration`` into the services of one flexlbd node.
/// Tests boot it in-process; `flexlbd` runs it until SIGTERM.
public struct FlexLBNode: Sendable {
    /// flexlbd's version, reported by the nodes API.
    public static let version = "0.5.0-dev"

    public let configuration: NodeConfiguration
    public let store: SQLiteStateStore
    public let tls: ServerTLSContext
    /// The data plane, when `data_plane.enabled`.
    public let reconciler: Reconciler?
    /// Rotates keepalived's and HAProxy's logs, when `data_plane.enabled`.
    let logRotator: LogRotator?
    /// What the data plane observes (also for tests and benchmarks).
    public let observed: ObservedStatus
    /// Gossip with the other nodes, in cluster mode.
    let cluster: ClusterService?
    /// The accounts of HAProxy's workers and of `haproxy -c`, resolved on this node.
    let haproxyAccounts: HAProxyAccounts
    private let logger: Logger

    /// Opens the store (creating `data_dir` 0700) and loads the certificates; fails with a clear
    /// message when either is unusable.
    public init(configuration: NodeConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        Self.raiseDescriptorLimit()
        try Self.prepareDataDirectory(configuration.dataDir)
        let accounts = try configuration.haproxyAccounts(workers: configuration.dataPlaneEnabled)
        for warning in accounts.warnings { logger.warning("\(warning)") }
        self.haproxyAccounts = accounts
        // With a cluster endpoint, the highest VRID is reserved for it.
        let endpointVRID = configuration.cluster?.endpoint == nil ? nil : configuration.maxVirtualRouterID
        let instanceVRIDs = configuration.minVirtualRouterID...max(
            configuration.minVirtualRouterID, configuration.maxVirtualRouterID - (endpointVRID == nil ? 0 : 1)
        )
        self.store = try SQLiteStateStore(path: configuration.databasePath, nodeName: configuration.name, virtualRouterIDs: instanceVRIDs)
        do {
            self.tls = try ServerTLSContext(files: .init(
                certificateChain: configuration.tlsCert,
                privateKey: configuration.tlsKey,
                clientCA: configuration.tlsCACert
            ))
        } catch {
            throw ConfigurationError("cannot load TLS files (tls_cert, tls_key, tls_ca_cert): \(error)")
        }
        self.observed = ObservedStatus()
        if let settings = configuration.cluster {
            // A node's own addresses, not the VIPs it holds now (a restarted flexlbd finds its running
            // keepalived's VIPs, or a killed one's, on the interfaces): peers would otherwise take a VIP
            // for this node's address, and keep using it after the VIP's instance is deleted.
            let vips = Set(((try? store.liveVIPs()) ?? []).compactMap { IPAddressText($0)?.canonical })
            let addresses = InterfaceAddresses.published().mapValues { list in
                list.filter { !vips.contains(IPAddressText(Subnet.address(ofCIDR: $0))?.canonical ?? $0) }
            }
            do {
                self.cluster = try ClusterService(
                    settings: settings,
                    nodeName: configuration.name,
                    store: store,
                    observed: configuration.dataPlaneEnabled ? observed : nil,
                    metadata: NodeMetadata(apiAddress: Self.apiAddress(configuration), version: Self.version, addresses: addresses),
                    dataDir: configuration.dataDir,
                    clusterName: configuration.clusterName,
                    endpoint: try endpointVRID.map { try Self.endpoint(settings, vrid: $0, addresses: addresses) },
                    logger: logger
                )
            } catch let error as ConfigurationError {
                throw error
            } catch {
                throw ConfigurationError("cluster: \(error)")
            }
        } else {
            self.cluster = nil
        }
        if configuration.dataPlaneEnabled {
            for (key, binary) in [("haproxy.binary", configuration.haproxyBinary), ("keepalived.binary", configuration.keepalivedBinary)]
            where !FileManager.default.isExecutableFile(atPath: binary) {
                throw ConfigurationError("\(key): \(binary) is not an executable (install it, or set data_plane.enabled: false)")
            }
            var node = NodeSettings(
                routerID: configuration.name,
                priority: configuration.vrrpPriority,
                initialStateMaster: configuration.vrrpInitialMaster,
                advertInterval: configuration.vrrpAdvertInterval,
                unicastSourceIP: configuration.vrrpUnicastSourceIP,
                unicastPeers: configuration.vrrpUnicastPeers
            )
            if cluster != nil {
                // Priorities, peers and health files come from membership (VRRPGroupPlan); every
                // node starts as BACKUP and, by default, does not preempt.
                node.initialStateMaster = false
                node.priority = 100
                node.noPreempt = !configuration.vrrpPreempt
                if !configuration.vrrpAdvertIntervalSet { node.advertInterval = 0.1 }
            }
            var settings = DataPlaneSettings(
                dataDir: configuration.dataDir,
                haproxyBinary: configuration.haproxyBinary,
                keepalivedBinary: configuration.keepalivedBinary,
                node: node
            )
            settings.haproxyPrivileges = accounts.workers.map { ($0.user, $0.group) }
            let reconciler = Reconciler(
                store: store,
                settings: settings,
                observed: observed,
                topology: cluster,
                // Tenant text is parsed unprivileged and bounded before it is applied, whether or not
                // the API checks writes (records from peers were checked on another node only).
                configCheck: Self.configCheck(configuration, accounts),
                logger: logger
            )
            cluster?.setDrainHook { reconciler.poke() }
            self.reconciler = reconciler
            self.logRotator = LogRotator(settings: settings, policy: configuration.logRotation, logger: logger)
        } else {
            self.reconciler = nil
            self.logRotator = nil
        }
    }

    /// Resolves `cluster.endpoint` to the interface and prefix of this node's address in its network.
    static func endpoint(_ settings: NodeConfiguration.ClusterSettings, vrid: Int, addresses: [String: [String]]) throws -> ClusterService.EndpointSettings {
        guard let text = settings.endpoint, let (host, port) = ClusterService.split(text) else {
            throw ConfigurationError("cluster.endpoint: must be address:port")
        }
        let family4 = Subnet.parse(host)?.count == 4
        for (interface, list) in addresses.sorted(by: { $0.key < $1.key }) where settings.endpointInterface == nil || settings.endpointInterface == interface {
            for cidr in list {
                if let subnet = Subnet(cidr: cidr), subnet.isIPv4 == family4, subnet.contains(host), Subnet.address(ofCIDR: cidr) != host {
                    return .init(address: host, port: port, interface: interface, prefixLength: subnet.prefixLength, virtualRouterID: vrid)
                }
            }
        }
        if let interface = settings.endpointInterface {
            return .init(address: host, port: port, interface: interface, prefixLength: family4 ? 32 : 128, virtualRouterID: vrid)
        }
        throw ConfigurationError("cluster.endpoint: no interface of this node has an address in the network of \(host); set cluster.endpoint_interface")
    }

    /// `haproxy -c` as the check account, never the workers'.
    static func configCheck(_ configuration: NodeConfiguration, _ accounts: HAProxyAccounts) -> HAProxyConfigCheck {
        HAProxyConfigCheck(haproxyBinary: configuration.haproxyBinary, unprivilegedUID: accounts.check.uid, unprivilegedGID: accounts.check.gid)
    }

    /// The API address other nodes and clients use: `tls_host:tls_port`.
    static func apiAddress(_ configuration: NodeConfiguration) -> String {
        configuration.tlsHost.contains(":") ? "[\(configuration.tlsHost)]:\(configuration.tlsPort)" : "\(configuration.tlsHost):\(configuration.tlsPort)"
    }

    /// The services to run: the mTLS API server and the SIGHUP certificate reloader.
    /// - Parameter onListening: called with the bound port once the server listens.
    public func services(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> [any Service] {
        let identity = InstanceHandler.NodeIdentity(
            name: configuration.name,
            apiAddress: Self.apiAddress(configuration),
            version: Self.version
        )
        let handler = InstanceHandler(
            store: store,
            node: identity,
            clusterInstanceName: configuration.clusterName,
            now: { Int64(Date().timeIntervalSince1970 * 1000) },
            observed: reconciler == nil ? nil : observed,
            configCheck: configuration.haproxyCheck && FileManager.default.isExecutableFile(atPath: configuration.haproxyBinary)
                ? Self.configCheck(configuration, haproxyAccounts) : nil,
            cluster: cluster.map { $0 as any ClusterView } ?? SingleNodeView(node: Node(
                name: identity.name, apiAddress: identity.apiAddress, state: .alive, readiness: .ready,
                isSelf: true, version: identity.version
            )),
            conflicts: ListenerConflicts(store: store),
            policy: InstanceHandler.WritePolicy(
                addresses: configuration.addressPolicy,
                limits: configuration.limits,
                dataPlaneEnabled: configuration.dataPlaneEnabled,
                nodeAddresses: {
                    let addresses = Set(InterfaceAddresses.current().compactMap { IPAddressText($0.address)?.canonical })
                    return ({ name in name.withCString { if_nametoindex($0) } != 0 }, addresses)
                }
            ),
            logger: logger
        )
        let connections = ConnectionRegistry(limits: configuration.connectionLimits)
        let app = Application(
            responder: APIResponder(router: APIRouter(handler: handler), roles: configuration.roles, logger: logger),
            server: .mutualTLS(tls, registry: connections),
            configuration: .init(
                address: .hostname(configuration.tlsHost, port: configuration.tlsPort),
                serverName: "flexlbd"
            ),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        var services: [any Service] = [app, CertificateReloader(tls: tls, logger: logger)]
        if let reconciler { services.append(reconciler) }
        if let logRotator { services.append(logRotator) }
        if let cluster { services.append(cluster) }
        return services
    }

    /// The soft descriptor limit up to the hard one: the connection cap, not the kernel, should be
    /// what turns clients away.
    private static func raiseDescriptorLimit() {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    }

    private static func prepareDataDirectory(_ path: String) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw ConfigurationError("data_dir \(path) is not a directory") }
        } else {
            try fm.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        try fm.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
    }
}

/// Reloads the server certificate, key and client CA on SIGHUP; a bad file keeps the old ones.
struct CertificateReloader: Service {
    let tls: ServerTLSContext
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: [.sighup])
        for await _ in signals.cancelOnGracefulShutdown() {
            do {
                try tls.reload()
                logger.notice("reloaded TLS certificates")
            } catch {
                logger.error("TLS reload failed; keeping the previous certificates", metadata: ["error": "\(error)"])
            }
        }
    }
}
