// MARK: - Piggyback and gossip rounds

extension Membership.Instance {
    /// Fills what `message` leaves of the packet budget with queued rumors, rumors about
    /// `priorityMember` first.
    mutating func takePiggyback(for message: Membership.Message, about priorityMember: String?) -> [Membership.Gossip] {
        let budget = settings.packetBudget - message.encode().count
        return rumors.take(budget: budget, limit: retransmitLimit, priorityMember: priorityMember)
    }

    /// Sends queued gossip to `gossipNodes` random live members, plus recently dead ones so a node
    /// declared dead by mistake hears it and refutes.
    mutating func gossipRound(now: Double, into out: inout [Membership.Directive]) {
        guard !rumors.isEmpty else { return }
        let window = settings.gossipToTheDead
        let targets = randomMembers(settings.gossipNodes) {
            $0.status == .alive || $0.status == .suspect || ($0.status == .dead && now - $0.lastChange < window)
        }
        var sent = false
        for target in targets {
            let piggyback = takePiggyback(for: .gossip([]), about: target.name)
            guard !piggyback.isEmpty else { break }
            out.append(.send(.gossip(piggyback), to: target.address))
            sent = true
        }
        if sent { gossipRounds += 1 }
    }
}

// MARK: - Application broadcasts

extension Membership.Instance {
    /// Queues an application broadcast for piggybacking (retransmitted
    /// `retransmitMult × ceil(log10(N + 1))` times), replacing a queued one with the same key.
    ///
    /// A payload that can never fit a datagram is not queued: the result is one ``Membership/Directive/pushLarge(key:payload:to:)``
    /// to `gossipNodes` random alive members, for the shell to push over TCP.
    /// With `now`, the broadcast goes out at once (a gossip round of its own) instead of waiting for
    /// the next round: a write on one node reaches the others ~`gossipInterval / 2` sooner.
    @discardableResult
    public mutating func broadcast(key: String, payload: [UInt8], now: Double? = nil) -> [Membership.Directive] {
        broadcastSequence += 1
        let broadcast = Membership.AppBroadcast(key: key, payload: payload, origin: local.name, sequence: broadcastSequence)
        let item = Membership.Gossip.broadcast(broadcast)
        if item.encodedSize > Self.maxPiggyback(settings) {
            let peers = randomMembers(settings.gossipNodes) { $0.status == .alive }
            return [.pushLarge(key: key, payload: payload, to: peers.map(\.address))]
        }
        seenBroadcasts[BroadcastID(origin: local.name, sequence: broadcastSequence)] = clock
        rumors.enqueue(item)
        var out: [Membership.Directive] = []
        if let now { gossipRound(now: now, into: &out) }
        return out
    }

    /// Bytes available to piggyback in an otherwise empty gossip datagram.
    static func maxPiggyback(_ settings: Membership.Settings) -> Int {
        settings.packetBudget - Membership.Message.gossip([]).encode().count
    }

    /// Delivers a broadcast the first time its identity is seen, and passes it on.
    mutating func receiveBroadcast(_ broadcast: Membership.AppBroadcast, now: Double, into out: inout [Membership.Directive]) {
        guard broadcast.origin != local.name else { return }
        let id = BroadcastID(origin: broadcast.origin, sequence: broadcast.sequence)
        guard seenBroadcasts[id] == nil else { return }
        seenBroadcasts[id] = now
        out.append(.deliver(key: broadcast.key, payload: broadcast.payload))
        rumors.enqueue(.broadcast(broadcast))
    }
}

// MARK: - Local changes

extension Membership.Instance {
    /// Leaves gracefully: the local node becomes `left` at its current incarnation and sends that
    /// to `gossipNodes` members right away. Keep ticking and receiving for a few gossip intervals
    /// (≈ 0.5 s) so the rumor spreads, then stop the shell. Probing stops; pings are still answered.
    public mutating func leave(now: Double) -> [Membership.Directive] {
        clock = max(clock, now)
        guard !leaving else { return [] }
        leaving = true
        pendingProbe = nil
        local.status = .left
        local.lastChange = now
        rumors.enqueue(.member(local.state, reporter: local.name))
        var out: [Membership.Directive] = [.memberChanged(local)]
        gossipRound(now: now, into: &out)
        return out
    }

    /// Publishes new application metadata: bumps the local incarnation and gossips it.
    @discardableResult
    public mutating func updateMetadata(_ metadata: [UInt8]) -> [Membership.Directive] {
        local.metadata = metadata
        local.incarnation += 1
        local.lastChange = clock
        rumors.enqueue(.member(local.state, reporter: local.name))
        return [.memberChanged(local)]
    }
}

// MARK: - Push/pull state exchange

extension Membership.Instance {
    /// Every member's state, the local node included, for a TCP push/pull (encode with
    /// ``Membership/MemberState/encodeList(_:)``).
    public func pushPullState() -> [Membership.MemberState] {
        snapshot().map(\.state)
    }

    /// Merges a peer's push/pull states. A remote `dead` is taken as a suspicion only (this node
    /// may still reach it); everything else follows the usual precedence. A member we hold as
    /// dead or left while the peer saw it alive is pinged with our view, so it refutes if it lives.
    public mutating func mergePushPull(_ states: [Membership.MemberState], now: Double) -> [Membership.Directive] {
        clock = max(clock, now)
        joined = true
        var out: [Membership.Directive] = []
        for state in states {
            switch state.status {
            case .alive:
                if !leaving, let known = members[state.name], known.status == .dead || known.status == .left,
                   known.incarnation >= state.incarnation {
                    let sequence = takeSequence()
                    let ping = Membership.Message.ping(sequence: sequence, target: known.name, piggyback: [])
                    var piggyback = takePiggyback(for: ping, about: known.name)
                    if !piggyback.contains(where: { if case let .member(s, _) = $0 { s.name == known.name } else { false } }) {
                        piggyback.insert(.member(known.state, reporter: local.name), at: 0)
                    }
                    out.append(.send(.ping(sequence: sequence, target: known.name, piggyback: piggyback), to: known.address))
                } else {
                    applyAlive(state, now: now, into: &out)
                }
            case .suspect, .dead:
                var suspected = state
                suspected.status = .suspect
                applySuspicion(suspected, reporter: "", now: now, into: &out)
            case .left:
                applyDeath(state, reporter: state.name, now: now, into: &out)
            }
        }
        return out
    }
}
