// swift-tools-version: 6.1
import PackageDescription

/// Swift 6 language mode everywhere, plus the upcoming features our style guide asks for.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "flexlb",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "flexlbd", targets: ["flexlbd"]),
        .executable(name: "flexlb", targets: ["flexlb"]),
        .library(name: "FlexLBAPI", targets: ["FlexLBAPI"]),
        .library(name: "FlexLBClient", targets: ["FlexLBClient"]),
        .executable(name: "flexlb-kube-controller", targets: ["flexlb-kube-controller"]),
    ],
    dependencies: [
        // The generator (core, tool, build plugin) is its own package so it builds and tests on its own.
        .package(path: "Plugins/Generator"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0", traits: []),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        // MARK: API (generated from openapi.yaml by our build plugin)
        .target(
            name: "FlexLBAPI",
            dependencies: [.product(name: "HTTPTypes", package: "swift-http-types")],
            path: "Sources/Generated",
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "FlexLBGeneratorPlugin", package: "Generator")]
        ),

        // MARK: Server
        // The domain model: replicated instance records, hybrid logical clock, binary codec. No dependencies.
        .target(
            name: "FlexLBModel",
            path: "Sources/Server/Model",
            swiftSettings: swiftSettings
        ),
        // Pure cluster state machines: SWIM membership, anti-entropy. Events and time in, directives out.
        .target(
            name: "FlexLBCluster",
            dependencies: ["FlexLBModel"],
            path: "Sources/Server/Cluster",
            swiftSettings: swiftSettings
        ),
        // The gossip network shell: encrypted UDP datagrams and TCP request/response frames.
        .target(
            name: "FlexLBGossip",
            dependencies: [
                "FlexLBModel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Server/Gossip",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FlexLBRender",
            dependencies: ["FlexLBAPI"],
            path: "Sources/Server/Render",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FlexLBStore",
            dependencies: [
                "FlexLBModel",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Sources/Server/Store",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FlexLBSupervisor",
            path: "Sources/Server/Supervisor",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FlexLBDataPlane",
            dependencies: [
                "FlexLBAPI",
                "FlexLBModel",
                "FlexLBRender",
                "FlexLBStore",
                "FlexLBSupervisor",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Server/DataPlane",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FlexLBServer",
            dependencies: [
                "FlexLBAPI",
                "FlexLBModel",
                "FlexLBCluster",
                "FlexLBGossip",
                "FlexLBStore",
                "FlexLBDataPlane",
                "FlexLBRender",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Sources/Server/App",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "flexlbd",
            dependencies: [
                "FlexLBServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Server/flexlbd",
            swiftSettings: swiftSettings
        ),

        // MARK: Client
        .target(
            name: "FlexLBClient",
            dependencies: [
                "FlexLBAPI",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Client/FlexLBClient",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FlexLBCerts",
            dependencies: [
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            path: "Sources/Client/Certs",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "flexlb",
            dependencies: [
                "FlexLBClient",
                "FlexLBCerts",
                "FlexLBAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Sources/Client/flexlb",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "flexlb-bench",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/Client/bench",
            swiftSettings: swiftSettings
        ),

        // MARK: Kubernetes controller
        // A small Kubernetes API client: kubeconfig/in-cluster auth, typed models, list + watch.
        .target(
            name: "FlexLBKube",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Sources/Controller/KubeClient",
            swiftSettings: swiftSettings
        ),
        // Pure cores (IP ledger, Service mapping, work queue, leader election) and their shells.
        .target(
            name: "FlexLBKubeController",
            dependencies: [
                "FlexLBKube", "FlexLBClient", "FlexLBAPI",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Controller/Controller",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "flexlb-kube-controller",
            dependencies: [
                "FlexLBKube", "FlexLBKubeController",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Controller/main",
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        .testTarget(
            name: "FlexLBServerTests",
            dependencies: [
                "FlexLBServer", "FlexLBStore", "FlexLBAPI", "FlexLBDataPlane",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/FlexLBServerTests",
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FlexLBModelTests",
            dependencies: ["FlexLBModel"],
            path: "Tests/FlexLBModelTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FlexLBClusterTests",
            dependencies: ["FlexLBCluster", "FlexLBModel"],
            path: "Tests/FlexLBClusterTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FlexLBGossipTests",
            dependencies: [
                "FlexLBGossip", "FlexLBModel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/FlexLBGossipTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FlexLBRenderTests",
            dependencies: ["FlexLBRender", "FlexLBAPI"],
            path: "Tests/FlexLBRenderTests",
            resources: [.copy("Golden")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FlexLBTestKit",
            dependencies: ["FlexLBSupervisor"],
            path: "Tests/TestKit",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FlexLBDataPlaneTests",
            dependencies: ["FlexLBSupervisor", "FlexLBDataPlane", "FlexLBStore", "FlexLBAPI", "FlexLBModel", "FlexLBRender", "FlexLBTestKit"],
            path: "Tests/FlexLBDataPlaneTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FlexLBIntegrationTests",
            dependencies: [
                "FlexLBServer", "FlexLBClient", "FlexLBCerts", "FlexLBAPI",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/FlexLBIntegrationTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FlexLBClientTests",
            dependencies: [
                "FlexLBClient", "FlexLBCerts", "FlexLBAPI",
                .product(name: "X509", package: "swift-certificates"),
            ],
            path: "Tests/FlexLBClientTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FlexLBKubeTests",
            dependencies: ["FlexLBKube", "FlexLBKubeController", "FlexLBAPI"],
            path: "Tests/FlexLBKubeTests",
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
    ]
)
