import OpenAPIKit30

/// Stage 2: OpenAPIKit document → ``IRModule``.
protocol Translating {
    func translate(_ document: OpenAPI.Document, specText: String, diagnostics: inout [Diagnostic]) -> IRModule
}

/// Schema names whose type already exists in the hand-written runtime (same shape): the generator
/// only adds the `JSONModel` conformance. `Violation` collides with the runtime's `Violation`,
/// which has the same two required string properties, so it is reused.
let runtimeProvidedSchemas: Set<String> = ["Violation"]

struct Translator: Translating {
    func translate(_ document: OpenAPI.Document, specText: String, diagnostics: inout [Diagnostic]) -> IRModule {
        var state = TranslationState(document: document)
        state.translateComponents()
        state.translateOperations()
        diagnostics.append(contentsOf: state.diagnostics)
        let basePath = document.servers.first.map { String(describing: $0.urlTemplate.rawValue) } ?? ""
        return IRModule(
            title: document.info.title,
            basePath: basePath.hasSuffix("/") ? String(basePath.dropLast()) : basePath,
            specText: specText,
            enums: state.enums,
            structs: state.structs,
            typealiases: state.typealiases,
            operations: state.operations
        )
    }
}

struct TranslationState {
    let document: OpenAPI.Document
    var diagnostics: [Diagnostic] = []
    var enums: [IREnum] = []
    var structs: [IRStruct] = []
    var typealiases: [IRTypealias] = []
    var operations: [IROperation] = []

    init(document: OpenAPI.Document) { self.document = document }

    var schemas: OpenAPIKit30.OrderedDictionary<OpenAPI.ComponentKey, JSONSchema> { document.components.schemas }

    mutating func diag(_ message: String, _ location: String, _ severity: Diagnostic.Severity = .error) {
        diagnostics.append(Diagnostic(severity, message, at: location))
    }

    // MARK: Components

    mutating func translateComponents() {
        for (key, schema) in schemas {
            let name = key.rawValue
            let location = "#/components/schemas/\(name)"
            switch schema.value {
            case .object(_, let object) where isMap(object):
                var nested: [IREnum] = []
                let type = self.type(of: schema, enumName: Names.upperCamel(name) + "Value", enumOwner: nil,
                                     nested: &nested, location: location).type
                enums.append(contentsOf: nested)
                typealiases.append(IRTypealias(swiftName: Names.upperCamel(name), doc: schema.description, type: type))
            case .object(_, let object):
                structs.append(translateStruct(name: name, schema: schema, object: object, location: location))
            case .string(let core, _) where core.allowedValues != nil:
                enums.append(makeEnum(Names.upperCamel(name), doc: schema.description, values: core.allowedValues ?? [], location))
            default:
                break  // primitive: inlined wherever it is referenced
            }
        }
    }

    func isMap(_ object: JSONSchema.ObjectContext) -> Bool {
        guard object.properties.isEmpty, case .b = object.additionalProperties else { return false }
        return true
    }

    mutating func translateStruct(name: String, schema: JSONSchema, object: JSONSchema.ObjectContext, location: String) -> IRStruct {
        let swiftName = Names.upperCamel(name)
        var nested: [IREnum] = []
        var properties: [IRProperty] = []
        let required = Set(object.requiredProperties)
        for (jsonName, propertySchema) in object.properties {
            let ploc = "\(location)/properties/\(jsonName)"
            let (type, defaultValue) = self.type(
                of: propertySchema, enumName: Names.upperCamel(jsonName), enumOwner: swiftName, nested: &nested, location: ploc)
            var literal: IRLiteral?
            if let defaultValue { literal = self.literal(defaultValue, for: type, ploc) }
            properties.append(IRProperty(
                jsonName: jsonName, swiftName: Names.member(jsonName), doc: description(of: propertySchema),
                type: type, required: required.contains(jsonName), defaultValue: literal))
        }
        var closed = false
        if case .a(false) = object.additionalProperties { closed = true }
        return IRStruct(swiftName: swiftName, doc: schema.description, properties: properties, closed: closed,
                        nestedEnums: nested, runtimeProvided: runtimeProvidedSchemas.contains(name))
    }

    /// The description of a property, looking through `allOf: [$ref]` and `$ref` to the target.
    func description(of schema: JSONSchema) -> String? {
        if let d = schema.description { return d }
        switch schema.value {
        case .all(let of, _) where of.count == 1: return description(of: of[0])
        case .reference(let ref, _):
            guard let name = ref.name, let target = schemas[OpenAPI.ComponentKey(stringLiteral: name)] else { return nil }
            if case .object = target.value { return nil }
            return target.description
        default: return nil
        }
    }

    mutating func makeEnum(_ swiftName: String, doc: String?, values: [AnyCodable], _ location: String) -> IREnum {
        var cases: [(name: String, raw: String)] = []
        for value in values {
            guard let raw = value.value as? String else {
                diag("only string enums are supported", location)
                continue
            }
            cases.append((Names.member(raw), raw))
        }
        return IREnum(swiftName: swiftName, doc: doc, cases: cases)
    }

    mutating func literal(_ value: AnyCodable, for type: IRType, _ location: String) -> IRLiteral? {
        switch (type, value.value) {
        case (.string, let s as String): return .string(s)
        case (.model, let s as String):
            return .enumCase(Names.member(s))
        case (.integer, let i as Int): return .integer(i)
        case (.boolean, let b as Bool): return .bool(b)
        case (.number, let d as Double): return .double(d)
        case (.number, let i as Int): return .double(Double(i))
        default:
            diag("unsupported default value \(value)", location)
            return nil
        }
    }

    // MARK: Types

    /// The IR type of a schema, plus its `default` (looking through `allOf: [$ref]`).
    /// Inline string enums are added to `nested`, named `enumName` (qualified by `enumOwner`).
    mutating func type(
        of schema: JSONSchema, enumName: String, enumOwner: String?, nested: inout [IREnum], location: String
    ) -> (type: IRType, defaultValue: AnyCodable?) {
        switch schema.value {
        case .reference(let ref, _):
            guard let name = ref.name, let target = schemas[OpenAPI.ComponentKey(stringLiteral: name)] else {
                diag("unresolvable reference \(ref.absoluteString)", location)
                return (.string(StringRules()), nil)
            }
            let swiftName = Names.upperCamel(name)
            switch target.value {
            case .object(_, let object) where isMap(object):
                var ignored: [IREnum] = []
                let underlying = type(of: target, enumName: swiftName + "Value", enumOwner: nil, nested: &ignored, location: location).type
                return (.alias(swiftName: swiftName, underlying), nil)
            case .object:
                return (.model(swiftName: swiftName), nil)
            case .string(let core, _) where core.allowedValues != nil:
                return (.model(swiftName: swiftName), nil)
            default:
                var ignored: [IREnum] = []
                return (type(of: target, enumName: enumName, enumOwner: enumOwner, nested: &ignored, location: location).type, nil)
            }
        case .all(let of, let core):
            guard of.count == 1 else {
                diag("allOf is supported with exactly one schema", location)
                return (.string(StringRules()), core.defaultValue)
            }
            return (type(of: of[0], enumName: enumName, enumOwner: enumOwner, nested: &nested, location: location).type,
                    core.defaultValue)
        case .string(let core, let rules):
            if let values = core.allowedValues {
                let e = makeEnum(enumName, doc: nil, values: values, location)
                nested.append(e)
                return (.model(swiftName: enumOwner.map { "\($0).\(enumName)" } ?? enumName), core.defaultValue)
            }
            var r = StringRules()
            r.minLength = rules.minLength
            r.maxLength = rules.maxLength
            r.pattern = rules.pattern
            switch core.format {
            case .other("ip"): r.ip = true
            case .generic, .other("ipv4"), .other("ipv6"): break
            default: diag("string format \(core.format.rawValue) is not validated", location, .warning)
            }
            return (.string(r), core.defaultValue)
        case .any(let of, let core):
            // `anyOf: [{format: ipv4}, {format: ipv6}]` (each a string): an IP address.
            var r = StringRules()
            r.ip = true
            var formats: Set<String> = []
            for branch in of {
                guard case .string(let branchCore, let rules) = branch.value, rules.pattern == nil, rules.minLength == 0 else {
                    formats = []
                    break
                }
                formats.insert(branchCore.format.rawValue)
                if let m = rules.maxLength { r.maxLength = max(r.maxLength ?? 0, m) }
            }
            guard formats == ["ipv4", "ipv6"] else {
                diag("anyOf is supported only as [{format: ipv4}, {format: ipv6}] strings", location)
                return (.string(StringRules()), nil)
            }
            return (.string(r), core.defaultValue)
        case .integer(let core, let rules):
            var r = IntegerRules()
            r.minimum = rules.minimum.map { $0.exclusive ? $0.value + 1 : $0.value }
            r.maximum = rules.maximum.map { $0.exclusive ? $0.value - 1 : $0.value }
            r.int32 = core.format == .int32
            r.int64 = core.format == .int64
            return (.integer(r), core.defaultValue)
        case .number(let core, _):
            return (.number, core.defaultValue)
        case .boolean(let core):
            return (.boolean, core.defaultValue)
        case .array(let core, let array):
            guard let items = array.items else {
                diag("arrays need items", location)
                return (.array(.string(StringRules()), minItems: array.minItems, maxItems: array.maxItems), nil)
            }
            let element = type(of: items, enumName: enumName, enumOwner: enumOwner, nested: &nested, location: location + "/items").type
            return (.array(element, minItems: array.minItems, maxItems: array.maxItems), core.defaultValue)
        case .object(let core, let object):
            if case .b(let valueSchema) = object.additionalProperties, object.properties.isEmpty {
                let value = type(of: valueSchema, enumName: enumName, enumOwner: enumOwner, nested: &nested,
                                 location: location + "/additionalProperties").type
                return (.map(value), core.defaultValue)
            }
            diag("inline objects with properties are not supported; use a $ref", location)
            return (.map(.string(StringRules())), nil)
        default:
            diag("unsupported schema", location)
            return (.string(StringRules()), nil)
        }
    }
}
