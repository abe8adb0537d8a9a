/// What a sealed gossip frame carries. The kind is authenticated (it is part of the AAD), so a
/// request cannot be replayed as a response or a datagram.
public enum GossipFrameKind: UInt8, Sendable, Hashable, CaseIterable {
    /// A fire-and-forget UDP payload.
    case datagram = 1
    /// A TCP request.
    case request = 2
    /// The answer to a TCP request.
    case response = 3
}

/// The sealed frame layout, shared by UDP datagrams and TCP frames:
///
/// ```
/// "FLXG" (4) | version (1) | kind (1) | nonce (12) | ciphertext (n) | tag (16)
/// ```
///
/// The six header bytes are the AES-GCM additional authenticated data. On TCP each sealed frame
/// is preceded by its length as a big-endian UInt32.
public enum GossipFrameFormat {
    /// The four magic bytes, `FLXG`.
    public static let magic: [UInt8] = [0x46, 0x4C, 0x58, 0x47]
    /// The only format version this build writes and reads.
    public static let version: UInt8 = 1
    /// Magic, version and kind.
    public static let headerSize = 6
    /// AES-GCM nonce length.
    public static let nonceSize = 12
    /// AES-GCM tag length.
    public static let tagSize = 16
    /// Bytes a sealed frame adds to its plaintext.
    public static let overhead = headerSize + nonceSize + tagSize

    static func header(kind: GossipFrameKind) -> [UInt8] {
        magic + [version, kind.rawValue]
    }
}
