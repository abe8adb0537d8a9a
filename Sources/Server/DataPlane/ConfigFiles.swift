import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Durable, atomic file replacement: write a temporary file (0600) in the same directory, fsync it,
/// rename it over the target, fsync the directory. A reader never sees a half-written file.
enum ConfigFiles {
    struct WriteError: Error, CustomStringConvertible {
        var description: String
    }

    static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    static func writeAtomically(_ path: String, _ contents: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw WriteError(description: "cannot create \(temporary): \(String(cString: strerror(errno)))") }
        let bytes = Array(contents.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let message = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw WriteError(description: "cannot write \(temporary): \(message)")
            }
            written += n
        }
        fchmod(fd, 0o600)
        guard fsync(fd) == 0 else {
            close(fd)
            unlink(temporary)
            throw WriteError(description: "cannot fsync \(temporary)")
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw WriteError(description: "cannot rename \(temporary) to \(path): \(String(cString: strerror(errno)))")
        }
        let directory = (path as NSString).deletingLastPathComponent
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }

    /// Sets a kernel parameter under /proc/sys (written in place: procfs has no rename).
    static func writeSysctl(_ path: String, _ value: String) throws {
        if read(path)?.trimmingCharacters(in: .whitespacesAndNewlines) == value { return }
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw WriteError(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array((value + "\n").utf8)
        guard bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw WriteError(description: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    static func remove(_ path: String) {
        unlink(path)
    }

    static func removeTree(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    static func makeDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    static func list(_ directory: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    }
}

/// Remembers what each file looked like (inode, size, mtime) after flexlbd wrote or checked it, so a
/// pass only re-reads a file that someone touched. With a thousand instances the reconciler would
/// otherwise read every config and PEM file five times a second.
struct FileStamps {
    private struct Stamp: Equatable {
        var inode: UInt64
        var size: Int64
        var seconds: Int
        var nanoseconds: Int
        var contents: Int
    }

    private var entries: [String: Stamp] = [:]

    /// Whether `path` holds `contents`: from the remembered stamp when the file is untouched,
    /// otherwise by reading it.
    mutating func matches(_ path: String, _ contents: String) -> Bool {
        if let known = entries[path], let current = Self.stamp(path, contents: contents.hashValue), known == current {
            return true
        }
        guard ConfigFiles.read(path) == contents else {
            entries[path] = nil
            return false
        }
        remember(path, contents)
        return true
    }

    /// Records `path` as holding `contents` (after writing it).
    mutating func remember(_ path: String, _ contents: String) {
        entries[path] = Self.stamp(path, contents: contents.hashValue)
    }

    /// Writes `contents` atomically unless the file already holds them. Returns whether it wrote.
    @discardableResult
    mutating func write(_ path: String, _ contents: String) throws -> Bool {
        if matches(path, contents) { return false }
        try ConfigFiles.writeAtomically(path, contents)
        remember(path, contents)
        return true
    }

    mutating func forget(prefix: String) {
        entries = entries.filter { !$0.key.hasPrefix(prefix) }
    }

    private static func stamp(_ path: String, contents: Int) -> Stamp? {
        let info = UnsafeMutablePointer<stat>.allocate(capacity: 1)
        defer { info.deallocate() }
        guard lstat(path, info) == 0 else { return nil }
        return Stamp(
            inode: UInt64(info.pointee.st_ino),
            size: Int64(info.pointee.st_size),
            seconds: info.pointee.st_mtim.tv_sec,
            nanoseconds: info.pointee.st_mtim.tv_nsec,
            contents: contents
        )
    }
}
