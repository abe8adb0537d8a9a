import FlexLBAPI
import FlexLBModel
import Synchronization

/// One node's view of every instance: soft state that travels by gossip, never stored, and forgotten
/// when the node is dead or gone. `sequence` orders reports of one node (a restart starts from its
/// start time in milliseconds, so it never goes back).
struct ObservedReport: Sendable, Hashable {
    var node: String
    var sequence: UInt64
    var statuses: [String: NodeInstanceStatus]
    /// False when the node runs no data plane: it then reports nothing per instance, and readers
    /// show every instance as pending there (saves sending the whole instance list on every write).
    var dataPlane: Bool = true

    func encode(into writer: inout BinaryWriter) {
        writer.write(UInt8(1))
        writer.write(node)
        writer.write(sequence)
        writer.write(dataPlane)
        writer.write(UInt32(statuses.count))
        for (name, status) in statuses.sorted(by: { $0.key < $1.key }) {
            writer.write(name)
            writer.write(bytes: status.jsonBytes())
        }
    }

    static func decode(from reader: inout BinaryReader) throws -> ObservedReport {
        let format = try reader.readUInt8()
        guard format == 1 else { throw DecodingFailure("unknown report format \(format)") }
        let node = try reader.readString()
        let sequence = try reader.readUInt64()
        let dataPlane = try reader.readBool()
        var statuses: [String: NodeInstanceStatus] = [:]
        for _ in 0..<(try reader.readCount(max: 100_000)) {
            let name = try reader.readString()
            statuses[name] = try NodeInstanceStatus.decode(jsonBytes: try reader.readBytes(), strict: false)
        }
        return ObservedReport(node: node, sequence: sequence, statuses: statuses, dataPlane: dataPlane)
    }
}

/// The latest report of every other node.
final class RemoteObservations: Sendable {
    private let reports = Mutex<[String: ObservedReport]>([:])

    /// Keeps `report` if it is newer than what is held; returns whether it was.
    @discardableResult
    func offer(_ report: ObservedReport) -> Bool {
        reports.withLock { reports in
            if let held = reports[report.node], held.sequence >= report.sequence { return false }
            reports[report.node] = report
            return true
        }
    }

    func all() -> [ObservedReport] { reports.withLock { Array($0.values) } }

    /// Statuses of `instance` from the nodes in `nodes`.
    func status(of instance: String, from nodes: Set<String>) -> [String: NodeInstanceStatus] {
        reports.withLock { reports in
            var result: [String: NodeInstanceStatus] = [:]
            for (node, report) in reports where nodes.contains(node) {
                if let status = report.statuses[instance] {
                    result[node] = status
                } else if !report.dataPlane {
                    result[node] = NodeInstanceStatus(state: .pending, vip: .unknown, message: "data plane disabled on this node")
                }
            }
            return result
        }
    }

    func forget(_ node: String) { _ = reports.withLock { $0.removeValue(forKey: node) } }
}
