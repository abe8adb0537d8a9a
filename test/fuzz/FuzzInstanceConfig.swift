// libFuzzer entry point over the real FlexLB code: JSON decoding and schema validation of
// `InstanceConfig` (the generated FlexLBAPI models), the option allowlist, and both renderers.
// Built by test/fuzz/run-fuzz.sh with `swiftc -sanitize=fuzzer,address`; any crash, trap or
// sanitizer report fails the run.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let paths = RenderPaths(haproxyRunDir: "/var/lib/flexlb/run", pemDir: "/var/lib/flexlb/pem", keepalivedNotifyFifo: "/var/lib/flexlb/notify.fifo")
    for strict in [true, false] {
        if let config = try? InstanceConfig.decode(jsonBytes: bytes, strict: strict) {
            _ = OptionAllowlist.violations(of: config)
            let instance = DesiredInstance(virtualRouterID: 1 + bytes.count % 255, config: config)
            if let rendered = try? HAProxyRenderer.render(instance, paths: paths) {
                // Whatever renders must still be one directive per line with no user-made section.
                for line in rendered.config.split(separator: "\n") where line.hasPrefix("backend ") || line.hasPrefix("frontend ") {
                    precondition(line.hasPrefix("backend be_") || line.hasPrefix("frontend fe_"), "user text opened a section: \(line)")
                }
            }
            _ = try? KeepalivedRenderer.render(instances: [instance], node: NodeSettings(routerID: "fuzz"), paths: paths)
        }
    }
    // The raw input as an option string of every field.
    let text = String(decoding: bytes, as: UTF8.self)
    for field: OptionAllowlist.Field in [.bind, .server, .backendOption, .httpCheck, .tcpCheck, .balance] {
        if (try? OptionAllowlist.check(text, field: field, at: "$.x")) != nil {
            precondition(!text.contains("\n") && !text.contains("#") && !text.contains("%["), "accepted: \(text)")
            _ = OptionAllowlist.connectTargets(text, field: field)
        }
    }
    return 0
}
