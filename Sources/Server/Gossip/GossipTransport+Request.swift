import NIOCore
import NIOPosix

extension GossipTransport {
    /// Sends one request over a new TCP connection and returns the peer's answer.
    ///
    /// Connects, writes one length-prefixed sealed request frame, reads one length-prefixed sealed
    /// response frame, closes. Works whether or not the transport is started.
    /// - Parameter timeout: covers connecting, writing and reading.
    /// - Throws: ``GossipError/Code/invalidAddress``, ``GossipError/Code/frameTooLarge``,
    ///   ``GossipError/Code/timedOut``, ``GossipError/Code/connectionClosed`` (the peer did not
    ///   answer, as when it cannot open our frame), an error from ``GossipKeyring/open(_:)`` when the
    ///   answer does not open, a connection error, or `CancellationError`.
    public func request(_ payload: [UInt8], to address: String, timeout: Duration) async throws -> [UInt8] {
        let destination = try GossipAddress(address)
        let keyring = core.keyring
        let limits = core.limits
        let frame = try keyring.seal(payload, kind: .request)
        guard frame.count <= limits.maxFrameBytes else {
            throw GossipError(.frameTooLarge, "request of \(frame.count) bytes exceeds the \(limits.maxFrameBytes)-byte limit")
        }
        let loop = group.next()
        let answer = loop.makePromise(of: [UInt8].self)
        let deadline = loop.scheduleTask(in: TimeAmount(timeout)) {
            answer.fail(GossipError(.timedOut, "no answer from \(destination) within \(timeout)"))
        }
        answer.futureResult.whenComplete { _ in deadline.cancel() }

        let connected = ClientBootstrap(group: loop)
            .connectTimeout(TimeAmount(timeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try CloseOnExec.mark(channel)
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(ByteToMessageHandler(LengthPrefixedFrameDecoder(maxFrameBytes: limits.maxFrameBytes)))
                    try pipeline.addHandler(OutgoingRequestHandler(promise: answer))
                }
            }
            .connect(to: destination.socketAddress)
        connected.whenComplete { result in
            switch result {
            case .success(let channel):
                // Whatever ends the request (answer, timeout, cancellation) closes the connection.
                answer.futureResult.whenComplete { _ in channel.close(promise: nil) }
                let buffer = LengthPrefixedFrameDecoder.encode(frame, allocator: channel.allocator)
                channel.writeAndFlush(buffer).whenFailure { answer.fail($0) }
            case .failure(let error):
                answer.fail(error)
            }
        }

        let response = try await withTaskCancellationHandler {
            try await answer.futureResult.get()
        } onCancel: {
            answer.fail(CancellationError())
        }
        let opened = try keyring.open(response)
        guard opened.kind == .response else {
            throw GossipError(.unexpectedKind, "expected a response frame from \(destination), got \(opened.kind)")
        }
        return opened.plaintext
    }
}
