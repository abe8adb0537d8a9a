import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// The server's TLS context, rebuilt from the certificate files on demand (SIGHUP) without a restart.
/// Client certificates are mandatory and must chain to the configured CA.
public final class ServerTLSContext: Sendable {
    private let files: Files
    private let current: Mutex<NIOSSLContext>

    /// Paths of the PEM files the context is built from.
    public struct Files: Sendable, Equatable {
        public var certificateChain: String
        public var privateKey: String
        public var clientCA: String

        public init(certificateChain: String, privateKey: String, clientCA: String) {
            self.certificateChain = certificateChain
            self.privateKey = privateKey
            self.clientCA = clientCA
        }
    }

    public init(files: Files) throws {
        self.files = files
        self.current = Mutex(try Self.makeContext(files))
    }

    /// The context new connections use.
    public var context: NIOSSLContext { current.withLock { $0 } }

    /// Re-reads the files. On failure the previous context stays in use and the error is thrown.
    public func reload() throws {
        let fresh = try Self.makeContext(files)
        current.withLock { $0 = fresh }
    }

    static func makeContext(_ files: Files) throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMFile(files.certificateChain)
        guard !chain.isEmpty else { throw TLSFileError("no certificate in \(files.certificateChain)") }
        let key = try NIOSSLPrivateKey(file: files.privateKey, format: .pem)
        let roots = try NIOSSLCertificate.fromPEMFile(files.clientCA)
        guard !roots.isEmpty else { throw TLSFileError("no CA certificate in \(files.clientCA)") }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key)
        )
        tls.minimumTLSVersion = .tlsv12
        // Mutual TLS: a client without a certificate from our CA is refused during the handshake.
        tls.certificateVerification = .noHostnameVerification
        tls.trustRoots = .certificates(roots)
        tls.sendCANameList = true
        return try NIOSSLContext(configuration: tls)
    }
}

/// A TLS certificate file problem.
public struct TLSFileError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Like HummingbirdTLS's `TLSChannel`, but takes the current context from ``ServerTLSContext`` for
/// every new connection, so reloaded certificates apply without restarting the listener.
struct ReloadableTLSChannel<BaseChannel: ServerChildChannel>: ServerChildChannel {
    typealias Value = BaseChannel.Value

    let baseChannel: BaseChannel
    let tls: ServerTLSContext
    let registry: ConnectionRegistry

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.context))
            // After TLS, so it sees the handshake-completed event; it registers the connection at once.
            try channel.pipeline.syncOperations.addHandler(ConnectionGuardHandler(registry: registry))
        }.flatMap {
            baseChannel.setup(channel: channel, logger: logger)
        }.flatMapThrowing { value in
            // Right behind the HTTP decoder, where whole request heads come out.
            let decoder = try channel.pipeline.syncOperations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try channel.pipeline.syncOperations.addHandler(RequestBoundaryHandler(), position: .after(decoder))
            return value
        }
    }

    func handle(value: BaseChannel.Value, logger: Logger) async {
        await baseChannel.handle(value: value, logger: logger)
    }
}

extension ReloadableTLSChannel: HTTPChannelHandler where BaseChannel: HTTPChannelHandler {
    var responder: HTTPChannelHandler.Responder { baseChannel.responder }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 over mutual TLS with reloadable certificates, a handshake timeout, a request-head
    /// timeout, an idle timeout and a connection cap. There is no plaintext variant.
    static func mutualTLS(_ tls: ServerTLSContext, registry: ConnectionRegistry) -> HTTPServerBuilder {
        let configuration = HTTP1Channel.Configuration(idleTimeout: .milliseconds(Int64(registry.limits.idleTimeout * 1000)))
        return .init { responder in
            ReloadableTLSChannel(baseChannel: HTTP1Channel(responder: responder, configuration: configuration), tls: tls, registry: registry)
        }
    }
}
