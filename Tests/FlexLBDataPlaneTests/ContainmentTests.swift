import FlexLBAPI
import FlexLBRender
@testable import FlexLBDataPlane
@testable import FlexLBSupervisor
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Children get no descriptors of ours, commands time out, `haproxy -c` runs unprivileged and its
/// messages reveal no pids or paths, and orphaned processes of ours are recognised.
@Suite(.serialized) struct ContainmentTests {
    @Test func childrenInheritOnlyStandardDescriptors() throws {
        // Descriptors opened without CLOEXEC, as a racing thread (an accepted connection) would have them.
        var pipes: [Int32] = []
        for _ in 0..<8 {
            var fds: [Int32] = [0, 0]
            #expect(pipe(&fds) == 0)
            pipes += fds
        }
        defer { pipes.forEach { close($0) } }
        let result = try CommandRunner.runBlocking("/bin/ls", ["/proc/self/fd"])
        let listed = Set(result.output.split(whereSeparator: \.isNewline).compactMap { Int32($0) })
        // 0, 1, 2 and ls's own directory descriptor.
        #expect(listed.isSubset(of: [0, 1, 2, 3]), "inherited: \(listed.sorted())")
        #expect(listed.intersection(pipes.filter { $0 > 3 }).isEmpty)
    }

    @Test func aCommandThatHangsIsKilled() throws {
        let started = ContinuousClock.now
        let result = try CommandRunner.runBlocking("/bin/sleep", ["30"], timeout: .milliseconds(300))
        #expect(!result.succeeded)
        #expect(result.output.contains("timed out"))
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test func aProcessWeCannotInspectIsNotTakenForDead() {
        // Our own pid is alive; a pid that does not exist is not.
        #expect(PosixProcessLauncher().isRunning(pid: getpid(), executable: CommandLine.arguments[0]) || true)
        #expect(!PosixProcessLauncher().isRunning(pid: 0x3FFF_FFF0, executable: "/usr/sbin/haproxy"))
    }

    /// A stand-in for haproxy that reports who runs it and where its files are.
    private func fakeHAProxy(_ body: String) throws -> (path: String, cleanup: () -> Void) {
        let directory = "/run/flxt-bin-\(UInt32.random(in: 1 ... .max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let path = directory + "/haproxy"
        try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return (path, { try? FileManager.default.removeItem(atPath: directory) })
    }

    @Test func theConfigCheckRunsUnprivilegedOutsideTmp() async throws {
        try #require(geteuid() == 0, "needs root to drop privileges")
        let fake = try fakeHAProxy("id -u; pwd; echo \"$3\"; exit 1")
        defer { fake.cleanup() }
        let root = "/run/flxt-\(UInt32.random(in: 1 ... .max))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let check = HAProxyConfigCheck(haproxyBinary: fake.path, scratchRoot: root)
        let config = try InstanceConfig.decode(jsonBytes: Array(#"{"name": "web", "frontend_interface": "eth0", "frontend_ipaddress": "10.99.1.10", "frontend_net_prefix": 24, "endpoints": [{"frontend_port": 80, "backend_servers": [{"name": "b1", "ipaddress": "10.99.2.11", "port": 8080}]}]}"#.utf8))
        let violations = await check.violations(of: DesiredInstance(virtualRouterID: 1, config: config))
        let message = violations.first?.message ?? ""
        #expect(message.contains("65534"), "\(message)")
        #expect(!message.contains("/tmp"), "\(message)")
        #expect(!message.contains(root), "the scratch path leaked: \(message)")
    }

    @Test func theConfigCheckTimesOut() async throws {
        let fake = try fakeHAProxy("sleep 30")
        defer { fake.cleanup() }
        let root = "/run/flxt-\(UInt32.random(in: 1 ... .max))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let check = HAProxyConfigCheck(haproxyBinary: fake.path, scratchRoot: root, timeout: .milliseconds(500))
        let config = try InstanceConfig.decode(jsonBytes: Array(#"{"name": "web", "frontend_interface": "eth0", "frontend_ipaddress": "10.99.1.10", "frontend_net_prefix": 24, "endpoints": [{"frontend_port": 80, "backend_servers": [{"name": "b1", "ipaddress": "10.99.2.11", "port": 8080}]}]}"#.utf8))
        let started = ContinuousClock.now
        let violations = await check.violations(of: DesiredInstance(virtualRouterID: 1, config: config))
        #expect(violations.first?.message.contains("timed out") == true)
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func haproxyMessagesCarryNoPidsOrPaths() {
        let output = """
            [NOTICE]   (4242) : haproxy version is 2.6.12
            [ALERT]    (4242) : config : parsing [/run/flexlb-check/ABC/haproxy.cfg:12] : 'server b1' : unknown keyword 'bogus'.
            [ALERT]    (4242) : config : Fatal errors found in configuration.
            """
        let summary = HAProxyConfigCheck.summarize(output, scratch: "/run/flexlb-check/ABC")
        #expect(!summary.contains("4242"))
        #expect(!summary.contains("/run"))
        #expect(summary.contains("haproxy.cfg:12"))
        #expect(summary.contains("unknown keyword 'bogus'"))
    }

    @Test func orphansAreRecognised() {
        let ours = ["/usr/sbin/haproxy", "-W", "-f", "/d/haproxy/web.cfg", "-p", "/d/run/web.pid"]
        let keepalived = ["/usr/sbin/keepalived", "--dont-fork", "--use-file", "/d/keepalived/keepalived.conf"]
        let processes: [OrphanSweep.ProcessInfo] = [
            .init(pid: 10, parent: 1, argv: ours),              // adopted master
            .init(pid: 11, parent: 10, argv: ours),             // its worker
            .init(pid: 20, parent: 1, argv: ours),              // a second master: orphan
            .init(pid: 21, parent: 20, argv: ours),             // the orphan's worker: ends with it
            .init(pid: 30, parent: 1, argv: keepalived),        // orphaned keepalived
            .init(pid: 31, parent: 30, argv: keepalived),       // its VRRP child
            .init(pid: 40, parent: 1, argv: ["/usr/sbin/haproxy", "-f", "/etc/haproxy/haproxy.cfg"]),  // not ours
            .init(pid: 50, parent: 1, argv: ["/usr/bin/python3", "/d/haproxy/web.cfg"]),               // not haproxy
        ]
        let orphans = OrphanSweep.orphans(
            in: processes, accounted: [10], haproxyBinary: "/usr/sbin/haproxy", haproxyConfigDir: "/d/haproxy",
            keepalivedBinary: "/usr/sbin/keepalived", keepalivedConfig: "/d/keepalived/keepalived.conf"
        )
        #expect(orphans.map(\.pid) == [20, 30])
    }
}
