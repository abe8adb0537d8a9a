import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOSSL
import SwiftASN1
import X509

/// The request context of the API: Hummingbird's basics plus the connection, so the responder can
/// read the client certificate that mutual TLS verified.
struct APIRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}

/// Who sent a request: the verified client certificate's subject and common name.
struct ClientIdentity: Sendable, Equatable {
    var subject: String
    var commonName: String?

    static let unknown = ClientIdentity(subject: "unknown", commonName: nil)

    /// The identity of the peer on `channel` (mutual TLS has verified the certificate).
    static func of(_ channel: any Channel) async -> ClientIdentity {
        guard let certificate = try? await channel.nioSSL_peerCertificate().get(),
              let der = try? certificate.toDERBytes(),
              let parsed = try? Certificate(derEncoded: der) else { return .unknown }
        // RFC 4514 text, most significant last: the last CN= wins, as in TLS name checks.
        let subject = parsed.subject.description
        let commonName = subject.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .last { $0.hasPrefix("CN=") }.map { String($0.dropFirst(3)) }
        return ClientIdentity(subject: subject, commonName: commonName)
    }
}

/// What a client may do, from `roles` in the node's configuration.
enum ClientRole: Sendable, Equatable {
    case admin
    case readOnly
    case denied

    /// Without roles configured every certificate of the CA is an admin, as in 0.4.
    static func of(_ identity: ClientIdentity, roles: NodeConfiguration.Roles?) -> ClientRole {
        guard let roles else { return .admin }
        guard let name = identity.commonName else { return .denied }
        if roles.admins.contains(name) { return .admin }
        if roles.readers.contains(name) { return .readOnly }
        return .denied
    }

    func permits(method: String) -> Bool {
        switch self {
        case .admin: true
        case .readOnly: method == "GET" || method == "HEAD"
        case .denied: false
        }
    }
}
