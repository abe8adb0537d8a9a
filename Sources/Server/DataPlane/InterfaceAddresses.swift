import FlexLBAPI
#if canImport(Glibc)
import Glibc
#endif

/// The addresses configured on this network namespace's interfaces, read with getifaddrs (a netlink
/// dump). Used to see whether this node holds an instance's VIP.
public enum InterfaceAddresses {
    public struct Entry: Hashable, Sendable {
        public var interface: String
        public var address: String

        public init(interface: String, address: String) {
            self.interface = interface
            self.address = address
        }
    }

    /// Every address with its prefix length as `address/prefix`, by interface name, loopback left out:
    /// what a node publishes to its peers.
    public static func published() -> [String: [String]] {
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0, let first = head else { return [:] }
        defer { freeifaddrs(head) }
        var result: [String: [String]] = [:]
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, let mask = entry.pointee.ifa_netmask, let name = entry.pointee.ifa_name,
                  entry.pointee.ifa_flags & UInt32(IFF_LOOPBACK) == 0 else { continue }
            let family = Int32(address.pointee.sa_family)
            guard family == AF_INET || family == AF_INET6, let text = text(of: address) else { continue }
            let bytes: [UInt8] = family == AF_INET
                ? mask.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { withUnsafeBytes(of: $0.pointee.sin_addr) { Array($0) } }
                : mask.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { withUnsafeBytes(of: $0.pointee.sin6_addr) { Array($0) } }
            let prefix = bytes.reduce(0) { $0 + $1.nonzeroBitCount }
            // Link-local IPv6 addresses are per link and useless to peers.
            if text.lowercased().hasPrefix("fe80:") { continue }
            result[String(cString: name), default: []].append("\(text)/\(prefix)")
        }
        return result.mapValues { $0.sorted() }
    }

    private static func text(of address: UnsafeMutablePointer<sockaddr>) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        switch Int32(address.pointee.sa_family) {
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
            return nil
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func current() -> Set<Entry> {
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0, let first = head else { return [] }
        defer { freeifaddrs(head) }
        var result: Set<Entry> = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, let name = entry.pointee.ifa_name, let text = text(of: address) else { continue }
            result.insert(Entry(interface: String(cString: name), address: text))
        }
        return result
    }

    /// Canonical text of an IP address (so `2001:DB8::1` matches `2001:db8::1`), or nil.
    static func canonical(_ text: String) -> String? {
        IPAddressText(text)?.canonical
    }
}
