import FlexLBAPI
import Foundation
import Yams

/// Reading JSON or YAML input files and writing JSON or YAML output, through `JSONValue` so
/// that key order and integer types survive both ways.
enum Documents {
    /// Reads `path` (`-` for standard input) and parses it as JSON or YAML.
    ///
    /// JSON is tried first when the text starts with `{` or `[`; everything else is YAML (a
    /// superset of JSON). YAML scalars keep their resolved types: `8080` stays an integer and
    /// `"8080"` a string.
    static func read(_ path: String) throws -> JSONValue {
        let data: Data
        do {
            data = path == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CLIError.input("\(path): \(error.localizedDescription)")
        }
        let text = String(decoding: data, as: UTF8.self)
        let trimmed = text.drop { $0.isWhitespace }
        if trimmed.first == "{" || trimmed.first == "[", let json = try? JSONValue.parse(Array(data)) {
            return json
        }
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw CLIError.input("\(path): empty document")
            }
            return try jsonValue(of: node, path: path)
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError.input("\(path): not valid JSON or YAML: \(error)")
        }
    }

    /// Converts a composed YAML node to JSON.
    static func jsonValue(of node: Yams.Node, path: String) throws -> JSONValue {
        switch node {
        case .scalar(let scalar):
            switch node.tag.description {
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.bool.rawValue: return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case Tag.Name.int.rawValue: return node.int.map { .integer(Int64($0)) } ?? .string(scalar.string)
            case Tag.Name.float.rawValue: return node.float.map(JSONValue.number) ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        case .sequence(let sequence):
            return .array(try sequence.map { try jsonValue(of: $0, path: path) })
        case .mapping(let mapping):
            var object = JSONObject()
            for (key, value) in mapping {
                guard let name = key.string else {
                    throw CLIError.input("\(path): mapping keys must be strings")
                }
                object.set(name, try jsonValue(of: value, path: path))
            }
            return .object(object)
        case .alias:
            throw CLIError.input("\(path): YAML aliases are not supported")
        }
    }

    /// Indented JSON, keys in the order given, with a trailing newline.
    static func prettyJSON(_ value: JSONValue) -> String {
        var out = ""
        writeJSON(value, indent: "", into: &out)
        return out + "\n"
    }

    private static func writeJSON(_ value: JSONValue, indent: String, into out: inout String) {
        let inner = indent + "  "
        switch value {
        case .array(let items) where !items.isEmpty:
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += inner
                writeJSON(item, indent: inner, into: &out)
                out += i == items.count - 1 ? "\n" : ",\n"
            }
            out += indent + "]"
        case .object(let object) where !object.entries.isEmpty:
            out += "{\n"
            for (i, entry) in object.entries.enumerated() {
                out += inner + String(decoding: JSONValue.string(entry.key).serialized(), as: UTF8.self) + ": "
                writeJSON(entry.value, indent: inner, into: &out)
                out += i == object.entries.count - 1 ? "\n" : ",\n"
            }
            out += indent + "}"
        default:
            out += String(decoding: value.serialized(), as: UTF8.self)
        }
    }

    /// YAML, keys in the order given; strings that would read back as another type are quoted.
    static func yaml(_ value: JSONValue) throws -> String {
        try Yams.serialize(node: yamlNode(value), width: -1)
    }

    private static func yamlNode(_ value: JSONValue) -> Yams.Node {
        switch value {
        case .null: Yams.Node("null", Tag(.null))
        case .bool(let b): Yams.Node(b ? "true" : "false", Tag(.bool))
        case .integer(let i): Yams.Node(String(i), Tag(.int))
        case .number(let d): Yams.Node(String(d), Tag(.float))
        case .string(let s):
            // Quote strings that would read back as something else (empty → null, "8080" → int).
            Resolver.default.resolveTag(of: Yams.Node(s)) == .str && !s.isEmpty
                ? Yams.Node(s, Tag(.str)) : Yams.Node(s, Tag(.str), .doubleQuoted)
        case .array(let items): Yams.Node(items.map(yamlNode))
        case .object(let object): Yams.Node(object.entries.map { (Yams.Node($0.key, Tag(.str)), yamlNode($0.value)) })
        }
    }
}
