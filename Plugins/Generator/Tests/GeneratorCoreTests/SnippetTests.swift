import Testing
@testable import GeneratorCore

@Suite struct SnippetTests {
    @Test func patternIsCompiledOnceAndInlinedFromPrimitiveSchema() {
        let text = generate(document(schemas: """
                Name:
                  type: string
                  pattern: "^[a-z]{1,3}$"
                Thing:
                  type: object
                  required: [name]
                  properties:
                    name:
                      $ref: "#/components/schemas/Name"
            """))
        #expect(!text.contains("struct Name"))
        expectLines(text, #"""
            public struct Thing: JSONModel, Hashable, Sendable {
            public var name: String
            public init(name: String) {
            let _name = Checks.required(object, "name", at: path, &violations) { j, p, v in Checks.string(j, at: p, pattern: SchemaPatterns.p1, &v) }
            guard violations.count == start, let _name else { return nil }
            object.set("name", .string(self.name))
            static let p1 = SchemaPattern("^[a-z]{1,3}$")
            """#)
    }

    @Test func inlineAndSharedEnums() {
        let text = generate(document(schemas: """
                Color:
                  type: string
                  enum: [red, dark_blue]
                Pen:
                  type: object
                  properties:
                    color:
                      $ref: "#/components/schemas/Color"
                    mode:
                      type: string
                      enum: [http-check, none]
            """))
        expectLines(text, """
            public enum Color: String, JSONStringEnum, Hashable, Sendable, CaseIterable {
            case red
            case darkBlue = "dark_blue"
            public struct Pen: JSONModel, Hashable, Sendable {
            public var color: Color?
            public var mode: Pen.Mode?
            public enum Mode: String, JSONStringEnum, Hashable, Sendable, CaseIterable {
            case httpCheck = "http-check"
            case none
            let _mode = Checks.optional(object, "mode", at: path, &violations) { j, p, v in Pen.Mode.decode(j, at: p, strict: strict, violations: &v) }
            """)
    }

    @Test func requiredAndDefaults() {
        let text = generate(document(schemas: """
                OptionLine:
                  type: string
                  maxLength: 10
                Box:
                  type: object
                  required: [size, label]
                  properties:
                    size:
                      type: integer
                      format: int32
                      minimum: 1
                      maximum: 9
                      default: 3
                    label:
                      type: string
                    note:
                      allOf:
                        - $ref: "#/components/schemas/OptionLine"
                      default: "x"
                    count:
                      type: integer
                      format: int64
            """))
        expectLines(text, """
            public var size: Int
            public var label: String
            public var note: String
            public var count: Int64?
            public init(size: Int = 3, label: String, note: String = "x", count: Int64? = nil) {
            let _size = Checks.optional(object, "size", at: path, &violations) { j, p, v in Checks.integer(j, at: p, minimum: 1, maximum: 9, format: .int32, &v) } ?? 3
            let _label = Checks.required(object, "label", at: path, &violations) { j, p, v in Checks.string(j, at: p, &v) }
            let _note = Checks.optional(object, "note", at: path, &violations) { j, p, v in Checks.string(j, at: p, maxLength: 10, &v) } ?? "x"
            let _count = Checks.optional(object, "count", at: path, &violations) { j, p, v in Checks.int64(j, at: p, &v) }
            guard violations.count == start, let _label else { return nil }
            if let count = self.count { object.set("count", .integer(count)) }
            """)
    }

    @Test func closedObjectRejectsUnknownPropertiesWhenStrict() {
        let text = generate(document(schemas: """
                Closed:
                  type: object
                  additionalProperties: false
                  properties:
                    self:
                      type: boolean
                    items:
                      type: array
                      maxItems: 2
                      items:
                        type: string
                        format: ip
            """))
        expectLines(text, """
            public var isSelf: Bool?
            static let jsonKeys: Set<String> = ["self", "items"]
            let _items = Checks.optional(object, "items", at: path, &violations) { j, p, v in Checks.array(j, at: p, maxItems: 2, &v) { j, p, v in Checks.string(j, at: p, ip: true, &v) } }
            if strict { Checks.rejectUnknown(object, known: jsonKeys, at: path, &violations) }
            if let isSelf = self.isSelf { object.set("self", .bool(isSelf)) }
            """)
        let open = generate(document(schemas: """
                Open:
                  type: object
                  properties:
                    a:
                      type: string
            """))
        #expect(!open.contains("rejectUnknown"))
    }

    @Test func mapsBecomeDictionariesAndTypealiases() {
        let text = generate(document(schemas: """
                Scores:
                  type: object
                  additionalProperties:
                    type: integer
                Holder:
                  type: object
                  properties:
                    scores:
                      $ref: "#/components/schemas/Scores"
                    tags:
                      type: object
                      additionalProperties:
                        type: string
            """))
        expectLines(text, """
            public typealias Scores = [String: Int]
            public var scores: Scores?
            public var tags: [String: String]?
            let _scores = Checks.optional(object, "scores", at: path, &violations) { j, p, v in Checks.map(j, at: p, &v) { j, p, v in Checks.integer(j, at: p, &v) } }
            if let scores = self.scores { object.set("scores", Checks.encodeMap(scores) { .integer(Int64($0)) }) }
            """)
    }

    @Test func operationWithPathParameterAndHeader() {
        let spec = document(paths: """
              /things/{id}:
                parameters:
                  - name: id
                    in: path
                    required: true
                    schema:
                      type: string
                      maxLength: 8
                post:
                  operationId: touchThing
                  summary: Touch a thing.
                  parameters:
                    - name: If-Match
                      in: header
                      required: false
                      schema:
                        type: string
                  responses:
                    "200":
                      description: Touched.
                      headers:
                        ETag:
                          schema:
                            type: string
                      content:
                        application/json:
                          schema:
                            $ref: "#/components/schemas/ErrorBody"
                    "412":
                      description: Stale.
            """)
        expectLines(generate(spec, file: "Operations.swift"), """
            public enum TouchThing {
            public static let id = "touchThing"
            public static let method: HTTPRequest.Method = .post
            public static let path = "/things/{id}"
            public struct Input: Sendable, Hashable {
            public var id: String
            public var ifMatch: String?
            public init(id: String, ifMatch: String? = nil) {
            public enum Output: Sendable, Hashable {
            case ok(ErrorBody, etag: String?)
            case preconditionFailed
            func touchThing(_ input: Operations.TouchThing.Input) async throws -> Operations.TouchThing.Output
            """)
        expectLines(generate(spec, file: "Router.swift"), """
            if let params = RouterSupport.match(segments, ["things", "{id}"]) {
            if request.method == Operations.TouchThing.method { return try await handleTouchThing(request, params) }
            return Self.error(405, "method not allowed", headers: [("Allow", "POST")])
            let _id = RouterSupport.parameter(pathParameters["id"], at: .parameter("path", "id"), required: true, &violations) { j, p, v in Checks.string(j, at: p, maxLength: 8, &v) }
            let _ifMatch = RouterSupport.parameter(RouterSupport.header(request.headerFields, "If-Match"), at: .parameter("header", "If-Match"), required: false, &violations) { j, p, v in Checks.string(j, at: p, &v) }
            guard violations.isEmpty, let _id else {
            let output = try await handler.touchThing(Operations.TouchThing.Input(id: _id, ifMatch: _ifMatch))
            case .ok(let body, let etag):
            return RouterSupport.json(200, body.jsonValue, headers: [("ETag", etag)])
            case .preconditionFailed:
            return RouterSupport.response(412, [], contentType: nil)
            """)
        expectLines(generate(spec, file: "Client.swift"), """
            public func touchThing(_ input: Operations.TouchThing.Input) async throws -> Operations.TouchThing.Output {
            let path = OpenAPIDocument.basePath + "/things/" + ClientSupport.encode(input.id)
            ClientSupport.setHeader(&request, "If-Match", input.ifMatch)
            let (response, responseBody) = try await transport.send(request, body: nil, operationID: Operations.TouchThing.id, idempotent: input.ifMatch != nil)
            case 412:
            return .preconditionFailed
            """)
    }

    @Test func diagnosticsAreCollectedNotThrown() {
        let result = Generator.generate(spec: document(schemas: """
                Bad:
                  type: object
                  properties:
                    inner:
                      type: object
                      properties:
                        x:
                          type: string
            """))
        #expect(result.hasErrors)
        #expect(result.diagnostics.contains { $0.location.contains("Bad/properties/inner") })
        #expect(Generator.generate(spec: "not: [valid").hasErrors)
    }

    @Test func namingRules() {
        #expect(Names.member("frontend_ipaddress") == "frontendIpaddress")
        #expect(Names.member("self") == "isSelf")
        #expect(Names.member("default") == "`default`")
        #expect(Names.upperCamel("getOpenAPI") == "GetOpenAPI")
        #expect(Names.upperCamel("desired_state") == "DesiredState")
        #expect(TranslationState.headerMember("ETag") == "etag")
        #expect(TranslationState.headerMember("If-Match") == "ifMatch")
    }
}
