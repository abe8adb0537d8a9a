import FlexLBAPI
#if canImport(Glibc)
import Glibc
#endif

/// The addresses configured on this network namespace's interfaces, read with getifaddrs (a netlink
/// dump). Used to see whether this node holds an instance's VIP.
enum InterfaceAddresses {
    struct Entry: Hashable {
        var interface: String
        var address: String
    }

    static func current() -> Set<Entry> {
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0, let first = head else { return [] }
        defer { freeifaddrs(head) }
        var result: Set<Entry> = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, let name = entry.pointee.ifa_name else { continue }
            let family = Int32(address.pointee.sa_family)
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            switch family {
            case AF_INET:
                address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    var a = sin.pointee.sin_addr
                    _ = inet_ntop(AF_INET, &a, &buffer, socklen_t(buffer.count))
                }
            case AF_INET6:
                address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                    var a = sin6.pointee.sin6_addr
                    _ = inet_ntop(AF_INET6, &a, &buffer, socklen_t(buffer.count))
                }
            default:
                continue
            }
            let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            result.insert(Entry(interface: String(cString: name), address: text))
        }
        return result
    }

    /// Canonical text of an IP address (so `2001:DB8::1` matches `2001:db8::1`), or nil.
    static func canonical(_ text: String) -> String? {
        IPAddressText(text)?.canonical
    }
}
