import FlexLBRender
import Foundation
import Testing

/// Every golden configuration must be accepted by the real haproxy and keepalived.
///
/// The golden text is checked as-is except for its absolute directories (pointed at a temporary
/// directory holding PEM files generated now) and, when this host has no `eth0`, the interface name.
@Suite struct BinaryValidationTests {
    @Test(arguments: try Fixtures.goldenCases())
    func realBinaryAcceptsGolden(_ golden: GoldenCase) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        var text = try Golden.read(golden.file)
        let (_, files) = try golden.render()
        let pemDir = scratch.url.appendingPathComponent("pem")
        let runDir = scratch.url.appendingPathComponent("run")
        try FileManager.default.createDirectory(at: runDir, withIntermediateDirectories: true)
        text = text.replacingOccurrences(of: Fixtures.paths.pemDir, with: pemDir.path)
            .replacingOccurrences(of: Fixtures.paths.haproxyRunDir, with: runDir.path)
            .replacingOccurrences(of: Fixtures.paths.keepalivedNotifyFifo!, with: runDir.appendingPathComponent("keepalived.fifo").path)

        switch golden.input {
        case .haproxy:
            let haproxy = try #require(Tool.find("haproxy"), "haproxy is not installed: install HAProxy 2.6 (apt-get install haproxy); CI installs it")
            if !files.isEmpty {
                let (cert, key) = try scratch.selfSignedPair()
                for file in files {
                    let url = pemDir.appendingPathComponent(file.relativePath)
                    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                    let contents = file.relativePath.hasSuffix("-ca.pem") ? cert : cert + key
                    try Data(contents.utf8).write(to: url)
                    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
                }
            }
            let config = scratch.url.appendingPathComponent(golden.file)
            try text.write(to: config, atomically: true, encoding: .utf8)
            let result = try Tool.run(haproxy, ["-c", "-f", config.path])
            #expect(result.status == 0, "haproxy -c rejected \(golden.file):\n\(result.output)")
        case .keepalived:
            let keepalived = try #require(Tool.find("keepalived"), "keepalived is not installed: install keepalived 2.2 (apt-get install keepalived); CI installs it")
            if !FileManager.default.fileExists(atPath: "/sys/class/net/eth0"), let interface = Tool.nonLoopbackInterface() {
                text = text.replacingOccurrences(of: " eth0\n", with: " \(interface)\n")
            }
            let config = scratch.url.appendingPathComponent(golden.file)
            try text.write(to: config, atomically: true, encoding: .utf8)
            let result = try Tool.run(keepalived, ["-t", "-f", config.path])
            #expect(result.status == 0, "keepalived -t rejected \(golden.file):\n\(result.output)")
        }
    }

    /// Negative control: the harness does notice a configuration the binaries reject.
    @Test func harnessSeesRejections() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let haproxy = try #require(Tool.find("haproxy"), "haproxy is not installed: install HAProxy 2.6 (apt-get install haproxy); CI installs it")
        let keepalived = try #require(Tool.find("keepalived"), "keepalived is not installed: install keepalived 2.2 (apt-get install keepalived); CI installs it")
        let bad = scratch.url.appendingPathComponent("bad.cfg")
        try "backend be\n    balance no-such-algorithm\n".write(to: bad, atomically: true, encoding: .utf8)
        #expect(try Tool.run(haproxy, ["-c", "-f", bad.path]).status != 0)
        try "vrrp_instance x {\n    virtual_router_id 0\n}\n".write(to: bad, atomically: true, encoding: .utf8)
        #expect(try Tool.run(keepalived, ["-t", "-f", bad.path]).status != 0)
    }
}

/// A temporary directory removed by the test that made it.
struct Scratch {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("flexlb-render-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: url) }

    /// A throwaway P-256 certificate and key (PEM), valid for two days.
    func selfSignedPair() throws -> (cert: String, key: String) {
        let openssl = try #require(Tool.find("openssl"), "openssl is not installed")
        let cert = url.appendingPathComponent("cert.pem"), key = url.appendingPathComponent("key.pem")
        let result = try Tool.run(openssl, [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key.path, "-out", cert.path, "-days", "2", "-subj", "/CN=flexlb-render-test",
        ])
        try #require(result.status == 0, "openssl failed: \(result.output)")
        return (try String(contentsOf: cert, encoding: .utf8), try String(contentsOf: key, encoding: .utf8))
    }
}

/// Finding and running external programs with an argument vector (no shell).
enum Tool {
    static func find(_ name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/local/sbin"]
        return directories.lazy.map { URL(fileURLWithPath: $0).appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    static func run(_ executable: URL, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func nonLoopbackInterface() -> String? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net")) ?? []
        return names.sorted().first { $0 != "lo" }
    }
}
