import FlexLBCluster
import FlexLBModel

/// The TCP request/response bodies of cluster sync (inside the gossip transport's encrypted frames).
/// Versioned by their first byte; every count bounded; a body that does not decode is refused whole.
enum SyncRequest: Sendable {
    /// Anti-entropy and join: my members, my digest and my node's observed state. The answer
    /// carries the peer's, plus every record it holds newer than mine.
    case pushPull(members: [Membership.MemberState], digest: RecordDigest, observed: [ObservedReport])
    /// Records pushed to a peer: changes too large to piggyback, and what a push/pull found it lacks.
    case records([InstanceRecord])
    /// A node's observed state changed.
    case observed(ObservedReport)
}

enum SyncResponse: Sendable {
    case pushPull(members: [Membership.MemberState], digest: RecordDigest, records: [InstanceRecord], observed: [ObservedReport])
    case accepted
}

extension SyncRequest {
    func encode() -> [UInt8] {
        var writer = BinaryWriter()
        writer.write(UInt8(1))  // format
        switch self {
        case .pushPull(let members, let digest, let observed):
            writer.write(UInt8(1))
            SyncCodec.write(members: members, into: &writer)
            digest.encode(into: &writer)
            SyncCodec.write(reports: observed, into: &writer)
        case .records(let records):
            writer.write(UInt8(2))
            SyncCodec.write(records: records, into: &writer)
        case .observed(let report):
            writer.write(UInt8(3))
            report.encode(into: &writer)
        }
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> SyncRequest {
        var reader = BinaryReader(bytes)
        try SyncCodec.checkFormat(&reader)
        let request: SyncRequest
        switch try reader.readUInt8() {
        case 1:
            request = .pushPull(
                members: try SyncCodec.readMembers(&reader),
                digest: try RecordDigest.decode(from: &reader),
                observed: try SyncCodec.readReports(&reader)
            )
        case 2: request = .records(try SyncCodec.readRecords(&reader))
        case 3: request = .observed(try ObservedReport.decode(from: &reader))
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
        case .pushPull(let members, let digest, let records, let observed):
            writer.write(UInt8(1))
            SyncCodec.write(members: members, into: &writer)
            digest.encode(into: &writer)
            SyncCodec.write(records: records, into: &writer)
            SyncCodec.write(reports: observed, into: &writer)
        case .accepted:
            writer.write(UInt8(2))
        }
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> SyncResponse {
        var reader = BinaryReader(bytes)
        try SyncCodec.checkFormat(&reader)
        let response: SyncResponse
        switch try reader.readUInt8() {
        case 1:
            response = .pushPull(
                members: try SyncCodec.readMembers(&reader),
                digest: try RecordDigest.decode(from: &reader),
                records: try SyncCodec.readRecords(&reader),
                observed: try SyncCodec.readReports(&reader)
            )
        case 2: response = .accepted
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
