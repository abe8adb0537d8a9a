/// Accumulates configuration text line by line, indenting with four spaces.
///
/// Callers pass only checked values, so a line never contains a line break of its own.
struct ConfigWriter {
    private(set) var text = ""

    mutating func line(_ content: String, indent: Int = 0) {
        precondition(!content.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D || $0 == 0 }), "unchecked value reached the renderer")
        if !content.isEmpty {
            text += String(repeating: "    ", count: indent)
            text += content
        }
        text += "\n"
    }
}
