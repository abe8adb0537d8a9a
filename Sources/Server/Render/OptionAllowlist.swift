/// What a tenant may write into the free-text option fields, as an allowlist per field.
///
/// The fields become HAProxy configuration read by a root process, so a denylist cannot work: HAProxy
/// 2.6 has hundreds of keywords, and many read files (`crt`, `map(...)`), reach other address
/// families (`unix@`, `abns@`), other network namespaces (`namespace`), the daemon's environment
/// (`env(...)`), or weaken what the structured TLS fields say (`verify none`). Only the keywords a
/// load-balancer tenant needs are accepted, each with the shape of its arguments; a refusal names the
/// field (JSON path) and the keyword.
///
/// Not accepted anywhere: sample expressions (`%[...]`, `%{...}`), address prefixes (`unix@`,
/// `ipv4@`…), file, namespace, interface, source-address and TLS-file/verify keywords.
public enum OptionAllowlist {
    /// The field an option string belongs to; each has its own grammar.
    public enum Field: Sendable, Hashable {
        /// `frontend_options`: appended to the `bind` line.
        case bind
        /// A server's `options`, and `backend_default_server` (`default-server` takes the same keywords).
        case server
        /// One `backend_options` entry: rendered as `option <entry>`.
        case backendOption
        /// One `backend_check_commands.commands` entry under `check_type: http-check`.
        case httpCheck
        /// One `backend_check_commands.commands` entry under `check_type: tcp-check`.
        case tcpCheck
        /// `balance`.
        case balance
    }

    /// Checks `value` (lexically, then against the field's grammar).
    /// - Throws: ``RenderError`` at `path` naming the refused keyword or argument.
    public static func check(_ value: String, field: Field, at path: String) throws(RenderError) {
        let tokens = try InputCheck.optionLine(value, at: path)
        for token in tokens { try general(token, at: path) }
        let slice = tokens[...]
        switch field {
        case .bind: try bindTable.parse(slice, at: path)
        case .server: try serverTable.parse(slice, at: path)
        case .backendOption: try backendOption(slice, at: path)
        case .httpCheck: try httpCheck(slice, at: path)
        case .tcpCheck: try tcpCheck(slice, at: path)
        case .balance: try balance(slice, at: path)
        }
    }

    /// The IP addresses an accepted option string makes HAProxy connect to (`addr`, `agent-addr`), so
    /// the address policy can judge health-check targets like backend addresses.
    public static func connectTargets(_ value: String, field: Field) -> [String] {
        guard field == .server || field == .httpCheck || field == .tcpCheck,
              let tokens = try? InputCheck.optionLine(value, at: "$") else { return [] }
        var found: [String] = []
        for (index, token) in tokens.enumerated() where (token == "addr" || token == "agent-addr") && index + 1 < tokens.count {
            found.append(tokens[index + 1])
        }
        return found
    }

    // MARK: Rules for every token

    static func general(_ token: String, at path: String) throws(RenderError) {
        if token.contains("%[") || token.contains("%{") {
            throw RenderError(.invalidValue, at: path, "must not contain sample expressions ('%[' or '%{'): they can read files and the environment")
        }
        if let at = token.firstIndex(of: "@"), at != token.startIndex {
            let prefix = token[..<at]
            if prefix.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" }) && !token.hasPrefix("@") && !prefix.contains("SECLEVEL") {
                throw RenderError(.invalidValue, at: path, "must not use the address prefix '\(prefix)@': only IP addresses are allowed")
            }
        }
    }

    static func refusal(_ keyword: String, kind: String) -> String {
        let shown = keyword.utf8.count > 40 ? String(keyword.prefix(40)) + "…" : keyword
        if let reason = forbiddenReasons[keyword] {
            return "'\(shown)' is not allowed: \(reason)"
        }
        return "'\(shown)' is not an allowed \(kind)"
    }

    static func argument(_ token: String, of keyword: String, shape: ArgumentShape, at path: String) throws(RenderError) {
        guard shape.accepts(token) else {
            let shown = token.utf8.count > 40 ? String(token.prefix(40)) + "…" : token
            throw RenderError(.invalidValue, at: path, "'\(keyword)' needs \(shape.summary), not '\(shown)'")
        }
    }

    /// Why well-known dangerous keywords are refused (a clearer message than "not allowed").
    static let forbiddenReasons: [String: String] = [
        "crt": "FlexLB writes TLS files itself (use the *_ssl_options fields)",
        "crt-list": "FlexLB writes TLS files itself (use the *_ssl_options fields)",
        "ca-file": "FlexLB writes TLS files itself (use the *_ssl_options fields)",
        "crl-file": "it reads a file on the node",
        "ca-verify-file": "it reads a file on the node",
        "ca-sign-file": "it reads a file on the node",
        "issuers-chain-path": "it reads a file on the node",
        "tls-ticket-keys": "it reads a file on the node",
        "verify": "the *_ssl_options fields decide certificate verification",
        "ca-ignore-err": "the *_ssl_options fields decide certificate verification",
        "crt-ignore-err": "the *_ssl_options fields decide certificate verification",
        "namespace": "it moves sockets into another network namespace",
        "interface": "it binds to a device chosen by the node, not the tenant",
        "source": "source addresses are chosen by the node",
        "usesrc": "source addresses are chosen by the node",
        "transparent": "it needs privileges the tenant does not have",
        "external-check": "it runs programs on the node",
        "via-socks4": "it connects through third-party proxies",
        "socks4": "it connects through third-party proxies",
        "set-var": "sample expressions can read files and the environment",
        "set-var-fmt": "sample expressions can read files and the environment",
        "unset-var": "sample expressions are not allowed",
        "send-lf": "log-format strings can read files and the environment",
        "send-binary-lf": "log-format strings can read files and the environment",
        "string-lf": "log-format strings can read files and the environment",
        "binary-lf": "log-format strings can read files and the environment",
        "uri-lf": "log-format strings can read files and the environment",
        "body-lf": "log-format strings can read files and the environment",
        "hash": "sample expressions can read files and the environment",
        "resolvers": "DNS resolution is not available to tenants",
        "ssl": "TLS on the listener is configured with frontend_ssl_options",
        "user": "socket ownership is chosen by the node",
        "uid": "socket ownership is chosen by the node",
        "gid": "socket ownership is chosen by the node",
        "group": "socket ownership is chosen by the node",
        "mode": "socket ownership is chosen by the node",
        "level": "admin sockets are not available to tenants",
        "expose-fd": "admin sockets are not available to tenants",
        "generate-certificates": "FlexLB writes TLS files itself (use the *_ssl_options fields)",
    ]

    // MARK: bind (frontend_options)

    static let tlsToggles = ["no-sslv3", "no-tlsv10", "no-tlsv11", "no-tlsv12", "no-tlsv13", "force-tlsv12", "force-tlsv13", "no-tls-tickets", "allow-0rtt"]

    static let bindTable = KeywordTable(kind: "frontend option (bind keyword)", keywords: {
        var keywords: [String: [ArgumentShape]] = [
            "accept-proxy": [], "accept-netscaler-cip": [.int(0...0xFFFF_FFFF)], "defer-accept": [], "tfo": [],
            "v4v6": [], "v6only": [], "strict-sni": [], "prefer-client-ciphers": [], "no-ca-names": [],
            "alpn": [.alpnList], "npn": [.alpnList], "ciphers": [.cipherList], "ciphersuites": [.cipherList],
            "curves": [.cipherList], "ecdhe": [.identifier],
            "ssl-min-ver": [.tlsVersion], "ssl-max-ver": [.tlsVersion],
            "backlog": [.int(1...65535)], "maxconn": [.int(1...1_000_000)], "mss": [.int(1...65535)],
            "nice": [.int(-1024...1024)], "tcp-ut": [.time], "name": [.identifier], "id": [.int(1...1_000_000)],
            "proto": [.oneOf(["h2"])],
        ]
        for toggle in tlsToggles { keywords[toggle] = [] }
        return keywords
    }())

    // MARK: server and default-server

    static let serverTable = KeywordTable(kind: "server option", keywords: {
        var keywords: [String: [ArgumentShape]] = [:]
        for flag in [
            "check", "no-check", "check-ssl", "no-check-ssl", "check-send-proxy", "ssl", "no-ssl", "backup", "no-backup",
            "disabled", "enabled", "send-proxy", "no-send-proxy", "send-proxy-v2", "no-send-proxy-v2", "send-proxy-v2-ssl",
            "send-proxy-v2-ssl-cn", "tfo", "no-tfo", "no-ssl-reuse", "no-verifyhost", "agent-check", "no-agent-check",
            "non-stick", "stick",
        ] { keywords[flag] = [] }
        for toggle in tlsToggles { keywords[toggle] = [] }
        for timed in ["inter", "fastinter", "downinter", "slowstart", "agent-inter", "pool-purge-delay"] { keywords[timed] = [.time] }
        keywords["rise"] = [.int(1...1000)]
        keywords["fall"] = [.int(1...1000)]
        keywords["weight"] = [.int(0...256)]
        keywords["maxconn"] = [.int(0...1_000_000)]
        keywords["minconn"] = [.int(0...1_000_000)]
        keywords["maxqueue"] = [.int(0...1_000_000)]
        keywords["error-limit"] = [.int(1...1000)]
        keywords["pool-max-conn"] = [.int(-1...100_000)]
        keywords["pool-low-conn"] = [.int(0...100_000)]
        keywords["max-reuse"] = [.int(-1...1_000_000)]
        keywords["id"] = [.int(1...1_000_000)]
        keywords["port"] = [.port]
        keywords["agent-port"] = [.port]
        keywords["addr"] = [.ipAddress]
        keywords["agent-addr"] = [.ipAddress]
        keywords["observe"] = [.oneOf(["layer4", "layer7"])]
        keywords["on-error"] = [.oneOf(["fastinter", "fail-check", "sudden-death", "mark-down"])]
        keywords["on-marked-down"] = [.oneOf(["shutdown-sessions"])]
        keywords["on-marked-up"] = [.oneOf(["shutdown-backup-sessions"])]
        keywords["cookie"] = [.identifier]
        keywords["check-sni"] = [.hostname]
        keywords["verifyhost"] = [.hostname]
        keywords["sni"] = [.sniExpression]
        keywords["alpn"] = [.alpnList]
        keywords["check-alpn"] = [.alpnList]
        keywords["ciphers"] = [.cipherList]
        keywords["ciphersuites"] = [.cipherList]
        keywords["ssl-min-ver"] = [.tlsVersion]
        keywords["ssl-max-ver"] = [.tlsVersion]
        keywords["proto"] = [.oneOf(["h2"])]
        keywords["check-proto"] = [.oneOf(["h2"])]
        keywords["ws"] = [.oneOf(["auto", "h1", "h2"])]
        return keywords
    }())

    // MARK: option (backend_options)

    static let backendFlags: Set<String> = [
        "httpchk", "tcp-check", "ssl-hello-chk", "redis-check", "ldap-check", "spop-check", "redispatch",
        "allbackups", "abortonclose", "http-server-close", "http-keep-alive", "httpclose", "http-buffer-request",
        "persist", "prefer-last-server", "srvtcpka", "tcpka", "clitcpka", "splice-auto", "splice-request",
        "splice-response", "log-health-checks", "checkcache", "http-pretend-keepalive", "http-no-delay", "nolinger",
        "independent-streams", "tcplog", "httplog", "dontlognull", "log-separate-errors", "forwardfor", "originalto",
        "http-ignore-probes", "http-use-proxy-header",
    ]

    static func backendOption(_ tokens: ArraySlice<String>, at path: String) throws(RenderError) {
        guard let keyword = tokens.first else {
            throw RenderError(.invalidValue, at: path, "must name an option such as httpchk")
        }
        guard backendFlags.contains(keyword) || ["smtpchk", "mysql-check", "pgsql-check"].contains(keyword) else {
            throw RenderError(.invalidValue, at: path, refusal(keyword, kind: "backend option"))
        }
        let rest = Array(tokens.dropFirst())
        switch keyword {
        case "httpchk":
            // httpchk [<uri>] | <method> <uri> [<version>]
            switch rest.count {
            case 0: return
            case 1: try argument(rest[0], of: keyword, shape: .uri, at: path)
            case 2, 3:
                try argument(rest[0], of: keyword, shape: .method, at: path)
                try argument(rest[1], of: keyword, shape: .uri, at: path)
                if rest.count == 3 { try argument(rest[2], of: keyword, shape: .httpVersion, at: path) }
            default: throw RenderError(.invalidValue, at: path, "'httpchk' takes at most a method, a URI and a version")
            }
        case "forwardfor":
            try KeywordTable(kind: "forwardfor argument", keywords: ["except": [.network], "header": [.headerName], "if-none": []])
                .parse(rest[...], at: path)
        case "originalto":
            try KeywordTable(kind: "originalto argument", keywords: ["except": [.network], "header": [.headerName]])
                .parse(rest[...], at: path)
        case "smtpchk":
            guard rest.isEmpty || rest.count == 2 else { throw RenderError(.invalidValue, at: path, "'smtpchk' takes no argument or HELO|EHLO and a domain") }
            if rest.count == 2 {
                try argument(rest[0], of: keyword, shape: .oneOf(["HELO", "EHLO"]), at: path)
                try argument(rest[1], of: keyword, shape: .hostname, at: path)
            }
        case "mysql-check", "pgsql-check":
            try KeywordTable(kind: "\(keyword) argument", keywords: ["user": [.identifier], "post-41": []]).parse(rest[...], at: path)
        default:
            if let extra = rest.first {
                throw RenderError(.invalidValue, at: path, "'\(keyword)' takes no argument (found '\(extra.prefix(40))')")
            }
        }
    }

    // MARK: http-check and tcp-check

    static let connectTable = KeywordTable(kind: "connect option", keywords: [
        "default": [], "port": [.port], "addr": [.ipAddress], "send-proxy": [], "ssl": [], "sni": [.hostname],
        "alpn": [.alpnList], "linger": [], "proto": [.oneOf(["h2"])], "comment": [.text],
    ])

    static let sendTable = KeywordTable(kind: "http-check send option", keywords: [
        "meth": [.method], "uri": [.uri], "ver": [.httpVersion], "hdr": [.headerName, .text], "body": [.text], "comment": [.text],
    ])

    static func httpCheck(_ tokens: ArraySlice<String>, at path: String) throws(RenderError) {
        guard let verb = tokens.first else { throw RenderError(.invalidValue, at: path, "must name an http-check command") }
        let rest = tokens.dropFirst()
        switch verb {
        case "expect": try expect(rest, matches: ["status": .statusList, "rstatus": .text, "string": .text, "rstring": .text], at: path)
        case "send": try sendTable.parse(rest, at: path)
        case "connect": try connectTable.parse(rest, at: path)
        case "disable-on-404", "send-state":
            if let extra = rest.first { throw RenderError(.invalidValue, at: path, "'\(verb)' takes no argument (found '\(extra.prefix(40))')") }
        case "comment":
            guard rest.count == 1 else { throw RenderError(.invalidValue, at: path, "'comment' takes one argument") }
        default:
            throw RenderError(.invalidValue, at: path, refusal(verb, kind: "http-check command"))
        }
    }

    static func tcpCheck(_ tokens: ArraySlice<String>, at path: String) throws(RenderError) {
        guard let verb = tokens.first else { throw RenderError(.invalidValue, at: path, "must name a tcp-check command") }
        let rest = tokens.dropFirst()
        switch verb {
        case "expect": try expect(rest, matches: ["string": .text, "rstring": .text, "binary": .hex, "rbinary": .text], at: path)
        case "connect": try connectTable.parse(rest, at: path)
        case "send", "send-binary":
            guard rest.count == 1 || (rest.count == 3 && rest[rest.startIndex + 1] == "comment") else {
                throw RenderError(.invalidValue, at: path, "'\(verb)' takes one argument (and an optional comment)")
            }
            try argument(rest[rest.startIndex], of: verb, shape: verb == "send" ? .text : .hex, at: path)
        case "comment":
            guard rest.count == 1 else { throw RenderError(.invalidValue, at: path, "'comment' takes one argument") }
        default:
            throw RenderError(.invalidValue, at: path, refusal(verb, kind: "tcp-check command"))
        }
    }

    /// `expect [min-recv n] [comment t] [ok-status s] [error-status s] [tout-status s] [!] <match> <pattern>`.
    static func expect(_ tokens: ArraySlice<String>, matches: [String: ArgumentShape], at path: String) throws(RenderError) {
        let statuses: ArgumentShape = .oneOf(["L7OK", "L7OKC", "L6OK", "L4OK", "L7RSP", "L7STS", "L6RSP", "L4CON"])
        let prefix: [String: ArgumentShape] = [
            "min-recv": .int(-1...65536), "comment": .text, "ok-status": statuses, "error-status": statuses, "tout-status": statuses,
        ]
        var index = tokens.startIndex
        while index < tokens.endIndex, let shape = prefix[tokens[index]] {
            guard index + 1 < tokens.endIndex else { throw RenderError(.invalidValue, at: path, "'\(tokens[index])' needs \(shape.summary)") }
            try argument(tokens[index + 1], of: tokens[index], shape: shape, at: path)
            index += 2
        }
        if index < tokens.endIndex, tokens[index] == "!" { index += 1 }
        guard index < tokens.endIndex else {
            throw RenderError(.invalidValue, at: path, "'expect' needs one of \(matches.keys.sorted().joined(separator: ", ")) and a pattern")
        }
        let match = tokens[index]
        guard let shape = matches[match] else {
            throw RenderError(.invalidValue, at: path, refusal(match, kind: "expect match (use \(matches.keys.sorted().joined(separator: ", ")))"))
        }
        guard index + 2 == tokens.endIndex else {
            throw RenderError(.invalidValue, at: path, "'expect \(match)' takes exactly one pattern (quote patterns with spaces)")
        }
        try argument(tokens[index + 1], of: match, shape: shape, at: path)
    }

    // MARK: balance

    static func balance(_ tokens: ArraySlice<String>, at path: String) throws(RenderError) {
        guard let algorithm = tokens.first else { throw RenderError(.invalidValue, at: path, "must name an algorithm such as roundrobin") }
        let rest = tokens.dropFirst()
        switch algorithm {
        case "roundrobin", "static-rr", "leastconn", "first", "source", "random":
            if let extra = rest.first { throw RenderError(.invalidValue, at: path, "'\(algorithm)' takes no argument (found '\(extra.prefix(40))')") }
        case "uri":
            try KeywordTable(kind: "balance uri argument", keywords: ["len": [.int(1...4096)], "depth": [.int(1...64)], "whole": [], "path-only": []])
                .parse(rest, at: path)
        case "url_param":
            guard let parameter = rest.first else { throw RenderError(.invalidValue, at: path, "'url_param' needs a parameter name") }
            try argument(parameter, of: algorithm, shape: .identifier, at: path)
            try KeywordTable(kind: "balance url_param argument", keywords: ["check_post": [.int(1...1_048_576)], "max_wait": [.int(1...1_048_576)]])
                .parse(rest.dropFirst(), at: path)
        default:
            // hdr(<name>), random(<draws>), rdp-cookie[(<name>)]: the argument is part of the token.
            if let open = algorithm.firstIndex(of: "("), algorithm.hasSuffix(")") {
                let name = String(algorithm[..<open])
                let inner = String(algorithm[algorithm.index(after: open)..<algorithm.index(before: algorithm.endIndex)])
                let shape: ArgumentShape? = switch name {
                case "hdr", "rdp-cookie": .headerName
                case "random": .int(1...100)
                default: nil
                }
                if let shape {
                    try argument(inner, of: name, shape: shape, at: path)
                    if name == "hdr" {
                        try KeywordTable(kind: "balance hdr argument", keywords: ["use_domain_only": []]).parse(rest, at: path)
                    } else if let extra = rest.first {
                        throw RenderError(.invalidValue, at: path, "'\(name)' takes no further argument (found '\(extra.prefix(40))')")
                    }
                    return
                }
            }
            if algorithm == "rdp-cookie", rest.isEmpty { return }
            throw RenderError(.invalidValue, at: path, refusal(algorithm, kind: "balance algorithm"))
        }
    }
}
