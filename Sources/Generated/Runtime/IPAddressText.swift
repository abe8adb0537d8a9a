#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IP address parsed by the C library (no zone, no whitespace), with its canonical text, so that
/// `2001:DB8:0::1` and `2001:db8::1` compare equal. The one parser behind the schema's IP addresses (`anyOf` ipv4/ipv6),
/// the server's VIP:port conflict check and the data plane's VIP observation.
public struct IPAddressText: Sendable, Hashable {
    public let isIPv4: Bool
    public let canonical: String

    public init?(_ text: String) {
        guard !text.isEmpty, !text.utf8.contains(0), text.utf8.allSatisfy({ $0 < 0x80 }) else { return nil }
        var v4 = in_addr()
        var v6 = in6_addr()
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        if inet_pton(AF_INET, text, &v4) == 1 {
            guard inet_ntop(AF_INET, &v4, &buffer, socklen_t(buffer.count)) != nil else { return nil }
            isIPv4 = true
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            guard inet_ntop(AF_INET6, &v6, &buffer, socklen_t(buffer.count)) != nil else { return nil }
            isIPv4 = false
        } else {
            return nil
        }
        canonical = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
