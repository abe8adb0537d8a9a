import FlexLBClient
import Testing

@Suite struct APIEndpointTests {
    @Test(arguments: [
        ("https://127.0.0.1:8443", "127.0.0.1", 8443, "https://127.0.0.1:8443"),
        ("https://lb.example.com:9443/", "lb.example.com", 9443, "https://lb.example.com:9443"),
        ("10.0.0.2:8443", "10.0.0.2", 8443, "https://10.0.0.2:8443"),
        ("https://[::1]:8443", "::1", 8443, "https://[::1]:8443"),
        ("https://[fd00::2]", "fd00::2", 8443, "https://[fd00::2]:8443"),
        ("lb.example.com", "lb.example.com", 8443, "https://lb.example.com:8443"),
        (" https://h:1 ", "h", 1, "https://h:1"),
    ])
    func parses(text: String, host: String, port: Int, url: String) throws {
        let endpoint = try APIEndpoint(parsing: text)
        #expect(endpoint.host == host)
        #expect(endpoint.port == port)
        #expect(endpoint.url == url)
    }

    @Test(arguments: ["http://127.0.0.1:8443", "https://h:0", "https://h:70000", "https://h:x", "", "https://[::1", "https://h/path"])
    func rejects(text: String) {
        #expect(throws: FlexLBError.self) { try APIEndpoint(parsing: text) }
    }
}
