import ArgumentParser
import FlexLBKube
import FlexLBKubeController
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `flexlb-kube-controller`: gives Kubernetes LoadBalancer Services external IPs from FlexLB pools.
@main
struct ControllerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flexlb-kube-controller",
        abstract: "Kubernetes controller: LoadBalancer Services get VIPs from FlexLB IP pools and FlexLB instances carry their traffic.")

    @Option(help: "kubeconfig file (default: $KUBECONFIG, else the in-cluster service account).")
    var kubeconfig: String?

    @Option(help: "kubeconfig context (default: its current-context).")
    var context: String?

    @Option(help: "Namespace of the FlexLBClusters and the leader Lease (default: the service account's or the context's, else flexlb-system).")
    var namespace: String?

    @Option(help: "This replica's identity in the Lease (default: $POD_NAME, else the host name and pid).")
    var identity: String?

    @Flag(inversion: .prefixedNo, help: "Elect a leader with a coordination.k8s.io/v1 Lease (run several replicas).")
    var leaderElect = true

    @Option(help: "Seconds a lease stays valid without renewal.")
    var leaseDuration: Int = 15
    @Option(help: "Seconds a leader keeps acting without a successful renewal (< lease-duration).")
    var renewDeadline: Int = 10
    @Option(help: "Seconds between lease attempts.")
    var retryPeriod: Int = 2

    @Option(help: "Seconds between full resyncs (FlexLB 0.4's --refresh-interval).")
    var refreshInterval: Int = 60

    @Option(help: "Concurrent reconciles.")
    var workers: Int = 4

    @Option(help: "Seconds a released address waits before reuse.")
    var quarantine: Int = 300

    @Flag(help: "Ignore LoadBalancer Services without spec.loadBalancerClass (default: handle them).")
    var ignoreUnsetClass = false

    @Option(name: .customLong("flexlb-endpoint"), help: "FlexLB API URL (repeatable); overrides the FlexLBClusters' spec.endpoint.")
    var flexlbEndpoints: [String] = []

    @Option(name: .customLong("tls-ca-cert"), help: "CA certificate of the FlexLB API (env FLEXLB_TLS_CA_CERT).")
    var tlsCACert: String?
    @Option(name: .customLong("tls-client-cert"), help: "Client certificate for the FlexLB API (env FLEXLB_TLS_CLIENT_CERT).")
    var tlsClientCert: String?
    @Option(name: .customLong("tls-client-key"), help: "Client key for the FlexLB API (env FLEXLB_TLS_CLIENT_KEY).")
    var tlsClientKey: String?

    @Option(help: "Timeout of one FlexLB API attempt, in seconds.")
    var flexlbTimeout: Int = 10

    @Option(help: "trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func validate() throws {
        guard renewDeadline < leaseDuration, retryPeriod < renewDeadline else {
            throw ValidationError("need retry-period < renew-deadline < lease-duration")
        }
        guard refreshInterval > 0, workers > 0, quarantine >= 0, flexlbTimeout > 0 else {
            throw ValidationError("intervals, workers and timeouts must be positive")
        }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "flexlb.kube")

        let connection: KubeConnection
        if let path = kubeconfig ?? environment["KUBECONFIG"].flatMap({ $0.isEmpty ? nil : $0 }) {
            connection = try KubeConfigLoader.load(path: path, context: context)
        } else {
            connection = try KubeConfigLoader.inCluster(environment: environment)
        }
        let tls = (
            ca: tlsCACert ?? environment["FLEXLB_TLS_CA_CERT"], cert: tlsClientCert ?? environment["FLEXLB_TLS_CLIENT_CERT"],
            key: tlsClientKey ?? environment["FLEXLB_TLS_CLIENT_KEY"]
        )
        guard tls.ca != nil, tls.cert != nil, tls.key != nil else {
            throw ValidationError("the FlexLB API needs mutual TLS: pass --tls-ca-cert, --tls-client-cert and --tls-client-key (or FLEXLB_TLS_*)")
        }
        var settings = ControllerSettings(
            namespace: namespace ?? connection.namespace ?? "flexlb-system",
            identity: identity ?? environment["POD_NAME"] ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())")
        settings.leaderElect = leaderElect
        settings.leaseDuration = .seconds(leaseDuration)
        settings.renewDeadline = .seconds(renewDeadline)
        settings.retryPeriod = .seconds(retryPeriod)
        settings.resyncPeriod = .seconds(refreshInterval)
        settings.workers = workers
        settings.quarantine = .seconds(quarantine)
        settings.handleUnsetClass = !ignoreUnsetClass
        settings.flexlbEndpoints = flexlbEndpoints.flatMap { $0.split(separator: ",").map(String.init) }
        settings.flexlbCAFile = tls.ca
        settings.flexlbCertificateFile = tls.cert
        settings.flexlbKeyFile = tls.key
        settings.flexlbTimeout = .seconds(flexlbTimeout)

        let kube = try KubeClient(connection: connection, logger: logger)
        let controller = KubeController(settings: settings, kube: kube, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: controller)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        logger.notice("starting", metadata: ["kube.server": "\(connection.server)", "kube.namespace": "\(settings.namespace)", "kube.identity": "\(settings.identity)"])
        do {
            try await group.run()
        } catch {
            try? await kube.shutdown()
            throw error
        }
        try await kube.shutdown()
    }
}
