import FlexLBAPI
import HTTPTypes
import Foundation
import Testing

/// Behaviour of the code generated from openapi.yaml (models, router).
@Suite struct GeneratedModelTests {
    static let validConfig = #"""
        {"name": "web", "frontend_interface": "eth0", "frontend_ipaddress": "192.168.1.10", "frontend_net_prefix": 24,
         "endpoints": [{"frontend_port": 80, "backend_servers": [{"name": "b1", "ipaddress": "10.0.0.1", "port": 8080}]}]}
        """#

    static func decode(_ text: String) -> (InstanceConfig?, [Violation]) {
        do {
            return (try InstanceConfig.decode(jsonBytes: Array(text.utf8)), [])
        } catch {
            return (nil, error.violations)
        }
    }

    @Test func validConfigDecodesWithDefaults() throws {
        let (config, violations) = Self.decode(Self.validConfig)
        #expect(violations == [])
        let endpoint = try #require(config?.endpoints.first)
        #expect(endpoint.mode == .tcp)
        #expect(endpoint.balance == "roundrobin")
        #expect(endpoint.frontendOptions == "")
        #expect(endpoint.backendDefaultServer == "inter 2s downinter 5s rise 2 fall 2 slowstart 60s maxconn 2000 maxqueue 2000 weight 100")
        #expect(endpoint.backendServers.first?.options == "")
        #expect(config?.frontendNetPrefix == 24)
    }

    @Test func everyViolationIsReportedWithItsPath() {
        let servers = (0..<1001).map { _ in #"{"name": "b", "ipaddress": "10.0.0.1", "port": 1}"# }.joined(separator: ",")
        let text = """
            {"name": "bad name!", "frontend_interface": 7, "frontend_ipaddress": "10.0.0.1%eth0", "surprise": true,
             "endpoints": [
               {"frontend_port": 70000, "mode": "sctp", "backend_servers": [
                 {"name": "ok", "ipaddress": " 10.0.0.1", "port": "80"},
                 {"ipaddress": "::1", "port": 1, "extra": 1}]},
               {"frontend_port": 1, "backend_servers": [\(servers)]}]}
            """
        let (config, violations) = Self.decode(text)
        #expect(config == nil)
        let expected: Set<Violation> = [
            Violation(path: "$.name", message: #"must match ^(?!\.+$)[A-Za-z0-9\-_.]{1,32}$"#),
            Violation(path: "$.frontend_interface", message: "expected string, got integer"),
            Violation(path: "$.frontend_ipaddress", message: "is not a valid IP address"),
            Violation(path: "$.surprise", message: "unknown property"),
            Violation(path: "$.endpoints[0].frontend_port", message: "must be <= 65535"),
            Violation(path: "$.endpoints[0].mode", message: "must be one of tcp, udp, http"),
            Violation(path: "$.endpoints[0].backend_servers[0].ipaddress", message: "is not a valid IP address"),
            Violation(path: "$.endpoints[0].backend_servers[0].port", message: "expected integer, got string"),
            Violation(path: "$.endpoints[0].backend_servers[1].name", message: "is required"),
            Violation(path: "$.endpoints[0].backend_servers[1].extra", message: "unknown property"),
            Violation(path: "$.endpoints[1].backend_servers", message: "must have at most 1000 items"),
        ]
        #expect(Set(violations) == expected)
        #expect(violations.count == expected.count)
    }

    @Test func missingRequiredAndNonStrictDecoding() throws {
        let (_, violations) = Self.decode(#"{"frontend_ipaddress": "::1", "endpoints": []}"#)
        #expect(Set(violations) == [
            Violation(path: "$.name", message: "is required"),
            Violation(path: "$.frontend_interface", message: "is required"),
            Violation(path: "$.endpoints", message: "must have at least 1 items"),
        ])
        // Unknown properties are accepted when not strict (clients reading responses).
        let lenient = Self.validConfig.replacingOccurrences(of: #""name": "web""#, with: #""name": "web", "x": 1"#)
        #expect(throws: ValidationError.self) { try InstanceConfig.decode(jsonBytes: Array(lenient.utf8)) }
        _ = try InstanceConfig.decode(jsonBytes: Array(lenient.utf8), strict: false)
    }

    @Test(arguments: ["a\nb", "a\u{7}b", "a\r", "tab\there", "é", "check # comment"])
    func optionLineRejectsControlAndNonASCII(_ line: String) {
        let json = JSONValue.object(JSONObject([
            ("name", .string("b")), ("ipaddress", .string("10.0.0.1")), ("port", .integer(1)), ("options", .string(line)),
        ]))
        var violations: [Violation] = []
        #expect(BackendServer.decode(json, at: .root, strict: true, violations: &violations) == nil)
        #expect(violations == [Violation(path: "$.options", message: #"must match ^[\x20-\x22\x24-\x7E]*$"#)])
    }

    @Test(arguments: ["10.0.0.1", "::1", "fe80::1", "2001:db8::8a2e:370:7334", "::ffff:10.0.0.1"])
    func validIPAddresses(_ ip: String) { #expect(Checks.isIPAddress(ip)) }

    @Test(arguments: ["10.0.0.1%eth0", "fe80::1%eth0", " 10.0.0.1", "10.0.0.1 ", "10.0.0", "256.0.0.1", "", "10.0.0.1\u{0}x", "host"])
    func invalidIPAddresses(_ ip: String) { #expect(!Checks.isIPAddress(ip)) }

    @Test func roundTrip() throws {
        let config = InstanceConfig(
            name: "web", frontendInterface: "eth0", frontendIpaddress: "fd00::1", frontendNetPrefix: 64,
            endpoints: [Endpoint(
                frontendPort: 443, frontendSslOptions: FrontendSSLOptions(serverCert: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", serverKey: "-----BEGIN PRIVATE \("KEY")-----\nAAAA\n-----END PRIVATE KEY-----\n", verify: .required),
                mode: .http, balance: "leastconn", backendOptions: ["option httpchk"],
                backendCheckCommands: BackendCheckCommands(checkType: .httpCheck, commands: ["send meth GET uri /"]),
                backendServers: [BackendServer(name: "b1", ipaddress: "fd00::2", port: 8443, checkSslOptions: CheckSSLOptions(clientCert: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", clientKey: "-----BEGIN PRIVATE \("KEY")-----\r\nAAAA\r\n-----END PRIVATE KEY-----\r\n", verify: CheckSSLOptions.Verify.none))])])
        let decoded = try InstanceConfig.decode(jsonBytes: config.jsonBytes())
        #expect(decoded == config)
        let instance = Instance(id: 3, config: config, status: ["n1": .up], lastModified: 1, version: 2,
                                nodes: ["n1": NodeInstanceStatus(state: .pending, vip: .master)])
        #expect(try Instance.decode(jsonBytes: instance.jsonBytes()) == instance)
        let node = Node(name: "n1", state: .dead, readiness: .notReady, isSelf: true)
        #expect(String(decoding: node.jsonBytes(), as: UTF8.self) == #"{"name":"n1","state":"dead","readiness":"not_ready","self":true}"#)
        // Properties come out in spec order.
        let text = String(decoding: config.jsonBytes(), as: UTF8.self)
        #expect(text.hasPrefix(#"{"name":"web","frontend_interface":"eth0","frontend_ipaddress":"fd00::1","frontend_net_prefix":64,"endpoints":[{"frontend_port":443,"frontend_options":"","#))
    }

    // MARK: Router

    struct FakeAPI: APIProtocol {
        func readyz(_ input: Operations.Readyz.Input) async throws -> Operations.Readyz.Output { .ok(["n1": .ready]) }
        func livez(_ input: Operations.Livez.Input) async throws -> Operations.Livez.Output { .ok(Probe(status: .ok)) }
        func ready(_ input: Operations.Ready.Input) async throws -> Operations.Ready.Output { .serviceUnavailable(Probe(status: .notReady)) }
        func listNodes(_ input: Operations.ListNodes.Input) async throws -> Operations.ListNodes.Output { .ok([]) }
        func drainNode(_ input: Operations.DrainNode.Input) async throws -> Operations.DrainNode.Output { .notFound(ErrorBody(message: "no")) }
        func undrainNode(_ input: Operations.UndrainNode.Input) async throws -> Operations.UndrainNode.Output { .notFound(ErrorBody(message: "no")) }
        func getOpenAPI(_ input: Operations.GetOpenAPI.Input) async throws -> Operations.GetOpenAPI.Output { .ok(OpenAPIDocument.yaml) }
        func create(_ input: Operations.Create.Input) async throws -> Operations.Create.Output {
            .ok(Instance(id: 1, config: input.body, status: [:]), etag: "\"1\"")
        }
        func list(_ input: Operations.List.Input) async throws -> Operations.List.Output { .ok([]) }
        func modify(_ input: Operations.Modify.Input) async throws -> Operations.Modify.Output {
            .preconditionFailed(ErrorBody(message: "stale \(input.ifMatch ?? "-")"))
        }
        func get(_ input: Operations.Get.Input) async throws -> Operations.Get.Output { .notFound(ErrorBody(message: "no \(input.name)")) }
        func delete(_ input: Operations.Delete.Input) async throws -> Operations.Delete.Output { .ok(Deleted(name: input.name)) }
        func stop(_ input: Operations.Stop.Input) async throws -> Operations.Stop.Output { throw CancellationError() }
        func start(_ input: Operations.Start.Input) async throws -> Operations.Start.Output { .forbidden(ErrorBody(message: "no")) }
    }

    let router = APIRouter(handler: FakeAPI())

    func send(_ method: HTTPRequest.Method, _ path: String, query: String? = nil, headers: HTTPFields = [:], body: String = "") async throws -> (ServerResponse, String) {
        let response = try await router.respond(to: ServerRequest(method: method, path: path, query: query, headerFields: headers, body: Array(body.utf8)))
        return (response, String(decoding: response.body, as: UTF8.self))
    }

    @Test func unknownPathIs404AndWrongMethodIs405() async throws {
        let (r1, b1) = try await send(.get, "/flexlb/v1/nope")
        #expect(r1.status.code == 404)
        #expect(b1.contains(#""message""#))
        #expect(try await send(.get, "/other/instances").0.status.code == 404)
        let (r2, _) = try await send(.patch, "/flexlb/v1/instances/web")
        #expect(r2.status.code == 405)
        #expect(r2.headerFields[HTTPField.Name("Allow")!] == "GET, DELETE")
        #expect(APIRouter<FakeAPI>.operationID(for: ServerRequest(method: .post, path: "/flexlb/v1/instances/a/stop", query: nil, headerFields: [:], body: [])) == "stop")
    }

    @Test func successEncodesBodyAndHeaders() async throws {
        let (r, body) = try await send(.post, "/flexlb/v1/instances", body: Self.validConfig)
        #expect(r.status.code == 200)
        #expect(r.headerFields[.contentType] == "application/json")
        #expect(r.headerFields[HTTPField.Name("ETag")!] == "\"1\"")
        #expect(body.hasPrefix(#"{"id":1,"config":{"name":"web""#))
        let (yaml, text) = try await send(.get, "/flexlb/v1/openapi.yaml")
        #expect(yaml.headerFields[.contentType] == "application/yaml")
        #expect(text == OpenAPIDocument.yaml)
        #expect(try await send(.get, "/flexlb/v1/ready").0.status.code == 503)
        #expect(try await send(.get, "/flexlb/v1/readyz").1 == #"{"n1":"ready"}"#)
    }

    @Test func pathParametersArePercentDecodedAndValidated() async throws {
        let (r, body) = try await send(.get, "/flexlb/v1/instances/we%2Db")
        #expect(r.status.code == 404)
        #expect(body == #"{"message":"no we-b"}"#)
        let (bad, badBody) = try await send(.get, "/flexlb/v1/instances/a%20b")
        #expect(bad.status.code == 400)
        #expect(badBody.contains(#""path":"path.name""#))
    }

    @Test func violationsFromParametersAndBodyComeTogether() async throws {
        var headers = HTTPFields()
        headers[HTTPField.Name("If-Match")!] = String(repeating: "a", count: 129)
        let (r, body) = try await send(.put, "/flexlb/v1/instances", headers: headers, body: #"{"name": "x"}"#)
        #expect(r.status.code == 400)
        let error = try ErrorBody.decode(jsonBytes: r.body)
        #expect(error.message == "request validation failed")
        let paths = Set(error.violations?.map(\.path) ?? [])
        #expect(paths == ["header.If-Match", "$.frontend_interface", "$.frontend_ipaddress", "$.endpoints"], "\(body)")
    }

    @Test func emptyOrMalformedBodyIs400() async throws {
        let (r, body) = try await send(.post, "/flexlb/v1/instances")
        #expect(r.status.code == 400)
        #expect(body.contains("request body is required"))
        let (r2, body2) = try await send(.post, "/flexlb/v1/instances", body: "{")
        #expect(r2.status.code == 400)
        #expect(body2.contains("malformed JSON"))
        let (r3, _) = try await send(.get, "/flexlb/v1/instances", query: "name=a%20b")
        #expect(r3.status.code == 400)
    }

    @Test func handlerOutputsAndErrors() async throws {
        var headers = HTTPFields()
        headers[HTTPField.Name("If-Match")!] = "\"7\""
        let (r, body) = try await send(.put, "/flexlb/v1/instances", headers: headers, body: Self.validConfig)
        #expect(r.status.code == 412)
        #expect(body == #"{"message":"stale \"7\""}"#)
        await #expect(throws: CancellationError.self) { try await send(.post, "/flexlb/v1/instances/a/stop") }
    }
}
