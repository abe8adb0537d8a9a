import NIOCore

/// Splits a TCP byte stream into frames, each preceded by its length as a big-endian UInt32.
///
/// A length above `maxFrameBytes` fails at once, before any of the body is buffered, so a peer
/// cannot make the node allocate for a frame it will never accept.
struct LengthPrefixedFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    let maxFrameBytes: Int

    /// Takes the next whole frame off the front of `buffer`, or returns nil if it is not all there yet.
    /// - Throws: ``GossipError/Code/frameTooLarge`` when the announced length is over the limit.
    static func nextFrame(from buffer: inout ByteBuffer, maxFrameBytes: Int) throws(GossipError) -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard UInt64(length) <= UInt64(max(0, maxFrameBytes)) else {
            throw GossipError(.frameTooLarge, "frame of \(length) bytes exceeds the \(maxFrameBytes)-byte limit")
        }
        guard buffer.readableBytes - 4 >= Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: Int(length))
    }

    /// Writes `frame` with its length prefix.
    static func encode(_ frame: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 4 + frame.count)
        buffer.writeInteger(UInt32(truncatingIfNeeded: frame.count))
        buffer.writeBytes(frame)
        return buffer
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try Self.nextFrame(from: &buffer, maxFrameBytes: maxFrameBytes) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}
