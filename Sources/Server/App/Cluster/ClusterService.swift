import FlexLBAPI
import FlexLBCluster
import FlexLBDataPlane
import FlexLBGossip
import FlexLBModel
import FlexLBStore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The thin shell around the pure membership state machine and the store's replication methods:
/// it feeds datagrams, ticks and store changes in, executes the directives that come out over the
/// encrypted gossip transport, runs anti-entropy, and carries every node's observed state.
///
/// Dissemination: a local write is gossiped (piggybacked on the next gossip rounds, 100 ms apart, to
/// three random members, retransmitted ~4·log N times); a record too large for a datagram is pushed
/// over TCP instead. Every `sync_interval` a push/pull with one random live member exchanges digests
/// and repairs anything missed, as does a push/pull with every member that (re)appears alive, so a
/// node back from a crash or a partition catches up at once.
final class ClusterService: Service, ClusterView, Sendable {
    let settings: NodeConfiguration.ClusterSettings
    let nodeName: String
    let store: any StateStore
    /// This node's data-plane observations; nil when the data plane is off.
    let observed: ObservedStatus?
    var metadata: NodeMetadata { currentMetadata.withLock { $0 } }
    private let currentMetadata: Mutex<NodeMetadata>
    let transport: GossipTransport
    /// Where the drained flag is kept (its presence means drained), so it survives restarts.
    private let drainedFile: String
    private let membersFile: String
    private let remembered: Mutex<[String: [String: [String]]]>
    /// The cluster endpoint (`cluster.endpoint`), resolved to this node's interface and prefix.
    let endpointSettings: EndpointSettings?
    let clusterName: String

    struct EndpointSettings: Sendable {
        var address: String
        var port: Int
        var interface: String
        var prefixLength: Int
        var virtualRouterID: Int
    }
    private let membership: Mutex<Membership.Instance>
    private let remote = RemoteObservations()
    /// Unix ms of the last frame from each peer host.
    private let heard = Mutex<[String: Int64]>([:])
    private let jobs: AsyncStream<@Sendable () async -> Void>
    private let jobQueue: AsyncStream<@Sendable () async -> Void>.Continuation
    private let reportSequence: Atomic<UInt64>
    private let lastReport = Mutex<[String: NodeInstanceStatus]?>(nil)
    let logger: Logger
    private let started = ContinuousClock.now
    /// Called after the drained flag changes (wakes the data plane).
    var onDrainChange: @Sendable () -> Void { drainHook.withLock { $0 } }
    private let drainHook = Mutex<@Sendable () -> Void>({})

    func setDrainHook(_ hook: @escaping @Sendable () -> Void) { drainHook.withLock { $0 = hook } }

    init(
        settings: NodeConfiguration.ClusterSettings,
        nodeName: String,
        store: any StateStore,
        observed: ObservedStatus?,
        metadata: NodeMetadata,
        dataDir: String,
        clusterName: String,
        endpoint: EndpointSettings?,
        logger: Logger
    ) throws {
        self.settings = settings
        self.nodeName = nodeName
        self.store = store
        self.observed = observed
        self.logger = logger
        self.drainedFile = dataDir + "/drained"
        self.membersFile = dataDir + "/members"
        self.remembered = Mutex(Self.loadMembers(dataDir + "/members"))
        self.clusterName = clusterName
        self.endpointSettings = endpoint
        var metadata = metadata
        metadata.drained = FileManager.default.fileExists(atPath: dataDir + "/drained")
        self.currentMetadata = Mutex(metadata)
        let keyring = try GossipKeyring(base64Keys: settings.secretKeys)
        let advertize = try GossipAddress(settings.advertize)
        var membershipSettings = Membership.Settings()
        membershipSettings.probeInterval = settings.probeInterval
        membershipSettings.probeTimeout = min(membershipSettings.probeTimeout, settings.probeInterval * 0.4)
        membershipSettings.retransmitMult = settings.retransmitMult
        membershipSettings.pushPullInterval = settings.syncInterval
        membership = Mutex(Membership.Instance(
            localName: nodeName,
            localAddress: settings.advertize,
            metadata: metadata.encode(),
            seeds: settings.seeds.filter { $0 != settings.advertize },
            settings: membershipSettings,
            now: 0,
            randomSeed: UInt64.random(in: .min ... .max)
        ))
        (jobs, jobQueue) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(4096))
        reportSequence = Atomic(UInt64(Date().timeIntervalSince1970 * 1000) << 12)
        // The handler is set below: it needs `self`.
        let handlerBox = RequestHandlerBox()
        transport = GossipTransport(
            host: advertize.host, port: advertize.port, keyring: keyring, logger: logger,
            requestHandler: { payload, from in await handlerBox.handle(payload, from: from) }
        )
        handlerBox.service.withLock { $0 = WeakService(service: self) }
    }

    // MARK: Service

    func run() async throws {
        try await transport.start()
        logger.notice("cluster gossip listening", metadata: [
            "flexlb.advertize": "\(settings.advertize)", "flexlb.seeds": "\(settings.seeds.joined(separator: ","))",
        ])
        let changes = store.changes()
        await withDiscardingTaskGroup { group in
            group.addTask { await self.runJobs() }
            group.addTask { await self.receiveDatagrams() }
            group.addTask { await self.tickLoop() }
            group.addTask { await self.gossipLocalChanges(changes) }
            group.addTask { await self.antiEntropyLoop() }
            group.addTask { await self.observedLoop() }
            group.addTask { await self.tombstoneLoop() }
            // Until graceful shutdown: then announce the leave, give it a moment to travel, stop.
            try? await gracefulShutdown()
            execute(membership.withLock { $0.leave(now: self.now) })
            try? await Task.sleep(for: .milliseconds(300))
            group.cancelAll()
        }
        jobQueue.finish()
        await transport.stop()
        logger.notice("cluster gossip stopped; this node left the cluster")
    }

    /// Seconds since start: the membership state machine's clock.
    var now: Double {
        (ContinuousClock.now - started).seconds
    }

    private var wallMilliseconds: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    // MARK: Loops

    private func runJobs() async {
        await withDiscardingTaskGroup { group in
            for await job in jobs { group.addTask { await job() } }
        }
    }

    private func receiveDatagrams() async {
        for await datagram in transport.datagrams {
            if Task.isCancelled { break }
            let (from, payload) = (datagram.from, datagram.payload)
            noteHeard(from)
            let message: Membership.Message
            do {
                message = try Membership.Message.decode(payload)
            } catch {
                logger.debug("undecodable gossip datagram", metadata: ["flexlb.peer": "\(from)", "error": "\(error)"])
                continue
            }
            execute(membership.withLock { $0.receive(message, from: from, now: self.now) })
        }
    }

    private func tickLoop() async {
        while !Task.isCancelled {
            execute(membership.withLock { $0.tick(now: self.now) })
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Local writes go out by gossip (piggybacked) or, when too large, by a TCP push.
    private func gossipLocalChanges(_ changes: AsyncStream<StoreChange>) async {
        for await change in changes where change.source == .local {
            for record in change.records {
                var writer = BinaryWriter()
                record.encode(into: &writer)
                execute(membership.withLock { $0.broadcast(key: "r/" + record.name, payload: writer.bytes, now: self.now) })
            }
        }
    }

    private func antiEntropyLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(settings.syncInterval))
            if let peer = liveMembers().filter({ $0.name != nodeName }).randomElement() {
                await pushPull(with: peer.address)
            }
        }
    }

    /// This node's observed state to every live member, whenever it changes (checked 4 times a second).
    private func observedLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(250))
            guard let report = await currentReport(onlyIfChanged: true) else { continue }
            let request = SyncRequest.observed(report).encode()
            for member in liveMembers() where member.name != nodeName {
                enqueue { [self] in _ = try? await transport.request(request, to: member.address, timeout: .seconds(2)) }
            }
        }
    }

    private func tombstoneLoop() async {
        let policy = TombstonePolicy(retention: Int64(settings.tombstoneRetention * 1000))
        while !Task.isCancelled {
            do {
                let collected = try await store.collectTombstones(policy: policy, now: wallMilliseconds)
                if collected > 0 { logger.info("collected tombstones", metadata: ["flexlb.count": "\(collected)"]) }
            } catch {
                logger.error("tombstone collection failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(min(3600, max(60, settings.tombstoneRetention / 10))))
        }
    }

    func enqueue(_ job: @escaping @Sendable () async -> Void) { jobQueue.yield(job) }

    var isDrained: Bool { metadata.drained }

    /// Records the drained state durably, then tells the cluster (membership metadata); the data
    /// plane reads it on its next pass and flips the VRRP health files.
    func applyDrain(_ drained: Bool) throws {
        if drained {
            try Data("drained\n".utf8).write(to: URL(fileURLWithPath: drainedFile), options: .atomic)
        } else if FileManager.default.fileExists(atPath: drainedFile) {
            try FileManager.default.removeItem(atPath: drainedFile)
        }
        let encoded = currentMetadata.withLock { meta -> [UInt8]? in
            guard meta.drained != drained else { return nil }
            meta.drained = drained
            return meta.encode()
        }
        guard let encoded else { return }
        logger.notice(drained ? "node drained: VIPs move to other nodes" : "node undrained", metadata: ["flexlb.node": "\(nodeName)"])
        execute(membership.withLock { $0.updateMetadata(encoded) })
        onDrainChange()
    }

    // MARK: State accessors (the locks stay in this file)

    func membershipState() -> [Membership.MemberState] { membership.withLock { $0.pushPullState() } }

    func mergeMembership(_ states: [Membership.MemberState]) -> [Membership.Directive] {
        membership.withLock { $0.mergePushPull(states, now: self.now) }
    }

    func membershipSnapshot() -> [Membership.Member] { membership.withLock { $0.snapshot() } }

    /// Whether this node has heard from the cluster since it started.
    var hasJoined: Bool { membership.withLock { $0.joined } }

    /// Members and their addresses as last seen before a restart (`data_dir/members`), so VRRP
    /// knows its peers before gossip has found them again.
    func rememberedMembers() -> [String: [String: [String]]] { remembered.withLock { $0 } }

    /// Persists the member map when it changed (best effort: it is only a head start).
    func rememberMembers() {
        var members: [String: [String: [String]]] = [:]
        for member in membershipSnapshot() where member.name != nodeName {
            if let meta = try? NodeMetadata.decode(member.metadata) { members[member.name] = meta.addresses }
        }
        let changed = remembered.withLock { held -> Bool in
            defer { held = members }
            return held != members
        }
        guard changed else { return }
        var writer = BinaryWriter()
        writer.write(UInt8(1))
        writer.write(UInt32(members.count))
        for (name, addresses) in members.sorted(by: { $0.key < $1.key }) {
            writer.write(name)
            writer.write(bytes: NodeMetadata(apiAddress: "", version: "", addresses: addresses).encode())
        }
        try? Data(writer.bytes).write(to: URL(fileURLWithPath: membersFile), options: .atomic)
    }

    static func loadMembers(_ path: String) -> [String: [String: [String]]] {
        guard let data = FileManager.default.contents(atPath: path) else { return [:] }
        var reader = BinaryReader([UInt8](data))
        var members: [String: [String: [String]]] = [:]
        do {
            guard try reader.readUInt8() == 1 else { return [:] }
            for _ in 0..<(try reader.readCount(max: 10_000)) {
                let name = try reader.readString()
                members[name] = try NodeMetadata.decode(try reader.readBytes()).addresses
            }
        } catch {
            return [:]
        }
        return members
    }

    func noteHeard(_ address: String) {
        let host = (try? GossipHost.of(address)) ?? address
        let now = wallMilliseconds
        heard.withLock { $0[host] = now }
    }

    func heardSnapshot() -> [String: Int64] { heard.withLock { $0 } }

    func remoteForget(_ node: String) { remote.forget(node) }
    func remoteOffer(_ report: ObservedReport) { remote.offer(report) }
    func remoteReports() -> [ObservedReport] { remote.all() }
    func remoteKnownSequences() -> [String: UInt64] {
        var known = Dictionary(uniqueKeysWithValues: remote.all().map { ($0.node, $0.sequence) })
        known[nodeName] = reportSequence.load(ordering: .relaxed)
        return known
    }
    func remoteStatuses(of instance: String, from nodes: Set<String>) -> [String: NodeInstanceStatus] {
        remote.status(of: instance, from: nodes)
    }

    /// This node's view of every live instance: the data plane's observation (nothing per instance
    /// when this node runs none; see ``ObservedReport/dataPlane``). With `onlyIfChanged`, nil unless something other than the
    /// observation time changed since the last report.
    func currentReport(onlyIfChanged: Bool) async -> ObservedReport? {
        var statuses: [String: NodeInstanceStatus] = [:]
        if let observed {
            guard let records = try? await store.list() else { return nil }
            let now = wallMilliseconds
            for name in records.map(\.name) + (endpointSettings == nil ? [] : [clusterName]) {
                statuses[name] = observed.status(of: name)
                    ?? NodeInstanceStatus(state: .pending, vip: .unknown, message: "waiting for the data plane", observedAt: now)
            }
        }
        let dataPlane = observed != nil
        var comparable = statuses
        for key in comparable.keys { comparable[key]?.observedAt = nil }
        guard onlyIfChanged else {
            // An exchange carries the current view under the last announced sequence; a change not
            // yet announced gets its own sequence from the loop within 250 ms.
            return ObservedReport(node: nodeName, sequence: reportSequence.load(ordering: .relaxed), statuses: statuses, dataPlane: dataPlane)
        }
        let changed = lastReport.withLock { last -> Bool in
            defer { last = comparable }
            return last != comparable
        }
        guard changed else { return nil }
        return ObservedReport(node: nodeName, sequence: reportSequence.add(1, ordering: .relaxed).newValue, statuses: statuses, dataPlane: dataPlane)
    }
}

/// Lets the transport's request handler reach the service without a retain cycle at init.
private final class RequestHandlerBox: Sendable {
    let service = Mutex<WeakService?>(nil)

    func handle(_ payload: [UInt8], from: String) async -> [UInt8]? {
        guard let target = service.withLock({ $0?.service }) else { return nil }
        return await target.handle(payload, from: from)
    }
}

private struct WeakService: Sendable {
    weak var service: ClusterService?
}
