/// Renders `validate_gen.go`: one validator per schema, walking decoded JSON exactly as flexlbd's
/// generated decoders do (same checks, same order, same JSON paths), and `Validate()` on every model.
struct GoValidateRenderer {
    let context: GoContext

    func render() -> String {
        var w = GoWriter()
        w.line(goGeneratedHeader)
        w.line()
        w.line("package \(context.packageName)")
        for (i, p) in context.patterns.enumerated() {
            w.line()
            w.comment("pattern\(i + 1) is \(p.source)")
            w.line("var pattern\(i + 1) = newPattern(\(Go.rawLiteral(p.source)), \(Go.rawLiteral(p.full)), \(Go.rawLiteral(p.reject)))")
        }
        for s in context.module.structs {
            let name = GoNames.exported(s.swiftName)
            w.line()
            w.comment("""
                Validate checks m against the \(s.swiftName) schema of openapi.yaml as flexlbd does: it returns a
                *ValidationError listing every violation with the JSON path flexlbd reports, or nil.
                """)
            w.block("func (m \(name)) Validate() error") { w in
                w.line("return validateValue(m, validate\(name))")
            }
            w.line()
            renderStructValidator(s, &w)
        }
        for (irName, e) in context.enumsInOrder() {
            w.line()
            let name = context.typeName(.model(swiftName: irName))
            w.block("func validate\(name)(v *validator, j interface{}, p string)") { w in
                w.line("v.enum(j, p, \(e.cases.map { Go.literal($0.raw) }.joined(separator: ", ")))")
            }
        }
        for t in context.module.typealiases {
            w.line()
            w.block("func validate\(GoNames.exported(t.swiftName))(v *validator, j interface{}, p string)") { w in
                statements(t.type, "j", "p", depth: 0, &w)
            }
        }
        w.line()
        w.comment("schemaValidator returns the validator of the named schema of openapi.yaml, or nil.")
        w.block("func schemaValidator(schema string) func(*validator, interface{}, string)") { w in
            w.line("switch schema {")
            for s in context.module.structs {
                w.line("case \(Go.literal(s.swiftName)):")
                w.line("\treturn validate\(GoNames.exported(s.swiftName))")
            }
            for t in context.module.typealiases {
                w.line("case \(Go.literal(t.swiftName)):")
                w.line("\treturn validate\(GoNames.exported(t.swiftName))")
            }
            w.line("}")
            w.line("return nil")
        }
        return w.text
    }

    func renderStructValidator(_ s: IRStruct, _ w: inout GoWriter) {
        let name = GoNames.exported(s.swiftName)
        w.block("func validate\(name)(v *validator, j interface{}, p string)") { w in
            guard !s.properties.isEmpty || s.closed else {
                w.line("v.object(j, p)")
                return
            }
            w.line("o, ok := v.object(j, p)")
            w.block("if !ok") { w in w.line("return") }
            for prop in s.properties {
                // A property with a default is never missing: flexlbd fills it in.
                let fn = prop.required && prop.defaultValue == nil ? "required" : "optional"
                w.block("if j, p, ok := v.\(fn)(o, p, \(Go.literal(prop.jsonName))); ok") { w in
                    statements(prop.type, "j", "p", depth: 0, &w)
                }
            }
            if s.closed {
                w.line("v.closed(o, p, \(s.properties.map { Go.literal($0.jsonName) }.joined(separator: ", ")))")
            }
        }
    }

    /// Statements validating the JSON value `j` of `type` at path expression `p`.
    func statements(_ type: IRType, _ j: String, _ p: String, depth: Int, _ w: inout GoWriter) {
        switch type {
        case .string(let r):
            var fields: [String] = []
            if r.minLength > 0 { fields.append("minLength: \(r.minLength)") }
            if let m = r.maxLength { fields.append("hasMaxLength: true, maxLength: \(m)") }
            if let pattern = r.pattern { fields.append("pattern: \(context.patternName(pattern))") }
            if r.ip { fields.append("ip: true") }
            w.line("v.str(\(j), \(p), strRules{\(fields.joined(separator: ", "))})")
        case .integer(let r):
            var fields: [String] = []
            if r.int32 { fields.append("int32: true") }
            if let m = r.minimum { fields.append("hasMinimum: true, minimum: \(m)") }
            if let m = r.maximum { fields.append("hasMaximum: true, maximum: \(m)") }
            w.line("v.integer(\(j), \(p), intRules{\(fields.joined(separator: ", "))})")
        case .number:
            w.line("v.number(\(j), \(p))")
        case .boolean:
            w.line("v.boolean(\(j), \(p))")
        case .model:
            w.line("validate\(context.typeName(type))(v, \(j), \(p))")
        case .alias(let n, _):
            w.line("validate\(GoNames.exported(n))(v, \(j), \(p))")
        case .array(let t, let minItems, let maxItems):
            let items = "items\(depth)", i = "i\(depth)", item = "j\(depth)"
            w.block("if \(items), ok := v.array(\(j), \(p), \(minItems), \(maxItems ?? -1)); ok") { w in
                w.block("for \(i), \(item) := range \(items)") { w in
                    statements(t, item, "index(\(p), \(i))", depth: depth + 1, &w)
                }
            }
        case .map(let t):
            let entries = "entries\(depth)", k = "k\(depth)"
            w.block("if \(entries), ok := v.object(\(j), \(p)); ok") { w in
                w.block("for _, \(k) := range sortedKeys(\(entries))") { w in
                    statements(t, "\(entries)[\(k)]", "key(\(p), \(k))", depth: depth + 1, &w)
                }
            }
        }
    }
}

extension GoContext {
    /// Every enum with its IR name, top-level first, then nested ones in struct order.
    func enumsInOrder() -> [(String, IREnum)] {
        module.enums.map { ($0.swiftName, $0) }
            + module.structs.flatMap { s in s.nestedEnums.map { ("\(s.swiftName).\($0.swiftName)", $0) } }
    }
}
