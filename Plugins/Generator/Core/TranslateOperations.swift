import OpenAPIKit30

extension TranslationState {
    static func schema(_ either: Either<JSONReference<JSONSchema>, JSONSchema>) -> JSONSchema {
        switch either {
        case .a(let ref): .reference(ref)
        case .b(let schema): schema
        }
    }

    /// Header names are case-insensitive: each word is lowercased before camel-casing
    /// (`ETag` → `etag`, `If-Match` → `ifMatch`).
    static func headerMember(_ name: String) -> String { Names.member(Names.words(name).map { $0.lowercased() }.joined(separator: "-")) }

    mutating func translateOperations() {
        for (path, itemEither) in document.paths {
            guard case .b(let item) = itemEither else {
                diag("path item references are not supported", path.rawValue)
                continue
            }
            for endpoint in item.endpoints {
                if let op = translateOperation(endpoint.operation, method: endpoint.method.rawValue, path: path.rawValue,
                                               shared: item.parameters) {
                    operations.append(op)
                }
            }
        }
    }

    mutating func translateOperation(
        _ operation: OpenAPI.Operation, method: String, path: String, shared: OpenAPI.Parameter.Array
    ) -> IROperation? {
        let location = "#/paths/\(path)/\(method.lowercased())"
        guard let id = operation.operationId else {
            diag("operationId is required", location)
            return nil
        }
        var parameters: [IRParameter] = []
        for either in shared + operation.parameters {
            guard let parameter = document.components[either] else {
                diag("unresolvable parameter", location)
                continue
            }
            let loc: ParameterLocation
            switch parameter.location {
            case .path: loc = .path
            case .query: loc = .query
            case .header: loc = .header
            case .cookie:
                diag("cookie parameters are not supported", location)
                continue
            }
            guard let schemaEither = parameter.schemaOrContent.schemaContextValue?.schema else {
                diag("parameter \(parameter.name) needs a schema", location)
                continue
            }
            var nested: [IREnum] = []
            let type = self.type(of: Self.schema(schemaEither), enumName: Names.upperCamel(parameter.name), enumOwner: nil,
                                 nested: &nested, location: location + "/parameters/\(parameter.name)").type
            if !nested.isEmpty { diag("inline enums in parameters are not supported", location) }
            switch type {
            case .string, .integer: break
            default: diag("parameter \(parameter.name): only string and integer parameters are supported", location)
            }
            let swiftName = loc == .header ? Self.headerMember(parameter.name) : Names.member(parameter.name)
            let p = IRParameter(name: parameter.name, swiftName: swiftName, location: loc, required: parameter.required,
                                doc: parameter.description, type: type)
            // An operation-level parameter overrides a path-level one with the same name and location.
            parameters.removeAll { $0.name == p.name && $0.location == p.location }
            parameters.append(p)
        }

        var body: IRBody?
        var bodyRequired = false
        if let requestEither = operation.requestBody {
            if let request = document.components[requestEither], let (contentType, content) = request.content.first,
               let schema = content.schema {
                var nested: [IREnum] = []
                let type = self.type(of: Self.schema(schema), enumName: "Body", enumOwner: nil, nested: &nested,
                                     location: location + "/requestBody").type
                body = IRBody(contentType: contentType.rawValue, type: type)
                bodyRequired = request.required
            } else {
                diag("unsupported request body", location)
            }
        }

        var responses: [IRResponse] = []
        for (code, responseEither) in operation.responses {
            guard let status = Int(code.rawValue), let response = document.components[responseEither] else {
                diag("unsupported response \(code.rawValue)", location)
                continue
            }
            var responseBody: IRBody?
            if let (contentType, content) = response.content.first {
                if let schema = content.schema {
                    var nested: [IREnum] = []
                    let type = self.type(of: Self.schema(schema), enumName: "Body", enumOwner: nil, nested: &nested,
                                         location: location + "/responses/\(status)")
                        .type
                    if !nested.isEmpty { diag("inline enums in responses are not supported", location) }
                    responseBody = IRBody(contentType: contentType.rawValue, type: type)
                }
            }
            let headers = (response.headers ?? [:]).map { name, _ in IRHeader(name: name, swiftName: Self.headerMember(name)) }
            responses.append(IRResponse(status: status, caseName: Names.statusCase(status), doc: response.description,
                                        body: responseBody, headers: headers))
        }
        let doc = [operation.summary, operation.description].compactMap { $0 }.joined(separator: "\n\n")
        return IROperation(
            id: id, typeName: Names.upperCamel(id), method: method, path: path, doc: doc.isEmpty ? nil : doc,
            parameters: parameters, requestBody: body, requestBodyRequired: bodyRequired, responses: responses,
            goName: operation.vendorExtensions["x-go-name"]?.value as? String)
    }
}
