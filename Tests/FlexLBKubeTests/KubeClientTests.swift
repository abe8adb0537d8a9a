import Foundation
import Testing

@testable import FlexLBKube

@Suite struct WatchCursorTests {
    @Test func listThenWatchResumesFromTheLastVersion() {
        var c = WatchCursor()
        #expect(c.start() == .list(after: .zero))
        #expect(c.listed(resourceVersion: "10") == .watch(from: "10", after: .zero))
        c.observed(resourceVersion: "11")
        c.observed(resourceVersion: "15")  // a BOOKMARK
        #expect(c.streamEnded() == .watch(from: "15", after: .zero))
    }

    @Test func goneRelistsAtOnceOtherFailuresBackOff() {
        var c = WatchCursor(initialBackoff: .milliseconds(500), maxBackoff: .seconds(2))
        _ = c.start()
        _ = c.listed(resourceVersion: "10")
        #expect(c.failed(gone: false) == .watch(from: "10", after: .milliseconds(500)))
        #expect(c.failed(gone: false) == .watch(from: "10", after: .seconds(1)))
        #expect(c.failed(gone: false) == .watch(from: "10", after: .seconds(2)))
        #expect(c.failed(gone: false) == .watch(from: "10", after: .seconds(2)))
        c.observed(resourceVersion: "12")
        #expect(c.failed(gone: false) == .watch(from: "12", after: .milliseconds(500)), "an event resets the backoff")
        #expect(c.failed(gone: true) == .list(after: .zero))
        #expect(c.resourceVersion == nil)
        #expect(c.failed(gone: false) == .list(after: .seconds(1)), "no version: list again, backing off")
    }
}

@Suite struct DecodingTests {
    static func fixture(_ name: String) throws -> Data {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil))
        return try Data(contentsOf: url)
    }

    @Test func recordedServiceDecodes() throws {
        let svc = try JSONDecoder().decode(Service.self, from: Self.fixture("service.json"))
        #expect(svc.spec.type == "LoadBalancer")
        #expect(svc.spec.ports?.map(\.nodePort) == [31624, 32001])
        #expect(svc.spec.ports?[1].targetPort == .string("metrics"))
        #expect(svc.spec.ports?[0].targetPort == .int(9376))
        #expect(svc.status?.loadBalancer?.ingress?.first?.ip == "192.0.2.127")
        #expect(svc.metadata.key == "default/my-service")
    }

    @Test func recordedEndpointSliceDecodes() throws {
        let slice = try JSONDecoder().decode(EndpointSlice.self, from: Self.fixture("endpointslice.json"))
        #expect(slice.metadata.labels?[EndpointSlice.serviceNameLabel] == "example")
        #expect(slice.endpoints?.map(\.conditions?.ready) == [true, false])
        #expect(slice.endpoints?.map(\.nodeName) == ["node-1", "node-2"])
    }

    @Test func recordedNodeDecodes() throws {
        let node = try JSONDecoder().decode(Node.self, from: Self.fixture("node.json"))
        #expect(node.status?.addresses?.map(\.type) == ["InternalIP", "ExternalIP", "Hostname"])
        #expect(node.status?.conditions?.contains { $0.type == "Ready" && $0.status == "True" } == true)
        #expect(node.metadata.key == "node-1")
    }

    @Test func recordedLeaseDecodes() throws {
        let lease = try JSONDecoder().decode(Lease.self, from: Self.fixture("lease.json"))
        #expect(lease.spec?.leaseDurationSeconds == 15)
        #expect(lease.spec?.renewTime == "2024-05-03T10:21:40.123456Z")
    }

    @Test func watchLinesDripFedDecodeIntoEvents() throws {
        let bytes = Array(try Self.fixture("watch-events.txt"))
        // Any chunking gives the same lines (byte by byte, in threes, all at once).
        for size in [1, 3, 64, bytes.count] {
            var splitter = LineSplitter()
            var lines: [[UInt8]] = []
            var i = 0
            while i < bytes.count {
                lines += splitter.append(Array(bytes[i..<min(i + size, bytes.count)]))
                i += size
            }
            let events = try lines.map { try KubeClient.decodeEvent($0, as: Service.self) }
            #expect(events.map(\.type) == ["ADDED", "BOOKMARK", "ERROR"])
            #expect(events[0].object?.metadata.name == "a")
            #expect(events[0].resourceVersion == "10")
            #expect(events[1].resourceVersion == "12")
            #expect(events[2].status?.code == 410)
        }
    }

    @Test func kubeconfigWithEmbeddedCertificatesOrToken() throws {
        let text = """
            apiVersion: v1
            kind: Config
            current-context: test
            clusters:
            - name: c
              cluster:
                server: https://127.0.0.1:6443
                certificate-authority-data: \(Data("CA PEM".utf8).base64EncodedString())
            users:
            - name: u
              user:
                client-certificate: certs/client.crt
                client-key-data: \(Data("KEY".utf8).base64EncodedString())
            - name: t
              user:
                token: sekret
            contexts:
            - name: test
              context: {cluster: c, user: t, namespace: flexlb-system}
            - name: cert
              context: {cluster: c, user: u}
            """
        let byToken = try KubeConfigLoader.parse(text, baseDirectory: "/nonexistent")
        #expect(byToken.server == "https://127.0.0.1:6443")
        #expect(byToken.caPEM == Array("CA PEM".utf8))
        #expect(byToken.currentToken() == "sekret")
        #expect(byToken.namespace == "flexlb-system")
        #expect(throws: KubeError.self) { try KubeConfigLoader.parse(text, baseDirectory: "/nonexistent", context: "cert") }
        #expect(throws: KubeError.self) { try KubeConfigLoader.parse(text, baseDirectory: "/", context: "missing") }
    }

    @Test func statusBodiesBecomeTypedErrors() {
        let body = Data(#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"services \"x\" not found","reason":"NotFound","code":404}"#.utf8)
        let error = KubeClient.error(status: 404, body: body)
        #expect(error.isNotFound)
        #expect(error.message == #"services "x" not found"#)
        #expect(KubeError(status: 410, reason: "Expired", message: "").isGone)
        #expect(KubeError(status: 409, reason: "AlreadyExists", message: "").isAlreadyExists)
    }

    @Test func resourcePaths() {
        #expect(ResourceKind.services.objectPath(namespace: "a", name: "b", subresource: "status") == "/api/v1/namespaces/a/services/b/status")
        #expect(ResourceKind.nodes.collectionPath(namespace: "ignored") == "/api/v1/nodes")
        #expect(ResourceKind.flexlbInstances.collectionPath(namespace: nil) == "/apis/crd.flexlb.flexlet.io/v1/flexlbinstances")
    }
}
