import FlexLBSupervisor
import Foundation
import Testing

@Suite struct RestartPolicyTests {
    @Test func backoffGrowsAndIsCapped() {
        let policy = RestartPolicy(initial: 0.1, maximum: 1, stableAfter: 10)
        var state = RestartState()
        state.started(at: 0)
        #expect(state.exited(at: 1, policy: policy) == 1.1)
        #expect(!state.mayStart(at: 1.05))
        #expect(state.mayStart(at: 1.1))
        state.started(at: 1.1)
        #expect(state.exited(at: 1.2, policy: policy) == 1.2 + 0.2)
        state.started(at: 1.4)
        #expect(state.exited(at: 1.5, policy: policy) == 1.5 + 0.4)
        for t in 2...10 {
            state.started(at: Double(t))
            state.exited(at: Double(t) + 0.1, policy: policy)
        }
        #expect(state.notBefore == 10.1 + 1)
    }

    @Test func aStableRunResetsTheBackoff() {
        let policy = RestartPolicy(initial: 0.1, maximum: 5, stableAfter: 10)
        var state = RestartState()
        for t in 0..<5 {
            state.started(at: Double(t))
            state.exited(at: Double(t) + 0.01, policy: policy)
        }
        state.started(at: 100)
        #expect(state.exited(at: 200, policy: policy) == 200.1)
    }
}

@Suite struct HAProxyStatTests {
    @Test func parsesShowStat() {
        let csv = """
            # pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight
            fe_8080,FRONTEND,,,0,1,4000,3,0,0,0,0,0,,,,,OPEN,
            be_8080,web1,0,0,0,1,2000,1,0,0,,0,,0,0,0,0,UP,100
            be_8080,web2,0,0,0,1,2000,1,0,0,,0,,0,0,0,0,DOWN,100
            be_8080,BACKEND,0,0,0,1,400,3,0,0,0,0,,0,0,0,0,UP,200

            """
        let rows = HAProxyStatRow.parse(csv)
        #expect(rows == [
            HAProxyStatRow(proxy: "fe_8080", service: "FRONTEND", status: "OPEN"),
            HAProxyStatRow(proxy: "be_8080", service: "web1", status: "UP"),
            HAProxyStatRow(proxy: "be_8080", service: "web2", status: "DOWN"),
            HAProxyStatRow(proxy: "be_8080", service: "BACKEND", status: "UP"),
        ])
        #expect(HAProxyStatRow.parse("Unknown command\n").isEmpty)
    }
}

@Suite struct ProcessTests {
    @Test func commandRunnerCapturesOutputAndExitCodeWithoutAShell() async throws {
        let result = try await CommandRunner().run("/bin/echo", ["a; rm -rf /", "$(id)"])
        #expect(result.succeeded)
        #expect(result.output == "a; rm -rf / $(id)\n")
        let failed = try await CommandRunner().run("/bin/false", [])
        #expect(failed.exitCode == 1)
        await #expect(throws: LaunchError.self) { try await CommandRunner().run("/nonexistent/binary", []) }
    }

    @Test func launcherStartsInANewSessionAndSeesTheExit() async throws {
        let launcher = PosixProcessLauncher()
        let pid = try launcher.launch(ProcessSpec(executable: "/bin/sleep", arguments: ["30"]))
        // Until the child has exec'd, its command line is empty and it counts as "ours, re-executing".
        let execDeadline = Date().addingTimeInterval(10)
        while ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").isEmpty, Date() < execDeadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(launcher.isRunning(pid: pid, executable: "/bin/sleep"))
        #expect(getsid(pid) == pid)
        #expect(!launcher.isRunning(pid: pid, executable: "/usr/sbin/haproxy"))
        #expect(launcher.signal(SIGTERM, to: pid))
        let deadline = Date().addingTimeInterval(5)
        while launcher.isRunning(pid: pid, executable: "/bin/sleep"), Date() < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(!launcher.isRunning(pid: pid, executable: "/bin/sleep"))
    }
}
