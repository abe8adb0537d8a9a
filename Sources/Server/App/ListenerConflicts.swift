import FlexLBStore
import Synchronization

/// The VIP:port conflicts of the stored records (see ``ListenerClaims``), recomputed only when the
/// store revision moves, so a get stays one indexed read on an unchanged store.
final class ListenerConflicts: Sendable {
    private let cache = Mutex<(revision: Int64, conflicts: [String: ListenerClaims.Conflict])?>(nil)
    let store: any StateStore

    init(store: any StateStore) { self.store = store }

    func current() async throws -> [String: ListenerClaims.Conflict] {
        let revision = try await store.revision()
        if let cached = cache.withLock({ $0 }), cached.revision == revision { return cached.conflicts }
        let snapshot = try await store.snapshot()
        let conflicts = ListenerClaims.conflicts(in: snapshot.live)
        cache.withLock { $0 = (snapshot.revision, conflicts) }
        return conflicts
    }
}
