import FlexLBAPI
import FlexLBRender
import FlexLBSupervisor
import Foundation

/// Checks an instance the way the data plane will run it: render it, then let the real HAProxy
/// judge the result (`haproxy -c`) in a scratch directory. The API refuses what fails, so a config
/// HAProxy rejects is never stored or applied.
public struct HAProxyConfigCheck: Sendable {
    public let haproxyBinary: String
    private let runner = CommandRunner()

    public init(haproxyBinary: String) {
        self.haproxyBinary = haproxyBinary
    }

    /// Violations that make `instance` unusable, or an empty list.
    public func violations(of instance: DesiredInstance) async -> [Violation] {
        let scratch = NSTemporaryDirectory() + "flexlb-check-\(UUID().uuidString)"
        defer { ConfigFiles.removeTree(scratch) }
        let paths = RenderPaths(haproxyRunDir: scratch + "/run", pemDir: scratch + "/pem")
        let rendered: RenderedHAProxy
        do {
            rendered = try HAProxyRenderer.render(instance, paths: paths)
        } catch {
            return [Violation(path: error.path, message: error.message)]
        }
        do {
            try ConfigFiles.makeDirectory(scratch + "/run")
            for file in rendered.files {
                let path = paths.absolutePath(of: file)
                try ConfigFiles.makeDirectory((path as NSString).deletingLastPathComponent)
                try ConfigFiles.writeAtomically(path, file.contents)
            }
            try ConfigFiles.writeAtomically(scratch + "/haproxy.cfg", rendered.config)
            let result = try await runner.run(haproxyBinary, ["-c", "-f", scratch + "/haproxy.cfg"])
            if result.succeeded { return [] }
            return [Violation(path: "$", message: "HAProxy rejects the configuration: " + Self.summarize(result.output, scratch: scratch))]
        } catch {
            return [Violation(path: "$", message: "cannot check the configuration with HAProxy: \(error)")]
        }
    }

    /// HAProxy's alert lines, with the scratch paths removed so the message speaks of the instance.
    static func summarize(_ output: String, scratch: String) -> String {
        // Not `-q`: HAProxy 2.6 then prints nothing at all, not even its alerts.
        let lines = output.split(whereSeparator: \.isNewline)
            .map { $0.replacingOccurrences(of: scratch + "/", with: "") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        let alerts = lines.filter { $0.contains("[ALERT]") }
        return (alerts.isEmpty ? lines.filter { !$0.contains("[NOTICE]") } : alerts).prefix(6).joined(separator: " | ")
    }
}
