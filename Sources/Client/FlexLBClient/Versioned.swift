/// A value read from or written to flexlbd together with its strong ETag, for optimistic
/// concurrency (`If-Match`).
public struct Versioned<Value: Sendable>: Sendable {
    /// The value.
    public var value: Value
    /// The ETag the server sent (quoted, as on the wire), if any.
    public var etag: String?

    /// Pairs a value with its ETag.
    public init(_ value: Value, etag: String?) {
        self.value = value
        self.etag = etag
    }
}

extension Versioned: Equatable where Value: Equatable {}
extension Versioned: Hashable where Value: Hashable {}
