import FlexLBAPI
import FlexLBClient
import HTTPTypes
import Testing

@Suite struct FlexLBClientTests {
    static let config = InstanceConfig(
        name: "web", frontendInterface: "eth0", frontendIpaddress: "192.168.1.10", frontendNetPrefix: 24,
        endpoints: [
            Endpoint(frontendPort: 8080, backendServers: [BackendServer(name: "s1", ipaddress: "10.0.0.1", port: 30080)])
        ])

    static var instanceJSON: String {
        let config = String(decoding: Self.config.jsonBytes(), as: UTF8.self)
        return #"{"id":7,"config":\#(config),"status":{"n1":"up"},"desired_state":"running","version":3}"#
    }

    static let etagHeader: HTTPFields = [.eTag: "\"3\""]

    @Test func createSendsConfigOnceAndReturnsETag() async throws {
        let fake = FakeTransport([(200, Self.etagHeader, Self.instanceJSON)])
        let client = FlexLBClient(transport: fake)
        let created = try await client.create(Self.config)
        #expect(created.value.id == 7)
        #expect(created.value.config == Self.config)
        #expect(created.etag == "\"3\"")
        let sent = try #require(fake.sent.first)
        #expect(fake.sent.count == 1)
        #expect(sent.request.method == .post)
        #expect(sent.request.path == "/flexlb/v1/instances")
        #expect(!sent.idempotent)
        let body = try InstanceConfig.decode(jsonBytes: try #require(sent.body))
        #expect(body == Self.config)
    }

    @Test func modifySendsIfMatchAndIsIdempotent() async throws {
        let fake = FakeTransport([(200, Self.etagHeader, Self.instanceJSON)])
        _ = try await FlexLBClient(transport: fake).modify(Self.config, ifMatch: "\"2\"")
        let sent = try #require(fake.sent.first)
        #expect(sent.request.method == .put)
        #expect(sent.request.headerFields[.ifMatch] == "\"2\"")
        #expect(sent.idempotent)
    }

    @Test func startWithIfMatchIsIdempotentWithoutIsNot() async throws {
        let fake = FakeTransport([(200, [:], Self.instanceJSON), (200, [:], Self.instanceJSON)])
        let client = FlexLBClient(transport: fake)
        _ = try await client.start("web", ifMatch: "*")
        _ = try await client.stop("web")
        #expect(fake.sent.map(\.request.path) == ["/flexlb/v1/instances/web/start", "/flexlb/v1/instances/web/stop"])
        #expect(fake.sent.map(\.idempotent) == [true, false])
    }

    @Test func listPassesNameSubstring() async throws {
        let fake = FakeTransport([(200, [:], "[\(Self.instanceJSON)]")])
        let instances = try await FlexLBClient(transport: fake).list(nameContains: "we")
        #expect(instances.map(\.config.name) == ["web"])
        #expect(fake.sent.first?.request.path == "/flexlb/v1/instances?name=we")
    }

    @Test func badRequestCarriesEveryViolation() async throws {
        let body = #"{"message":"invalid instance","violations":[{"path":"$.endpoints[0].frontend_port","message":"must be at least 1"},{"path":"$.name","message":"does not match pattern"}]}"#
        let fake = FakeTransport([(400, [:], body)])
        let error = await #expect(throws: FlexLBError.self) {
            try await FlexLBClient(transport: fake).create(Self.config)
        }
        let e = try #require(error)
        #expect(e.kind == .badRequest)
        #expect(e.isBadRequest && e.isAPIError && !e.isNotFound)
        #expect(e.status == 400)
        #expect(e.violations.map(\.path) == ["$.endpoints[0].frontend_port", "$.name"])
        #expect(e.description == """
            invalid instance (HTTP 400)
              $.endpoints[0].frontend_port: must be at least 1
              $.name: does not match pattern
            """)
    }

    @Test(arguments: [
        (404, FlexLBError.Kind.notFound), (403, .forbidden), (412, .preconditionFailed), (500, .serverError),
    ])
    func deleteMapsStatuses(status: Int, kind: FlexLBError.Kind) async throws {
        let fake = FakeTransport([(status, [:], #"{"message":"nope"}"#)])
        let error = await #expect(throws: FlexLBError.self) {
            try await FlexLBClient(transport: fake).delete("web")
        }
        #expect(error?.kind == kind)
        #expect(error?.status == status)
        #expect(error?.message == "nope")
    }

    @Test func undocumentedStatusKeepsServerMessage() async throws {
        let fake = FakeTransport([(401, [:], #"{"message":"client certificate required"}"#), (502, [:], "<html>bad gateway</html>")])
        let client = FlexLBClient(transport: fake)
        let first = await #expect(throws: FlexLBError.self) { try await client.get("web") }
        #expect(first?.kind == .unexpectedStatus)
        #expect(first?.message == "client certificate required")
        let second = await #expect(throws: FlexLBError.self) { try await client.get("web") }
        #expect(second?.kind == .serverError)
        #expect(second?.status == 502)
    }

    @Test func malformedResponseIsInvalidResponse() async throws {
        let fake = FakeTransport([(200, [:], #"{"id":"x"}"#)])
        let error = await #expect(throws: FlexLBError.self) { try await FlexLBClient(transport: fake).get("web") }
        #expect(error?.kind == .invalidResponse)
        #expect(error?.violations.isEmpty == false)
    }

    @Test func readyAcceptsServiceUnavailable() async throws {
        let fake = FakeTransport([(503, [:], #"{"status":"not_ready","checks":{"store":"ok","haproxy":"starting"}}"#)])
        let probe = try await FlexLBClient(transport: fake).ready()
        #expect(probe.status == .notReady)
    }

    @Test func transportErrorsBecomeConnectionErrors() async throws {
        let fake = FakeTransport([])
        let error = await #expect(throws: FlexLBError.self) { try await FlexLBClient(transport: fake).nodes() }
        #expect(error?.isConnectionFailure == true)
        #expect(error?.isAPIError == false)
    }
}
