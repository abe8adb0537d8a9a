import FlexLBKube
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Posts `v1` Events about objects, once per (object, reason, message) per `window` so that a
/// retrying reconcile does not flood the API.
final class EventRecorder: Sendable {
    private let client: KubeClient
    private let logger: Logger
    private let window: Duration
    private let recent = Mutex<[String: ContinuousClock.Instant]>([:])

    init(client: KubeClient, logger: Logger, window: Duration = .seconds(300)) {
        self.client = client
        self.logger = logger
        self.window = window
    }

    /// Records an Event (best effort: a failure is logged, never thrown).
    func record(_ kind: ResourceKind, _ meta: ObjectMeta, type: String, reason: String, message: String) async {
        let dedupe = "\(meta.uid ?? meta.key)|\(reason)|\(message)"
        let now = ContinuousClock.now
        let fresh = recent.withLock { recent in
            if let last = recent[dedupe], now - last < window { return false }
            recent[dedupe] = now
            if recent.count > 10_000 { recent = recent.filter { now - $0.value < window } }
            return true
        }
        guard fresh else { return }
        var metadata = ObjectMeta(namespace: meta.namespace)
        metadata.generateName = "\(meta.name ?? "object")."
        let event = Event(
            metadata: metadata,
            involvedObject: ObjectReference(apiVersion: kind.apiVersion, kind: kind.kind, namespace: meta.namespace, name: meta.name, uid: meta.uid),
            reason: reason, message: String(message.prefix(1024)), type: type, component: Contract.component, time: Timestamps.now())
        do {
            let _: Event = try await client.create(.events, namespace: meta.namespace ?? "default", event)
        } catch {
            logger.warning("cannot record event", metadata: ["kube.reason": "\(reason)", "kube.error": "\(error)"])
        }
    }
}

/// Kubernetes timestamp text.
enum Timestamps {
    /// RFC 3339 in UTC, seconds precision (`metav1.Time`).
    static func now() -> String { format(Date(), fractional: false) }
    /// RFC 3339 with microseconds (`metav1.MicroTime`, Lease times).
    static func micro() -> String { format(Date(), fractional: true) }

    static func format(_ date: Date, fractional: Bool) -> String {
        let seconds = date.timeIntervalSince1970
        let whole = Int64(seconds.rounded(.down))
        var parts = tm()
        var t = time_t(whole)
        gmtime_r(&t, &parts)
        let base = String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday), Int(parts.tm_hour),
            Int(parts.tm_min), Int(parts.tm_sec))
        guard fractional else { return base + "Z" }
        let micros = Int((seconds - Double(whole)) * 1_000_000)
        return base + String(format: ".%06dZ", micros)
    }
}
