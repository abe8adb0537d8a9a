/// The small intermediate model between OpenAPIKit's document and the Swift text.
/// Everything the renderers need is resolved here: names, constraints, defaults, docs.

/// A generator finding; collected, never thrown.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable { case warning, error }
    public var severity: Severity
    public var message: String
    /// Where in the spec (e.g. `#/components/schemas/Endpoint/properties/mode`).
    public var location: String

    public init(_ severity: Severity, _ message: String, at location: String) {
        self.severity = severity
        self.message = message
        self.location = location
    }

    public var description: String { "\(severity.rawValue): \(location): \(message)" }
}

/// A value type of the generated code and how to validate it.
indirect enum IRType: Hashable, Sendable {
    case string(StringRules)
    case integer(IntegerRules)
    case number
    case boolean
    /// A generated (or runtime) struct, or a string enum: decodes with `T.decode`, encodes with `.jsonValue`.
    case model(swiftName: String)
    case array(IRType, minItems: Int, maxItems: Int?)
    case map(IRType)
    /// A named typealias of an underlying type (e.g. `ReadyzMap`).
    case alias(swiftName: String, IRType)
}

struct StringRules: Hashable, Sendable {
    var minLength = 0
    var maxLength: Int?
    var pattern: String?
    var ip = false
}

struct IntegerRules: Hashable, Sendable {
    var minimum: Int?
    var maximum: Int?
    var int32 = false
    /// `format: int64` → Swift `Int64`; otherwise `Int`.
    var int64 = false
}

/// A literal default value from the spec.
enum IRLiteral: Hashable, Sendable {
    case string(String)
    case integer(Int)
    case bool(Bool)
    case double(Double)
    /// An enum case (Swift case name).
    case enumCase(String)
}

struct IRProperty: Hashable, Sendable {
    var jsonName: String
    var swiftName: String
    var doc: String?
    var type: IRType
    var required: Bool
    var defaultValue: IRLiteral?
}

struct IREnum: Hashable, Sendable {
    var swiftName: String
    var doc: String?
    /// (Swift case name, raw value)
    var cases: [(name: String, raw: String)]

    static func == (a: IREnum, b: IREnum) -> Bool {
        a.swiftName == b.swiftName && a.doc == b.doc && a.cases.map(\.name) == b.cases.map(\.name)
            && a.cases.map(\.raw) == b.cases.map(\.raw)
    }
    func hash(into h: inout Hasher) { h.combine(swiftName) }
}

struct IRStruct: Hashable, Sendable {
    var swiftName: String
    var doc: String?
    var properties: [IRProperty]
    var closed: Bool
    var nestedEnums: [IREnum]
    /// The type exists in the hand-written runtime; only the `JSONModel` conformance is generated.
    var runtimeProvided: Bool
}

struct IRTypealias: Hashable, Sendable {
    var swiftName: String
    var doc: String?
    var type: IRType
}

enum ParameterLocation: String, Hashable, Sendable { case path, query, header }

struct IRParameter: Hashable, Sendable {
    var name: String
    var swiftName: String
    var location: ParameterLocation
    var required: Bool
    var doc: String?
    var type: IRType
}

struct IRBody: Hashable, Sendable {
    var contentType: String
    var type: IRType
}

struct IRResponse: Hashable, Sendable {
    var status: Int
    var caseName: String
    var doc: String?
    var body: IRBody?
    /// (header name, Swift label)
    var headers: [IRHeader]
}

struct IRHeader: Hashable, Sendable {
    var name: String
    var swiftName: String
}

struct IROperation: Hashable, Sendable {
    var id: String
    var typeName: String
    var method: String
    var path: String
    var doc: String?
    var parameters: [IRParameter]
    var requestBody: IRBody?
    var requestBodyRequired: Bool
    var responses: [IRResponse]
    /// `x-go-name`: the Go client's method name (default: the operationId in UpperCamelCase).
    var goName: String? = nil
}

/// The whole API, ready to render.
struct IRModule: Hashable, Sendable {
    var title: String
    var basePath: String
    var specText: String
    var enums: [IREnum]
    var structs: [IRStruct]
    var typealiases: [IRTypealias]
    var operations: [IROperation]
}
