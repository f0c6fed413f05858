import HTTPTypes
import Hummingbird
import TesseraCore
import TesseraHTTP

/// UserHub's Admin API for users, under `/admin/v1/users`, as its SDKs call it: `Authorization: Bearer <admin key>`,
/// custom methods as `{userId}:verb` (`:undelete`, `:purge`, `:import`, `:event`, `:reportAction`).
public struct DirectoryAPI<Context: RequestContext>: Sendable {
    let directory: Directory

    public init(directory: Directory) {
        self.directory = directory
    }

    /// The verbs a key limited to an integration may call: the provider paths an Action or a webhook uses.
    static var integrationVerbs: Set<String> { ["import", "event", "reportAction"] }
    static var verbs: Set<String> { ["undelete", "purge", "import", "event", "reportAction"] }

    public func addRoutes(to router: Router<Context>) {
        let admin = router.group("admin/v1").add(middleware: ErrorEnvelopeMiddleware<UserHubErrors, Context>())
        admin.get("users") { request, _ in
            try await authorize(request, verb: nil)
            let query = try UserQuery(parameters: try request.query.firstValues)
            let page = try await directory.users.list(query)
            var body: [String: JSONValue] = ["users": .array(page.users.map(\.wire))]
            if let next = page.nextPageToken { body["nextPageToken"] = .string(next) }
            return JSONResponse.text(JSONValue.object(body).jsonText())
        }
        admin.post("users") { request, _ in
            try await authorize(request, verb: nil)
            try Self.noParameters(request)
            let change = try UserFields.change(try await BodyReader.json(request))
            return JSONResponse.text(try await directory.users.create(change).wire.jsonText())
        }
        admin.get("users/:user") { request, context in
            let (identifier, verb) = try Self.target(context)
            guard verb == nil else { throw Self.unknownVerb(verb!, method: .get) }
            try await authorize(request, verb: nil)
            return JSONResponse.text(try await directory.users.user(identifier).wire.jsonText())
        }
        admin.patch("users/:user") { request, context in
            let (identifier, verb) = try Self.target(context)
            guard verb == nil else { throw Self.unknownVerb(verb!, method: .patch) }
            try await authorize(request, verb: nil)
            let parameters = try request.query.firstValues
            if let unknown = parameters.keys.sorted().first(where: { $0 != "allowMissing" }) {
                throw DirectoryError.invalid(unknown, "Unknown parameter: \(unknown)")
            }
            let allowMissing = try UserQuery.boolean(parameters["allowMissing"] ?? "false", param: "allowMissing")
            let change = try UserFields.change(try await BodyReader.json(request))
            return JSONResponse.text(try await directory.users.update(identifier, change, allowMissing: allowMissing).wire.jsonText())
        }
        admin.delete("users/:user") { request, context in
            let (identifier, verb) = try Self.target(context)
            guard verb == nil else { throw Self.unknownVerb(verb!, method: .delete) }
            try await authorize(request, verb: nil)
            return JSONResponse.text(try await directory.users.delete(identifier).wire.jsonText())
        }
        admin.post("users/:user") { request, context in
            let (identifier, verb) = try Self.target(context)
            guard let verb, Self.verbs.contains(verb) else { throw Self.unknownVerb(verb ?? "", method: .post) }
            try await authorize(request, verb: verb)
            let body = try await BodyReader.json(request)
            guard case .object(let fields) = body else { throw DirectoryError.invalid("body", "The request body must be a JSON object") }
            switch verb {
            case "undelete":
                try Self.noFields(fields)
                return JSONResponse.text(try await directory.users.undelete(identifier).wire.jsonText())
            case "purge":
                try Self.noFields(fields)
                try await directory.users.purge(identifier)
                return JSONResponse.text("{}")
            default:
                throw DirectoryError(.notFound, "No connection can import \(DirectoryStore.describe(identifier)): connections are not set up",
                                     reason: "CONNECTION_NOT_FOUND")
            }
        }
        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] {
            admin.on("**", method: method) { request, _ -> Response in
                throw DirectoryError(.notFound, "Unknown endpoint \(request.method) \(request.uri.path)")
            }
        }
    }

    /// The request's key, refused when it is missing, unknown, expired, or limited to an integration that does not
    /// cover the call.
    @discardableResult
    func authorize(_ request: Request, verb: String?) async throws -> APIKey {
        let key = try await directory.keys.authenticate(request.bearerToken)
        if key.integration != nil, !(verb.map(Self.integrationVerbs.contains) ?? false) {
            throw DirectoryError(.permissionDenied, "This API key is limited to the \(key.integration!) integration's calls (:event, :import)",
                                 reason: "API_KEY_INTEGRATION_ONLY")
        }
        return key
    }

    /// The user a path names and the custom method after it: `usr_123:undelete`, `auth0%7C1@conn_x:event`.
    static func target(_ context: Context) throws -> (UserIdentifier, String?) {
        let (value, verb) = try context.customMethodPathParameter("user", verbs: verbs)
        return (try UserIdentifier(value), verb)
    }

    static func unknownVerb(_ verb: String, method: HTTPRequest.Method) -> DirectoryError {
        verb.isEmpty ? DirectoryError(.notFound, "Unknown endpoint: \(method) needs a method such as :undelete")
            : DirectoryError(.notFound, "Unknown method :\(verb) for \(method)")
    }

    static func noParameters(_ request: Request) throws {
        if let name = try request.query.firstValues.keys.sorted().first { throw DirectoryError.invalid(name, "Unknown parameter: \(name)") }
    }

    static func noFields(_ fields: [String: JSONValue]) throws {
        if let name = fields.keys.sorted().first { throw DirectoryError.invalid(name, "Unknown field: \(name)") }
    }
}
