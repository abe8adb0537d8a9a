import ArgumentParser
import FlexLBAPI
import FlexLBClient

/// `flexlb status`: readiness of the cluster (FlexLB 0.4's `-status`) and its nodes.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each node's readiness (0.4's readyz map) and the known nodes.")

    @OptionGroup var output: OutputOptions
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let (readyz, nodes) = try await connection.withClient { client in
            (try await client.readyz(), try await client.nodes())
        }
        var readyzObject = JSONObject()
        for (name, state) in readyz.sorted(by: { $0.key < $1.key }) {
            readyzObject.set(name, .string(state.rawValue))
        }
        let document = JSONValue.object(JSONObject([
            ("readyz", .object(readyzObject)),
            ("nodes", .array(nodes.map(\.jsonValue))),
        ]))
        try output.print(document) {
            let known = Set(nodes.map(\.name))
            var rows = nodes.sorted { $0.name < $1.name }.map { node in
                [
                    node.name + (node.isSelf == true ? " (*)" : ""),
                    readyz[node.name]?.rawValue ?? node.readiness?.rawValue ?? node.state.rawValue,
                    node.apiAddress ?? "-",
                    node.version ?? "-",
                ]
            }
            // Nodes in the readiness map that the answering node does not list.
            rows += readyz.keys.filter { !known.contains($0) }.sorted().map { [$0, readyz[$0]!.rawValue, "-", "-"] }
            return Table.render(header: ["NODE", "STATE", "API ADDRESS", "VERSION"], rows: rows)
        }
    }
}
