import ArgumentParser
import FlexLBAPI
import FlexLBClient

/// `flexlb node list|drain|undrain`: the cluster's members and planned VIP moves.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "List cluster members; drain a node before maintenance and undrain it after.",
        subcommands: [List.self, Drain.self, Undrain.self]
    )

    /// `flexlb node list`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every member: state, drained, API address, incarnation.")

        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let nodes = try await connection.withClient { try await $0.nodes() }
            try output.print(.array(nodes.map(\.jsonValue))) { Table.nodes(nodes) }
        }
    }

    /// `flexlb node drain NODE`.
    struct Drain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move every VIP off NODE (priority-0 handover to the next node); HAProxy keeps serving open connections.")

        @Argument(help: "Node name.")
        var name: String

        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let node = try await connection.withClient { try await $0.drainNode(name) }
            try output.print(node.jsonValue) { Table.nodes([node]) }
        }
    }

    /// `flexlb node undrain NODE`.
    struct Undrain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put NODE back into service as a VIP candidate (VIPs do not move back by themselves).")

        @Argument(help: "Node name.")
        var name: String

        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let node = try await connection.withClient { try await $0.undrainNode(name) }
            try output.print(node.jsonValue) { Table.nodes([node]) }
        }
    }
}

extension Table {
    /// Members as a table.
    static func nodes(_ nodes: [Node]) -> String {
        render(
            header: ["NODE", "STATE", "DRAINED", "API ADDRESS", "INCARNATION"],
            rows: nodes.sorted { $0.name < $1.name }.map { node in
                [
                    node.name + (node.isSelf == true ? " (*)" : ""),
                    node.state.rawValue,
                    node.drained == true ? "yes" : "no",
                    node.apiAddress ?? "-",
                    node.incarnation.map(String.init) ?? "-",
                ]
            }
        )
    }
}
