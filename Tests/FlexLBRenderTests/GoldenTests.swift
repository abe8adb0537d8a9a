import Foundation
import Testing

/// Rendered configurations compared with `Golden/*`; `FLEXLB_UPDATE_GOLDEN=1` rewrites the files.
@Suite struct GoldenTests {
    @Test(arguments: try Fixtures.goldenCases())
    func matchesGolden(_ golden: GoldenCase) throws {
        let actual = try golden.render().text
        if ProcessInfo.processInfo.environment["FLEXLB_UPDATE_GOLDEN"] == "1" {
            try actual.write(to: Golden.sourceDirectory.appendingPathComponent(golden.file), atomically: true, encoding: .utf8)
            return
        }
        let expected = try Golden.read(golden.file)
        #expect(actual == expected, "\(golden.file) differs from the golden file (FLEXLB_UPDATE_GOLDEN=1 rewrites it):\n\(Golden.diff(expected: expected, actual: actual))")
    }
}

/// Access to the golden files.
enum Golden {
    /// Tests/FlexLBRenderTests/Golden in the source tree (written when updating).
    static let sourceDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// Reads a golden file from the test bundle's copy.
    static func read(_ file: String) throws -> String {
        let url = try #require(Bundle.module.resourceURL).appendingPathComponent("Golden").appendingPathComponent(file)
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// A line diff (longest common subsequence): `-` expected only, `+` actual only, ` ` both.
    static func diff(expected: String, actual: String) -> String {
        let a = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let b = actual.split(separator: "\n", omittingEmptySubsequences: false)
        var lcs = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        var lines: [String] = []
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                lines.append("  \(a[i])"); i += 1; j += 1
            } else if j < b.count, i == a.count || lcs[i][j + 1] >= lcs[i + 1][j] {
                lines.append("+ \(b[j])"); j += 1
            } else {
                lines.append("- \(a[i])"); i += 1
            }
        }
        return lines.joined(separator: "\n")
    }
}
