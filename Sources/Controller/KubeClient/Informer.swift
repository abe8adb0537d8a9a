import Logging
import Synchronization

/// A change the informer saw, for the controller to map onto work-queue keys.
public enum ObjectChange<T: KubeObject>: Sendable {
    case upserted(old: T?, new: T)
    case deleted(T)
}

/// Keeps a local copy of a collection up to date with list + watch (``WatchCursor`` decides
/// where to resume) and reports every change. The cache answers reads without API calls.
public final class Informer<T: KubeObject>: Sendable {
    public let kind: ResourceKind
    private let namespace: String?
    private let client: KubeClient
    private let logger: Logger
    private let store = Mutex<[String: T]>([:])
    private let hasSynced = Atomic<Bool>(false)
    private let watchTimeoutSeconds: Int

    public init(client: KubeClient, kind: ResourceKind, namespace: String? = nil, watchTimeoutSeconds: Int = 300, logger: Logger) {
        self.client = client
        self.kind = kind
        self.namespace = namespace
        self.logger = logger
        self.watchTimeoutSeconds = watchTimeoutSeconds
    }

    /// True after the first successful list.
    public var synced: Bool { hasSynced.load(ordering: .acquiring) }

    /// The cached object `namespace/name` (or `name`).
    public func get(_ key: String) -> T? { store.withLock { $0[key] } }

    /// Every cached object.
    public func all() -> [T] { store.withLock { Array($0.values) } }

    /// Runs until cancelled, calling `onChange` for every change (from the list or the watch).
    public func run(onChange: @Sendable (ObjectChange<T>) async -> Void) async {
        var cursor = WatchCursor()
        var directive = cursor.start()
        while !Task.isCancelled {
            do {
                switch directive {
                case .list(let delay):
                    if delay > .zero { try await Task.sleep(for: delay) }
                    let list: KubeList<T> = try await client.list(kind, namespace: namespace)
                    await replaceAll(list.items, onChange: onChange)
                    hasSynced.store(true, ordering: .releasing)
                    directive = cursor.listed(resourceVersion: list.metadata?.resourceVersion ?? "0")
                case .watch(let from, let delay):
                    if delay > .zero { try await Task.sleep(for: delay) }
                    let stream: AsyncThrowingStream<WatchEvent<T>, any Error> = try await client.watch(
                        kind, namespace: namespace, resourceVersion: from, timeoutSeconds: watchTimeoutSeconds)
                    var gone = false
                    for try await event in stream {
                        switch event.type {
                        case "ERROR":
                            gone = event.status?.code == 410 || event.status?.reason == "Expired" || event.status?.reason == "Gone"
                            logger.info("watch error", metadata: ["kube.kind": "\(kind)", "kube.message": "\(event.status?.message ?? "")"])
                        case "BOOKMARK":
                            cursor.observed(resourceVersion: event.resourceVersion)
                        default:
                            if let object = event.object { await apply(event.type, object, onChange: onChange) }
                            cursor.observed(resourceVersion: event.resourceVersion)
                        }
                        if gone { break }
                    }
                    directive = gone ? cursor.failed(gone: true) : cursor.streamEnded()
                }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                let gone = (error as? KubeError)?.isGone ?? false
                logger.warning("list/watch failed", metadata: ["kube.kind": "\(kind)", "kube.error": "\(error)"])
                directive = cursor.failed(gone: gone)
            }
        }
    }

    private func apply(_ type: String, _ object: T, onChange: (ObjectChange<T>) async -> Void) async {
        let key = object.metadata.key
        if type == "DELETED" {
            let old = store.withLock { $0.removeValue(forKey: key) }
            await onChange(.deleted(old ?? object))
        } else {
            let old = store.withLock { store in
                let old = store[key]
                store[key] = object
                return old
            }
            await onChange(.upserted(old: old, new: object))
        }
    }

    /// A relist: objects gone from the list are reported deleted, the others upserted.
    private func replaceAll(_ items: [T], onChange: (ObjectChange<T>) async -> Void) async {
        let fresh = Dictionary(items.map { ($0.metadata.key, $0) }, uniquingKeysWith: { $1 })
        let old = store.withLock { store in
            let old = store
            store = fresh
            return old
        }
        for (key, object) in old where fresh[key] == nil { await onChange(.deleted(object)) }
        for (key, object) in fresh where old[key]?.metadata.resourceVersion != object.metadata.resourceVersion {
            await onChange(.upserted(old: old[key], new: object))
        }
    }
}
