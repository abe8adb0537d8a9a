import Foundation

/// A JSON document of unknown shape: free-form fields of Kubernetes objects (a FlexLBInstance's
/// `spec.config`, merge patches) that the controller passes through rather than models.
public enum KubeJSON: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case integer(Int64)
    case string(String)
    case array([KubeJSON])
    case object([String: KubeJSON])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let i = try? c.decode(Int64.self) { self = .integer(i); return }
        if let d = try? c.decode(Double.self) { self = .number(d); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([KubeJSON].self) { self = .array(a); return }
        self = .object(try c.decode([String: KubeJSON].self))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let d): try c.encode(d)
        case .integer(let i): try c.encode(i)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// Parses JSON bytes.
    public static func parse(_ data: Data) throws -> KubeJSON {
        try JSONDecoder().decode(KubeJSON.self, from: data)
    }

    /// Compact JSON with sorted keys (deterministic, so equal documents compare byte for byte).
    public func serialized() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data("null".utf8)
    }

    /// The value at `key` of an object, nil otherwise.
    public subscript(key: String) -> KubeJSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// The string, if this is one.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// Converts any encodable value (a model) into a document.
    public static func from(_ value: some Encodable) throws -> KubeJSON {
        try parse(try JSONEncoder().encode(value))
    }
}
