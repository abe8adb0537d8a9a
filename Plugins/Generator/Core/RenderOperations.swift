/// Renders `Operations.swift`: the document, `Operations.<Op>` (Input/Output) and `APIProtocol`.
struct OperationsRenderer {
    let module: IRModule

    /// The Swift members of an operation's Input: parameters, then `body`.
    static func inputMembers(_ op: IROperation) -> [(name: String, type: String, optional: Bool, doc: String?)] {
        var members = op.parameters.map { p in
            (name: p.swiftName, type: Swift.typeName(p.type), optional: !p.required, doc: p.doc)
        }
        if let body = op.requestBody {
            members.append((name: "body", type: Swift.typeName(body.type), optional: !op.requestBodyRequired, doc: "The request body."))
        }
        return members
    }

    /// The associated values of an Output case, e.g. `(Instance, etag: String?)`, or "".
    static func caseValues(_ r: IRResponse) -> String {
        var values: [String] = []
        if let body = r.body { values.append(Swift.typeName(body.type)) }
        values += r.headers.map { "\($0.swiftName): String?" }
        return values.isEmpty ? "" : "(" + values.joined(separator: ", ") + ")"
    }

    func render() -> String {
        var w = SwiftWriter()
        w.line(generatedHeader)
        w.line()
        w.line("import HTTPTypes")
        w.line()
        w.line("/// The OpenAPI document this module was generated from.")
        w.block("public enum OpenAPIDocument") { w in
            w.line("/// The path prefix of every operation (`servers[0].url`).")
            w.line("public static let basePath = \(Swift.literal(module.basePath))")
            w.line()
            w.line("/// openapi.yaml, verbatim.")
            w.line("public static let yaml: String = " + Swift.rawMultiline(module.specText))
        }
        w.line()
        w.line("/// One namespace per operation of \(module.title), named after its `operationId`.")
        w.block("public enum Operations") { w in
            for (i, op) in module.operations.enumerated() {
                if i > 0 { w.line() }
                renderOperation(op, &w)
            }
        }
        w.line()
        w.line("/// The server side of \(module.title): one method per operation. Errors thrown propagate to")
        w.line("/// the caller of ``APIRouter/respond(to:)``.")
        w.block("public protocol APIProtocol: Sendable") { w in
            for op in module.operations {
                w.doc(op.doc)
                w.line("func \(op.id)(_ input: Operations.\(op.typeName).Input) async throws -> Operations.\(op.typeName).Output")
            }
        }
        return w.text
    }

    func renderOperation(_ op: IROperation, _ w: inout SwiftWriter) {
        w.doc(op.doc)
        w.doc("`\(op.method) \(op.path)`")
        w.block("public enum \(op.typeName)") { w in
            w.line("/// The `operationId`.")
            w.line("public static let id = \(Swift.literal(op.id))")
            w.line("public static let method: HTTPRequest.Method = .\(op.method.lowercased())")
            w.line("/// The path template, relative to ``OpenAPIDocument/basePath``.")
            w.line("public static let path = \(Swift.literal(op.path))")
            w.line()
            let members = Self.inputMembers(op)
            w.block("public struct Input: Sendable, Hashable") { w in
                for m in members {
                    w.doc(m.doc)
                    w.line("public var \(m.name): \(m.type)\(m.optional ? "?" : "")")
                }
                if !members.isEmpty { w.line() }
                let params = members.map { "\($0.name): \($0.type)\($0.optional ? "? = nil" : "")" }
                w.block("public init(\(params.joined(separator: ", ")))") { w in
                    for m in members { w.line("self.\(m.name) = \(m.name)") }
                }
            }
            w.line()
            w.block("public enum Output: Sendable, Hashable") { w in
                for r in op.responses {
                    w.doc(r.doc.map { "\(r.status): \($0)" })
                    w.line("case \(r.caseName)\(Self.caseValues(r))")
                }
            }
        }
    }
}
