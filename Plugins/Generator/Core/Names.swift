/// Naming rules, in one place.
///
/// - Properties, parameters, headers, enum cases: lowerCamelCase of the JSON name, splitting on
///   `_`, `-`, `.` and spaces (`frontend_ipaddress` → `frontendIpaddress`, `If-Match` → `ifMatch`,
///   `not_ready` → `notReady`). Swift keywords are escaped with backticks, except names that
///   cannot be members at all (`self`, `Self`, `init`, `Type`, `Protocol`): those get an `is`
///   prefix (`self` → `isSelf`).
/// - Types: UpperCamelCase (`listNodes` → `ListNodes`, `desired_state` → `DesiredState`); an
///   existing capital run is kept (`getOpenAPI` → `GetOpenAPI`).
enum Names {
    static let keywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "inout",
        "internal", "let", "open", "operator", "private", "protocol", "public", "rethrows", "static",
        "struct", "subscript", "typealias", "var", "break", "case", "continue", "default", "defer", "do",
        "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return", "switch", "where", "while",
        "as", "catch", "false", "is", "nil", "super", "throw", "throws", "true", "try", "any", "some",
    ]
    static let unusable: Set<String> = ["self", "Self", "init", "Type", "Protocol"]

    static func words(_ s: String) -> [String] {
        s.split(whereSeparator: { "_-. /".contains($0) }).map(String.init)
    }

    static func upperFirst(_ s: String) -> String { s.prefix(1).uppercased() + s.dropFirst() }
    static func lowerFirst(_ s: String) -> String { s.prefix(1).lowercased() + s.dropFirst() }

    static func lowerCamel(_ s: String) -> String {
        let w = words(s)
        guard let first = w.first else { return "_" }
        var name = lowerFirst(first) + w.dropFirst().map(upperFirst).joined()
        if let c = name.first, c.isNumber { name = "_" + name }
        return name
    }

    static func upperCamel(_ s: String) -> String {
        let name = words(s).map(upperFirst).joined()
        if let c = name.first, c.isNumber { return "_" + name }
        return name
    }

    /// A member name usable in declarations and after a dot.
    static func member(_ jsonName: String) -> String {
        let name = lowerCamel(jsonName)
        if unusable.contains(name) { return "is" + upperFirst(name) }
        if keywords.contains(name) { return "`\(name)`" }
        return name
    }

    /// The member name without backticks (for use inside string interpolation-free contexts like `let x`).
    static func bare(_ member: String) -> String { member.filter { $0 != "`" } }

    /// `Output` case name for a status code.
    static func statusCase(_ code: Int) -> String {
        switch code {
        case 200: "ok"
        case 201: "created"
        case 202: "accepted"
        case 204: "noContent"
        case 400: "badRequest"
        case 401: "unauthorized"
        case 403: "forbidden"
        case 404: "notFound"
        case 405: "methodNotAllowed"
        case 409: "conflict"
        case 412: "preconditionFailed"
        case 413: "contentTooLarge"
        case 415: "unsupportedMediaType"
        case 422: "unprocessableContent"
        case 429: "tooManyRequests"
        case 500: "internalServerError"
        case 502: "badGateway"
        case 503: "serviceUnavailable"
        default: "status\(code)"
        }
    }
}
