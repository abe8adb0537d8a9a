import ArgumentParser
import FlexLBClient
import Foundation

/// `flexlb`: the FlexLB command-line client.
@main
struct FlexLBCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flexlb",
        abstract: "Manage FlexLB load-balancer instances and certificates.",
        discussion: "Exit status: 0 on success; 1 when the server refused the request (its message and every violation are printed to stderr) or a local operation failed; 2 for usage errors, invalid input files, bad connection settings, or when no server could be reached.",
        subcommands: [InstanceCommand.self, NodeCommand.self, StatusCommand.self, CertsCommand.self]
    )

    /// Runs the command, mapping errors to the documented exit statuses.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let error as FlexLBError {
            printError("error: \(error)")
            Foundation.exit(error.isAPIError || error.kind == .invalidResponse ? 1 : 2)
        } catch let error as CLIError {
            printError("error: \(error)")
            Foundation.exit(2)
        } catch let error as OperationError {
            printError("error: \(error)")
            Foundation.exit(1)
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                // ArgumentParser's usage errors (EX_USAGE, 64) get our documented status 2.
                printError(fullMessage(for: error))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// A local operation failed (for example writing certificates); exit status 1.
struct OperationError: Error, CustomStringConvertible {
    let description: String
}

/// Writes a line to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
