/// The HAProxy configuration of one instance and the files it refers to.
public struct RenderedHAProxy: Hashable, Sendable {
    /// The text of `haproxy.cfg`.
    public var config: String
    /// PEM files the configuration names, relative to ``RenderPaths/pemDir``. Write them with mode 0600
    /// before validating or loading the configuration.
    public var files: [RenderedFile]

    /// Creates a rendered configuration.
    public init(config: String, files: [RenderedFile]) {
        self.config = config
        self.files = files
    }
}

/// A file that a rendered configuration refers to.
public struct RenderedFile: Hashable, Sendable {
    /// Path relative to ``RenderPaths/pemDir``, always `<instance>/<file>`.
    public var relativePath: String
    /// The file's contents (PEM text; secret when it holds a private key).
    public var contents: String

    /// Creates a rendered file.
    public init(relativePath: String, contents: String) {
        self.relativePath = relativePath
        self.contents = contents
    }
}
