import ArgumentParser
import FlexLBCerts
import Foundation

/// `flexlb certs`: create the PKI for a FlexLB cluster.
struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Create a CA, server and client certificates for mutual TLS.",
        subcommands: [Init.self, Client.self]
    )

    /// `flexlb certs init`.
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a new CA and a server and a client certificate.",
            discussion: "Writes ca.crt, ca.key, server.crt, server.key, client.crt and client.key to DIR (created with mode 0700). Keys are written with mode 0600. Without --dns and --ip the server certificate is valid for localhost, 127.0.0.1 and ::1; otherwise give every name and address clients use to reach the nodes. Keep ca.key offline if you can: whoever holds it can issue certificates the cluster trusts."
        )

        @Option(help: "Directory to write the files to.")
        var dir: String

        @Option(name: .customLong("dns"), help: "DNS name for the server certificate (repeatable).")
        var dnsNames: [String] = []

        @Option(name: .customLong("ip"), help: "IPv4 or IPv6 address for the server certificate (repeatable).")
        var ipAddresses: [String] = []

        @Option(help: "Common name of the client certificate.")
        var clientName = "admin"

        @Option(help: "Validity of the server and client certificates in days (the CA gets at least 3650).")
        var days = CertificateAuthority.defaultLeafValidityDays

        @Flag(help: "Overwrite existing files.")
        var force = false

        func run() throws {
            let useDefaults = dnsNames.isEmpty && ipAddresses.isEmpty
            let directory = CertificateDirectory(path: expandTilde(dir))
            do {
                let result = try directory.initialize(
                    dnsNames: useDefaults ? ["localhost"] : dnsNames,
                    ipAddresses: useDefaults ? ["127.0.0.1", "::1"] : ipAddresses,
                    clientName: clientName,
                    validityDays: days,
                    force: force
                )
                for file in result.files { print("wrote \(file)") }
            } catch let error as PKIError {
                throw OperationError(description: error.message)
            }
        }
    }

    /// `flexlb certs client`.
    struct Client: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue another client certificate from an existing CA.",
            discussion: "Reads ca.crt and ca.key from --ca-dir and writes NAME.crt and NAME.key (mode 0600) there, or to --out."
        )

        @Option(help: "Directory holding ca.crt and ca.key.")
        var caDir: String

        @Option(help: "Common name of the client certificate.")
        var name: String

        @Option(help: "Path prefix of the files to write (default: CA_DIR/NAME).")
        var out: String?

        @Option(help: "Validity in days.")
        var days = CertificateAuthority.defaultLeafValidityDays

        @Flag(help: "Overwrite existing files.")
        var force = false

        func validate() throws {
            guard !name.isEmpty, !name.contains("/") else {
                throw ValidationError("--name must be non-empty and must not contain '/'")
            }
        }

        func run() throws {
            let directory = CertificateDirectory(path: expandTilde(caDir))
            do {
                let result = try directory.issueClient(
                    name: name, outputPrefix: out.map(expandTilde), validityDays: days, force: force)
                print("wrote \(result.certificatePath)")
                print("wrote \(result.keyPath)")
            } catch let error as PKIError {
                throw OperationError(description: error.message)
            }
        }
    }
}

/// `~/x` → `$HOME/x`.
func expandTilde(_ path: String) -> String {
    guard path == "~" || path.hasPrefix("~/") else { return path }
    return NSHomeDirectory() + path.dropFirst()
}
