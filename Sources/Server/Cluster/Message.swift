extension Membership {
    /// A UDP datagram of the failure detector. Every message except ``nack(sequence:)`` piggybacks
    /// rumors and broadcasts, so dissemination costs no extra packets while the cluster is probing.
    public enum Message: Sendable, Hashable {
        /// Direct probe of `target` (the receiver's name; a receiver with another name ignores it).
        case ping(sequence: UInt64, target: String, piggyback: [Gossip])
        /// Asks the receiver to probe `target` at `targetAddress` on the sender's behalf and forward the ack.
        case pingRequest(sequence: UInt64, target: String, targetAddress: String, piggyback: [Gossip])
        /// Answer to a ping; a helper forwards it to the original requester with the requester's sequence.
        case ack(sequence: UInt64, piggyback: [Gossip])
        /// A helper's "I asked, the target did not answer in time": tells the requester its own
        /// network is fine (Lifeguard), so a missing nack raises the requester's local health multiplier.
        case nack(sequence: UInt64)
        /// A gossip round's datagram: piggyback only.
        case gossip([Gossip])
    }

    /// What the shell must do after an event. Execute in order.
    public enum Directive: Sendable, Hashable {
        /// Send `message` (``Message/encode()``) as one UDP datagram to `address` (`host:port`).
        case send(Message, to: String)
        /// Run a TCP push/pull exchange with `address`: send ``Instance/pushPullState()``, receive the
        /// peer's, and feed it to ``Instance/mergePushPull(_:now:)``. The responding side should merge
        /// the initiator's states *before* answering, so a refutation it makes is in the answer.
        case pushPull(to: String)
        /// A member was added or changed status, incarnation, address or metadata (including the local node).
        case memberChanged(Member)
        /// An application broadcast arrived for the first time; hand it to the application.
        case deliver(key: String, payload: [UInt8])
        /// An application broadcast too large for any datagram: push it over TCP to these addresses
        /// (a few random alive members); the receivers hand it to their application directly.
        case pushLarge(key: String, payload: [UInt8], to: [String])
    }
}
