import ArgumentParser
import FlexLBClient
import Foundation

/// How the CLI reaches flexlbd: shared by every command that talks to a server.
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: .customLong("endpoint"),
        help: ArgumentHelp(
            "flexlbd API URL, https://host:port (repeatable or comma-separated; tried in order with failover).",
            discussion: "Default: $FLEXLB_ENDPOINT, else https://127.0.0.1:8443."))
    var endpoints: [String] = []

    @Option(help: ArgumentHelp("CA certificate (PEM) that signed the server certificates.", discussion: "Default: $FLEXLB_CA, else ~/.flexlb/ca.crt."))
    var ca: String?

    @Option(help: ArgumentHelp("Client certificate (PEM).", discussion: "Default: $FLEXLB_CERT, else ~/.flexlb/client.crt."))
    var cert: String?

    @Option(help: ArgumentHelp("Client private key (PEM).", discussion: "Default: $FLEXLB_KEY, else ~/.flexlb/client.key."))
    var key: String?

    @Flag(help: "Do not verify the server certificate (debugging only: anyone on the path can impersonate the server).")
    var insecureSkipVerify = false

    @Option(help: "Timeout of one request attempt, in seconds.")
    var timeout: Double = 10

    func validate() throws {
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be between 0 and 3600 seconds") }
    }

    /// The transport configuration after applying environment variables and defaults.
    func transportConfiguration(environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> HTTPClientTransport.Configuration
    {
        var texts = endpoints
        if texts.isEmpty, let fromEnvironment = environment["FLEXLB_ENDPOINT"], !fromEnvironment.isEmpty {
            texts = [fromEnvironment]
        }
        let parsed = try texts.flatMap { $0.split(separator: ",") }.map { try APIEndpoint(parsing: String($0)) }
        let home = environment["HOME"] ?? NSHomeDirectory()
        func file(_ flag: String?, _ option: String, _ variable: String, _ defaultName: String, required: Bool) throws -> String? {
            if let flag { return expandTilde(flag) }
            if let value = environment[variable], !value.isEmpty { return expandTilde(value) }
            let path = home + "/.flexlb/" + defaultName
            if FileManager.default.fileExists(atPath: path) { return path }
            guard required else { return nil }
            throw CLIError.configuration(
                "no \(defaultName): pass \(option) or set \(variable), or create ~/.flexlb with `flexlb certs init --dir ~/.flexlb`")
        }
        return HTTPClientTransport.Configuration(
            endpoints: parsed.isEmpty ? [.default] : parsed,
            caFile: try file(ca, "--ca", "FLEXLB_CA", "ca.crt", required: !insecureSkipVerify),
            certificateFile: try file(cert, "--cert", "FLEXLB_CERT", "client.crt", required: true),
            privateKeyFile: try file(key, "--key", "FLEXLB_KEY", "client.key", required: true),
            insecureSkipVerify: insecureSkipVerify,
            timeout: .milliseconds(Int64(timeout * 1000)),
            connectTimeout: .milliseconds(Int64(min(timeout, 3) * 1000))
        )
    }

    /// Connects, runs `body`, and shuts the client down whatever happens.
    func withClient<T>(_ body: (FlexLBClient) async throws -> T) async throws -> T {
        let client = try FlexLBClient(configuration: transportConfiguration())
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
