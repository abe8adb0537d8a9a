import FlexLBAPI
import FlexLBKube
import Logging
import Synchronization

/// Reconciles one LoadBalancer Service: address from the ledger (recorded on the Service first),
/// a FlexLBInstance carrying it, and the Service's status once that instance serves.
/// Level-triggered: every call looks at the whole current state, so it may run any number of times.
struct ServiceReconciler {
    let ctx: ControllerContext

    func reconcile(_ key: String) async throws -> ReconcileOutcome {
        let owner = ControllerContext.owner(service: key)
        guard let service = ctx.services.get(key) else {
            // Gone for good: it never had our finalizer, or the cleanup already removed it.
            ctx.ledger.withLock { $0.release(owner: owner, now: ctx.now) }
            return .done
        }
        if service.metadata.isDeleting || !ServiceMapping.isManaged(service, handleUnsetClass: ctx.settings.handleUnsetClass) {
            return try await cleanUp(service, owner: owner)
        }
        return try await ensure(service, owner: owner)
    }

    // MARK: - Provisioning

    private func ensure(_ original: Service, owner: String) async throws -> ReconcileOutcome {
        var service = original
        let clusterName = service.metadata.annotations?[Contract.clusterAnnotation] ?? Contract.defaultCluster
        let poolName = service.metadata.annotations?[Contract.poolAnnotation] ?? Contract.defaultPool
        let (_, found, poolProblem) = ctx.pool(cluster: clusterName, pool: poolName)
        guard let pool = found else {
            try await pending(service, reason: "PoolNotFound", message: poolProblem ?? "", warn: true)
            return .done
        }
        let (requested, requestProblem) = ServiceMapping.requestedAddress(service)
        if let requestProblem {
            try await pending(service, reason: requestProblem.reason, message: requestProblem.message, warn: true)
            return .done
        }
        let allocation = ctx.ledger.withLock { $0.allocate(owner: owner, pool: pool, requested: requested, now: ctx.now) }
        let address: IPv4
        var fresh = false
        switch allocation {
        case .assigned(let ip, let isFresh):
            address = ip
            fresh = isFresh
        case .exhausted(let size, let quarantined):
            try await pending(
                service, reason: "AddressPoolExhausted",
                message: "ippool \(poolName) of FlexLBCluster \(clusterName) has no free address (\(size) in \(pool.start)-\(pool.end), \(quarantined) quarantined after release)",
                warn: true)
            return .requeue(after: ctx.settings.resyncPeriod)
        case .requestedTaken(let ip, let holder):
            try await pending(service, reason: "RequestedIPTaken", message: "requested address \(ip) is held by \(holder)", warn: true)
            return .done
        case .requestedQuarantined(let ip, _):
            try await pending(service, reason: "RequestedIPQuarantined", message: "requested address \(ip) was released recently and is quarantined", warn: true)
            return .requeue(after: ctx.settings.resyncPeriod)
        case .requestedOutsidePool(let ip):
            try await pending(
                service, reason: "RequestedIPOutsidePool", message: "requested address \(ip) is not in ippool \(poolName) (\(pool.start)-\(pool.end))",
                warn: true)
            return .done
        }

        // The allocation is durable (on the Service) before FlexLB hears of it.
        let instanceName = InstanceNaming.instanceName(namespace: service.metadata.namespace ?? "", name: service.metadata.name ?? "")
        let annotations = service.metadata.annotations ?? [:]
        if annotations[Contract.allocatedIPAnnotation] != address.description || annotations[Contract.instanceAnnotation] != instanceName
            || !service.metadata.hasFinalizer(Contract.finalizer)
        {
            let finalizers = (service.metadata.finalizers ?? []).filter { $0 != Contract.finalizer } + [Contract.finalizer]
            let patch: KubeJSON = .object([
                "metadata": .object([
                    "resourceVersion": .string(service.metadata.resourceVersion ?? ""),
                    "finalizers": .array(finalizers.map { .string($0) }),
                    "annotations": .object([
                        Contract.allocatedIPAnnotation: .string(address.description),
                        Contract.instanceAnnotation: .string(instanceName),
                    ]),
                ])
            ])
            service = try await ctx.kube.mergePatch(.services, namespace: service.metadata.namespace, name: service.metadata.name ?? "", patch)
            if fresh {
                await ctx.events.record(
                    .services, service.metadata, type: "Normal", reason: "AddressAllocated",
                    message: "allocated \(address) from ippool \(poolName) of FlexLBCluster \(clusterName)")
            }
        }

        let key = service.metadata.key
        let namespace = service.metadata.namespace ?? ""
        let result = ServiceMapping.instance(
            service: service, nodes: ctx.nodes.all(), slices: ctx.slices.all().filter { $0.metadata.namespace == namespace },
            pool: pool, address: address, name: instanceName)
        for problem in result.problems where !problem.blocking {
            await ctx.events.record(.services, service.metadata, type: "Warning", reason: problem.reason, message: problem.message)
        }
        guard let config = result.config, let configJSON = try? KubeJSON.parse(.init(config.jsonBytes())) else {
            let blocking = result.problems.first(where: \.blocking)
            try await pending(service, reason: blocking?.reason ?? "Invalid", message: blocking?.message ?? "cannot map", warn: true)
            return .done
        }
        let spec = FlexLBInstanceResource.Spec(cluster: clusterName, ippool: poolName, config: configJSON)
        guard let existing = ctx.instances.get("\(namespace)/\(instanceName)") else {
            var meta = ObjectMeta(
                name: instanceName, namespace: namespace, labels: [Contract.serviceNameLabel: service.metadata.name ?? ""],
                annotations: [Contract.serviceAnnotation: key])
            meta.finalizers = [Contract.finalizer]
            do {
                let _: FlexLBInstanceResource = try await ctx.kube.create(.flexlbInstances, namespace: namespace, FlexLBInstanceResource(metadata: meta, spec: spec))
            } catch let error as KubeError where error.isAlreadyExists {
                return .requeue(after: .milliseconds(200))
            }
            try await pending(service, reason: "Provisioning", message: "FlexLBInstance \(instanceName) declared with VIP \(address)", warn: false)
            return .done
        }
        guard existing.metadata.annotations?[Contract.serviceAnnotation] == key else {
            try await pending(
                service, reason: "InstanceNameTaken", message: "FlexLBInstance \(namespace)/\(instanceName) exists and does not belong to this Service",
                warn: true)
            return .done
        }
        if existing.metadata.isDeleting {
            return .requeue(after: .seconds(1))
        }
        if existing.spec != spec {
            let patch: KubeJSON = .object([
                "metadata": .object(["resourceVersion": .string(existing.metadata.resourceVersion ?? "")]),
                "spec": try KubeJSON.from(spec),
            ])
            let _: FlexLBInstanceResource = try await ctx.kube.mergePatch(.flexlbInstances, namespace: namespace, name: instanceName, patch)
        }
        try await reportInstance(service, instance: existing, address: address)
        return .done
    }

    /// Copies the instance's state onto the Service: the ingress IP only once it serves.
    private func reportInstance(_ service: Service, instance: FlexLBInstanceResource, address: IPv4) async throws {
        let status = instance.status
        let name = instance.metadata.name ?? ""
        let serving = status?.phase == "ready"
        let condition: (String, String, String)
        if serving {
            let up = (status?.node_status ?? [:]).filter { $0.value == "up" }.keys.sorted().joined(separator: ", ")
            condition = ("True", "Serving", "FlexLB instance \(name) serves \(address) (up on \(up))")
        } else {
            let phase = status?.phase ?? "pending"
            let detail = status?.message.map { ": \($0)" } ?? ""
            let reason =
                switch phase {
                case "create_failed": "CreateFailed"
                case "modify_failed": "ModifyFailed"
                case "cluster_not_ready": "FlexLBUnreachable"
                default: "Provisioning"
                }
            condition = ("False", reason, "FlexLB instance \(name) is \(phase)\(detail)")
        }
        let current = service.status?.loadBalancer?.ingress ?? []
        // Once served, the address stays in status (a brief not_ready must not churn clients' DNS).
        let keep = current.count == 1 && current.first?.ip == address.description
        let ingress: [Service.Ingress] = serving || keep ? [Service.Ingress(ip: address.description, hostname: nil, ipMode: "VIP")] : []
        try await writeStatus(service, ingress: ingress, condition: condition)
        if condition.0 == "False", condition.1 != "Provisioning" {
            await ctx.events.record(.services, service.metadata, type: "Warning", reason: condition.1, message: condition.2)
        }
    }

    /// Marks the Service pending, with an Event for the reason when `warn`.
    private func pending(_ service: Service, reason: String, message: String, warn: Bool) async throws {
        let ingress = service.status?.loadBalancer?.ingress ?? []
        try await writeStatus(service, ingress: ingress.filter { $0.ip == service.metadata.annotations?[Contract.allocatedIPAnnotation] }, condition: ("False", reason, message))
        if warn {
            await ctx.events.record(.services, service.metadata, type: "Warning", reason: reason, message: message)
        }
    }

    /// Writes status.loadBalancer and our condition, only if they differ from what is there.
    private func writeStatus(_ service: Service, ingress: [Service.Ingress], condition: (status: String, reason: String, message: String)?) async throws {
        var conditions = service.status?.conditions ?? []
        if let condition {
            let old = conditions.first { $0.type == Contract.readyCondition }
            let transition = old?.status == condition.status ? old?.lastTransitionTime ?? Timestamps.now() : Timestamps.now()
            let new = Condition(
                type: Contract.readyCondition, status: condition.status, reason: condition.reason, message: String(condition.message.prefix(1024)),
                lastTransitionTime: transition, observedGeneration: service.metadata.generation)
            conditions.removeAll { $0.type == Contract.readyCondition }
            conditions.append(new)
        } else {
            conditions.removeAll { $0.type == Contract.readyCondition }
        }
        let currentIngress = service.status?.loadBalancer?.ingress ?? []
        guard currentIngress != ingress || (service.status?.conditions ?? []) != conditions else { return }
        let patch: KubeJSON = .object([
            "metadata": .object(["resourceVersion": .string(service.metadata.resourceVersion ?? "")]),
            "status": .object([
                "loadBalancer": ingress.isEmpty ? .object(["ingress": .null]) : .object(["ingress": try KubeJSON.from(ingress)]),
                "conditions": conditions.isEmpty ? .null : try KubeJSON.from(conditions),
            ]),
        ])
        let _: Service = try await ctx.kube.mergePatch(
            .services, namespace: service.metadata.namespace, name: service.metadata.name ?? "", patch, subresource: "status")
    }

    // MARK: - Clean-up

    /// Deletion, or no longer ours: delete the FlexLBInstance, wait until it is gone (its own
    /// finalizer waits for FlexLB's delete), then release the address and our marks.
    private func cleanUp(_ service: Service, owner: String) async throws -> ReconcileOutcome {
        let annotations = service.metadata.annotations ?? [:]
        let ours = service.metadata.hasFinalizer(Contract.finalizer) || annotations[Contract.allocatedIPAnnotation] != nil
        guard ours else {
            ctx.ledger.withLock { $0.release(owner: owner, now: ctx.now) }
            return .done
        }
        let namespace = service.metadata.namespace ?? ""
        let instanceName = annotations[Contract.instanceAnnotation]
            ?? InstanceNaming.instanceName(namespace: namespace, name: service.metadata.name ?? "")
        // A live read, not the cache: a FlexLBInstance created a moment ago must not be missed.
        do {
            let instance: FlexLBInstanceResource = try await ctx.kube.get(.flexlbInstances, namespace: namespace, name: instanceName)
            if instance.metadata.annotations?[Contract.serviceAnnotation] == service.metadata.key {
                if !instance.metadata.isDeleting {
                    try await ctx.kube.delete(.flexlbInstances, namespace: namespace, name: instanceName)
                }
                return .requeue(after: .milliseconds(500))
            }
        } catch let error as KubeError where error.isNotFound {}

        var metadata: [String: KubeJSON] = [
            "resourceVersion": .string(service.metadata.resourceVersion ?? ""),
            "annotations": .object([Contract.allocatedIPAnnotation: .null, Contract.instanceAnnotation: .null]),
        ]
        if service.metadata.hasFinalizer(Contract.finalizer) {
            metadata["finalizers"] = .array((service.metadata.finalizers ?? []).filter { $0 != Contract.finalizer }.map { .string($0) })
        }
        let updated: Service = try await ctx.kube.mergePatch(
            .services, namespace: namespace, name: service.metadata.name ?? "", .object(["metadata": .object(metadata)]))
        if !updated.metadata.isDeleting {
            try await writeStatus(updated, ingress: [], condition: nil)
        }
        ctx.ledger.withLock { $0.release(owner: owner, now: ctx.now) }
        if let ip = annotations[Contract.allocatedIPAnnotation] {
            await ctx.events.record(.services, updated.metadata, type: "Normal", reason: "AddressReleased", message: "released \(ip); FlexLB instance \(instanceName) deleted")
        }
        return .done
    }
}
