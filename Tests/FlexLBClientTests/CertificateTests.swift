import Crypto
import FlexLBCerts
import Foundation
import SwiftASN1
import Testing
import X509

@Suite struct CertificateTests {
    /// A fresh temporary directory, removed at the end of `body` even on failure.
    private func withTemporaryDirectory(_ body: (String) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("flexlb-certs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await body(path + "/pki")
    }

    private func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    private func certificate(_ path: String) throws -> Certificate {
        try Certificate(pemEncoded: String(contentsOfFile: path, encoding: .utf8))
    }

    private func verify(_ leaf: Certificate, root: Certificate, hostname: String?, ip: String?, client: Bool) async -> Bool {
        var verifier = Verifier(rootCertificates: CertificateStore([root])) {
            RFC5280Policy()
            if !client {
                ServerIdentityPolicy(serverHostname: hostname, serverIP: ip)
            }
        }
        let result = await verifier.validate(leaf: leaf, intermediates: CertificateStore())
        if case .validCertificate = result { return true }
        return false
    }

    @Test func initWritesSixFilesWithSANsEKUsAndModes() async throws {
        try await withTemporaryDirectory { dir in
            let pki = CertificateDirectory(path: dir)
            let result = try pki.initialize(
                dnsNames: ["localhost", "lb.example.com"], ipAddresses: ["127.0.0.1", "::1", "10.0.0.7"],
                clientName: "admin")
            #expect(result.files.count == 6)
            for name in CertificateDirectory.initFiles {
                let expected = name.hasSuffix(".key") ? 0o600 : 0o644
                #expect(try mode(pki.file(name)) == expected, "\(name)")
            }
            #expect(try mode(dir) == 0o700)

            let ca = try certificate(pki.file("ca.crt"))
            let caConstraints = try #require(try ca.extensions.basicConstraints)
            #expect(caConstraints == .isCertificateAuthority(maxPathLength: 0))
            #expect(try ca.extensions.keyUsage?.keyCertSign == true)

            let server = try certificate(pki.file("server.crt"))
            let sans = try #require(try server.extensions.subjectAlternativeNames)
            #expect(sans.contains(.dnsName("localhost")))
            #expect(sans.contains(.dnsName("lb.example.com")))
            #expect(sans.contains(.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))))
            #expect(sans.contains(.ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1])))))
            #expect(sans.contains(.ipAddress(ASN1OctetString(contentBytes: [10, 0, 0, 7]))))
            let serverEKU = try #require(try server.extensions.extendedKeyUsage)
            #expect(serverEKU.contains(.serverAuth))
            #expect(!serverEKU.contains(.clientAuth))
            #expect(try server.extensions.basicConstraints == .notCertificateAuthority)

            let client = try certificate(pki.file("client.crt"))
            let clientEKU = try #require(try client.extensions.extendedKeyUsage)
            #expect(clientEKU.contains(.clientAuth))
            #expect(!clientEKU.contains(.serverAuth))
            #expect(client.subject.description.contains("CN=admin"))

            // Chains verify against the CA, including host and IP identity.
            #expect(await verify(server, root: ca, hostname: "localhost", ip: nil, client: false))
            #expect(await verify(server, root: ca, hostname: nil, ip: "127.0.0.1", client: false))
            #expect(await verify(server, root: ca, hostname: nil, ip: "::1", client: false))
            #expect(await !verify(server, root: ca, hostname: "other.example.com", ip: nil, client: false))
            #expect(await !verify(server, root: ca, hostname: nil, ip: "10.0.0.8", client: false))
            #expect(await verify(client, root: ca, hostname: nil, ip: nil, client: true))

            // Keys belong to their certificates.
            let serverKey = try P256.Signing.PrivateKey(pemRepresentation: String(contentsOfFile: pki.file("server.key"), encoding: .utf8))
            #expect(Certificate.PublicKey(serverKey.publicKey) == server.publicKey)
        }
    }

    @Test func chainDoesNotVerifyAgainstAnotherCA() async throws {
        let ca = try CertificateAuthority()
        let other = try CertificateAuthority()
        let server = try ca.issueServerCertificate(commonName: "n1", dnsNames: ["n1"], ipAddresses: [])
        #expect(await verify(server.certificate, root: ca.certificate, hostname: "n1", ip: nil, client: false))
        #expect(await !verify(server.certificate, root: other.certificate, hostname: "n1", ip: nil, client: false))
    }

    @Test func refusesToOverwriteWithoutForce() async throws {
        try await withTemporaryDirectory { dir in
            let pki = CertificateDirectory(path: dir)
            _ = try pki.initialize(dnsNames: ["localhost"], ipAddresses: [])
            let before = try String(contentsOfFile: pki.file("ca.crt"), encoding: .utf8)
            #expect(throws: PKIError.fileExists(pki.file("ca.crt"))) {
                try pki.initialize(dnsNames: ["localhost"], ipAddresses: [])
            }
            #expect(try String(contentsOfFile: pki.file("ca.crt"), encoding: .utf8) == before)
            _ = try pki.initialize(dnsNames: ["localhost"], ipAddresses: [], force: true)
            #expect(try String(contentsOfFile: pki.file("ca.crt"), encoding: .utf8) != before)
            #expect(try mode(pki.file("ca.key")) == 0o600)
        }
    }

    @Test func issuesExtraClientFromExistingCA() async throws {
        try await withTemporaryDirectory { dir in
            let pki = CertificateDirectory(path: dir)
            _ = try pki.initialize(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
            let issued = try pki.issueClient(name: "ci-bot", validityDays: 1)
            #expect(issued.certificatePath == pki.file("ci-bot.crt"))
            #expect(try mode(issued.keyPath) == 0o600)
            let ca = try certificate(pki.file("ca.crt"))
            let client = try certificate(issued.certificatePath)
            #expect(client.subject.description.contains("CN=ci-bot"))
            #expect(await verify(client, root: ca, hostname: nil, ip: nil, client: true))
            #expect(client.notValidAfter.timeIntervalSinceNow < 2 * 86400)
            #expect(throws: PKIError.self) { try pki.issueClient(name: "ci-bot") }
        }
    }

    @Test(arguments: ["not-an-ip", "10.0.0.256", "fe80::1%eth0", ""])
    func rejectsInvalidIPAddresses(_ text: String) throws {
        let ca = try CertificateAuthority()
        #expect(throws: PKIError.invalidIPAddress(text)) {
            try ca.issueServerCertificate(commonName: "x", dnsNames: ["x"], ipAddresses: [text])
        }
    }

    @Test func serverCertificateNeedsASAN() throws {
        let ca = try CertificateAuthority()
        #expect(throws: PKIError.noSubjectAlternativeNames) {
            try ca.issueServerCertificate(commonName: "x", dnsNames: [], ipAddresses: [])
        }
    }

    @Test func loadRejectsMismatchedKey() throws {
        let ca = try CertificateAuthority()
        let other = try CertificateAuthority()
        #expect(throws: PKIError.keyMismatch) {
            try CertificateAuthority(certificatePEM: ca.certificatePEM(), privateKeyPEM: other.privateKeyPEM)
        }
        let reloaded = try CertificateAuthority(certificatePEM: ca.certificatePEM(), privateKeyPEM: ca.privateKeyPEM)
        #expect(reloaded.certificate == ca.certificate)
    }
}
