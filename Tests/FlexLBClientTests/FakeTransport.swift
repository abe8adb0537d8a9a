import FlexLBAPI
import HTTPTypes
import Synchronization

/// A ``ClientTransport`` that answers from a script and records what was sent. Sending more
/// requests than scripted is a test failure, reported by throwing.
final class FakeTransport: ClientTransport, Sendable {
    struct Sent: Sendable {
        var request: HTTPRequest
        var body: [UInt8]?
        var operationID: String
        var idempotent: Bool
    }

    struct Unscripted: Error {}

    private let state: Mutex<(script: [(Int, HTTPFields, String)], sent: [Sent])>

    /// - Parameter script: status, headers and JSON body of each response, in order.
    init(_ script: [(Int, HTTPFields, String)]) {
        state = Mutex((script, []))
    }

    var sent: [Sent] { state.withLock { $0.sent } }

    func send(_ request: HTTPRequest, body: [UInt8]?, operationID: String, idempotent: Bool) async throws -> (HTTPResponse, [UInt8]) {
        try state.withLock { state in
            state.sent.append(Sent(request: request, body: body, operationID: operationID, idempotent: idempotent))
            guard !state.script.isEmpty else { throw Unscripted() }
            let (status, headers, body) = state.script.removeFirst()
            return (HTTPResponse(status: .init(code: status), headerFields: headers), Array(body.utf8))
        }
    }
}
