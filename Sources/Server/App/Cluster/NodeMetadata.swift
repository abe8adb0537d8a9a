import FlexLBModel

/// What a node publishes to the others through membership: where its API is, its version, and its
/// addresses per network (interface name → canonical `address/prefix`), so peers can render VRRP
/// peers and the cluster endpoint from membership alone.
struct NodeMetadata: Sendable, Hashable {
    var apiAddress: String
    var version: String
    var addresses: [String: [String]]
    /// Drained by the operator: its VIPs are on other nodes.
    var drained: Bool = false

    func encode() -> [UInt8] {
        var writer = BinaryWriter()
        writer.write(UInt8(1))
        writer.write(apiAddress)
        writer.write(version)
        writer.write(UInt32(addresses.count))
        for (network, list) in addresses.sorted(by: { $0.key < $1.key }) {
            writer.write(network)
            writer.write(UInt32(list.count))
            for address in list { writer.write(address) }
        }
        writer.write(drained)
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(DecodingFailure) -> NodeMetadata {
        var reader = BinaryReader(bytes, maxFieldLength: 4096)
        let format = try reader.readUInt8()
        guard format == 1 else { throw DecodingFailure("unknown metadata format \(format)") }
        let api = try reader.readString()
        let version = try reader.readString()
        var addresses: [String: [String]] = [:]
        for _ in 0..<(try reader.readCount(max: 256)) {
            let network = try reader.readString()
            var list: [String] = []
            for _ in 0..<(try reader.readCount(max: 256)) { list.append(try reader.readString()) }
            addresses[network] = list
        }
        let drained = try reader.readBool()
        return NodeMetadata(apiAddress: api, version: version, addresses: addresses, drained: drained)
    }
}
