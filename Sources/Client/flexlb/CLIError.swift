/// A failure of the CLI itself (bad input file, missing credentials), reported without a stack
/// of context and with exit status 2.
struct CLIError: Error, CustomStringConvertible {
    let description: String

    /// An input file that cannot be read or parsed.
    static func input(_ message: String) -> CLIError { CLIError(description: message) }

    /// Missing or inconsistent connection settings.
    static func configuration(_ message: String) -> CLIError { CLIError(description: message) }
}
