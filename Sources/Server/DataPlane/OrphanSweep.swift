import FlexLBSupervisor
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Finds HAProxy and keepalived processes that this node's data directory started but its state does
/// not account for (masters started beside a running one, or left over from an earlier flexlbd whose
/// pid files were lost) so the reconciler can end them at start. Without this, an orphan keeps
/// serving a deleted instance's VIP forever.
enum OrphanSweep {
    struct ProcessInfo: Equatable, Sendable {
        var pid: Int32
        var parent: Int32
        var argv: [String]
    }

    /// Processes that are ours (`argv` names our binary and a config under our directories),
    /// not in `accounted`, and not children of an accounted process (HAProxy workers, keepalived's
    /// VRRP child). Pure, for tests.
    static func orphans(
        in processes: [ProcessInfo], accounted: Set<Int32>, haproxyBinary: String, haproxyConfigDir: String,
        keepalivedBinary: String, keepalivedConfig: String
    ) -> [ProcessInfo] {
        func base(_ path: String) -> Substring { path.split(separator: "/").last ?? Substring(path) }
        return processes.filter { process in
            guard !accounted.contains(process.pid), !accounted.contains(process.parent), let argv0 = process.argv.first else { return false }
            if base(argv0) == base(haproxyBinary) {
                return process.argv.contains { $0.hasPrefix(haproxyConfigDir + "/") && $0.hasSuffix(".cfg") }
            }
            if base(argv0) == base(keepalivedBinary) {
                return process.argv.contains(keepalivedConfig)
            }
            return false
        }
        // A child of an orphan ends with its parent; signal the parents only.
        .filter { process in !processes.contains { $0.pid == process.parent && !accounted.contains($0.pid) && $0.argv == process.argv } }
    }

    /// Every process's pid, parent and argv from /proc.
    static func scan() -> [ProcessInfo] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var found: [ProcessInfo] = []
        for entry in entries {
            guard let pid = Int32(entry), pid != getpid(),
                  let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")"),
                  let cmdline = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")) else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, let parent = Int32(fields[1]) else { continue }
            let argv = cmdline.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }.filter { !$0.isEmpty }
            found.append(ProcessInfo(pid: pid, parent: parent, argv: argv))
        }
        return found
    }
}
