import Foundation
import Testing
@testable import GeneratorCore

/// Generates from the project's openapi.yaml and compares with `Golden/*.swift.golden`.
/// Run with `FLEXLB_UPDATE_GOLDEN=1 swift test` to rewrite the golden files after an intended change.
@Suite struct GoldenTests {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let specURL = testsDirectory.appendingPathComponent("../../../../openapi.yaml").standardizedFileURL
    static let goldenDirectory = testsDirectory.appendingPathComponent("Golden")

    @Test func generatedFilesMatchGolden() throws {
        let spec = try String(contentsOf: Self.specURL, encoding: .utf8)
        let result = Generator.generate(spec: spec)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        #expect(result.files.map(\.name) == generatedFileNames)
        let update = ProcessInfo.processInfo.environment["FLEXLB_UPDATE_GOLDEN"] == "1"
        for file in result.files {
            let url = Self.goldenDirectory.appendingPathComponent(file.name + ".golden")
            if update {
                try file.contents.write(to: url, atomically: true, encoding: .utf8)
                continue
            }
            let golden = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
            if golden != file.contents {
                let message = "\(file.name) differs from \(url.path) (set FLEXLB_UPDATE_GOLDEN=1 to update):\n"
                    + Self.diff(expected: golden, actual: file.contents)
                Issue.record(Comment(rawValue: message))
            }
        }
    }

    static let goPackageDirectory = testsDirectory.appendingPathComponent("../../../../Sources/Client/Go/flexlb").standardizedFileURL

    /// The committed Go package is the Go renderer's golden output: a spec change without
    /// `test/regenerate-go.sh` fails here (FLEXLB_UPDATE_GOLDEN=1 also rewrites it).
    @Test func committedGoPackageIsCurrent() throws {
        let spec = try String(contentsOf: Self.specURL, encoding: .utf8)
        let result = Generator.generateGo(spec: spec)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        #expect(result.files.map(\.name) == generatedGoFileNames)
        let update = ProcessInfo.processInfo.environment["FLEXLB_UPDATE_GOLDEN"] == "1"
        for file in result.files {
            let url = Self.goPackageDirectory.appendingPathComponent(file.name)
            if update {
                try file.contents.write(to: url, atomically: true, encoding: .utf8)
                continue
            }
            let committed = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
            if committed != file.contents {
                let message = "\(url.path) is not what openapi.yaml generates (run test/regenerate-go.sh):\n"
                    + Self.diff(expected: committed, actual: file.contents)
                Issue.record(Comment(rawValue: message))
            }
        }
    }

    /// The first few differing lines, with line numbers.
    static func diff(expected: String, actual: String, limit: Int = 8) -> String {
        let e = expected.components(separatedBy: "\n")
        let a = actual.components(separatedBy: "\n")
        var out: [String] = []
        for i in 0..<max(e.count, a.count) where out.count < limit * 2 {
            let el = i < e.count ? e[i] : "<end of file>"
            let al = i < a.count ? a[i] : "<end of file>"
            if el != al {
                out.append("line \(i + 1) - \(el)")
                out.append("line \(i + 1) + \(al)")
            }
        }
        return out.joined(separator: "\n")
    }
}
