import Foundation
import Yams

/// How to reach and authenticate to a Kubernetes API server: a kubeconfig context or the
/// in-cluster service account.
public struct KubeConnection: Sendable {
    /// `https://host:port`.
    public var server: String
    /// PEM bytes of the CA that signed the API server's certificate; nil for the system roots.
    public var caPEM: [UInt8]?
    /// PEM bytes of the client certificate and key (mutual TLS), if used.
    public var clientCertificatePEM: [UInt8]?
    public var clientKeyPEM: [UInt8]?
    /// A bearer token, or a file holding one (re-read, since projected tokens rotate).
    public var token: String?
    public var tokenFile: String?
    /// The context's (or service account's) namespace.
    public var namespace: String?
    /// Off unless the kubeconfig says `insecure-skip-tls-verify: true`.
    public var insecureSkipVerify = false

    public init(server: String) {
        self.server = server
    }

    /// The bearer token to send now, if any.
    public func currentToken() -> String? {
        if let tokenFile, let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) {
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return token
    }
}

/// Reads kubeconfig files and the in-cluster configuration.
public enum KubeConfigLoader {
    private struct File: Decodable {
        var clusters: [Named<Cluster>]?
        var users: [Named<User>]?
        var contexts: [Named<Context>]?
        var currentContext: String?
        enum CodingKeys: String, CodingKey {
            case clusters, users, contexts
            case currentContext = "current-context"
        }
    }
    private struct Named<T: Decodable>: Decodable {
        var name: String
        var cluster: T?
        var user: T?
        var context: T?
        var value: T? { cluster ?? user ?? context }
    }
    private struct Cluster: Decodable {
        var server: String
        var certificateAuthority: String?
        var certificateAuthorityData: String?
        var insecureSkipTLSVerify: Bool?
        enum CodingKeys: String, CodingKey {
            case server
            case certificateAuthority = "certificate-authority"
            case certificateAuthorityData = "certificate-authority-data"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
        }
    }
    private struct User: Decodable {
        var clientCertificate: String?
        var clientCertificateData: String?
        var clientKey: String?
        var clientKeyData: String?
        var token: String?
        var tokenFile: String?
        enum CodingKeys: String, CodingKey {
            case clientCertificate = "client-certificate"
            case clientCertificateData = "client-certificate-data"
            case clientKey = "client-key"
            case clientKeyData = "client-key-data"
            case token
            case tokenFile = "tokenFile"
        }
    }
    private struct Context: Decodable {
        var cluster: String
        var user: String?
        var namespace: String?
    }

    /// Parses a kubeconfig document; relative file paths are resolved against `baseDirectory`.
    public static func parse(_ text: String, baseDirectory: String, context: String? = nil) throws -> KubeConnection {
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: text)
        } catch {
            throw KubeError(status: nil, message: "kubeconfig: \(error)")
        }
        guard let contextName = context ?? file.currentContext else {
            throw KubeError(status: nil, message: "kubeconfig: no current-context and no --context")
        }
        guard let ctx = file.contexts?.first(where: { $0.name == contextName })?.value else {
            throw KubeError(status: nil, message: "kubeconfig: no context \(contextName)")
        }
        guard let cluster = file.clusters?.first(where: { $0.name == ctx.cluster })?.value else {
            throw KubeError(status: nil, message: "kubeconfig: no cluster \(ctx.cluster)")
        }
        func resolve(_ path: String) -> String { path.hasPrefix("/") ? path : baseDirectory + "/" + path }
        func bytes(data: String?, file: String?, _ what: String) throws -> [UInt8]? {
            if let data {
                guard let decoded = Data(base64Encoded: data, options: .ignoreUnknownCharacters) else {
                    throw KubeError(status: nil, message: "kubeconfig: \(what) data is not base64")
                }
                return Array(decoded)
            }
            if let file {
                guard let contents = FileManager.default.contents(atPath: resolve(file)) else {
                    throw KubeError(status: nil, message: "kubeconfig: cannot read \(what) \(resolve(file))")
                }
                return Array(contents)
            }
            return nil
        }
        var connection = KubeConnection(server: cluster.server)
        connection.caPEM = try bytes(data: cluster.certificateAuthorityData, file: cluster.certificateAuthority, "certificate-authority")
        connection.insecureSkipVerify = cluster.insecureSkipTLSVerify ?? false
        connection.namespace = ctx.namespace
        if let userName = ctx.user, let user = file.users?.first(where: { $0.name == userName })?.value {
            connection.clientCertificatePEM = try bytes(data: user.clientCertificateData, file: user.clientCertificate, "client-certificate")
            connection.clientKeyPEM = try bytes(data: user.clientKeyData, file: user.clientKey, "client-key")
            connection.token = user.token
            connection.tokenFile = user.tokenFile.map(resolve)
        }
        return connection
    }

    /// Reads a kubeconfig file.
    public static func load(path: String, context: String? = nil) throws -> KubeConnection {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KubeError(status: nil, message: "kubeconfig \(path): cannot read")
        }
        let base = (path as NSString).deletingLastPathComponent
        return try parse(String(decoding: data, as: UTF8.self), baseDirectory: base.isEmpty ? "." : base, context: context)
    }

    /// The service-account directory mounted into pods.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The in-cluster configuration: `KUBERNETES_SERVICE_HOST`/`_PORT` and the mounted service account.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        directory: String = serviceAccountDirectory
    ) throws -> KubeConnection {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], let port = environment["KUBERNETES_SERVICE_PORT"] else {
            throw KubeError(status: nil, message: "not in a cluster: KUBERNETES_SERVICE_HOST/PORT unset; pass --kubeconfig")
        }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        var connection = KubeConnection(server: "https://\(hostPart):\(port)")
        guard let ca = FileManager.default.contents(atPath: directory + "/ca.crt") else {
            throw KubeError(status: nil, message: "in-cluster: cannot read \(directory)/ca.crt")
        }
        connection.caPEM = Array(ca)
        connection.tokenFile = directory + "/token"
        connection.namespace = (try? String(contentsOfFile: directory + "/namespace", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return connection
    }
}
