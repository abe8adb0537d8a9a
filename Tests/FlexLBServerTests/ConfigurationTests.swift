import FlexLBDataPlane
@testable import FlexLBServer
import Logging
import Testing

@Suite struct ConfigurationTests {
    @Test func parsesKnownKeys() throws {
        let config = try NodeConfiguration.parse(yaml: """
            name: lb1
            tls_host: 127.0.0.1
            tls_port: 9443
            tls_cert: /c/server.crt
            tls_key: /c/server.key
            tls_ca_cert: /c/ca.crt
            data_dir: /tmp/x
            log_level: debug
            cluster:
              name: EDGE
            keepalived:
              min_virtual_router_id: 10
              max_virtual_router_id: 20
            """)
        #expect(config.name == "lb1")
        #expect(config.tlsPort == 9443)
        #expect(config.logLevel == .debug)
        #expect(config.clusterName == "EDGE")
        #expect(config.minVirtualRouterID == 10)
        #expect(config.databasePath == "/tmp/x/flexlb.db")
    }

    @Test(arguments: [
        ("tls_prot: 1", "unknown key tls_prot"),
        ("cluster:\n  nmae: x", "unknown key cluster.nmae"),
        ("tls_port: 70000", "tls_port: must be in 0...65535"),
        ("tls_port: abc", "tls_port: must be an integer"),
        ("log_level: loud", "log_level: must be one of"),
        ("name: \"a b\"", "name: must match"),
        ("cluster: 3", "cluster: must be a mapping"),
        ("keepalived:\n  min_virtual_router_id: 9\n  max_virtual_router_id: 8", "keepalived.min_virtual_router_id"),
        ("logs:\n  max_bytes: 10MB", "logs.max_bytes: must be a size"),
        ("logs:\n  max_bytes: 100", "logs.max_bytes: must be a size in 4096"),
        ("logs:\n  keep: -1", "logs.keep: must be in 0...100"),
        ("logs:\n  rotate: daily", "unknown key logs.rotate"),
        ("api:\n  request_head_timeout: 0", "api.request_head_timeout: must be a duration"),
    ])
    func rejectsBadKeysNamingThem(yaml: String, expected: String) {
        #expect {
            try NodeConfiguration.parse(yaml: yaml, source: "test.yaml")
        } throws: { error in
            "\(error)".contains(expected) && "\(error)".hasPrefix("test.yaml:")
        }
    }

    @Test func emptyFileGivesDefaults() throws {
        let config = try NodeConfiguration.parse(yaml: "")
        #expect(config.tlsPort == 8443)
        #expect(config.clusterName == "FLEXLB")
        #expect(config.logRotation.maxBytes == 10 << 20 && config.logRotation.keep == 3)
        #expect(config.connectionLimits.requestHeadTimeout == 10)
    }

    @Test func requestHeadTimeoutKey() throws {
        #expect(try NodeConfiguration.parse(yaml: "api: {request_head_timeout: 2s}").connectionLimits.requestHeadTimeout == 2)
    }

    @Test func logRotationKeys() throws {
        let config = try NodeConfiguration.parse(yaml: "logs: {max_bytes: 64KiB, keep: 0}")
        #expect(config.logRotation.maxBytes == 65536 && config.logRotation.keep == 0)
        #expect(try NodeConfiguration.parse(yaml: "logs: {max_bytes: 1048576}").logRotation.maxBytes == 1 << 20)
        #expect(try NodeConfiguration.parse(yaml: "logs: {max_bytes: 2GiB}").logRotation.maxBytes == 2 << 30)
    }
}
