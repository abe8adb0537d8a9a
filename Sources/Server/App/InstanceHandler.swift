import FlexLBAPI
import FlexLBDataPlane
import FlexLBRender
import FlexLBStore
import Foundation
import Logging

/// Implements the generated ``APIProtocol``: validates what the schema cannot, writes the desired
/// state durably, and answers with what is stored. The reconciler (data plane) reads the store.
struct InstanceHandler: APIProtocol {
    let store: any StateStore
    let node: NodeIdentity
    /// Name of the cluster-endpoint instance, which is read-only through this API.
    let clusterInstanceName: String
    let now: @Sendable () -> Int64
    /// What the data plane observes; nil when this node runs no data plane.
    let observed: ObservedStatus?
    /// `haproxy -c` of the rendered instance before it is stored; nil to skip.
    let configCheck: HAProxyConfigCheck?
    /// The other nodes: membership and what they observe.
    let cluster: any ClusterView
    /// VIP:port claimed twice through concurrent writes on two nodes.
    let conflicts: ListenerConflicts
    /// Address policy and limits for writes.
    let policy: WritePolicy
    let logger: Logger

    /// What a write must respect beyond the schema: the address policy and the size limits.
    struct WritePolicy: Sendable {
        var addresses = AddressPolicy()
        var limits = NodeConfiguration.Limits()
        var dataPlaneEnabled = false
        /// This node's interface names and addresses (canonical) as they are now.
        var nodeAddresses: @Sendable () -> (hasInterface: @Sendable (String) -> Bool, addresses: Set<String>) = {
            ({ _ in true }, [])
        }
    }

    struct NodeIdentity: Sendable {
        var name: String
        var apiAddress: String
        var version: String
    }

    // MARK: Node operations

    func readyz(_ input: Operations.Readyz.Input) async throws -> Operations.Readyz.Output {
        // 0.4's map: every member. A dead or departed member is not ready; this node is ready.
        var map: ReadyzMap = [:]
        for member in cluster.members() {
            map[member.name] = switch member.readiness ?? .notReady {
            case .ready: .ready
            case .notReady: .notReady
            case .starting: .starting
            }
        }
        map[node.name] = .ready
        return .ok(map)
    }

    func livez(_ input: Operations.Livez.Input) async throws -> Operations.Livez.Output {
        .ok(Probe(status: .ok))
    }

    func ready(_ input: Operations.Ready.Input) async throws -> Operations.Ready.Output {
        do {
            _ = try await store.get(name: clusterInstanceName)
            return .ok(Probe(status: .ok, checks: ["store": "ok"]))
        } catch {
            return .serviceUnavailable(Probe(status: .notReady, checks: ["store": "\(error)"]))
        }
    }

    func listNodes(_ input: Operations.ListNodes.Input) async throws -> Operations.ListNodes.Output {
        .ok(cluster.members())
    }

    func drainNode(_ input: Operations.DrainNode.Input) async throws -> Operations.DrainNode.Output {
        do {
            return .ok(try await cluster.setDrained(input.name, drained: true))
        } catch {
            return switch error.code {
            case .notFound: .notFound(ErrorBody(message: error.message))
            case .unavailable: .serviceUnavailable(ErrorBody(message: error.message))
            case .unsupported: .badRequest(ErrorBody(message: error.message))
            }
        }
    }

    func undrainNode(_ input: Operations.UndrainNode.Input) async throws -> Operations.UndrainNode.Output {
        do {
            return .ok(try await cluster.setDrained(input.name, drained: false))
        } catch {
            return switch error.code {
            case .notFound: .notFound(ErrorBody(message: error.message))
            case .unavailable: .serviceUnavailable(ErrorBody(message: error.message))
            case .unsupported: .badRequest(ErrorBody(message: error.message))
            }
        }
    }

    func getOpenAPI(_ input: Operations.GetOpenAPI.Input) async throws -> Operations.GetOpenAPI.Output {
        .ok(OpenAPIDocument.yaml)
    }

    // MARK: Instance operations

    func create(_ input: Operations.Create.Input) async throws -> Operations.Create.Output {
        if input.body.name == clusterInstanceName { return .forbidden(forbidden(input.body.name)) }
        let (config, missingKeys) = InstanceSecrets.merged(input.body, stored: nil)
        var violations = await check(config, name: config.name)
        violations.insert(contentsOf: missingKeys, at: 0)
        if violations.isEmpty, try await store.list().count >= policy.limits.instances {
            violations.append(Violation(path: "$", message: "this node already holds \(policy.limits.instances) instances (limits.instances)"))
        }
        guard violations.isEmpty else { return .badRequest(invalid(violations)) }
        do {
            let stored = try await store.create(
                name: config.name,
                config: config.jsonBytes(),
                listeners: InstanceRules.listeners(of: config),
                vrrpGroup: InstanceRules.vrrpGroup(of: config),
                desiredState: .running,
                now: now()
            )
            return .ok(try await instance(stored, conflicts: conflicts.current()), etag: etag(stored))
        } catch let error as StoreError where error.isConflict {
            return .conflict(ErrorBody(message: error.description))
        }
    }

    func list(_ input: Operations.List.Input) async throws -> Operations.List.Output {
        let all = try await store.list()
        // 0.4 semantics: a substring match; an empty or absent filter matches every instance.
        let matching = all.filter { instance in
            guard let filter = input.name, !filter.isEmpty else { return true }
            return instance.name.contains(filter)
        }
        // A record that no longer decodes is left out of the list (and logged), never a failed list.
        let conflicts = try await conflicts.current()
        var endpoint: [Instance] = []
        if let derived = cluster.endpointInstance(), input.name.map({ $0.isEmpty || clusterInstanceName.contains($0) }) ?? true {
            endpoint = [endpointInstance(derived)]
        }
        return .ok(endpoint + matching.compactMap { record in
            do {
                return try instance(record, conflicts: conflicts)
            } catch {
                logger.error("stored instance does not decode", metadata: ["flexlb.instance": "\(record.name)", "error": "\(error)"])
                return nil
            }
        })
    }

    func modify(_ input: Operations.Modify.Input) async throws -> Operations.Modify.Output {
        if input.body.name == clusterInstanceName { return .forbidden(forbidden(input.body.name)) }
        // A configuration read back through the API has no private keys: keep the stored ones.
        let stored = try await store.get(name: input.body.name).flatMap { try? InstanceConfig.decode(jsonBytes: $0.config, strict: false) }
        let (config, missingKeys) = InstanceSecrets.merged(input.body, stored: stored)
        var violations = await check(config, name: config.name)
        violations.insert(contentsOf: missingKeys, at: 0)
        guard violations.isEmpty else { return .badRequest(invalid(violations)) }
        do {
            let stored = try await store.update(
                name: config.name,
                expectedVersion: try await expectedVersion(input.ifMatch, name: config.name),
                change: InstanceChange(
                    config: config.jsonBytes(),
                    listeners: InstanceRules.listeners(of: config),
                    vrrpGroup: InstanceRules.vrrpGroup(of: config)
                ),
                now: now()
            )
            return .ok(try await instance(stored, conflicts: conflicts.current()), etag: etag(stored))
        } catch let error as StoreError {
            if error.isNotFound { return .notFound(ErrorBody(message: error.description)) }
            if error.isVersionMismatch { return .preconditionFailed(ErrorBody(message: error.description)) }
            if error.isConflict { return .conflict(ErrorBody(message: error.description)) }
            throw error
        }
    }

    func get(_ input: Operations.Get.Input) async throws -> Operations.Get.Output {
        if input.name == clusterInstanceName, let derived = cluster.endpointInstance() {
            return .ok(endpointInstance(derived), etag: "\"\(derived.version)\"")
        }
        guard let stored = try await store.get(name: input.name) else {
            return .notFound(ErrorBody(message: StoreError.notFound(input.name).description))
        }
        return .ok(try await instance(stored, conflicts: conflicts.current()), etag: etag(stored))
    }

    func delete(_ input: Operations.Delete.Input) async throws -> Operations.Delete.Output {
        if input.name == clusterInstanceName { return .forbidden(forbidden(input.name)) }
        do {
            try await store.delete(
                name: input.name,
                expectedVersion: try await expectedVersion(input.ifMatch, name: input.name),
                now: now()
            )
            return .ok(Deleted(name: input.name))
        } catch let error as StoreError {
            if error.isNotFound { return .notFound(ErrorBody(message: error.description)) }
            if error.isVersionMismatch { return .preconditionFailed(ErrorBody(message: error.description)) }
            throw error
        }
    }

    func stop(_ input: Operations.Stop.Input) async throws -> Operations.Stop.Output {
        switch try await setDesiredState(.stopped, name: input.name, ifMatch: input.ifMatch) {
        case .success(let stored): .ok(try await instance(stored, conflicts: conflicts.current()), etag: etag(stored))
        case .failure(let refusal): refusal.stopOutput
        }
    }

    func start(_ input: Operations.Start.Input) async throws -> Operations.Start.Output {
        switch try await setDesiredState(.running, name: input.name, ifMatch: input.ifMatch) {
        case .success(let stored): .ok(try await instance(stored, conflicts: conflicts.current()), etag: etag(stored))
        case .failure(let refusal): refusal.startOutput
        }
    }

    // MARK: Helpers

    /// Why a start or stop was refused; both operations document the same responses.
    private enum Refusal: Error {
        case forbidden(ErrorBody)
        case notFound(ErrorBody)
        case preconditionFailed(ErrorBody)

        var stopOutput: Operations.Stop.Output {
            switch self {
            case .forbidden(let body): .forbidden(body)
            case .notFound(let body): .notFound(body)
            case .preconditionFailed(let body): .preconditionFailed(body)
            }
        }

        var startOutput: Operations.Start.Output {
            switch self {
            case .forbidden(let body): .forbidden(body)
            case .notFound(let body): .notFound(body)
            case .preconditionFailed(let body): .preconditionFailed(body)
            }
        }
    }

    private func setDesiredState(_ state: DesiredState, name: String, ifMatch: String?) async throws -> Result<InstanceRecord, Refusal> {
        if name == clusterInstanceName { return .failure(.forbidden(forbidden(name))) }
        do {
            let stored = try await store.update(
                name: name,
                expectedVersion: try await expectedVersion(ifMatch, name: name),
                change: InstanceChange(desiredState: state),
                now: now()
            )
            return .success(stored)
        } catch let error as StoreError {
            if error.isNotFound { return .failure(.notFound(ErrorBody(message: error.description))) }
            if error.isVersionMismatch { return .failure(.preconditionFailed(ErrorBody(message: error.description))) }
            throw error
        }
    }

    /// The version an If-Match header demands, or nil for an unconditional write. `*` means "any
    /// current version": the write is conditional on the instance existing, which every write checks.
    /// A tag that is not one of ours can never match, so it is turned into an impossible version.
    private func expectedVersion(_ ifMatch: String?, name: String) async throws -> Int64? {
        guard let ifMatch else { return nil }
        let tags = ifMatch.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if tags.contains("*") { return nil }
        for tag in tags where tag.hasPrefix("\"") && tag.hasSuffix("\"") && tag.count >= 2 {
            if let version = Int64(tag.dropFirst().dropLast()), version > 0 {
                // Several tags: the write may proceed if any of them is current.
                if tags.count == 1 { return version }
                if let current = try await store.get(name: name)?.version.rawValue, current == version { return version }
            }
        }
        return -1
    }

    /// Cross-field rules, limits and the address policy first; only a config that passes them is
    /// rendered and shown to HAProxy.
    private func check(_ config: InstanceConfig, name: String) async -> [Violation] {
        var violations = InstanceRules.violations(of: config)
        violations += InstanceRules.limitViolations(of: config, limits: policy.limits)
        violations += await addressViolations(of: config, name: name)
        guard violations.isEmpty, let configCheck else { return violations }
        return await configCheck.violations(of: DesiredInstance(virtualRouterID: 1, config: config))
    }

    private func addressViolations(of config: InstanceConfig, name: String) async -> [Violation] {
        let node = policy.nodeAddresses()
        // VIPs FlexLB put on this node's interfaces are not "the node's own" addresses.
        var managedVIPs: Set<String> = []
        for record in (try? await store.list()) ?? [] {
            if let other = try? InstanceConfig.decode(jsonBytes: record.config, strict: false),
               let vip = IPAddressText(other.frontendIpaddress)?.canonical {
                managedVIPs.insert(vip)
            }
        }
        var members: Set<String> = []
        for member in cluster.members() where member.isSelf != true {
            for address in (member.addresses ?? [:]).values.joined() {
                if let text = address.split(separator: "/").first, let canonical = IPAddressText(String(text))?.canonical {
                    members.insert(canonical)
                }
            }
        }
        let facts = AddressPolicy.NodeFacts(
            hasInterface: node.hasInterface,
            ownAddresses: node.addresses.subtracting(managedVIPs),
            memberAddresses: members
        )
        return policy.addresses.violations(of: config, facts: facts, dataPlaneEnabled: policy.dataPlaneEnabled)
    }

    private func etag(_ stored: InstanceRecord) -> String { "\"\(stored.version.rawValue)\"" }

    private func instance(_ stored: InstanceRecord, conflicts: [String: ListenerClaims.Conflict]) throws -> Instance {
        let config = InstanceSecrets.redacted(try InstanceConfig.decode(jsonBytes: stored.config, strict: false))
        let version = stored.version.rawValue
        // Until the data plane has applied this version, this node reports it as pending: a write's
        // response never claims the state of the previous version.
        var observed = self.observed?.status(of: stored.name) ?? NodeInstanceStatus(
            state: .pending,
            vip: .unknown,
            message: self.observed == nil ? "data plane disabled on this node" : "waiting for the data plane",
            observedAt: now()
        )
        if self.observed != nil, observed.appliedVersion != version, observed.state != .pending, observed.state != .down {
            observed.state = .pending
            observed.message = "applying version \(version)"
        }
        // Every other live node's view, as it last reported it (soft state from gossip).
        var nodes = cluster.remoteStatus(of: stored.name)
        for (name, var status) in nodes where status.appliedVersion != version && status.state == .up {
            status.state = .pending
            status.message = "applying version \(version)"
            nodes[name] = status
        }
        if let conflict = conflicts[stored.name] {
            // Decided identically on every node: this instance is not served anywhere.
            observed.state = .down
            observed.message = conflict.message
        }
        nodes[node.name] = observed
        return Instance(
            id: stored.virtualRouterID,
            config: config,
            status: nodes.mapValues(\.state),
            lastModified: stored.lastModified,
            desiredState: stored.desiredState == .running ? .running : .stopped,
            version: version,
            nodes: nodes
        )
    }

    /// The cluster endpoint instance, read-only, with every node's view like any other.
    private func endpointInstance(_ derived: DesiredEndpoint) -> Instance {
        var nodes = cluster.remoteStatus(of: clusterInstanceName)
        nodes[node.name] = observed?.status(of: clusterInstanceName) ?? NodeInstanceStatus(
            state: .pending, vip: .unknown, message: "data plane disabled on this node", observedAt: now()
        )
        return Instance(
            id: derived.virtualRouterID, config: derived.config, status: nodes.mapValues(\.state),
            desiredState: .running, version: derived.version, nodes: nodes
        )
    }

    private func invalid(_ violations: [Violation]) -> ErrorBody {
        ErrorBody(message: "request validation failed", violations: violations)
    }

    private func forbidden(_ name: String) -> ErrorBody {
        ErrorBody(message: "instance \(name) is the cluster endpoint and is managed by flexlbd itself")
    }
}
