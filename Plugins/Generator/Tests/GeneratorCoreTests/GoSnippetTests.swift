import Testing
@testable import GeneratorCore

/// Small specs through the Go renderer: each test pins one rule of the generated Go.
@Suite struct GoSnippetTests {
    func go(_ spec: String, file: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        let result = Generator.generateGo(spec: spec)
        #expect(!result.hasErrors, "\(result.diagnostics)", sourceLocation: sourceLocation)
        #expect(result.files.map(\.name) == generatedGoFileNames, sourceLocation: sourceLocation)
        return result.files.first { $0.name == file }?.contents ?? ""
    }

    static let thing = document(schemas: """
            Name:
              type: string
              description: A name.
              pattern: "^(?!\\\\.+$)[a-z.]{1,8}$"
            Thing:
              type: object
              description: A thing.
              additionalProperties: false
              required: [name, mode, server_ids]
              properties:
                name:
                  $ref: "#/components/schemas/Name"
                mode:
                  type: string
                  enum: [tcp, http-check]
                  default: tcp
                vip_address:
                  anyOf:
                    - type: string
                      format: ipv4
                      maxLength: 15
                    - type: string
                      format: ipv6
                      maxLength: 45
                server_ids:
                  type: array
                  maxItems: 3
                  items:
                    type: integer
                    format: int32
                    minimum: 1
                labels:
                  type: object
                  additionalProperties:
                    type: string
        """)

    @Test func structFieldsFollowRequiredAndDefaults() {
        expectLines(go(Self.thing, file: "models_gen.go"), """
            // ThingMode is a string enum of openapi.yaml (Thing.Mode): one of tcp, http-check.
            type ThingMode string
            const ThingModeTCP ThingMode = "tcp"
            const ThingModeHTTPCheck ThingMode = "http-check"
            // Thing is the Thing schema of openapi.yaml. A thing.
            type Thing struct {
            // Name is "name": A name.
            Name string `json:"name"`
            // Optional; default "tcp" (ThingModeTCP) (see ApplyDefaults). Constraints: one of tcp, http-check.
            Mode *ThingMode `json:"mode,omitempty"`
            VIPAddress *string `json:"vip_address,omitempty"`
            ServerIDs []int32 `json:"server_ids"`
            Labels map[string]string `json:"labels,omitempty"`
            func (m *Thing) ApplyDefaults() {
            if m.Mode == nil {
            v := ThingModeTCP
            m.Mode = &v
            """)
    }

    @Test func validatorMirrorsTheServerChecks() {
        expectLines(go(Self.thing, file: "validate_gen.go"), #"""
            var pattern1 = newPattern(`^(?!\.+$)[a-z.]{1,8}$`, `^(?:[a-z.]{1,8}$)$`, `^(?:\.+$)`)
            func (m Thing) Validate() error {
            return validateValue(m, validateThing)
            func validateThing(v *validator, j interface{}, p string) {
            if j, p, ok := v.required(o, p, "name"); ok {
            v.str(j, p, strRules{pattern: pattern1})
            if j, p, ok := v.optional(o, p, "mode"); ok {
            validateThingMode(v, j, p)
            if j, p, ok := v.optional(o, p, "vip_address"); ok {
            v.str(j, p, strRules{hasMaxLength: true, maxLength: 45, ip: true})
            if items0, ok := v.array(j, p, 0, 3); ok {
            for i0, j0 := range items0 {
            v.integer(j0, index(p, i0), intRules{int32: true, hasMinimum: true, minimum: 1})
            for _, k0 := range sortedKeys(entries0) {
            v.str(entries0[k0], key(p, k0), strRules{})
            v.closed(o, p, "name", "mode", "vip_address", "server_ids", "labels")
            func validateThingMode(v *validator, j interface{}, p string) {
            v.enum(j, p, "tcp", "http-check")
            case "Thing":
            return validateThing
            """#)
    }

    @Test func oneMethodPerOperationWithPathParametersAndHeaderOptions() {
        let spec = document(schemas: """
                Thing:
                  type: object
                  properties:
                    name:
                      type: string
            """, paths: """
              /things/{name}/stop:
                post:
                  operationId: stop
                  x-go-name: StopThing
                  summary: Stop a thing.
                  parameters:
                    - name: name
                      in: path
                      required: true
                      schema:
                        type: string
                        maxLength: 8
                    - name: If-Match
                      in: header
                      required: false
                      schema:
                        type: string
                  responses:
                    "200":
                      description: ok
                      content:
                        application/json:
                          schema:
                            $ref: "#/components/schemas/Thing"
                    "404":
                      description: missing
              /things:
                get:
                  operationId: listThings
                  parameters:
                    - name: name
                      in: query
                      schema:
                        type: string
                  responses:
                    "200":
                      description: ok
                      content:
                        application/json:
                          schema:
                            type: array
                            items:
                              $ref: "#/components/schemas/Thing"
            """)
        expectLines(go(spec, file: "client_gen.go"), """
            const basePath = "/base"
            func IfMatch(value string) CallOption {
            return withHeader("If-Match", value)
            // StopThing: Stop a thing.
            // POST /base/things/{name}/stop (operationId stop); documented statuses 200, 404. Accepts the IfMatch option.
            // Not idempotent: sent again only when no endpoint received it.
            func (c *Client) StopThing(ctx context.Context, name string, opts ...CallOption) (*Thing, error) {
            v.str(name, key("path", "name"), strRules{hasMaxLength: true, maxLength: 8})
            r := &request{operation: "stop", method: "POST", path: "/things/" + pathEscape(name) + "/stop", success: 200}
            var out Thing
            return &out, nil
            func (c *Client) ListThings(ctx context.Context, name string, opts ...CallOption) ([]Thing, error) {
            if name != "" {
            r := &request{operation: "listThings", method: "GET", path: "/things", success: 200, idempotent: true}
            r.query("name", name)
            """)
    }

    @Test func lookaroundGoCannotRunIsAnError() {
        let result = Generator.generateGo(spec: document(schemas: """
                Thing:
                  type: object
                  properties:
                    name:
                      type: string
                      pattern: "^a(?=b)"
            """))
        #expect(result.diagnostics.contains { $0.severity == .error && $0.message.contains("lookaround") })
    }

    @Test(arguments: [
        ("frontend_ipaddress", "FrontendIPAddress", "frontendIPAddress"), ("ca_cert", "CACert", "caCert"),
        ("If-Match", "IfMatch", "ifMatch"), ("id", "ID", "id"), ("getOpenAPI", "GetOpenAPI", "getOpenAPI"),
        ("type", "Type", "typeValue"), ("not_ready", "NotReady", "notReady"),
    ])
    func goNames(_ json: String, _ exported: String, _ local: String) {
        #expect(GoNames.exported(json) == exported)
        #expect(GoNames.local(json) == local)
    }
}
