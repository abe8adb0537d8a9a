import FlexLBClient
import FlexLBKube
import Logging
import Synchronization

/// One FlexLBClient per distinct endpoint list (a FlexLBCluster's, or the flags'), created on
/// first use with mutual TLS and server verification.
final class FlexLBConnections: Sendable {
    private let settings: ControllerSettings
    private let logger: Logger
    private let clients = Mutex<[[String]: FlexLBClient]>([:])

    init(settings: ControllerSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    /// The client for `cluster`.
    func client(for cluster: FlexLBClusterResource) async throws -> FlexLBClient {
        let texts = settings.flexlbEndpoints.isEmpty ? cluster.spec.allEndpoints : settings.flexlbEndpoints
        guard !texts.isEmpty else {
            throw FlexLBError(kind: .configuration, message: "FlexLBCluster \(cluster.metadata.key) has no spec.endpoint")
        }
        if let existing = clients.withLock({ $0[texts] }) { return existing }
        let configuration = HTTPClientTransport.Configuration(
            endpoints: try texts.map { try APIEndpoint(parsing: $0) },
            caFile: settings.flexlbCAFile, certificateFile: settings.flexlbCertificateFile, privateKeyFile: settings.flexlbKeyFile,
            timeout: settings.flexlbTimeout, connectTimeout: min(settings.flexlbTimeout, .seconds(3)), maxRetries: 1)
        let client = try FlexLBClient(configuration: configuration, logger: logger)
        let (kept, extra) = clients.withLock { clients -> (FlexLBClient, FlexLBClient?) in
            if let raced = clients[texts] { return (raced, client) }
            clients[texts] = client
            return (client, nil)
        }
        if let extra { try? await extra.shutdown() }
        return kept
    }

    /// Shuts every client down.
    func shutdown() async {
        let all = clients.withLock { clients in
            defer { clients = [:] }
            return Array(clients.values)
        }
        for client in all { try? await client.shutdown() }
    }
}
