import FlexLBCerts
import FlexLBServer
import Logging
import ServiceLifecycle
import Synchronization

/// flexlbd running in this test process: its services in a group, and the API port it bound.
struct InProcessNode {
    struct NotListening: Error, CustomStringConvertible {
        var description: String { "flexlbd did not start listening" }
    }

    let port: Int
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    /// A node on 127.0.0.1 with a free port, its certificates (from `certs`, made for localhost) and
    /// data under `directory`, data plane and `haproxy -c` off.
    static func configuration(name: String, certs: CertificateDirectory, directory: String) throws -> NodeConfiguration {
        _ = try certs.initialize(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
        var configuration = NodeConfiguration(name: name)
        configuration.tlsHost = "127.0.0.1"
        configuration.tlsPort = 0
        configuration.tlsCert = certs.file("server.crt")
        configuration.tlsKey = certs.file("server.key")
        configuration.tlsCACert = certs.file("ca.crt")
        configuration.dataDir = directory + "/data"
        configuration.dataPlaneEnabled = false
        configuration.haproxyCheck = false
        return configuration
    }

    /// Starts a node from `configuration` (warnings and worse logged) and waits until its API listens.
    static func start(_ configuration: NodeConfiguration, within timeout: Duration) async throws -> InProcessNode {
        var logger = Logger(label: configuration.name)
        logger.logLevel = .warning
        let node = try FlexLBNode(configuration: configuration, logger: logger)
        let port = Mutex<Int?>(nil)
        let group = ServiceGroup(configuration: .init(
            services: node.services(onListening: { bound in port.withLock { $0 = bound } }).map { .init(service: $0) },
            logger: logger
        ))
        let running = Task { try await group.run() }
        let deadline = ContinuousClock.now + timeout
        while true {
            if let bound = port.withLock({ $0 }) { return InProcessNode(port: bound, group: group, running: running) }
            guard ContinuousClock.now < deadline else {
                running.cancel()
                throw NotListening()
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Graceful shutdown, without waiting (on a failure path).
    func stop() async { await group.triggerGracefulShutdown() }

    /// Graceful shutdown; throws what the services threw.
    func shutdown() async throws {
        await group.triggerGracefulShutdown()
        try await running.value
    }

    /// Last resort when a test leaves early.
    func cancel() { running.cancel() }
}
