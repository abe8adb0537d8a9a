import FlexLBKube
import Logging
import Synchronization

/// The shell of ``LeaderElection``: reads and writes the `coordination.k8s.io/v1` Lease every
/// `retryPeriod`. ``run()`` throws ``LeadershipLost`` once a held lease could not be renewed in
/// time — the process then exits and restarts as a follower, so two replicas never act at once.
final class LeaderElector: Sendable {
    /// Thrown when this replica stops being the leader.
    struct LeadershipLost: Error, CustomStringConvertible {
        var description: String { "leadership lost: the lease was not renewed within the renew deadline" }
    }

    private let kube: KubeClient
    private let settings: ControllerSettings
    private let logger: Logger
    private let election: Mutex<LeaderElection>
    private let origin = ContinuousClock.now

    init(kube: KubeClient, settings: ControllerSettings, logger: Logger) {
        self.kube = kube
        self.settings = settings
        self.logger = logger
        election = Mutex(LeaderElection(identity: settings.identity, leaseDuration: settings.leaseDuration, renewDeadline: settings.renewDeadline))
    }

    private var now: Duration { ContinuousClock.now - origin }

    /// Whether this replica may act now.
    var isLeader: Bool { election.withLock { $0.isLeader(now: now) } }

    /// Campaigns and renews until cancelled (then releases the lease if held).
    func run() async throws {
        var wasLeader = false
        while !Task.isCancelled {
            await attempt()
            let leader = isLeader
            if leader != wasLeader {
                logger.notice(leader ? "became leader" : "not leader", metadata: ["kube.identity": "\(settings.identity)"])
            }
            if wasLeader && !leader { throw LeadershipLost() }
            wasLeader = leader
            do {
                try await Task.sleep(for: settings.retryPeriod)
            } catch {
                break
            }
        }
        if wasLeader { await release() }
    }

    private func attempt() async {
        let ns = settings.namespace
        do {
            let lease: Lease?
            do {
                lease = try await kube.get(.leases, namespace: ns, name: settings.leaseName, as: Lease.self)
            } catch let error as KubeError where error.isNotFound {
                lease = nil
            }
            let record = lease.map { LeaderElection.Record(holder: $0.spec?.holderIdentity, renewTime: $0.spec?.renewTime) }
            let decision = election.withLock { $0.decide(current: record, now: now) }
            let time = Timestamps.micro()
            let seconds = Int(settings.leaseDuration.components.seconds)
            switch decision {
            case .follow:
                election.withLock { $0.notHeld() }
                return
            case .create:
                let created = Lease(
                    metadata: ObjectMeta(name: settings.leaseName, namespace: ns),
                    spec: .init(holderIdentity: settings.identity, leaseDurationSeconds: seconds, acquireTime: time, renewTime: time, leaseTransitions: 0))
                let stored: Lease = try await kube.create(.leases, namespace: ns, created)
                wrote(stored)
            case .renew, .takeOver:
                guard var updated = lease else { return }
                var spec = updated.spec ?? .init()
                if decision == .takeOver {
                    spec.holderIdentity = settings.identity
                    spec.acquireTime = time
                    spec.leaseTransitions = (spec.leaseTransitions ?? 0) + 1
                }
                spec.leaseDurationSeconds = seconds
                spec.renewTime = time
                updated.spec = spec
                let stored: Lease = try await kube.replace(.leases, namespace: ns, updated)
                wrote(stored)
            }
        } catch let error as KubeError where error.isConflict {
            // Another replica wrote first.
            election.withLock { $0.notHeld() }
        } catch {
            logger.warning("lease update failed", metadata: ["kube.error": "\(error)"])
        }
    }

    private func wrote(_ lease: Lease) {
        let record = LeaderElection.Record(holder: lease.spec?.holderIdentity, renewTime: lease.spec?.renewTime)
        election.withLock { $0.wrote(record, now: now) }
    }

    /// Gives the lease up so that a follower takes over at once (best effort).
    private func release() async {
        do {
            var lease: Lease = try await kube.get(.leases, namespace: settings.namespace, name: settings.leaseName)
            guard lease.spec?.holderIdentity == settings.identity else { return }
            lease.spec?.holderIdentity = ""
            lease.spec?.renewTime = Timestamps.micro()
            let _: Lease = try await kube.replace(.leases, namespace: settings.namespace, lease)
            logger.notice("released the lease")
        } catch {
            logger.warning("cannot release the lease", metadata: ["kube.error": "\(error)"])
        }
    }
}
