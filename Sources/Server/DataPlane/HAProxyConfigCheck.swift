import FlexLBAPI
import FlexLBRender
import FlexLBSupervisor
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Checks an instance the way the data plane will run it: render it, then let the real HAProxy
/// judge the result (`haproxy -c`) in a scratch directory. The API refuses what fails, so a config
/// HAProxy rejects is never stored or applied.
///
/// The check parses tenant text, so it is contained: at most ``maxConcurrent`` checks at once, each
/// killed after ``timeout``, run as an unprivileged user (`setpriv`) when flexlbd is root — an account
/// of its own, not the one HAProxy's workers run as — with its scratch files in a private directory
/// outside /tmp.
public struct HAProxyConfigCheck: Sendable {
    public let haproxyBinary: String
    /// Parent of the per-check scratch directories.
    public let scratchRoot: String
    /// The user `haproxy -c` runs as when flexlbd is root (`haproxy.check_user`).
    public let unprivilegedUID: UInt32
    /// The group `haproxy -c` runs as when flexlbd is root.
    public let unprivilegedGID: UInt32
    private let runner: CommandRunner
    private let gate: CheckGate

    /// `setpriv` from util-linux, used to drop root for the check.
    static let setpriv = "/usr/bin/setpriv"

    public init(
        haproxyBinary: String,
        scratchRoot: String = "/run/flexlb-check",
        unprivilegedUID: UInt32 = 65534,
        unprivilegedGID: UInt32 = 65534,
        timeout: Duration = .seconds(10),
        maxConcurrent: Int = 2
    ) {
        self.haproxyBinary = haproxyBinary
        self.scratchRoot = scratchRoot
        self.unprivilegedUID = unprivilegedUID
        self.unprivilegedGID = unprivilegedGID
        self.runner = CommandRunner(timeout: timeout)
        self.gate = CheckGate(limit: maxConcurrent)
    }

    /// Violations that make `instance` unusable, or an empty list.
    public func violations(of instance: DesiredInstance) async -> [Violation] {
        // Short: the scratch paths hold UNIX sockets (108 bytes at most).
        let scratch = scratchRoot + "/" + String(UInt64.random(in: 1 ... .max), radix: 36)
        let paths = RenderPaths(haproxyRunDir: scratch + "/run", pemDir: scratch + "/pem")
        let rendered: RenderedHAProxy
        do {
            rendered = try HAProxyRenderer.render(instance, paths: paths)
        } catch {
            return [Violation(path: error.path, message: error.message)]
        }
        await gate.acquire()
        defer { ConfigFiles.removeTree(scratch) }
        do {
            let dropRoot = geteuid() == 0 && FileManager.default.isExecutableFile(atPath: Self.setpriv)
            try ConfigFiles.makeDirectory(scratchRoot)
            // The root is traversable only; each check's directory belongs to the checking user.
            chmod(scratchRoot, 0o711)
            var created = [scratch, scratch + "/run", scratch + "/pem"]
            try ConfigFiles.makeDirectory(scratch + "/run")
            for file in rendered.files {
                let path = paths.absolutePath(of: file)
                let directory = (path as NSString).deletingLastPathComponent
                try ConfigFiles.makeDirectory(directory)
                created.append(directory)
                try ConfigFiles.writeAtomically(path, file.contents)
                created.append(path)
            }
            try ConfigFiles.writeAtomically(scratch + "/haproxy.cfg", rendered.config)
            created.append(scratch + "/haproxy.cfg")
            if dropRoot {
                for path in Set(created) { chown(path, unprivilegedUID, unprivilegedGID) }
            }
            let command = ["-c", "-f", scratch + "/haproxy.cfg"]
            let result = dropRoot
                ? try await runner.run(Self.setpriv, [
                    "--reuid=\(unprivilegedUID)", "--regid=\(unprivilegedGID)", "--clear-groups", "--no-new-privs",
                    "--inh-caps=-all", "--bounding-set=-all", "--", haproxyBinary,
                ] + command, directory: scratch)
                : try await runner.run(haproxyBinary, command, directory: scratch)
            await gate.release()
            if result.succeeded { return [] }
            return [Violation(path: "$", message: "HAProxy rejects the configuration: " + Self.summarize(result.output, scratch: scratch))]
        } catch {
            await gate.release()
            return [Violation(path: "$", message: "cannot check the configuration with HAProxy")]
        }
    }

    /// HAProxy's alert lines, without pids and with paths reduced to their last component, so the
    /// message speaks of the instance and reveals nothing of the node.
    public static func summarize(_ output: String, scratch: String) -> String {
        // Not `-q`: HAProxy 2.6 then prints nothing at all, not even its alerts.
        let lines = output.split(whereSeparator: \.isNewline)
            .map { $0.replacingOccurrences(of: scratch + "/", with: "") }
            .map { scrub(String($0)) }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        let alerts = lines.filter { $0.contains("[ALERT]") }
        return (alerts.isEmpty ? lines.filter { !$0.contains("[NOTICE]") } : alerts).prefix(6).joined(separator: " | ")
    }

    /// Removes `(12345)` pid markers and turns absolute paths into their last component.
    static func scrub(_ line: String) -> String {
        var out = ""
        var index = line.startIndex
        while index < line.endIndex {
            let character = line[index]
            if character == "(" , let close = line[index...].firstIndex(of: ")"),
               line.index(after: index) < close, line[line.index(after: index)..<close].allSatisfy(\.isNumber) {
                index = line.index(after: close)
                continue
            }
            let atWordStart = index == line.startIndex || [" ", "'", "\"", "[", "("].contains(line[line.index(before: index)])
            if character == "/", atWordStart {
                var end = index
                while end < line.endIndex, !line[end].isWhitespace, !["'", "\"", "]", ")", ","].contains(line[end]) { end = line.index(after: end) }
                let path = line[index..<end]
                out += path.split(separator: "/").last.map(String.init) ?? ""
                index = end
                continue
            }
            out.append(character)
            index = line.index(after: index)
        }
        return out
    }
}

/// A counting semaphore for async callers: at most `limit` holders at once, the rest wait in order.
actor CheckGate {
    private let limit: Int
    private var holders = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    func acquire() async {
        if holders < limit {
            holders += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            holders -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
