import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// Keeps keepalived's and HAProxy's logs in `data_dir/log` from growing forever: every `interval` it
/// rotates the logs over ``LogRotationPolicy/maxBytes`` (copy-truncate, see ``LogRotation``) and
/// removes the logs of instances that no longer exist. Runs beside the ``Reconciler`` and shares no
/// state with it: an instance exists while the reconciler keeps its HAProxy configuration file.
public struct LogRotator: Service {
    let settings: DataPlaneSettings
    let policy: LogRotationPolicy
    let interval: Duration
    let logger: Logger

    public init(settings: DataPlaneSettings, policy: LogRotationPolicy, interval: Duration = .seconds(5), logger: Logger) {
        self.settings = settings
        self.policy = policy
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // Copying a log of megabytes blocks: on NIO's blocking-I/O pool, not Swift's cooperative one.
            try? await NIOThreadPool.singleton.runIfActive { [self] in rotateOnce() }
            try? await cancelWhenGracefulShutdown { [interval] in try await Task.sleep(for: interval) }
        }
    }

    /// One pass: reads the log directory, then the instances; applies the plan. A file that cannot be
    /// rotated is logged and tried again next pass.
    func rotateOnce() {
        let directory = settings.logDir
        // The logs are listed before the instances: a log that exists now belongs to an instance
        // whose configuration was written before it, so a new instance's log is never taken for a
        // deleted one's.
        let files = ConfigFiles.list(directory).compactMap { name -> LogRotation.File? in
            var info = stat()
            guard lstat(directory + "/" + name, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
            return LogRotation.File(name: name, size: Int64(info.st_size))
        }
        guard !files.isEmpty else { return }
        let instances = Set(ConfigFiles.list(settings.haproxyConfigDir).filter { $0.hasSuffix(".cfg") }.map { String($0.dropLast(4)) })
        for action in LogRotation.plan(files: files, instances: instances, policy: policy) {
            do {
                try apply(action, in: directory)
            } catch {
                logger.warning("cannot rotate a log", metadata: ["flexlb.log": "\(action)", "error": "\(error)"])
            }
        }
    }

    private func apply(_ action: LogRotation.Action, in directory: String) throws {
        switch action {
        case .remove(let name):
            ConfigFiles.remove(directory + "/" + name)
            logger.debug("removed log", metadata: ["flexlb.log": "\(name)"])
        case .rotate(let log, let shifts, let copy):
            for shift in shifts {
                guard rename(directory + "/" + shift.from, directory + "/" + shift.to) == 0 else {
                    throw ConfigFiles.WriteError(description: "cannot rename \(shift.from) to \(shift.to): \(String(cString: strerror(errno)))")
                }
            }
            if let copy {
                let partial = directory + "/" + log + LogRotation.partialSuffix
                try Self.copy(directory + "/" + log, to: partial)
                guard rename(partial, directory + "/" + copy) == 0 else {
                    ConfigFiles.remove(partial)
                    throw ConfigFiles.WriteError(description: "cannot rename \(partial): \(String(cString: strerror(errno)))")
                }
            }
            guard truncate(directory + "/" + log, 0) == 0 else {
                throw ConfigFiles.WriteError(description: "cannot truncate \(log): \(String(cString: strerror(errno)))")
            }
            logger.info("rotated log", metadata: ["flexlb.log": "\(log)"])
        }
    }

    /// Copies `source` to a new file `destination` (0600, whatever the umask).
    static func copy(_ source: String, to destination: String) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw ConfigFiles.WriteError(description: "cannot open \(source): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        unlink(destination)
        let output = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw ConfigFiles.WriteError(description: "cannot create \(destination): \(String(cString: strerror(errno)))") }
        defer { close(output) }
        fchmod(output, 0o600)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count == 0 { return }
            if count < 0 {
                if errno == EINTR { continue }
                throw ConfigFiles.WriteError(description: "cannot read \(source): \(String(cString: strerror(errno)))")
            }
            var written = 0
            while written < count {
                let n = buffer[written..<count].withUnsafeBytes { write(output, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ConfigFiles.WriteError(description: "cannot write \(destination): \(String(cString: strerror(errno)))")
                }
                written += n
            }
        }
    }
}
