import Foundation
import FlexLBAPI
import FlexLBRender
import Testing

/// Small cases for decisions the golden files do not show on their own.
@Suite struct RenderBehaviourTests {
    @Test func udpIsRefusedAsUnsupported() throws {
        var instance = try Fixtures.template04()
        instance.config.endpoints[0].mode = .udp
        let error = #expect(throws: RenderError.self) { try HAProxyRenderer.render(instance, paths: Fixtures.paths) }
        #expect(error?.code == .unsupported)
        #expect(error?.path == "$.endpoints[0].mode")
    }

    @Test func stoppedInstancesGetNoVRRPInstance() throws {
        let running = try Fixtures.template04()
        let stopped = try Fixtures.stopped()
        let text = try KeepalivedRenderer.render(instances: [stopped, running], node: Fixtures.singleNode, paths: Fixtures.paths)
        #expect(text.contains("# FlexLB instances: demo\nvrrp_instance flexlb_vr51_v4 {"))
        #expect(!text.contains("paused"))
        #expect(!text.contains("10.99.1.102"))
    }

    @Test func outputIsSortedByNameWhateverTheInputOrder() throws {
        let instances = [try Fixtures.template04(), Fixtures.tls, Fixtures.httpIPv6]
        let forward = try KeepalivedRenderer.render(instances: instances, node: Fixtures.singleNode, paths: Fixtures.paths)
        let backward = try KeepalivedRenderer.render(instances: instances.reversed(), node: Fixtures.singleNode, paths: Fixtures.paths)
        #expect(forward == backward)
    }

    @Test func noAuthenticationAndNoScripts() throws {
        let text = try KeepalivedRenderer.render(instances: [try Fixtures.template04()], node: Fixtures.clusterNode, paths: Fixtures.paths)
        #expect(!text.contains("authentication"))
        #expect(!text.contains("script"))
        #expect(text.contains("vrrp_version 3"))
    }

    @Test(arguments: [(1.0, "1"), (0.1, "0.1"), (0.25, "0.25"), (0.05, "0.05"), (2.5, "2.5"), (40.95, "40.95")])
    func advertIntervalIsRenderedInCentiseconds(seconds: Double, rendered: String) throws {
        var node = Fixtures.singleNode
        node.advertInterval = seconds
        let text = try KeepalivedRenderer.render(instances: [try Fixtures.template04()], node: node, paths: Fixtures.paths)
        #expect(text.contains("    advert_int \(rendered)\n"))
    }

    @Test(arguments: [0.0, 0.001, 41, -1, .nan, .infinity])
    func advertIntervalOutOfRangeIsRefused(seconds: Double) {
        var node = Fixtures.singleNode
        node.advertInterval = seconds
        let error = #expect(throws: RenderError.self) { try KeepalivedRenderer.render(instances: [], node: node, paths: Fixtures.paths) }
        #expect(error?.path == "node.advertInterval")
    }

    @Test(arguments: [0, 256, -3])
    func priorityOutOfRangeIsRefused(priority: Int) {
        var node = Fixtures.singleNode
        node.priority = priority
        #expect(throws: RenderError.self) { try KeepalivedRenderer.render(instances: [], node: node, paths: Fixtures.paths) }
    }

    @Test(arguments: [0, 256])
    func virtualRouterIDOutOfRangeIsRefused(id: Int) throws {
        var instance = try Fixtures.template04()
        instance.virtualRouterID = id
        #expect(throws: RenderError.self) { try KeepalivedRenderer.render(instances: [instance], node: Fixtures.singleNode, paths: Fixtures.paths) }
    }

    @Test func instancesSharingAVirtualRouterIDShareOneVRRPInstance() throws {
        var other = Fixtures.tls
        other.virtualRouterID = 51
        let conf = try KeepalivedRenderer.render(instances: [try Fixtures.template04(), other], node: Fixtures.singleNode, paths: Fixtures.paths)
        #expect(conf.components(separatedBy: "vrrp_instance ").count == 2)
        #expect(conf.contains("# FlexLB instances: demo secure\nvrrp_instance flexlb_vr51_v4 {"))
        #expect(conf.contains("        10.99.1.100/24 dev eth0\n        10.99.1.101/24 dev eth0\n"))
    }

    @Test func oneVirtualRouterIDOnAnotherInterfaceOrFamilyIsItsOwnVRRPInstance() throws {
        // Two nodes may pick one VRID concurrently for instances of different interfaces or
        // families: each interface and family is its own VRRP segment, so they get their own blocks.
        var v6 = Fixtures.httpIPv6
        v6.virtualRouterID = 51
        var eth1 = Fixtures.tls
        eth1.virtualRouterID = 51
        eth1.config.frontendInterface = "eth1"
        let conf = try KeepalivedRenderer.render(instances: [try Fixtures.template04(), v6, eth1], node: Fixtures.singleNode, paths: Fixtures.paths)
        #expect(conf.components(separatedBy: "vrrp_instance ").count == 4)
        #expect(conf.contains("vrrp_instance flexlb_vr51_v6 {"))
        #expect(conf.contains("vrrp_instance flexlb_vr51_v4_eth0 {"))
        #expect(conf.contains("vrrp_instance flexlb_vr51_v4_eth1 {"))
    }

    @Test func unicastPeersWithoutTheVIPFamilyAreRefused() throws {
        var node = Fixtures.clusterNode
        node.unicastPeers = ["10.99.0.10"]
        let error = #expect(throws: RenderError.self) {
            try KeepalivedRenderer.render(instances: [Fixtures.httpIPv6], node: node, paths: Fixtures.paths)
        }
        #expect(error?.path == "node.unicastPeers")
    }

    @Test(arguments: [("10.99.1.100", 33), ("10.99.1.100", 7), ("fd00::1", 129)])
    func prefixMustFitTheAddressFamily(address: String, prefix: Int) throws {
        var instance = try Fixtures.template04()
        instance.config.frontendIpaddress = address
        instance.config.frontendNetPrefix = prefix
        let error = #expect(throws: RenderError.self) {
            try KeepalivedRenderer.render(instances: [instance], node: Fixtures.singleNode, paths: Fixtures.paths)
        }
        #expect(error?.path == "$.frontend_net_prefix")
    }

    @Test func duplicatePortsAndServerNamesAreRefused() throws {
        var instance = try Fixtures.template04()
        instance.config.endpoints.append(instance.config.endpoints[0])
        var error = #expect(throws: RenderError.self) { try HAProxyRenderer.render(instance, paths: Fixtures.paths) }
        #expect(error?.path == "$.endpoints[1].frontend_port")
        #expect(error?.code == .duplicate)

        instance = try Fixtures.template04()
        instance.config.endpoints[0].backendServers[2].name = "web1"
        error = #expect(throws: RenderError.self) { try HAProxyRenderer.render(instance, paths: Fixtures.paths) }
        #expect(error?.path == "$.endpoints[0].backend_servers[2].name")
    }

    @Test func pemFilesAreNamedPerInstancePortAndServer() throws {
        let rendered = try HAProxyRenderer.render(Fixtures.tls, paths: Fixtures.paths)
        #expect(rendered.files.map(\.relativePath) == [
            "secure/8443-frontend.pem", "secure/8443-frontend-ca.pem",
            "secure/8443-api1-client.pem", "secure/8443-api1-ca.pem",
            "secure/8443-api2-client.pem",
            "secure/9443-frontend.pem",
        ])
        #expect(rendered.files[0].contents == Fixtures.cert + Fixtures.key)
        #expect(rendered.files[1].contents == Fixtures.caCert)
        for file in rendered.files {
            #expect(rendered.config.contains(Fixtures.paths.absolutePath(of: file)))
        }
    }

    @Test func pemWithoutFinalNewlineStillConcatenatesCleanly() throws {
        var instance = Fixtures.tls
        instance.config.endpoints[1].frontendSslOptions!.serverCert = String(Fixtures.cert.dropLast())
        let rendered = try HAProxyRenderer.render(instance, paths: Fixtures.paths)
        #expect(rendered.files.last?.contents == Fixtures.cert + Fixtures.key)
    }

    @Test func frontendVerifyWithoutCAIsRefused() {
        var instance = Fixtures.tls
        instance.config.endpoints[1].frontendSslOptions!.verify = .required
        let error = #expect(throws: RenderError.self) { try HAProxyRenderer.render(instance, paths: Fixtures.paths) }
        #expect(error?.path == "$.endpoints[1].frontend_ssl_options.verify")
    }

    @Test func backendTLSWithoutCAOrVerifyNoneIsRefused() {
        var instance = Fixtures.tls
        instance.config.endpoints[0].backendServers[1].checkSslOptions!.verify = nil
        let error = #expect(throws: RenderError.self) { try HAProxyRenderer.render(instance, paths: Fixtures.paths) }
        #expect(error?.path == "$.endpoints[0].backend_servers[1].check_ssl_options.ca_cert")
    }

    @Test func overlongSocketPathIsRefused() throws {
        let paths = RenderPaths(haproxyRunDir: "/" + String(repeating: "r", count: 95), pemDir: "/pem")
        let error = #expect(throws: RenderError.self) { try HAProxyRenderer.render(try Fixtures.template04(), paths: paths) }
        #expect(error?.path == "paths.haproxyRunDir")
    }

    @Test func runtimePathsComeFromRenderPaths() {
        let paths = RenderPaths(haproxyRunDir: "/run/x/", pemDir: "/pem/")
        #expect(paths.statsSocket(instance: "demo") == "/run/x/demo.sock")
        #expect(paths.masterSocket(instance: "demo") == "/run/x/demo-master.sock")
        #expect(paths.pidFile(instance: "demo") == "/run/x/demo.pid")
        #expect(paths.pemDirectory(instance: "demo") == "/pem/demo")
    }
}
