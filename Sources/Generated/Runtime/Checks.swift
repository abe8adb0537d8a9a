#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A `pattern` from openapi.yaml, compiled once (generated code keeps each in a `static let`).
///
/// A string matches only if the WHOLE string matches: `$` in ICU also matches before a final
/// newline, so the match range is compared with the full string as well.
public struct SchemaPattern: @unchecked Sendable {
    public let source: String
    private let regex: NSRegularExpression?

    public init(_ source: String) {
        self.source = source
        self.regex = try? NSRegularExpression(pattern: source, options: [])
    }

    public func matches(_ string: String) -> Bool {
        guard let regex else { return false }
        let ns = string as NSString
        let full = NSRange(location: 0, length: ns.length)
        guard let match = regex.firstMatch(in: string, options: [.anchored], range: full) else { return false }
        return match.range == full
    }
}

/// Integer formats from openapi.yaml.
public enum IntegerFormat: Sendable {
    case int32, int64
}

/// Validation primitives called by the generated `decode(_:at:strict:violations:)` functions.
/// Each appends violations (never stops at the first) and returns nil when the value is unusable.
///
/// Lengths (`minLength`/`maxLength`) count Unicode scalars (code points), as JSON Schema does.
public enum Checks {
    public typealias Decoder<T> = (JSONValue, JSONPath, inout [Violation]) -> T?

    static func typeMismatch(_ expected: String, _ json: JSONValue, _ path: JSONPath, _ v: inout [Violation]) {
        v.append(Violation(path: path.description, message: "expected \(expected), got \(json.typeName)"))
    }

    /// The object at `path`, or a type violation.
    public static func object(_ json: JSONValue, at path: JSONPath, _ v: inout [Violation]) -> JSONObject? {
        guard case .object(let object) = json else { typeMismatch("object", json, path, &v); return nil }
        return object
    }

    /// One violation per key not in `known` ("unknown property").
    public static func rejectUnknown(_ object: JSONObject, known: Set<String>, at path: JSONPath, _ v: inout [Violation]) {
        for key in object.keys where !known.contains(key) {
            v.append(Violation(path: path.appending(key: key).description, message: "unknown property"))
        }
    }

    /// A required property: missing (or null) is "is required".
    public static func required<T>(
        _ object: JSONObject, _ key: String, at path: JSONPath, _ v: inout [Violation], _ decode: Decoder<T>
    ) -> T? {
        let p = path.appending(key: key)
        guard let json = object[key], json != .null else {
            v.append(Violation(path: p.description, message: "is required"))
            return nil
        }
        return decode(json, p, &v)
    }

    /// An optional property: missing or null is nil.
    public static func optional<T>(
        _ object: JSONObject, _ key: String, at path: JSONPath, _ v: inout [Violation], _ decode: Decoder<T>
    ) -> T? {
        guard let json = object[key], json != .null else { return nil }
        return decode(json, path.appending(key: key), &v)
    }

    public static func string(
        _ json: JSONValue, at path: JSONPath, minLength: Int = 0, maxLength: Int? = nil,
        pattern: SchemaPattern? = nil, ip: Bool = false, _ v: inout [Violation]
    ) -> String? {
        guard case .string(let s) = json else { typeMismatch("string", json, path, &v); return nil }
        let before = v.count
        let length = s.unicodeScalars.count
        if length < minLength {
            v.append(Violation(path: path.description, message: "must be at least \(minLength) characters long"))
        }
        if let maxLength, length > maxLength {
            v.append(Violation(path: path.description, message: "must be at most \(maxLength) characters long"))
        }
        if let pattern, !pattern.matches(s) {
            v.append(Violation(path: path.description, message: "must match \(pattern.source)"))
        }
        if ip, !isIPAddress(s) {
            v.append(Violation(path: path.description, message: "is not a valid IP address"))
        }
        return v.count == before ? s : nil
    }

    public static func integer(
        _ json: JSONValue, at path: JSONPath, minimum: Int64? = nil, maximum: Int64? = nil,
        format: IntegerFormat = .int64, _ v: inout [Violation]
    ) -> Int? {
        guard case .integer(let i) = json else { typeMismatch("integer", json, path, &v); return nil }
        let before = v.count
        if format == .int32, i < Int64(Int32.min) || i > Int64(Int32.max) {
            v.append(Violation(path: path.description, message: "must be a 32-bit integer"))
        }
        if let minimum, i < minimum { v.append(Violation(path: path.description, message: "must be >= \(minimum)")) }
        if let maximum, i > maximum { v.append(Violation(path: path.description, message: "must be <= \(maximum)")) }
        return v.count == before ? Int(i) : nil
    }

    /// A `format: int64` integer, as `Int64`.
    public static func int64(
        _ json: JSONValue, at path: JSONPath, minimum: Int64? = nil, maximum: Int64? = nil, _ v: inout [Violation]
    ) -> Int64? {
        integer(json, at: path, minimum: minimum, maximum: maximum, format: .int64, &v).map { Int64($0) }
    }

    public static func number(_ json: JSONValue, at path: JSONPath, _ v: inout [Violation]) -> Double? {
        switch json {
        case .integer(let i): return Double(i)
        case .number(let d): return d
        default: typeMismatch("number", json, path, &v); return nil
        }
    }

    public static func bool(_ json: JSONValue, at path: JSONPath, _ v: inout [Violation]) -> Bool? {
        guard case .bool(let b) = json else { typeMismatch("boolean", json, path, &v); return nil }
        return b
    }

    /// An array; `maxItems` is checked before any element is decoded.
    public static func array<T>(
        _ json: JSONValue, at path: JSONPath, minItems: Int = 0, maxItems: Int? = nil,
        _ v: inout [Violation], _ element: Decoder<T>
    ) -> [T]? {
        guard case .array(let items) = json else { typeMismatch("array", json, path, &v); return nil }
        if let maxItems, items.count > maxItems {
            v.append(Violation(path: path.description, message: "must have at most \(maxItems) items"))
            return nil
        }
        let before = v.count
        if items.count < minItems {
            v.append(Violation(path: path.description, message: "must have at least \(minItems) items"))
        }
        var result: [T] = []
        result.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            if let value = element(item, path.appending(index: index), &v) { result.append(value) }
        }
        return v.count == before ? result : nil
    }

    /// An object used as a map (`additionalProperties: <schema>`).
    public static func map<T>(_ json: JSONValue, at path: JSONPath, _ v: inout [Violation], _ value: Decoder<T>) -> [String: T]? {
        guard let object = object(json, at: path, &v) else { return nil }
        let before = v.count
        var result: [String: T] = [:]
        for (key, item) in object.entries {
            if let decoded = value(item, path.appending(key: key), &v) { result[key] = decoded }
        }
        return v.count == before ? result : nil
    }

    /// Encodes a map with its keys sorted, so output is deterministic.
    public static func encodeMap<T>(_ map: [String: T], _ encode: (T) -> JSONValue) -> JSONValue {
        .object(JSONObject(map.sorted { $0.key < $1.key }.map { ($0.key, encode($0.value)) }))
    }

    /// A textual IPv4 or IPv6 address as accepted by `inet_pton`: no zone, no whitespace.
    public static func isIPAddress(_ s: String) -> Bool {
        IPAddressText(s) != nil
    }
}

/// String enums generated from openapi.yaml decode and encode through this.
public protocol JSONStringEnum: JSONModel, RawRepresentable, CaseIterable, Hashable where RawValue == String {}

extension JSONStringEnum {
    public static func decode(_ json: JSONValue, at path: JSONPath, strict: Bool, violations: inout [Violation]) -> Self? {
        guard case .string(let s) = json else {
            Checks.typeMismatch("string", json, path, &violations)
            return nil
        }
        guard let value = Self(rawValue: s) else {
            let allowed = allCases.map(\.rawValue).joined(separator: ", ")
            violations.append(Violation(path: path.description, message: "must be one of \(allowed)"))
            return nil
        }
        return value
    }

    public var jsonValue: JSONValue { .string(rawValue) }
}
