/// Renders `client_gen.go`: one `Client` method per operation (context first, path parameters, the
/// body, optional query parameters, then `...CallOption`), and a `CallOption` per optional header.
struct GoClientRenderer {
    let context: GoContext

    func render() -> String {
        var w = GoWriter()
        w.line(goGeneratedHeader)
        w.line()
        w.line("package \(context.packageName)")
        w.line()
        w.line("import \"context\"")
        w.line()
        w.comment("basePath is the spec's server URL, prefixed to every operation's path.")
        w.line("const basePath = \(Go.literal(context.module.basePath))")
        var headers: [String] = []
        for op in context.module.operations {
            for p in op.parameters where p.location == .header && !p.required && !headers.contains(p.name) {
                headers.append(p.name)
                w.line()
                let name = GoNames.exported(p.name)
                w.comment("\(name) sends the \(p.name) header" + (p.doc.map { ": " + $0 } ?? ".")
                          + "\nOperations that do not declare it ignore it.")
                w.block("func \(name)(value string) CallOption") { w in
                    w.line("return withHeader(\(Go.literal(p.name)), value)")
                }
            }
        }
        for op in context.module.operations {
            w.line()
            renderOperation(op, &w)
        }
        return w.text
    }

    func methodName(_ op: IROperation) -> String { op.goName ?? GoNames.exported(op.id) }

    /// The lowest 2xx response: its body is the method's result.
    func success(_ op: IROperation) -> IRResponse? {
        op.responses.filter { (200..<300).contains($0.status) }.min { $0.status < $1.status }
    }

    /// (Go result type, zero-value result expression, `out` variable declaration, returned expression)
    func result(_ op: IROperation) -> (type: String, zero: String, declare: String, value: String)? {
        guard let body = success(op)?.body else { return nil }
        switch body.type {
        case .string:
            return ("[]byte", "nil", "var out []byte", "out")
        case .model(let n) where !context.isEnum(n):
            let t = context.typeName(body.type)
            return ("*" + t, "nil", "var out \(t)", "&out")
        default:
            let t = context.typeName(body.type)
            return (t, "nil", "var out \(t)", "out")
        }
    }

    func renderOperation(_ op: IROperation, _ w: inout GoWriter) {
        let name = methodName(op)
        var args = ["ctx context.Context"]
        var locals: [String: String] = [:]
        let pathParams = op.parameters.filter { $0.location == .path }
        let queryParams = op.parameters.filter { $0.location == .query }
        let requiredHeaders = op.parameters.filter { $0.location == .header && $0.required }
        for p in pathParams + requiredHeaders {
            let local = GoNames.local(p.name)
            locals[p.name] = local
            args.append("\(local) string")
        }
        if let body = op.requestBody { args.append("body \(context.typeName(body.type))") }
        for p in queryParams {
            let local = GoNames.local(p.name)
            locals[p.name] = local
            args.append("\(local) \(context.typeName(p.type))")
        }
        args.append("opts ...CallOption")
        let result = self.result(op)
        let returns = result.map { "(\($0.type), error)" } ?? "error"
        let fail = result.map { "return \($0.zero), err" } ?? "return err"

        var doc = name + ": " + (op.doc ?? op.id)
        let statuses = op.responses.map(\.status).sorted()
        doc += "\n\n\(op.method.uppercased()) \(context.module.basePath)\(op.path) (operationId \(op.id)); documented statuses "
            + statuses.map(String.init).joined(separator: ", ") + "."
        let optionalHeaders = op.parameters.filter { $0.location == .header && !$0.required }
        if !optionalHeaders.isEmpty {
            doc += " Accepts the " + optionalHeaders.map { GoNames.exported($0.name) }.joined(separator: ", ") + " option."
        }
        for p in queryParams where !p.required {
            doc += "\nAn empty \(locals[p.name] ?? p.name) leaves the \(p.name) query parameter out" + (p.doc.map { " (" + $0 + ")" } ?? "") + "."
        }
        let idempotent = op.method.uppercased() != "POST"
        doc += idempotent ? "\nIdempotent: retried on another endpoint after a transport failure."
            : "\nNot idempotent: sent again only when no endpoint received it."
        w.comment(doc)
        w.block("func (c *Client) \(name)(\(args.joined(separator: ", "))) \(returns)") { w in
            // Client-side validation of parameters and body, with the paths flexlbd would report.
            let checked = pathParams + queryParams
            if !checked.isEmpty {
                w.block("err := c.validateParameters(func(v *validator)", close: "})") { w in
                    for p in checked {
                        let local = locals[p.name] ?? p.name
                        let path = "key(\(Go.literal(p.location.rawValue)), \(Go.literal(p.name)))"
                        if p.required {
                            GoValidateRenderer(context: context).statements(p.type, local, path, depth: 0, &w)
                        } else {
                            w.block("if \(local) != \(zero(p.type))") { w in
                                GoValidateRenderer(context: context).statements(p.type, local, path, depth: 0, &w)
                            }
                        }
                    }
                }
                w.block("if err != nil") { w in w.line(fail) }
            }
            if let body = op.requestBody, case .model(let n) = body.type, !context.isEnum(n) {
                w.block("if err := c.validateBody(body); err != nil") { w in w.line(fail) }
            }
            let path = pathExpression(op.path, locals)
            var fields = [
                "operation: \(Go.literal(op.id))",
                "method: \(Go.literal(op.method.uppercased()))",
                "path: \(path)",
                "success: \(success(op)?.status ?? 200)",
            ]
            if idempotent { fields.append("idempotent: true") }
            if op.responses.contains(where: { [502, 503, 504].contains($0.status) }) {
                fields.append("statusIsAnswer: true")
            }
            if op.requestBody != nil { fields.append("body: body") }
            w.line("r := &request{\(fields.joined(separator: ", "))}")
            for p in queryParams {
                let local = locals[p.name] ?? p.name
                let value = stringValue(p.type, local)
                if p.required {
                    w.line("r.query(\(Go.literal(p.name)), \(value))")
                } else {
                    w.block("if \(local) != \(zero(p.type))") { w in w.line("r.query(\(Go.literal(p.name)), \(value))") }
                }
            }
            for p in requiredHeaders {
                w.line("r.header(\(Go.literal(p.name)), \(locals[p.name] ?? p.name))")
            }
            if let result {
                w.line(result.declare)
                w.block("if err := c.do(ctx, r, &out, opts); err != nil") { w in w.line(fail) }
                w.line("return \(result.value), nil")
            } else {
                w.line("return c.do(ctx, r, nil, opts)")
            }
        }
    }

    /// `"/instances/" + pathEscape(name) + "/stop"` for `/instances/{name}/stop`.
    func pathExpression(_ template: String, _ locals: [String: String]) -> String {
        var parts: [String] = []
        var text = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            text += rest[..<open]
            if !text.isEmpty { parts.append(Go.literal(text)) }
            text = ""
            let name = String(rest[rest.index(after: open)..<close])
            parts.append("pathEscape(\(locals[name] ?? GoNames.local(name)))")
            rest = rest[rest.index(after: close)...]
        }
        text += rest
        if !text.isEmpty || parts.isEmpty { parts.append(Go.literal(text)) }
        return parts.joined(separator: " + ")
    }

    func zero(_ type: IRType) -> String {
        switch type {
        case .string: "\"\""
        case .integer, .number: "0"
        case .boolean: "false"
        default: "nil"
        }
    }

    func stringValue(_ type: IRType, _ x: String) -> String {
        switch type {
        case .string: x
        default: "formatValue(\(x))"
        }
    }
}
