import FlexLBAPI
import FlexLBClient
import FlexLBKube
import Foundation
import Logging

/// Reconciles one FlexLBInstance with the FlexLB API: create or modify the instance, report
/// 0.4's `status.phase` and `node_status`, and delete it from FlexLB before the finalizer goes
/// (a failed delete keeps the finalizer and retries: no leaked instances).
struct InstanceReconciler {
    let ctx: ControllerContext

    func reconcile(_ key: String) async throws -> ReconcileOutcome {
        guard let instance = ctx.instances.get(key) else { return .done }
        let clusterName = instance.spec.cluster ?? Contract.defaultCluster
        let name = instance.metadata.name ?? ""
        guard let cluster = ctx.clusters.get("\(ctx.settings.namespace)/\(clusterName)") else {
            try await writeStatus(instance, phase: "cluster_not_ready", nodes: nil, message: "FlexLBCluster \(ctx.settings.namespace)/\(clusterName) not found")
            return .done
        }
        let client = try await ctx.flexlb.client(for: cluster)

        if instance.metadata.isDeleting {
            guard instance.metadata.hasFinalizer(Contract.finalizer) else { return .done }
            do {
                try await client.delete(name)
            } catch where error.isNotFound {
                // Already gone.
            } catch {
                try await writeStatus(instance, phase: instance.status?.phase, nodes: instance.status?.node_status, message: "delete failed: \(error)")
                throw error
            }
            let finalizers = (instance.metadata.finalizers ?? []).filter { $0 != Contract.finalizer }
            let patch: KubeJSON = .object(["metadata": .object([
                "resourceVersion": .string(instance.metadata.resourceVersion ?? ""),
                "finalizers": .array(finalizers.map { .string($0) }),
            ])])
            let _: FlexLBInstanceResource = try await ctx.kube.mergePatch(.flexlbInstances, namespace: instance.metadata.namespace, name: name, patch)
            return .done
        }

        var current = instance
        if !instance.metadata.hasFinalizer(Contract.finalizer) {
            let patch: KubeJSON = .object(["metadata": .object([
                "resourceVersion": .string(instance.metadata.resourceVersion ?? ""),
                "finalizers": .array(((instance.metadata.finalizers ?? []) + [Contract.finalizer]).map { .string($0) }),
            ])])
            current = try await ctx.kube.mergePatch(.flexlbInstances, namespace: instance.metadata.namespace, name: name, patch)
        }

        let (decoded, problem) = Self.decode(current.spec.config)
        guard let desired = decoded else {
            try await fail(current, phase: "create_failed", message: "spec.config is not a valid FlexLB InstanceConfig: \(problem)")
            return .done
        }
        guard desired.name == name else {
            try await fail(current, phase: "create_failed", message: "spec.config.name \(desired.name) must equal metadata.name \(name)")
            return .done
        }

        var phase: String
        var observed: Versioned<Instance>
        let existing: Versioned<Instance>?
        do {
            existing = try await client.get(name)
        } catch where error.isNotFound {
            existing = nil
        } catch {
            try await unreachable(current, error)
            throw error
        }
        if let existing, existing.value.config == desired {
            observed = existing
            phase = Self.phase(of: existing.value)
        } else if let existing {
            do {
                observed = try await client.modify(desired, ifMatch: existing.etag)
            } catch {
                if error.isConnectionFailure { try await unreachable(current, error) } else { try await fail(current, phase: "modify_failed", error) }
                throw error
            }
            phase = "modified"
            await ctx.events.record(.flexlbInstances, current.metadata, type: "Normal", reason: "Modified", message: "FlexLB instance \(name) modified")
        } else {
            do {
                observed = try await client.create(desired)
            } catch {
                if error.isConnectionFailure { try await unreachable(current, error) } else { try await fail(current, phase: "create_failed", error) }
                throw error
            }
            phase = "created"
            await ctx.events.record(.flexlbInstances, current.metadata, type: "Normal", reason: "Created", message: "FlexLB instance \(name) created")
        }
        let nodes = Self.nodeStatus(of: observed.value)
        try await writeStatus(current, phase: phase, nodes: nodes, message: phase == "ready" ? nil : Self.summary(observed.value), version: observed.value.version)
        return .requeue(after: ctx.nextPollDelay(key, ready: phase == "ready"))
    }

    /// The FlexLB model of `spec.config`, or the violations (the API's own checks, run locally).
    static func decode(_ json: KubeJSON) -> (InstanceConfig?, String) {
        do {
            return (try InstanceConfig.decode(jsonBytes: Array(json.serialized())), "")
        } catch {
            return (nil, error.violations.map { "\($0.path): \($0.message)" }.joined(separator: "; "))
        }
    }

    /// `ready` when some node reports the instance `up` at the current version.
    static func phase(of instance: Instance) -> String {
        if let nodes = instance.nodes, !nodes.isEmpty {
            let up = nodes.values.contains { $0.state == .up && ($0.appliedVersion == nil || instance.version == nil || $0.appliedVersion! >= instance.version!) }
            return up ? "ready" : "not_ready"
        }
        return instance.status.values.contains(.up) ? "ready" : "not_ready"
    }

    /// 0.4's node → state map.
    static func nodeStatus(of instance: Instance) -> [String: String] {
        instance.status.mapValues(\.rawValue)
    }

    /// The nodes' own messages, for a pending instance.
    static func summary(_ instance: Instance) -> String? {
        let parts = (instance.nodes ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.state.rawValue)\($0.value.message.map { " (\($0))" } ?? "")" }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    private func unreachable(_ instance: FlexLBInstanceResource, _ error: FlexLBError) async throws {
        try await writeStatus(instance, phase: "cluster_not_ready", nodes: instance.status?.node_status, message: error.message)
    }

    private func fail(_ instance: FlexLBInstanceResource, phase: String, _ error: FlexLBError) async throws {
        try await fail(instance, phase: phase, message: error.description)
    }

    private func fail(_ instance: FlexLBInstanceResource, phase: String, message text: String) async throws {
        try await writeStatus(instance, phase: phase, nodes: instance.status?.node_status, message: text)
        await ctx.events.record(.flexlbInstances, instance.metadata, type: "Warning", reason: phase == "modify_failed" ? "ModifyFailed" : "CreateFailed", message: text)
    }

    private func writeStatus(_ instance: FlexLBInstanceResource, phase: String?, nodes: [String: String]?, message: String?, version: Int64? = nil) async throws {
        let status = FlexLBInstanceResource.Status(
            phase: phase, node_status: nodes, message: message.map { String($0.prefix(1024)) }, observedGeneration: instance.metadata.generation,
            flexlbVersion: version ?? instance.status?.flexlbVersion)
        guard status != instance.status else { return }
        var body = try KubeJSON.from(status)
        // Merge patch: absent fields must be removed explicitly.
        if case .object(var fields) = body {
            for key in ["phase", "node_status", "message"] where fields[key] == nil { fields[key] = .null }
            if let nodes, case .object = fields["node_status"] {
                // Replace the whole map (a node that left must disappear).
                fields["node_status"] = .object(Dictionary(uniqueKeysWithValues: nodes.map { ($0.key, KubeJSON.string($0.value)) }))
                for old in (instance.status?.node_status ?? [:]).keys where nodes[old] == nil {
                    if case .object(var map) = fields["node_status"] { map[old] = .null; fields["node_status"] = .object(map) }
                }
            }
            body = .object(fields)
        }
        let patch: KubeJSON = .object(["metadata": .object(["resourceVersion": .string(instance.metadata.resourceVersion ?? "")]), "status": body])
        let _: FlexLBInstanceResource = try await ctx.kube.mergePatch(
            .flexlbInstances, namespace: instance.metadata.namespace, name: instance.metadata.name ?? "", patch, subresource: "status")
    }
}
