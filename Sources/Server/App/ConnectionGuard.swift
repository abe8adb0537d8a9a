import Logging
import NIOCore
import NIOSSL
import NIOTLS
import Synchronization

/// Limits on the API's connections (`api` in the configuration): a client without a certificate must
/// not be able to hold descriptors for long, nor crowd out clients that have one.
public struct ConnectionLimits: Sendable, Equatable {
    /// Connections held at once (`api.max_connections`). At the cap a new connection is still taken:
    /// the oldest connection that has not finished its TLS handshake (else the oldest one) is closed.
    public var maxConnections = 1024
    /// Seconds a connection has to complete the TLS handshake (`api.handshake_timeout`).
    public var handshakeTimeout: Double = 10
    /// Seconds an established connection may stay idle between requests (`api.idle_timeout`).
    public var idleTimeout: Double = 60

    public init() {}
}

/// Every open API connection, so the cap can be enforced by closing the least valuable one.
final class ConnectionRegistry: Sendable {
    private struct Entry {
        let channel: any Channel
        var established: Bool
        let sequence: UInt64
    }

    private struct State {
        var next: UInt64 = 0
        var entries: [UInt64: Entry] = [:]
    }

    let limits: ConnectionLimits
    private let state = Mutex(State())

    init(limits: ConnectionLimits) {
        self.limits = limits
    }

    /// Open connections now.
    var count: Int { state.withLock { $0.entries.count } }

    /// Registers `channel`; when the cap is reached, closes the oldest connection still in its
    /// handshake (or else the oldest one) to make room. Returns the connection's id.
    func admit(_ channel: any Channel) -> UInt64 {
        let (id, victim) = state.withLock { state -> (UInt64, (any Channel)?) in
            state.next += 1
            let id = state.next
            var victim: (any Channel)?
            if state.entries.count >= limits.maxConnections {
                let handshaking = state.entries.filter { !$0.value.established }
                let pool = handshaking.isEmpty ? state.entries : handshaking
                if let oldest = pool.min(by: { $0.value.sequence < $1.value.sequence }) {
                    victim = oldest.value.channel
                    state.entries[oldest.key] = nil
                }
            }
            state.entries[id] = Entry(channel: channel, established: false, sequence: id)
            return (id, victim)
        }
        victim?.close(promise: nil)
        return id
    }

    func established(_ id: UInt64) {
        state.withLock { $0.entries[id]?.established = true }
    }

    func remove(_ id: UInt64) {
        state.withLock { $0.entries[id] = nil }
    }
}

/// First handler of every API connection: registers it, closes it if the TLS handshake is not done in
/// time, and unregisters it when it closes.
final class ConnectionGuardHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let registry: ConnectionRegistry
    private var id: UInt64?
    private var timeout: Scheduled<Void>?

    init(registry: ConnectionRegistry) {
        self.registry = registry
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        id = registry.admit(channel)
        let seconds = registry.limits.handshakeTimeout
        timeout = context.eventLoop.scheduleTask(in: .milliseconds(Int64(seconds * 1000))) {
            channel.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
            timeout?.cancel()
            timeout = nil
            if let id { registry.established(id) }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeout?.cancel()
        timeout = nil
        if let id { registry.remove(id) }
        id = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timeout?.cancel()
        if let id { registry.remove(id) }
        id = nil
    }
}
