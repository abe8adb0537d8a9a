import PackagePlugin

/// Runs flexlb-openapi-generator on the package's openapi.yaml and declares every output file.
@main
struct FlexLBGeneratorPlugin: BuildToolPlugin {
    /// Must match `generatedFileNames` in GeneratorCore (the generator always writes exactly these).
    static let files = ["Models.swift", "Operations.swift", "Router.swift", "Client.swift"]

    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let spec = context.package.directoryURL.appending(path: "openapi.yaml")
        let out = context.pluginWorkDirectoryURL.appending(path: "GeneratedSources")
        return [.buildCommand(
            displayName: "Generating FlexLB API from openapi.yaml",
            executable: try context.tool(named: "flexlb-openapi-generator").url,
            arguments: ["--input", spec.path(percentEncoded: false), "--output", out.path(percentEncoded: false)],
            inputFiles: [spec],
            outputFiles: Self.files.map { out.appending(path: $0) }
        )]
    }
}
