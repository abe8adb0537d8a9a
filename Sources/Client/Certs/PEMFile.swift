#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes PEM files so that a private key is never readable by others, not even for a moment,
/// and a crash never leaves a truncated file behind.
public enum PEMFile {
    /// Mode of private key files.
    public static let privateKeyMode: mode_t = 0o600
    /// Mode of certificate files.
    public static let certificateMode: mode_t = 0o644

    /// Writes `contents` to `path` with exactly `mode`.
    ///
    /// The bytes go to a new temporary file in the same directory, created with `O_EXCL` and the
    /// final mode, and are synced before the file is moved into place. Without `overwrite` the
    /// move is a `link(2)`, which fails atomically if `path` exists.
    /// - Throws: ``PKIError/fileExists(_:)`` or ``PKIError/io(_:path:errno:)``.
    public static func write(_ contents: String, to path: String, mode: mode_t, overwrite: Bool) throws {
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw PKIError.io("create", path: temporary, errno: errno) }
        var moved = false
        defer { if !moved { unlink(temporary) } }
        do {
            defer { close(fd) }
            // The umask may have narrowed the mode; make it exact (certificates stay readable).
            guard fchmod(fd, mode) == 0 else { throw PKIError.io("chmod", path: temporary, errno: errno) }
            let bytes = Array(contents.utf8)
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { posixWrite(fd, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw PKIError.io("write", path: temporary, errno: errno)
                }
                offset += n
            }
            guard fsync(fd) == 0 else { throw PKIError.io("fsync", path: temporary, errno: errno) }
        }
        if overwrite {
            guard rename(temporary, path) == 0 else { throw PKIError.io("rename", path: path, errno: errno) }
        } else {
            guard link(temporary, path) == 0 else {
                if errno == EEXIST { throw PKIError.fileExists(path) }
                throw PKIError.io("link", path: path, errno: errno)
            }
            unlink(temporary)
        }
        moved = true
    }

    /// Reads a whole file as UTF-8 text.
    public static func read(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PKIError.io("open", path: path, errno: errno) }
        defer { close(fd) }
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = buffer.withUnsafeMutableBytes { posixRead(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw PKIError.io("read", path: path, errno: errno)
            }
            if n == 0 { break }
            result.append(contentsOf: buffer[..<n])
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// Whether something exists at `path`.
    static func exists(_ path: String) -> Bool {
        // Allocated rather than `stat()`-initialised: in release builds that initialiser resolves
        // through CoreFoundation, which this module does not import.
        let st = UnsafeMutablePointer<stat>.allocate(capacity: 1)
        defer { st.deallocate() }
        return lstat(path, st) == 0
    }
}

// Inside `PEMFile`, `read` and `write` name its own methods; these reach the C functions.
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(fd, buffer, count)
}

private func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}
