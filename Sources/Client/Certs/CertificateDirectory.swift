import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The files of a FlexLB PKI in one directory: `ca.crt`, `ca.key`, `server.crt`, `server.key`,
/// `client.crt`, `client.key` (and `NAME.crt`/`NAME.key` for extra clients).
public struct CertificateDirectory: Sendable {
    /// The directory path.
    public let path: String

    /// A directory at `path` (not created until something is written).
    public init(path: String) {
        self.path = path
    }

    /// Path of a file in the directory.
    public func file(_ name: String) -> String {
        path.hasSuffix("/") ? path + name : path + "/" + name
    }

    /// What ``initialize(dnsNames:ipAddresses:clientName:validityDays:force:)`` wrote.
    public struct Initialized: Sendable {
        /// The new CA.
        public let authority: CertificateAuthority
        /// The server certificate.
        public let server: IssuedCertificate
        /// The client certificate.
        public let client: IssuedCertificate
        /// Every path written, certificates before keys.
        public let files: [String]
    }

    /// Names of the six files written by ``initialize(dnsNames:ipAddresses:clientName:validityDays:force:)``.
    public static let initFiles = ["ca.crt", "ca.key", "server.crt", "server.key", "client.crt", "client.key"]

    /// Creates a new CA, a server certificate and a client certificate and writes them.
    ///
    /// Without `force`, nothing is written if any of the six files exists. The directory is
    /// created with mode 0700 if missing.
    /// - Parameters:
    ///   - dnsNames: DNS SANs of the server certificate.
    ///   - ipAddresses: IP SANs of the server certificate.
    ///   - clientName: common name of the client certificate.
    ///   - validityDays: validity of the leaf certificates (the CA gets ten years, or more if asked).
    ///   - force: replace existing files.
    public func initialize(
        dnsNames: [String],
        ipAddresses: [String],
        clientName: String = "admin",
        validityDays: Int = CertificateAuthority.defaultLeafValidityDays,
        force: Bool = false
    ) throws -> Initialized {
        if !force {
            for name in Self.initFiles where PEMFile.exists(file(name)) {
                throw PKIError.fileExists(file(name))
            }
        }
        let authority = try CertificateAuthority(
            validityDays: max(CertificateAuthority.defaultValidityDays, validityDays))
        let server = try authority.issueServerCertificate(
            commonName: dnsNames.first ?? ipAddresses.first ?? "flexlbd",
            dnsNames: dnsNames, ipAddresses: ipAddresses, validityDays: validityDays)
        let client = try authority.issueClientCertificate(commonName: clientName, validityDays: validityDays)
        try createDirectory()
        let writes: [(String, String, mode_t)] = [
            ("ca.crt", try authority.certificatePEM(), PEMFile.certificateMode),
            ("ca.key", authority.privateKeyPEM, PEMFile.privateKeyMode),
            ("server.crt", try server.certificatePEM(), PEMFile.certificateMode),
            ("server.key", server.privateKeyPEM, PEMFile.privateKeyMode),
            ("client.crt", try client.certificatePEM(), PEMFile.certificateMode),
            ("client.key", client.privateKeyPEM, PEMFile.privateKeyMode),
        ]
        for (name, contents, mode) in writes {
            try PEMFile.write(contents, to: file(name), mode: mode, overwrite: force)
        }
        return Initialized(authority: authority, server: server, client: client, files: writes.map { file($0.0) })
    }

    /// Loads the CA from `ca.crt` and `ca.key`.
    public func loadAuthority() throws -> CertificateAuthority {
        try CertificateAuthority(
            certificatePEM: PEMFile.read(file("ca.crt")),
            privateKeyPEM: PEMFile.read(file("ca.key")))
    }

    /// Issues a client certificate from the CA in this directory and writes it to `outputPrefix.crt`
    /// and `outputPrefix.key` (by default `NAME.crt` and `NAME.key` in this directory).
    /// - Returns: the certificate and the two paths written.
    public func issueClient(
        name: String,
        outputPrefix: String? = nil,
        validityDays: Int = CertificateAuthority.defaultLeafValidityDays,
        force: Bool = false
    ) throws -> (certificate: IssuedCertificate, certificatePath: String, keyPath: String) {
        let prefix = outputPrefix ?? file(name)
        let certificatePath = prefix + ".crt"
        let keyPath = prefix + ".key"
        if !force {
            for path in [certificatePath, keyPath] where PEMFile.exists(path) {
                throw PKIError.fileExists(path)
            }
        }
        let issued = try loadAuthority().issueClientCertificate(commonName: name, validityDays: validityDays)
        try PEMFile.write(issued.certificatePEM(), to: certificatePath, mode: PEMFile.certificateMode, overwrite: force)
        try PEMFile.write(issued.privateKeyPEM, to: keyPath, mode: PEMFile.privateKeyMode, overwrite: force)
        return (issued, certificatePath, keyPath)
    }

    /// Creates the directory and missing parents with mode 0700; an existing directory keeps its mode.
    private func createDirectory() throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { return }
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw PKIError.io("mkdir", path: path, reason: error.localizedDescription)
        }
    }
}
