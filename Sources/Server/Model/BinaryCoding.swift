/// Big-endian binary writer for wire frames and stored blobs. No Foundation, no I/O.
public struct BinaryWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    public mutating func write(_ value: UInt8) { bytes.append(value) }
    public mutating func write(_ value: Bool) { bytes.append(value ? 1 : 0) }
    public mutating func write(_ value: UInt16) { writeInteger(value) }
    public mutating func write(_ value: UInt32) { writeInteger(value) }
    public mutating func write(_ value: UInt64) { writeInteger(value) }
    public mutating func write(_ value: Int64) { writeInteger(UInt64(bitPattern: value)) }

    /// A length-prefixed (UInt32) byte string.
    public mutating func write(bytes value: some Collection<UInt8>) {
        write(UInt32(value.count))
        bytes.append(contentsOf: value)
    }

    /// A length-prefixed UTF-8 string.
    public mutating func write(_ value: String) { write(bytes: Array(value.utf8)) }

    /// Raw bytes without a length.
    public mutating func append(raw value: some Collection<UInt8>) { bytes.append(contentsOf: value) }

    private mutating func writeInteger<T: FixedWidthInteger>(_ value: T) {
        var big = value.bigEndian
        withUnsafeBytes(of: &big) { bytes.append(contentsOf: $0) }
    }
}

/// Reads what ``BinaryWriter`` wrote; every read is bounds-checked and throws on truncated or
/// oversized input, so a hostile frame can fail but never crash or over-allocate.
public struct BinaryReader: Sendable {
    public let bytes: [UInt8]
    public private(set) var offset: Int
    /// Upper bound on any single length-prefixed field.
    public var maxFieldLength: Int

    public init(_ bytes: [UInt8], maxFieldLength: Int = 16 << 20) {
        self.bytes = bytes
        self.offset = 0
        self.maxFieldLength = maxFieldLength
    }

    public var remaining: Int { bytes.count - offset }
    public var isAtEnd: Bool { offset == bytes.count }

    public mutating func readUInt8() throws(DecodingFailure) -> UInt8 {
        guard remaining >= 1 else { throw DecodingFailure("truncated at byte \(offset)") }
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func readBool() throws(DecodingFailure) -> Bool {
        switch try readUInt8() {
        case 0: return false
        case 1: return true
        case let other: throw DecodingFailure("invalid boolean \(other) at byte \(offset - 1)")
        }
    }

    public mutating func readUInt16() throws(DecodingFailure) -> UInt16 { try readInteger() }
    public mutating func readUInt32() throws(DecodingFailure) -> UInt32 { try readInteger() }
    public mutating func readUInt64() throws(DecodingFailure) -> UInt64 { try readInteger() }
    public mutating func readInt64() throws(DecodingFailure) -> Int64 { Int64(bitPattern: try readInteger() as UInt64) }

    public mutating func readBytes() throws(DecodingFailure) -> [UInt8] {
        let count = Int(try readUInt32())
        guard count <= maxFieldLength else { throw DecodingFailure("field of \(count) bytes exceeds \(maxFieldLength)") }
        return try readRaw(count: count)
    }

    public mutating func readString() throws(DecodingFailure) -> String {
        let raw = try readBytes()
        guard let text = String(validating: raw, as: UTF8.self) else { throw DecodingFailure("invalid UTF-8 at byte \(offset)") }
        return text
    }

    public mutating func readRaw(count: Int) throws(DecodingFailure) -> [UInt8] {
        guard count >= 0, remaining >= count else { throw DecodingFailure("truncated: need \(count) bytes at byte \(offset)") }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// A count of following items, bounded so a hostile count cannot make the reader allocate.
    public mutating func readCount(max: Int = 1 << 20) throws(DecodingFailure) -> Int {
        let count = Int(try readUInt32())
        guard count <= max else { throw DecodingFailure("count \(count) exceeds \(max)") }
        return count
    }

    private mutating func readInteger<T: FixedWidthInteger>() throws(DecodingFailure) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw DecodingFailure("truncated at byte \(offset)") }
        var value: T = 0
        for i in 0..<size { value = (value << 8) | T(bytes[offset + i]) }
        offset += size
        return value
    }
}

/// Input that does not decode: truncated, oversized or malformed.
public struct DecodingFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
