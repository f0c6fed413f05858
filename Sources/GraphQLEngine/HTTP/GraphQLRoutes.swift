import HTTPTypes
import Hummingbird
import NIOCore
import TesseraCore
import TesseraHTTP

/// Hasura's HTTP API on Tessera's port: `/v1/graphql` (POST, GET with `?query=`, batches), `/v1/version`,
/// `/v1/metadata`, and `/v2/query` (`run_sql`).
public struct GraphQLRoutes<Context: RequestContext>: Sendable {
    let service: GraphQLService

    public init(service: GraphQLService) {
        self.service = service
    }

    public func addRoutes(to router: Router<Context>) {
        let graphql = router.group("v1/graphql").add(middleware: ErrorEnvelopeMiddleware<HasuraGraphQLErrors, Context>())
        graphql.post { request, _ in try await self.graphQLPost(request) }
        graphql.get { request, _ in try await self.graphQLGet(request) }
        router.get("v1/version") { _, _ in
            JSONResponse.text(#"{"version":"v2.48.0","server_type":"ce"}"#)
        }
        let admin = router.group().add(middleware: ErrorEnvelopeMiddleware<HasuraAdminErrors, Context>())
        admin.post("v1/metadata") { request, _ in try await self.metadata(request) }
        admin.post("v2/query") { request, _ in try await self.query(request) }
    }

    /// Who the request runs as: the admin secret (which may act as any role with `x-hasura-role`, as Hasura allows),
    /// a JWT, or the unauthorized role.
    private func session(_ request: Request) async throws(HasuraError) -> GraphQLSession {
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
        var cookies: [String: String] = [:]
        if let name = service.tokenCookie, let token = request.cookie(name) { cookies[name] = token }
        return try await service.session(GraphQLCredentials(headers: headers, cookies: cookies))
    }

    private func graphQLPost(_ request: Request) async throws -> Response {
        let session = try await session(request)
        let buffer = try await BodyReader.bytes(request, limit: service.configuration.limits.maxBodyBytes)
        let body: JSONValue
        do { body = try JSONValue.parse(bytes: Array(buffer: buffer)) } catch {
            throw HasuraError("invalid-json", "invalid json")
        }
        if case .array(let operations) = body {
            guard operations.count <= service.configuration.limits.maxBatch else {
                throw HasuraError.validation("a batch may hold at most \(service.configuration.limits.maxBatch) operations", path: "$")
            }
            var answers: [String] = []
            for (index, operation) in operations.enumerated() {
                do {
                    answers.append(await service.execute(try GraphQLRequest(json: operation, path: "$[\(index)]"), session: session))
                } catch {
                    answers.append(GraphQLService.errorResponse(error))
                }
            }
            return JSONResponse.text("[" + answers.joined(separator: ",") + "]")
        }
        return JSONResponse.text(await service.execute(try GraphQLRequest(json: body), session: session))
    }

    private func graphQLGet(_ request: Request) async throws -> Response {
        let session = try await session(request)
        let query = try request.query
        var fields: [String: JSONValue] = [:]
        if let text = query["query"] { fields["query"] = .string(text) }
        if let name = query["operationName"], !name.isEmpty { fields["operationName"] = .string(name) }
        if let variables = query["variables"], !variables.isEmpty {
            guard let parsed = try? JSONValue.parse(variables) else {
                throw HasuraError("invalid-json", "the variables parameter is not valid JSON", path: "$.variables")
            }
            fields["variables"] = parsed
        }
        return JSONResponse.text(await service.execute(try GraphQLRequest(json: .object(fields)), session: session))
    }

    private func adminBody(_ request: Request) async throws -> JSONValue {
        guard try service.isAdmin(secret: request.headers[HTTPField.Name.hasuraAdminSecret] ?? request.headers[HTTPField.Name.hasuraAccessKey]) else {
            throw HasuraError.accessDenied("x-hasura-admin-secret/x-hasura-access-key required, but not found")
        }
        let buffer = try await BodyReader.bytes(request, limit: service.configuration.limits.maxBodyBytes)
        do { return try JSONValue.parse(bytes: Array(buffer: buffer)) } catch {
            throw HasuraError("invalid-json", "invalid json")
        }
    }

    private func metadata(_ request: Request) async throws -> Response {
        JSONResponse.text(try await service.metadataCommand(try await adminBody(request)).jsonText())
    }

    private func query(_ request: Request) async throws -> Response {
        JSONResponse.text(try await service.schemaCommand(try await adminBody(request)).jsonText())
    }

}

extension HTTPField.Name {
    static let hasuraAdminSecret = HTTPField.Name("x-hasura-admin-secret")!
    static let hasuraAccessKey = HTTPField.Name("x-hasura-access-key")!
}
