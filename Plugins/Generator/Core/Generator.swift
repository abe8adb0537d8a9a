import OpenAPIKit30
import Yams

/// Stage 1: spec text → OpenAPIKit document.
protocol Parsing {
    func parse(_ text: String, diagnostics: inout [Diagnostic]) -> OpenAPI.Document?
}

struct YAMLParser: Parsing {
    func parse(_ text: String, diagnostics: inout [Diagnostic]) -> OpenAPI.Document? {
        do {
            return try YAMLDecoder().decode(OpenAPI.Document.self, from: text)
        } catch {
            diagnostics.append(Diagnostic(.error, "cannot parse the document: \(error)", at: "#"))
            return nil
        }
    }
}

/// The result of one generator run.
public struct GeneratorResult: Sendable {
    /// Exactly ``generatedFileNames``, in that order (empty when there are errors before rendering).
    public var files: [GeneratedFile]
    public var diagnostics: [Diagnostic]
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}

/// The pure pipeline: parse → translate → render. No disk I/O.
public enum Generator {
    public static func generate(spec: String) -> GeneratorResult {
        var diagnostics: [Diagnostic] = []
        guard let document = YAMLParser().parse(spec, diagnostics: &diagnostics) else {
            return GeneratorResult(files: [], diagnostics: diagnostics)
        }
        let module = Translator().translate(document, specText: spec, diagnostics: &diagnostics)
        let files = Renderer().render(module, diagnostics: &diagnostics)
        return GeneratorResult(files: files, diagnostics: diagnostics)
    }

    /// The same parse and translate, rendered as the generated files of the Go client package
    /// (exactly ``generatedGoFileNames``).
    public static func generateGo(spec: String, packageName: String = "flexlb") -> GeneratorResult {
        var diagnostics: [Diagnostic] = []
        guard let document = YAMLParser().parse(spec, diagnostics: &diagnostics) else {
            return GeneratorResult(files: [], diagnostics: diagnostics)
        }
        let module = Translator().translate(document, specText: spec, diagnostics: &diagnostics)
        let files = GoRenderer(packageName: packageName).render(module, diagnostics: &diagnostics)
        return GeneratorResult(files: files, diagnostics: diagnostics)
    }
}
