import FlexLBKube
import Logging
import ServiceLifecycle
import Synchronization

/// The controller as one ServiceLifecycle service: informers feed a rate-limited work queue;
/// workers run the reconcilers only while this replica leads and every cache has synced.
public struct KubeController: ServiceLifecycle.Service {
    private let ctx: ControllerContext
    private let queue: WorkQueue<WorkKey>

    /// Builds the controller over a Kubernetes client (owned by the caller).
    public init(settings: ControllerSettings, kube: KubeClient, logger: Logger) {
        ctx = ControllerContext(settings: settings, kube: kube, logger: logger)
        queue = WorkQueue()
    }

    /// Addresses held in the ledger (for tests and the benchmark).
    public var allocatedAddresses: Int { ctx.ledger.withLock { $0.count } }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await runUntilCancelled()
        }
        await ctx.flexlb.shutdown()
    }

    private func runUntilCancelled() async throws {
        let elector = LeaderElector(kube: ctx.kube, settings: ctx.settings, logger: ctx.logger)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await ctx.services.run { await onService($0) } }
            group.addTask { await ctx.slices.run { await onSlice($0) } }
            group.addTask { await ctx.nodes.run { _ in await enqueueAllServices() } }
            group.addTask { await ctx.clusters.run { await onCluster($0) } }
            group.addTask { await ctx.instances.run { await onInstance($0) } }
            if ctx.settings.leaderElect {
                group.addTask { try await elector.run() }
            }
            // Wait (a one-time start-up wait) for the caches and, if electing, the lease.
            while !(ctx.synced && (!ctx.settings.leaderElect || elector.isLeader)) {
                do {
                    try await Task.sleep(for: .milliseconds(100))
                } catch {
                    return  // shutting down before we ever acted
                }
            }
            let conflicts = ctx.rebuildLedger()
            ctx.logger.notice(
                "controller active", metadata: ["flexlb.addresses": "\(ctx.ledger.withLock { $0.count })", "flexlb.duplicates": "\(conflicts)"])
            await enqueueEverything()
            group.addTask { await tick() }
            for _ in 0..<max(1, ctx.settings.workers) {
                group.addTask { await work() }
            }
        }
    }

    // MARK: - Workers

    private func work() async {
        let services = ServiceReconciler(ctx: ctx)
        let instances = InstanceReconciler(ctx: ctx)
        let clusters = ClusterReconciler(ctx: ctx)
        while true {
            let next = await withTaskCancellationHandler {
                await queue.next()
            } onCancel: {
                Task { await queue.shutdown() }
            }
            guard let key = next else { return }
            var logger = ctx.logger
            logger[metadataKey: "flexlb.key"] = "\(key)"
            do {
                let outcome: ReconcileOutcome
                switch key {
                case .service(let k): outcome = try await services.reconcile(k)
                case .instance(let k): outcome = try await instances.reconcile(k)
                case .cluster(let k): outcome = try await clusters.reconcile(k)
                }
                await queue.forget(key)
                if case .requeue(let delay) = outcome { await queue.add(key, after: delay) }
            } catch {
                let delay = await queue.retry(key)
                logger.warning("reconcile failed; retrying", metadata: ["flexlb.error": "\(error)", "flexlb.retry_in": "\(delay)"])
            }
            await queue.done(key)
        }
    }

    /// Promotes delayed keys; every resync period re-enqueues every object (level-triggered safety net).
    private func tick() async {
        var sinceResync: Duration = .zero
        let step: Duration = .milliseconds(50)
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: step)
            } catch {
                return
            }
            await queue.promoteDue()
            sinceResync += step
            if sinceResync >= ctx.settings.resyncPeriod {
                sinceResync = .zero
                ctx.ledger.withLock { $0.expireQuarantine(now: ctx.now) }
                await enqueueEverything()
            }
        }
    }

    private func enqueueEverything() async {
        for service in ctx.services.all() { await queue.add(.service(service.metadata.key)) }
        for instance in ctx.instances.all() { await queue.add(.instance(instance.metadata.key)) }
        for cluster in ctx.clusters.all() { await queue.add(.cluster(cluster.metadata.key)) }
    }

    // MARK: - Event handlers (informer callbacks: map changes onto keys)

    private func enqueue(_ key: WorkKey) async {
        await queue.add(key)
    }

    private func onService(_ change: ObjectChange<FlexLBKube.Service>) async {
        if case .upserted(_, let service) = change, let text = service.metadata.annotations?[Contract.allocatedIPAnnotation], let ip = IPv4(text) {
            // Learn allocations made by an earlier leader (or by us, echoed back).
            _ = ctx.ledger.withLock { $0.record(owner: ControllerContext.owner(service: service.metadata.key), address: ip) }
        }
        switch change {
        case .upserted(_, let s), .deleted(let s): await enqueue(.service(s.metadata.key))
        }
    }

    private func onSlice(_ change: ObjectChange<EndpointSlice>) async {
        switch change {
        case .upserted(_, let slice), .deleted(let slice):
            guard let service = slice.metadata.labels?[EndpointSlice.serviceNameLabel], let ns = slice.metadata.namespace else { return }
            await enqueue(.service("\(ns)/\(service)"))
        }
    }

    private func onCluster(_ change: ObjectChange<FlexLBClusterResource>) async {
        switch change {
        case .upserted(_, let c), .deleted(let c): await enqueue(.cluster(c.metadata.key))
        }
        await enqueueAllServices()
    }

    private func onInstance(_ change: ObjectChange<FlexLBInstanceResource>) async {
        switch change {
        case .upserted(_, let i), .deleted(let i):
            await enqueue(.instance(i.metadata.key))
            if let service = i.metadata.annotations?[Contract.serviceAnnotation] { await enqueue(.service(service)) }
        }
    }

    private func enqueueAllServices() async {
        for service in ctx.services.all() where service.spec.type == "LoadBalancer" || service.metadata.hasFinalizer(Contract.finalizer) {
            await enqueue(.service(service.metadata.key))
        }
    }
}
