/// Deterministic FlexLB names (`^[A-Za-z0-9\-_.]{1,32}$`) for Kubernetes objects.
///
/// A Service `namespace/name` becomes `namespace.name` when that fits: both parts are DNS labels
/// (no dots), so the dot keeps the mapping one-to-one. Longer ones keep a readable prefix and end
/// in a hash of the full key, so they stay distinct and stable across restarts.
public enum InstanceNaming {
    /// The longest FlexLB name.
    public static let maxLength = 32

    /// The instance name of Service `namespace/name`.
    public static func instanceName(namespace: String, name: String) -> String {
        fit("\(namespace).\(name)", key: "\(namespace)/\(name)")
    }

    /// A backend server name for a node (node names may be up to 253 characters).
    public static func serverName(node: String) -> String {
        fit(node, key: node)
    }

    static func fit(_ text: String, key: String) -> String {
        let cleaned = String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) ? $0 : "_" })
        if cleaned.count <= maxLength && cleaned == text { return cleaned }
        let hash = String(fnv1a64(key), radix: 16)
        let suffix = "-" + String(repeating: "0", count: max(0, 16 - hash.count)) + hash
        return String(cleaned.prefix(maxLength - 11)) + String(suffix.prefix(11))
    }

    /// FNV-1a, 64 bits: stable across runs and platforms (unlike `Hasher`).
    static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}
