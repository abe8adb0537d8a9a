// MARK: - Datagrams

extension Membership.Instance {
    /// Most ping requests served at once.
    static let maxForwards = 1024

    /// Handles one decoded datagram from `address`: applies its piggyback, then answers it.
    public mutating func receive(_ message: Membership.Message, from address: String, now: Double) -> [Membership.Directive] {
        clock = max(clock, now)
        joined = true
        var out: [Membership.Directive] = []
        switch message {
        case let .ping(sequence, target, piggyback):
            apply(piggyback, now: now, into: &out)
            // A ping for another name reached a reused address: stay silent so its sender suspects the right node.
            guard target == local.name else { break }
            let reply = Membership.Message.ack(sequence: sequence, piggyback: [])
            out.append(.send(.ack(sequence: sequence, piggyback: takePiggyback(for: reply, about: nil)), to: address))

        case let .pingRequest(sequence, target, targetAddress, piggyback):
            apply(piggyback, now: now, into: &out)
            // Bounded so a flood of requests cannot grow the table; each entry lives one probe timeout.
            guard !leaving, target != local.name, forwards.count < Self.maxForwards else { break }
            let forwarded = takeSequence()
            forwards[forwarded] = IndirectForward(requester: address, requesterSequence: sequence, nackAt: now + settings.probeTimeout * healthScale)
            let ping = Membership.Message.ping(sequence: forwarded, target: target, piggyback: [])
            out.append(.send(.ping(sequence: forwarded, target: target, piggyback: takePiggyback(for: ping, about: target)), to: targetAddress))

        case let .ack(sequence, piggyback):
            apply(piggyback, now: now, into: &out)
            if let probe = pendingProbe, probe.sequence == sequence {
                pendingProbe = nil
                adjustLocalHealth(by: -1)
            } else if let forward = forwards.removeValue(forKey: sequence) {
                let reply = Membership.Message.ack(sequence: forward.requesterSequence, piggyback: [])
                out.append(.send(.ack(sequence: forward.requesterSequence, piggyback: takePiggyback(for: reply, about: nil)), to: forward.requester))
            }

        case let .nack(sequence):
            if var probe = pendingProbe, probe.sequence == sequence {
                probe.nacks += 1
                pendingProbe = probe
            }

        case let .gossip(piggyback):
            apply(piggyback, now: now, into: &out)
        }
        return out
    }

    /// Applies piggybacked rumors and broadcasts in order.
    mutating func apply(_ piggyback: [Membership.Gossip], now: Double, into out: inout [Membership.Directive]) {
        for item in piggyback {
            switch item {
            case let .member(state, reporter):
                switch state.status {
                case .alive: applyAlive(state, now: now, into: &out)
                case .suspect: applySuspicion(state, reporter: reporter, now: now, into: &out)
                case .dead, .left: applyDeath(state, reporter: reporter, now: now, into: &out)
                }
            case let .broadcast(broadcast):
                receiveBroadcast(broadcast, now: now, into: &out)
            }
        }
    }
}

// MARK: - Rumor precedence

extension Membership.Instance {
    /// alive(i) overrides suspect/dead/left(j) iff i > j; a new member is added.
    mutating func applyAlive(_ state: Membership.MemberState, now: Double, into out: inout [Membership.Directive]) {
        if state.name == local.name {
            // An echo of an older life (restart) or of another process using our name: outbid it.
            let foreign = state.address != local.address || state.metadata != local.metadata
            if !leaving, state.incarnation > local.incarnation || (state.incarnation == local.incarnation && foreign) {
                refute(incarnation: state.incarnation, now: now, into: &out)
            }
            return
        }
        if let known = members[state.name] {
            guard state.incarnation > known.incarnation else { return }
        } else {
            addToProbeOrder(state.name)
        }
        suspicions[state.name] = nil
        record(state, now: now, reporter: state.name, into: &out)
    }

    /// suspect(i) overrides alive(j) iff i >= j, and dead/left(j) only iff i > j. A suspicion already
    /// running at i counts `reporter` as an independent confirmation.
    mutating func applySuspicion(_ state: Membership.MemberState, reporter: String, now: Double, into out: inout [Membership.Directive]) {
        if state.name == local.name {
            if !leaving, state.incarnation >= local.incarnation {
                adjustLocalHealth(by: 1)
                refute(incarnation: state.incarnation, now: now, into: &out)
            }
            return
        }
        guard let known = members[state.name] else { return }
        switch known.status {
        case .suspect where state.incarnation == known.incarnation:
            if suspicions[state.name]?.confirm(by: reporter) == true {
                // Spread the confirmation so others can shorten their timers too.
                rumors.enqueue(.member(known.state, reporter: reporter))
            }
            return
        case .alive, .suspect:
            guard state.incarnation >= known.incarnation else { return }
        case .dead, .left:
            guard state.incarnation > known.incarnation else { return }
        }
        var suspected = known.state
        suspected.status = .suspect
        suspected.incarnation = state.incarnation
        suspicions[state.name] = makeSuspicion(incarnation: state.incarnation, reporter: reporter, now: now)
        record(suspected, now: now, reporter: reporter, into: &out)
    }

    /// dead/left(i) overrides alive/suspect(j) iff i >= j; left also overrides dead(j) iff i >= j;
    /// left(j) is final unless a higher incarnation comes.
    mutating func applyDeath(_ state: Membership.MemberState, reporter: String, now: Double, into out: inout [Membership.Directive]) {
        if state.name == local.name {
            if !leaving, state.incarnation >= local.incarnation {
                refute(incarnation: state.incarnation, now: now, into: &out)
            }
            return
        }
        guard let known = members[state.name] else { return }
        switch known.status {
        case .alive, .suspect:
            guard state.incarnation >= known.incarnation else { return }
        case .dead:
            guard state.incarnation > known.incarnation || (state.status == .left && state.incarnation == known.incarnation) else { return }
        case .left:
            guard state.incarnation > known.incarnation else { return }
        }
        var ended = known.state
        ended.status = state.status
        ended.incarnation = state.incarnation
        suspicions[state.name] = nil
        record(ended, now: now, reporter: reporter, into: &out)
    }

    /// Outbids any rumor about the local node: alive at a higher incarnation, gossiped first.
    mutating func refute(incarnation heard: UInt64, now: Double, into out: inout [Membership.Directive]) {
        local.incarnation = max(local.incarnation, heard) + 1
        local.status = .alive
        local.lastChange = now
        rumors.enqueue(.member(local.state, reporter: local.name))
        out.append(.memberChanged(local))
    }

    /// Stores a changed member, queues the rumor and tells the app.
    private mutating func record(_ state: Membership.MemberState, now: Double, reporter: String, into out: inout [Membership.Directive]) {
        let member = Membership.Member(name: state.name, address: state.address, metadata: state.metadata, status: state.status, incarnation: state.incarnation, lastChange: now)
        members[state.name] = member
        rumors.enqueue(.member(state, reporter: reporter))
        out.append(.memberChanged(member))
    }

    private func makeSuspicion(incarnation: UInt64, reporter: String, now: Double) -> Membership.Suspicion {
        let n = liveCount
        let floor = Double(settings.suspicionMult) * max(1, Arithmetic.log10(Double(n))) * settings.probeInterval
        let expected = n - 2 < settings.suspicionMult - 2 ? 0 : settings.suspicionMult - 2
        return Membership.Suspicion(
            incarnation: incarnation, start: now, reporter: reporter, expectedConfirmations: expected,
            minTimeout: floor, maxTimeout: floor * Double(settings.suspicionMaxTimeoutMult))
    }
}
