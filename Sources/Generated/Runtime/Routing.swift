import Foundation
import HTTPTypes

/// Helpers for the generated ``APIRouter`` (path matching, parameters, bodies, responses).
public enum RouterSupport {
    /// The percent-decoded path segments after `basePath`, or nil when the path is not under it
    /// or a segment is not valid percent-encoding.
    public static func segments(_ path: String, basePath: String) -> [String]? {
        guard path == basePath || path.hasPrefix(basePath + "/") else { return nil }
        let rest = path.dropFirst(basePath.count)
        var parts = rest.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        if parts.last == "" { parts.removeLast() }
        var decoded: [String] = []
        for part in parts {
            guard let d = part.removingPercentEncoding else { return nil }
            decoded.append(d)
        }
        return decoded
    }

    /// Matches segments against a template such as `["instances", "{name}"]`; returns the params.
    public static func match(_ segments: [String], _ template: [String]) -> [String: String]? {
        guard segments.count == template.count else { return nil }
        var params: [String: String] = [:]
        for (segment, part) in zip(segments, template) {
            if part.hasPrefix("{"), part.hasSuffix("}") {
                guard !segment.isEmpty else { return nil }
                params[String(part.dropFirst().dropLast())] = segment
            } else if segment != part {
                return nil
            }
        }
        return params
    }

    /// Query items, percent-decoded (`+` is a space); the first occurrence of a name wins.
    public static func queryItems(_ query: String?) -> [String: String] {
        guard let query, !query.isEmpty else { return [:] }
        var items: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (s: Substring) in String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
            let key = decode(kv[0])
            if items[key] == nil { items[key] = kv.count > 1 ? decode(kv[1]) : "" }
        }
        return items
    }

    /// The value of a header field, if present.
    public static func header(_ fields: HTTPFields, _ name: String) -> String? {
        guard let fieldName = HTTPField.Name(name) else { return nil }
        return fields[fieldName]
    }

    /// A path, query or header parameter. `integer` parameters become JSON integers when they parse.
    public static func parameter<T>(
        _ raw: String?, at path: JSONPath, required: Bool, integer: Bool = false,
        _ v: inout [Violation], _ decode: Checks.Decoder<T>
    ) -> T? {
        guard let raw else {
            if required { v.append(Violation(path: path.description, message: "is required")) }
            return nil
        }
        let json: JSONValue = integer ? (Int64(raw).map(JSONValue.integer) ?? .string(raw)) : .string(raw)
        return decode(json, path, &v)
    }

    /// The JSON request body, validated strictly.
    public static func body<T>(_ bytes: [UInt8], required: Bool, _ v: inout [Violation], _ decode: Checks.Decoder<T>) -> T? {
        if bytes.isEmpty {
            if required { v.append(Violation(path: "$", message: "request body is required")) }
            return nil
        }
        do {
            let json = try JSONValue.parse(bytes)
            return decode(json, .root, &v)
        } catch {
            v.append(contentsOf: error.violations)
            return nil
        }
    }

    /// A response with a JSON body and the given (optional) headers.
    public static func json(_ status: Int, _ body: JSONValue, headers: [(String, String?)] = []) -> ServerResponse {
        response(status, body.serialized(), contentType: "application/json", headers: headers)
    }

    /// A response with a raw body.
    public static func response(
        _ status: Int, _ body: [UInt8], contentType: String?, headers: [(String, String?)] = []
    ) -> ServerResponse {
        var fields = HTTPFields()
        if let contentType { fields[.contentType] = contentType }
        for (name, value) in headers {
            if let value, let fieldName = HTTPField.Name(name) { fields[fieldName] = value }
        }
        return ServerResponse(status: HTTPResponse.Status(code: status), headerFields: fields, body: body)
    }
}

/// Helpers for the generated ``APIClient``.
public enum ClientSupport {
    private static let unreserved: CharacterSet = {
        var set = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        set.insert(charactersIn: "-._~")
        return set
    }()

    /// Percent-encodes everything but RFC 3986 unreserved characters.
    public static func encode(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: unreserved) ?? s
    }

    /// `?a=b&c=d` from the non-nil items, or "".
    public static func query(_ items: [(String, String?)]) -> String {
        let parts = items.compactMap { name, value in value.map { encode(name) + "=" + encode($0) } }
        return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
    }

    /// Decodes a response body leniently (`strict: false`), or throws ``ResponseDecodingError``.
    public static func decode<T>(
        _ bytes: [UInt8], operationID: String, status: Int, _ decode: Checks.Decoder<T>
    ) throws(ResponseDecodingError) -> T {
        do throws(ValidationError) {
            let json = try JSONValue.parse(bytes)
            var violations: [Violation] = []
            guard let value = decode(json, .root, &violations), violations.isEmpty else {
                throw ValidationError(violations.isEmpty ? [Violation(path: "$", message: "invalid value")] : violations)
            }
            return value
        } catch {
            throw ResponseDecodingError(operationID: operationID, status: status, error: error)
        }
    }

    public static func header(_ response: HTTPResponse, _ name: String) -> String? {
        guard let fieldName = HTTPField.Name(name) else { return nil }
        return response.headerFields[fieldName]
    }

    public static func setHeader(_ request: inout HTTPRequest, _ name: String, _ value: String?) {
        guard let value, let fieldName = HTTPField.Name(name) else { return }
        request.headerFields[fieldName] = value
    }
}
