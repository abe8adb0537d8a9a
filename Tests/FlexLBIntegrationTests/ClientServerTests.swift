import FlexLBAPI
import FlexLBCerts
import FlexLBClient
import FlexLBServer
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// The Swift client library against a real flexlbd booted in-process: real certificates from
/// FlexLBCerts, real mutual TLS, real SQLite. The data plane is off (nothing touches the network
/// beyond loopback).
@Suite(.serialized) struct ClientServerTests {
    /// Boots a node on 127.0.0.1 with a free port, runs `body` with a client for it, shuts down.
    private func withNode(_ body: (FlexLBClient, String, Int) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flexlb-it-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certs = CertificateDirectory(path: directory + "/certs")
        let configuration = try InProcessNode.configuration(name: "it", certs: certs, directory: directory)
        let node = try await InProcessNode.start(configuration, within: .seconds(60))
        defer { node.cancel() }
        let bound = node.port

        // A dead endpoint first: the client fails over to the live one.
        let client = try FlexLBClient(configuration: .init(
            endpoints: [APIEndpoint(host: "127.0.0.1", port: 1), APIEndpoint(host: "127.0.0.1", port: bound)],
            caFile: certs.file("ca.crt"),
            certificateFile: certs.file("client.crt"),
            privateKeyFile: certs.file("client.key"),
            timeout: .seconds(5)
        ))
        do {
            try await body(client, directory, bound)
        } catch {
            try? await client.shutdown()
            await node.stop()
            throw error
        }
        try await client.shutdown()
        try await node.shutdown()
    }

    private func instance(_ name: String, vip: String, port: Int = 8080) -> InstanceConfig {
        InstanceConfig(
            name: name, frontendInterface: "eth0", frontendIpaddress: vip, frontendNetPrefix: 24,
            endpoints: [Endpoint(frontendPort: port, backendServers: [BackendServer(name: "web1", ipaddress: "10.0.0.1", port: 80, options: "check")])]
        )
    }

    @Test func lifecycleOverMutualTLS() async throws {
        try await withNode { client, _, _ in
            #expect(try await client.readyz() == ["it": .ready])
            let created = try await client.create(instance("web", vip: "10.99.0.1"))
            #expect(created.value.config.endpoints[0].balance == "roundrobin")
            #expect(created.value.status == ["it": .pending])
            let etag = try #require(created.etag)

            let fetched = try await client.get("web")
            #expect(fetched.etag == etag)
            #expect(try await client.list(nameContains: "we").map(\.config.name) == ["web"])
            #expect(try await client.list(nameContains: "zz").isEmpty)

            var changed = instance("web", vip: "10.99.0.1", port: 9090)
            changed.endpoints[0].balance = "leastconn"
            let modified = try await client.modify(changed, ifMatch: etag)
            #expect(modified.value.config.endpoints[0].frontendPort == 9090)

            // The old ETag no longer matches: 412, and nothing changes.
            await #expect { try await client.stop("web", ifMatch: etag) } throws: { ($0 as? FlexLBError)?.isPreconditionFailed == true }
            let stopped = try await client.stop("web", ifMatch: modified.etag)
            #expect(stopped.value.desiredState == .stopped)
            #expect(try await client.start("web").value.desiredState == .running)

            try await client.delete("web")
            await #expect { try await client.get("web") } throws: { ($0 as? FlexLBError)?.isNotFound == true }
        }
    }

    @Test func errorsCarryTheServersMessageAndEveryViolation() async throws {
        try await withNode { client, _, _ in
            _ = try await client.create(instance("a", vip: "10.99.0.2"))
            // Same VIP:port as "a": 409 naming the owner.
            await #expect {
                try await client.create(instance("b", vip: "10.99.0.2"))
            } throws: { error in
                guard let error = error as? FlexLBError else { return false }
                return error.isConflict && error.message.contains("instance a")
            }
            // Two cross-field violations, both reported with their paths.
            var bad = instance("c", vip: "10.99.0.3")
            bad.frontendNetPrefix = 64
            bad.endpoints.append(bad.endpoints[0])
            await #expect {
                try await client.create(bad)
            } throws: { error in
                guard let error = error as? FlexLBError, error.isBadRequest else { return false }
                return Set(error.violations.map(\.path)) == ["$.frontend_net_prefix", "$.endpoints[1].frontend_port"]
            }
            // The cluster-endpoint instance is read-only.
            await #expect { try await client.create(instance("FLEXLB", vip: "10.99.0.4")) } throws: { ($0 as? FlexLBError)?.isForbidden == true }
            #expect(try await client.list().map(\.config.name) == ["a"])
        }
    }
}
