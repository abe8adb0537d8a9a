import ArgumentParser
import FlexLBAPI
import FlexLBClient

/// `flexlb instance …`: declare and inspect load-balancer instances.
struct InstanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "instance",
        abstract: "Create, modify, list, inspect, start, stop and delete instances.",
        subcommands: [Create.self, Modify.self, List.self, Get.self, Start.self, Stop.self, Delete.self]
    )

    /// `flexlb instance create -f FILE`.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Declare a new instance from an InstanceConfig file.")

        @Option(name: [.short, .customLong("file")], help: "InstanceConfig as JSON or YAML; - for standard input.")
        var file: String

        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let config = try InstanceInput.config(from: file)
            let created = try await connection.withClient { try await $0.create(config) }
            try output.printInstance(created)
        }
    }

    /// `flexlb instance modify -f FILE [--if-match ETAG]`.
    struct Modify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace an instance's configuration (the name is in the file).")

        @Option(name: [.short, .customLong("file")], help: "InstanceConfig as JSON or YAML; - for standard input.")
        var file: String

        @Option(help: "Apply only if the instance's ETag (from `get`) still matches.")
        var ifMatch: String?

        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let config = try InstanceInput.config(from: file)
            let modified = try await connection.withClient { try await $0.modify(config, ifMatch: ifMatch) }
            try output.printInstance(modified)
        }
    }

    /// `flexlb instance list [--name SUBSTR]`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List instances, sorted by name.")

        @Option(help: "Only instances whose name contains this substring.")
        var name: String?

        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let instances = try await connection.withClient { try await $0.list(nameContains: name) }
            try output.print(.array(instances.map(\.jsonValue))) { Table.instances(instances) }
        }
    }

    /// `flexlb instance get NAME`.
    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one instance and its ETag.")

        @Argument(help: "Instance name.")
        var name: String

        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let instance = try await connection.withClient { try await $0.get(name) }
            try output.printInstance(instance)
        }
    }

    /// `flexlb instance start NAME`.
    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set an instance's desired state to running (0.4: -resume).")

        @Argument(help: "Instance name.")
        var name: String

        @Option(help: "Apply only if the instance's ETag still matches.")
        var ifMatch: String?

        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let instance = try await connection.withClient { try await $0.start(name, ifMatch: ifMatch) }
            try output.printInstance(instance)
        }
    }

    /// `flexlb instance stop NAME`.
    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set an instance's desired state to stopped: VIP released, listeners closed, declaration kept (0.4: -pause).")

        @Argument(help: "Instance name.")
        var name: String

        @Option(help: "Apply only if the instance's ETag still matches.")
        var ifMatch: String?

        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let instance = try await connection.withClient { try await $0.stop(name, ifMatch: ifMatch) }
            try output.printInstance(instance)
        }
    }

    /// `flexlb instance delete NAME`.
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an instance.")

        @Argument(help: "Instance name.")
        var name: String

        @Option(help: "Apply only if the instance's ETag still matches.")
        var ifMatch: String?

        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await connection.withClient { try await $0.delete(name, ifMatch: ifMatch) }
            try output.print(Deleted(name: name).jsonValue) { "deleted \(name)\n" }
        }
    }
}

/// Reading an InstanceConfig from a file.
enum InstanceInput {
    /// Parses and validates `path` (JSON or YAML, `-` for stdin) as an InstanceConfig, reporting
    /// every violation with its JSON path, as the server would.
    static func config(from path: String) throws -> InstanceConfig {
        let json = try Documents.read(path)
        var violations: [Violation] = []
        guard let config = InstanceConfig.decode(json, at: .root, strict: true, violations: &violations),
            violations.isEmpty
        else {
            let name = path == "-" ? "standard input" : path
            let lines = violations.map { "\n  \($0.path): \($0.message)" }.joined()
            throw CLIError.input("\(name): not a valid InstanceConfig\(lines)")
        }
        return config
    }
}

extension OutputOptions {
    /// One instance: the table plus its ETag, or the server's JSON/YAML.
    func printInstance(_ instance: Versioned<Instance>) throws {
        try print(instance.value.jsonValue) {
            Table.instances([instance.value]) + (instance.etag.map { "\nETag: \($0)\n" } ?? "")
        }
    }
}
