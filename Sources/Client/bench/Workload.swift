import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The requests one benchmark operation sends; request `index` is the `index`-th of the run.
enum Workload: Sendable {
    /// `GET /instances/{name}` of one existing instance.
    case get(name: String)
    /// `POST /instances` of instance `<prefix>-<index>` with a VIP:port no other request uses.
    case create(prefix: String, frontendPort: Int)

    var operation: String {
        switch self {
        case .get: "get"
        case .create: "create"
        }
    }

    func request(_ index: Int, baseURL: String) throws -> HTTPClientRequest {
        switch self {
        case .get(let name):
            return HTTPClientRequest(url: "\(baseURL)/flexlb/v1/instances/\(name)")
        case .create(let prefix, let frontendPort):
            var request = HTTPClientRequest(url: "\(baseURL)/flexlb/v1/instances")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try Self.instanceBody(prefix: prefix, index: index, frontendPort: frontendPort)))
            return request
        }
    }

    /// `DELETE /instances/{name}` of what `request(index)` created.
    func cleanupRequest(_ index: Int, baseURL: String) -> HTTPClientRequest? {
        guard case .create(let prefix, _) = self else { return nil }
        var request = HTTPClientRequest(url: "\(baseURL)/flexlb/v1/instances/\(prefix)-\(index)")
        request.method = .DELETE
        return request
    }

    /// A small valid instance. The VIP is 10.200.b.a, 65,024 distinct addresses per frontend port;
    /// beyond that the port moves up by one. Nothing is configured on any interface: flexlbd only
    /// stores instances until the data plane lands.
    static func instanceBody(prefix: String, index: Int, frontendPort: Int) throws -> [UInt8] {
        let perPort = 254 * 256
        let host = index % perPort
        let instance = BenchInstance(
            name: "\(prefix)-\(index)",
            frontend_interface: "eth0",
            frontend_ipaddress: "10.200.\(host / 254).\(host % 254 + 1)",
            frontend_net_prefix: 24,
            endpoints: [
                .init(
                    frontend_port: frontendPort + index / perPort,
                    mode: "tcp",
                    balance: "roundrobin",
                    backend_servers: [.init(name: "web1", ipaddress: "10.201.0.1", port: 8080, options: "check")]
                ),
            ]
        )
        return Array(try JSONEncoder().encode(instance))
    }
}

/// The JSON body of a create; field names are the API's.
private struct BenchInstance: Encodable {
    struct Endpoint: Encodable {
        struct Server: Encodable {
            var name: String
            var ipaddress: String
            var port: Int
            var options: String
        }

        var frontend_port: Int
        var mode: String
        var balance: String
        var backend_servers: [Server]
    }

    var name: String
    var frontend_interface: String
    var frontend_ipaddress: String
    var frontend_net_prefix: Int
    var endpoints: [Endpoint]
}
