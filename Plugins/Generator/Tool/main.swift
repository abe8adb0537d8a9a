import ArgumentParser
import Foundation
import GeneratorCore

/// Reads openapi.yaml, writes the generated Swift files; a file is rewritten only if its bytes changed.
@main
struct GeneratorTool: ParsableCommand {
    @Option(help: "Path of openapi.yaml.") var input: String
    @Option(help: "Directory for the generated files.") var output: String

    func run() throws {
        let spec = try String(contentsOfFile: input, encoding: .utf8)
        let result = Generator.generate(spec: spec)
        for diagnostic in result.diagnostics {
            FileHandle.standardError.write(Data("\(input): \(diagnostic)\n".utf8))
        }
        if result.hasErrors { throw ExitCode.failure }
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        for file in result.files {
            let url = URL(fileURLWithPath: output).appendingPathComponent(file.name)
            let bytes = Data(file.contents.utf8)
            if let existing = try? Data(contentsOf: url), existing == bytes { continue }
            try bytes.write(to: url, options: .atomic)
        }
    }
}
