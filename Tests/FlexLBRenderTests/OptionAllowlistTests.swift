import FlexLBAPI
@testable import FlexLBRender
import Testing

/// The option allowlist: what 0.4 bodies and ordinary tenants write passes; every attack observed on
/// the denylist (issue 9) is refused with the field's path and the keyword.
@Suite struct OptionAllowlistTests {
    typealias Field = OptionAllowlist.Field

    static let accepted: [(Field, String)] = [
        (.bind, ""), (.bind, "accept-proxy"), (.bind, "alpn h2,http/1.1"), (.bind, "ssl-min-ver TLSv1.2 no-tls-tickets"),
        (.bind, "ciphers ECDHE-RSA-AES128-GCM-SHA256:!aNULL:!MD5"), (.bind, "maxconn 1000 backlog 100 tcp-ut 30s"),
        (.server, ""), (.server, "check"), (.server, "ssl check"),
        (.server, "inter 2s downinter 5s rise 2 fall 2 slowstart 60s maxconn 2000 maxqueue 2000 weight 100"),
        (.server, "check port 8081 addr 10.0.0.1"), (.server, "send-proxy-v2 check backup"),
        (.server, "ssl check sni str(api.example) verifyhost api.example"), (.server, "check 'weight' \"10\""),
        (.backendOption, "httpchk GET /"), (.backendOption, "httpchk"), (.backendOption, "httpchk GET /healthz HTTP/1.1"),
        (.backendOption, "forwardfor except 10.0.0.0/8 if-none"), (.backendOption, "redispatch"), (.backendOption, "http-keep-alive"),
        (.backendOption, "tcp-check"), (.backendOption, "mysql-check user haproxy"),
        (.httpCheck, "expect status 200"), (.httpCheck, "expect status 200-299"), (.httpCheck, "expect ! rstring ^ERR"),
        (.httpCheck, "send meth GET uri /healthz ver HTTP/1.1 hdr Host \"web6.example\""), (.httpCheck, "disable-on-404"),
        (.httpCheck, "connect port 8080"), (.httpCheck, "expect rstring ^OK$"),
        (.tcpCheck, "connect port 6379"), (.tcpCheck, "send 'PING'"), (.tcpCheck, "expect string +PONG"),
        (.tcpCheck, "send-binary 50494e47"), (.tcpCheck, "expect binary 504f4e47"), (.tcpCheck, "connect port 443 ssl sni api.example"),
        (.balance, "roundrobin"), (.balance, "leastconn"), (.balance, "uri whole"), (.balance, "uri len 10 depth 2"),
        (.balance, "hdr(Host)"), (.balance, "url_param userid"), (.balance, "random(2)"), (.balance, "rdp-cookie"), (.balance, "source"),
    ]

    @Test(arguments: accepted.indices)
    func tenantOptionsPass(index: Int) throws {
        let (field, value) = Self.accepted[index]
        try OptionAllowlist.check(value, field: field, at: "$.x")
    }

    /// (field, value, word the message must contain)
    static let refused: [(Field, String, String)] = [
        (.bind, "namespace ../../proc/1/ns/net", "namespace"), (.bind, "verify none", "verify"), (.bind, "interface lo", "interface"),
        (.bind, "accept-proxy crt /etc/shadow", "crt"), (.bind, "tls-ticket-keys /etc/shadow", "tls-ticket-keys"),
        (.bind, "ssl-min-ver SSLv3", "ssl-min-ver"), (.bind, "ciphers NULL", "ciphers"), (.bind, "ciphers ALL:eNULL", "ciphers"),
        (.bind, "ca-ignore-err all", "ca-ignore-err"), (.bind, "uid 0", "uid"), (.bind, "transparent", "transparent"),
        (.bind, "alpn h2 namespace x", "namespace"), (.bind, "ssl", "ssl"), (.bind, "expose-fd listeners", "expose-fd"),
        (.server, "check namespace x", "namespace"), (.server, "check addr unix@/var/lib/flexlb/run/other.sock", "unix@"),
        (.server, "source 10.0.0.1 usesrc clientip", "source"), (.server, "interface eth0", "interface"),
        (.server, "ssl verify none", "verify"), (.server, "check addr 10.0.0.1 port 0", "port"),
        (.server, "sni str(a),map(/etc/shadow,none)", "sni"), (.server, "sni env(HOME)", "sni"), (.server, "crt /etc/shadow", "crt"),
        (.server, "check-sni %[env(HOSTNAME)]", "%["), (.server, "resolvers x", "resolvers"), (.server, "socks4 1.2.3.4:1080", "socks4"),
        (.server, "check addr abns@x", "abns@"), (.server, "check addr ipv4@10.0.0.1", "ipv4@"), (.server, "track be/other", "track"),
        (.backendOption, "external-check", "external-check"), (.backendOption, "httpchk GET /%[env(HOME)]", "%["),
        (.backendOption, "transparent", "transparent"), (.backendOption, "nonsense-option", "nonsense-option"),
        (.backendOption, "forwardfor header X-%[env(HOME)]", "%["), (.backendOption, "redispatch crt /x", "crt"),
        (.httpCheck, "send hdr X %[env(HOME)]", "%["), (.httpCheck, "send uri-lf /x", "uri-lf"),
        (.httpCheck, "set-var(txn.x) str(a)", "set-var"), (.httpCheck, "connect addr unix@/x", "unix@"),
        (.httpCheck, "connect via-socks4", "via-socks4"), (.httpCheck, "expect string %{+Q}[env(HOME)]", "%{"),
        (.httpCheck, "expect hdr name x", "hdr"), (.httpCheck, "send body-lf x", "body-lf"),
        (.tcpCheck, "connect addr unix@/var/lib/flexlb/run/x.sock", "unix@"), (.tcpCheck, "connect addr abns@x", "abns@"),
        (.tcpCheck, "send-lf %[str(a),map(/etc/shadow,none)]", "%["), (.tcpCheck, "send-lf x", "send-lf"),
        (.tcpCheck, "expect rstring %[str(x)]", "%["), (.tcpCheck, "send-binary zz", "send-binary"),
        (.tcpCheck, "connect namespace ../../proc/1/ns/net", "namespace"),
        (.balance, "hash str(a),map(/etc/shadow,none)", "hash"), (.balance, "hdr(%[x])", "%["), (.balance, "nosuchalgo", "nosuchalgo"),
        (.balance, "roundrobin namespace x", "roundrobin"),
    ]

    @Test(arguments: refused.indices)
    func attacksAreRefusedNamingTheKeyword(index: Int) {
        let (field, value, word) = Self.refused[index]
        let error = #expect(throws: RenderError.self) { try OptionAllowlist.check(value, field: field, at: "$.endpoints[0].x") }
        #expect(error?.path == "$.endpoints[0].x")
        #expect(error?.message.contains(word) == true, "\(value): \(error?.message ?? "")")
    }

    @Test func checkTargetsAreReported() {
        #expect(OptionAllowlist.connectTargets("check addr 169.254.169.254 port 80", field: .server) == ["169.254.169.254"])
        #expect(OptionAllowlist.connectTargets("connect port 80 addr 127.0.0.1", field: .tcpCheck) == ["127.0.0.1"])
        #expect(OptionAllowlist.connectTargets("httpchk GET /", field: .backendOption).isEmpty)
    }

    @Test func theRendererRefusesTooWithTheFieldPath() throws {
        var instance = try Fixtures.template04()
        instance.config.endpoints[0].frontendOptions = "verify none"
        let error = #expect(throws: RenderError.self) { try HAProxyRenderer.render(instance, paths: Fixtures.paths) }
        #expect(error?.path == "$.endpoints[0].frontend_options")
        #expect(OptionAllowlist.violations(of: instance.config).map(\.path) == ["$.endpoints[0].frontend_options"])
    }

    @Test func the04BodiesPass() throws {
        #expect(OptionAllowlist.violations(of: try Fixtures.template04().config).isEmpty)
        #expect(OptionAllowlist.violations(of: Fixtures.tls.config).isEmpty)
    }
}
