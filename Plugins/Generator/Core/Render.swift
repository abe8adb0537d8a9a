/// Stage 3: ``IRModule`` → Swift source files. Shared pieces: types, literals, decode/encode expressions.
protocol Rendering {
    func render(_ module: IRModule, diagnostics: inout [Diagnostic]) -> [GeneratedFile]
}

/// One output file.
public struct GeneratedFile: Sendable, Hashable {
    public var name: String
    public var contents: String
}

/// A tiny indenting text builder.
struct SwiftWriter {
    private(set) var text = ""
    private var level = 0

    mutating func line(_ s: String = "") {
        text += s.isEmpty ? "\n" : String(repeating: "    ", count: level) + s + "\n"
    }

    mutating func doc(_ s: String?) {
        guard let s else { return }
        for l in s.split(separator: "\n", omittingEmptySubsequences: false).map({ String($0) }).trimmingTrailingEmpty() {
            let trimmed = l.replacingTrailingWhitespace()
            line(trimmed.isEmpty ? "///" : "/// " + trimmed)
        }
    }

    mutating func block(_ opener: String, _ body: (inout SwiftWriter) -> Void) {
        line(opener + " {")
        level += 1
        body(&self)
        level -= 1
        line("}")
    }
}

extension Array where Element == String {
    func trimmingTrailingEmpty() -> [String] {
        var copy = self
        while let last = copy.last, last.allSatisfy(\.isWhitespace) { copy.removeLast() }
        return copy
    }
}

extension String {
    func replacingTrailingWhitespace() -> String {
        var s = Substring(self)
        while let last = s.last, last.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}

/// The `pattern`s of the module, each compiled once as `SchemaPatterns.pN`.
struct PatternTable {
    private(set) var patterns: [String] = []

    init(_ module: IRModule) {
        for s in module.structs { for p in s.properties { collect(p.type) } }
        for t in module.typealiases { collect(t.type) }
        for op in module.operations {
            for p in op.parameters { collect(p.type) }
            if let b = op.requestBody { collect(b.type) }
            for r in op.responses { if let b = r.body { collect(b.type) } }
        }
    }

    private mutating func collect(_ type: IRType) {
        switch type {
        case .string(let r): if let p = r.pattern, !patterns.contains(p) { patterns.append(p) }
        case .array(let t, _, _), .map(let t), .alias(_, let t): collect(t)
        default: break
        }
    }

    func name(_ pattern: String) -> String { "SchemaPatterns.p\(patterns.firstIndex(of: pattern)! + 1)" }
}

/// A double-quoted, single-line string literal holding `s` exactly: backslash, quote, newline, return and
/// tab escaped as in C; other control characters as `control` writes them (the languages differ there).
func quotedLiteral(_ s: String, control: (UInt32) -> String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\\": out += "\\\\"
        case "\"": out += "\\\""
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += control(scalar.value)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

enum Swift {
    /// An escaped, single-line Swift string literal.
    static func literal(_ s: String) -> String {
        quotedLiteral(s) { "\\u{\(String($0, radix: 16))}" }
    }

    /// A multi-line raw string literal holding `s` exactly.
    static func rawMultiline(_ s: String) -> String {
        var hashes = "#"
        while s.contains("\"\"\"" + hashes) || s.contains("\\" + hashes) { hashes += "#" }
        // The line break before the closing delimiter is not part of the string.
        return hashes + "\"\"\"\n" + s + "\n\"\"\"" + hashes
    }

    static func literal(_ value: IRLiteral) -> String {
        switch value {
        case .string(let s): literal(s)
        case .integer(let i): String(i)
        case .bool(let b): String(b)
        case .double(let d): String(d)
        case .enumCase(let c): "." + c
        }
    }

    static func typeName(_ type: IRType) -> String {
        switch type {
        case .string: "String"
        case .integer(let r): r.int64 ? "Int64" : "Int"
        case .number: "Double"
        case .boolean: "Bool"
        case .model(let n), .alias(let n, _): n
        case .array(let t, _, _): "[\(typeName(t))]"
        case .map(let t): "[String: \(typeName(t))]"
        }
    }

    /// An expression decoding JSONValue `j` at JSONPath `p`, appending to `[Violation]` `v`; yields `T?`.
    static func decode(_ type: IRType, _ j: String, _ p: String, _ v: String, strict: String, _ patterns: PatternTable) -> String {
        switch type {
        case .string(let r):
            var args = ["\(j), at: \(p)"]
            if r.minLength > 0 { args.append("minLength: \(r.minLength)") }
            if let m = r.maxLength { args.append("maxLength: \(m)") }
            if let pattern = r.pattern { args.append("pattern: \(patterns.name(pattern))") }
            if r.ip { args.append("ip: true") }
            args.append("&\(v)")
            return "Checks.string(\(args.joined(separator: ", ")))"
        case .integer(let r):
            var args = ["\(j), at: \(p)"]
            if let m = r.minimum { args.append("minimum: \(m)") }
            if let m = r.maximum { args.append("maximum: \(m)") }
            if r.int32 { args.append("format: .int32") }
            args.append("&\(v)")
            if r.int64 { return "Checks.int64(\(args.joined(separator: ", ")))" }
            return "Checks.integer(\(args.joined(separator: ", ")))"
        case .number: return "Checks.number(\(j), at: \(p), &\(v))"
        case .boolean: return "Checks.bool(\(j), at: \(p), &\(v))"
        case .model(let n): return "\(n).decode(\(j), at: \(p), strict: \(strict), violations: &\(v))"
        case .alias(_, let t): return decode(t, j, p, v, strict: strict, patterns)
        case .array(let t, let minItems, let maxItems):
            var args = ["\(j), at: \(p)"]
            if minItems > 0 { args.append("minItems: \(minItems)") }
            if let m = maxItems { args.append("maxItems: \(m)") }
            args.append("&\(v)")
            return "Checks.array(\(args.joined(separator: ", "))) { j, p, v in \(decode(t, "j", "p", "v", strict: strict, patterns)) }"
        case .map(let t):
            return "Checks.map(\(j), at: \(p), &\(v)) { j, p, v in \(decode(t, "j", "p", "v", strict: strict, patterns)) }"
        }
    }

    /// An expression encoding `x` as a JSONValue.
    static func encode(_ type: IRType, _ x: String) -> String {
        switch type {
        case .string: ".string(\(x))"
        case .integer(let r): r.int64 ? ".integer(\(x))" : ".integer(Int64(\(x)))"
        case .number: ".number(\(x))"
        case .boolean: ".bool(\(x))"
        case .model: "\(x).jsonValue"
        case .alias(_, let t): encode(t, x)
        case .array(let t, _, _): ".array(\(x).map { \(encode(t, "$0")) })"
        case .map(let t): "Checks.encodeMap(\(x)) { \(encode(t, "$0")) }"
        }
    }
}

/// The generated files, in a fixed list (the build plugin declares the same names).
public let generatedFileNames = ["Models.swift", "Operations.swift", "Router.swift", "Client.swift"]

struct Renderer: Rendering {
    func render(_ module: IRModule, diagnostics: inout [Diagnostic]) -> [GeneratedFile] {
        let patterns = PatternTable(module)
        if !module.structs.contains(where: { $0.swiftName == "ErrorBody" }) {
            diagnostics.append(Diagnostic(.error, "the router needs an ErrorBody schema {message, violations}", at: "#/components/schemas"))
        }
        return [
            GeneratedFile(name: "Models.swift", contents: ModelsRenderer(module: module, patterns: patterns).render()),
            GeneratedFile(name: "Operations.swift", contents: OperationsRenderer(module: module).render()),
            GeneratedFile(name: "Router.swift", contents: RouterRenderer(module: module, patterns: patterns).render()),
            GeneratedFile(name: "Client.swift", contents: ClientRenderer(module: module, patterns: patterns).render()),
        ]
    }
}

let generatedHeader = "// Generated by flexlb-openapi-generator from openapi.yaml. Do not edit."
