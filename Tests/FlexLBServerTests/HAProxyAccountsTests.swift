@testable import FlexLBServer
import Testing

/// HAProxy's workers and `haproxy -c` run as different accounts (issue 9: one shared `nobody` let a
/// check reach the running workers). Resolved against a table of accounts.
struct HAProxyAccountsTests {
    static func directory(users: [String: (UInt32, UInt32)], groups: [String: UInt32]) -> AccountDirectory {
        AccountDirectory(
            user: { name in users[name].map { (uid: $0.0, gid: $0.1) } },
            groupID: { groups[$0] },
            groupName: { gid in groups.first { $0.value == gid }?.key }
        )
    }

    static let debian = directory(
        users: ["root": (0, 0), "nobody": (65534, 65534), "haproxy": (102, 105), "lb": (900, 901), "alias": (65534, 65534)],
        groups: ["root": 0, "nogroup": 65534, "haproxy": 105, "lb": 901]
    )
    static let withoutHAProxy = directory(users: ["root": (0, 0), "nobody": (65534, 65534)], groups: ["root": 0, "nogroup": 65534])

    func resolve(_ yaml: String, on directory: AccountDirectory = debian, workers: Bool = true) throws -> HAProxyAccounts {
        try NodeConfiguration.parse(yaml: yaml).haproxyAccounts(workers: workers, directory: directory)
    }

    @Test func byDefaultWorkersGetTheDedicatedAccountAndChecksNobody() throws {
        let accounts = try resolve("")
        #expect(accounts.workers == .init(user: "haproxy", group: "haproxy", uid: 102, gid: 105))
        #expect(accounts.check == .init(user: "nobody", group: "nogroup", uid: 65534, gid: 65534))
        #expect(accounts.warnings.isEmpty)
    }

    @Test func withoutAHAProxyAccountWorkersFallBackToNobodyWithAWarning() throws {
        let accounts = try resolve("", on: Self.withoutHAProxy)
        #expect(accounts.workers == .init(user: "nobody", group: "nogroup", uid: 65534, gid: 65534))
        #expect(accounts.warnings.count == 1)
        #expect(accounts.warnings.first?.contains("haproxy.user") == true)
    }

    @Test(arguments: [
        ("haproxy: {user: nobody}", "haproxy.user"),
        ("haproxy: {user: haproxy, check_user: haproxy}", "haproxy.check_user"),
        ("haproxy: {user: lb, check_user: lb}", "haproxy.check_user"),
    ])
    func aSharedAccountIsRefusedWhenParsed(yaml: String, key: String) {
        #expect {
            try NodeConfiguration.parse(yaml: yaml, source: "c.yaml")
        } throws: { error in
            "\(error)".hasPrefix("c.yaml: \(key): ") && "\(error)".contains("give each its own account")
        }
    }

    @Test(arguments: [
        // The check user is the account the workers default to.
        ("haproxy: {check_user: haproxy}", "haproxy.check_user: haproxy (uid 102)"),
        // Different names, one uid.
        ("haproxy: {user: alias}", "haproxy.user: alias (uid 65534)"),
        ("haproxy: {check_user: \"102\"}", "haproxy.check_user: haproxy (uid 102)"),
        ("haproxy: {user: nosuch}", "haproxy.user: this node has no user nosuch"),
        ("haproxy: {group: nosuch}", "haproxy.group: this node has no group nosuch"),
        ("haproxy: {check_user: nosuch}", "haproxy.check_user: this node has no user nosuch"),
        ("haproxy: {check_user: root}", "haproxy.check_user: must not be root"),
        ("haproxy: {check_user: \"0\"}", "haproxy.check_user: must not be root"),
    ])
    func aSharedOrMissingAccountIsRefusedOnTheNode(yaml: String, message: String) {
        #expect {
            try resolve(yaml)
        } throws: { error in
            "\(error)".hasPrefix(message)
        }
    }

    @Test func explicitAccounts() throws {
        let accounts = try resolve("haproxy: {user: lb, check_user: \"65000\"}")
        #expect(accounts.workers == .init(user: "lb", group: "lb", uid: 900, gid: 901))
        #expect(accounts.check.uid == 65000 && accounts.check.gid == 65000)
        #expect(try resolve("haproxy: {user: root}").workers == nil)
    }

    @Test func withoutADataPlaneOnlyTheCheckAccountMatters() throws {
        let accounts = try resolve("", on: Self.withoutHAProxy, workers: false)
        #expect(accounts.workers == nil && accounts.warnings.isEmpty)
        #expect(accounts.check.uid == 65534)
    }
}
