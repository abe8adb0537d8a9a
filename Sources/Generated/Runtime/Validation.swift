import Foundation

/// One violated constraint, with the JSON path of the offending value (`$.endpoints[0].frontend_port`).
public struct Violation: Sendable, Hashable, Codable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// A request or response that violated the schema; carries every violation found.
public struct ValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var violations: [Violation]

    public init(_ violations: [Violation]) {
        self.violations = violations
    }

    public var description: String { violations.map(\.description).joined(separator: "; ") }
}

/// A JSON path under construction while decoding.
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    public private(set) var description: String

    public static let root = JSONPath(description: "$")

    private init(description: String) {
        self.description = description
    }

    /// The root of a request parameter's path, e.g. `path.name`, `query.name`, `header.If-Match`.
    public static func parameter(_ location: String, _ name: String) -> JSONPath {
        JSONPath(description: location).appending(key: name)
    }

    public func appending(key: String) -> JSONPath {
        let plain = !key.isEmpty && key.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2D
        }
        if plain { return JSONPath(description: description + "." + key) }
        let escaped = key.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
        return JSONPath(description: description + "['" + escaped + "']")
    }

    public func appending(index: Int) -> JSONPath {
        JSONPath(description: description + "[\(index)]")
    }
}

/// A type generated from a schema in openapi.yaml.
public protocol JSONModel: Sendable {
    /// Decodes and validates `json`, appending every violation (with its path) to `violations`.
    /// Returns nil when any violation was found in this value.
    /// - Parameter strict: reject properties the schema does not name where it says
    ///   `additionalProperties: false` (the server is strict; clients reading responses are not).
    static func decode(_ json: JSONValue, at path: JSONPath, strict: Bool, violations: inout [Violation]) -> Self?

    /// The JSON form, properties in schema order, optional properties left out when nil.
    var jsonValue: JSONValue { get }
}

extension JSONModel {
    /// Parses and validates UTF-8 JSON.
    public static func decode(jsonBytes: [UInt8], strict: Bool = true) throws(ValidationError) -> Self {
        let json = try JSONValue.parse(jsonBytes)
        var violations: [Violation] = []
        guard let value = decode(json, at: .root, strict: strict, violations: &violations), violations.isEmpty else {
            throw ValidationError(violations.isEmpty ? [Violation(path: "$", message: "invalid value")] : violations)
        }
        return value
    }

    /// Compact JSON bytes.
    public func jsonBytes() -> [UInt8] { jsonValue.serialized() }
}
