import FlexLBAPI
import FlexLBCerts
import FlexLBClient
import FlexLBServer
import Foundation
import HTTPTypes
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// The shared conformance scenarios (test/conformance/scenarios.json) with the Swift client against
/// flexlbd booted in-process over real mutual TLS. A valid body goes through the typed
/// FlexLBClient method; a body the typed models refuse is checked with the generated decoder (its
/// violations must be exactly the scenario's) and sent raw through the client's transport.
@Suite(.serialized) struct ScenarioTests {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../test/conformance/scenarios.json").standardizedFileURL

    static func load() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any] ?? [:]
    }

    static func scenarioIDs() -> [String] {
        ((try? load())?["scenarios"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }

    @Test func everyScenario() async throws {
        let document = try Self.load()
        let scenarios = try #require(document["scenarios"] as? [[String: Any]])
        #expect(scenarios.count > 50)
        try await withNode { client, failover, transport in
            for scenario in scenarios {
                let id = scenario["id"] as? String ?? "?"
                var etag: String?
                for (index, step) in (scenario["steps"] as? [[String: Any]] ?? []).enumerated() {
                    let c = step["endpoints"] as? String == "dead-first" ? failover : client
                    let result = try await run(step, document: document, client: c, transport: transport, etag: etag,
                                               serverOnly: scenario["server_only"] as? Bool ?? false, id: id)
                    check(step, result, where: "\(id) step \(index)")
                    if (step["expect"] as? [String: Any])?["etag"] as? Bool == true { etag = result.etag }
                }
            }
        }
    }

    struct StepResult {
        var status: Int
        var body: Any?
        var etag: String?
        var violations: [String] = []
    }

    // MARK: Running a step

    func run(_ step: [String: Any], document: [String: Any], client: FlexLBClient, transport: HTTPClientTransport,
             etag: String?, serverOnly: Bool, id: String) async throws -> StepResult {
        let op = step["op"] as? String ?? ""
        let name = step["name"] as? String ?? ""
        var ifMatch = step["if_match"] as? String
        if ifMatch == "$etag" { ifMatch = etag }
        let expect = step["expect"] as? [String: Any] ?? [:]
        var config: InstanceConfig?
        var body: [UInt8]?
        if let spec = step["body"] as? [String: Any] {
            let bytes = try materialize(spec, document)
            body = bytes
            do {
                config = try InstanceConfig.decode(jsonBytes: bytes)
                if expect["status"] as? Int == 400, !serverOnly, step["content_type"] == nil {
                    Issue.record("\(id): the generated decoder accepts a body flexlbd must refuse")
                }
            } catch {
                // The generated decoder is flexlbd's own: exactly the scenario's paths.
                if let wanted = expect["violations"] as? [String], step["content_type"] == nil {
                    #expect(Set(error.violations.map(\.path)) == Set(wanted), "\(id)")
                }
            }
            if step["content_type"] != nil || bytes.count > 512 * 1024 { config = nil }
        }
        do {
            switch op {
            case "readyz": return try StepResult(status: 200, body: json(try await client.readyz().mapValues(\.jsonValue)))
            case "livez":
                guard case .ok(let probe) = try await client.api.livez() else { return StepResult(status: 0) }
                return try StepResult(status: 200, body: json(probe.jsonValue))
            case "ready": return try StepResult(status: 200, body: json(try await client.ready().jsonValue))
            case "listNodes": return try StepResult(status: 200, body: json(.array(try await client.nodes().map(\.jsonValue))))
            case "drainNode": return try StepResult(status: 200, body: json(try await client.drainNode(name).jsonValue))
            case "undrainNode": return try StepResult(status: 200, body: json(try await client.undrainNode(name).jsonValue))
            case "getOpenAPI":
                guard case .ok(let text) = try await client.api.getOpenAPI() else { return StepResult(status: 0) }
                return StepResult(status: 200, body: text)
            case "list":
                let query = (step["query"] as? [String: String])?["name"]
                return try StepResult(status: 200, body: json(.array(try await client.list(nameContains: query).map(\.jsonValue))))
            case "get": return try versioned(try await client.get(name))
            case "stop": return try versioned(try await client.stop(name, ifMatch: ifMatch))
            case "start": return try versioned(try await client.start(name, ifMatch: ifMatch))
            case "delete":
                try await client.delete(name, ifMatch: ifMatch)
                return StepResult(status: 200, body: ["name": name])
            case "create", "modify":
                if let config {
                    return try versioned(op == "create" ? try await client.create(config) : try await client.modify(config, ifMatch: ifMatch))
                }
                return try await raw(op, body: body ?? [], contentType: step["content_type"] as? String, ifMatch: ifMatch, transport)
            default:
                Issue.record("unknown op \(op)")
                return StepResult(status: 0)
            }
        } catch let error as FlexLBError {
            return StepResult(status: error.status ?? 0, body: ["message": error.message], violations: error.violations.map(\.path))
        }
    }

    func versioned(_ v: Versioned<Instance>) throws -> StepResult {
        StepResult(status: 200, body: try json(v.value.jsonValue), etag: v.etag)
    }

    func json(_ value: JSONValue) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(value.serialized()), options: [.fragmentsAllowed])
    }

    func json(_ map: [String: JSONValue]) throws -> Any {
        try json(.object(JSONObject(map.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })))
    }

    /// A body the typed API cannot carry, through the same transport (failover, mutual TLS).
    func raw(_ op: String, body: [UInt8], contentType: String?, ifMatch: String?, _ transport: HTTPClientTransport) async throws -> StepResult {
        var request = HTTPRequest(method: op == "create" ? .post : .put, scheme: nil, authority: nil, path: "/flexlb/v1/instances")
        request.headerFields[.contentType] = contentType ?? "application/json"
        if let ifMatch { request.headerFields[HTTPField.Name("If-Match")!] = ifMatch }
        let (response, data) = try await transport.send(request, body: body, operationID: op, idempotent: false)
        let parsed = try? JSONSerialization.jsonObject(with: Data(data))
        let error = try? ErrorBody.decode(jsonBytes: data, strict: false)
        return StepResult(status: response.status.code, body: parsed, etag: response.headerFields[.eTag],
                          violations: error?.violations?.map(\.path) ?? [])
    }

    func check(_ step: [String: Any], _ result: StepResult, where location: String) {
        let expect = step["expect"] as? [String: Any] ?? [:]
        #expect(result.status == expect["status"] as? Int, "\(location): \(result.body ?? "")")
        if let wanted = expect["violations"] as? [String] {
            #expect(Set(result.violations) == Set(wanted), "\(location)")
        }
        if expect["body"] as? String == "text" {
            #expect((result.body as? String)?.hasPrefix("openapi:") == true, "\(location)")
        }
        for field in expect["fields"] as? [[String: Any]] ?? [] {
            let got = value(at: field["at"] as? [Any] ?? [], in: result.body)
            #expect(equal(got, field["value"]), "\(location): \(field["at"] ?? "") = \(got ?? "nil")")
        }
        if expect["etag"] as? Bool == true {
            #expect(result.etag?.hasPrefix("\"") == true, "\(location): no strong ETag")
        }
    }

    // MARK: Scenario data

    func materialize(_ spec: [String: Any], _ document: [String: Any]) throws -> [UInt8] {
        var doc: Any
        if let literal = spec["literal"] {
            doc = literal
        } else {
            doc = ((document["bodies"] as? [String: Any])?[spec["base"] as? String ?? ""]) ?? [:]
            for set in spec["set"] as? [[String: Any]] ?? [] {
                doc = replacing(doc, at: set["at"] as? [Any] ?? [], with: expand(set["value"] ?? NSNull()))
            }
            for path in spec["remove"] as? [[Any]] ?? [] { doc = replacing(doc, at: path, with: nil) }
        }
        return Array(try JSONSerialization.data(withJSONObject: doc, options: [.fragmentsAllowed]))
    }

    func expand(_ value: Any) -> Any {
        if let object = value as? [String: Any], object.count == 1 {
            if let r = object["$repeat"] as? [Any], let s = r[0] as? String, let n = r[1] as? Int {
                return String(repeating: s, count: n)
            }
            if let r = object["$fill"] as? [Any], let n = r[1] as? Int { return Array(repeating: r[0], count: n) }
        }
        return value
    }

    /// `doc` with the value at `path` replaced, appended (index one past the end) or removed (nil).
    func replacing(_ doc: Any, at path: [Any], with value: Any?) -> Any {
        guard let first = path.first else { return value ?? NSNull() }
        let rest = Array(path.dropFirst())
        if var object = doc as? [String: Any], let key = first as? String {
            if rest.isEmpty, value == nil { object.removeValue(forKey: key) } else { object[key] = replacing(object[key] ?? NSNull(), at: rest, with: value) }
            return object
        }
        if var array = doc as? [Any], let index = first as? Int {
            if index == array.count { array.append(NSNull()) }
            if rest.isEmpty, value == nil { array.remove(at: index) } else { array[index] = replacing(array[index], at: rest, with: value) }
            return array
        }
        return doc
    }

    func value(at path: [Any], in doc: Any?) -> Any? {
        var current = doc
        for part in path {
            if let key = part as? String { current = (current as? [String: Any])?[key] }
            else if let index = part as? Int, let array = current as? [Any], index < array.count { current = array[index] }
            else { return nil }
        }
        return current
    }

    func equal(_ a: Any?, _ b: Any?) -> Bool {
        switch (a, b) {
        case (let x as String, let y as String): x == y
        case (let x as NSNumber, let y as NSNumber): x == y
        default: false
        }
    }

    // MARK: The node

    /// Boots flexlbd in-process on 127.0.0.1 (certificates from FlexLBCerts, data plane off) and runs
    /// `body` with a client of it, a client whose first endpoint is dead, and the client's transport.
    private func withNode(_ body: (FlexLBClient, FlexLBClient, HTTPClientTransport) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flexlb-sc-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certs = CertificateDirectory(path: directory + "/certs")
        var configuration = try InProcessNode.configuration(name: "sc", certs: certs, directory: directory)
        // The scenarios use loopback VIPs and backends on `lo` (no data plane runs here), which the
        // default address policy refuses.
        configuration.addressPolicy.allowLoopbackVIPs = true
        configuration.addressPolicy.allowLoopbackBackends = true
        let node = try await InProcessNode.start(configuration, within: .seconds(10))
        defer { node.cancel() }
        let bound = node.port
        func transport(_ endpoints: [APIEndpoint]) throws -> HTTPClientTransport {
            try HTTPClientTransport(configuration: .init(
                endpoints: endpoints, caFile: certs.file("ca.crt"), certificateFile: certs.file("client.crt"),
                privateKeyFile: certs.file("client.key"), timeout: .seconds(10)))
        }
        let live = try transport([APIEndpoint(host: "127.0.0.1", port: bound)])
        let deadFirst = try transport([APIEndpoint(host: "127.0.0.1", port: 1), APIEndpoint(host: "127.0.0.1", port: bound)])
        let client = FlexLBClient(transport: live)
        let failover = FlexLBClient(transport: deadFirst)
        do {
            try await body(client, failover, live)
        } catch {
            try? await live.shutdown()
            try? await deadFirst.shutdown()
            await node.stop()
            throw error
        }
        try await live.shutdown()
        try await deadFirst.shutdown()
        try await node.shutdown()
    }
}
