public import FlexLBModel

// MARK: - Datagram codec

extension Membership.Message {
    /// Format version, the first byte of every encoded message.
    public static let formatVersion: UInt8 = 1
    /// Largest length-prefixed field a datagram may carry (a datagram is at most 64 KiB).
    static let maxField = 1 << 16
    /// Most piggybacked items one datagram may claim to carry.
    static let maxItems = 4096

    private enum Kind: UInt8 {
        case ping = 1, pingRequest = 2, ack = 3, nack = 4, gossip = 5
    }

    /// The binary form: version byte, kind byte, big-endian fields, length-prefixed strings.
    public func encode() -> [UInt8] {
        var writer = BinaryWriter(capacity: 256)
        writer.write(Self.formatVersion)
        switch self {
        case let .ping(sequence, target, piggyback):
            writer.write(Kind.ping.rawValue)
            writer.write(sequence)
            writer.write(target)
            Self.write(piggyback, to: &writer)
        case let .pingRequest(sequence, target, targetAddress, piggyback):
            writer.write(Kind.pingRequest.rawValue)
            writer.write(sequence)
            writer.write(target)
            writer.write(targetAddress)
            Self.write(piggyback, to: &writer)
        case let .ack(sequence, piggyback):
            writer.write(Kind.ack.rawValue)
            writer.write(sequence)
            Self.write(piggyback, to: &writer)
        case let .nack(sequence):
            writer.write(Kind.nack.rawValue)
            writer.write(sequence)
        case let .gossip(piggyback):
            writer.write(Kind.gossip.rawValue)
            Self.write(piggyback, to: &writer)
        }
        return writer.bytes
    }

    /// Decodes one datagram. Truncated, oversized, trailing or unknown input throws; nothing is
    /// allocated beyond what the input's own length allows.
    public static func decode(_ bytes: [UInt8]) throws(DecodingFailure) -> Self {
        var reader = BinaryReader(bytes, maxFieldLength: maxField)
        let version = try reader.readUInt8()
        guard version == formatVersion else { throw DecodingFailure("unsupported membership format version \(version)") }
        let rawKind = try reader.readUInt8()
        guard let kind = Kind(rawValue: rawKind) else { throw DecodingFailure("unknown membership message kind \(rawKind)") }
        let message: Self
        switch kind {
        case .ping:
            let sequence = try reader.readUInt64()
            let target = try reader.readString()
            message = .ping(sequence: sequence, target: target, piggyback: try readPiggyback(&reader))
        case .pingRequest:
            let sequence = try reader.readUInt64()
            let target = try reader.readString()
            let address = try reader.readString()
            message = .pingRequest(sequence: sequence, target: target, targetAddress: address, piggyback: try readPiggyback(&reader))
        case .ack:
            let sequence = try reader.readUInt64()
            message = .ack(sequence: sequence, piggyback: try readPiggyback(&reader))
        case .nack:
            message = .nack(sequence: try reader.readUInt64())
        case .gossip:
            message = .gossip(try readPiggyback(&reader))
        }
        guard reader.isAtEnd else { throw DecodingFailure("\(reader.remaining) trailing bytes after membership message") }
        return message
    }

    private static func write(_ piggyback: [Membership.Gossip], to writer: inout BinaryWriter) {
        writer.write(UInt32(piggyback.count))
        for item in piggyback { item.write(to: &writer) }
    }

    private static func readPiggyback(_ reader: inout BinaryReader) throws(DecodingFailure) -> [Membership.Gossip] {
        let count = try reader.readCount(max: maxItems)
        var items: [Membership.Gossip] = []
        // Each item takes at least one byte, so the count is also bounded by the input length.
        guard count <= reader.remaining else { throw DecodingFailure("piggyback count \(count) exceeds input") }
        items.reserveCapacity(count)
        for _ in 0..<count { items.append(try Membership.Gossip.read(from: &reader)) }
        return items
    }
}

// MARK: - Piggybacked items

extension Membership.Gossip {
    private enum Tag: UInt8 { case member = 1, broadcast = 2 }

    func write(to writer: inout BinaryWriter) {
        switch self {
        case let .member(state, reporter):
            writer.write(Tag.member.rawValue)
            state.write(to: &writer)
            writer.write(reporter)
        case let .broadcast(broadcast):
            writer.write(Tag.broadcast.rawValue)
            writer.write(broadcast.key)
            writer.write(bytes: broadcast.payload)
            writer.write(broadcast.origin)
            writer.write(broadcast.sequence)
        }
    }

    static func read(from reader: inout BinaryReader) throws(DecodingFailure) -> Self {
        let raw = try reader.readUInt8()
        switch Tag(rawValue: raw) {
        case .member:
            let state = try Membership.MemberState.read(from: &reader)
            return .member(state, reporter: try reader.readString())
        case .broadcast:
            let key = try reader.readString()
            let payload = try reader.readBytes()
            let origin = try reader.readString()
            let sequence = try reader.readUInt64()
            return .broadcast(Membership.AppBroadcast(key: key, payload: payload, origin: origin, sequence: sequence))
        case nil:
            throw DecodingFailure("unknown gossip tag \(raw)")
        }
    }

    /// Bytes this item takes inside a message.
    var encodedSize: Int {
        var writer = BinaryWriter()
        write(to: &writer)
        return writer.bytes.count
    }
}

// MARK: - Member states and the push/pull frame

extension Membership.MemberState {
    func write(to writer: inout BinaryWriter) {
        writer.write(name)
        writer.write(address)
        writer.write(bytes: metadata)
        writer.write(status.rawValue)
        writer.write(incarnation)
    }

    static func read(from reader: inout BinaryReader) throws(DecodingFailure) -> Self {
        let name = try reader.readString()
        let address = try reader.readString()
        let metadata = try reader.readBytes()
        let raw = try reader.readUInt8()
        guard let status = Membership.Status(rawValue: raw) else { throw DecodingFailure("unknown member status \(raw)") }
        let incarnation = try reader.readUInt64()
        return Self(name: name, address: address, metadata: metadata, status: status, incarnation: incarnation)
    }

    /// Encodes a push/pull payload (``Membership/Instance/pushPullState()``) for the TCP exchange:
    /// version byte, count, states.
    public static func encodeList(_ states: [Self]) -> [UInt8] {
        var writer = BinaryWriter(capacity: states.count * 64)
        writer.write(Membership.Message.formatVersion)
        writer.write(UInt32(states.count))
        for state in states { state.write(to: &writer) }
        return writer.bytes
    }

    /// Decodes what ``encodeList(_:)`` wrote; hostile input throws.
    public static func decodeList(_ bytes: [UInt8], maxMembers: Int = 65_536) throws(DecodingFailure) -> [Self] {
        var reader = BinaryReader(bytes, maxFieldLength: Membership.Message.maxField)
        let version = try reader.readUInt8()
        guard version == Membership.Message.formatVersion else { throw DecodingFailure("unsupported push/pull format version \(version)") }
        let count = try reader.readCount(max: maxMembers)
        guard count <= reader.remaining else { throw DecodingFailure("member count \(count) exceeds input") }
        var states: [Self] = []
        states.reserveCapacity(count)
        for _ in 0..<count { states.append(try read(from: &reader)) }
        guard reader.isAtEnd else { throw DecodingFailure("\(reader.remaining) trailing bytes after push/pull states") }
        return states
    }
}
