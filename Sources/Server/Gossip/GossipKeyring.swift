import Crypto

/// The AES-GCM keys a node seals and opens gossip frames with.
///
/// The first key is the primary: it seals everything this node sends. Every key opens, so a key
/// rotates without downtime: add the new key as a secondary on every node, then make it primary on
/// every node, then remove the old one.
///
/// Pure: no I/O, no clock; the only randomness is the nonce.
public struct GossipKeyring: Sendable {
    private let keys: [SymmetricKey]

    /// Short, non-secret identifiers of the keys in ring order (the first eight hex digits of the
    /// SHA-256 of each key), for logs and for checking that a rotation step reached every node.
    public let fingerprints: [String]

    /// A keyring from base64 keys, primary first.
    ///
    /// Each key must be standard padded base64 of 16, 24 or 32 random bytes (AES-128/192/256-GCM),
    /// as printed by `openssl rand -base64 32` or ``generateKey(byteCount:)``.
    /// - Throws: ``GossipError/Code/emptyKeyring`` or ``GossipError/Code/invalidKey``.
    public init(base64Keys: [String]) throws(GossipError) {
        var raw: [[UInt8]] = []
        for (index, text) in base64Keys.enumerated() {
            guard let bytes = Base64.decode(text) else {
                throw GossipError(
                    .invalidKey,
                    "gossip key #\(index + 1) is not valid base64 (expected standard, padded base64 such as "
                        + "the output of `openssl rand -base64 32`)"
                )
            }
            raw.append(bytes)
        }
        try self.init(keys: raw)
    }

    /// A keyring from raw key bytes, primary first. Each key must be 16, 24 or 32 bytes.
    /// - Throws: ``GossipError/Code/emptyKeyring`` or ``GossipError/Code/invalidKey``.
    public init(keys: [[UInt8]]) throws(GossipError) {
        guard !keys.isEmpty else {
            throw GossipError(.emptyKeyring, "the gossip keyring is empty: cluster mode needs at least one key")
        }
        for (index, key) in keys.enumerated() where ![16, 24, 32].contains(key.count) {
            throw GossipError(
                .invalidKey,
                "gossip key #\(index + 1) is \(key.count) bytes; AES-GCM needs 16, 24 or 32 bytes "
                    + "(generate one with `openssl rand -base64 32`)"
            )
        }
        self.keys = keys.map { SymmetricKey(data: $0) }
        self.fingerprints = keys.map { key in
            SHA256.hash(data: key).prefix(4).map { byte in
                let hex = String(byte, radix: 16)
                return hex.count == 1 ? "0" + hex : hex
            }.joined()
        }
    }

    /// How many keys the ring holds.
    public var count: Int { keys.count }

    /// A new random key as base64, the same as `openssl rand -base64 32` for the default size.
    /// - Parameter byteCount: 16, 24 or 32; anything else yields a 32-byte key.
    public static func generateKey(byteCount: Int = 32) -> String {
        let size = [16, 24, 32].contains(byteCount) ? byteCount : 32
        let key = SymmetricKey(size: SymmetricKeySize(bitCount: size * 8))
        return Base64.encode(key.withUnsafeBytes { Array($0) })
    }

    /// Seals a plaintext with the primary key into a self-describing frame (see ``GossipFrameFormat``).
    /// - Throws: only if the crypto library fails, which a valid key and a fresh nonce do not cause.
    public func seal(_ plaintext: [UInt8], kind: GossipFrameKind) throws -> [UInt8] {
        let header = GossipFrameFormat.header(kind: kind)
        let box = try AES.GCM.seal(plaintext, using: keys[0], nonce: AES.GCM.Nonce(), authenticating: header)
        var frame: [UInt8] = []
        frame.reserveCapacity(plaintext.count + GossipFrameFormat.overhead)
        frame.append(contentsOf: header)
        box.nonce.withUnsafeBytes { frame.append(contentsOf: $0) }
        frame.append(contentsOf: box.ciphertext)
        frame.append(contentsOf: box.tag)
        return frame
    }

    /// Opens a frame with whichever key of the ring sealed it.
    /// - Throws: ``GossipError/Code/malformedFrame`` (too short, wrong magic, unknown kind),
    ///   ``GossipError/Code/unsupportedVersion``, or ``GossipError/Code/authenticationFailed``
    ///   (no key opens it: wrong key or altered bytes).
    public func open(_ frame: [UInt8]) throws(GossipError) -> (kind: GossipFrameKind, plaintext: [UInt8]) {
        let headerSize = GossipFrameFormat.headerSize
        guard frame.count >= GossipFrameFormat.overhead else {
            throw GossipError(.malformedFrame, "frame of \(frame.count) bytes is shorter than the \(GossipFrameFormat.overhead)-byte minimum")
        }
        guard frame[0..<4].elementsEqual(GossipFrameFormat.magic) else {
            throw GossipError(.malformedFrame, "frame does not start with the FLXG magic")
        }
        guard frame[4] == GossipFrameFormat.version else {
            throw GossipError(.unsupportedVersion, "frame format version \(frame[4]) is not supported (this build reads version \(GossipFrameFormat.version))")
        }
        guard let kind = GossipFrameKind(rawValue: frame[5]) else {
            throw GossipError(.malformedFrame, "unknown frame kind \(frame[5])")
        }
        let nonceEnd = headerSize + GossipFrameFormat.nonceSize
        let tagStart = frame.count - GossipFrameFormat.tagSize
        let header = frame[0..<headerSize]
        let box: AES.GCM.SealedBox
        do {
            box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: frame[headerSize..<nonceEnd]),
                ciphertext: frame[nonceEnd..<tagStart],
                tag: frame[tagStart...]
            )
        } catch {
            throw GossipError(.malformedFrame, "frame nonce or tag is malformed")
        }
        for key in keys {
            if let plaintext = try? AES.GCM.open(box, using: key, authenticating: header) {
                return (kind, Array(plaintext))
            }
        }
        throw GossipError(.authenticationFailed, "no key in the gossip keyring opens this frame (wrong key, or the frame was altered)")
    }
}
