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
        case .suspect:
            logger.warning("cluster member suspected", metadata: ["flexlb.node": "\(member.name)"])
        case .dead, .left:
            logger.warning("cluster member \(member.status)", metadata: ["flexlb.node": "\(member.name)"])
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
    /// One anti-entropy exchange: membership tables, digests, the records each side lacks, and
    /// observed state, both ways.
    func pushPull(with address: String) async {
        do {
            let digest = try await store.digest()
            let request = SyncRequest.pushPull(
                members: membershipState(),
                digest: digest,
                observed: await currentReport(onlyIfChanged: false).map { [$0] } ?? []
            )
            let answer = try SyncResponse.decode(try await transport.request(request.encode(), to: address, timeout: .seconds(5)))
            guard case .pushPull(let members, let theirs, let records, let reports) = answer else {
                throw DecodingFailure("unexpected answer to push/pull")
            }
            execute(mergeMembership(members))
            try await absorb(records: records, reports: reports, digest: theirs)
            // What they lack, by their digest as it was before our records reached them.
            let ours = try await store.digest()
            let missing = ours.newer(than: theirs)
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
            case .pushPull(let members, let theirs, let reports):
                // Merge first, so a refutation of ours is in the answer.
                execute(mergeMembership(members))
                try await absorb(records: [], reports: reports, digest: theirs)
                let ours = try await store.digest()
                let newer = try await store.records(named: ours.newer(than: theirs))
                var observed = remoteReports()
                if let mine = await currentReport(onlyIfChanged: false) { observed.append(mine) }
                return SyncResponse.pushPull(members: membershipState(), digest: ours, records: newer, observed: observed).encode()
            case .records(let records):
                try await store.merge(records, now: wallMillisecondsNow)
                return SyncResponse.accepted.encode()
            case .observed(let report):
                if report.node != nodeName { remoteOffer(report) }
                return SyncResponse.accepted.encode()
            }
        } catch {
            logger.warning("refused a sync request", metadata: ["flexlb.peer": "\(from)", "error": "\(error)"])
            return nil
        }
    }

    private func absorb(records: [InstanceRecord], reports: [ObservedReport], digest theirs: RecordDigest) async throws {
        // A peer that collected tombstones we still hold, or that holds no trace of records we
        // have from before its collection horizon: those are deletes we missed.
        let ours = try await store.digest()
        if theirs.watermark > ours.watermark {
            try await store.adoptWatermark(theirs.watermark, peerHolds: Set(theirs.entries.keys))
        }
        if !records.isEmpty { try await store.merge(records, now: wallMillisecondsNow) }
        for report in reports where report.node != nodeName { remoteOffer(report) }
    }
}
