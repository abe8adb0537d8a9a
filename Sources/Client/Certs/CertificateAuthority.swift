import Crypto
import Foundation
import SwiftASN1
import X509

/// A certificate authority for a FlexLB cluster: an ECDSA P-256 key and a self-signed CA
/// certificate that signs the server certificates of every flexlbd node and the client
/// certificates of every operator and controller.
public struct CertificateAuthority: Sendable {
    /// The CA certificate (the trust root given to servers and clients).
    public let certificate: Certificate
    private let privateKey: P256.Signing.PrivateKey

    /// Default validity of a CA certificate, in days.
    public static let defaultValidityDays = 3650
    /// Default validity of a server or client certificate, in days (the CA/Browser Forum's old
    /// maximum, which clients with stricter limits still accept).
    public static let defaultLeafValidityDays = 825
    /// How far into the past `notValidBefore` is set, so that nodes with a slightly slow clock
    /// accept a certificate issued a moment ago.
    static let backdate: TimeInterval = 5 * 60

    /// Creates a new CA with a fresh key.
    /// - Parameters:
    ///   - commonName: the CA's subject common name.
    ///   - validityDays: how long the CA certificate is valid.
    ///   - now: the issue time (a parameter so tests can pin it).
    public init(commonName: String = "FlexLB CA", validityDays: Int = defaultValidityDays, now: Date = Date()) throws {
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        let name = try DistinguishedName { CommonName(commonName) }
        let (notBefore, notAfter) = try Self.validity(days: validityDays, now: now)
        self.certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: publicKey,
            notValidBefore: notBefore,
            notValidAfter: notAfter,
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: publicKey)
            },
            issuerPrivateKey: Certificate.PrivateKey(key)
        )
        self.privateKey = key
    }

    /// Loads an existing CA from its PEM certificate and PKCS#8 or SEC1 PEM private key.
    public init(certificatePEM: String, privateKeyPEM: String) throws {
        let certificate = try Certificate(pemEncoded: certificatePEM)
        let key = try P256.Signing.PrivateKey(pemRepresentation: privateKeyPEM)
        guard certificate.publicKey == Certificate.PublicKey(key.publicKey) else {
            throw PKIError.keyMismatch
        }
        self.certificate = certificate
        self.privateKey = key
    }

    /// The CA certificate in PEM form.
    public func certificatePEM() throws -> String {
        try certificate.serializeAsPEM().pemString
    }

    /// The CA private key in PKCS#8 PEM form. Write it only with ``PEMFile/write(_:to:mode:overwrite:)``
    /// and a 0600 mode; never print it.
    public var privateKeyPEM: String { privateKey.pemRepresentation }

    /// Issues a TLS server certificate for a flexlbd node.
    /// - Parameters:
    ///   - commonName: subject common name (clients verify the SANs, not this).
    ///   - dnsNames: DNS subject alternative names.
    ///   - ipAddresses: IPv4 or IPv6 addresses, as text; each becomes an IP subject alternative name.
    ///   - validityDays: validity in days.
    ///   - now: the issue time.
    /// - Throws: ``PKIError`` when an address does not parse or no SAN is given.
    public func issueServerCertificate(
        commonName: String,
        dnsNames: [String],
        ipAddresses: [String],
        validityDays: Int = defaultLeafValidityDays,
        now: Date = Date()
    ) throws -> IssuedCertificate {
        var names: [GeneralName] = dnsNames.map { .dnsName($0) }
        for address in ipAddresses {
            guard let bytes = IPAddressBytes.parse(address) else {
                throw PKIError.invalidIPAddress(address)
            }
            names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))))
        }
        guard !names.isEmpty else { throw PKIError.noSubjectAlternativeNames }
        let sans = SubjectAlternativeNames(names)
        return try issue(commonName: commonName, validityDays: validityDays, now: now) { publicKey in
            try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                sans
                SubjectKeyIdentifier(hash: publicKey)
                AuthorityKeyIdentifier(keyIdentifier: try authorityKeyIdentifier)
            }
        }
    }

    /// Issues a TLS client certificate (clientAuth) whose subject common name identifies the caller.
    public func issueClientCertificate(
        commonName: String,
        validityDays: Int = defaultLeafValidityDays,
        now: Date = Date()
    ) throws -> IssuedCertificate {
        try issue(commonName: commonName, validityDays: validityDays, now: now) { publicKey in
            try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.clientAuth])
                SubjectKeyIdentifier(hash: publicKey)
                AuthorityKeyIdentifier(keyIdentifier: try authorityKeyIdentifier)
            }
        }
    }

    // MARK: - Private

    private var authorityKeyIdentifier: ArraySlice<UInt8> {
        get throws {
            if let ski = try certificate.extensions.subjectKeyIdentifier {
                return ski.keyIdentifier
            }
            return SubjectKeyIdentifier(hash: certificate.publicKey).keyIdentifier
        }
    }

    private func issue(
        commonName: String,
        validityDays: Int,
        now: Date,
        extensions: (Certificate.PublicKey) throws -> Certificate.Extensions
    ) throws -> IssuedCertificate {
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        let (notBefore, notAfter) = try Self.validity(days: validityDays, now: now)
        // A leaf must not outlive its CA: verifiers reject such chains once the CA expires anyway.
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: publicKey,
            notValidBefore: notBefore,
            notValidAfter: min(notAfter, self.certificate.notValidAfter),
            issuer: self.certificate.subject,
            subject: try DistinguishedName { CommonName(commonName) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try extensions(publicKey),
            issuerPrivateKey: Certificate.PrivateKey(privateKey)
        )
        return IssuedCertificate(certificate: certificate, privateKey: key)
    }

    private static func validity(days: Int, now: Date) throws -> (Date, Date) {
        guard days > 0, days <= 36500 else { throw PKIError.invalidValidity(days) }
        return (now.addingTimeInterval(-backdate), now.addingTimeInterval(TimeInterval(days) * 86400))
    }
}

/// A certificate signed by a ``CertificateAuthority`` together with its private key.
public struct IssuedCertificate: Sendable {
    /// The signed certificate.
    public let certificate: Certificate
    private let privateKey: P256.Signing.PrivateKey

    init(certificate: Certificate, privateKey: P256.Signing.PrivateKey) {
        self.certificate = certificate
        self.privateKey = privateKey
    }

    /// The certificate in PEM form.
    public func certificatePEM() throws -> String {
        try certificate.serializeAsPEM().pemString
    }

    /// The private key in PKCS#8 PEM form. Never print it.
    public var privateKeyPEM: String { privateKey.pemRepresentation }
}
