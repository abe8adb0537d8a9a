import Synchronization
import FlexLBAPI
import FlexLBModel
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird responder that hands every request to the generated ``APIRouter``. It enforces the
/// body limit, maps handler faults to 500 (the one place errors become responses), and logs one
/// structured line per request.
struct APIResponder<Handler: APIProtocol>: HTTPResponder {
    typealias Context = APIRequestContext

    /// Largest request body accepted; larger ones get 413 without being read further.
    static var maxBodySize: Int { 1 << 20 }

    let router: APIRouter<Handler>
    /// Roles by certificate; nil: every certificate of the CA is an admin.
    let roles: NodeConfiguration.Roles?
    let logger: Logger

    func respond(to request: Request, context: Context) async throws -> Response {
        let started = ContinuousClock.now
        let requestID = RequestID.next()
        var logger = self.logger
        logger[metadataKey: "flexlb.request_id"] = "\(requestID)"
        let target = request.head.path ?? "/"
        let (path, query) = Self.split(target)
        let client = await ClientIdentity.of(context.channel)
        logger[metadataKey: "flexlb.client"] = "\(client.subject)"

        let response: ServerResponse
        if ClientRole.of(client, roles: roles).permits(method: request.method.rawValue) {
            response = Self.compatible(await handle(request, path: path, query: query, logger: logger))
        } else {
            response = Self.compatible(Self.error(.forbidden, "client certificate \(client.subject) may not \(request.method.rawValue) (roles in the node configuration)"))
        }

        var headers = response.headerFields
        if response.status == .contentTooLarge {
            // The rest of the body is not read: close the connection after the answer, so the client
            // stops sending instead of stalling on a full socket.
            headers[.connection] = "close"
        }
        headers[.init("X-Request-Id")!] = requestID
        let elapsed = ContinuousClock.now - started
        logger.info(
            "request",
            metadata: [
                "flexlb.method": "\(request.method.rawValue)",
                "flexlb.path": "\(path)",
                "flexlb.status": "\(response.status.code)",
                "flexlb.latency_ms": "\(String(format: "%.3f", elapsed.seconds * 1000))",
            ]
        )
        return Response(
            status: response.status,
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: response.body))
        )
    }

    private func handle(_ request: Request, path: String, query: String?, logger: Logger) async -> ServerResponse {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > Self.maxBodySize {
            return Self.error(.contentTooLarge, "request body exceeds \(Self.maxBodySize) bytes")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maxBodySize)
        } catch is NIOTooManyBytesError {
            return Self.error(.contentTooLarge, "request body exceeds \(Self.maxBodySize) bytes")
        } catch {
            logger.debug("reading request body failed", metadata: ["error": "\(error)"])
            return Self.error(.badRequest, "could not read the request body")
        }
        if body.readableBytes > 0, let type = request.headers[.contentType], !Self.isJSON(type) {
            return Self.error(.unsupportedMediaType, "request body must be application/json, not \(type)")
        }
        let serverRequest = ServerRequest(
            method: request.method,
            path: path,
            query: query,
            headerFields: request.headers,
            body: Array(buffer: body)
        )
        do {
            return try await router.respond(to: serverRequest)
        } catch {
            logger.error("request failed", metadata: ["error": "\(error)"])
            return Self.error(.internalServerError, "internal error; see the server log for this request id")
        }
    }

    /// Error bodies that 0.4 clients can read: `error` and `status` beside `message` (0.4's client reads
    /// 404 as `{status, error}`), and a 400's `message` summarising the first violations (0.4's client
    /// reads only `message`). The one place where every error body passes.
    static func compatible(_ response: ServerResponse) -> ServerResponse {
        guard response.status.code >= 400, !response.body.isEmpty,
              var body = try? ErrorBody.decode(jsonBytes: response.body, strict: false) else { return response }
        if let violations = body.violations, !violations.isEmpty, !body.message.contains(": ") {
            let shown = violations.prefix(3).map { "\($0.path): \($0.message)" }.joined(separator: "; ")
            let more = violations.count > 3 ? " (and \(violations.count - 3) more)" : ""
            body.message = "\(body.message): \(shown)\(more)"
        }
        body.error = body.message
        body.status = response.status.code
        var result = response
        result.body = body.jsonBytes()
        return result
    }

    /// `application/json`, with or without parameters (`; charset=utf-8`). A body without a
    /// Content-Type is taken as JSON, as 0.4 did.
    static func isJSON(_ contentType: String) -> Bool {
        let media = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        return media.lowercased() == "application/json"
    }

    static func split(_ target: String) -> (String, String?) {
        guard let mark = target.firstIndex(of: "?") else { return (target, nil) }
        return (String(target[..<mark]), String(target[target.index(after: mark)...]))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> ServerResponse {
        ServerResponse(
            status: status,
            headerFields: [.contentType: "application/json"],
            body: ErrorBody(message: message).jsonBytes()
        )
    }
}

/// Request ids: a per-process random prefix plus a counter; unique enough to find a request in logs.
enum RequestID {
    private static let prefix = String(UInt32.random(in: .min ... .max), radix: 16)
    private static let counter = Counter()

    static func next() -> String { "\(prefix)-\(counter.increment())" }

    private final class Counter: Sendable {
        private let value = Mutex<UInt64>(0)
        func increment() -> UInt64 { value.withLock { $0 += 1; return $0 } }
    }
}
