/// Renders `models_gen.go`: enums as typed string constants, maps, structs with exact JSON names,
/// and `ApplyDefaults` with the spec's defaults.
struct GoModelsRenderer {
    let context: GoContext

    func render() -> String {
        var w = GoWriter()
        w.line(goGeneratedHeader)
        w.line()
        w.line("package \(context.packageName)")
        for e in context.module.enums { renderEnum(e, irName: e.swiftName, &w) }
        for s in context.module.structs {
            for e in s.nestedEnums { renderEnum(e, irName: "\(s.swiftName).\(e.swiftName)", &w) }
        }
        for t in context.module.typealiases {
            w.line()
            let name = GoNames.exported(t.swiftName)
            w.comment("\(name) is the \(t.swiftName) schema of openapi.yaml." + (t.doc.map { " " + $0 } ?? ""))
            w.line("type \(name) \(context.typeName(t.type))")
        }
        for s in context.module.structs {
            w.line()
            renderStruct(s, &w)
            w.line()
            renderDefaults(s, &w)
        }
        return w.text
    }

    func renderEnum(_ e: IREnum, irName: String, _ w: inout GoWriter) {
        let name = context.typeName(.model(swiftName: irName))
        w.line()
        w.comment("\(name) is a string enum of openapi.yaml (\(irName)): one of \(e.cases.map(\.raw).joined(separator: ", "))."
                  + (e.doc.map { "\n\n" + $0 } ?? ""))
        w.line("type \(name) string")
        for c in e.cases {
            w.line()
            let constant = name + GoNames.exported(c.raw)
            w.comment("\(constant) is \(Go.literal(c.raw)).")
            w.line("const \(constant) \(name) = \(Go.literal(c.raw))")
        }
    }

    func renderStruct(_ s: IRStruct, _ w: inout GoWriter) {
        let name = GoNames.exported(s.swiftName)
        var doc = "\(name) is the \(s.swiftName) schema of openapi.yaml."
        if let d = s.doc { doc += " " + d }
        if s.closed { doc += "\n\nflexlbd refuses properties it does not name." }
        w.comment(doc)
        w.block("type \(name) struct") { w in
            for (i, p) in s.properties.enumerated() {
                if i > 0 { w.line() }
                let field = GoNames.exported(p.jsonName)
                var lines = ["\(field) is \(Go.literal(p.jsonName))" + (p.doc.map { ": " + $0 } ?? ".")]
                var facts: [String] = []
                if context.isPlain(p) {
                    facts.append("Required.")
                } else if let d = p.defaultValue {
                    facts.append("Optional; default \(defaultText(d, p.type)) (see ApplyDefaults).")
                } else {
                    facts.append("Optional.")
                }
                let rules = context.constraints(p.type)
                if !rules.isEmpty { facts.append("Constraints: " + rules.joined(separator: "; ") + ".") }
                lines.append(facts.joined(separator: " "))
                w.comment(lines.joined(separator: "\n"))
                let tag = context.isPlain(p) ? p.jsonName : p.jsonName + ",omitempty"
                w.line("\(field) \(context.fieldType(p)) `json:\(Go.literal(tag))`")
            }
        }
    }

    func defaultText(_ value: IRLiteral, _ type: IRType) -> String {
        if case .enumCase(let c) = value, let constant = context.enumConstant(type, c),
           case .model(let n) = type, let e = context.enums[n], let raw = e.cases.first(where: { $0.name == c })?.raw {
            return "\(Go.literal(raw)) (\(constant))"
        }
        if case .string(let s) = value { return Go.literal(s) }
        return Go.literal(value, enumType: nil)
    }

    /// The Go expression of a default, typed as the field's element type.
    func defaultExpression(_ value: IRLiteral, _ type: IRType) -> String {
        switch value {
        case .enumCase(let c): return context.enumConstant(type, c) ?? Go.literal(c)
        case .integer, .double: return "\(context.typeName(type))(\(Go.literal(value, enumType: nil)))"
        default: return Go.literal(value, enumType: nil)
        }
    }

    /// Statements that apply defaults inside a value of `type` at Go expression `x` (addressable).
    func nestedDefaults(_ type: IRType, _ x: String, depth: Int, _ w: inout GoWriter) {
        switch type {
        case .model(let n) where !context.isEnum(n):
            w.line("\(x).ApplyDefaults()")
        case .alias(_, let t):
            nestedDefaults(t, x, depth: depth, &w)
        case .array(let t, _, _) where containsStruct(t):
            let i = "i\(depth)"
            w.block("for \(i) := range \(x)") { w in nestedDefaults(t, "\(x)[\(i)]", depth: depth + 1, &w) }
        case .map(let t) where containsStruct(t):
            let k = "k\(depth)", v = "v\(depth)"
            w.block("for \(k), \(v) := range \(x)") { w in
                nestedDefaults(t, v, depth: depth + 1, &w)
                w.line("\(x)[\(k)] = \(v)")
            }
        default: break
        }
    }

    func containsStruct(_ type: IRType) -> Bool {
        switch type {
        case .model(let n): !context.isEnum(n)
        case .alias(_, let t), .array(let t, _, _), .map(let t): containsStruct(t)
        default: false
        }
    }

    func renderDefaults(_ s: IRStruct, _ w: inout GoWriter) {
        let name = GoNames.exported(s.swiftName)
        let relevant = s.properties.filter { $0.defaultValue != nil || containsStruct($0.type) }
        w.comment("ApplyDefaults sets every unset property that has a default in openapi.yaml, in this value and\nthe values it contains: what flexlbd stores when a request leaves them out.")
        guard !relevant.isEmpty else {
            w.line("func (m *\(name)) ApplyDefaults() {}")
            return
        }
        w.block("func (m *\(name)) ApplyDefaults()") { w in
            for p in relevant {
                let field = "m." + GoNames.exported(p.jsonName)
                if let d = p.defaultValue, !context.isNilable(p.type) {
                    w.block("if \(field) == nil") { w in
                        w.line("v := \(defaultExpression(d, p.type))")
                        w.line("\(field) = &v")
                    }
                }
                guard containsStruct(p.type) else { continue }
                if context.isPlain(p) || context.isNilable(p.type) {
                    nestedDefaults(p.type, field, depth: 0, &w)
                } else {
                    w.block("if \(field) != nil") { w in nestedDefaults(p.type, field, depth: 0, &w) }
                }
            }
        }
    }
}
