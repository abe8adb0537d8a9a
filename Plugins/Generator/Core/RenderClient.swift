/// Renders `Client.swift`: ``APIClient``, which encodes inputs and decodes documented responses.
struct ClientRenderer {
    let module: IRModule
    let patterns: PatternTable

    func render() -> String {
        var w = SwiftWriter()
        w.line(generatedHeader)
        w.line()
        w.line("import HTTPTypes")
        w.line()
        w.line("/// Calls \(module.title) through a ``ClientTransport``. Responses are validated leniently")
        w.line("/// (`strict: false`); an undocumented status throws ``UndocumentedResponse``, a body that does not")
        w.line("/// match the spec throws ``ResponseDecodingError``.")
        w.block("public struct APIClient: Sendable") { w in
            w.line("public let transport: any ClientTransport")
            w.line()
            w.block("public init(transport: any ClientTransport)") { w in w.line("self.transport = transport") }
            for op in module.operations {
                w.line()
                renderOperation(op, &w)
            }
        }
        return w.text
    }

    func stringExpr(_ p: IRParameter) -> String {
        let value = "input.\(p.swiftName)"
        if case .integer = p.type { return p.required ? "String(\(value))" : "\(value).map { String($0) }" }
        return value
    }

    func renderOperation(_ op: IROperation, _ w: inout SwiftWriter) {
        let t = "Operations.\(op.typeName)"
        let members = OperationsRenderer.inputMembers(op)
        let defaultInput = members.allSatisfy(\.optional) ? " = .init()" : ""
        w.doc(op.doc)
        w.block("public func \(op.id)(_ input: \(t).Input\(defaultInput)) async throws -> \(t).Output") { w in
            var pathExpr: [String] = []
            var literal = ""
            for segment in op.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
                literal += "/"
                if segment.hasPrefix("{"), let p = op.parameters.first(where: { "{\($0.name)}" == segment && $0.location == .path }) {
                    pathExpr.append(Swift.literal(literal))
                    literal = ""
                    pathExpr.append("ClientSupport.encode(\(stringExpr(p)))")
                } else {
                    literal += segment
                }
            }
            if !literal.isEmpty { pathExpr.append(Swift.literal(literal)) }
            let query = op.parameters.filter { $0.location == .query }
            if !query.isEmpty {
                pathExpr.append("ClientSupport.query([" + query.map { "(\(Swift.literal($0.name)), \(stringExpr($0)))" }.joined(separator: ", ") + "])")
            }
            w.line("let path = OpenAPIDocument.basePath + " + pathExpr.joined(separator: " + "))
            w.line("var request = HTTPRequest(method: \(t).method, scheme: nil, authority: nil, path: path)")
            var accept: [String] = []
            for r in op.responses { if let c = r.body?.contentType, !accept.contains(c) { accept.append(c) } }
            if !accept.isEmpty { w.line("request.headerFields[.accept] = \(Swift.literal(accept.joined(separator: ", ")))") }
            for p in op.parameters where p.location == .header {
                w.line("ClientSupport.setHeader(&request, \(Swift.literal(p.name)), \(stringExpr(p)))")
            }
            if let body = op.requestBody {
                w.line("request.headerFields[.contentType] = \(Swift.literal(body.contentType))")
                let json = body.contentType.contains("json")
                let encode = { (x: String) in json ? "\(Swift.encode(body.type, x)).serialized()" : "Array(\(x).utf8)" }
                if op.requestBodyRequired {
                    w.line("let body: [UInt8]? = \(encode("input.body"))")
                } else {
                    w.line("let body: [UInt8]? = input.body.map { \(encode("$0")) }")
                }
            }
            var idempotent = ["GET", "PUT", "DELETE", "HEAD", "OPTIONS"].contains(op.method) ? "true" : "false"
            if idempotent == "false", let ifMatch = op.parameters.first(where: { $0.location == .header && $0.name.lowercased() == "if-match" }) {
                idempotent = ifMatch.required ? "true" : "input.\(ifMatch.swiftName) != nil"
            }
            let bodyArg = op.requestBody == nil ? "nil" : "body"
            w.line("let (response, responseBody) = try await transport.send(request, body: \(bodyArg), operationID: \(t).id, idempotent: \(idempotent))")
            w.line("switch response.status.code {")
            do {
                for r in op.responses {
                    var values: [String] = []
                    if let body = r.body {
                        if body.contentType.contains("json") {
                            let decode = Swift.decode(body.type, "j", "p", "v", strict: "false", patterns)
                            values.append("try ClientSupport.decode(responseBody, operationID: \(t).id, status: \(r.status)) { j, p, v in \(decode) }")
                        } else {
                            values.append("String(decoding: responseBody, as: UTF8.self)")
                        }
                    }
                    values += r.headers.map { "\($0.swiftName): ClientSupport.header(response, \(Swift.literal($0.name)))" }
                    w.line("case \(r.status):")
                    w.line("    return .\(r.caseName)\(values.isEmpty ? "" : "(" + values.joined(separator: ", ") + ")")")
                }
                w.line("default:")
                w.line("    throw UndocumentedResponse(operationID: \(t).id, status: response.status.code, body: responseBody)")
            }
            w.line("}")
        }
    }
}
