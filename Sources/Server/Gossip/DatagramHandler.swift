import Logging
import NIOCore

/// Opens incoming UDP datagrams and hands their payloads to ``GossipTransport/datagrams``. Frames that
/// do not open are dropped, counted and (rate-limited) logged; the socket stays up whatever peers send.
final class DatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let core: TransportCore

    init(core: TransportCore) { self.core = core }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let frame = Array(envelope.data.readableBytesView)
        do {
            let opened = try core.keyring.open(frame)
            guard opened.kind == .datagram else {
                throw GossipError(.unexpectedKind, "expected a datagram frame, got \(opened.kind)")
            }
            core.deliver(GossipDatagram(from: GossipAddress.describe(envelope.remoteAddress), payload: opened.plaintext))
        } catch {
            core.reject(from: envelope.remoteAddress, over: "udp", because: error)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP errors and the like surface here; an unconnected UDP socket stays usable.
        core.logger.debug("gossip UDP socket error", metadata: ["flexlb.gossip.reason": "\(error)"])
    }
}

/// Client side of a request: hands the first response frame to `promise`, then closes.
final class OutgoingRequestHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let promise: EventLoopPromise<[UInt8]>

    init(promise: EventLoopPromise<[UInt8]>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        promise.succeed(Array(unwrapInboundIn(data).readableBytesView))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(GossipError(.connectionClosed, "the peer closed the connection without answering"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}
