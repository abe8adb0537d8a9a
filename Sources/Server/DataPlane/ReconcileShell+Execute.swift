import FlexLBAPI
import FlexLBRender
import FlexLBSupervisor
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The side effects of the planner's actions, and what came of each.
extension ReconcileShell {
    func execute(_ action: DataPlaneAction) async -> [DataPlaneEvent] {
        switch action {
        case let .adopt(candidates):
            return [await adopt(candidates)]
        case let .removeStaleVIP(instance, interface, address, prefixLength):
            await runIP(["addr", "del", "\(address)/\(prefixLength)", "dev", interface], what: "remove a stale VIP of \(instance) left without keepalived", address: address)
            return []
        case let .installKeepalived(conf):
            return [await installKeepalived(conf)]
        case let .isolateKeepalived(candidates):
            return [await isolateKeepalived(candidates)]
        case .startKeepalived:
            return [startKeepalived()]
        case let .reloadKeepalived(pid):
            launcher.signal(SIGHUP, to: pid)
            observed.count { $0.keepalivedReloads += 1 }
            logger.info("reloaded keepalived")
            return []
        case .superviseKeepalived:
            return []
        case let .installHAProxy(name, version, instance, rendered):
            return [await installHAProxy(name, version: version, instance: instance, rendered: rendered)]
        case let .startHAProxy(name, version):
            return [startHAProxy(name, version: version)]
        case let .reloadHAProxy(name, pid, version):
            launcher.signal(SIGUSR2, to: pid)
            observed.count { $0.haproxyReloads += 1 }
            logger.info("reloaded HAProxy", metadata: ["flexlb.instance": "\(name)", "flexlb.version": "\(version)"])
            return []
        case let .stopHAProxy(name, pid):
            await terminate(pid: pid, executable: settings.haproxyBinary)
            ConfigFiles.remove(settings.renderPaths.pidFile(instance: name))
            logger.info("stopped HAProxy", metadata: ["flexlb.instance": "\(name)", "flexlb.pid": "\(pid)"])
            return []
        case let .removeLeftovers(keeping):
            await removeLeftovers(keeping: keeping)
            return []
        case let .writeHealth(key, value):
            return writeHealth(key: key, value: value)
        case let .holdOnLoopback(interface, address):
            await holdOnLoopback(interface: interface, address: address)
            return []
        case let .releaseLoopback(address):
            await runIP(["addr", "del", Self.hostPrefix(address), "dev", "lo"], what: "release a drained VIP from lo", address: address)
            return []
        case let .readStats(name):
            let rows = (try? UnixSocketClient.exchange(
                path: settings.renderPaths.statsSocket(instance: name), command: "show stat", timeoutMilliseconds: 200
            )).map(HAProxyStatRow.parse) ?? []
            return [.stats(name: name, rows: rows)]
        }
    }

    // MARK: Adoption

    private func adopt(_ names: [String]) async -> DataPlaneEvent {
        let paths = settings.renderPaths
        var candidates = Set(names)
        for file in ConfigFiles.list(settings.haproxyConfigDir) where file.hasSuffix(".cfg") {
            candidates.insert(String(file.dropLast(4)))
        }
        var haproxy: [String: Int32] = [:]
        for name in candidates.sorted() {
            guard let pid = readPid(paths.pidFile(instance: name)),
                  await isOurs(pid: pid, executable: settings.haproxyBinary, argument: settings.haproxyConfig(instance: name)) else { continue }
            haproxy[name] = pid
            logger.notice("adopted running HAProxy", metadata: ["flexlb.instance": "\(name)", "flexlb.pid": "\(pid)"])
        }
        var keepalived: Int32?
        if let pid = readPid(settings.keepalivedPidFile),
           await isOurs(pid: pid, executable: settings.keepalivedBinary, argument: settings.keepalivedConfig) {
            keepalived = pid
            logger.notice("adopted running keepalived", metadata: ["flexlb.pid": "\(pid)"])
        }
        await endOrphans(accounted: Set(haproxy.values).union([keepalived].compactMap { $0 }))
        return .adopted(haproxy: haproxy, keepalived: keepalived)
    }

    /// Ends HAProxy and keepalived processes of this data directory that no pid file accounts for.
    private func endOrphans(accounted: Set<Int32>) async {
        let orphans = OrphanSweep.orphans(
            in: OrphanSweep.scan(), accounted: accounted, haproxyBinary: settings.haproxyBinary,
            haproxyConfigDir: settings.haproxyConfigDir, keepalivedBinary: settings.keepalivedBinary, keepalivedConfig: settings.keepalivedConfig
        )
        for orphan in orphans {
            let haproxy = orphan.argv.first?.hasSuffix("haproxy") == true
            logger.warning("ending orphaned process", metadata: ["flexlb.pid": "\(orphan.pid)", "flexlb.argv": "\(orphan.argv.joined(separator: " "))"])
            await terminate(pid: orphan.pid, executable: haproxy ? settings.haproxyBinary : settings.keepalivedBinary)
        }
    }

    /// The VIP as a host address on `lo`; the interface stops answering ARP for addresses it does
    /// not carry (`arp_ignore=1`) and picks its own address for ARP requests (`arp_announce=2`), so
    /// this node never claims the VIP on the wire while it still accepts packets sent to it.
    private func holdOnLoopback(interface: String, address: String) async {
        if !address.contains(":") {
            for (knob, value) in [("arp_ignore", "1"), ("arp_announce", "2")] {
                do {
                    try ConfigFiles.writeSysctl("/proc/sys/net/ipv4/conf/\(interface)/\(knob)", value)
                } catch {
                    logger.warning("cannot set ARP behaviour for a drain hold", metadata: ["flexlb.interface": "\(interface)", "error": "\(error)"])
                    return
                }
            }
        }
        await runIP(["addr", "add", Self.hostPrefix(address), "dev", "lo"], what: "keep a drained VIP on lo", address: address)
    }

    static func hostPrefix(_ address: String) -> String {
        address + (address.contains(":") ? "/128" : "/32")
    }

    private func runIP(_ arguments: [String], what: String, address: String) async {
        do {
            let result = try await runner.run(settings.ipBinary, arguments)
            if result.succeeded {
                logger.info("\(what)", metadata: ["flexlb.vip": "\(address)"])
            } else {
                logger.warning("cannot \(what)", metadata: ["flexlb.vip": "\(address)", "flexlb.output": "\(result.output)"])
            }
        } catch {
            logger.warning("cannot \(what)", metadata: ["flexlb.vip": "\(address)", "error": "\(error)"])
        }
    }

    // MARK: keepalived

    /// Checks (`keepalived -t`) and writes keepalived.conf unless it already holds `conf`.
    private func installKeepalived(_ conf: String) async -> DataPlaneEvent {
        if files.matches(settings.keepalivedConfig, conf) { return .keepalivedInstalled(changed: false) }
        do {
            let candidate = settings.keepalivedConfig + ".candidate"
            try ConfigFiles.writeAtomically(candidate, conf)
            defer { ConfigFiles.remove(candidate) }
            let check = try await runner.run(settings.keepalivedBinary, ["-t", "-f", candidate])
            guard check.succeeded else {
                logger.error("keepalived rejects rendered configuration", metadata: ["flexlb.output": "\(check.output)"])
                return .keepalivedRejected(output: check.output)
            }
            try ConfigFiles.writeAtomically(settings.keepalivedConfig, conf)
            files.remember(settings.keepalivedConfig, conf)
            return .keepalivedInstalled(changed: true)
        } catch {
            logger.error("cannot write keepalived.conf", metadata: ["error": "\(error)"])
            return .keepalivedWriteFailed(reason: "cannot write keepalived.conf: \(error)")
        }
    }

    /// Checks each instance alone: one keepalived refuses (an interface that vanished) must not cost
    /// every other instance its VIP.
    private func isolateKeepalived(_ candidates: [KeepalivedCandidate]) async -> DataPlaneEvent {
        var refused: [String: String] = [:]
        let path = settings.keepalivedConfig + ".isolate"
        defer { ConfigFiles.remove(path) }
        for candidate in candidates {
            do {
                let conf = try candidate.conf.get()
                try ConfigFiles.writeAtomically(path, conf)
                let check = try await runner.run(settings.keepalivedBinary, ["-t", "-f", path])
                if check.succeeded { continue }
                refused[candidate.name] = "keepalived rejects this instance: \(check.output.prefix(300))"
            } catch {
                refused[candidate.name] = "keepalived cannot take this instance: \(error)"
            }
        }
        return .keepalivedIsolated(refused: refused)
    }

    private func startKeepalived() -> DataPlaneEvent {
        let spec = ProcessSpec(
            executable: settings.keepalivedBinary,
            arguments: [
                // Console output goes to our (rotated) log file; --no-syslog, because without a syslog
                // daemon glibc falls back to writing every line to /dev/console, which slowed each
                // reload by tens of milliseconds.
                "--dont-fork", "--log-console", "--log-detail", "--no-syslog", "--vrrp",
                "--use-file", settings.keepalivedConfig,
                "--pid", settings.keepalivedPidFile,
                "--vrrp_pid", settings.keepalivedVRRPPidFile,
                "--checkers_pid", settings.keepalivedCheckersPidFile,
            ],
            logFile: settings.keepalivedLog
        )
        do {
            let pid = try launcher.launch(spec)
            observed.count { $0.keepalivedStarts += 1 }
            logger.info("started keepalived", metadata: ["flexlb.pid": "\(pid)"])
            return .keepalivedStarted(pid: pid)
        } catch {
            logger.error("cannot start keepalived", metadata: ["error": "\(error)"])
            return .keepalivedStartFailed(reason: "\(error)")
        }
    }

    // MARK: HAProxy

    /// Writes the instance's PEM files and, once HAProxy accepts it, its configuration.
    private func installHAProxy(_ name: String, version: Int64, instance: DesiredInstance, rendered: RenderedHAProxy) async -> DataPlaneEvent {
        let configPath = settings.haproxyConfig(instance: name)
        do {
            var changed = try syncPEMFiles(name, rendered.files)
            if !files.matches(configPath, rendered.config) {
                // Validate the candidate before it replaces the file a restart would read.
                if let rejection = try await check(instance, config: rendered.config, path: configPath) {
                    logger.error("HAProxy rejects rendered configuration", metadata: ["flexlb.instance": "\(name)", "flexlb.reason": "\(rejection)"])
                    return .haproxyRejected(name: name, reason: rejection)
                }
                try ConfigFiles.writeAtomically(configPath, rendered.config)
                files.remember(configPath, rendered.config)
                changed = true
            }
            return .haproxyInstalled(name: name, changed: changed)
        } catch {
            logger.error("cannot write HAProxy files", metadata: ["flexlb.instance": "\(name)", "error": "\(error)"])
            return .haproxyWriteFailed(name: name, reason: "cannot write configuration: \(error)")
        }
    }

    /// Why HAProxy refuses the configuration, or nil. Tenant text is parsed by the unprivileged,
    /// bounded check when there is one.
    private func check(_ instance: DesiredInstance, config: String, path: String) async throws -> String? {
        if let configCheck {
            let violations = await configCheck.violations(of: instance)
            return violations.isEmpty ? nil : violations.map(\.message).joined(separator: "; ")
        }
        let candidate = path + ".candidate"
        try ConfigFiles.writeAtomically(candidate, config)
        defer { ConfigFiles.remove(candidate) }
        let check = try await runner.run(settings.haproxyBinary, ["-c", "-f", candidate])
        return check.succeeded ? nil
            : "HAProxy rejects the configuration: " + HAProxyConfigCheck.summarize(check.output, scratch: settings.haproxyConfigDir)
    }

    private func startHAProxy(_ name: String, version: Int64) -> DataPlaneEvent {
        let paths = settings.renderPaths
        let spec = ProcessSpec(
            executable: settings.haproxyBinary,
            arguments: [
                "-W", "-f", settings.haproxyConfig(instance: name), "-p", paths.pidFile(instance: name), "-S", paths.masterSocket(instance: name),
            ],
            logFile: settings.haproxyLog(instance: name)
        )
        do {
            let pid = try launcher.launch(spec)
            observed.count { $0.haproxyStarts += 1 }
            logger.info("started HAProxy", metadata: ["flexlb.instance": "\(name)", "flexlb.pid": "\(pid)", "flexlb.version": "\(version)"])
            return .haproxyStarted(name: name, pid: pid)
        } catch {
            logger.error("cannot start HAProxy", metadata: ["flexlb.instance": "\(name)", "error": "\(error)"])
            return .haproxyStartFailed(name: name, reason: "\(error)")
        }
    }

    /// SIGTERM, then SIGKILL after 3 s; waits by sleeping the task.
    private func terminate(pid: Int32, executable: String) async {
        launcher.signal(SIGTERM, to: pid)
        let deadline = ContinuousClock.now + .seconds(3)
        while launcher.isRunning(pid: pid, executable: executable) {
            if ContinuousClock.now > deadline {
                launcher.signal(SIGKILL, to: pid)
                break
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Writes the instance's PEM files (0600) and removes ones it no longer uses.
    private func syncPEMFiles(_ name: String, _ rendered: [RenderedFile]) throws -> Bool {
        let paths = settings.renderPaths
        let directory = paths.pemDirectory(instance: name)
        var changed = false
        var wanted: Set<String> = []
        if !rendered.isEmpty { try ConfigFiles.makeDirectory(directory) }
        for file in rendered {
            let path = paths.absolutePath(of: file)
            try ConfigFiles.makeDirectory((path as NSString).deletingLastPathComponent)
            wanted.insert(path)
            if try files.write(path, file.contents) { changed = true }
        }
        for entry in ConfigFiles.list(directory) where !wanted.contains(directory + "/" + entry) {
            ConfigFiles.removeTree(directory + "/" + entry)
            changed = true
        }
        if rendered.isEmpty { ConfigFiles.removeTree(directory) }
        return changed
    }

    /// Deletes the files of instances that no longer exist; nothing of a deleted instance remains.
    private func removeLeftovers(keeping known: Set<String>) async {
        let paths = settings.renderPaths
        for file in ConfigFiles.list(settings.haproxyConfigDir) where file.hasSuffix(".cfg") {
            let name = String(file.dropLast(4))
            guard !known.contains(name) else { continue }
            if let pid = readPid(paths.pidFile(instance: name)),
               await isOurs(pid: pid, executable: settings.haproxyBinary, argument: settings.haproxyConfig(instance: name)) {
                await terminate(pid: pid, executable: settings.haproxyBinary)
            }
            ConfigFiles.remove(settings.haproxyConfigDir + "/" + file)
            ConfigFiles.remove(paths.pidFile(instance: name))
            ConfigFiles.remove(paths.statsSocket(instance: name))
            ConfigFiles.remove(paths.masterSocket(instance: name))
            ConfigFiles.removeTree(paths.pemDirectory(instance: name))
            files.forget(prefix: paths.pemDirectory(instance: name) + "/")
            files.forget(prefix: settings.haproxyConfigDir + "/" + file)
            logger.info("removed files of deleted instance", metadata: ["flexlb.instance": "\(name)"])
        }
        for entry in ConfigFiles.list(settings.pemDir) where !known.contains(entry) {
            ConfigFiles.removeTree(settings.pemDir + "/" + entry)
        }
    }

    // MARK: Cluster health

    /// keepalived watches the health files (inotify) and moves a faulty group's VIP away at once with
    /// a priority-0 advert.
    private func writeHealth(key: VRRPGroupKey, value: String) -> [DataPlaneEvent] {
        let path = VRRPGroupPlan.trackFile(for: key, in: settings.runDir + "/track")
        do {
            try ConfigFiles.writeAtomically(path, value + "\n")
            if value != "0" {
                logger.warning("giving up VIPs of a VRRP group", metadata: ["flexlb.group": "\(key)"])
            }
            return [.healthWritten(key: key, value: value)]
        } catch {
            logger.error("cannot write VRRP health file", metadata: ["flexlb.path": "\(path)", "error": "\(error)"])
            return []
        }
    }

    // MARK: Pid files

    private func readPid(_ path: String) -> Int32? {
        ConfigFiles.read(path).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Whether `pid` is a live `executable` started with `argument` (our config path): never signal
    /// a process that merely reused a pid.
    private func isOurs(pid: Int32, executable: String, argument: String) async -> Bool {
        // The command line reads empty while a master re-executes itself (a reload): ask again.
        for _ in 0..<50 {
            guard launcher.isRunning(pid: pid, executable: executable),
                  let cmdline = ConfigFiles.read("/proc/\(pid)/cmdline") else { return false }
            if !cmdline.isEmpty { return cmdline.split(separator: "\0").contains { $0 == argument } }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}
