import ArgumentParser
import Foundation
import GeneratorCore

/// Reads openapi.yaml and writes the generated Swift files (`--output`, the build plugin's mode) or
/// the generated files of the Go client package (`--go`); a file is rewritten only if its bytes
/// changed. `--check` writes nothing and fails when a file differs from what would be written.
@main
struct GeneratorTool: ParsableCommand {
    @Option(help: "Path of openapi.yaml.") var input: String
    @Option(help: "Directory for the generated Swift files.") var output: String?
    @Option(help: "Directory of the Go client package: writes its generated *_gen.go files.") var go: String?
    @Option(help: "Go package name for --go.") var goPackage = "flexlb"
    @Flag(help: "Write nothing; exit 1 if any generated file differs from the one on disk.") var check = false

    func validate() throws {
        if (output == nil) == (go == nil) { throw ValidationError("give exactly one of --output and --go") }
    }

    func run() throws {
        let spec = try String(contentsOfFile: input, encoding: .utf8)
        let result = go == nil ? Generator.generate(spec: spec) : Generator.generateGo(spec: spec, packageName: goPackage)
        for diagnostic in result.diagnostics {
            FileHandle.standardError.write(Data("\(input): \(diagnostic)\n".utf8))
        }
        if result.hasErrors { throw ExitCode.failure }
        let directory = go ?? output ?? "."
        var stale: [String] = []
        if !check { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        for file in result.files {
            let url = URL(fileURLWithPath: directory).appendingPathComponent(file.name)
            let bytes = Data(file.contents.utf8)
            if let existing = try? Data(contentsOf: url), existing == bytes { continue }
            if check { stale.append(url.path); continue }
            try bytes.write(to: url, options: .atomic)
        }
        if !stale.isEmpty {
            FileHandle.standardError.write(Data(("out of date with \(input) (run test/regenerate-go.sh): "
                + stale.joined(separator: ", ") + "\n").utf8))
            throw ExitCode.failure
        }
    }
}
