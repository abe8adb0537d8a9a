import FlexLBAPI
import FlexLBCluster
import FlexLBGossip
import FlexLBStore
import Foundation
import Logging

// MARK: Directives

extension ClusterService {
    /// Executes the membership state machine's directives in order; network work runs as jobs so
    /// the caller (a loop holding no lock) never waits on a peer.
    func execute(_ directives: [Membership.Directive]) {
        for directive in directives {
            switch directive {
            case .send(let message, let address):
                do {
                    try transport.send(datagram: message.encode(), to: address)
                } catch {
                    logger.debug("cannot send gossip datagram", metadata: ["flexlb.peer": "\(address)", "error": "\(error)"])
                }
            case .pushPull(let address):
                enqueue { [self] in await pushPull(with: address) }
            case .memberChanged(let member):
                memberChanged(member)
            case .deliver(let key, let payload):
                enqueue { [self] in await deliver(key: key, payload: payload) }
            case .pushLarge(let key, let payload, let addresses):
                guard key.hasPrefix("r/"), let record = try? decodeRecord(payload) else { continue }
                let request = SyncRequest.records([record]).encode()
                for address in addresses {
                    enqueue { [self] in
                        do {
                            _ = try await transport.request(request, to: address, timeout: .seconds(5))
                        } catch {
                            logger.debug("record push failed", metadata: ["flexlb.peer": "\(address)", "error": "\(error)"])
                        }
                    }
                }
            }
        }
    }

    private func memberChanged(_ member: Membership.Member) {
        guard member.name != nodeName else { return }
        switch member.status {
        case .alive:
            logger.notice("cluster member alive", metadata: [
                "flexlb.node": "\(member.name)", "flexlb.peer": "\(member.address)", "flexlb.incarnation": "\(member.incarnation)",
            ])
            // Joined, refuted, or back from a crash or partition: repair both stores now.
            enqueue { [self] in await pushPull(with: member.address) }
            rememberMembers()
        case .suspect:
            logger.warning("cluster member suspected", metadata: ["flexlb.node": "\(member.name)"])
        case .dead, .left:
            logger.warning("cluster member \(member.status)", metadata: ["flexlb.node": "\(member.name)"])
            if member.status == .left { rememberMembers() }
            // Observed state is soft: it goes with the node.
            remoteForget(member.name)
        }
    }

    private func deliver(key: String, payload: [UInt8]) async {
        guard key.hasPrefix("r/") else { return }
        do {
            try await store.merge([try decodeRecord(payload)], now: wallMillisecondsNow)
        } catch {
            logger.warning("cannot merge a gossiped record", metadata: ["flexlb.key": "\(key)", "error": "\(error)"])
        }
    }

    func decodeRecord(_ payload: [UInt8]) throws -> InstanceRecord {
        var reader = BinaryReader(payload)
        let record = try InstanceRecord.decode(from: &reader)
        guard reader.isAtEnd else { throw DecodingFailure("trailing bytes after a record") }
        return record
    }

    var wallMillisecondsNow: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

// MARK: Push/pull

extension ClusterService {
    /// One anti-entropy exchange. Membership tables go both ways; digests are compared by
    /// fingerprint first and exchanged whole only when they differ; then each side gets the records
    /// it lacks (we fetch theirs, push ours) and the observed reports newer than its own.
    func pushPull(with address: String) async {
        do {
            let mine = try await store.digest()
            let request = SyncRequest.pushPull(
                members: membershipState(), fingerprint: mine.fingerprint, known: remoteKnownSequences()
            )
            let answer = try SyncResponse.decode(try await transport.request(request.encode(), to: address, timeout: .seconds(5)))
            guard case .pushPull(let members, let theirs, let reports) = answer else {
                throw DecodingFailure("unexpected answer to push/pull")
            }
            execute(mergeMembership(members))
            for report in reports where report.node != nodeName { remoteOffer(report) }
            guard let theirs else { return }  // in sync
            if theirs.watermark > mine.watermark {
                // They collected tombstones we still hold, or records of ours are ghosts of deletes we missed.
                try await store.adoptWatermark(theirs.watermark, peerHolds: Set(theirs.entries.keys))
            }
            let wanted = theirs.newer(than: mine)
            if !wanted.isEmpty {
                let fetched = try SyncResponse.decode(
                    try await transport.request(SyncRequest.fetch(wanted).encode(), to: address, timeout: .seconds(10))
                )
                guard case .records(let records) = fetched else { throw DecodingFailure("unexpected answer to fetch") }
                try await store.merge(records, now: wallMillisecondsNow)
            }
            let current = try await store.digest()
            let missing = current.newer(than: theirs)
            if !missing.isEmpty {
                let push = SyncRequest.records(try await store.records(named: missing)).encode()
                _ = try await transport.request(push, to: address, timeout: .seconds(10))
            }
        } catch {
            logger.debug("push/pull failed", metadata: ["flexlb.peer": "\(address)", "error": "\(error)"])
        }
    }

    /// Answers a peer's TCP request (the transport has already authenticated and decrypted it).
    func handle(_ payload: [UInt8], from: String) async -> [UInt8]? {
        noteHeard(from)
        do {
            switch try SyncRequest.decode(payload) {
            case .pushPull(let members, let fingerprint, let known):
                // Merge first, so a refutation of ours is in the answer.
                execute(mergeMembership(members))
                let ours = try await store.digest()
                var observed = remoteReports().filter { $0.sequence > known[$0.node] ?? 0 }
                if let mine = await currentReport(onlyIfChanged: false), mine.sequence > known[nodeName] ?? 0 {
                    observed.append(mine)
                }
                let digest = ours.fingerprint == fingerprint ? nil : ours
                return SyncResponse.pushPull(members: membershipState(), digest: digest, observed: observed).encode()
            case .fetch(let names):
                return SyncResponse.records(try await store.records(named: names)).encode()
            case .records(let records):
                try await store.merge(records, now: wallMillisecondsNow)
                return SyncResponse.accepted.encode()
            case .observed(let report):
                if report.node != nodeName { remoteOffer(report) }
                return SyncResponse.accepted.encode()
            case .drain(let drained):
                try applyDrain(drained)
                return SyncResponse.accepted.encode()
            }
        } catch {
            logger.warning("refused a sync request", metadata: ["flexlb.peer": "\(from)", "error": "\(error)"])
            return nil
        }
    }
}
