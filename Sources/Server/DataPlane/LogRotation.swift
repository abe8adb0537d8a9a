/// How large keepalived's and HAProxy's logs may grow, and how many rotated copies are kept
/// (`logs.max_bytes`, `logs.keep`).
public struct LogRotationPolicy: Sendable, Equatable {
    /// A log larger than this is rotated.
    public var maxBytes: Int64
    /// Rotated copies kept per log (`NAME.1` newest ... `NAME.keep` oldest); 0 only truncates.
    public var keep: Int

    public init(maxBytes: Int64 = 10 << 20, keep: Int = 3) {
        self.maxBytes = maxBytes
        self.keep = keep
    }
}

/// Size-based copy-truncate rotation of the children's logs under `data_dir/log`, decided without
/// touching the disk: a directory listing and the instances that still exist in, actions out.
///
/// keepalived and HAProxy write their stdout and stderr to these files with `O_APPEND` and never
/// reopen them, so a log is rotated by copying it to `NAME.1` and truncating it in place: the
/// children's next writes land at the new end of file. The few lines written between the copy and
/// the truncation are lost, as with logrotate's `copytruncate`.
enum LogRotation {
    /// A file in the log directory and its size in bytes.
    struct File: Equatable {
        var name: String
        var size: Int64
    }

    /// One rename of a rotated copy, oldest first so that nothing is overwritten before it moved.
    struct Shift: Equatable {
        var from: String
        var to: String
    }

    enum Action: Equatable {
        /// Applies `shifts` in order, copies `log` to `copy` (nil with `keep: 0`), then truncates `log`.
        case rotate(log: String, shifts: [Shift], copy: String?)
        /// Deletes a log of an instance that no longer exists, a copy beyond `keep`, or the leftover
        /// of a rotation that was interrupted.
        case remove(String)
    }

    static let keepalivedLog = "keepalived.log"
    /// Where a copy is written before it is renamed to `NAME.1`.
    static let partialSuffix = ".rotating"

    /// The log of an instance's HAProxy (`DataPlaneSettings.haproxyLog(instance:)`).
    static func haproxyLog(instance: String) -> String { "haproxy-\(instance).log" }

    /// What a file of the log directory is, or nil for a file that is not one of ours.
    private enum Kind {
        case log(String)
        case copy(log: String, index: Int)
        case partial(log: String)
    }

    private static func kind(of name: String) -> Kind? {
        func isLog(_ name: Substring) -> Bool {
            name == keepalivedLog || (name.hasPrefix("haproxy-") && name.hasSuffix(".log") && name.count > "haproxy-.log".count)
        }
        if isLog(name[...]) { return .log(name) }
        if name.hasSuffix(partialSuffix), isLog(name.dropLast(partialSuffix.count)) {
            return .partial(log: String(name.dropLast(partialSuffix.count)))
        }
        guard let dot = name.lastIndex(of: ".") else { return nil }
        let digits = name[name.index(after: dot)...]
        guard let first = digits.first, first != "0", digits.count <= 6, digits.allSatisfy({ ("0"..."9").contains($0) }), let index = Int(digits),
              isLog(name[..<dot]) else { return nil }
        return .copy(log: String(name[..<dot]), index: index)
    }

    /// The actions for one pass over `files`, given the instances whose logs are still wanted
    /// (keepalived's log always is). Files that are not ours are left alone.
    static func plan(files: [File], instances: Set<String>, policy: LogRotationPolicy) -> [Action] {
        let wanted = Set(instances.map(haproxyLog(instance:))).union([keepalivedLog])
        let present = Set(files.map(\.name))
        var actions: [Action] = []
        for file in files.sorted(by: { $0.name < $1.name }) {
            switch kind(of: file.name) {
            case nil:
                continue
            case .partial:
                actions.append(.remove(file.name))
            case .copy(let log, let index):
                if !wanted.contains(log) || index > policy.keep { actions.append(.remove(file.name)) }
            case .log(let log):
                guard wanted.contains(log) else {
                    actions.append(.remove(file.name))
                    continue
                }
                guard file.size > policy.maxBytes else { continue }
                guard policy.keep > 0 else {
                    actions.append(.rotate(log: log, shifts: [], copy: nil))
                    continue
                }
                let shifts = stride(from: policy.keep - 1, through: 1, by: -1)
                    .filter { present.contains("\(log).\($0)") }
                    .map { Shift(from: "\(log).\($0)", to: "\(log).\($0 + 1)") }
                actions.append(.rotate(log: log, shifts: shifts, copy: "\(log).1"))
            }
        }
        return actions
    }
}
