import FlexLBClient
import FlexLBKube

/// Refreshes a FlexLBCluster's status from the FlexLB `/readyz` map (0.4's `cluster_status` and
/// `node_status`).
struct ClusterReconciler {
    let ctx: ControllerContext

    func reconcile(_ key: String) async throws -> ReconcileOutcome {
        guard let cluster = ctx.clusters.get(key) else { return .done }
        var status: FlexLBClusterResource.Status
        do {
            let client = try await ctx.flexlb.client(for: cluster)
            let readyz = try await client.readyz()
            let nodes = readyz.mapValues(\.rawValue)
            let ready = nodes.values.contains("ready")
            status = .init(cluster_status: ready ? "ready" : "not_ready", node_status: nodes, message: nil)
        } catch let error as FlexLBError {
            status = .init(cluster_status: "not_ready", node_status: cluster.status?.node_status, message: error.message)
        }
        if status != cluster.status {
            var body = try KubeJSON.from(status)
            if case .object(var fields) = body, fields["message"] == nil {
                fields["message"] = .null
                body = .object(fields)
            }
            let patch: KubeJSON = .object(["status": body])
            let _: FlexLBClusterResource = try await ctx.kube.mergePatch(
                .flexlbClusters, namespace: cluster.metadata.namespace, name: cluster.metadata.name ?? "", patch, subresource: "status")
        }
        return .requeue(after: ctx.settings.resyncPeriod)
    }
}
