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
            return JSONResponse.text(try await directory.users.list(query).wire.jsonText())
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
            case "import":
                try Self.noFields(fields)
                return JSONResponse.text(try await importAccount(identifier).wire.jsonText())
            default:
                try await reportEvent(identifier, fields, verb: verb)
                return JSONResponse.text("{}")
            }
        }
        addConnectionRoutes(admin)
        addAPIKeyRoutes(admin)
        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] {
            admin.on("**", method: method) { request, _ -> Response in
                throw DirectoryError(.notFound, "Unknown endpoint \(request.method) \(request.uri.path)")
            }
        }
    }

    /// `:import`: the user behind `<externalId>@<connectionId>`, pulled from the connection when it is new.
    func importAccount(_ identifier: UserIdentifier) async throws -> DirectoryUser {
        guard case .account(let externalId, let connectionId) = identifier else {
            throw DirectoryError.invalid("userId", "Import takes an <externalId>@<connectionId> identifier")
        }
        _ = try await directory.connections.connection(connectionId)
        do {
            return try await directory.users.user(identifier)
        } catch let error as DirectoryError where error.kind == .notFound {
            return try await directory.importer.pull(externalId: externalId, connectionId: connectionId)
        }
    }

    /// `:event` (`{"type": "SIGNIN|SIGNUP|CHANGED", "wait": bool}`) and its first name `:reportAction`
    /// (`{"action", "wait"}`): the user is pulled from its connection, in the background unless `wait`.
    func reportEvent(_ identifier: UserIdentifier, _ fields: [String: JSONValue], verb: String) async throws {
        let typeField = verb == "event" ? "type" : "action"
        for name in fields.keys.sorted() where ![typeField, "wait"].contains(name) {
            throw DirectoryError.invalid(name, "Unknown field: \(name)")
        }
        if let type = fields[typeField] {
            guard let text = type.stringValue, ["CHANGED", "SIGNIN", "SIGNUP"].contains(text) else {
                throw DirectoryError.invalid(typeField, "\(typeField) must be CHANGED, SIGNIN or SIGNUP")
            }
        }
        var wait = false
        if let flag = fields["wait"] {
            guard case .bool(let value) = flag else { throw DirectoryError.invalid("wait", "wait must be a boolean") }
            wait = value
        }
        var targets: [(externalId: String, connectionId: String)] = []
        if case .account(let externalId, let connectionId) = identifier {
            _ = try await directory.connections.connection(connectionId)
            targets = [(externalId, connectionId)]
        } else {
            targets = try await directory.users.user(identifier).accounts.map { ($0.externalId, $0.connection.id) }
        }
        for target in targets {
            if wait {
                _ = try await directory.importer.pull(externalId: target.externalId, connectionId: target.connectionId)
            } else {
                await directory.sync.enqueuePull(externalId: target.externalId, connectionId: target.connectionId)
            }
        }
    }

    /// The request's key, refused when it is missing, unknown, expired, or limited to an integration that does not
    /// cover the call.
    @discardableResult
    func authorize(_ request: Request, verb: String?) async throws -> APIKey {
        let key = try await directory.keys.authenticate(request.bearerToken)
        if key.integration != nil, !(verb.map(Self.integrationVerbs.contains) ?? false) {
            throw DirectoryError(.permissionDenied, "This API key is limited to the \(key.integration!) integration's calls (:event, :import, :reportAction)",
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
