import ArgumentParser
import FlexLBAPI

/// How results are printed.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    /// A human-readable table.
    case table
    /// The JSON the server sent, indented.
    case json
    /// The same document as YAML.
    case yaml
}

/// `-o table|json|yaml`, shared by commands that print results.
struct OutputOptions: ParsableArguments {
    @Option(name: [.customShort("o"), .customLong("output")], help: "Output format: table, json or yaml.")
    var format: OutputFormat = .table

    /// Prints `value` as JSON or YAML, or `table()` for the table format.
    func print(_ value: JSONValue, table: () -> String) throws {
        switch format {
        case .table: Swift.print(table(), terminator: "")
        case .json: Swift.print(Documents.prettyJSON(value), terminator: "")
        case .yaml: Swift.print(try Documents.yaml(value), terminator: "")
        }
    }
}

/// Plain-text tables with left-aligned columns.
enum Table {
    /// Renders `rows` under `header`, columns separated by three spaces.
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        var out = ""
        for row in all {
            var line = ""
            for (column, cell) in row.enumerated() {
                line += column == row.count - 1 ? cell : cell.padding(toWidth: widths[column] + 3)
            }
            out += line + "\n"
        }
        return out
    }

    /// NAME, ID, VIP, PORTS, DESIRED, STATUS: one line per instance.
    static func instances(_ instances: [Instance]) -> String {
        render(
            header: ["NAME", "ID", "VIP", "PORTS", "DESIRED", "STATUS"],
            rows: instances.map { instance in
                let config = instance.config
                return [
                    config.name,
                    String(instance.id),
                    "\(config.frontendIpaddress)/\(config.frontendNetPrefix)",
                    config.endpoints.map { "\($0.frontendPort)/\($0.mode.rawValue)" }.joined(separator: ","),
                    instance.desiredState.rawValue,
                    status(instance.status),
                ]
            })
    }

    /// `up` when every node agrees, else `node=state` pairs sorted by node; `-` when no node reported.
    static func status(_ status: [String: InstanceState]) -> String {
        let states = Set(status.values)
        if status.isEmpty { return "-" }
        if states.count == 1, let only = states.first { return "\(only.rawValue) (\(status.count)/\(status.count))" }
        return status.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.rawValue)" }.joined(separator: ",")
    }
}

extension String {
    fileprivate func padding(toWidth width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
