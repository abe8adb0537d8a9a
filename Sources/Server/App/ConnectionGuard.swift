import Logging
import NIOCore
import NIOHTTP1
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
    /// Seconds a connection has to deliver a complete request head, counted from the end of the
    /// handshake or from the first byte of a request that follows a response
    /// (`api.request_head_timeout`). Trickling header bytes does not extend it.
    public var requestHeadTimeout: Double = 10

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

/// First handler of every API connection after TLS: registers it, runs its ``ConnectionDeadline``
/// (the handshake, then each request head, must arrive in time), and unregisters it when it closes.
/// It sees decrypted bytes on their way to the HTTP decoder; ``RequestBoundaryHandler``, behind the
/// decoder, tells it where requests begin and end.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny

    private let registry: ConnectionRegistry
    private var id: UInt64?
    private var deadline: ConnectionDeadline
    private var timer: Scheduled<Void>?

    init(registry: ConnectionRegistry) {
        self.registry = registry
        self.deadline = ConnectionDeadline(
            handshakeTimeout: .seconds(registry.limits.handshakeTimeout),
            requestHeadTimeout: .seconds(registry.limits.requestHeadTimeout)
        )
    }

    func handlerAdded(context: ChannelHandlerContext) {
        id = registry.admit(context.channel)
        execute(deadline.accepted(at: .now), context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        execute(deadline.bytesReceived(at: .now), context: context)
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
            execute(deadline.handshakeCompleted(at: .now), context: context)
            if let id { registry.established(id) }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let boundary = event as? RequestBoundary else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        switch boundary {
        case .headReceived: execute(deadline.headReceived(), context: context)
        case .responseCompleted: execute(deadline.responseCompleted(), context: context)
        }
        promise?.succeed()
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
    }

    private func release() {
        timer?.cancel()
        timer = nil
        if let id { registry.remove(id) }
        id = nil
    }

    private func execute(_ directive: ConnectionDeadline.Directive, context: ChannelHandlerContext) {
        switch directive {
        case .none:
            break
        case .arm(let instant):
            timer?.cancel()
            timer = context.eventLoop.assumeIsolated().scheduleTask(in: .init(instant - .now)) { [self] in
                timer = nil
                execute(deadline.timerFired(at: .now), context: context)
            }
        case .disarm:
            timer?.cancel()
            timer = nil
        case .close:
            context.close(promise: nil)
        }
    }
}

/// Where requests begin and end on a connection, sent by ``RequestBoundaryHandler`` to
/// ``ConnectionGuardHandler`` as outbound user events.
enum RequestBoundary: Sendable {
    case headReceived
    case responseCompleted
}

/// Sits right behind NIO's HTTP/1 decoder and reports complete request heads and finished responses
/// to ``ConnectionGuardHandler`` in front of the decoder.
final class RequestBoundaryHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) {
            context.triggerUserOutboundEvent(RequestBoundary.headReceived, promise: nil)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd = if case .end = unwrapOutboundIn(data) { true } else { false }
        context.write(data, promise: promise)
        if isEnd { context.triggerUserOutboundEvent(RequestBoundary.responseCompleted, promise: nil) }
    }
}
