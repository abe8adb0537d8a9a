/// Renders `Models.swift`: structs, enums, typealiases and the compiled patterns.
struct ModelsRenderer {
    let module: IRModule
    let patterns: PatternTable

    func render() -> String {
        var w = SwiftWriter()
        w.line(generatedHeader)
        w.line()
        w.line("// swiftlint:disable all")
        for e in module.enums {
            w.line()
            renderEnum(e, &w)
        }
        for t in module.typealiases {
            w.line()
            w.doc(t.doc)
            w.line("public typealias \(t.swiftName) = \(Swift.typeName(t.type))")
        }
        for s in module.structs {
            w.line()
            renderStruct(s, &w)
        }
        w.line()
        w.line("/// Every `pattern` of openapi.yaml, compiled once.")
        w.block("enum SchemaPatterns") { w in
            for (i, p) in patterns.patterns.enumerated() {
                w.line("static let p\(i + 1) = SchemaPattern(\(Swift.literal(p)))")
            }
        }
        return w.text
    }

    func renderEnum(_ e: IREnum, _ w: inout SwiftWriter) {
        w.doc(e.doc)
        w.block("public enum \(e.swiftName): String, JSONStringEnum, Hashable, Sendable, CaseIterable") { w in
            for c in e.cases {
                w.line(Names.bare(c.name) == c.raw ? "case \(c.name)" : "case \(c.name) = \(Swift.literal(c.raw))")
            }
        }
    }

    func propertyType(_ p: IRProperty) -> String {
        let t = Swift.typeName(p.type)
        return p.required || p.defaultValue != nil ? t : t + "?"
    }

    func local(_ p: IRProperty) -> String { "_" + Names.bare(p.swiftName) }

    func renderStruct(_ s: IRStruct, _ w: inout SwiftWriter) {
        w.doc(s.doc)
        let opener = s.runtimeProvided
            ? "extension \(s.swiftName): JSONModel"
            : "public struct \(s.swiftName): JSONModel, Hashable, Sendable"
        w.block(opener) { w in
            if !s.runtimeProvided {
                for p in s.properties {
                    w.doc(p.doc)
                    w.line("public var \(p.swiftName): \(propertyType(p))")
                }
                for e in s.nestedEnums {
                    w.line()
                    renderEnum(e, &w)
                }
                w.line()
                let params = s.properties.map { p -> String in
                    var param = "\(p.swiftName): \(propertyType(p))"
                    if let d = p.defaultValue { param += " = \(Swift.literal(d))" } else if !p.required { param += " = nil" }
                    return param
                }
                w.block("public init(\(params.joined(separator: ", ")))") { w in
                    for p in s.properties { w.line("self.\(p.swiftName) = \(p.swiftName)") }
                }
                w.line()
            }
            w.line("/// The JSON property names of this schema.")
            w.line("static let jsonKeys: Set<String> = [\(s.properties.map { Swift.literal($0.jsonName) }.joined(separator: ", "))]")
            w.line()
            renderDecode(s, &w)
            w.line()
            renderEncode(s, &w)
        }
    }

    func renderDecode(_ s: IRStruct, _ w: inout SwiftWriter) {
        w.block("public static func decode(_ json: JSONValue, at path: JSONPath, strict: Bool, violations: inout [Violation]) -> Self?") { w in
            w.line("guard let object = Checks.object(json, at: path, &violations) else { return nil }")
            w.line("let start = violations.count")
            for p in s.properties {
                // A property with a `default` is never missing, even if `required` lists it.
                let fn = p.required && p.defaultValue == nil ? "required" : "optional"
                var expr = "Checks.\(fn)(object, \(Swift.literal(p.jsonName)), at: path, &violations) { j, p, v in "
                    + Swift.decode(p.type, "j", "p", "v", strict: "strict", patterns) + " }"
                if let d = p.defaultValue { expr += " ?? \(Swift.literal(d))" }
                w.line("let \(local(p)) = \(expr)")
            }
            if s.closed {
                w.line("if strict { Checks.rejectUnknown(object, known: jsonKeys, at: path, &violations) }")
            }
            let unwraps = s.properties.filter { $0.required && $0.defaultValue == nil }.map { "let \(local($0))" }
            w.line("guard \((["violations.count == start"] + unwraps).joined(separator: ", ")) else { return nil }")
            let args = s.properties.map { "\($0.swiftName): \(local($0))" }.joined(separator: ", ")
            w.line("return Self(\(args))")
        }
    }

    func renderEncode(_ s: IRStruct, _ w: inout SwiftWriter) {
        w.block("public var jsonValue: JSONValue") { w in
            w.line("var object = JSONObject()")
            for p in s.properties {
                let key = Swift.literal(p.jsonName)
                if p.required || p.defaultValue != nil {
                    w.line("object.set(\(key), \(Swift.encode(p.type, "self." + p.swiftName)))")
                } else {
                    let bare = Names.bare(p.swiftName)
                    let name = bare == p.swiftName ? bare : "value"
                    w.line("if let \(name) = self.\(p.swiftName) { object.set(\(key), \(Swift.encode(p.type, name))) }")
                }
            }
            w.line("return .object(object)")
        }
    }
}
