@testable import FlexLBDataPlane
import FlexLBRender
import Foundation
import Logging
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Which logs rotate, in which order copies shift, and which files go (issue 9: logs must not grow
/// forever); then one pass of the real rotator over a directory.
struct LogRotationTests {
    typealias File = LogRotation.File
    let policy = LogRotationPolicy(maxBytes: 100, keep: 3)

    @Test func onlyLogsOverTheLimitRotate() {
        let plan = LogRotation.plan(files: [
            File(name: "keepalived.log", size: 101),
            File(name: "haproxy-web.log", size: 100),
            File(name: "haproxy-api.log", size: 5000),
        ], instances: ["web", "api"], policy: policy)
        #expect(plan == [
            .rotate(log: "haproxy-api.log", shifts: [], copy: "haproxy-api.log.1"),
            .rotate(log: "keepalived.log", shifts: [], copy: "keepalived.log.1"),
        ])
    }

    @Test func copiesShiftOldestFirstAndTheOldestIsOverwritten() {
        let plan = LogRotation.plan(files: [
            File(name: "haproxy-web.log", size: 200),
            File(name: "haproxy-web.log.1", size: 100),
            File(name: "haproxy-web.log.2", size: 100),
            File(name: "haproxy-web.log.3", size: 100),
        ], instances: ["web"], policy: policy)
        #expect(plan == [.rotate(log: "haproxy-web.log", shifts: [
            .init(from: "haproxy-web.log.2", to: "haproxy-web.log.3"),
            .init(from: "haproxy-web.log.1", to: "haproxy-web.log.2"),
        ], copy: "haproxy-web.log.1")])
    }

    @Test func keepZeroOnlyTruncates() {
        let plan = LogRotation.plan(files: [File(name: "keepalived.log", size: 200), File(name: "keepalived.log.1", size: 1)],
                                    instances: [], policy: LogRotationPolicy(maxBytes: 100, keep: 0))
        #expect(plan == [.rotate(log: "keepalived.log", shifts: [], copy: nil), .remove("keepalived.log.1")])
    }

    @Test func logsOfDeletedInstancesAndExtraCopiesAreRemoved() {
        let plan = LogRotation.plan(files: [
            File(name: "haproxy-gone.log", size: 1),
            File(name: "haproxy-gone.log.1", size: 1),
            File(name: "haproxy-gone.log.7", size: 1),
            File(name: "haproxy-web.log", size: 1),
            File(name: "haproxy-web.log.3", size: 1),
            File(name: "haproxy-web.log.4", size: 1),
            File(name: "haproxy-web.log.rotating", size: 1),
            File(name: "keepalived.log", size: 1),
        ], instances: ["web"], policy: policy)
        #expect(plan == [
            .remove("haproxy-gone.log"), .remove("haproxy-gone.log.1"), .remove("haproxy-gone.log.7"),
            .remove("haproxy-web.log.4"), .remove("haproxy-web.log.rotating"),
        ])
    }

    @Test(arguments: ["notes.txt", "haproxy-.log", "haproxy-web.log.01", "haproxy-web.log.x", "keepalived.conf", "other.log.1"])
    func filesThatAreNotOursAreLeftAlone(_ name: String) {
        #expect(LogRotation.plan(files: [File(name: name, size: 1 << 30)], instances: [], policy: policy).isEmpty)
    }

    @Test func instanceNamesThatLookLikeSuffixesStayApart() {
        // An instance called "web.log" owns haproxy-web.log.log and its copies, not web's.
        let plan = LogRotation.plan(files: [
            File(name: "haproxy-web.log.log", size: 200),
            File(name: "haproxy-web.log.log.1", size: 1),
            File(name: "haproxy-web.log.1", size: 1),
        ], instances: ["web.log"], policy: policy)
        #expect(plan == [
            .remove("haproxy-web.log.1"),
            .rotate(log: "haproxy-web.log.log", shifts: [.init(from: "haproxy-web.log.log.1", to: "haproxy-web.log.log.2")], copy: "haproxy-web.log.log.1"),
        ])
    }

    // MARK: The shell, on real files

    @Test func aPassRotatesInPlaceWithPrivateCopiesAndRemovesDeletedInstancesLogs() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("flexlb-logs-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let settings = DataPlaneSettings(dataDir: root, node: NodeSettings(routerID: "t", priority: 255, initialStateMaster: true))
        try FileManager.default.createDirectory(atPath: settings.logDir, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: settings.haproxyConfigDir, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: settings.haproxyConfig(instance: "web"), contents: Data())
        // The child's descriptor, opened as Spawn opens it; it stays open across the rotation.
        let child = open(settings.haproxyLog(instance: "web"), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        defer { close(child) }
        let first = [UInt8](repeating: UInt8(ascii: "a"), count: 300)
        #expect(first.withUnsafeBytes { write(child, $0.baseAddress, $0.count) } == 300)
        try Data("older".utf8).write(to: URL(fileURLWithPath: settings.haproxyLog(instance: "web") + ".1"))
        try Data("x".utf8).write(to: URL(fileURLWithPath: settings.haproxyLog(instance: "gone")))
        try Data("x".utf8).write(to: URL(fileURLWithPath: settings.haproxyLog(instance: "gone") + ".2"))

        LogRotator(settings: settings, policy: LogRotationPolicy(maxBytes: 100, keep: 2), logger: Logger(label: "test")).rotateOnce()

        let log = settings.haproxyLog(instance: "web")
        #expect(try Data(contentsOf: URL(fileURLWithPath: log + ".1")) == Data(first))
        #expect(try String(contentsOfFile: log + ".2", encoding: .utf8) == "older")
        #expect(Self.mode(log + ".1") == 0o600)
        #expect(Self.size(log) == 0)
        // The child keeps writing through its O_APPEND descriptor, now at the start of the file.
        #expect("next".withCString { write(child, $0, 4) } == 4)
        #expect(try String(contentsOfFile: log, encoding: .utf8) == "next")
        #expect(!FileManager.default.fileExists(atPath: settings.haproxyLog(instance: "gone")))
        #expect(!FileManager.default.fileExists(atPath: settings.haproxyLog(instance: "gone") + ".2"))
        #expect(!FileManager.default.fileExists(atPath: log + LogRotation.partialSuffix))
    }

    static func mode(_ path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o777 : 0
    }

    static func size(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : -1
    }
}
