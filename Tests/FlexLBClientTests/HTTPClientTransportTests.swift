import FlexLBAPI
import FlexLBCerts
import FlexLBClient
import Foundation
import Testing

@Suite struct HTTPClientTransportTests {
    /// Certificates in a temporary directory, removed afterwards even on failure.
    private func withCertificates(_ body: (CertificateDirectory) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("flexlb-transport-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let pki = CertificateDirectory(path: path)
        _ = try pki.initialize(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
        try await body(pki)
    }

    @Test func missingCertificateFileIsAConfigurationError() async throws {
        try await withCertificates { pki in
            let error = #expect(throws: FlexLBError.self) {
                try FlexLBClient(configuration: .init(
                    caFile: pki.file("ca.crt"), certificateFile: pki.file("nope.crt"), privateKeyFile: pki.file("client.key")))
            }
            #expect(error?.kind == .configuration)
            #expect(error?.message.contains("nope.crt") == true)
        }
    }

    @Test func unreachableEndpointsFailWithConnectionErrorNamingThem() async throws {
        try await withCertificates { pki in
            // Port 1 on loopback is closed: every attempt is refused before anything is sent,
            // so even a non-idempotent create moves on to the second endpoint.
            let client = try FlexLBClient(configuration: .init(
                endpoints: [try APIEndpoint(parsing: "https://127.0.0.1:1"), try APIEndpoint(parsing: "https://localhost:1")],
                caFile: pki.file("ca.crt"), certificateFile: pki.file("client.crt"), privateKeyFile: pki.file("client.key"),
                timeout: .seconds(2), connectTimeout: .seconds(1), retryBackoff: .milliseconds(10)))
            let config = FlexLBClientTests.config
            let error = await #expect(throws: FlexLBError.self) { try await client.create(config) }
            try await client.shutdown()
            #expect(error?.isConnectionFailure == true)
            #expect(error?.status == nil)
            #expect(error?.message.contains("https://127.0.0.1:1, https://localhost:1") == true)
        }
    }
}
