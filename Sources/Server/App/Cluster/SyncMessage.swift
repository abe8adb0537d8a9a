import FlexLBCluster
import FlexLBModel

/// The TCP request/response bodies of cluster sync (inside the gossip transport's encrypted frames).
/// Versioned by their first byte; every count bounded; a body that does not decode is refused whole.
enum SyncRequest: Sendable {
    /// Anti-entropy and join: my members, the fingerprint of my digest, and the sequence of every
    /// node's observed report I hold. The answer carries the peer's members, its full digest only
    /// when the fingerprints differ, and the reports newer than mine: an idle exchange is small.
    case pushPull(members: [Membership.MemberState], fingerprint: UInt64, known: [String: UInt64])
    /// Records pushed to a peer: changes too large to piggyback, and what a push/pull found it lacks.
    case records([InstanceRecord])
    /// A node's observed state changed.
    case observed(ObservedReport)
    /// The records with these names (after a digest comparison).
    case fetch([String])
    /// Drain (true) or undrain (false) the receiving node; an operator's request relayed by another node.
    case drain(Bool)
}

enum SyncResponse: Sendable {
    case pushPull(members: [Membership.MemberState], digest: RecordDigest?, observed: [ObservedReport])
    case accepted
    case records([InstanceRecord])
}

extension SyncRequest {
    func encode() -> [UInt8] {
        var writer = BinaryWriter()
        writer.write(UInt8(1))  // format
        switch self {
        case .pushPull(let members, let fingerprint, let known):
            writer.write(UInt8(1))
            SyncCodec.write(members: members, into: &writer)
            writer.write(fingerprint)
            writer.write(UInt32(known.count))
            for (node, sequence) in known.sorted(by: { $0.key < $1.key }) {
                writer.write(node)
                writer.write(sequence)
            }
        case .records(let records):
            writer.write(UInt8(2))
            SyncCodec.write(records: records, into: &writer)
        case .observed(let report):
            writer.write(UInt8(3))
            report.encode(into: &writer)
        case .fetch(let names):
            writer.write(UInt8(4))
            writer.write(UInt32(names.count))
            for name in names { writer.write(name) }
        case .drain(let drained):
            writer.write(UInt8(5))
            writer.write(drained)
        }
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> SyncRequest {
        var reader = BinaryReader(bytes)
        try SyncCodec.checkFormat(&reader)
        let request: SyncRequest
        switch try reader.readUInt8() {
        case 1:
            let members = try SyncCodec.readMembers(&reader)
            let fingerprint = try reader.readUInt64()
            var known: [String: UInt64] = [:]
            for _ in 0..<(try reader.readCount(max: 10_000)) {
                let node = try reader.readString()
                known[node] = try reader.readUInt64()
            }
            request = .pushPull(members: members, fingerprint: fingerprint, known: known)
        case 2: request = .records(try SyncCodec.readRecords(&reader))
        case 3: request = .observed(try ObservedReport.decode(from: &reader))
        case 4: request = .fetch(try (0..<reader.readCount(max: 1_000_000)).map { _ in try reader.readString() })
        case 5: request = .drain(try reader.readBool())
        case let kind: throw DecodingFailure("unknown sync request \(kind)")
        }
        guard reader.isAtEnd else { throw DecodingFailure("trailing bytes in sync request") }
        return request
    }
}

extension SyncResponse {
    func encode() -> [UInt8] {
        var writer = BinaryWriter()
        writer.write(UInt8(1))
        switch self {
        case .pushPull(let members, let digest, let observed):
            writer.write(UInt8(1))
            SyncCodec.write(members: members, into: &writer)
            writer.write(digest != nil)
            digest?.encode(into: &writer)
            SyncCodec.write(reports: observed, into: &writer)
        case .accepted:
            writer.write(UInt8(2))
        case .records(let records):
            writer.write(UInt8(3))
            SyncCodec.write(records: records, into: &writer)
        }
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> SyncResponse {
        var reader = BinaryReader(bytes)
        try SyncCodec.checkFormat(&reader)
        let response: SyncResponse
        switch try reader.readUInt8() {
        case 1:
            let members = try SyncCodec.readMembers(&reader)
            let digest = try reader.readBool() ? try RecordDigest.decode(from: &reader) : nil
            response = .pushPull(members: members, digest: digest, observed: try SyncCodec.readReports(&reader))
        case 2: response = .accepted
        case 3: response = .records(try SyncCodec.readRecords(&reader))
        case let kind: throw DecodingFailure("unknown sync response \(kind)")
        }
        guard reader.isAtEnd else { throw DecodingFailure("trailing bytes in sync response") }
        return response
    }
}

enum SyncCodec {
    static func checkFormat(_ reader: inout BinaryReader) throws {
        let format = try reader.readUInt8()
        guard format == 1 else { throw DecodingFailure("unknown sync format \(format)") }
    }

    static func write(members: [Membership.MemberState], into writer: inout BinaryWriter) {
        writer.write(UInt32(members.count))
        for member in members {
            writer.write(member.name)
            writer.write(member.address)
            writer.write(bytes: member.metadata)
            writer.write(member.status.rawValue)
            writer.write(member.incarnation)
        }
    }

    static func readMembers(_ reader: inout BinaryReader) throws -> [Membership.MemberState] {
        try (0..<reader.readCount(max: 10_000)).map { _ in
            let name = try reader.readString()
            let address = try reader.readString()
            let metadata = try reader.readBytes()
            let raw = try reader.readUInt8()
            guard let status = Membership.Status(rawValue: raw) else { throw DecodingFailure("unknown member status \(raw)") }
            return Membership.MemberState(name: name, address: address, metadata: metadata, status: status, incarnation: try reader.readUInt64())
        }
    }

    static func write(records: [InstanceRecord], into writer: inout BinaryWriter) {
        writer.write(UInt32(records.count))
        for record in records { record.encode(into: &writer) }
    }

    static func readRecords(_ reader: inout BinaryReader) throws -> [InstanceRecord] {
        try (0..<reader.readCount(max: 1_000_000)).map { _ in try InstanceRecord.decode(from: &reader) }
    }

    static func write(reports: [ObservedReport], into writer: inout BinaryWriter) {
        writer.write(UInt32(reports.count))
        for report in reports { report.encode(into: &writer) }
    }

    static func readReports(_ reader: inout BinaryReader) throws -> [ObservedReport] {
        try (0..<reader.readCount(max: 10_000)).map { _ in try ObservedReport.decode(from: &reader) }
    }
}
