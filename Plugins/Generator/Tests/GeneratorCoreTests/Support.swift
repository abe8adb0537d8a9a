import Foundation
import Testing
@testable import GeneratorCore

/// A complete document around `schemas` (YAML indented by 4) and `paths` (indented by 2).
func document(schemas: String = "", paths: String = "") -> String {
    """
    openapi: 3.0.3
    info:
      title: T
      version: "1"
    servers:
      - url: /base
    paths:
    \(paths.isEmpty ? "  {}" : paths)
    components:
      schemas:
        ErrorBody:
          type: object
          required: [message]
          properties:
            message:
              type: string
    \(schemas)
    """
}

/// Generates and returns the named file, failing the test on any error diagnostic.
func generate(_ spec: String, file: String = "Models.swift", sourceLocation: SourceLocation = #_sourceLocation) -> String {
    let result = Generator.generate(spec: spec)
    #expect(!result.hasErrors, "\(result.diagnostics)", sourceLocation: sourceLocation)
    return result.files.first { $0.name == file }?.contents ?? ""
}

/// Expects every line of `expected` (trimmed) to occur, in order, as whole lines of `text`.
func expectLines(_ text: String, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
    var index = 0
    for want in expected.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) where !want.isEmpty {
        guard let found = lines[index...].firstIndex(of: want) else {
            Issue.record("missing line (in order): \(want)\n--- generated ---\n\(text)", sourceLocation: sourceLocation)
            return
        }
        index = found + 1
    }
}
