/// One row of HAProxy's `show stat` CSV: a frontend, a backend or a server.
public struct HAProxyStatRow: Sendable, Hashable {
    /// Proxy name (`pxname`), e.g. `fe_8080` or `be_8080`.
    public var proxy: String
    /// `FRONTEND`, `BACKEND` or the server name.
    public var service: String
    /// `OPEN`, `UP`, `DOWN`, `MAINT`, `no check`, ...
    public var status: String

    public init(proxy: String, service: String, status: String) {
        self.proxy = proxy
        self.service = service
        self.status = status
    }

    /// Parses `show stat` output (a `# pxname,svname,...` header, then CSV rows).
    public static func parse(_ csv: String) -> [HAProxyStatRow] {
        var lines = csv.split(whereSeparator: \.isNewline).map(String.init)
        guard let header = lines.first, header.hasPrefix("# ") else { return [] }
        lines.removeFirst()
        let columns = header.dropFirst(2).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard let px = columns.firstIndex(of: "pxname"), let sv = columns.firstIndex(of: "svname"),
              let st = columns.firstIndex(of: "status") else { return [] }
        return lines.compactMap { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count > max(px, sv, st) else { return nil }
            return HAProxyStatRow(proxy: fields[px], service: fields[sv], status: fields[st])
        }
    }
}
