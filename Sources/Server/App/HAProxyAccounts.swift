#if canImport(Glibc)
import Glibc
#endif

/// The two unprivileged accounts of HAProxy on a node: the one its workers switch to once bound
/// (`haproxy.user`, `haproxy.group`), and the one `haproxy -c` parses tenants' configurations as
/// (`haproxy.check_user`). They must differ: a check that shared the workers' account could signal
/// or ptrace every running worker, and read whatever the workers can.
public struct HAProxyAccounts: Sendable, Equatable {
    /// A user and group, by name and id.
    public struct Account: Sendable, Equatable {
        public var user: String
        public var group: String
        public var uid: UInt32
        public var gid: UInt32
    }

    /// The workers' account; nil keeps them root (`haproxy.user: root`) or when there is no data plane.
    public var workers: Account?
    /// The account of `haproxy -c`.
    public var check: Account
    /// What startup should warn about (no dedicated account for the workers).
    public var warnings: [String] = []

    /// The account Debian's haproxy package creates (user and group `haproxy`).
    static let dedicated = "haproxy"
    /// The fallback for the workers when the node has no `haproxy` account.
    static let fallback = (user: "nobody", group: "nogroup")
}

/// The node's users and groups. ``system`` reads the passwd and group databases; tests pass a table.
public struct AccountDirectory: Sendable {
    /// A user's uid and primary gid.
    var user: @Sendable (String) -> (uid: UInt32, gid: UInt32)?
    /// A group's gid.
    var groupID: @Sendable (String) -> UInt32?
    var groupName: @Sendable (UInt32) -> String?

    init(
        user: @escaping @Sendable (String) -> (uid: UInt32, gid: UInt32)?,
        groupID: @escaping @Sendable (String) -> UInt32?,
        groupName: @escaping @Sendable (UInt32) -> String?
    ) {
        self.user = user
        self.groupID = groupID
        self.groupName = groupName
    }

    public static let system = AccountDirectory(
        user: { name in
            var entry = passwd()
            var result: UnsafeMutablePointer<passwd>?
            var buffer = [CChar](repeating: 0, count: 16384)
            guard getpwnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
            return (entry.pw_uid, entry.pw_gid)
        },
        groupID: { name in
            var entry = Glibc.group()
            var result: UnsafeMutablePointer<Glibc.group>?
            var buffer = [CChar](repeating: 0, count: 16384)
            guard getgrnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
            return entry.gr_gid
        },
        groupName: { gid in
            var entry = Glibc.group()
            var result: UnsafeMutablePointer<Glibc.group>?
            var buffer = [CChar](repeating: 0, count: 16384)
            guard getgrgid_r(gid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.gr_name else { return nil }
            return String(cString: name)
        }
    )
}

extension NodeConfiguration {
    /// The configured check user, or its default.
    var effectiveCheckUser: String { haproxyCheckUser ?? "nobody" }

    /// Refuses a worker user that is, by name, the check user; called while parsing, so
    /// `flexlbd --check-config` catches it too. The ids are compared once resolved on the node.
    func checkHAProxyAccountNames() throws {
        guard let user = haproxyUser, user != "root", user == effectiveCheckUser else { return }
        throw Self.sharedAccount(user, key: haproxyCheckUser == nil ? "haproxy.user" : "haproxy.check_user")
    }

    /// Resolves `haproxy.user`, `haproxy.group` and `haproxy.check_user` against the node's accounts.
    /// Without `haproxy.user` the workers run as `haproxy` when the node has that account (Debian's
    /// haproxy package creates it), else as `nobody` with a warning. Errors name the key.
    /// - Parameter workers: whether HAProxy's workers run here (`data_plane.enabled`).
    public func haproxyAccounts(workers: Bool, directory: AccountDirectory = .system) throws -> HAProxyAccounts {
        let check = try checkAccount(directory)
        var accounts = HAProxyAccounts(check: check)
        guard workers, haproxyUser != "root" else { return accounts }
        let name: String
        var groupName = haproxyGroup
        if let configured = haproxyUser {
            name = configured
        } else if directory.user(HAProxyAccounts.dedicated) != nil {
            name = HAProxyAccounts.dedicated
            if groupName == nil, directory.groupID(HAProxyAccounts.dedicated) != nil { groupName = HAProxyAccounts.dedicated }
        } else {
            name = HAProxyAccounts.fallback.user
            groupName = groupName ?? HAProxyAccounts.fallback.group
            accounts.warnings.append(
                "this node has no `\(HAProxyAccounts.dedicated)` account: HAProxy's workers run as \(name), "
                    + "\(name == check.user ? "the account `haproxy -c` also runs as; " : "")create one "
                    + "(`adduser --system --group \(HAProxyAccounts.dedicated)`, as Debian's haproxy package does) or set haproxy.user"
            )
        }
        guard let ids = directory.user(name) else {
            throw ConfigurationError("haproxy.user: this node has no user \(name)")
        }
        let gid: UInt32
        if let groupName {
            guard let found = directory.groupID(groupName) else {
                throw ConfigurationError("haproxy.group: this node has no group \(groupName)")
            }
            gid = found
        } else {
            gid = ids.gid
            groupName = directory.groupName(gid)
        }
        guard let groupName else {
            throw ConfigurationError("haproxy.group: the primary group (\(gid)) of \(name) has no name; set haproxy.group")
        }
        let workersAccount = HAProxyAccounts.Account(user: name, group: groupName, uid: ids.uid, gid: gid)
        if workersAccount.uid == check.uid {
            // Only the defaults on a node without a `haproxy` account end here; that is the warning above.
            if haproxyUser != nil || haproxyCheckUser != nil {
                throw Self.sharedAccount("\(name) (uid \(ids.uid))", key: haproxyCheckUser != nil ? "haproxy.check_user" : "haproxy.user")
            }
        }
        accounts.workers = workersAccount
        return accounts
    }

    private func checkAccount(_ directory: AccountDirectory) throws -> HAProxyAccounts.Account {
        let name = effectiveCheckUser
        if let uid = UInt32(name) {
            guard uid != 0 else { throw ConfigurationError("haproxy.check_user: must not be root") }
            return .init(user: name, group: name, uid: uid, gid: uid)
        }
        guard let ids = directory.user(name) else {
            throw ConfigurationError("haproxy.check_user: this node has no user \(name) (a numeric uid works without an account)")
        }
        guard ids.uid != 0 else { throw ConfigurationError("haproxy.check_user: must not be root") }
        return .init(user: name, group: directory.groupName(ids.gid) ?? String(ids.gid), uid: ids.uid, gid: ids.gid)
    }

    private static func sharedAccount(_ account: String, key: String) -> ConfigurationError {
        ConfigurationError(
            "\(key): \(account) would be both the account HAProxy's workers run as (haproxy.user) and the one "
                + "`haproxy -c` runs tenants' configurations as (haproxy.check_user, default nobody); give each its own account"
        )
    }
}
