// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Generator",
    platforms: [.macOS(.v15)],
    products: [
        .plugin(name: "FlexLBGeneratorPlugin", targets: ["FlexLBGeneratorPlugin"]),
        .executable(name: "flexlb-openapi-generator", targets: ["flexlb-openapi-generator"]),
        .library(name: "GeneratorCore", targets: ["GeneratorCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/mattpolzin/OpenAPIKit.git", from: "6.4.0", traits: []),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        .target(
            name: "GeneratorCore",
            dependencies: [
                .product(name: "OpenAPIKit30", package: "OpenAPIKit"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Core",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "flexlb-openapi-generator",
            dependencies: [
                "GeneratorCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tool",
            swiftSettings: swiftSettings
        ),
        .plugin(
            name: "FlexLBGeneratorPlugin",
            capability: .buildTool(),
            dependencies: ["flexlb-openapi-generator"],
            path: "Plugin"
        ),
        .testTarget(
            name: "GeneratorCoreTests",
            dependencies: ["GeneratorCore"],
            path: "Tests/GeneratorCoreTests",
            resources: [.copy("Golden")],
            swiftSettings: swiftSettings
        ),
    ]
)
