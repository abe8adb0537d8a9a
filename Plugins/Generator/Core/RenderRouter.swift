/// Renders `Router.swift`: ``APIRouter``, which validates requests and encodes ``APIProtocol`` outputs.
struct RouterRenderer {
    let module: IRModule
    let patterns: PatternTable

    /// Path templates as segments after the base path, with their operations. Templates with fewer
    /// parameters come first so literal segments win over `{param}`.
    var routes: [(template: [String], operations: [IROperation])] {
        var result: [(template: [String], operations: [IROperation])] = []
        for op in module.operations {
            let template = op.path.split(separator: "/").map(String.init)
            if let i = result.firstIndex(where: { $0.template == template }) {
                result[i].operations.append(op)
            } else {
                result.append((template, [op]))
            }
        }
        let params = { (t: [String]) in t.filter { $0.hasPrefix("{") }.count }
        return result.enumerated().sorted { a, b in
            (params(a.element.template), a.offset) < (params(b.element.template), b.offset)
        }.map(\.element)
    }

    func render() -> String {
        var w = SwiftWriter()
        w.line(generatedHeader)
        w.line()
        w.line("import HTTPTypes")
        w.line()
        w.line("/// Routes ``ServerRequest``s to an ``APIProtocol`` handler: matches the path and method, validates")
        w.line("/// parameters and body (every violation is reported in one 400 response, the handler is not")
        w.line("/// called), then encodes the handler's output.")
        w.block("public struct APIRouter<Handler: APIProtocol>: Sendable") { w in
            w.line("public let handler: Handler")
            w.line()
            w.block("public init(handler: Handler)") { w in w.line("self.handler = handler") }
            w.line()
            w.line("/// The `operationId` a request is routed to, or nil (for logging).")
            w.block("public static func operationID(for request: ServerRequest) -> String?") { w in
                w.line("guard let segments = RouterSupport.segments(request.path, basePath: OpenAPIDocument.basePath) else { return nil }")
                for route in routes {
                    w.block("if RouterSupport.match(segments, \(literal(route.template))) != nil") { w in
                        for op in route.operations {
                            w.line("if request.method == Operations.\(op.typeName).method { return Operations.\(op.typeName).id }")
                        }
                        w.line("return nil")
                    }
                }
                w.line("return nil")
            }
            w.line()
            w.line("/// Answers one request. Errors thrown by the handler propagate.")
            w.block("public func respond(to request: ServerRequest) async throws -> ServerResponse") { w in
                w.block("guard let segments = RouterSupport.segments(request.path, basePath: OpenAPIDocument.basePath) else") { w in
                    w.line("return Self.error(404, \"no such path\")")
                }
                for route in routes {
                    let hasParams = route.template.contains { $0.hasPrefix("{") }
                    let binding = hasParams ? "let params = " : ""
                    let cond = hasParams ? "" : " != nil"
                    w.block("if \(binding)RouterSupport.match(segments, \(literal(route.template)))\(cond)") { w in
                        for op in route.operations {
                            let args = hasParams ? "request, params" : "request, [:]"
                            w.line("if request.method == Operations.\(op.typeName).method { return try await \(handlerName(op))(\(args)) }")
                        }
                        let allow = route.operations.map(\.method).joined(separator: ", ")
                        w.line("return Self.error(405, \"method not allowed\", headers: [(\"Allow\", \(Swift.literal(allow)))])")
                    }
                }
                w.line("return Self.error(404, \"no such path\")")
            }
            w.line()
            w.line("/// An ``ErrorBody`` response.")
            w.block("static func error(_ status: Int, _ message: String, violations: [Violation]? = nil, headers: [(String, String?)] = []) -> ServerResponse") { w in
                w.line("RouterSupport.json(status, ErrorBody(message: message, violations: violations).jsonValue, headers: headers)")
            }
            for op in module.operations {
                w.line()
                renderHandler(op, &w)
            }
        }
        return w.text
    }

    func literal(_ template: [String]) -> String { "[" + template.map(Swift.literal).joined(separator: ", ") + "]" }

    func handlerName(_ op: IROperation) -> String { "handle" + op.typeName }

    func renderHandler(_ op: IROperation, _ w: inout SwiftWriter) {
        w.block("func \(handlerName(op))(_ request: ServerRequest, _ pathParameters: [String: String]) async throws -> ServerResponse") { w in
            let needsValidation = !op.parameters.isEmpty || op.requestBody != nil
            var required: [String] = []
            if needsValidation {
                w.line("var violations: [Violation] = []")
                if op.parameters.contains(where: { $0.location == .query }) {
                    w.line("let query = RouterSupport.queryItems(request.query)")
                }
                for p in op.parameters {
                    let raw: String
                    switch p.location {
                    case .path: raw = "pathParameters[\(Swift.literal(p.name))]"
                    case .query: raw = "query[\(Swift.literal(p.name))]"
                    case .header: raw = "RouterSupport.header(request.headerFields, \(Swift.literal(p.name)))"
                    }
                    var integer = ""
                    if case .integer = p.type { integer = ", integer: true" }
                    let at = ".parameter(\(Swift.literal(p.location.rawValue)), \(Swift.literal(p.name)))"
                    let decode = Swift.decode(p.type, "j", "p", "v", strict: "true", patterns)
                    let local = "_" + Names.bare(p.swiftName)
                    w.line("let \(local) = RouterSupport.parameter(\(raw), at: \(at), required: \(p.required)\(integer), &violations) { j, p, v in \(decode) }")
                    if p.required { required.append(local) }
                }
                if let body = op.requestBody {
                    let decode = Swift.decode(body.type, "j", "p", "v", strict: "true", patterns)
                    w.line("let _body = RouterSupport.body(request.body, required: \(op.requestBodyRequired), &violations) { j, p, v in \(decode) }")
                    if op.requestBodyRequired { required.append("_body") }
                }
                let conditions = ["violations.isEmpty"] + required.map { "let \($0)" }
                w.block("guard \(conditions.joined(separator: ", ")) else") { w in
                    w.line("return Self.error(400, \"request validation failed\", violations: violations)")
                }
            }
            var args = op.parameters.map { "\($0.swiftName): _\(Names.bare($0.swiftName))" }
            if op.requestBody != nil { args.append("body: _body") }
            w.line("let output = try await handler.\(op.id)(Operations.\(op.typeName).Input(\(args.joined(separator: ", "))))")
            w.line("switch output {")
            for r in op.responses { renderCase(r, &w) }
            w.line("}")
        }
    }

    func renderCase(_ r: IRResponse, _ w: inout SwiftWriter) {
        var bindings: [String] = []
        if r.body != nil { bindings.append("let body") }
        bindings += r.headers.map { "let \(Names.bare($0.swiftName))" }
        let pattern = bindings.isEmpty ? "" : "(" + bindings.joined(separator: ", ") + ")"
        let headers = r.headers.isEmpty ? "" : ", headers: [" + r.headers.map { "(\(Swift.literal($0.name)), \(Names.bare($0.swiftName)))" }.joined(separator: ", ") + "]"
        w.line("case .\(r.caseName)\(pattern):")
        if let body = r.body {
            if body.contentType.contains("json") {
                w.line("    return RouterSupport.json(\(r.status), \(Swift.encode(body.type, "body"))\(headers))")
            } else {
                w.line("    return RouterSupport.response(\(r.status), Array(body.utf8), contentType: \(Swift.literal(body.contentType))\(headers))")
            }
        } else {
            w.line("    return RouterSupport.response(\(r.status), [], contentType: nil\(headers))")
        }
    }
}
