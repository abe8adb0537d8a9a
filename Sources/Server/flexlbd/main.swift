import ArgumentParser
import FlexLBServer
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// flexlbd: the FlexLB node agent.
@main
struct FlexLBD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flexlbd",
        abstract: "FlexLB node agent: mTLS API, durable store, keepalived and HAProxy supervision.",
        version: FlexLBNode.version
    )

    @Option(name: .long, help: "Configuration file.")
    var config: String = "/etc/flexlb/config.yaml"

    @Flag(name: .long, help: "Validate the configuration and exit.")
    var checkConfig = false

    func run() async throws {
        // Everything flexlbd creates (database, WAL, rendered configs, PEM files) is private to root.
        umask(0o077)
        let configuration: NodeConfiguration
        do {
            configuration = try NodeConfiguration.load(path: config)
        } catch {
            FileHandle.standardError.write(Data("flexlbd: \(error)\n".utf8))
            throw ExitCode(2)
        }
        if checkConfig {
            print("configuration \(config) is valid")
            return
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = configuration.logLevel
            return handler
        }
        let logger = {
            var logger = Logger(label: "flexlbd")
            logger[metadataKey: "flexlb.node"] = "\(configuration.name)"
            return logger
        }()
        let node: FlexLBNode
        do {
            node = try FlexLBNode(configuration: configuration, logger: logger)
        } catch {
            logger.critical("startup failed", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
        let group = ServiceGroup(
            configuration: .init(
                services: node.services(onListening: { port in
                    logger.notice("listening", metadata: ["flexlb.address": "\(configuration.tlsHost):\(port)"])
                }).map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}
