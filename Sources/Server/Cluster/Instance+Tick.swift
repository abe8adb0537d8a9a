// MARK: - Timers

extension Membership.Instance {
    /// Advances the timers: join retries, probe rounds and their timeouts, indirect-probe nacks,
    /// suspicion timeouts, gossip rounds, periodic push/pull, reconnects to dead members, reaping.
    public mutating func tick(now: Double) -> [Membership.Directive] {
        clock = max(clock, now)
        var out: [Membership.Directive] = []
        if !leaving {
            joinIfDue(now: now, into: &out)
            advancePendingProbe(now: now, into: &out)
            expireForwards(now: now, into: &out)
            expireSuspicions(now: now, into: &out)
            if now >= nextProbeAt { startProbe(now: now, into: &out) }
            pushPullIfDue(now: now, into: &out)
        }
        if now >= nextGossipAt {
            nextGossipAt = max(nextGossipAt + settings.gossipInterval, now)
            gossipRound(now: now, into: &out)
        }
        if now >= nextReapAt {
            nextReapAt = now + 1
            reap(now: now)
        }
        return out
    }

    private mutating func joinIfDue(now: Double, into out: inout [Membership.Directive]) {
        guard !joined, now >= nextJoinAt else { return }
        nextJoinAt = now + settings.joinRetryInterval
        for seed in seeds { out.append(.pushPull(to: seed)) }
    }

    private mutating func pushPullIfDue(now: Double, into out: inout [Membership.Directive]) {
        if now >= nextPushPullAt {
            nextPushPullAt = now + settings.pushPullInterval
            if let peer = randomMembers(1, where: { $0.status == .alive }).first {
                out.append(.pushPull(to: peer.address))
            }
        }
        if now >= nextReconnectAt {
            nextReconnectAt = now + settings.reconnectInterval
            if let peer = randomMembers(1, where: { $0.status == .dead }).first {
                out.append(.pushPull(to: peer.address))
            }
        }
    }

    private mutating func expireSuspicions(now: Double, into out: inout [Membership.Directive]) {
        let expired = suspicions.filter { $0.value.deadline <= now }.keys.sorted()
        for name in expired {
            guard let suspicion = suspicions.removeValue(forKey: name),
                  let member = members[name], member.status == .suspect,
                  member.incarnation == suspicion.incarnation else { continue }
            var state = member.state
            state.status = .dead
            applyDeath(state, reporter: local.name, now: now, into: &out)
        }
    }

    /// Forgets long-dead members and old broadcast identities.
    private mutating func reap(now: Double) {
        let expiredMembers = members.values.filter {
            ($0.status == .dead || $0.status == .left) && now - $0.lastChange > settings.deadMemberRetention
        }
        for member in expiredMembers { members[member.name] = nil }
        seenBroadcasts = seenBroadcasts.filter { now - $0.value <= settings.broadcastMemory }
    }
}

// MARK: - Probing (SWIM failure detector with Lifeguard health)

extension Membership.Instance {
    /// Starts a protocol period: resolves the previous probe if still open, then pings the next
    /// member of a shuffled round-robin order.
    mutating func startProbe(now: Double, into out: inout [Membership.Directive]) {
        if pendingProbe != nil { failPendingProbe(now: now, into: &out) }
        let interval = settings.probeInterval * healthScale
        nextProbeAt = now + interval
        guard let target = nextProbeTarget() else { return }
        let sequence = takeSequence()
        pendingProbe = PendingProbe(
            sequence: sequence, target: target.name,
            indirectAt: now + settings.probeTimeout * healthScale, failAt: now + interval)
        let piggyback = takePiggyback(for: .ping(sequence: sequence, target: target.name, piggyback: []), about: target.name)
        out.append(.send(.ping(sequence: sequence, target: target.name, piggyback: piggyback), to: target.address))
    }

    private mutating func nextProbeTarget() -> Membership.Member? {
        for _ in 0..<2 {
            while probeCursor < probeOrder.count {
                let name = probeOrder[probeCursor]
                probeCursor += 1
                if let member = members[name], member.status == .alive || member.status == .suspect {
                    return member
                }
            }
            probeOrder = members.values.filter { $0.status == .alive || $0.status == .suspect }.map(\.name).sorted()
            probeOrder.shuffle(using: &rng)
            probeCursor = 0
        }
        return nil
    }

    /// Inserts a new member at a random place in the rest of this round, as SWIM's round-robin asks.
    mutating func addToProbeOrder(_ name: String) {
        let position = Int.random(in: probeCursor...probeOrder.count, using: &rng)
        probeOrder.insert(name, at: position)
    }

    private mutating func advancePendingProbe(now: Double, into out: inout [Membership.Directive]) {
        guard var probe = pendingProbe else { return }
        if !probe.indirectSent, now >= probe.indirectAt {
            probe.indirectSent = true
            if let target = members[probe.target] {
                let helpers = randomMembers(settings.indirectChecks) { $0.status == .alive && $0.name != target.name }
                probe.expectedNacks = helpers.count
                for helper in helpers {
                    let request = Membership.Message.pingRequest(sequence: probe.sequence, target: target.name, targetAddress: target.address, piggyback: [])
                    let piggyback = takePiggyback(for: request, about: helper.name)
                    out.append(.send(.pingRequest(sequence: probe.sequence, target: target.name, targetAddress: target.address, piggyback: piggyback), to: helper.address))
                }
            }
            pendingProbe = probe
        }
        if now >= probe.failAt { failPendingProbe(now: now, into: &out) }
    }

    /// No ack by the end of the period: Lifeguard health goes up by the helpers that did not even
    /// nack (or by one without helpers), and the target becomes suspect.
    private mutating func failPendingProbe(now: Double, into out: inout [Membership.Directive]) {
        guard let probe = pendingProbe else { return }
        pendingProbe = nil
        adjustLocalHealth(by: probe.expectedNacks > 0 ? probe.expectedNacks - probe.nacks : 1)
        guard let member = members[probe.target], member.status == .alive || member.status == .suspect else { return }
        var state = member.state
        state.status = .suspect
        applySuspicion(state, reporter: local.name, now: now, into: &out)
    }

    /// The helper's ping went unanswered: tell the requester (a nack), so it knows its own link works.
    private mutating func expireForwards(now: Double, into out: inout [Membership.Directive]) {
        let expired = forwards.filter { $0.value.nackAt <= now }.keys.sorted()
        for sequence in expired {
            guard let forward = forwards.removeValue(forKey: sequence) else { continue }
            out.append(.send(.nack(sequence: forward.requesterSequence), to: forward.requester))
        }
    }
}
