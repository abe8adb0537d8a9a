import FlexLBRender
import FlexLBSupervisor

/// One instance keepalived refuses (an interface that vanished, a config keepalived cannot take) must
/// not cost every other instance its VIP: the instances that fail `keepalived -t` on their own are
/// left out of keepalived.conf, with their own error, until their configuration changes.
extension Reconciler {
    /// The instances (and their versions) that go into keepalived.conf: all but the refused ones.
    func keepalivedCandidates(
        _ desired: [DesiredInstance], versions: [String: Int64], state: inout PassState
    ) -> ([DesiredInstance], [String: Int64]) {
        // A refusal lasts while the instance keeps the version it was refused at.
        state.keepalivedRefused = state.keepalivedRefused.filter { versions[$0.key] == $0.value.version }
        let kept = desired.filter { state.keepalivedRefused[$0.name] == nil }
        return (kept, versions.filter { state.keepalivedRefused[$0.key] == nil })
    }

    /// Checks each running instance alone; refuses those keepalived rejects. True when something new
    /// was refused (so the rest can be written).
    func isolateKeepalivedFailures(_ desired: [DesiredInstance], versions: [String: Int64], state: inout PassState) async -> Bool {
        var refusedAny = false
        let candidate = settings.keepalivedConfig + ".isolate"
        defer { ConfigFiles.remove(candidate) }
        for instance in desired where instance.running {
            let reason: String
            do {
                let conf = try KeepalivedRenderer.render(instances: [instance], node: settings.node, paths: settings.renderPaths)
                try ConfigFiles.writeAtomically(candidate, conf)
                let check = try await runner.run(settings.keepalivedBinary, ["-t", "-f", candidate])
                if check.succeeded { continue }
                reason = "keepalived rejects this instance: \(check.output.prefix(300))"
            } catch {
                reason = "keepalived cannot take this instance: \(error)"
            }
            state.keepalivedRefused[instance.name] = (versions[instance.name] ?? 0, reason)
            refusedAny = true
        }
        return refusedAny
    }
}
