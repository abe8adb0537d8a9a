import Testing

@testable import FlexLBGossip

@Suite("GossipKeyring")
struct GossipKeyringTests {
    @Test("seal then open returns the plaintext and kind", arguments: GossipFrameKind.allCases)
    func roundTrip(kind: GossipFrameKind) throws {
        let keyring = try ring(keyA)
        let plaintext: [UInt8] = Array("hello gossip".utf8)
        let frame = try keyring.seal(plaintext, kind: kind)
        #expect(frame.count == plaintext.count + GossipFrameFormat.overhead)
        #expect(Array(frame.prefix(6)) == [0x46, 0x4C, 0x58, 0x47, 1, kind.rawValue])
        let opened = try keyring.open(frame)
        #expect(opened.kind == kind)
        #expect(opened.plaintext == plaintext)
    }

    @Test("AES-128, -192 and -256 keys all work", arguments: [16, 24, 32])
    func keySizes(byteCount: Int) throws {
        let keyring = try ring(GossipKeyring.generateKey(byteCount: byteCount))
        #expect(try keyring.open(keyring.seal([1, 2, 3], kind: .datagram)).plaintext == [1, 2, 3])
    }

    @Test("two seals of the same plaintext differ (fresh nonce)")
    func freshNonce() throws {
        let keyring = try ring(keyA)
        #expect(try keyring.seal([7], kind: .datagram) != keyring.seal([7], kind: .datagram))
    }

    @Test("rotation: add as secondary, promote, retire the old key")
    func rotation() throws {
        let old = try ring(keyA)
        let bothOldPrimary = try ring(keyA, keyB)
        let bothNewPrimary = try ring(keyB, keyA)
        let newOnly = try ring(keyB)

        // Mid-rotation every node can read every other node, whatever step it is at.
        for sender in [old, bothOldPrimary, bothNewPrimary] {
            for receiver in [bothOldPrimary, bothNewPrimary] {
                #expect(try receiver.open(sender.seal([42], kind: .request)).plaintext == [42])
            }
        }
        // The old primary still decrypts on a node where the new key is already primary.
        #expect(try bothNewPrimary.open(old.seal([1], kind: .datagram)).plaintext == [1])
        // A ring without the key refuses.
        let error = #expect(throws: GossipError.self) { try newOnly.open(old.seal([1], kind: .datagram)) }
        #expect(error?.code == .authenticationFailed)
        #expect(bothNewPrimary.fingerprints == [newOnly.fingerprints[0], old.fingerprints[0]])
    }

    @Test("any altered byte is refused", arguments: [0, 4, 5, 6, 17, 18, 33, 34, 49])
    func tampering(index: Int) throws {
        let keyring = try ring(keyA)
        var frame = try keyring.seal(Array(repeating: 9, count: 16), kind: .datagram)
        frame[index] ^= 0x01
        #expect(throws: GossipError.self) { _ = try keyring.open(frame) }
    }

    @Test("truncated, foreign and future frames are typed errors")
    func malformedFrames() throws {
        let keyring = try ring(keyA)
        let frame = try keyring.seal([1, 2, 3], kind: .datagram)
        #expect(catching { _ = try keyring.open(Array(frame.prefix(20))) } == .malformedFrame)
        var foreign = frame
        foreign[0] = UInt8(ascii: "X")
        #expect(catching { _ = try keyring.open(foreign) } == .malformedFrame)
        var future = frame
        future[4] = 2
        #expect(catching { _ = try keyring.open(future) } == .unsupportedVersion)
        var unknownKind = frame
        unknownKind[5] = 9
        #expect(catching { _ = try keyring.open(unknownKind) } == .malformedFrame)
        var flipped = frame
        flipped[5] = GossipFrameKind.request.rawValue  // the kind is authenticated
        #expect(catching { _ = try keyring.open(flipped) } == .authenticationFailed)
    }

    @Test(
        "bad keys are refused with a clear error",
        arguments: [
            ("not base64!", "not valid base64"),
            ("", "not valid base64"),
            ("AAAA", "3 bytes"),
            ("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "36 bytes"),
            ("AAAAAAAAAAAAAAAAAAAAAA", "not valid base64"),  // 16 bytes without its padding
        ]
    )
    func badKeys(text: String, expected: String) {
        let error = #expect(throws: GossipError.self) { try GossipKeyring(base64Keys: [keyA, text]) }
        #expect(error?.code == .invalidKey)
        #expect(error?.message.contains("#2") == true)
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "")")
    }

    @Test("an empty keyring is refused")
    func emptyKeyring() {
        #expect(catching { _ = try GossipKeyring(base64Keys: []) } == .emptyKeyring)
    }

    @Test("keys with surrounding whitespace (as read from a file) are accepted")
    func whitespace() throws {
        #expect(try GossipKeyring(base64Keys: ["  \(keyA)\n"]).count == 1)
    }

    @Test("base64 matches the standard encoding", arguments: [[], [0], [0, 1], [0, 1, 2], [255, 254, 253, 252]] as [[UInt8]])
    func base64(bytes: [UInt8]) {
        #expect(Base64.decode(Base64.encode(bytes)) == (bytes.isEmpty ? nil : bytes))
    }

    @Test("base64 known vectors")
    func base64Vectors() {
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64.encode(Array("fooba".utf8)) == "Zm9vYmE=")
        #expect(Base64.encode(Array("foob".utf8)) == "Zm9vYg==")
        #expect(Base64.decode("Zm9vYg==") == Array("foob".utf8))
        #expect(Base64.decode("Zm9v=mFy") == nil)
    }
}

/// The code of the GossipError `body` throws, or nil.
func catching(_ body: () throws -> Void) -> GossipError.Code? {
    do {
        try body()
        return nil
    } catch let error as GossipError {
        return error.code
    } catch {
        return nil
    }
}
