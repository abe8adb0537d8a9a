import Logging
import NIOCore

/// First handler of every incoming TCP connection: enforces ``GossipLimits/maxConnections`` and
/// registers the connection so ``GossipTransport/stop()`` can close it.
final class ConnectionGate: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let core: TransportCore
    private var admitted = false

    init(core: TransportCore) { self.core = core }

    func channelActive(context: ChannelHandlerContext) {
        guard core.admit(context.channel) else {
            core.logger.debug(
                "refused a gossip connection: too many open",
                metadata: ["flexlb.gossip.peer": "\(GossipAddress.describe(context.remoteAddress))"]
            )
            context.close(promise: nil)
            return
        }
        admitted = true
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard admitted else { return }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if admitted { core.release(context.channel) }
        context.fireChannelInactive()
    }
}

/// Serves one request per incoming connection: the whole request frame must arrive within
/// ``GossipLimits/requestTimeout`` of connecting, then the handler's answer is sealed, written, and
/// the connection closed. Any protocol violation closes the connection without an answer.
final class IncomingRequestHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case awaitingRequest(deadline: Scheduled<Void>?)
        case handling(Task<Void, Never>)
        case responding(deadline: Scheduled<Void>?)
        case closed
    }

    private let core: TransportCore
    private var state = State.awaitingRequest(deadline: nil)

    init(core: TransportCore) { self.core = core }

    func channelActive(context: ChannelHandlerContext) {
        state = .awaitingRequest(deadline: scheduleDeadline(context: context))
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .awaitingRequest(let deadline) = state else {
            // One request per connection; a second frame is a protocol violation.
            context.close(promise: nil)
            return
        }
        deadline?.cancel()
        let frame = Array(unwrapInboundIn(data).readableBytesView)
        let peer = context.remoteAddress
        let core = self.core
        let answer = context.eventLoop.makePromise(of: [UInt8]?.self)
        // Opening, handling and sealing run off the event loop: a 64 MiB frame takes a while to decrypt.
        state = .handling(Task { answer.succeed(await core.answer(frame, from: peer)) })
        answer.futureResult.assumeIsolated().whenSuccess { response in
            self.respond(response, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch state {
        case .awaitingRequest(let deadline), .responding(let deadline): deadline?.cancel()
        case .handling(let task): task.cancel()
        case .closed: break
        }
        state = .closed
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? GossipError, error.code == .frameTooLarge {
            core.counters.oversizedFrames.increment()
            core.warn(from: context.remoteAddress, over: "tcp", "closed a gossip connection announcing an oversized frame", error: error)
        } else {
            core.logger.debug(
                "gossip connection failed",
                metadata: ["flexlb.gossip.peer": "\(GossipAddress.describe(context.remoteAddress))", "flexlb.gossip.reason": "\(error)"]
            )
        }
        context.close(promise: nil)
    }

    private func respond(_ response: [UInt8]?, context: ChannelHandlerContext) {
        guard case .handling = state else { return }
        guard let response else {
            state = .closed
            context.close(promise: nil)
            return
        }
        state = .responding(deadline: scheduleDeadline(context: context))
        let buffer = LengthPrefixedFrameDecoder.encode(response, allocator: context.channel.allocator)
        context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    private func scheduleDeadline(context: ChannelHandlerContext) -> Scheduled<Void> {
        context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(core.limits.requestTimeout)) {
            self.deadlinePassed(context: context)
        }
    }

    private func deadlinePassed(context: ChannelHandlerContext) {
        switch state {
        case .awaitingRequest, .responding:
            core.counters.requestsTimedOut.increment()
            core.logger.debug(
                "closed a gossip connection that ran out of time",
                metadata: ["flexlb.gossip.peer": "\(GossipAddress.describe(context.remoteAddress))"]
            )
            state = .closed
            context.close(promise: nil)
        case .handling, .closed:
            break
        }
    }
}

extension TransportCore {
    /// Opens a request, runs the request handler and seals its answer; nil closes without answering.
    func answer(_ frame: [UInt8], from peer: SocketAddress?) async -> [UInt8]? {
        let request: [UInt8]
        do {
            let opened = try keyring.open(frame)
            guard opened.kind == .request else {
                throw GossipError(.unexpectedKind, "expected a request frame, got \(opened.kind)")
            }
            request = opened.plaintext
        } catch {
            reject(from: peer, over: "tcp", because: error)
            return nil
        }
        guard let response = await requestHandler(request, GossipAddress.describe(peer)) else { return nil }
        do {
            let sealed = try keyring.seal(response, kind: .response)
            guard sealed.count <= limits.maxFrameBytes else {
                throw GossipError(.frameTooLarge, "response of \(sealed.count) bytes exceeds the \(limits.maxFrameBytes)-byte limit")
            }
            counters.requestsServed.increment()
            return sealed
        } catch {
            logger.error("could not answer a gossip request", metadata: ["flexlb.gossip.reason": "\(error)"])
            return nil
        }
    }
}
